//! Checkpoints and savepoints (SPEC R-life, issue 16): aligned barriers, as Flink and
//! Arroyo take them.
//!
//! Every `interval` the [`Coordinator`] asks the sources for a barrier. Each source task,
//! after its current batch, records its state (the next offset of every partition it
//! reads and its watermark tracker), acknowledges, and sends `Msg::Barrier(id)` behind
//! its batches. An operator aligns the barrier over its inputs (`align.rs`), snapshots
//! its state (window partial aggregates) and forwards it; a sink aligns it and
//! pre-commits (at-least-once sinks flush; transactional sinks hand over the rows of the
//! epoch, which become part of the checkpoint). When every task has acknowledged, the
//! coordinator writes the checkpoint (`storage.rs`: task files, then the manifest) and
//! only then tells the sinks, which commit. One checkpoint is in flight at a time; one
//! that does not complete within `timeout` is aborted and nothing is committed for it.
//!
//! A task that ends acknowledges every later checkpoint with its final state (drained)
//! or makes them impossible (stopped). When every task has ended drained, a final
//! checkpoint commits what the sinks still hold.

pub mod align;
pub mod compat;
mod coordinator;
pub mod ipc;
pub mod storage;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

pub use coordinator::Coordinator;
pub use storage::{Kind, Listed, Location, Manifest, Restored, TaskState};

/// How a run takes checkpoints.
#[derive(Clone)]
pub struct CheckpointOptions {
    pub location: Location,
    /// Zero: no periodic checkpoints (savepoints and the final one only).
    pub interval: Duration,
    pub timeout: Duration,
    /// Complete checkpoints kept.
    pub retain: usize,
    pub job: String,
    /// The sha256 of the job text; a restore from another job's checkpoint is refused.
    pub job_hash: String,
    /// Start from this checkpoint or savepoint.
    pub restore: Option<Arc<Restored>>,
    /// Start a new line of checkpoints from `restore` (a new instance from a savepoint of
    /// another, which may still run): transactional sinks then keep their commit markers
    /// apart from the other run's. Without it the run continues the restored line (a
    /// take-over, a restart).
    pub fork: bool,
    /// Called (on a blocking thread) with every completed checkpoint's manifest: the app
    /// commits the sources' positions to their consumer groups there.
    pub after_complete: Option<AfterComplete>,
}

/// What runs after each completed checkpoint (see [`CheckpointOptions::after_complete`]).
pub type AfterComplete = Arc<dyn Fn(&Manifest) + Send + Sync>;

impl CheckpointOptions {
    /// Checkpoints every `interval` under `location` for the job `job` (text hash
    /// `job_hash`), 3 kept, a 10-minute timeout, no restore.
    pub fn new(location: Location, interval: Duration, job: &str, job_hash: &str) -> Self {
        CheckpointOptions {
            location,
            interval,
            timeout: Duration::from_secs(600),
            retain: 3,
            job: job.to_string(),
            job_hash: job_hash.to_string(),
            restore: None,
            fork: false,
            after_complete: None,
        }
    }
}

/// The checkpoint figures of a run (metrics, the instance view).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CheckpointStats {
    /// The last completed checkpoint or savepoint.
    pub last_id: Option<u64>,
    pub last_dir: Option<String>,
    /// When it completed (ms since the epoch): its age is now minus this.
    pub last_completed_ms: Option<i64>,
    pub last_duration_ms: u64,
    pub last_size: u64,
    pub last_alignment_ms: u64,
    pub completed: u64,
    /// Failed or aborted ones.
    pub failed: u64,
    /// Failed or aborted since the last one that completed (0 once one completes).
    pub failing: u64,
    pub last_failure: Option<String>,
    pub in_progress: Option<u64>,
}

/// What the sinks watch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Done {
    /// The last completed checkpoint (0: none yet).
    pub completed: u64,
    /// The last checkpoint that completed or was given up.
    pub settled: u64,
    /// Every task ended: the final checkpoint's id, or None while running; `Some(0)`
    /// when no final checkpoint can be taken (a task stopped or failed).
    pub finished: Option<u64>,
}

/// A completed checkpoint or savepoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Completed {
    pub id: u64,
    pub kind: Kind,
    pub dir: String,
    /// Where it is (the location as shown, then the directory).
    pub path: String,
    pub size: u64,
    pub duration_ms: u64,
}

/// Waits until checkpoint `id` settled (completed or given up) or every task ended;
/// returns the last completed checkpoint.
pub async fn wait_settled(done: &mut watch::Receiver<Done>, id: u64) -> u64 {
    loop {
        let d = *done.borrow_and_update();
        if d.settled >= id || d.finished.is_some() {
            return d.completed;
        }
        if done.changed().await.is_err() {
            return done.borrow().completed;
        }
    }
}

/// Waits for the final checkpoint after every task ended; Some(id) when it completed.
pub async fn wait_final(done: &mut watch::Receiver<Done>) -> Option<u64> {
    loop {
        let d = *done.borrow_and_update();
        if let Some(id) = d.finished {
            return (id != 0).then_some(id);
        }
        if done.changed().await.is_err() {
            return None;
        }
    }
}

/// A task's link to the run's checkpoints: the coordinator and the task's name in them.
#[derive(Clone)]
pub struct TaskCheckpoint {
    pub coord: Arc<Coordinator>,
    pub name: String,
}

impl TaskCheckpoint {
    /// Registers task `name` with `coord`.
    pub fn register(coord: &Arc<Coordinator>, name: String) -> TaskCheckpoint {
        coord.register(&name);
        TaskCheckpoint {
            coord: coord.clone(),
            name,
        }
    }

    /// The state this task had in the restored checkpoint.
    pub fn restored(&self) -> Option<&TaskState> {
        self.coord.restored_state(&self.name)
    }
}
