//! Alert rules: of a job (every instance of it) or of one instance. Added and removed by
//! people, read by workers to evaluate them. See the module doc of `mod.rs`.

use serde::Serialize;
use weir_model::model::{AlertKind, AlertRule};

use crate::Session;
use crate::audit::{self, NONE};
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};
use crate::identity::{GlobalRole, roles};

use super::super::instances::job_of;
use super::super::{DEVS, by_id as job_by_id, by_name as job_by_name};
use super::{float_arg, instance_exists};

/// What a rule watches: every instance of a job, or one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertTarget {
    /// Every instance of the job `project/path`.
    Job(String),
    /// One instance, by id.
    Instance(i64),
}

/// A rule to add.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRuleSpec {
    /// What it watches.
    pub target: AlertTarget,
    /// The rule (kind, threshold, duration, webhook).
    pub rule: AlertRule,
}

/// A stored alert rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRuleRow {
    /// Store id.
    pub id: i64,
    /// The job it watches (`project/path`), for a job's rule.
    pub job: Option<String>,
    /// The instance it watches, for an instance's rule.
    pub instance: Option<i64>,
    /// The rule.
    pub rule: AlertRule,
    /// Who added it.
    pub created_by: String,
    /// When (RFC 3339, UTC).
    pub created_at: String,
}

type RuleRow = (
    i64,
    Option<i64>,
    Option<i64>,
    String,
    f64,
    i64,
    Option<String>,
    String,
    String,
);

/// `SELECT` of a [`RuleRow`] from `alert_rules`, followed by `$tail`.
macro_rules! select_rules {
    ($tail:literal) => {
        concat!(
            "SELECT id, job_id, instance_id, kind, above, for_secs, webhook, created_by, \
             created_at FROM alert_rules ",
            $tail
        )
    };
}

async fn row_of(tx: &mut Tx, r: RuleRow) -> Result<AlertRuleRow> {
    let job = match r.1 {
        Some(j) => Some(job_by_id(tx, j).await?.name()),
        None => None,
    };
    let kind = AlertKind::parse(&r.3).ok_or_else(|| {
        StoreError::invalid(
            "kind",
            format!("alert rule #{} has the unknown kind `{}`", r.0, r.3),
            "remove the rule and add it again",
        )
    })?;
    Ok(AlertRuleRow {
        id: r.0,
        job,
        instance: r.2,
        rule: AlertRule {
            kind,
            above: r.4,
            for_secs: u64::try_from(r.5).unwrap_or(0),
            webhook: r.6,
        },
        created_by: r.7,
        created_at: r.8,
    })
}

async fn rows_of(tx: &mut Tx, rows: Vec<RuleRow>) -> Result<Vec<AlertRuleRow>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(row_of(tx, r).await?);
    }
    Ok(out)
}

/// The rule `id`, `NotFound` if there is none.
pub(super) async fn load_rule(tx: &mut Tx, id: i64) -> Result<AlertRuleRow> {
    let r: Option<RuleRow> = tx.opt(select_rules!("WHERE id = $1"), &args![id]).await?;
    match r {
        Some(r) => row_of(tx, r).await,
        None => Err(StoreError::NotFound {
            kind: "alert rule",
            name: format!("#{id}"),
            suggestion: None,
        }),
    }
}

/// The rules of instance `id` and of its job, by id.
pub(super) async fn rules_of_instance(tx: &mut Tx, id: i64) -> Result<Vec<AlertRuleRow>> {
    instance_exists(tx, id).await?;
    let rows: Vec<RuleRow> = tx
        .all(
            select_rules!(
                "WHERE instance_id = $1 \
                 OR job_id = (SELECT job_id FROM instances WHERE id = $1) ORDER BY id"
            ),
            &args![id],
        )
        .await?;
    rows_of(tx, rows).await
}

/// The project a target belongs to, and the job or instance id to store.
async fn project_of(
    tx: &mut Tx,
    target: &AlertTarget,
) -> Result<(String, Option<i64>, Option<i64>)> {
    match target {
        AlertTarget::Job(name) => {
            let j = job_by_name(tx, name).await?;
            Ok((j.project.clone(), Some(j.id), None))
        }
        AlertTarget::Instance(id) => {
            instance_exists(tx, *id).await?;
            let (j, _) = job_of(tx, *id).await?;
            Ok((j.project, None, Some(*id)))
        }
    }
}

/// Fails unless the actor may add or remove rules of `project`'s jobs.
async fn require_rule_right(tx: &mut Tx, actor: &str, project: &str, verb: &str) -> Result<()> {
    roles(tx, actor).await?.require_in_project(
        project,
        DEVS,
        &[GlobalRole::SystemAdmin, GlobalRole::Ops],
        &format!("{verb} alert rules of project {project}"),
    )
}

/// Checks a rule; returns the threshold to store (0 for kinds without one).
fn check_rule(rule: &AlertRule) -> Result<(String, i64)> {
    let above = if rule.kind.has_threshold() {
        if !rule.above.is_finite() || rule.above < 0.0 {
            return Err(StoreError::invalid(
                "above",
                format!(
                    "the {} threshold {} is not a number >= 0",
                    rule.kind, rule.above
                ),
                format!("give a threshold of 0 or more ({})", rule.kind.unit()),
            ));
        }
        float_arg("above", rule.above)?
    } else {
        "0".to_string()
    };
    let for_secs = i64::try_from(rule.for_secs).map_err(|_| {
        StoreError::invalid(
            "for_secs",
            format!("{} seconds is too long", rule.for_secs),
            "give a duration in seconds below 2^63",
        )
    })?;
    if let Some(w) = &rule.webhook {
        let ok = (w.starts_with("http://") || w.starts_with("https://"))
            && w.split_once("://")
                .is_some_and(|(_, rest)| !rest.is_empty())
            && !w.chars().any(char::is_whitespace);
        crate::checks::name("webhook", w)?;
        if !ok {
            return Err(StoreError::invalid(
                "webhook",
                format!(
                    "`{}` is not an http:// or https:// URL",
                    weir_model::text::printable(w)
                ),
                "give the URL alerts are POSTed to (https://hooks.example.com/weir), or none",
            ));
        }
    }
    Ok((above, for_secs))
}

impl Session {
    /// Adds an alert rule to a job (`project/path`, every instance of it) or to one
    /// instance. Developers and project admins of the job's project, system admins and
    /// ops. The threshold of lag, error rate and watermark delay must be a number >= 0
    /// (other kinds store 0); a webhook must be an http:// or https:// URL. Audited
    /// (`alert_rule.add`).
    pub async fn add_alert_rule(&self, spec: &AlertRuleSpec) -> Result<AlertRuleRow> {
        let (above, for_secs) = check_rule(&spec.rule)?;
        let mut tx = self.pool.write().await?;
        let (project, job_id, instance_id) = project_of(&mut tx, &spec.target).await?;
        require_rule_right(&mut tx, &self.actor, &project, "add").await?;
        let (id,): (i64,) = tx
            .one(
                "INSERT INTO alert_rules (job_id, instance_id, kind, above, for_secs, webhook, \
                 created_by, created_at) \
                 VALUES ($1, $2, $3, CAST($4 AS DOUBLE PRECISION), $5, $6, $7, $8) RETURNING id",
                &args![
                    job_id,
                    instance_id,
                    spec.rule.kind.as_str(),
                    above,
                    for_secs,
                    spec.rule.webhook.clone(),
                    &self.actor,
                    now()
                ],
            )
            .await?;
        let row = load_rule(&mut tx, id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "alert_rule.add",
            "alert_rule",
            id,
            NONE,
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Alert rules by id: all of them, or those of `target` (a job's own rules, or an
    /// instance's own; [`Session::rules_for_instance`] gives both for an instance).
    /// `NotFound` for an unknown job or instance.
    pub async fn alert_rules(&self, target: Option<&AlertTarget>) -> Result<Vec<AlertRuleRow>> {
        let mut tx = self.pool.read().await?;
        let rows: Vec<RuleRow> = match target {
            None => tx.all(select_rules!("ORDER BY id"), &[]).await?,
            Some(AlertTarget::Job(name)) => {
                let j = job_by_name(&mut tx, name).await?;
                tx.all(select_rules!("WHERE job_id = $1 ORDER BY id"), &args![j.id])
                    .await?
            }
            Some(AlertTarget::Instance(id)) => {
                instance_exists(&mut tx, *id).await?;
                tx.all(
                    select_rules!("WHERE instance_id = $1 ORDER BY id"),
                    &args![*id],
                )
                .await?
            }
        };
        rows_of(&mut tx, rows).await
    }

    /// The rules that apply to instance `id`: its own and its job's, by id (what a
    /// worker evaluates). `NotFound` for an unknown instance.
    pub async fn rules_for_instance(&self, id: i64) -> Result<Vec<AlertRuleRow>> {
        let mut tx = self.pool.read().await?;
        rules_of_instance(&mut tx, id).await
    }

    /// Removes alert rule `id`; its alerts stay, without a rule (`rule_id` NULL). Same
    /// rights as adding. Audited (`alert_rule.remove`). Returns the removed rule.
    pub async fn remove_alert_rule(&self, id: i64) -> Result<AlertRuleRow> {
        let mut tx = self.pool.write().await?;
        let before = load_rule(&mut tx, id).await?;
        let target = match (&before.job, before.instance) {
            (Some(j), _) => AlertTarget::Job(j.clone()),
            (None, Some(i)) => AlertTarget::Instance(i),
            (None, None) => {
                return Err(StoreError::wrong_state(format!(
                    "alert rule #{id} watches neither a job nor an instance"
                )));
            }
        };
        let (project, _, _) = project_of(&mut tx, &target).await?;
        require_rule_right(&mut tx, &self.actor, &project, "remove").await?;
        tx.execute("DELETE FROM alert_rules WHERE id = $1", &args![id])
            .await?;
        audit::append(
            &mut tx,
            &self.actor,
            "alert_rule.remove",
            "alert_rule",
            id,
            Some(&before),
            NONE,
        )
        .await?;
        tx.commit().await?;
        Ok(before)
    }
}
