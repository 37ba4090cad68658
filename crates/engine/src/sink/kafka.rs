//! KafkaSink: rows as JSON (or CSV) records, keyed by the node's `key` fields joined by `,`.
//! Without checkpoints (and for `write`/`flush`) an ordinary producer; under checkpoints
//! each checkpoint's rows go out in one Kafka transaction (`kafka/transaction.rs`).

mod transaction;

pub use transaction::{marker_group, transactional_id};

use std::time::Duration;

use arrow::record_batch::RecordBatch;
use futures::future::BoxFuture;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use weir_model::model::{Connection, Format, KafkaSink as Node};

use super::Sink;
use crate::error::{EngineError, Result};
use crate::kafka_client::{client_config, set_default};
use crate::rows::{batch_to_json, plain_text};

/// Produces rows to a topic.
pub struct KafkaSink {
    node: Node,
    /// The data source's address, for messages.
    address: String,
    producer: FutureProducer,
    /// The data source's client settings (the commit marker's consumer).
    client: ClientConfig,
    /// The producer settings (the transactional producer adds its `transactional.id`).
    producer_config: ClientConfig,
    /// The transactional producer and commit marker, made at the first commit or restore.
    txn: Option<transaction::Transactional>,
}

/// The producer configuration of a sink: the data source's client settings
/// ([`client_config`], credentials included), `linger.ms` 5 unless the data source sets
/// it, then the node's own properties.
pub fn producer_config(node: &Node, ds: &Connection) -> Result<ClientConfig> {
    let mut config = client_config(&node.datasource, ds)?;
    set_default(&mut config, "linger.ms", "5");
    for (k, v) in &node.properties {
        config.set(k, v);
    }
    Ok(config)
}

impl KafkaSink {
    /// A producer for `ds` with the node's extra client properties.
    pub fn connect(node: &Node, ds: &Connection) -> Result<Self> {
        let config = producer_config(node, ds)?;
        let producer: FutureProducer = config.create().map_err(|e| failed(node, &ds.address, e))?;
        Ok(KafkaSink {
            node: node.clone(),
            address: ds.address.clone(),
            producer,
            client: client_config(&node.datasource, ds)?,
            producer_config: config,
            txn: None,
        })
    }

    /// The key and payload of one row, as the node encodes them.
    fn record_of(
        &self,
        row: serde_json::Map<String, serde_json::Value>,
    ) -> (Option<String>, String) {
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
        (key, payload)
    }

    /// Sends every row of `batch` through `producer` and waits for every delivery report.
    async fn produce(&self, producer: &FutureProducer, batch: &RecordBatch) -> Result<()> {
        let mut pending = Vec::with_capacity(batch.num_rows());
        for row in batch_to_json(batch) {
            let (key, payload) = self.record_of(row);
            loop {
                let mut record =
                    FutureRecord::<String, String>::to(&self.node.topic).payload(&payload);
                if let Some(k) = &key {
                    record = record.key(k);
                }
                match producer.send_result(record) {
                    Ok(fut) => {
                        pending.push(fut);
                        break;
                    }
                    Err((e, _)) if is_queue_full(&e) => {
                        // the local queue is full: wait for what is in flight, then retry
                        for f in pending.drain(..) {
                            check(&self.node, &self.address, f.await)?;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((e, _)) => return Err(failed(&self.node, &self.address, e)),
                }
            }
        }
        for f in pending {
            check(&self.node, &self.address, f.await)?;
        }
        Ok(())
    }
}

/// A producer error of `node`, naming the sink, its topic, data source and address, with
/// its fault kept (a cluster that does not answer is external).
fn failed(node: &Node, address: &str, e: rdkafka::error::KafkaError) -> EngineError {
    EngineError::at(
        format!(
            "Kafka data source `{}` (sink `{}`, topic {})",
            node.datasource, node.id, node.topic
        ),
        address,
        e,
    )
}

fn is_queue_full(e: &rdkafka::error::KafkaError) -> bool {
    matches!(
        e,
        rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull)
    )
}

fn check(
    node: &Node,
    address: &str,
    r: std::result::Result<
        rdkafka::producer::future_producer::OwnedDeliveryResult,
        futures::channel::oneshot::Canceled,
    >,
) -> Result<()> {
    match r {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(failed(node, address, e)),
        Err(_) => Err(EngineError::Internal(format!(
            "{}: the producer went away before a delivery report",
            node.id
        ))),
    }
}

impl Sink for KafkaSink {
    fn write<'a>(&'a mut self, batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { self.produce(&self.producer, batch).await })
    }
    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let p = self.producer.clone();
            tokio::task::spawn_blocking(move || p.flush(Duration::from_secs(30)))
                .await
                .map_err(|e| EngineError::Internal(format!("{}: flush task: {e}", self.node.id)))?
                .map_err(|e| failed(&self.node, &self.address, e))?;
            Ok(())
        })
    }

    fn commit_epoch<'a>(
        &'a mut self,
        key: &'a str,
        epoch: u64,
        batches: Vec<RecordBatch>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.commit_transaction(key, epoch, batches))
    }

    fn committed_epoch<'a>(&'a mut self, key: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(self.committed(key))
    }
}
