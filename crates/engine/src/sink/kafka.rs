//! KafkaSink: rows as JSON (or CSV) records, keyed by the node's `key` fields joined by `,`.

use std::time::Duration;

use arrow::record_batch::RecordBatch;
use futures::future::BoxFuture;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use weir_model::model::{Format, KafkaSink as Node};

use super::Sink;
use crate::error::{EngineError, Result};
use crate::resolve::DataSource;
use crate::rows::{batch_to_json, plain_text};

/// Produces rows to a topic.
pub struct KafkaSink {
    node: Node,
    producer: FutureProducer,
}

impl KafkaSink {
    /// A producer for `ds` with the node's extra client properties.
    pub fn connect(node: &Node, ds: &DataSource) -> Result<Self> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &ds.address)
            .set("linger.ms", "5");
        for (k, v) in ds.options.iter().chain(&node.properties) {
            config.set(k, v);
        }
        let producer: FutureProducer = config.create()?;
        Ok(KafkaSink {
            node: node.clone(),
            producer,
        })
    }
}

fn is_queue_full(e: &rdkafka::error::KafkaError) -> bool {
    matches!(
        e,
        rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull)
    )
}

fn check(
    node: &Node,
    r: std::result::Result<
        rdkafka::producer::future_producer::OwnedDeliveryResult,
        futures::channel::oneshot::Canceled,
    >,
) -> Result<()> {
    match r {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(EngineError::Other(format!(
            "{}: producing to topic {}: {e}",
            node.id, node.topic
        ))),
        Err(_) => Err(EngineError::Other(format!(
            "{}: the producer went away",
            node.id
        ))),
    }
}

impl Sink for KafkaSink {
    fn write<'a>(&'a mut self, batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut pending = Vec::with_capacity(batch.num_rows());
            for row in batch_to_json(batch) {
                let key = self.node.key.as_ref().map(|k| {
                    k.iter()
                        .map(|f| row.get(f).map(plain_text).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(",")
                });
                let payload = match self.node.format {
                    Format::Json => serde_json::Value::Object(row).to_string(),
                    Format::Csv => row.values().map(plain_text).collect::<Vec<_>>().join(","),
                };
                loop {
                    let mut record =
                        FutureRecord::<String, String>::to(&self.node.topic).payload(&payload);
                    if let Some(k) = &key {
                        record = record.key(k);
                    }
                    match self.producer.send_result(record) {
                        Ok(fut) => {
                            pending.push(fut);
                            break;
                        }
                        Err((e, _)) if is_queue_full(&e) => {
                            // the local queue is full: wait for what is in flight, then retry
                            for f in pending.drain(..) {
                                check(&self.node, f.await)?;
                            }
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err((e, _)) => return Err(e.into()),
                    }
                }
            }
            for f in pending {
                check(&self.node, f.await)?;
            }
            Ok(())
        })
    }
    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let p = self.producer.clone();
            tokio::task::spawn_blocking(move || p.flush(Duration::from_secs(30)))
                .await
                .map_err(|e| EngineError::Other(format!("flush task: {e}")))??;
            Ok(())
        })
    }
}
