//! A validated job as tokio tasks: sources (blocking threads), operators (each driven by
//! a task over a bounded channel) and sinks, wired by the job's edges. Fan-out clones
//! batches (Arc, cheap); a task with several upstream tasks takes the minimum watermark.
//!
//! [`Pipeline::start`] plans the job (`plan.rs`: order, schemas, operators), wires the
//! channels (`plan.rs`), then spawns sinks, operators and sources (`spawn.rs`).

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
    /// Managed offsets (a worker's instances): sources resume from their group's committed
    /// offsets, and the positions reached are committed when the run ends cleanly, after
    /// the sinks flushed. None: librdkafka's auto-commit (`weir run`).
    pub offsets: Option<Arc<crate::source::kafka::Offsets>>,
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
        }
    }
}

/// A running pipeline.
pub struct Pipeline {
    metrics: Metrics,
    offsets: Option<Arc<crate::source::kafka::Offsets>>,
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
        let mut spawn = Spawn {
            job,
            opts: &opts,
            metrics: &mut metrics,
            stop: &stop,
            tasks: &mut tasks,
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
        Ok(Pipeline {
            metrics,
            offsets: opts.offsets.clone(),
            stop,
            tasks,
            schemas,
        })
    }

    /// The live counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// A handle that stops the sources (sinks are flushed as the pipeline drains).
    pub fn stopper(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Waits for every task; the first error stops the others and is returned (a task's
    /// report that its downstream stopped gives way to the downstream's own error). With
    /// managed offsets, a clean end commits the positions the sources reached.
    pub async fn wait(mut self) -> Result<Metrics> {
        let mut first: Option<EngineError> = None;
        while let Some(r) = self.tasks.join_next().await {
            let r = r
                .map_err(|e| EngineError::Internal(format!("a pipeline task failed: {e}")))
                .and_then(|r| r);
            if let Err(e) = r {
                self.stop.store(true, Relaxed);
                // a task whose downstream failed reports that failure, not its own
                let downstream = matches!(first, Some(EngineError::DownstreamStopped));
                if first.is_none() || downstream {
                    first = Some(e);
                }
            }
        }
        if let Some(e) = first {
            return Err(e);
        }
        // every sink flushed: now the positions the sources reached are safe to commit
        if let Some(offsets) = self.offsets.take() {
            tokio::task::spawn_blocking(move || offsets.commit())
                .await
                .map_err(|e| EngineError::Internal(format!("committing offsets: {e}")))??;
        }
        Ok(self.metrics)
    }
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
            offsets: None,
            stop: Arc::new(AtomicBool::new(false)),
            tasks,
            schemas: BTreeMap::new(),
        };
        let err = pipeline.wait().await.expect_err("fails");
        assert!(matches!(err, EngineError::Config(_)), "{err:?}");
    }
}
