//! Alerts: events fired by workers when a rule's condition holds, cleared when it no
//! longer does. See the module doc of `mod.rs`.

use serde::{Serialize, Serializer};
use weir_model::model::AlertKind;

use crate::Session;
use crate::audit;
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};
use crate::identity::{GlobalRole, roles};

use super::rules::rules_of_instance;
use super::{check_limit, holder, opt_float_arg, own_worker};

/// Whether an alert still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Its condition holds.
    Firing,
    /// Its condition no longer holds.
    Cleared,
}

impl AlertState {
    /// The stored word (`firing`, `cleared`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Cleared => "cleared",
        }
    }

    fn from_db(s: &str) -> AlertState {
        if s == "cleared" {
            AlertState::Cleared
        } else {
            AlertState::Firing
        }
    }
}

impl std::fmt::Display for AlertState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn kind_word<S: Serializer>(k: &AlertKind, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Store id.
    pub id: i64,
    /// The instance it is about.
    pub instance: i64,
    /// The instance's job (`project/path`).
    pub job: String,
    /// The instance's environment (`test` or `prod`).
    pub env: String,
    /// The rule that fired it; `None` for an alert without a stored rule, or whose rule
    /// was removed since.
    pub rule_id: Option<i64>,
    /// The rule in one line (`lag > 1000 records for 30s`).
    pub rule: String,
    /// What it watches (serialized as its word: `lag`, `error_rate`, …).
    #[serde(serialize_with = "kind_word")]
    pub kind: AlertKind,
    /// Firing or cleared.
    pub state: AlertState,
    /// The figure when it fired (or when it cleared, if the worker gave one).
    pub value: Option<f64>,
    /// What happened, in words.
    pub message: String,
    /// When it fired (RFC 3339, UTC).
    pub fired_at: String,
    /// When it cleared.
    pub cleared_at: Option<String>,
}

/// An alert a worker fires.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFiring {
    /// The instance it is about.
    pub instance: i64,
    /// The stored rule that fired, if any (it must be the instance's or its job's).
    pub rule_id: Option<i64>,
    /// The rule in one line (`AlertRule::describe`); one firing alert per instance and
    /// rule text.
    pub rule: String,
    /// What it watches.
    pub kind: AlertKind,
    /// The figure that crossed the threshold.
    pub value: Option<f64>,
    /// What happened, in words.
    pub message: String,
}

/// Which alerts [`Session::alerts`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only firing ones.
    pub firing_only: bool,
    /// Only this instance's.
    pub instance: Option<i64>,
    /// At most this many (the newest); all without it.
    pub limit: Option<i64>,
}

type AlertRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<i64>,
    String,
    String,
    String,
    Option<f64>,
    String,
    String,
    Option<String>,
);

/// `SELECT` of an [`AlertRow`], followed by `$tail`.
macro_rules! select_alerts {
    ($tail:literal) => {
        concat!(
            "SELECT a.id, a.instance_id, p.name, j.path, i.env, a.rule_id, a.rule, a.kind, \
             a.state, a.value, a.message, a.fired_at, a.cleared_at FROM alerts a \
             JOIN instances i ON i.id = a.instance_id JOIN jobs j ON j.id = i.job_id \
             JOIN projects p ON p.id = j.project_id ",
            $tail
        )
    };
}

fn alert_of(r: AlertRow) -> Result<Alert> {
    let kind = AlertKind::parse(&r.7).ok_or_else(|| {
        StoreError::invalid(
            "kind",
            format!("alert #{} has the unknown kind `{}`", r.0, r.7),
            "upgrade weir: the store was written by a newer version",
        )
    })?;
    Ok(Alert {
        id: r.0,
        instance: r.1,
        job: format!("{}/{}", r.2, r.3),
        env: r.4,
        rule_id: r.5,
        rule: r.6,
        kind,
        state: AlertState::from_db(&r.8),
        value: r.9,
        message: r.10,
        fired_at: r.11,
        cleared_at: r.12,
    })
}

async fn load_alert(tx: &mut Tx, id: i64) -> Result<Alert> {
    let r: Option<AlertRow> = tx
        .opt(select_alerts!("WHERE a.id = $1"), &args![id])
        .await?;
    match r {
        Some(r) => alert_of(r),
        None => Err(StoreError::NotFound {
            kind: "alert",
            name: format!("#{id}"),
            suggestion: None,
        }),
    }
}

/// Fails unless worker `worker` holds or last held instance `id`.
async fn require_holder(tx: &mut Tx, worker: &str, id: i64, verb: &str) -> Result<()> {
    let w = holder(tx, id).await?;
    if w.as_deref() != Some(worker) {
        return Err(StoreError::NotAllowed(format!(
            "worker {worker} cannot {verb} alerts of instance #{id}: {}; only the worker that \
             holds or last held an instance reports its alerts",
            match w {
                Some(other) => format!("it is run by worker {other}"),
                None => "no worker has run it".to_string(),
            }
        )));
    }
    Ok(())
}

impl Session {
    /// Worker `worker` fires an alert about an instance it holds or last held (its own
    /// login). Idempotent: while an alert of the same instance and rule text is firing,
    /// that alert is returned unchanged with `false`; a new one comes back with `true`
    /// and is audited (`alert.fire`), which wakes every workbench's change feed.
    pub async fn fire_alert(&self, worker: &str, f: &AlertFiring) -> Result<(Alert, bool)> {
        let rule = f.rule.trim();
        if rule.is_empty() {
            return Err(StoreError::invalid(
                "rule",
                format!("the alert about instance #{} names no rule", f.instance),
                "pass the rule's one-line description (AlertRule::describe)",
            ));
        }
        let value = opt_float_arg("value", f.value)?;
        let mut tx = self.pool.write().await?;
        own_worker(&mut tx, &self.actor, worker).await?;
        require_holder(&mut tx, worker, f.instance, "fire").await?;
        if let Some(rid) = f.rule_id {
            let rules = rules_of_instance(&mut tx, f.instance).await?;
            if !rules.iter().any(|r| r.id == rid) {
                return Err(StoreError::invalid(
                    "rule_id",
                    format!(
                        "alert rule #{rid} is not a rule of instance #{} or of its job",
                        f.instance
                    ),
                    "pass the id of one of the instance's rules (rules_for_instance), or none",
                ));
            }
        }
        let inserted: Option<(i64,)> = tx
            .opt(
                "INSERT INTO alerts (instance_id, rule_id, rule, kind, state, value, message, \
                 fired_at) VALUES ($1, $2, $3, $4, 'firing', CAST($5 AS DOUBLE PRECISION), $6, $7) \
                 ON CONFLICT DO NOTHING RETURNING id",
                &args![
                    f.instance,
                    f.rule_id,
                    rule,
                    f.kind.as_str(),
                    value,
                    f.message.trim(),
                    now()
                ],
            )
            .await?;
        let Some((id,)) = inserted else {
            let (id,): (i64,) = tx
                .one(
                    "SELECT id FROM alerts WHERE instance_id = $1 AND rule = $2 \
                     AND state = 'firing'",
                    &args![f.instance, rule],
                )
                .await?;
            let alert = load_alert(&mut tx, id).await?;
            return Ok((alert, false));
        };
        let alert = load_alert(&mut tx, id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "alert.fire",
            "alert",
            id,
            audit::NONE,
            Some(&alert),
        )
        .await?;
        tx.commit().await?;
        Ok((alert, true))
    }

    /// Worker `worker` clears firing alert `alert_id` (its own login; it holds or last
    /// held the alert's instance), optionally with the figure at clearing time. Audited
    /// (`alert.clear`). An alert already cleared: `WrongState`.
    pub async fn clear_alert(
        &self,
        worker: &str,
        alert_id: i64,
        value: Option<f64>,
    ) -> Result<Alert> {
        let value = opt_float_arg("value", value)?;
        let mut tx = self.pool.write().await?;
        own_worker(&mut tx, &self.actor, worker).await?;
        let before = load_alert(&mut tx, alert_id).await?;
        require_holder(&mut tx, worker, before.instance, "clear").await?;
        let n = tx
            .execute(
                "UPDATE alerts SET state = 'cleared', cleared_at = $2, \
                 value = COALESCE(CAST($3 AS DOUBLE PRECISION), value) \
                 WHERE id = $1 AND state = 'firing'",
                &args![alert_id, now(), value],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::wrong_state(format!(
                "alert #{alert_id} ({}) is already cleared (since {})",
                before.rule,
                before.cleared_at.as_deref().unwrap_or("an unknown time")
            )));
        }
        let after = load_alert(&mut tx, alert_id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "alert.clear",
            "alert",
            alert_id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Alerts, newest first, narrowed by `filter`. Every registered user may read them.
    pub async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
        if let Some(limit) = filter.limit {
            check_limit(limit)?;
        }
        let mut tx = self.pool.read().await?;
        let r = roles(&mut tx, &self.actor).await?;
        if !r.registered {
            return Err(r.forbidden("read alerts", "a registered user".to_string()));
        }
        let rows: Vec<AlertRow> = tx
            .all(
                select_alerts!(
                    "WHERE ($1 = FALSE OR a.state = 'firing') \
                     AND ($2 IS NULL OR a.instance_id = $2) ORDER BY a.id DESC LIMIT $3"
                ),
                &args![
                    filter.firing_only,
                    filter.instance,
                    filter.limit.unwrap_or(i64::MAX)
                ],
            )
            .await?;
        rows.into_iter().map(alert_of).collect()
    }

    /// How many alerts are firing about instances of projects the actor is a member of
    /// (system admins and ops: of every project); the workbench's status bar shows it.
    pub async fn firing_alert_count(&self) -> Result<i64> {
        let mut tx = self.pool.read().await?;
        let r = roles(&mut tx, &self.actor).await?;
        let (n,): (i64,) = if r.has(GlobalRole::SystemAdmin) || r.has(GlobalRole::Ops) {
            tx.one("SELECT COUNT(*) FROM alerts WHERE state = 'firing'", &[])
                .await?
        } else {
            tx.one(
                "SELECT COUNT(*) FROM alerts a JOIN instances i ON i.id = a.instance_id \
                 JOIN jobs j ON j.id = i.job_id JOIN project_members m \
                 ON m.project_id = j.project_id AND m.login = $1 WHERE a.state = 'firing'",
                &args![&self.actor],
            )
            .await?
        };
        Ok(n)
    }
}
