//! Kafka from a test: produce records to chosen partitions, read a topic back.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

/// Produces each (partition, payload) to `topic`, in order per partition.
pub fn produce(bootstrap: &str, topic: &str, records: &[(i32, String)]) {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let p: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    for (partition, payload) in records {
        loop {
            match p.send(
                BaseRecord::<(), String>::to(topic)
                    .payload(payload)
                    .partition(*partition),
            ) {
                Ok(()) => break,
                Err((e, _)) => {
                    assert!(
                        matches!(
                            e.rdkafka_error_code(),
                            Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
                        ),
                        "producing to {topic}: {e}"
                    );
                    p.poll(Duration::from_millis(10));
                }
            }
        }
    }
    p.flush(Duration::from_secs(10)).unwrap();
}

/// Every record of `topic` (partitions `0..partitions`) from the beginning, until `want`
/// arrived (or 20 s).
pub fn read_topic(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    want: usize,
) -> Vec<Map<String, Value>> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{Message, Offset, TopicPartitionList};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "weir-test-reader")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut rows = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while rows.len() < want && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let v: Value = serde_json::from_slice(m.payload().unwrap_or(b"null")).unwrap();
            rows.push(v.as_object().cloned().unwrap());
        }
    }
    // nothing beyond what was expected arrives in a further moment
    let settle = Instant::now() + Duration::from_millis(300);
    while Instant::now() < settle {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(50)) {
            let v: Value = serde_json::from_slice(m.payload().unwrap_or(b"null")).unwrap();
            rows.push(v.as_object().cloned().unwrap());
        }
    }
    rows
}
