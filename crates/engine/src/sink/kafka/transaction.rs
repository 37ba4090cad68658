//! KafkaSink's transactional commits ([`crate::sink::Delivery::Transactional`]): one
//! Kafka transaction per checkpoint, with the checkpoint's id as the commit marker.
//!
//! The producer's `transactional.id` is `weir-<h>`, where `<h>` is the first 32 hex digits
//! of sha256(`<lineage>/<node>`), so a restarted run of the same lineage takes over the
//! same id: its `init_transactions` aborts whatever transaction a crashed predecessor left
//! open (and fences that producer). Each commit is: begin the transaction, produce the
//! checkpoint's rows, add the marker — offset `<checkpoint>` of (sink topic, partition 0)
//! for consumer group `weir-commits-<h>` (`send_offsets_to_transaction`) — and commit.
//! A restore reads the marker back as that group's committed offset.
//!
//! After the transaction commits, the marker is committed once more with a plain offset
//! commit of the same value: on a real cluster the transaction already stored it, but
//! librdkafka's mock cluster (the embedded broker) accepts TxnOffsetCommit without storing
//! anything. The mock also shows aborted rows to every reader (no read_committed), so on
//! it the transactional protocol is exercised, not its isolation.

use std::sync::Arc;
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerGroupMetadata};
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::{Offset, TopicPartitionList};
use sha2::{Digest, Sha256};

use super::{KafkaSink, failed};
use crate::error::{EngineError, Result};

/// How long one blocking transaction call may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// `weir-` and `weir-commits-` + this: the first 32 hex digits of sha256(`key`).
fn key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `transactional.id` of the sink committing under `key`.
pub fn transactional_id(key: &str) -> String {
    format!("weir-{}", key_hash(key))
}

/// The consumer group whose offset of (sink topic, 0) is the last committed checkpoint.
pub fn marker_group(key: &str) -> String {
    format!("weir-commits-{}", key_hash(key))
}

/// The transactional producer and the commit marker of one key.
pub(super) struct Transactional {
    key: String,
    producer: FutureProducer,
    marker: Arc<BaseConsumer>,
    group: Arc<ConsumerGroupMetadata>,
}

/// Runs a blocking librdkafka call off the runtime's threads.
async fn blocking<T, F>(sink: &KafkaSink, f: F) -> Result<T>
where
    F: FnOnce() -> rdkafka::error::KafkaResult<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::Internal(format!("{}: transaction task: {e}", sink.node.id)))?
        .map_err(|e| failed(&sink.node, &sink.address, e))
}

impl KafkaSink {
    /// The marker of (topic, partition 0) at `offset`.
    fn marker_list(&self, offset: Offset) -> Result<TopicPartitionList> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.node.topic, 0, offset)
            .map_err(|e| failed(&self.node, &self.address, e))?;
        Ok(tpl)
    }

    /// The transactional producer of `key`, made (and its transactions initialised, which
    /// aborts a predecessor's open one) the first time.
    async fn transactional(&mut self, key: &str) -> Result<&Transactional> {
        if self.txn.as_ref().is_some_and(|t| t.key != key) {
            self.txn = None;
        }
        if self.txn.is_none() {
            let mut config = self.producer_config.clone();
            config.set("transactional.id", transactional_id(key));
            let producer: FutureProducer = config
                .create()
                .map_err(|e| failed(&self.node, &self.address, e))?;
            let p = producer.clone();
            blocking(self, move || p.init_transactions(TIMEOUT)).await?;
            let mut config = self.client.clone();
            config
                .set("group.id", marker_group(key))
                .set("enable.auto.commit", "false")
                .set("enable.auto.offset.store", "false");
            let marker: BaseConsumer = config
                .create()
                .map_err(|e| failed(&self.node, &self.address, e))?;
            let group = marker.group_metadata().ok_or_else(|| {
                EngineError::Internal(format!(
                    "{}: the commit marker's consumer has no group metadata",
                    self.node.id
                ))
            })?;
            self.txn = Some(Transactional {
                key: key.to_string(),
                producer,
                marker: Arc::new(marker),
                group: Arc::new(group),
            });
        }
        self.txn.as_ref().ok_or_else(|| {
            EngineError::Internal(format!("{}: no transactional producer", self.node.id))
        })
    }

    /// [`crate::sink::Sink::commit_epoch`]: one transaction with the rows and the marker.
    pub(super) async fn commit_transaction(
        &mut self,
        key: &str,
        epoch: u64,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        let offset = i64::try_from(epoch).map_err(|_| {
            EngineError::Internal(format!(
                "{}: checkpoint id {epoch} does not fit a Kafka offset",
                self.node.id
            ))
        })?;
        let marker = self.marker_list(Offset::Offset(offset))?;
        let (producer, consumer, group) = {
            let t = self.transactional(key).await?;
            (t.producer.clone(), t.marker.clone(), t.group.clone())
        };
        let result = self
            .in_transaction(&producer, &group, &marker, &batches)
            .await;
        if let Err(e) = result {
            // leave nothing open: the next commit (or the next run) starts clean
            let p = producer.clone();
            if let Err(abort) = blocking(self, move || p.abort_transaction(TIMEOUT)).await {
                tracing::warn!(
                    "{}: aborting the transaction of checkpoint {epoch}: {abort}",
                    self.node.id
                );
            }
            self.txn = None;
            return Err(e);
        }
        let mirrored = marker.clone();
        if let Err(e) = blocking(self, move || consumer.commit(&mirrored, CommitMode::Sync)).await {
            tracing::warn!(
                "{}: checkpoint {epoch} is committed; recording its marker outside the transaction failed (only the embedded broker needs it): {e}",
                self.node.id
            );
        }
        Ok(())
    }

    /// Begin, produce every row, add the marker, commit.
    async fn in_transaction(
        &self,
        producer: &FutureProducer,
        group: &Arc<ConsumerGroupMetadata>,
        marker: &TopicPartitionList,
        batches: &[RecordBatch],
    ) -> Result<()> {
        producer
            .begin_transaction()
            .map_err(|e| failed(&self.node, &self.address, e))?;
        for batch in batches {
            self.produce(producer, batch).await?;
        }
        let (p, g, m) = (producer.clone(), group.clone(), marker.clone());
        blocking(self, move || {
            p.send_offsets_to_transaction(&m, &g, TIMEOUT)?;
            p.commit_transaction(TIMEOUT)
        })
        .await
    }

    /// [`crate::sink::Sink::committed_epoch`]: after taking over the transactional id (which
    /// settles a predecessor's transaction), the marker group's committed offset.
    pub(super) async fn committed(&mut self, key: &str) -> Result<u64> {
        let consumer = self.transactional(key).await?.marker.clone();
        let tpl = self.marker_list(Offset::Invalid)?;
        let topic = self.node.topic.clone();
        let found = blocking(self, move || consumer.committed_offsets(tpl, TIMEOUT)).await?;
        let offset = found
            .find_partition(&topic, 0)
            .map(|e| e.offset())
            .unwrap_or(Offset::Invalid);
        Ok(match offset {
            Offset::Offset(n) => u64::try_from(n).unwrap_or(0),
            _ => 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_key() {
        let id = transactional_id("lineage/out");
        assert_eq!(id.len(), "weir-".len() + 32);
        assert_eq!(id, transactional_id("lineage/out"));
        assert_ne!(id, transactional_id("lineage/other"));
        assert_eq!(
            marker_group("lineage/out"),
            format!("weir-commits-{}", &id["weir-".len()..])
        );
    }
}
