//! Instances as use cases (SPEC R-life, R-mon): start one of a job file or version, list
//! and show them with their live figures, stop and restart, read their log, and the alert
//! rules that watch them. The worker that runs them is `crate::worker`; the store keeps
//! the state machine and checks every right (`weir_store` `jobs/instances.rs`).
//!
//! `start.rs` (which text runs, checked, with the starter's rights), `monitor.rs` (lists
//! with figures, one instance's detail, history, logs), `alerts.rs` (rules and firing
//! alerts), `figures.rs` (the compact per-second figures the worker stores and screens
//! draw), `evaluate.rs` (when a rule fires and clears), `savepoints.rs` (take, stop with,
//! list, delete and start from savepoints), `upgrade.rs` (`weir instance upgrade`).

mod alerts;
mod evaluate;
mod figures;
mod monitor;
mod savepoints;
mod start;
mod upgrade;

pub use alerts::{AlertTargetArg, parse_duration_secs};
pub use evaluate::{AlertBook, Transition};
pub use figures::{CheckpointFigures, Figures, NodeFigures, Trend};
pub use monitor::{InstanceDetail, InstanceRow, WorkerRow, heartbeat_fresh, now_ms};
pub use savepoints::{
    SAVEPOINT_WAIT, Savepoint, SavepointRequest, SavepointRequestState, parse_from_savepoint,
};
pub use start::{StartRequest, Started};
pub(crate) use upgrade::manifest_of;
pub use upgrade::{Upgrade, UpgradeRequest};
pub use weir_engine::checkpoint::compat::{OperatorReport, Verdict};
pub use weir_model::model::{AlertKind, AlertRule};
pub use weir_store::{
    Alert, AlertFilter, AlertRuleRow, AlertRuleSpec, AlertTarget, DesiredState, Instance,
    InstanceFilter, InstanceState, LogLevel, LogLine, MetricPoint, StartPosition, Worker,
};

/// How long a worker's heartbeat may be silent before another worker takes its
/// instances over (issue 14: 10 s).
pub const TAKE_OVER_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// How often a worker heartbeats.
pub const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// How long figures are kept in the store by default (1 h).
pub const KEEP_FIGURES: std::time::Duration = std::time::Duration::from_secs(3600);

/// `up 3m`, `up 2h`: how long an instance has been running, for lists.
pub fn uptime(inst: &Instance) -> String {
    match (&inst.state, &inst.started_at) {
        (InstanceState::Running, Some(at)) => crate::jobs::age(at),
        _ => "-".into(),
    }
}

/// The version column: `v3`, or `file` (with the snapshot's short hash) for a test
/// instance of a working file.
pub fn version_label(inst: &Instance) -> String {
    match (inst.version, &inst.text_hash) {
        (Some(v), _) => format!("v{v}"),
        (None, Some(h)) => format!("file {}", crate::jobs::working::short(h)),
        (None, None) => "-".into(),
    }
}
