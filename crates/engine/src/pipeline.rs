//! A validated job as tokio tasks: sources (blocking threads), operators (each driven by
//! a task over a bounded channel) and sinks, wired by the job's edges. Fan-out clones
//! batches (Arc, cheap); a task with several upstream tasks takes the minimum watermark.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use arrow::datatypes::SchemaRef;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use weir_model::model::{Job, Operator as Node, Role, TimeCharacteristic};

use crate::channel::{Envelope, Inputs, Msg, Output, Outputs};
use crate::deadletter::DeadLetter;
use crate::decode::RecordDecoder;
use crate::error::{EngineError, Result};
use crate::metrics::{Metrics, NodeMetrics};
use crate::operator::Operator;
use crate::resolve::Resolver;
use crate::sink::capture::{CaptureSink, CapturedRow};
use crate::sink::{Sink, run_sink};
use crate::source::file::Replay;
use crate::source::{Emitter, TimeMode};
use crate::watermark::WatermarkTracker;

/// An input table of a transform: the upstream's table name, schema and event time.
#[derive(Debug, Clone)]
pub struct InputSpec {
    pub name: String,
    pub schema: SchemaRef,
    pub event_time: Option<String>,
}

/// Builds the operator of a transform node from its inputs.
pub type Planner = Arc<dyn Fn(&Node, &[InputSpec]) -> Result<Box<dyn Operator>> + Send + Sync>;

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
        }
    }
}

/// A running pipeline.
pub struct Pipeline {
    metrics: Metrics,
    stop: Arc<AtomicBool>,
    tasks: JoinSet<Result<()>>,
    /// Output schema of every node that has one.
    pub schemas: BTreeMap<String, SchemaRef>,
}

struct Planned {
    schema: Option<SchemaRef>,
    tasks: usize,
}

fn source_parallelism(job: &Job, node: &Node, opts: &RunOptions) -> usize {
    if opts.test_data.is_some() {
        return 1;
    }
    node.parallelism().unwrap_or(job.config.parallelism).max(1) as usize
}

impl Pipeline {
    /// Plans and starts every task. Must be called inside a tokio runtime.
    pub async fn start(job: &Job, resolver: &Resolver, opts: RunOptions) -> Result<Pipeline> {
        let order = topo_order(job)?;
        let mut metrics = Metrics::default();
        let mut planned: BTreeMap<String, Planned> = BTreeMap::new();
        let mut operators: BTreeMap<String, Box<dyn Operator>> = BTreeMap::new();
        // 1. schemas and operators, in topological order
        for id in &order {
            let Some(node) = job.node(id) else { continue };
            match node.role() {
                Role::Source => {
                    let schema = match node {
                        Node::KafkaSource(s) => s.fields.as_deref().map(crate::schema::source_schema).ok_or_else(|| {
                            EngineError::Plan(format!("{id}: the source has no `fields`; declare the record schema in the job"))
                        })?,
                        other => {
                            return Err(EngineError::unsupported(
                                format!("{} operator `{id}`", other.kind()),
                                Some("the engine runs KafkaSource sources so far"),
                            ));
                        }
                    };
                    planned.insert(
                        id.clone(),
                        Planned {
                            schema: Some(schema),
                            tasks: source_parallelism(job, node, &opts),
                        },
                    );
                }
                Role::Transform => {
                    let inputs: Vec<InputSpec> = job
                        .inputs(id)
                        .map(|up| input_spec(job, up, &planned))
                        .collect::<Result<_>>()?;
                    let op = (opts.planner)(node, &inputs)?;
                    planned.insert(
                        id.clone(),
                        Planned {
                            schema: Some(op.schema()),
                            tasks: 1,
                        },
                    );
                    operators.insert(id.clone(), op);
                }
                Role::Sink => {
                    planned.insert(
                        id.clone(),
                        Planned {
                            schema: None,
                            tasks: 1,
                        },
                    );
                }
            }
        }
        // 2. channels: one receiver per non-source node, one slot per upstream task
        let mut receivers: BTreeMap<String, (mpsc::Receiver<Envelope>, usize)> = BTreeMap::new();
        let mut outputs: BTreeMap<String, Vec<Outputs>> = BTreeMap::new();
        for id in &order {
            let tasks = planned.get(id).map(|p| p.tasks).unwrap_or(1);
            outputs.insert(id.clone(), vec![Outputs::default(); tasks]);
        }
        for id in &order {
            let Some(node) = job.node(id) else { continue };
            if node.role() == Role::Source {
                continue;
            }
            let (tx, rx) = mpsc::channel(opts.channel_capacity.max(1));
            let mut slot = 0;
            for (input, up) in job.inputs(id).enumerate() {
                if let Some(outs) = outputs.get_mut(up) {
                    for o in outs.iter_mut() {
                        o.0.push(Output {
                            tx: tx.clone(),
                            input,
                            slot,
                        });
                        slot += 1;
                    }
                }
            }
            receivers.insert(id.clone(), (rx, slot));
        }
        // 3. tasks
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = JoinSet::new();
        for id in &order {
            let Some(node) = job.node(id) else { continue };
            let m = metrics.node(id, node.kind());
            let outs = outputs.remove(id).unwrap_or_default();
            match node.role() {
                Role::Source => {
                    let Node::KafkaSource(src) = node else {
                        continue;
                    };
                    let schema = planned
                        .get(id)
                        .and_then(|p| p.schema.clone())
                        .ok_or_else(|| EngineError::Plan(format!("{id}: no schema")))?;
                    let time = match (&src.event_time, job.config.time) {
                        (Some(col), TimeCharacteristic::Event) => {
                            TimeMode::Event(crate::schema::event_time_index(&schema, id, col)?)
                        }
                        _ => TimeMode::Processing,
                    };
                    let ts_index = match time {
                        TimeMode::Event(i) => Some(i),
                        TimeMode::Processing => None,
                    };
                    let deadletter = Arc::new(DeadLetter::for_node(&opts.project, &job.name, id));
                    let ntasks = outs.len();
                    for (t, out) in outs.into_iter().enumerate() {
                        let src = src.clone();
                        let stop = stop.clone();
                        let m = m.clone();
                        let deadletter = deadletter.clone();
                        let schema = schema.clone();
                        let opts2 = opts.clone();
                        let job_name = job.name.clone();
                        if let Some(test) = &opts.test_data {
                            let (path, format) = crate::source::file::data_file(&test.dir, id)?;
                            let lines = crate::source::file::read_lines(&path)?;
                            let mut replay = test.replay.clone();
                            replay.batch_size = opts.batch_size;
                            let decoder = RecordDecoder::new(schema, format, ts_index);
                            tasks.spawn_blocking(move || {
                                let tracker = WatermarkTracker::new(1, src.watermark_ms, 0);
                                let mut e = Emitter::new(
                                    out,
                                    m,
                                    decoder,
                                    deadletter,
                                    tracker,
                                    time,
                                    vec![0],
                                );
                                crate::source::file::replay(
                                    &lines,
                                    &mut e,
                                    &replay,
                                    src.watermark_ms,
                                    &stop,
                                )
                            });
                        } else {
                            let ds = resolver.get(id, &src.datasource)?.clone();
                            let format = src.format.unwrap_or_default();
                            let decoder = RecordDecoder::new(schema, format, ts_index);
                            tasks.spawn_blocking(move || {
                                let task = crate::source::kafka::KafkaTask {
                                    node: src.clone(),
                                    job: job_name,
                                    datasource: ds,
                                    task: t,
                                    tasks: ntasks,
                                    bounded: opts2.bounded,
                                    batch_size: opts2.batch_size,
                                    idle_ms: opts2.idle_ms,
                                };
                                // partitions are assigned inside; the tracker is resized there
                                let tracker =
                                    WatermarkTracker::new(1, src.watermark_ms, opts2.idle_ms);
                                let mut e = Emitter::new(
                                    out,
                                    m,
                                    decoder,
                                    deadletter,
                                    tracker,
                                    time,
                                    vec![],
                                );
                                let r = crate::source::kafka::run(task, &mut e, &stop);
                                if r.is_err() {
                                    let _ = e.end(false);
                                }
                                r
                            });
                        }
                    }
                }
                Role::Transform => {
                    let Some((rx, slots)) = receivers.remove(id) else {
                        continue;
                    };
                    let Some(op) = operators.remove(id) else {
                        continue;
                    };
                    let out = outs.into_iter().next().unwrap_or_default();
                    tasks.spawn(run_operator(op, rx, slots, out, m));
                }
                Role::Sink => {
                    let Some((rx, slots)) = receivers.remove(id) else {
                        continue;
                    };
                    let upstream = job
                        .inputs(id)
                        .next()
                        .and_then(|u| planned.get(u))
                        .and_then(|p| p.schema.clone());
                    let sink: Box<dyn Sink> = match &opts.capture {
                        Some(tx) => Box::new(CaptureSink {
                            sink: id.clone(),
                            tx: tx.clone(),
                        }),
                        None if opts.discard_sinks => Box::new(crate::sink::capture::DiscardSink),
                        None => {
                            let schema = upstream.ok_or_else(|| {
                                EngineError::Plan(format!("{id}: the sink has no input"))
                            })?;
                            let dl = Arc::new(DeadLetter::for_node(&opts.project, &job.name, id));
                            crate::sink::open(node, resolver, &schema, dl, m.clone()).await?
                        }
                    };
                    tasks.spawn(run_sink(sink, rx, slots, m));
                }
            }
        }
        let schemas = planned
            .into_iter()
            .filter_map(|(k, p)| p.schema.map(|s| (k, s)))
            .collect();
        Ok(Pipeline {
            metrics,
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

    /// Waits for every task; the first error stops the others and is returned.
    pub async fn wait(mut self) -> Result<Metrics> {
        let mut first: Option<EngineError> = None;
        while let Some(r) = self.tasks.join_next().await {
            let r = r
                .map_err(|e| EngineError::Other(format!("a pipeline task failed: {e}")))
                .and_then(|r| r);
            if let Err(e) = r {
                self.stop.store(true, Relaxed);
                if first.is_none() {
                    first = Some(e);
                }
            }
        }
        match first {
            Some(e) => Err(e),
            None => Ok(self.metrics),
        }
    }
}

fn input_spec(job: &Job, up: &str, planned: &BTreeMap<String, Planned>) -> Result<InputSpec> {
    let node = job
        .node(up)
        .ok_or_else(|| EngineError::Plan(format!("unknown node {up}")))?;
    let schema = planned
        .get(up)
        .and_then(|p| p.schema.clone())
        .ok_or_else(|| EngineError::Plan(format!("{up} has no output schema")))?;
    let event_time = match node {
        Node::KafkaSource(s) if job.config.time == TimeCharacteristic::Event => {
            s.event_time.clone()
        }
        Node::TempTableSource(s) => s.event_time.clone(),
        _ => None,
    };
    Ok(InputSpec {
        name: node.table_name().unwrap_or(up).to_string(),
        schema,
        event_time,
    })
}

/// Node ids, every node after all of its inputs.
pub fn topo_order(job: &Job) -> Result<Vec<String>> {
    let mut indegree: BTreeMap<&str, usize> = job.nodes.iter().map(|n| (n.id(), 0)).collect();
    for (_, to) in &job.edges {
        if let Some(d) = indegree.get_mut(to.as_str()) {
            *d += 1;
        }
    }
    let mut ready: Vec<&str> = job
        .nodes
        .iter()
        .map(|n| n.id())
        .filter(|id| indegree.get(id) == Some(&0))
        .collect();
    ready.reverse();
    let mut order = Vec::new();
    while let Some(id) = ready.pop() {
        order.push(id.to_string());
        for to in job.outputs(id) {
            if let Some(d) = indegree.get_mut(to) {
                *d -= 1;
                if *d == 0 {
                    ready.push(to);
                }
            }
        }
    }
    if order.len() != job.nodes.len() {
        return Err(EngineError::Plan("the job graph has a cycle".into()));
    }
    Ok(order)
}

/// Drives one operator: batches in, results out, watermark = min over upstream tasks
/// (`slots` of them); calls `close` only when the input was drained (watermark +∞).
pub async fn run_operator(
    mut op: Box<dyn Operator>,
    mut rx: mpsc::Receiver<Envelope>,
    slots: usize,
    out: Outputs,
    metrics: Arc<NodeMetrics>,
) -> Result<()> {
    op.start()?;
    let mut inputs = Inputs::new(slots);
    let mut results = Vec::new();
    let send = |results: &mut Vec<arrow::record_batch::RecordBatch>| {
        let batches = std::mem::take(results);
        let out = &out;
        let metrics = &metrics;
        async move {
            for b in batches {
                if b.num_rows() > 0 {
                    metrics.records_out.fetch_add(b.num_rows() as u64, Relaxed);
                    out.batch(&b).await?;
                }
            }
            Ok::<(), EngineError>(())
        }
    };
    while let Some(Envelope { slot, msg }) = rx.recv().await {
        match msg {
            Msg::Batch(input, batch) => {
                metrics
                    .records_in
                    .fetch_add(batch.num_rows() as u64, Relaxed);
                metrics
                    .bytes_in
                    .fetch_add(batch.get_array_memory_size() as u64, Relaxed);
                op.on_batch(input, batch, &mut results)?;
                metrics.late.store(op.late_rows(), Relaxed);
                send(&mut results).await?;
            }
            Msg::Watermark(w) => {
                if let Some(w) = inputs.watermark(slot, w) {
                    op.on_watermark(w, &mut results)?;
                    send(&mut results).await?;
                    metrics.set_watermark(w);
                    out.watermark(w).await?;
                }
            }
            Msg::End => {
                if let Some(w) = inputs.end(slot) {
                    op.on_watermark(w, &mut results)?;
                    send(&mut results).await?;
                    metrics.set_watermark(w);
                    out.watermark(w).await?;
                }
                if inputs.all_ended() {
                    break;
                }
            }
        }
    }
    if inputs.drained() {
        op.close(&mut results)?;
        send(&mut results).await?;
    }
    out.end().await
}
