//! `weir alert add|list|remove` (rules on an instance or a job) and `weir alerts` (firing
//! and recent). Rules can also live in a job file's `config.alerts`; a worker evaluates
//! both every second and records each firing and clearing in the store and the audit log.

use clap::{Args, Subcommand};
use weir_app::AppError;
use weir_app::instances::{Alert, AlertRuleRow, AlertTargetArg, parse_duration_secs};

use super::gov::{emit, with_store};
use super::{Global, exit, table};

#[derive(Debug, Args)]
pub struct AlertArgs {
    #[command(subcommand)]
    pub command: AlertCommand,
}

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Add a rule: lag, error_rate, no_output, watermark_delay, failed or checkpoint_failed.
    Add {
        /// lag (records), error_rate (errors/s), no_output, watermark_delay (s), failed,
        /// checkpoint_failed.
        kind: String,
        /// On this instance.
        #[arg(long, conflicts_with = "job")]
        instance: Option<i64>,
        /// On every instance of this job.
        #[arg(long)]
        job: Option<String>,
        /// The threshold (lag, error_rate, watermark_delay).
        #[arg(long)]
        above: Option<f64>,
        /// How long the condition holds before it fires (30s, 5m; no_output: how long without output).
        #[arg(long = "for", default_value = "0")]
        for_: String,
        /// POST the alert as JSON here when it fires and clears.
        #[arg(long)]
        webhook: Option<String>,
    },
    /// Rules, of an instance or a job, or all.
    List {
        #[arg(long, conflicts_with = "job")]
        instance: Option<i64>,
        #[arg(long)]
        job: Option<String>,
    },
    /// Remove a rule.
    Remove { id: i64 },
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Only firing alerts.
    #[arg(long)]
    pub firing: bool,
    /// Only this instance's.
    #[arg(long)]
    pub instance: Option<i64>,
    /// How many.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
}

fn target(instance: Option<i64>, job: &Option<String>) -> Option<AlertTargetArg> {
    match (instance, job) {
        (Some(i), _) => Some(AlertTargetArg::Instance(i)),
        (None, Some(j)) => Some(AlertTargetArg::Job(j.clone())),
        _ => None,
    }
}

pub fn run(global: &Global, args: &AlertArgs) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    with_store(global, |gov| async move {
        match &args.command {
            AlertCommand::Add {
                kind,
                instance,
                job,
                above,
                for_,
                webhook,
            } => {
                let Some(t) = target(*instance, job) else {
                    return Err(AppError::User(
                        "say what the rule watches: --instance ID or --job JOB".into(),
                    ));
                };
                let secs = parse_duration_secs(for_)?;
                let r = gov
                    .add_alert_rule(&t, kind, *above, secs, webhook.clone(), &cwd)
                    .await?;
                emit(global, &r, || {
                    format!(
                        "alert rule #{} on {}: {}\n",
                        r.id,
                        rule_target(&r),
                        r.rule.describe()
                    )
                });
            }
            AlertCommand::List { instance, job } => {
                let rows = gov
                    .alert_rules(target(*instance, job).as_ref(), &cwd)
                    .await?;
                emit(global, &rows, || rules_text(&rows));
            }
            AlertCommand::Remove { id } => {
                let r = gov.remove_alert_rule(*id).await?;
                emit(global, &r, || {
                    format!("alert rule #{} removed ({})\n", r.id, r.rule.describe())
                });
            }
        }
        Ok(exit::OK)
    })
}

pub fn alerts(global: &Global, args: &AlertsArgs) -> i32 {
    with_store(global, |gov| async move {
        let rows = gov.alerts(args.firing, args.instance, args.limit).await?;
        emit(global, &rows, || alerts_text(&rows));
        Ok(exit::OK)
    })
}

fn rule_target(r: &AlertRuleRow) -> String {
    match (&r.job, r.instance) {
        (_, Some(i)) => format!("instance #{i}"),
        (Some(j), None) => format!("job {j}"),
        _ => "-".into(),
    }
}

fn rules_text(rows: &[AlertRuleRow]) -> String {
    if rows.is_empty() {
        return "no alert rules (weir alert add KIND --instance ID|--job JOB; or config.alerts in the job file)\n".into();
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                format!("#{}", r.id),
                rule_target(r),
                r.rule.describe(),
                r.rule.webhook.clone().unwrap_or_else(|| "-".into()),
                r.created_by.clone(),
            ]
        })
        .collect();
    table::render(&["RULE", "ON", "WHEN", "WEBHOOK", "BY"], &body)
}

pub(crate) fn alerts_text(rows: &[Alert]) -> String {
    if rows.is_empty() {
        return "no alerts\n".into();
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|a| {
            vec![
                format!("#{}", a.id),
                if a.cleared_at.is_some() {
                    "cleared".into()
                } else {
                    "FIRING".into()
                },
                format!("#{} {}", a.instance, a.job),
                a.rule.clone(),
                a.message.clone(),
                weir_app::jobs::age(&a.fired_at),
            ]
        })
        .collect();
    table::render(
        &["ALERT", "STATE", "INSTANCE", "RULE", "MESSAGE", "FIRED"],
        &body,
    )
}
