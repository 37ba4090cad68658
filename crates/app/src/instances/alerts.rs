//! Alert rules and alerts as use cases: `weir alert add|list|remove`, `weir alerts`, the
//! workbench's `:alerts` and its status bar count. The worker fires and clears them
//! (`crate::worker`); the rules of a job file's `config.alerts` need no command.

use std::path::Path;

use super::{Alert, AlertFilter, AlertRuleRow, AlertRuleSpec, AlertTarget};
use crate::AppError;
use crate::governance::Governance;
use crate::jobs::JobId;
use weir_model::model::{AlertKind, AlertRule};

/// What a rule watches, as the command line names it: `--instance 7` or `--job JOB`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertTargetArg {
    Instance(i64),
    /// A job file or path under `jobs/`.
    Job(String),
}

/// `30`, `30s`, `5m`, `1h` → seconds.
pub fn parse_duration_secs(s: &str) -> Result<u64, AppError> {
    let t = s.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    humantime::parse_duration(t)
        .map(|d| d.as_secs())
        .map_err(|_| {
            AppError::User(format!(
                "`{s}` is not a duration; write seconds (30) or 30s, 5m, 1h"
            ))
        })
}

impl Governance {
    /// Adds a rule (`weir alert add`). `kind` is `lag`, `error_rate`, `no_output`,
    /// `watermark_delay` or `failed`; `above` the threshold (see `formats/job-v1.md`).
    pub async fn add_alert_rule(
        &self,
        target: &AlertTargetArg,
        kind: &str,
        above: Option<f64>,
        for_secs: u64,
        webhook: Option<String>,
        cwd: &Path,
    ) -> Result<AlertRuleRow, AppError> {
        let Some(kind) = AlertKind::parse(kind) else {
            let all: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
            return Err(AppError::User(format!(
                "`{kind}` is not an alert kind; use one of {}",
                all.join(", ")
            )));
        };
        if kind.has_threshold() && above.is_none() {
            return Err(AppError::User(format!(
                "a {kind} rule needs a threshold: --above N ({})",
                kind.unit()
            )));
        }
        if kind == AlertKind::NoOutput && for_secs == 0 {
            return Err(AppError::User(
                "a no_output rule needs its time: --for 60s (how long without output)".into(),
            ));
        }
        let target = match target {
            AlertTargetArg::Instance(id) => AlertTarget::Instance(*id),
            AlertTargetArg::Job(j) => AlertTarget::Job(JobId::resolve(j, cwd)?.name()),
        };
        let spec = AlertRuleSpec {
            target,
            rule: AlertRule {
                kind,
                above: above.unwrap_or(0.0),
                for_secs,
                webhook,
            },
        };
        Ok(self.session().add_alert_rule(&spec).await?)
    }

    /// Rules of a target, or all.
    pub async fn alert_rules(
        &self,
        target: Option<&AlertTargetArg>,
        cwd: &Path,
    ) -> Result<Vec<AlertRuleRow>, AppError> {
        let t = match target {
            None => None,
            Some(AlertTargetArg::Instance(id)) => Some(AlertTarget::Instance(*id)),
            Some(AlertTargetArg::Job(j)) => Some(AlertTarget::Job(JobId::resolve(j, cwd)?.name())),
        };
        Ok(self.session().alert_rules(t.as_ref()).await?)
    }

    /// Removes rule `id`.
    pub async fn remove_alert_rule(&self, id: i64) -> Result<AlertRuleRow, AppError> {
        Ok(self.session().remove_alert_rule(id).await?)
    }

    /// Alerts, newest first: firing ones only, or also the recent cleared ones.
    pub async fn alerts(
        &self,
        firing_only: bool,
        instance: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Alert>, AppError> {
        Ok(self
            .session()
            .alerts(&AlertFilter {
                firing_only,
                instance,
                limit: Some(limit),
            })
            .await?)
    }

    /// Firing alerts of the projects the acting person belongs to (all for system admins
    /// and ops): the status bar's count.
    pub async fn firing_alert_count(&self) -> Result<i64, AppError> {
        Ok(self.session().firing_alert_count().await?)
    }
}
