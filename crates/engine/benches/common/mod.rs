//! What the engine's benchmarks share: an embedded broker loaded with JSON records.
#![allow(dead_code)]

use std::time::Duration;

use weir_engine::broker::Broker;
use weir_engine::resolve::{DataSource, Resolver};
use weir_model::model::DataSourceKind;

/// The JSON record `i`: key `key{i % keys}`, id, value, event time 1 ms apart.
pub fn record(i: usize, keys: usize) -> String {
    format!(
        r#"{{"k":"key{}","id":{i},"v":{}.5,"ts":{}}}"#,
        i % keys,
        i,
        1_772_359_200_000i64 + i as i64
    )
}

/// A broker whose topic `bench` holds `records` records over `partitions` partitions.
pub fn loaded_broker(records: usize, partitions: i32, keys: usize) -> Broker {
    let broker = Broker::start().expect("broker");
    broker.create_topic("bench", partitions).expect("topic");
    produce(&broker, 0..records, partitions, keys);
    broker
}

/// Produces records `range` into topic `bench`.
pub fn produce(broker: &Broker, range: std::ops::Range<usize>, partitions: i32, keys: usize) {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let p: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap_servers())
        .set("queue.buffering.max.messages", "2000000")
        .create()
        .expect("producer");
    for i in range {
        let payload = record(i, keys);
        let mut rec = BaseRecord::<(), String>::to("bench")
            .payload(&payload)
            .partition((i % partitions as usize) as i32);
        while let Err((_, back)) = p.send(rec) {
            // local queue full: let deliveries drain, then retry the same record
            p.poll(Duration::from_millis(5));
            rec = back;
        }
        if i % 10_000 == 0 {
            p.poll(Duration::ZERO);
        }
    }
    p.flush(Duration::from_secs(60)).expect("flush");
}

/// The records topic `bench` holds.
pub fn held(broker: &Broker, partitions: i32) -> i64 {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap_servers())
        .create()
        .expect("consumer");
    (0..partitions)
        .map(|part| {
            c.fetch_watermarks("bench", part, Duration::from_secs(5))
                .map(|w| w.1)
                .unwrap_or(-1)
        })
        .sum()
}

/// A resolver naming the broker as data source `k`.
pub fn resolver(broker: &Broker) -> Resolver {
    let mut resolver = Resolver::default();
    resolver.insert(
        "k",
        DataSource {
            kind: DataSourceKind::Kafka,
            address: broker.bootstrap_servers(),
            user: None,
            password: None,
            options: Default::default(),
        },
    );
    resolver
}

/// The source node of the benchmark jobs, reading topic `bench` from the start.
pub fn source_node(properties: &str) -> String {
    format!(
        r#"KafkaSource(id: "src", datasource: "k", topic: "bench", start: Earliest, event_time: Some("ts"), watermark_ms: 1000,
                properties: {{{properties}}},
                fields: Some([(name: "k", type: String), (name: "id", type: BigInt), (name: "v", type: Double), (name: "ts", type: Timestamp)]))"#
    )
}

/// CPU seconds (user + system, all threads) of this process, from /proc/self/stat (ticks
/// of 1/100 s, Linux's fixed USER_HZ): unlike wall time, barely moved by other processes
/// on a busy machine.
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // the fields after the command name, which is in parentheses and may hold spaces
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime: fields 14 and 15 of the line, 12 and 13 after ")"
    let tick = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    (tick(11) + tick(12)) as f64 / 100.0
}
