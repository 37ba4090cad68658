//! Monitoring of instances (SPEC R-mon, issue 14): one-second metric snapshots, instance
//! log lines, alert rules and the alerts that fire from them.
//!
//! Who writes what:
//! - **Workers** write metric snapshots ([`Session::record_metrics`]) and log lines
//!   ([`Session::log_instance`]) every second, for the instances they hold, and prune
//!   them ([`Session::prune_metrics`]: snapshots older than the window, default 1 h, and
//!   logs beyond the last [`LOG_LINES_KEPT`] lines of an instance). These writes are not
//!   audited, so they do not wake the change feed (one per second per worker would).
//! - **Workers** also fire and clear alerts ([`Session::fire_alert`],
//!   [`Session::clear_alert`]) for instances they hold or last held (a worker reports the
//!   `failed` alert after reporting the instance failed). Both are audited, which is what
//!   makes every workbench's change feed refresh its firing count.
//! - **People** add and remove alert rules ([`Session::add_alert_rule`],
//!   [`Session::remove_alert_rule`]): developers and project admins of the job's project,
//!   system admins and ops. Audited.
//!
//! A worker acts only through the login that registered it, as in `workers.rs`.
//! Everything here is readable by every user (as instances are); the firing count is
//! narrowed to the projects the actor is a member of (system admins and ops: all).
//!
//! `metrics.rs`: snapshots; `logs.rs`: log lines; `rules.rs`: alert rules; `alerts.rs`:
//! alert events.

use crate::db::{Tx, args};
use crate::error::{Result, StoreError};

use super::instances::no_instance;

mod alerts;
mod logs;
mod metrics;
mod rules;

pub use alerts::{Alert, AlertFilter, AlertFiring, AlertState};
pub use logs::{LOG_LINES_KEPT, LogLevel, LogLine};
pub use metrics::MetricPoint;
pub use rules::{AlertRuleRow, AlertRuleSpec, AlertTarget};

/// Fails unless worker `id` is registered and the actor is the login it runs as.
async fn own_worker(tx: &mut Tx, actor: &str, id: &str) -> Result<()> {
    super::workers::own_worker(tx, actor, id).await.map(|_| ())
}

/// The worker that holds or last held instance `id` (`None`: never claimed); `NotFound`
/// for an unknown instance.
async fn holder(tx: &mut Tx, id: i64) -> Result<Option<String>> {
    let row: Option<(Option<String>,)> = tx
        .opt("SELECT worker FROM instances WHERE id = $1", &args![id])
        .await?;
    match row {
        Some((w,)) => Ok(w),
        None => Err(no_instance(id)),
    }
}

/// Fails with `NotFound` unless instance `id` exists.
async fn instance_exists(tx: &mut Tx, id: i64) -> Result<()> {
    holder(tx, id).await.map(|_| ())
}

/// Fails unless `limit` is a positive row count.
fn check_limit(limit: i64) -> Result<()> {
    if limit < 1 {
        return Err(StoreError::invalid(
            "limit",
            format!("{limit} rows asked for"),
            "ask for at least 1 row",
        ));
    }
    Ok(())
}

/// A float as bound text, for `CAST($n AS DOUBLE PRECISION)` (the statement layer binds
/// integers, text and booleans only). Rust prints the shortest text that parses back to
/// the same value, without exponent. Fails for NaN and infinities, which neither backend
/// stores alike.
fn float_arg(field: &'static str, v: f64) -> Result<String> {
    if !v.is_finite() {
        return Err(StoreError::invalid(
            field,
            format!("{v} is not a finite number"),
            "pass a finite number",
        ));
    }
    Ok(format!("{v}"))
}

/// [`float_arg`] of an optional value.
fn opt_float_arg(field: &'static str, v: Option<f64>) -> Result<Option<String>> {
    v.map(|v| float_arg(field, v)).transpose()
}
