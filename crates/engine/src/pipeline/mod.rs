//! A validated job as tokio tasks: sources (blocking threads), operators (each driven by
//! a task over a bounded channel) and sinks, wired by the job's edges. Fan-out clones
//! batches (Arc, cheap); a task with several upstream tasks takes the minimum watermark.
//!
//! [`Pipeline::start`] plans the job (`plan.rs`: order, schemas, operators), wires the
//! channels (`plan.rs`), then spawns sinks, operators and sources (`spawn.rs`). With
//! managed offsets, commit marks (`marks.rs`) commit what the sinks wrote while the job runs.

pub mod marks;
mod plan;
mod spawn;

pub(crate) use plan::{input_table, topo_order};
pub use spawn::run_operator;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use arrow::datatypes::SchemaRef;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use weir_model::model::{Job, Node};

use crate::error::{EngineError, Result};
use crate::metrics::Metrics;
use crate::operator::{InputTable, Operator};
use crate::resolve::Resolver;
use crate::sink::capture::CapturedRow;
use crate::source::file::Replay;
use plan::{event_time_columns, plan, wire};
use spawn::{Spawn, spawn_operators, spawn_sinks, spawn_sources};

/// Builds the operator of a transform node from its inputs.
pub type Planner = Arc<dyn Fn(&Node, &[InputTable]) -> Result<Box<dyn Operator>> + Send + Sync>;

/// Sources replaced by test-data files (`weir test`).
#[derive(Debug, Clone)]
pub struct TestData {
    pub dir: PathBuf,
    pub replay: Replay,
}

/// How to run a job.
#[derive(Clone)]
pub struct RunOptions {
    /// The project directory (dead-letter files go to `<project>/.weir/deadletter/`).
    pub project: PathBuf,
    /// Stop when every source reached the end it had at start.
    pub bounded: bool,
    /// A partition with no record for this long stops holding the watermark back.
    pub idle_ms: u64,
    /// Batches in flight per edge.
    pub channel_capacity: usize,
    /// Records per source batch.
    pub batch_size: usize,
    /// Replace sources by test-data files (forces parallelism 1).
    pub test_data: Option<TestData>,
    /// Replace sinks by capture sinks sending every row here.
    pub capture: Option<mpsc::UnboundedSender<CapturedRow>>,
    /// Replace sinks by sinks that only count rows (benchmarks).
    pub discard_sinks: bool,
    /// Builds transform operators (the SQL operator by default).
    pub planner: Planner,
    /// Overrides every Kafka source's `start` (an instance's start position).
    pub start: Option<weir_model::model::StartOffset>,
    /// Appended to the default consumer group `weir-<job>-<node>` (an instance's `-i42`).
    pub group_suffix: String,
    /// Managed offsets (`weir run`, a worker's instances): sources resume from their
    /// group's committed offsets, and the positions every sink has flushed are committed
    /// four times a second and at the end ([`marks`]). None: librdkafka's auto-commit.
    pub offsets: Option<Arc<crate::source::kafka::Offsets>>,
    /// Checkpoints (issue 16): where, how often, and the checkpoint to restore. Taken
    /// only by runs that read Kafka (not test data) and do not capture their rows. With checkpoints, commit marks are off: the checkpoints say
    /// where sources continue, and transactional sinks commit with them.
    pub checkpoints: Option<crate::checkpoint::CheckpointOptions>,
    /// Names this run in its dead-letter lines (`run`), so that the lines of one run can
    /// be told from a previous run's in the same file.
    pub run_id: String,
}

impl RunOptions {
    /// Defaults for `project`, planning transforms with `planner`.
    pub fn new(project: impl Into<PathBuf>, planner: Planner) -> Self {
        RunOptions {
            project: project.into(),
            bounded: false,
            idle_ms: 1000,
            channel_capacity: 16,
            batch_size: 8192,
            test_data: None,
            capture: None,
            discard_sinks: false,
            planner,
            start: None,
            group_suffix: String::new(),
            offsets: None,
            checkpoints: None,
            run_id: crate::deadletter::new_run_id(),
        }
    }
}

/// A running pipeline.
pub struct Pipeline {
    metrics: Metrics,
    marks: Option<Arc<marks::Marks>>,
    /// The positions the sources reached, committed after a clean end.
    offsets: Option<Arc<crate::source::kafka::Offsets>>,
    /// The task that commits every [`marks::COMMIT_EVERY`].
    committer: Option<tokio::task::JoinHandle<()>>,
    /// The checkpoints of this run and their coordinating task.
    checkpoints: Option<Arc<crate::checkpoint::Coordinator>>,
    coordinator: Option<tokio::task::JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    tasks: JoinSet<Result<()>>,
    /// Output schema of every node that has one.
    pub schemas: BTreeMap<String, SchemaRef>,
}

impl Pipeline {
    /// Plans and starts every task: plan, check that the Kafka data sources answer, wire,
    /// then spawn sinks, operators and sources. Must be called inside a tokio runtime.
    pub async fn start(job: &Job, resolver: &Resolver, opts: RunOptions) -> Result<Pipeline> {
        let mut plan = plan(job, &opts)?;
        if opts.test_data.is_none() {
            crate::source::reachable::check_kafka_sources(job, resolver).await?;
        }
        let mut wiring = wire(job, &plan, &opts);
        let mut metrics = Metrics::default();
        let event_times = event_time_columns(job, &plan);
        for id in &plan.order {
            if let Some(node) = job.node(id) {
                let m = metrics.node(id, node.kind());
                if let Some(column) = event_times.get(id) {
                    m.set_event_time(column);
                }
                if let Some(tx) = wiring.inputs.get(id) {
                    m.watch_input(tx);
                }
            }
        }
        // only the upstream tasks hold senders: a channel closes when they end
        wiring.inputs.clear();
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = JoinSet::new();
        let real = opts.test_data.is_none() && opts.capture.is_none();
        // benchmarks measure checkpoints with their counting sinks too
        let checkpoints = match (&opts.checkpoints, real) {
            (Some(c), true) => Some(crate::checkpoint::Coordinator::new(c.clone())?),
            _ => None,
        };
        let managed =
            opts.offsets.is_some() && real && !opts.discard_sinks && checkpoints.is_none();
        let marks = managed.then(|| Arc::new(marks::Marks::default()));
        let mut spawn = Spawn {
            job,
            opts: &opts,
            metrics: &mut metrics,
            stop: &stop,
            tasks: &mut tasks,
            marks: marks.clone(),
            checkpoints: checkpoints.clone(),
        };
        // Sinks connect first and sources start last, so that a sink that cannot connect
        // fails the start before any source thread runs.
        spawn_sinks(&mut spawn, &plan, &mut wiring, resolver).await?;
        spawn_operators(&mut spawn, &mut plan, &mut wiring);
        spawn_sources(&mut spawn, &plan, &mut wiring, resolver)?;
        let schemas = plan
            .nodes
            .into_iter()
            .filter_map(|(k, p)| p.schema.map(|s| (k, s)))
            .collect();
        let committer = marks.clone().map(|m| tokio::spawn(commit_while_running(m)));
        let coordinator = checkpoints.as_ref().and_then(|c| c.start());
        Ok(Pipeline {
            metrics,
            marks,
            offsets: opts.offsets.clone(),
            committer,
            checkpoints,
            coordinator,
            stop,
            tasks,
            schemas,
        })
    }

    /// The live counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The run's checkpoints (trigger a savepoint, stop with one, read the figures).
    pub fn checkpoints(&self) -> Option<Arc<crate::checkpoint::Coordinator>> {
        self.checkpoints.clone()
    }

    /// A handle that stops the sources (sinks are flushed as the pipeline drains).
    pub fn stopper(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Waits for every task; the first error stops the others and is returned (a task's
    /// report that its downstream stopped gives way to the downstream's own error). With
    /// managed offsets, the end commits what every sink flushed (on a failure too: what
    /// was flushed stays flushed). A drained end then commits the positions the sources
    /// reached. A stop does not: a window still open at the stop holds its records' mark
    /// and its state goes with the run, so the next run reads those records again (at
    /// least once, never lost; keeping the window itself across a restart comes with
    /// checkpoints). A job without open windows continues exactly where it stopped.
    pub async fn wait(mut self) -> Result<Metrics> {
        let mut first: Option<EngineError> = None;
        while let Some(r) = self.tasks.join_next().await {
            let r = r
                .map_err(|e| EngineError::Internal(format!("a pipeline task failed: {e}")))
                .and_then(|r| r);
            if let Err(e) = r {
                self.stop.store(true, Relaxed);
                if let Some(c) = &self.checkpoints {
                    c.abandon();
                }
                // a task whose downstream failed reports that failure, not its own
                let downstream = matches!(first, Some(EngineError::DownstreamStopped));
                if first.is_none() || downstream {
                    first = Some(e);
                }
            }
        }
        if let Some(c) = self.committer.take() {
            c.abort();
            let _ = c.await;
        }
        if let Some(c) = self.coordinator.take() {
            // every task ended: let the final checkpoint (a drained run's end positions)
            // complete before the coordinator goes; a failed run has none
            if let (None, Some(coord)) = (&first, &self.checkpoints) {
                let mut done = coord.subscribe();
                let settle = crate::checkpoint::wait_final(&mut done);
                if tokio::time::timeout(coord.timeout(), settle).await.is_err() {
                    tracing::warn!("the final checkpoint did not complete in time");
                }
            }
            c.abort();
            let _ = c.await;
        }
        let committed = match self.marks.take() {
            Some(marks) => tokio::task::spawn_blocking(move || marks.commit())
                .await
                .map_err(|e| EngineError::Internal(format!("committing offsets: {e}")))
                .and_then(|r| r),
            None => Ok(0),
        };
        if let Some(e) = first {
            return Err(e);
        }
        committed?;
        let stopped = self.stop.load(Relaxed);
        if let Some(offsets) = self.offsets.take().filter(|_| !stopped) {
            tokio::task::spawn_blocking(move || offsets.commit())
                .await
                .map_err(|e| EngineError::Internal(format!("committing offsets: {e}")))??;
        }
        Ok(std::mem::take(&mut self.metrics))
    }
}

impl Drop for Pipeline {
    /// A pipeline dropped without [`Pipeline::wait`] (its tasks go with the `JoinSet`)
    /// takes its committer and checkpoint coordinator with it.
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(c) = self.committer.take() {
            c.abort();
        }
        if let Some(c) = self.coordinator.take() {
            c.abort();
        }
    }
}

/// Every [`marks::COMMIT_EVERY`]: asks the sources for a new mark and commits what every
/// sink flushed since the last commit. A failed commit is logged and retried next time:
/// it costs duplicates after a crash, never records.
async fn commit_while_running(marks: Arc<marks::Marks>) {
    let mut tick = tokio::time::interval(marks::COMMIT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        marks.advance();
        if !marks.has_due() {
            continue;
        }
        let m = marks.clone();
        match tokio::task::spawn_blocking(move || m.commit()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("committing offsets (retried in a second): {e}"),
            Err(e) => tracing::warn!("committing offsets: {e}"),
        }
    }
}

/// The state description of every transform of `job` as planned with `opts`
/// (`Operator::state_description`), without running anything: what `weir instance
/// upgrade` compares with a savepoint (`checkpoint::compat::report`).
pub fn describe_states(
    job: &Job,
    opts: &RunOptions,
) -> Result<BTreeMap<String, serde_json::Value>> {
    let planned = plan(job, opts)?;
    Ok(planned
        .operators
        .iter()
        .map(|(id, op)| (id.clone(), op.state_description()))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn wait_reports_the_failed_task_not_the_one_whose_downstream_stopped() {
        let mut tasks: JoinSet<Result<()>> = JoinSet::new();
        tasks.spawn(async { Err(EngineError::DownstreamStopped) });
        tasks.spawn(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(EngineError::Config("the sink's table is missing".into()))
        });
        let pipeline = Pipeline {
            metrics: Metrics::default(),
            marks: None,
            offsets: None,
            committer: None,
            checkpoints: None,
            coordinator: None,
            stop: Arc::new(AtomicBool::new(false)),
            tasks,
            schemas: BTreeMap::new(),
        };
        let err = pipeline.wait().await.expect_err("fails");
        assert!(matches!(err, EngineError::Config(_)), "{err:?}");
    }
}
