//! KafkaSource: a `BaseConsumer` per source task on a blocking thread, with its share of
//! the topic's partitions assigned directly (no group rebalance: first record in ~0.5 s
//! instead of ~3 s). Start Latest / Earliest / Timestamp (`offsets_for_times`); the group
//! (default `weir-<job>-<node>`) gets the offsets committed. Bounded runs stop when every
//! partition reached the end offset it had at start.
//!
//! The BUILD-NOTES pitfall (one partition of ~100k messages consumed at a few thousand
//! msg/s) is not a fetch setting: librdkafka's mock broker keeps at most 5 MiB (or 100k
//! message sets) per partition and deletes the head of the log beyond that
//! (rdkafka_mock.c, `max_size`/`max_cnt`), so a consumer positioned at offset 0 falls off
//! the log (offset out of range, reset, refetch). Starting from the low watermark as
//! fetched (what this module does) reads the retained part at full speed (0.6M msg/s on
//! one partition, dev profile). `fetch.wait.max.ms` 10 instead of 500 still helps the
//! tail of a bounded run: 0.62 vs 0.42M msg/s for 60k records (benches/engine.rs).
//! Test topics must stay under 5 MiB per partition.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use weir_model::model::{Connection, KafkaSource as Node, StartOffset};

use super::Emitter;
use crate::decode::RawBatch;
use crate::error::{EngineError, Result};
use crate::kafka_client::{client_config, set_default};

/// Client properties weir sets before the data source's and the node's own.
pub const DEFAULT_PROPERTIES: [(&str, &str); 4] = [
    // lower latency at the tail of a batch / bounded run (measured in benches/engine.rs)
    ("fetch.wait.max.ms", "10"),
    ("enable.partition.eof", "false"),
    ("enable.auto.commit", "true"),
    ("queued.max.messages.kbytes", "262144"),
];

/// Everything one consumer task needs.
pub struct KafkaTask {
    pub node: Node,
    pub job: String,
    pub datasource: Connection,
    /// This task's index and the number of tasks of the source.
    pub task: usize,
    pub tasks: usize,
    pub bounded: bool,
    pub batch_size: usize,
    pub idle_ms: u64,
}

fn timeout() -> Duration {
    Duration::from_secs(10)
}

/// The consumer configuration of a source: the data source's client settings
/// ([`client_config`], credentials included), then weir's defaults and the group where the
/// data source's options do not set them, then the node's own properties.
pub fn consumer_config(node: &Node, job: &str, ds: &Connection) -> Result<ClientConfig> {
    let mut c = client_config(&node.datasource, ds)?;
    let group = node
        .group
        .clone()
        .unwrap_or_else(|| format!("weir-{job}-{}", node.id));
    set_default(&mut c, "group.id", &group);
    for (k, v) in DEFAULT_PROPERTIES {
        set_default(&mut c, k, v);
    }
    for (k, v) in &node.properties {
        c.set(k, v);
    }
    Ok(c)
}

/// Partition ids of `topic`.
pub fn partitions(consumer: &BaseConsumer, topic: &str) -> Result<Vec<i32>> {
    let md = consumer.fetch_metadata(Some(topic), timeout())?;
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or_else(|| {
            EngineError::Config(format!(
                "topic {topic} not found; create it first (weir broker --topics {topic}:2)"
            ))
        })?;
    if let Some(e) = t.error() {
        return Err(EngineError::Config(format!(
            "topic {topic}: {e:?}; create it first (weir broker --topics {topic}:2)"
        )));
    }
    let mut ids: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
    ids.sort();
    if ids.is_empty() {
        return Err(EngineError::Config(format!(
            "topic {topic} has no partitions; create it first"
        )));
    }
    Ok(ids)
}

/// Runs one consumer task until its partitions are done (bounded) or `stop` is set.
pub fn run(task: KafkaTask, emitter: &mut Emitter, stop: &AtomicBool) -> Result<()> {
    let node = &task.node;
    // failures while starting say which source, topic, data source and address
    let at = |e: EngineError| {
        EngineError::at(
            format!(
                "Kafka data source `{}` (source `{}`, topic {})",
                node.datasource, node.id, node.topic
            ),
            &task.datasource.address,
            e,
        )
    };
    let consumer: BaseConsumer = consumer_config(node, &task.job, &task.datasource)?
        .create()
        .map_err(|e| at(e.into()))?;
    let all = partitions(&consumer, &node.topic).map_err(at)?;
    let mine: Vec<i32> = all
        .iter()
        .copied()
        .enumerate()
        .filter(|(i, _)| i % task.tasks == task.task)
        .map(|(_, p)| p)
        .collect();
    emitter.partition_ids = mine.clone();
    emitter.tracker =
        crate::watermark::WatermarkTracker::new(mine.len(), node.watermark_ms, task.idle_ms);
    if mine.is_empty() {
        return emitter.end(true);
    }
    let local: HashMap<i32, usize> = mine.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    // start offsets
    let mut tpl = TopicPartitionList::new();
    let mut starts: Vec<i64> = Vec::with_capacity(mine.len());
    let mut ends: Vec<i64> = Vec::with_capacity(mine.len());
    for &p in &mine {
        let (low, high) = consumer
            .fetch_watermarks(&node.topic, p, timeout())
            .map_err(|e| at(e.into()))?;
        ends.push(high);
        starts.push(match node.start {
            StartOffset::Earliest => low,
            StartOffset::Latest => high,
            StartOffset::Timestamp(_) => low,
        });
    }
    if let StartOffset::Timestamp(ms) = node.start {
        let mut q = TopicPartitionList::new();
        for &p in &mine {
            q.add_partition_offset(&node.topic, p, Offset::Offset(ms as i64))?;
        }
        let found = consumer
            .offsets_for_times(q, timeout())
            .map_err(|e| at(e.into()))?;
        for (i, &p) in mine.iter().enumerate() {
            if let Some(e) = found.find_partition(&node.topic, p) {
                starts[i] = match e.offset() {
                    Offset::Offset(o) => o,
                    _ => ends[i],
                };
            }
        }
    }
    for (i, &p) in mine.iter().enumerate() {
        tpl.add_partition_offset(&node.topic, p, Offset::Offset(starts[i]))?;
    }
    consumer.assign(&tpl)?;
    let mut done = vec![false; mine.len()];
    if task.bounded {
        for i in 0..mine.len() {
            if starts[i] >= ends[i] {
                done[i] = true;
                emitter.finish_partition(i);
            }
        }
    }
    let mut positions = starts.clone();
    let mut raw = RawBatch::default();
    let mut last_lag = Instant::now();
    let linger = Duration::from_millis(20);
    loop {
        if task.bounded && done.iter().all(|d| *d) {
            break;
        }
        if stop.load(Relaxed) {
            emitter.end(false)?;
            return Ok(());
        }
        raw.clear();
        let started = Instant::now();
        while raw.len() < task.batch_size {
            let wait = if raw.is_empty() {
                Duration::from_millis(100)
            } else {
                Duration::ZERO
            };
            match consumer.poll(wait) {
                Some(Ok(m)) => {
                    let Some(&li) = local.get(&m.partition()) else {
                        continue;
                    };
                    positions[li] = m.offset() + 1;
                    raw.push(li as i32, m.offset(), m.payload().unwrap_or(&[]));
                    if task.bounded && !done[li] && m.offset() + 1 >= ends[li] {
                        done[li] = true;
                    }
                }
                Some(Err(e)) => {
                    tracing::warn!("{}: consumer error: {e}", node.id);
                    emitter.metrics.errors.fetch_add(1, Relaxed);
                    break;
                }
                None => {
                    if raw.is_empty() || started.elapsed() >= linger {
                        break;
                    }
                }
            }
            if started.elapsed() >= linger {
                break;
            }
        }
        emitter.emit(&raw)?;
        for (i, d) in done.iter().enumerate() {
            if *d {
                emitter.finish_partition(i);
            }
        }
        if last_lag.elapsed() >= Duration::from_secs(1) {
            last_lag = Instant::now();
            let mut lag = 0i64;
            for (i, &p) in mine.iter().enumerate() {
                if let Ok((_, high)) =
                    consumer.fetch_watermarks(&node.topic, p, Duration::from_millis(200))
                {
                    ends[i] = if task.bounded { ends[i] } else { high };
                    lag += (high - positions[i]).max(0);
                }
            }
            emitter.metrics.lag.store(lag, Relaxed);
        }
    }
    emitter.metrics.lag.store(0, Relaxed);
    emitter.tick()?;
    emitter.end(true)
}
