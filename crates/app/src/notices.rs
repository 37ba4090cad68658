//! Notifications for the person at the workbench: a request of theirs was decided (an
//! approved permission request is a grant that reached them), a data admin put them or
//! one of their projects on a table's whitelist or blacklist directly (read from the
//! audit log since the last look), or an alert started to fire. The store link looks each time the store's change feed says someone wrote
//! (`StoreLink::refresh`): it compares what it reads now with what it read last time,
//! so nothing new is stored for this, and the first look only sets the baseline (what
//! was decided or firing before the workbench opened is not news).

use std::collections::BTreeSet;

use crate::governance::{AuditEntry, GlobalRole, Governance, Request, RequestState, Roles};

/// How loud a notice is: the workbench draws it in the matching colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    /// Good news: an approval.
    Ok,
    /// A rejection, or a decision someone else made for me.
    Warning,
    /// An alert fired.
    Alert,
}

/// One thing that happened to me, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub level: NoticeLevel,
    pub text: String,
}

/// What the last look saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    /// My requests still pending.
    pub pending: BTreeSet<i64>,
    /// Alerts firing about instances of my projects (all for system admins and ops);
    /// None when they could not be read (then no alert is news).
    pub firing: Option<BTreeSet<i64>>,
    /// The newest audit entry then (the store's change counter).
    pub audit_at: i64,
    /// My projects then.
    pub projects: Vec<String>,
}

/// Compares each look at the store with the one before.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    last: Option<Seen>,
}

/// How many firing alerts one look reads (the newest first).
pub(crate) const ALERTS_READ: i64 = 200;

impl Tracker {
    /// Read what notices are made of: my pending requests' ids and the ids of the
    /// alerts firing about my projects.
    pub(crate) async fn read(
        gov: &Governance,
        mine: &[Request],
        roles: &Roles,
        audit_at: i64,
    ) -> Seen {
        let everything = roles.has(GlobalRole::SystemAdmin) || roles.has(GlobalRole::Ops);
        let firing = match gov.alerts(true, None, ALERTS_READ).await {
            Ok(alerts) => Some(
                alerts
                    .into_iter()
                    .filter(|a| {
                        everything
                            || roles
                                .projects
                                .iter()
                                .any(|(p, _)| a.job.split('/').next() == Some(p.as_str()))
                    })
                    .map(|a| a.id)
                    .collect(),
            ),
            Err(e) => {
                tracing::debug!("notices: no alerts read: {e}");
                None
            }
        };
        Seen {
            pending: mine.iter().map(|r| r.id).collect(),
            firing,
            audit_at,
            projects: roles.projects.iter().map(|(p, _)| p.clone()).collect(),
        }
    }

    /// Compare `now` with the last look and word what changed; the first look only sets
    /// the baseline.
    pub(crate) async fn compare(&mut self, gov: &Governance, now: Seen) -> Vec<Notice> {
        let Some(last) = self.last.replace(now.clone()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for id in last.pending.difference(&now.pending) {
            match gov.request(*id).await {
                Ok((r, _)) => out.extend(decided(&r, gov.actor())),
                Err(e) => tracing::warn!("notices: cannot read request #{id}: {e}"),
            }
        }
        if now.audit_at > last.audit_at {
            match gov.audit(last.audit_at).await {
                Ok(entries) => out.extend(
                    entries
                        .iter()
                        .filter(|e| e.id <= now.audit_at)
                        .filter_map(|e| granted(e, gov.actor(), &now.projects)),
                ),
                Err(e) => tracing::warn!("notices: cannot read the audit log: {e}"),
            }
        }
        let fresh: Vec<i64> = match (&now.firing, &last.firing) {
            (Some(now), Some(last)) => now.difference(last).copied().collect(),
            _ => Vec::new(),
        };
        if !fresh.is_empty() {
            match gov.alerts(true, None, ALERTS_READ).await {
                Ok(alerts) => {
                    for a in alerts.iter().filter(|a| fresh.contains(&a.id)) {
                        out.push(Notice {
                            level: NoticeLevel::Alert,
                            text: format!(
                                "alert on instance #{} ({}, {}): {} — :alerts lists it",
                                a.instance, a.job, a.env, a.message
                            ),
                        });
                    }
                }
                Err(e) => tracing::warn!("notices: cannot read the alerts: {e}"),
            }
        }
        out
    }
}

/// The notice for my request `r` that left the pending state, unless I did it myself.
pub(crate) fn decided(r: &Request, me: &str) -> Option<Notice> {
    let by = r.decided_by.as_deref().unwrap_or("someone");
    if by == me {
        return None;
    }
    let opinion = r
        .opinion
        .as_deref()
        .filter(|o| !o.trim().is_empty())
        .map(|o| format!(": “{o}”"))
        .unwrap_or_default();
    let (level, what) = match r.state {
        RequestState::Approved => (NoticeLevel::Ok, "approved"),
        RequestState::Rejected => (NoticeLevel::Warning, "rejected"),
        RequestState::Withdrawn => (NoticeLevel::Warning, "withdrawn"),
        RequestState::Pending => return None,
    };
    Some(Notice {
        level,
        text: format!(
            "your request #{} was {what} by {by} ({}){opinion}",
            r.id, r.summary
        ),
    })
}

/// The notice for audit entry `e` when it put me (`me`) or one of `projects` on a
/// whitelist or blacklist directly (a grant from a request is told by the decision's
/// notice), by someone else.
pub(crate) fn granted(e: &AuditEntry, me: &str, projects: &[String]) -> Option<Notice> {
    let list = e.action.strip_prefix("grant.")?;
    if !matches!(list, "whitelist" | "blacklist") || e.actor == me {
        return None;
    }
    let g: serde_json::Value = serde_json::from_str(e.after_json.as_deref()?).ok()?;
    if g.get("request").is_some_and(|r| !r.is_null()) {
        return None;
    }
    let grantee = g.get("grantee")?;
    let to = if let Some(user) = grantee.get("User").and_then(|u| u.as_str()) {
        (user == me).then(|| "you".to_string())?
    } else {
        let project = grantee.get("Project").and_then(|p| p.as_str())?;
        projects
            .iter()
            .any(|p| p == project)
            .then(|| format!("project {project}"))?
    };
    let target = g.get("target")?;
    let table = format!(
        "{}.{}",
        target.get("datasource")?.as_str()?,
        target.get("table")?.as_str()?
    );
    let words = |key: &str| -> Vec<String> {
        g.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let perms = words("perms").join(", ");
    let columns = match words("columns") {
        c if c.is_empty() => String::new(),
        c => format!(" (columns {})", c.join(", ")),
    };
    let who = &e.actor;
    Some(if list == "whitelist" {
        Notice {
            level: NoticeLevel::Ok,
            text: format!("{who} granted {to} {perms} on {table}{columns}"),
        }
    } else {
        Notice {
            level: NoticeLevel::Warning,
            text: format!("{who} blacklisted {to} for {perms} on {table}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::RequestKind;

    fn request(state: RequestState, by: &str, opinion: Option<&str>) -> Request {
        Request {
            id: 7,
            kind: RequestKind::Permission,
            state,
            requester: "dev".into(),
            project: Some("shop".into()),
            created_at: "2026-01-01T00:00:00Z".into(),
            opinion: opinion.map(str::to_string),
            decided_by: Some(by.into()),
            decided_at: Some("2026-01-01T00:01:00Z".into()),
            summary: "select on mysql_orders.orders".into(),
        }
    }

    #[test]
    fn a_decision_by_someone_else_is_news_and_mine_is_not() {
        let n = decided(
            &request(RequestState::Approved, "dana", Some("looks fine")),
            "dev",
        )
        .unwrap();
        assert_eq!(n.level, NoticeLevel::Ok);
        assert_eq!(
            n.text,
            "your request #7 was approved by dana (select on mysql_orders.orders): “looks fine”"
        );
        let n = decided(&request(RequestState::Rejected, "dana", None), "dev").unwrap();
        assert_eq!(n.level, NoticeLevel::Warning);
        assert!(n.text.contains("rejected by dana"), "{}", n.text);
        assert_eq!(
            decided(&request(RequestState::Withdrawn, "dev", None), "dev"),
            None
        );
    }

    fn entry(action: &str, actor: &str, grant: serde_json::Value) -> AuditEntry {
        AuditEntry {
            id: 9,
            at: "2026-01-01T00:00:00Z".into(),
            actor: actor.into(),
            action: action.into(),
            object_kind: "grant".into(),
            object_id: "3".into(),
            before_json: None,
            after_json: Some(grant.to_string()),
        }
    }

    #[test]
    fn a_grant_to_me_or_my_project_is_news() {
        let grant = |grantee: serde_json::Value, request: Option<i64>| {
            serde_json::json!({
                "id": 3, "list": "whitelist",
                "target": {"datasource": "mysql_orders", "table": "items"},
                "grantee": grantee, "perms": ["select", "insert"], "columns": [],
                "request": request, "granted_by": "dana", "granted_at": "2026-01-01T00:00:00Z",
            })
        };
        let shop = vec!["shop".to_string()];
        let n = granted(
            &entry(
                "grant.whitelist",
                "dana",
                grant(serde_json::json!({"User": "dev"}), None),
            ),
            "dev",
            &shop,
        )
        .unwrap();
        assert_eq!(
            n.text,
            "dana granted you select, insert on mysql_orders.items"
        );
        let n = granted(
            &entry(
                "grant.blacklist",
                "dana",
                grant(serde_json::json!({"Project": "shop"}), None),
            ),
            "dev",
            &shop,
        )
        .unwrap();
        assert_eq!(n.level, NoticeLevel::Warning);
        assert_eq!(
            n.text,
            "dana blacklisted project shop for select, insert on mysql_orders.items"
        );
        // not mine, from a request, my own doing, a revoke: no news
        let other = grant(serde_json::json!({"User": "bob"}), None);
        assert!(granted(&entry("grant.whitelist", "dana", other), "dev", &shop).is_none());
        let asked = grant(serde_json::json!({"User": "dev"}), Some(4));
        assert!(granted(&entry("grant.whitelist", "dana", asked), "dev", &shop).is_none());
        let own = grant(serde_json::json!({"User": "dev"}), None);
        assert!(granted(&entry("grant.whitelist", "dev", own.clone()), "dev", &shop).is_none());
        assert!(granted(&entry("grant.revoke", "dana", own), "dev", &shop).is_none());
    }
}
