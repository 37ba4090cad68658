//! Sinks: the tasks at the end of a pipeline. A sink buffers rows and writes them when
//! its batch size or flush interval is reached, and always on close. One file per kind.

pub mod capture;
pub mod jdbc;
pub mod kafka;
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
}

/// Drives a sink until every upstream slot has ended; flushes on the interval and at end.
pub async fn run_sink(
    mut sink: Box<dyn Sink>,
    mut rx: mpsc::Receiver<Envelope>,
    slots: usize,
    metrics: Arc<NodeMetrics>,
) -> Result<()> {
    let mut inputs = Inputs::new(slots);
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
                        sink.write(&batch).await?;
                        metrics.records_out.fetch_add(batch.num_rows() as u64, Relaxed);
                        metrics.record_latency(&batch);
                    }
                    Msg::Watermark(w) => {
                        if let Some(w) = inputs.watermark(slot, w) {
                            metrics.set_watermark(w);
                        }
                    }
                    Msg::End => {
                        inputs.end(slot);
                        if inputs.all_ended() {
                            break;
                        }
                    }
                }
            }
            _ = tick.tick(), if interval.is_some() => sink.flush().await?,
        }
    }
    sink.flush().await
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
        other => {
            return Err(crate::EngineError::unsupported(
                format!("{} operator `{}`", other.kind(), other.id()),
                Some("the engine writes to JdbcSink, KafkaSink, RedisSink and PrintSink so far"),
            ));
        }
    })
}
