//! Starting the tasks of a planned, wired job: one task per sink and per transform, and
//! one blocking thread per source task (test-data replay or a Kafka consumer).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use arrow::datatypes::SchemaRef;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use weir_model::model::{Format, Job, KafkaSource, Node, Role, TimeCharacteristic};

use super::RunOptions;
use super::plan::{Plan, Wiring};
use crate::channel::{Envelope, Inputs, Msg, Outputs};
use crate::deadletter::DeadLetter;
use crate::decode::RecordDecoder;
use crate::error::{EngineError, Result};
use crate::metrics::{Metrics, NodeMetrics};
use crate::operator::Operator;
use crate::resolve::Resolver;
use crate::sink::capture::CaptureSink;
use crate::sink::{Sink, run_sink};
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
        let sink: Box<dyn Sink> = match &opts.capture {
            Some(tx) => Box::new(CaptureSink {
                sink: id.clone(),
                tx: tx.clone(),
            }),
            None if opts.discard_sinks => Box::new(crate::sink::capture::DiscardSink),
            None => {
                let schema = job
                    .inputs(id)
                    .next()
                    .and_then(|u| plan.nodes.get(u))
                    .and_then(|p| p.schema.clone())
                    .ok_or_else(|| EngineError::Plan(format!("{id}: the sink has no input")))?;
                let dl = Arc::new(DeadLetter::for_node(&opts.project, &job.name, id));
                crate::sink::open(node, resolver, &schema, dl, m.clone()).await?
            }
        };
        spawn.tasks.spawn(run_sink(sink, rx, slots, m));
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
        spawn.tasks.spawn(run_operator(op, rx, slots, out, m));
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
        let deadletter = Arc::new(DeadLetter::for_node(&opts.project, &job.name, id));
        let metrics = spawn.metrics.node(id, node.kind());
        let outs = wiring.outputs.remove(id).unwrap_or_default();
        let tasks = outs.len();
        for (index, out) in outs.into_iter().enumerate() {
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
            let decoder = RecordDecoder::new(task.schema, format, ts_index);
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
            crate::source::file::replay(&lines, &mut e, &replay, src.watermark_ms, stop)
        }
        SourceInput::Kafka(datasource) => {
            let format = src.format.unwrap_or_default();
            let decoder = RecordDecoder::new(task.schema, format, ts_index);
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
            let group = crate::source::kafka::group_of(&src, &job, &opts.group_suffix);
            let kafka = crate::source::kafka::KafkaTask {
                node: src,
                job,
                datasource,
                start: opts.start,
                group,
                managed: opts.offsets.clone(),
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
                    metrics.record_latency(&b);
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
