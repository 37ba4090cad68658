//! Starting the tasks of a planned, wired job: one task per sink and per transform, and
//! one blocking thread per source task (test-data replay or a Kafka consumer).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use weir_model::model::{Format, Job, KafkaSource, Node, Role, TimeCharacteristic};

use super::RunOptions;
use super::marks::{MarkInputs, Marks, SinkMarks, SourceMarks};
use super::plan::{Plan, Wiring};
use crate::channel::{Envelope, Inputs, Msg, Outputs, WatermarkStatus};
use crate::checkpoint::align::{Align, Step};
use crate::checkpoint::{Coordinator, TaskCheckpoint, TaskState};
use crate::deadletter::DeadLetter;
use crate::decode::RecordDecoder;
use crate::error::{EngineError, Result};
use crate::metrics::{Metrics, NodeMetrics};
use crate::operator::Operator;
use crate::resolve::Resolver;
use crate::sink::capture::CaptureSink;
use crate::sink::{Sink, SinkCheckpoint, run_sink};
use crate::source::file::Replay;
use crate::source::{Emitter, TimeMode};
use crate::watermark::WatermarkTracker;

/// What every spawn step shares.
pub(super) struct Spawn<'a> {
    pub(super) job: &'a Job,
    pub(super) opts: &'a RunOptions,
    pub(super) metrics: &'a mut Metrics,
    pub(super) stop: &'a Arc<AtomicBool>,
    pub(super) tasks: &'a mut JoinSet<Result<()>>,
    /// Commit marks, with managed offsets.
    pub(super) marks: Option<Arc<Marks>>,
    /// The checkpoint coordinator, with checkpoints.
    pub(super) checkpoints: Option<Arc<Coordinator>>,
}

impl Spawn<'_> {
    /// Registers task `name` with the checkpoints, if the run takes them.
    fn task_checkpoint(&self, name: String) -> Option<TaskCheckpoint> {
        self.checkpoints
            .as_ref()
            .map(|c| TaskCheckpoint::register(c, name))
    }
}

/// Opens every sink (capture, discard or the real one) and spawns its task.
pub(super) async fn spawn_sinks(
    spawn: &mut Spawn<'_>,
    plan: &Plan,
    wiring: &mut Wiring,
    resolver: &Resolver,
) -> Result<()> {
    let (job, opts) = (spawn.job, spawn.opts);
    for id in &plan.order {
        let Some(node) = job.node(id) else { continue };
        if node.role() != Role::Sink {
            continue;
        }
        let Some((rx, slots)) = wiring.receivers.remove(id) else {
            continue;
        };
        let m = spawn.metrics.node(id, node.kind());
        let mut delivery = crate::sink::delivery_of(node);
        let sink: Box<dyn Sink> = match &opts.capture {
            Some(tx) => Box::new(CaptureSink {
                sink: id.clone(),
                tx: tx.clone(),
            }),
            None if opts.discard_sinks => {
                delivery = crate::sink::Delivery::AtLeastOnce;
                Box::new(crate::sink::capture::DiscardSink)
            }
            None => {
                let schema = job
                    .inputs(id)
                    .next()
                    .and_then(|u| plan.nodes.get(u))
                    .and_then(|p| p.schema.clone())
                    .ok_or_else(|| EngineError::Plan(format!("{id}: the sink has no input")))?;
                let dl = Arc::new(DeadLetter::for_run(
                    &opts.project,
                    &job.name,
                    id,
                    &opts.run_id,
                ));
                crate::sink::open(node, resolver, &schema, dl, m.clone()).await?
            }
        };
        if opts.capture.is_some() {
            delivery = crate::sink::Delivery::AtLeastOnce;
        }
        let marks = spawn.marks.clone().map(SinkMarks::new);
        let ckpt = spawn
            .task_checkpoint(format!("sink/{id}"))
            .map(|task| SinkCheckpoint { task, delivery });
        spawn.tasks.spawn(run_sink(sink, rx, slots, m, marks, ckpt));
    }
    Ok(())
}

/// Spawns one task per transform, driving its planned operator.
pub(super) fn spawn_operators(spawn: &mut Spawn<'_>, plan: &mut Plan, wiring: &mut Wiring) {
    for id in &plan.order {
        let Some(node) = spawn.job.node(id) else {
            continue;
        };
        if node.role() != Role::Transform {
            continue;
        }
        let (Some((rx, slots)), Some(op)) =
            (wiring.receivers.remove(id), plan.operators.remove(id))
        else {
            continue;
        };
        let out = wiring
            .outputs
            .remove(id)
            .and_then(|outs| outs.into_iter().next())
            .unwrap_or_default();
        let m = spawn.metrics.node(id, node.kind());
        let ckpt = spawn.task_checkpoint(format!("operator/{id}"));
        spawn.tasks.spawn(run_operator(op, rx, slots, out, m, ckpt));
    }
}

/// Where one source task reads: its test-data file or its Kafka data source.
enum SourceInput {
    TestData {
        lines: Vec<String>,
        format: Format,
        replay: Replay,
    },
    Kafka(crate::resolve::Connection),
}

/// One source task, ready to spawn: everything that can fail was done.
struct SourceTask {
    node: KafkaSource,
    input: SourceInput,
    out: Outputs,
    index: usize,
    tasks: usize,
    schema: SchemaRef,
    time: TimeMode,
    deadletter: Arc<DeadLetter>,
    metrics: Arc<NodeMetrics>,
    /// With managed offsets: this task's side of the commit marks.
    marks: Option<SourceMarks>,
    /// Whether a sink reads this source directly (then batches carry their origin).
    origins: bool,
    /// With checkpoints: this task's link, and the source's restored state.
    checkpoint: Option<TaskCheckpoint>,
    restore: Option<Arc<crate::source::kafka::SourceRestore>>,
}

/// Spawns the blocking thread of every source task, once every task found its input.
pub(super) fn spawn_sources(
    spawn: &mut Spawn<'_>,
    plan: &Plan,
    wiring: &mut Wiring,
    resolver: &Resolver,
) -> Result<()> {
    let (job, opts) = (spawn.job, spawn.opts);
    let mut ready = Vec::new();
    for id in &plan.order {
        let Some(node) = job.node(id) else { continue };
        let Node::KafkaSource(src) = node else {
            continue;
        };
        let schema = plan
            .nodes
            .get(id)
            .and_then(|p| p.schema.clone())
            .ok_or_else(|| EngineError::Internal(format!("{id}: the source was not planned")))?;
        let time = match (&src.event_time, job.config.time) {
            (Some(col), TimeCharacteristic::Event) => {
                TimeMode::Event(crate::schema::event_time_index(&schema, id, col)?)
            }
            _ => TimeMode::Processing,
        };
        let deadletter = Arc::new(DeadLetter::for_run(
            &opts.project,
            &job.name,
            id,
            &opts.run_id,
        ));
        let metrics = spawn.metrics.node(id, node.kind());
        let outs = wiring.outputs.remove(id).unwrap_or_default();
        let tasks = outs.len();
        let origins = job
            .outputs(id)
            .any(|d| job.node(d).is_some_and(|n| n.role() == Role::Sink));
        let restore = spawn
            .checkpoints
            .as_ref()
            .and_then(|c| c.restored())
            .map(|r| {
                let prefix = format!("source/{id}/");
                let states = r.tasks_under(&prefix).map(|(_, s)| &s.meta);
                Arc::new(crate::source::kafka::SourceRestore::from_states(states))
            });
        for (index, out) in outs.into_iter().enumerate() {
            let checkpoint = match &opts.test_data {
                None => spawn.task_checkpoint(format!("source/{id}/{index}")),
                Some(_) => None,
            };
            let marks = match (&spawn.marks, &opts.test_data) {
                (Some(marks), None) => {
                    let ds = resolver.get(id, &src.datasource)?;
                    let group = crate::source::kafka::group_of(src, &job.name, &opts.group_suffix);
                    let config = crate::source::kafka::consumer_config(src, &job.name, ds)?;
                    let index = marks.add_source(&group, &src.topic, config);
                    Some(SourceMarks::new(marks.clone(), index))
                }
                _ => None,
            };
            let input = match &opts.test_data {
                Some(test) => {
                    let (path, format) = crate::source::file::data_file(&test.dir, id)?;
                    let mut replay = test.replay.clone();
                    replay.batch_size = opts.batch_size;
                    SourceInput::TestData {
                        lines: crate::source::file::read_lines(&path)?,
                        format,
                        replay,
                    }
                }
                None => SourceInput::Kafka(resolver.get(id, &src.datasource)?.clone()),
            };
            ready.push(SourceTask {
                node: src.clone(),
                input,
                out,
                index,
                tasks,
                schema: schema.clone(),
                time,
                deadletter: deadletter.clone(),
                metrics: metrics.clone(),
                marks,
                origins,
                checkpoint,
                restore: restore.clone(),
            });
        }
    }
    for task in ready {
        let stop = spawn.stop.clone();
        let opts = spawn.opts.clone();
        let job_name = spawn.job.name.clone();
        spawn
            .tasks
            .spawn_blocking(move || run_source(task, &opts, job_name, &stop));
    }
    Ok(())
}

/// Runs one source task on its blocking thread until its input ends or `stop` is set.
fn run_source(task: SourceTask, opts: &RunOptions, job: String, stop: &AtomicBool) -> Result<()> {
    let ts_index = match task.time {
        TimeMode::Event(i) => Some(i),
        TimeMode::Processing => None,
    };
    let src = task.node;
    match task.input {
        SourceInput::TestData {
            lines,
            format,
            replay,
        } => {
            let decoder = RecordDecoder::new(task.schema, format, ts_index).lenient(src.lenient);
            let tracker = WatermarkTracker::new(1, src.watermark_ms, 0);
            let mut e = Emitter::new(
                task.out,
                task.metrics,
                decoder,
                task.deadletter,
                tracker,
                task.time,
                vec![0],
            );
            e.origins = task.origins;
            crate::source::file::replay(&lines, &mut e, &replay, src.watermark_ms, stop)
        }
        SourceInput::Kafka(datasource) => {
            let format = src.format.unwrap_or_default();
            let decoder = RecordDecoder::new(task.schema, format, ts_index).lenient(src.lenient);
            // partitions are assigned inside; the tracker is resized there
            let tracker = WatermarkTracker::new(1, src.watermark_ms, opts.idle_ms);
            let mut e = Emitter::new(
                task.out,
                task.metrics,
                decoder,
                task.deadletter,
                tracker,
                task.time,
                vec![],
            );
            e.origins = task.origins;
            e.marks = task.marks;
            e.checkpoint = task.checkpoint;
            let group = crate::source::kafka::group_of(&src, &job, &opts.group_suffix);
            let kafka = crate::source::kafka::KafkaTask {
                node: src,
                job,
                datasource,
                start: opts.start,
                group,
                managed: opts.offsets.clone(),
                restore: task.restore,
                task: task.index,
                tasks: task.tasks,
                bounded: opts.bounded,
                batch_size: opts.batch_size,
                idle_ms: opts.idle_ms,
            };
            let r = crate::source::kafka::run(kafka, &mut e, stop);
            if r.is_err() {
                let _ = e.end(false);
            }
            r
        }
    }
}

/// Drives one operator: batches in, results out, watermark = min over upstream tasks
/// (`slots` of them) that are not idle (`channel::Inputs`); when every running upstream
/// is idle, the operator says so downstream, and `Active` again before what it releases.
/// Calls `close` only when the input was drained (watermark +∞).
/// With checkpoints, barriers are aligned over the slots (`checkpoint::align`), the
/// operator's state is snapshotted at each, and it is restored before the first batch.
pub async fn run_operator(
    mut op: Box<dyn Operator>,
    mut rx: mpsc::Receiver<Envelope>,
    slots: usize,
    out: Outputs,
    metrics: Arc<NodeMetrics>,
    ckpt: Option<TaskCheckpoint>,
) -> Result<()> {
    op.start()?;
    if let Some(state) = ckpt.as_ref().and_then(TaskCheckpoint::restored) {
        op.restore(state)?;
    }
    let mut inputs = Inputs::new(slots);
    let mut marks = MarkInputs::new(slots);
    let mut align = Align::new(slots);
    // marks waiting for the watermark that empties what the operator held at the mark
    let mut held: std::collections::VecDeque<(u64, i64)> = Default::default();
    let mut results = Vec::new();
    loop {
        let env = match align.next_released() {
            Some(env) => env,
            None => match rx.recv().await {
                Some(env) => env,
                None => break,
            },
        };
        let Step::Process(Envelope { slot, msg }) = align.offer(env) else {
            if let Some((id, ms)) = align.take_aligned() {
                snapshot(op.as_mut(), ckpt.as_ref(), id, ms);
                out.barrier(id).await?;
            }
            continue;
        };
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
                send(&mut results, &metrics, &out).await?;
            }
            Msg::Watermark(w) => {
                if let Some(w) = inputs.watermark(slot, w) {
                    advance(op.as_mut(), w, &mut held, &metrics, &out).await?;
                }
            }
            Msg::Status(s) => {
                let moved = inputs.status(slot, s);
                let change = inputs.status_change();
                if change == Some(WatermarkStatus::Active) {
                    out.status(WatermarkStatus::Active).await?;
                }
                if let Some(w) = moved {
                    advance(op.as_mut(), w, &mut held, &metrics, &out).await?;
                }
                if change == Some(WatermarkStatus::Idle) {
                    out.status(WatermarkStatus::Idle).await?;
                }
            }
            Msg::Mark(id) => {
                if let Some(id) = marks.mark(slot, id) {
                    pass_mark(op.held_until(), &mut held, id, inputs.current(), &out).await?;
                }
            }
            // rows of an operator's output do not map to its input's records; barriers
            // are taken by the alignment above
            Msg::Origin(_) | Msg::Barrier(_) => {}
            Msg::End => {
                if let Some(w) = inputs.end(slot) {
                    advance(op.as_mut(), w, &mut held, &metrics, &out).await?;
                }
                // the slots still running may all be idle now
                if let Some(s) = inputs.status_change() {
                    out.status(s).await?;
                }
                if let Some(id) = marks.end(slot) {
                    pass_mark(op.held_until(), &mut held, id, inputs.current(), &out).await?;
                }
                // an ended slot may complete an alignment
                if let Some((id, ms)) = align.take_aligned() {
                    snapshot(op.as_mut(), ckpt.as_ref(), id, ms);
                    out.barrier(id).await?;
                }
                if inputs.all_ended() {
                    break;
                }
            }
        }
    }
    let drained = inputs.drained();
    if drained {
        op.close(&mut results)?;
        send(&mut results, &metrics, &out).await?;
        // everything held was emitted
        release_marks(&mut held, i64::MAX, &out).await?;
    }
    if let Some(c) = &ckpt {
        // drained: nothing is held any more; stopped: what is held goes with the run
        let state = drained.then(|| TaskState::meta(serde_json::json!({ "finished": true })));
        c.coord.finished(&c.name, state);
    }
    out.end().await
}

/// Sends an operator's results downstream, counting them.
async fn send(results: &mut Vec<RecordBatch>, metrics: &NodeMetrics, out: &Outputs) -> Result<()> {
    for b in std::mem::take(results) {
        if b.num_rows() > 0 {
            metrics.records_out.fetch_add(b.num_rows() as u64, Relaxed);
            metrics.record_latency(&b);
            out.batch(&b).await?;
        }
    }
    Ok(())
}

/// Moves the operator's watermark to `w`: what it closes goes downstream, then the
/// watermark, then the commit marks it releases.
async fn advance(
    op: &mut dyn Operator,
    w: i64,
    held: &mut std::collections::VecDeque<(u64, i64)>,
    metrics: &NodeMetrics,
    out: &Outputs,
) -> Result<()> {
    let mut results = Vec::new();
    op.on_watermark(w, &mut results)?;
    send(&mut results, metrics, out).await?;
    metrics.set_watermark(w);
    out.watermark(w).await?;
    release_marks(held, w, out).await
}

/// Snapshots the operator for checkpoint `id` (aligned after `ms`) and acknowledges it;
/// a snapshot that fails aborts the checkpoint, not the run.
fn snapshot(op: &mut dyn Operator, ckpt: Option<&TaskCheckpoint>, id: u64, ms: u64) {
    let Some(c) = ckpt else { return };
    match op.snapshot() {
        Ok(state) => c.coord.ack(id, &c.name, state, ms),
        Err(e) => c.coord.decline(id, &c.name, e.to_string()),
    }
}

/// Passes mark `id` on now if the operator holds nothing (`held_until`, see
/// [`Operator::held_until`]) the watermark `now` has not emitted, else queues it until the watermark that empties what it holds.
async fn pass_mark(
    held_until: Option<i64>,
    held: &mut std::collections::VecDeque<(u64, i64)>,
    id: u64,
    now: i64,
    out: &Outputs,
) -> Result<()> {
    match held_until {
        Some(until) if until > now => {
            held.push_back((id, until));
            Ok(())
        }
        _ if held.is_empty() => out.mark(id).await,
        // an earlier mark still waits: this one comes after it
        _ => {
            held.push_back((id, now));
            Ok(())
        }
    }
}

/// Passes on the queued marks the watermark `w` released (the latest of them).
async fn release_marks(
    held: &mut std::collections::VecDeque<(u64, i64)>,
    w: i64,
    out: &Outputs,
) -> Result<()> {
    let mut last = None;
    while let Some(&(id, until)) = held.front() {
        if until > w {
            break;
        }
        last = Some(id);
        held.pop_front();
    }
    match last {
        Some(id) => out.mark(id).await,
        None => Ok(()),
    }
}
