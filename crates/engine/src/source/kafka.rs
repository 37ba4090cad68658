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
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use weir_model::model::{Connection, KafkaSource as Node, StartOffset};

use super::Emitter;
use super::pace::Pace;
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
    /// Overrides the node's `start` (an instance's start position).
    pub start: Option<StartOffset>,
    /// The consumer group (see [`group_of`]).
    pub group: String,
    /// Managed offsets: resume from the group's committed offsets, commit only after the
    /// sinks flushed (no auto-commit; `weir run` and instances). None: auto-commit, start
    /// by `start` (tests and benchmarks).
    pub managed: Option<std::sync::Arc<Offsets>>,
    /// Restoring a checkpoint: where every partition continues, and the watermark state.
    pub restore: Option<std::sync::Arc<SourceRestore>>,
}

/// A source's state in a checkpoint, over all of its tasks (the parallelism may differ).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceRestore {
    /// Next offset by partition.
    pub positions: std::collections::BTreeMap<i32, i64>,
    /// Largest event time seen by partition.
    pub max_ts: std::collections::BTreeMap<i32, i64>,
    /// The lowest watermark of the tasks (None: none had one).
    pub watermark: Option<i64>,
}

impl SourceRestore {
    /// Collects the states of every task of one source (`Emitter::state`'s meta).
    pub fn from_states<'a>(states: impl Iterator<Item = &'a serde_json::Value>) -> SourceRestore {
        let mut r = SourceRestore::default();
        let pairs = |v: &serde_json::Value, key: &str| -> Vec<(i32, i64)> {
            v.get(key)
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|pair| {
                            let p = pair.get(0)?.as_i64()?;
                            let o = pair.get(1)?.as_i64()?;
                            Some((p as i32, o))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        for meta in states {
            for (p, o) in pairs(meta, "positions") {
                let e = r.positions.entry(p).or_insert(o);
                *e = (*e).max(o);
            }
            for (p, ts) in pairs(meta, "max_ts") {
                let e = r.max_ts.entry(p).or_insert(ts);
                *e = (*e).max(ts);
            }
            if let Some(w) = meta.get("watermark").and_then(|w| w.as_i64()) {
                r.watermark = Some(r.watermark.map_or(w, |m: i64| m.min(w)));
            }
        }
        r
    }
}

/// The consumer group of a source: the node's own `group`, else `weir-<job>-<node>`
/// followed by `suffix` (an instance's `-i42`, so that instances keep their own offsets).
pub fn group_of(node: &Node, job: &str, suffix: &str) -> String {
    node.group
        .clone()
        .unwrap_or_else(|| format!("weir-{job}-{}{suffix}", node.id))
}

/// The positions a run reached, per group, topic and partition, kept by the source tasks
/// as they stop and committed by [`Offsets::commit`] once the pipeline drained and every
/// sink flushed: a run that ends cleanly resumes exactly there, one that is killed
/// resumes from its last commit (at least once).
/// One group's client settings and the (topic, partition, offset) positions to commit.
type Kept = (ClientConfig, Vec<(String, i32, i64)>);

#[derive(Debug, Default)]
pub struct Offsets {
    /// Per group: the client settings to commit with, and (topic, partition, offset).
    kept: std::sync::Mutex<std::collections::BTreeMap<String, Kept>>,
    /// Ignore the group's committed offsets and start by `start` (`weir run --reset`).
    pub reset: bool,
}

impl Offsets {
    fn keep(&self, config: &ClientConfig, group: &str, topic: &str, partition: i32, offset: i64) {
        if let Ok(mut k) = self.kept.lock() {
            k.entry(group.to_string())
                .or_insert_with(|| (config.clone(), Vec::new()))
                .1
                .push((topic.to_string(), partition, offset));
        }
    }

    /// Commits the kept positions, one consumer per group; returns how many partitions.
    /// Called after the sinks flushed.
    pub fn commit(&self) -> Result<usize> {
        let kept = self.kept.lock().map(|k| k.clone()).unwrap_or_default();
        let mut n = 0;
        for (group, (config, positions)) in &kept {
            let mut tpl = TopicPartitionList::new();
            for (t, p, o) in positions {
                tpl.add_partition_offset(t, *p, Offset::Offset(*o))?;
            }
            let mut c = config.clone();
            c.set("group.id", group);
            c.set("enable.auto.commit", "false");
            let consumer: BaseConsumer = c.create()?;
            consumer.commit(&tpl, rdkafka::consumer::CommitMode::Sync)?;
            n += positions.len();
        }
        Ok(n)
    }
}

/// How often the lag is measured.
const LAG_EVERY: Duration = Duration::from_secs(1);

/// How long one poll waits for a record when none is pending. It bounds how soon a stop
/// is noticed and how often an idle source re-evaluates its watermark (idle partitions,
/// processing time); each wake-up of an idle source costs CPU, and a worker runs many
/// idle sources (bench/results/instances.txt).
pub const IDLE_POLL: Duration = Duration::from_millis(500);

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
    let mut config = consumer_config(node, &task.job, &task.datasource)?;
    config.set("group.id", &task.group);
    // An unbounded run waits for data at the broker instead of asking 100 times a second:
    // records still come as soon as they arrive (fetch.min.bytes 1), and 20 idle
    // instances on a worker cost ~11% of a core less (bench/results/instances.txt); on
    // the embedded broker a quick consumer reads while records flow (`pace.rs`).
    let explicit =
        |k: &str| node.properties.contains_key(k) || task.datasource.options.contains_key(k);
    let paced = !task.bounded && !explicit("fetch.wait.max.ms");
    if paced {
        config.set("fetch.wait.max.ms", "500");
    }
    if task.managed.is_some() {
        config.set("enable.auto.commit", "false");
    }
    let consumer: BaseConsumer = config.create().map_err(|e| at(e.into()))?;
    let all = partitions(&consumer, &node.topic).map_err(at)?;
    let mut pace = Pace::new(&consumer, &config, paced);
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
    let start = task.start.unwrap_or(node.start);
    // start offsets
    let mut tpl = TopicPartitionList::new();
    let mut starts: Vec<i64> = Vec::with_capacity(mine.len());
    let mut ends: Vec<i64> = Vec::with_capacity(mine.len());
    let mut lows: Vec<i64> = Vec::with_capacity(mine.len());
    for &p in &mine {
        let (low, high) = consumer
            .fetch_watermarks(&node.topic, p, timeout())
            .map_err(|e| at(e.into()))?;
        ends.push(high);
        lows.push(low);
        starts.push(match start {
            StartOffset::Earliest => low,
            StartOffset::Latest => high,
            StartOffset::Timestamp(_) => low,
        });
    }
    if let StartOffset::Timestamp(ms) = start {
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
    if let Some(r) = &task.restore {
        // a checkpoint says where each partition continues; one it does not know (added
        // since) is read from its beginning, so that nothing is skipped
        for (i, p) in mine.iter().enumerate() {
            starts[i] = r.positions.get(p).copied().unwrap_or(lows[i]);
        }
        let max_ts: Vec<Option<i64>> = mine.iter().map(|p| r.max_ts.get(p).copied()).collect();
        emitter
            .tracker
            .restore(r.watermark.unwrap_or(i64::MIN), &max_ts);
    } else if task.managed.is_some() {
        // resume where the last run of this instance committed; a first run commits
        // where it starts, so that a take-over never skips what came in meanwhile
        let resumed = match &task.managed {
            Some(m) if m.reset => vec![None; mine.len()],
            _ => committed(&consumer, &node.topic, &mine).map_err(at)?,
        };
        let mut fresh = TopicPartitionList::new();
        for (i, &p) in mine.iter().enumerate() {
            match resumed[i] {
                Some(o) => starts[i] = o,
                None => {
                    fresh.add_partition_offset(&node.topic, p, Offset::Offset(starts[i]))?;
                }
            }
        }
        if fresh.count() > 0 {
            consumer
                .commit(&fresh, rdkafka::consumer::CommitMode::Sync)
                .map_err(|e| at(e.into()))?;
        }
    }
    for (i, &p) in mine.iter().enumerate() {
        tpl.add_partition_offset(&node.topic, p, Offset::Offset(starts[i]))?;
        // a partition read from here on: a checkpoint before its first record says so
        emitter.positions.insert(p, starts[i]);
    }
    pace.assign(&consumer, &tpl)?;
    let mut done = vec![false; mine.len()];
    if task.bounded {
        for i in 0..mine.len() {
            if starts[i] >= ends[i] {
                done[i] = true;
                emitter.finish_partition(i);
            }
        }
    }
    let positions: Vec<AtomicI64> = starts.iter().map(|s| AtomicI64::new(*s)).collect();
    // The lag is measured on a thread of its own, so that it keeps rising while the
    // pipeline back-pressures this one (a blocked sink: the case a lag alert is for).
    // It sleeps on a channel that closes when the consumer loop ends, so it wakes once a
    // second, and at once for the end.
    let lag_metrics = emitter.metrics.clone();
    let result = std::thread::scope(|scope| {
        let (watching, ended) = std::sync::mpsc::channel::<()>();
        let (consumer, topic, mine, positions) = (&consumer, &node.topic, &mine, &positions);
        let watcher = std::thread::Builder::new()
            .name("weir-lag".into())
            .spawn_scoped(scope, move || {
                watch_lag(consumer, topic, mine, positions, lag_metrics, &ended)
            });
        if let Err(e) = watcher {
            tracing::warn!(
                "{}: cannot start the lag watcher, lag is not measured: {e}",
                node.id
            );
        }
        let read = Reading {
            consumer,
            pace: &mut pace,
            partitions: mine,
            local: &local,
            ends: &ends,
            positions,
        };
        let r = consume(&task, read, emitter, stop, &mut done);
        drop(watching);
        r
    });
    let positions: Vec<i64> = positions.iter().map(|p| p.load(Relaxed)).collect();
    keep_positions(&task, &config, &mine, &positions);
    match result? {
        Ended::Stopped => {
            emitter.end(false)?;
            Ok(())
        }
        Ended::Drained => {
            let drained: Vec<(i32, i64)> = mine.iter().map(|p| (*p, 0)).collect();
            emitter.metrics.set_lag(&drained);
            emitter.tick()?;
            emitter.end(true)
        }
    }
}

/// How a consumer task's loop ended.
enum Ended {
    /// `stop` was set.
    Stopped,
    /// Every partition reached its end (bounded).
    Drained,
}

/// Every second until `ended` disconnects (the consumer loop ended): each partition's
/// high-water mark minus the position this task reached. Between two measurements the
/// thread sleeps in `recv_timeout`; it costs one wake-up a second.
fn watch_lag(
    consumer: &BaseConsumer,
    topic: &str,
    mine: &[i32],
    positions: &[AtomicI64],
    metrics: std::sync::Arc<crate::metrics::NodeMetrics>,
    ended: &std::sync::mpsc::Receiver<()>,
) {
    loop {
        let started = Instant::now();
        let mut lags = Vec::with_capacity(mine.len());
        for (i, &p) in mine.iter().enumerate() {
            if let Ok((_, high)) = consumer.fetch_watermarks(topic, p, Duration::from_millis(500)) {
                lags.push((p, (high - positions[i].load(Relaxed)).max(0)));
            }
        }
        metrics.set_lag(&lags);
        let wait = LAG_EVERY.saturating_sub(started.elapsed());
        match ended.recv_timeout(wait) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            // disconnected (or, never sent, a message): the consumer loop ended
            _ => return,
        }
    }
}

/// What one consumer task reads: its partitions, by real id and local index, with their
/// end offsets (bounded) and the positions reached.
struct Reading<'a> {
    /// The source's own consumer (the patient one, see `pace.rs`).
    consumer: &'a BaseConsumer,
    pace: &'a mut Pace,
    partitions: &'a [i32],
    local: &'a HashMap<i32, usize>,
    ends: &'a [i64],
    positions: &'a [AtomicI64],
}

/// Polls and emits until `stop` is set or (bounded) every partition is done.
fn consume(
    task: &KafkaTask,
    read: Reading<'_>,
    emitter: &mut Emitter,
    stop: &AtomicBool,
    done: &mut [bool],
) -> Result<Ended> {
    let Reading {
        consumer,
        pace,
        partitions,
        local,
        ends,
        positions,
    } = read;
    let node = &task.node;
    let mut raw = RawBatch::default();
    let linger = Duration::from_millis(20);
    loop {
        if task.bounded && done.iter().all(|d| *d) {
            return Ok(Ended::Drained);
        }
        if stop.load(Relaxed) || emitter.barrier_stop {
            return Ok(Ended::Stopped);
        }
        raw.clear();
        let started = Instant::now();
        while raw.len() < task.batch_size {
            let wait = if raw.is_empty() {
                IDLE_POLL
            } else {
                Duration::ZERO
            };
            match pace.polled(consumer).poll(wait) {
                Some(Ok(m)) => {
                    let Some(&li) = local.get(&m.partition()) else {
                        continue;
                    };
                    positions[li].store(m.offset() + 1, Relaxed);
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
        pace.after_batch(
            consumer,
            !raw.is_empty(),
            &node.topic,
            partitions,
            positions,
        )?;
    }
}

/// Hands this task's positions to the run's [`Offsets`] (managed offsets only), which
/// commits them once the sinks have flushed.
fn keep_positions(task: &KafkaTask, config: &ClientConfig, mine: &[i32], positions: &[i64]) {
    if let Some(managed) = &task.managed {
        for (p, o) in mine.iter().zip(positions) {
            managed.keep(config, &task.group, &task.node.topic, *p, *o);
        }
    }
}

/// The committed offsets of `group` for `partitions` of `topic` (None where it has none).
fn committed(consumer: &BaseConsumer, topic: &str, partitions: &[i32]) -> Result<Vec<Option<i64>>> {
    let mut tpl = TopicPartitionList::new();
    for &p in partitions {
        tpl.add_partition(topic, p);
    }
    let found = consumer.committed_offsets(tpl, timeout())?;
    Ok(partitions
        .iter()
        .map(
            |&p| match found.find_partition(topic, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) if o >= 0 => Some(o),
                _ => None,
            },
        )
        .collect())
}
