//! Sinks: the tasks at the end of a pipeline. A sink buffers rows and writes them when
//! its batch size or flush interval is reached, and always on close. One file per kind.

pub mod capture;
pub mod jdbc;
pub mod kafka;
pub mod lines;
pub mod print;
pub mod redis;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::channel::{Envelope, Inputs, Msg};
use crate::error::Result;
use crate::metrics::NodeMetrics;
use crate::pipeline::marks::{MarkInputs, SinkMarks};

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
}

/// An origin per upstream slot: it describes the next batch from that slot only.
type Origins = Vec<Option<Arc<Vec<(i32, i64)>>>>;

/// Drives a sink until every upstream slot has ended; flushes on the interval and at end.
/// With commit marks, a mark that every slot passed is reported once the sink flushed.
pub async fn run_sink(
    mut sink: Box<dyn Sink>,
    mut rx: mpsc::Receiver<Envelope>,
    slots: usize,
    metrics: Arc<NodeMetrics>,
    marks: Option<SinkMarks>,
) -> Result<()> {
    let mut inputs = Inputs::new(slots);
    let mut mark_inputs = MarkInputs::new(slots);
    let mut origins: Origins = vec![None; slots];
    let interval = sink.flush_interval();
    let mut tick = tokio::time::interval(interval.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            env = rx.recv() => {
                let Some(Envelope { slot, msg }) = env else { break };
                match msg {
                    Msg::Batch(_, batch) => {
                        metrics.records_in.fetch_add(batch.num_rows() as u64, Relaxed);
                        metrics.bytes_in.fetch_add(batch.get_array_memory_size() as u64, Relaxed);
                        let origin = origins.get_mut(slot).and_then(Option::take);
                        sink.set_origin(origin.filter(|o| o.len() == batch.num_rows()));
                        sink.write(&batch).await?;
                        metrics.records_out.fetch_add(batch.num_rows() as u64, Relaxed);
                        metrics.record_latency(&batch);
                    }
                    Msg::Watermark(w) => {
                        if let Some(w) = inputs.watermark(slot, w) {
                            metrics.set_watermark(w);
                        }
                    }
                    Msg::Origin(o) => {
                        if let Some(slot) = origins.get_mut(slot) {
                            *slot = Some(o);
                        }
                    }
                    Msg::Mark(id) => {
                        if let (Some(marks), Some(id)) = (&marks, mark_inputs.mark(slot, id)) {
                            sink.flush().await?;
                            marks.flushed(id);
                        }
                    }
                    Msg::End => {
                        inputs.end(slot);
                        let id = mark_inputs.end(slot);
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
            _ = tick.tick(), if interval.is_some() => sink.flush().await?,
        }
    }
    sink.flush().await?;
    if let (Some(marks), Some(id)) = (&marks, mark_inputs.current()) {
        marks.flushed(id);
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
