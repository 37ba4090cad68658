//! Commit marks: how a run with managed offsets (`weir run`, a worker's instances) commits
//! its Kafka positions while it runs, without ever committing a record the sinks have not
//! written (at least once; exactly once comes with checkpoints).
//!
//! Every [`COMMIT_EVERY`] the pipeline asks for a new mark id. Each source task, at its
//! next batch or idle tick, records the positions it has read up to (everything before
//! them was sent downstream) under that id and sends `Msg::Mark(id)` behind its batches.
//! An operator forwards the smallest mark of its inputs once nothing it holds predates
//! the mark (a window holding rows forwards it when the watermark fired that window); a
//! sink flushes, then reports the mark. Positions recorded under a mark that every sink
//! reported are committed. This module holds the bookkeeping and the commit; the tasks
//! call it from `spawn.rs`, `sink/mod.rs` and the source's `Emitter`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::error::{EngineError, Result};

/// How often a run with managed offsets commits what its sinks have written (a quarter
/// second: a kill -9 then re-reads little; a commit with nothing new costs nothing).
pub const COMMIT_EVERY: Duration = Duration::from_millis(250);

/// One source task's recorded positions.
struct SourceEntry {
    group: String,
    topic: String,
    config: ClientConfig,
    /// (mark id, (partition, next offset) of every partition read so far), oldest first.
    recorded: VecDeque<(u64, Vec<(i32, i64)>)>,
}

#[derive(Default)]
struct State {
    sources: Vec<SourceEntry>,
    /// The last mark each sink flushed.
    sinks: Vec<u64>,
    /// What was committed, per (group, topic, partition).
    committed: BTreeMap<(String, String, i32), i64>,
}

/// The marks of one pipeline: the current id, what every source recorded under each id,
/// what every sink flushed, and the consumers that commit (one per group, kept).
pub struct Marks {
    current: AtomicU64,
    state: Mutex<State>,
    committers: Mutex<HashMap<String, BaseConsumer>>,
}

impl Default for Marks {
    /// Mark 1 is current from the start: sources mark at their first batch.
    fn default() -> Self {
        Marks {
            current: AtomicU64::new(1),
            state: Mutex::default(),
            committers: Mutex::default(),
        }
    }
}

/// Positions to commit: per group, its client settings and (topic, partition, offset).
type Due = BTreeMap<String, (ClientConfig, Vec<(String, i32, i64)>)>;

impl Marks {
    /// The id sources should mark next.
    pub fn current(&self) -> u64 {
        self.current.load(Relaxed)
    }

    /// Asks for a new mark.
    pub fn advance(&self) -> u64 {
        self.current.fetch_add(1, Relaxed) + 1
    }

    /// Registers a source task reading `topic` for `group` (committed with `config`).
    pub fn add_source(&self, group: &str, topic: &str, config: ClientConfig) -> usize {
        let mut s = self.lock();
        s.sources.push(SourceEntry {
            group: group.to_string(),
            topic: topic.to_string(),
            config,
            recorded: VecDeque::new(),
        });
        s.sources.len() - 1
    }

    /// Registers a sink.
    pub fn add_sink(&self) -> usize {
        let mut s = self.lock();
        s.sinks.push(0);
        s.sinks.len() - 1
    }

    /// Source task `source` sent everything read before `positions` ahead of mark `id`.
    pub fn record(&self, source: usize, id: u64, positions: Vec<(i32, i64)>) {
        if let Some(e) = self.lock().sources.get_mut(source) {
            e.recorded.push_back((id, positions));
        }
    }

    /// Sink `sink` flushed everything that came before mark `id`.
    pub fn flushed(&self, sink: usize, id: u64) {
        if let Some(m) = self.lock().sinks.get_mut(sink) {
            *m = (*m).max(id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // a poisoned lock only means a task panicked while recording; the data is whole
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether anything every sink flushed is not committed yet (cheap: no I/O), so an
    /// idle pipeline does not hop to a blocking thread four times a second.
    pub fn has_due(&self) -> bool {
        !self.due().is_empty()
    }

    /// The positions every sink has flushed that were not committed yet.
    fn due(&self) -> Due {
        let mut s = self.lock();
        let safe = s.sinks.iter().copied().min().unwrap_or(u64::MAX);
        let mut due = Due::new();
        let mut newly = Vec::new();
        for e in &mut s.sources {
            // the latest recording at or before the safe mark; older ones are not needed
            while e.recorded.len() > 1 && e.recorded.get(1).is_some_and(|(id, _)| *id <= safe) {
                e.recorded.pop_front();
            }
            let Some((id, positions)) = e.recorded.front() else {
                continue;
            };
            if *id > safe {
                continue;
            }
            for &(p, o) in positions {
                newly.push((e.group.clone(), e.topic.clone(), p, o, e.config.clone()));
            }
        }
        for (group, topic, p, o, config) in newly {
            let key = (group.clone(), topic.clone(), p);
            if s.committed.get(&key).is_some_and(|c| *c >= o) {
                continue;
            }
            due.entry(group)
                .or_insert_with(|| (config, Vec::new()))
                .1
                .push((topic, p, o));
        }
        due
    }

    /// Commits what every sink flushed and was not committed yet (blocking); returns how
    /// many partitions moved.
    pub fn commit(&self) -> Result<usize> {
        let due = self.due();
        let mut n = 0;
        let mut committers = self.committers.lock().unwrap_or_else(|e| e.into_inner());
        for (group, (config, positions)) in due {
            let mut tpl = TopicPartitionList::new();
            for (t, p, o) in &positions {
                tpl.add_partition_offset(t, *p, Offset::Offset(*o))?;
            }
            if !committers.contains_key(&group) {
                let mut c = config.clone();
                c.set("group.id", &group);
                c.set("enable.auto.commit", "false");
                let consumer: BaseConsumer = c.create()?;
                committers.insert(group.clone(), consumer);
            }
            let consumer = committers.get(&group).ok_or_else(|| {
                EngineError::Internal(format!("no committer for consumer group {group}"))
            })?;
            consumer.commit(&tpl, CommitMode::Sync)?;
            let mut s = self.lock();
            for (t, p, o) in positions {
                s.committed.insert((group.clone(), t, p), o);
                n += 1;
            }
        }
        Ok(n)
    }
}

/// The marks of a receiver's upstream slots: the mark it may pass on is the smallest one
/// over the slots still running (over all, once all ended).
#[derive(Debug, Clone)]
pub struct MarkInputs {
    marks: Vec<u64>,
    ended: Vec<bool>,
    current: u64,
}

impl MarkInputs {
    /// A receiver with `slots` upstream tasks.
    pub fn new(slots: usize) -> Self {
        MarkInputs {
            marks: vec![0; slots],
            ended: vec![false; slots],
            current: 0,
        }
    }

    /// Slot `slot` sent mark `id`; returns the receiver's new mark if it moved.
    pub fn mark(&mut self, slot: usize, id: u64) -> Option<u64> {
        if let Some(m) = self.marks.get_mut(slot) {
            *m = (*m).max(id);
        }
        self.advance()
    }

    /// Slot `slot` ended; returns the receiver's new mark if it moved.
    pub fn end(&mut self, slot: usize) -> Option<u64> {
        if let Some(e) = self.ended.get_mut(slot) {
            *e = true;
        }
        self.advance()
    }

    /// The mark passed on so far (None before the first).
    pub fn current(&self) -> Option<u64> {
        (self.current > 0).then_some(self.current)
    }

    fn advance(&mut self) -> Option<u64> {
        let running = self
            .marks
            .iter()
            .zip(&self.ended)
            .filter(|(_, e)| !**e)
            .map(|(m, _)| *m)
            .min();
        let min = running.unwrap_or_else(|| self.marks.iter().copied().min().unwrap_or(0));
        (min > self.current).then(|| {
            self.current = min;
            min
        })
    }
}

/// A source task's side of the marks: the last mark it sent (the positions it read are
/// the `Emitter`'s).
pub struct SourceMarks {
    marks: std::sync::Arc<Marks>,
    index: usize,
    last: u64,
}

impl SourceMarks {
    /// The side of source task `index` (from [`Marks::add_source`]).
    pub fn new(marks: std::sync::Arc<Marks>, index: usize) -> Self {
        SourceMarks {
            marks,
            index,
            last: 0,
        }
    }

    /// The mark to send now, if a new one was asked for (`last`: at the end, always a new
    /// one, since sinks may have flushed the current one already): `positions` (partition,
    /// next offset of what was read) are recorded under it first.
    pub fn due(&mut self, last: bool, positions: &BTreeMap<i32, i64>) -> Option<u64> {
        let id = if last {
            self.marks.advance()
        } else {
            self.marks.current()
        };
        if id <= self.last {
            return None;
        }
        self.last = id;
        let positions = positions.iter().map(|(p, o)| (*p, *o)).collect();
        self.marks.record(self.index, id, positions);
        Some(id)
    }
}

/// A sink's side: reports the marks it flushed.
pub struct SinkMarks {
    marks: std::sync::Arc<Marks>,
    index: usize,
}

impl SinkMarks {
    /// Registers a sink with `marks`.
    pub fn new(marks: std::sync::Arc<Marks>) -> Self {
        let index = marks.add_sink();
        SinkMarks { marks, index }
    }

    /// Everything before mark `id` was flushed.
    pub fn flushed(&self, id: u64) {
        self.marks.flushed(self.index, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per group: (topic, partition, offset) due.
    type Entries = Vec<(String, Vec<(String, i32, i64)>)>;

    fn entry(m: &Marks) -> Entries {
        m.due().into_iter().map(|(g, (_, p))| (g, p)).collect()
    }

    #[test]
    fn only_positions_every_sink_flushed_are_due() {
        let m = std::sync::Arc::new(Marks::default());
        let src = m.add_source("g", "t", ClientConfig::new());
        let a = SinkMarks::new(m.clone());
        let b = SinkMarks::new(m.clone());
        let mut s = SourceMarks::new(m.clone(), src);
        let mut read = BTreeMap::from([(0, 10)]);
        assert_eq!(s.due(false, &read), Some(1));
        read.insert(0, 20);
        assert_eq!(s.due(false, &read), None, "no new mark asked for");
        m.advance();
        assert_eq!(s.due(false, &read), Some(2));
        assert!(entry(&m).is_empty(), "no sink flushed");
        a.flushed(2);
        b.flushed(1);
        assert_eq!(entry(&m), vec![("g".into(), vec![("t".into(), 0, 10)])]);
        b.flushed(2);
        assert_eq!(entry(&m), vec![("g".into(), vec![("t".into(), 0, 20)])]);
        read.insert(0, 30);
        assert_eq!(s.due(true, &read), Some(3), "the end marks anew");
        assert_eq!(
            entry(&m),
            vec![("g".into(), vec![("t".into(), 0, 20)])],
            "30 is not flushed yet"
        );
        a.flushed(3);
        b.flushed(3);
        assert_eq!(entry(&m), vec![("g".into(), vec![("t".into(), 0, 30)])]);
    }

    #[test]
    fn a_receiver_passes_the_smallest_mark_of_its_running_slots() {
        let mut i = MarkInputs::new(2);
        assert_eq!(i.mark(0, 3), None);
        assert_eq!(i.mark(1, 2), Some(2));
        assert_eq!(i.end(1), Some(3));
        assert_eq!(i.mark(0, 4), Some(4));
        assert_eq!(i.end(0), None);
    }
}
