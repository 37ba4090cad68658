//! Sinks: the tasks at the end of a pipeline. A sink buffers rows and writes them when
//! its batch size or flush interval is reached, and always on close. One file per kind.

pub mod capture;
pub mod jdbc;
pub mod kafka;
pub mod lines;
pub mod print;
pub mod redis;
mod write_ahead;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::channel::{Envelope, Inputs, Msg};
use crate::checkpoint::align::{Align, Step};
use crate::checkpoint::{Done, TaskCheckpoint, TaskState};
use crate::error::Result;
use crate::metrics::NodeMetrics;
use crate::pipeline::marks::{MarkInputs, SinkMarks};
use write_ahead::WriteAhead;

/// What a sink promises across a crash and a restore from the last checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Rows written since the last checkpoint are written again (print, files).
    AtLeastOnce,
    /// Rows are written at once and written again after a restore, to the same effect:
    /// an upsert by key, SET, HSET, SADD, ZADD. The sink ends as an uninterrupted run's.
    Idempotent,
    /// The rows of each checkpoint are held (and saved in it) until it completes, then
    /// written with the checkpoint's id in one transaction; a restore skips what was
    /// written (`Sink::committed_epoch`). Exactly once; rows appear at each checkpoint.
    Transactional,
}

impl Delivery {
    /// The guarantee in words (`weir validate --explain`, the docs).
    pub fn describe(self) -> &'static str {
        match self {
            Delivery::AtLeastOnce => {
                "at least once (rows since the last checkpoint are written again after a restore)"
            }
            Delivery::Idempotent => {
                "exactly once in effect (idempotent writes: a restore writes the same rows to the same keys)"
            }
            Delivery::Transactional => {
                "exactly once (each checkpoint's rows are written with its id in one transaction, when it completes)"
            }
        }
    }
}

/// What sink `node` promises under checkpoints (from the job alone).
pub fn delivery_of(node: &weir_model::model::Node) -> Delivery {
    use weir_model::model::{JdbcOperation, Node as N, RedisCommand as R};
    match node {
        N::JdbcSink(j) => match j.operation {
            JdbcOperation::Upsert { .. } => Delivery::Idempotent,
            JdbcOperation::Insert => Delivery::Transactional,
        },
        N::KafkaSink(_) => Delivery::Transactional,
        N::RedisSink(r) => match r.command {
            R::Set | R::Hset | R::Sadd | R::Zadd => Delivery::Idempotent,
            R::Incr | R::IncrByFloat | R::Rpush | R::Lpush => Delivery::Transactional,
        },
        _ => Delivery::AtLeastOnce,
    }
}

/// A destination of rows.
pub trait Sink: Send {
    /// Takes a batch; may write it now or buffer it.
    fn write<'a>(&'a mut self, batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>>;
    /// Writes everything buffered.
    fn flush(&mut self) -> BoxFuture<'_, Result<()>>;
    /// How often to flush even when the batch is not full (None: only by size and close).
    fn flush_interval(&self) -> Option<Duration> {
        None
    }
    /// Where the rows of the next `write` came from, (partition, offset) per row, when the
    /// sink reads a source directly; a sink that dead-letters rows names them with it.
    fn set_origin(&mut self, _origin: Option<Arc<Vec<(i32, i64)>>>) {}
    /// Transactional sinks ([`Delivery::Transactional`]): writes `batches` and records
    /// `epoch` as the last one committed under `key`, in one transaction.
    fn commit_epoch<'a>(
        &'a mut self,
        key: &'a str,
        epoch: u64,
        batches: Vec<RecordBatch>,
    ) -> BoxFuture<'a, Result<()>> {
        let _ = (key, epoch, batches);
        Box::pin(async {
            Err(crate::EngineError::Internal(
                "this sink cannot commit transactionally".into(),
            ))
        })
    }
    /// The last epoch committed under `key` (0: none).
    fn committed_epoch<'a>(&'a mut self, key: &'a str) -> BoxFuture<'a, Result<u64>> {
        let _ = key;
        Box::pin(async { Ok(0) })
    }
}

/// An origin per upstream slot: it describes the next batch from that slot only.
type Origins = Vec<Option<Arc<Vec<(i32, i64)>>>>;

/// A sink task's part in the checkpoints: the coordinator, and how it delivers.
pub struct SinkCheckpoint {
    pub task: TaskCheckpoint,
    pub delivery: Delivery,
}

/// Drives a sink until every upstream slot has ended; flushes on the interval and at end.
/// With commit marks, a mark that every slot passed is reported once the sink flushed.
/// With checkpoints, barriers are aligned over the slots; at each one an at-least-once or
/// idempotent sink flushes, and a transactional one seals the rows of the epoch
/// (`write_ahead.rs`) and writes them when the checkpoint completes.
pub async fn run_sink(
    mut sink: Box<dyn Sink>,
    mut rx: mpsc::Receiver<Envelope>,
    slots: usize,
    metrics: Arc<NodeMetrics>,
    marks: Option<SinkMarks>,
    ckpt: Option<SinkCheckpoint>,
) -> Result<()> {
    let mut inputs = Inputs::new(slots);
    let mut mark_inputs = MarkInputs::new(slots);
    let mut align = Align::new(slots);
    let mut origins: Origins = vec![None; slots];
    let mut wal = match &ckpt {
        Some(c) if c.delivery == Delivery::Transactional => {
            let mut w = WriteAhead::new(&c.task);
            w.restore(sink.as_mut(), &c.task).await?;
            Some(w)
        }
        _ => None,
    };
    let mut done = ckpt.as_ref().map(|c| c.task.coord.subscribe());
    let mut last_acked = 0u64;
    let interval = sink.flush_interval().filter(|_| wal.is_none());
    let mut tick = tokio::time::interval(interval.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        let env = match align.next_released() {
            Some(env) => Some(env),
            None => tokio::select! {
                env = rx.recv() => match env {
                    Some(env) => Some(env),
                    None => break,
                },
                _ = tick.tick(), if interval.is_some() => {
                    sink.flush().await?;
                    None
                }
                changed = changed(&mut done) => {
                    if let (Some(completed), Some(w)) = (changed, wal.as_mut()) {
                        w.commit(sink.as_mut(), completed, completed, &metrics).await?;
                    }
                    None
                }
            },
        };
        let Some(env) = env else { continue };
        let Step::Process(Envelope { slot, msg }) = align.offer(env) else {
            if let Some((id, ms)) = align.take_aligned() {
                pre_commit(sink.as_mut(), ckpt.as_ref(), wal.as_mut(), id, ms).await?;
                last_acked = id;
            }
            continue;
        };
        match msg {
            Msg::Batch(_, batch) => {
                metrics
                    .records_in
                    .fetch_add(batch.num_rows() as u64, Relaxed);
                metrics
                    .bytes_in
                    .fetch_add(batch.get_array_memory_size() as u64, Relaxed);
                let origin = origins.get_mut(slot).and_then(Option::take);
                match wal.as_mut() {
                    Some(w) => w.hold(batch),
                    None => {
                        sink.set_origin(origin.filter(|o| o.len() == batch.num_rows()));
                        sink.write(&batch).await?;
                        metrics
                            .records_out
                            .fetch_add(batch.num_rows() as u64, Relaxed);
                        metrics.record_latency(&batch);
                    }
                }
            }
            Msg::Watermark(w) => {
                if let Some(w) = inputs.watermark(slot, w) {
                    metrics.set_watermark(w);
                }
            }
            // a sink has no downstream to tell it is idle: an idle slot only stops
            // holding its watermark back
            Msg::Status(s) => {
                if let Some(w) = inputs.status(slot, s) {
                    metrics.set_watermark(w);
                }
            }
            Msg::Origin(o) => {
                if let Some(slot) = origins.get_mut(slot) {
                    *slot = Some(o);
                }
            }
            Msg::Barrier(_) => {}
            Msg::Mark(id) => {
                if let (Some(marks), Some(id)) = (&marks, mark_inputs.mark(slot, id)) {
                    sink.flush().await?;
                    marks.flushed(id);
                }
            }
            Msg::End => {
                inputs.end(slot);
                let id = mark_inputs.end(slot);
                if let Some((id, ms)) = align.take_aligned() {
                    pre_commit(sink.as_mut(), ckpt.as_ref(), wal.as_mut(), id, ms).await?;
                    last_acked = id;
                }
                if inputs.all_ended() {
                    break;
                }
                if let (Some(marks), Some(id)) = (&marks, id) {
                    sink.flush().await?;
                    marks.flushed(id);
                }
            }
        }
    }
    sink.flush().await?;
    if let (Some(marks), Some(id)) = (&marks, mark_inputs.current()) {
        marks.flushed(id);
    }
    if let (Some(c), Some(done)) = (&ckpt, done.as_mut()) {
        let drained = inputs.drained();
        match wal.as_mut() {
            Some(w) if drained => {
                // the rows after the last barrier go into the final checkpoint
                w.seal(u64::MAX);
                c.task.coord.finished(&c.task.name, Some(w.state()?));
                if let Some(id) = crate::checkpoint::wait_final(done).await {
                    w.commit(sink.as_mut(), u64::MAX, id, &metrics).await?;
                } else {
                    tracing::warn!(
                        "{}: the run ended without a final checkpoint; its last rows are written by the next run from the last checkpoint",
                        c.task.name
                    );
                }
            }
            Some(w) => {
                // stopped: what came after the last barrier is read again from the
                // checkpoint; the checkpoint this sink took part in may still complete
                c.task.coord.finished(&c.task.name, None);
                if last_acked > 0 {
                    let completed = crate::checkpoint::wait_settled(done, last_acked).await;
                    w.commit(sink.as_mut(), completed, completed, &metrics)
                        .await?;
                }
            }
            None => {
                let state = drained.then(TaskState::default);
                c.task.coord.finished(&c.task.name, state);
            }
        }
    }
    Ok(())
}

/// The next checkpoint completion, or never (no checkpoints, or the coordinator is gone).
async fn changed(done: &mut Option<tokio::sync::watch::Receiver<Done>>) -> Option<u64> {
    match done {
        Some(rx) => match rx.changed().await {
            Ok(()) => Some(rx.borrow_and_update().completed),
            Err(_) => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// At an aligned barrier: a transactional sink seals the epoch's rows into its state;
/// the others flush. Then the sink acknowledges.
async fn pre_commit(
    sink: &mut dyn Sink,
    ckpt: Option<&SinkCheckpoint>,
    wal: Option<&mut WriteAhead>,
    id: u64,
    ms: u64,
) -> Result<()> {
    let Some(c) = ckpt else { return Ok(()) };
    let state = match wal {
        Some(w) => {
            w.seal(id);
            w.state()
        }
        None => sink.flush().await.map(|()| TaskState::default()),
    };
    match state {
        Ok(state) => c.task.coord.ack(id, &c.task.name, state, ms),
        Err(e) => {
            c.task.coord.decline(id, &c.task.name, e.to_string());
            return Err(e);
        }
    }
    Ok(())
}

/// Opens the sink of `node`, whose input has `schema`.
pub async fn open(
    node: &weir_model::model::Node,
    resolver: &crate::resolve::Resolver,
    schema: &arrow::datatypes::Schema,
    deadletter: Arc<crate::deadletter::DeadLetter>,
    metrics: Arc<NodeMetrics>,
) -> Result<Box<dyn Sink>> {
    use weir_model::model::Node as N;
    Ok(match node {
        N::PrintSink(p) => Box::new(print::PrintSink::open(p.path.as_deref())?),
        N::JdbcSink(j) => {
            let ds = resolver.get(&j.id, &j.datasource)?;
            Box::new(
                jdbc::JdbcSink::connect(j, &j.datasource, ds, schema, deadletter, metrics).await?,
            )
        }
        N::RedisSink(r) => {
            let ds = resolver.get(&r.id, &r.datasource)?;
            Box::new(redis::RedisSink::connect(r, &r.datasource, ds).await?)
        }
        N::KafkaSink(k) => {
            let ds = resolver.get(&k.id, &k.datasource)?;
            Box::new(kafka::KafkaSink::connect(k, ds)?)
        }
        // `weir validate` reports these before a run: keep `check::check_operators` in step.
        other => {
            return Err(crate::EngineError::unsupported(
                format!("{} operator `{}`", other.kind(), other.id()),
                Some("the engine writes to JdbcSink, KafkaSink, RedisSink and PrintSink so far"),
            ));
        }
    })
}
