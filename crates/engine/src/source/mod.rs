//! Sources: Kafka consumers and the test-data file reader. Both run on blocking threads
//! and hand raw records to an `Emitter`, which decodes them, drops late records, writes
//! bad ones to the dead-letter file and sends batches and watermarks downstream.

pub mod file;
pub mod kafka;
mod pace;
pub mod reachable;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use arrow::array::{Array, AsArray, BooleanArray};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Int64Type, TimestampMillisecondType};

use crate::channel::{Msg, Outputs, WatermarkStatus};
use crate::deadletter::DeadLetter;
use crate::decode::{RawBatch, RecordDecoder};
use crate::error::Result;
use crate::metrics::NodeMetrics;
use crate::watermark::WatermarkTracker;

/// Event time of a source: a column with watermarks, or the wall clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeMode {
    /// Column index of the event time.
    Event(usize),
    /// Processing time: the watermark follows the wall clock and nothing is late.
    Processing,
}

/// Decodes, filters and sends the records of one source task.
pub struct Emitter {
    pub outputs: Outputs,
    pub metrics: Arc<NodeMetrics>,
    pub decoder: RecordDecoder,
    pub deadletter: Arc<DeadLetter>,
    pub tracker: WatermarkTracker,
    pub time: TimeMode,
    /// Real partition ids, by local index.
    pub partition_ids: Vec<i32>,
    /// With managed offsets: the positions read, and the commit marks to send.
    pub marks: Option<crate::pipeline::marks::SourceMarks>,
    /// With checkpoints: this task's link to the coordinator (barriers, state).
    pub checkpoint: Option<crate::checkpoint::TaskCheckpoint>,
    /// The next offset of every partition read (real ids), with marks or checkpoints.
    pub positions: std::collections::BTreeMap<i32, i64>,
    /// The last barrier sent.
    last_barrier: u64,
    /// The source was asked to end after its last barrier (stop with a savepoint).
    pub barrier_stop: bool,
    /// Send each batch's origin (partition, offset per row) ahead of it, for sinks that
    /// read this source directly.
    pub origins: bool,
    sent_watermark: i64,
    /// This task announced itself idle downstream (every open partition idle).
    idle: bool,
}

impl Emitter {
    /// A new emitter; `tracker` covers `partition_ids.len()` partitions.
    pub fn new(
        outputs: Outputs,
        metrics: Arc<NodeMetrics>,
        decoder: RecordDecoder,
        deadletter: Arc<DeadLetter>,
        tracker: WatermarkTracker,
        time: TimeMode,
        partition_ids: Vec<i32>,
    ) -> Self {
        Emitter {
            outputs,
            metrics,
            decoder,
            deadletter,
            tracker,
            time,
            partition_ids,
            marks: None,
            checkpoint: None,
            positions: std::collections::BTreeMap::new(),
            last_barrier: 0,
            barrier_stop: false,
            origins: false,
            sent_watermark: i64::MIN,
            idle: false,
        }
    }

    /// Decodes `raw`, drops late and bad records, sends the rest and the new watermark.
    pub fn emit(&mut self, raw: &RawBatch) -> Result<()> {
        if raw.is_empty() {
            return self.tick();
        }
        self.metrics.records_in.fetch_add(raw.len() as u64, Relaxed);
        // payload bytes: the raw buffer holds a newline after each record
        let payload = raw.bytes().saturating_sub(raw.len());
        self.metrics.bytes_in.fetch_add(payload as u64, Relaxed);
        let decoded = self.decoder.decode(raw)?;
        if self.marks.is_some() || self.checkpoint.is_some() {
            for &(p, offset) in &raw.meta {
                let partition = self.partition_ids.get(p as usize).copied().unwrap_or(p);
                let next = self.positions.entry(partition).or_insert(offset + 1);
                *next = (*next).max(offset + 1);
            }
        }
        for (i, reason) in &decoded.bad {
            let (p, offset) = raw.meta[*i];
            let partition = self.partition_ids.get(p as usize).copied().unwrap_or(p);
            self.deadletter
                .write(Some(partition), Some(offset), reason, raw.payload(*i));
        }
        self.metrics
            .errors
            .fetch_add(decoded.bad.len() as u64, Relaxed);
        self.metrics
            .dead_letters
            .fetch_add(decoded.bad.len() as u64, Relaxed);
        let mut batch = decoded.batch;
        let mut rows = decoded.rows;
        if let TimeMode::Event(col) = self.time {
            let column = batch.column(col).clone();
            let ts_at = |i: usize| -> i64 {
                match column.data_type() {
                    DataType::Int64 => column.as_primitive::<Int64Type>().value(i),
                    _ => column.as_primitive::<TimestampMillisecondType>().value(i),
                }
            };
            let mut keep = Vec::with_capacity(batch.num_rows());
            let mut late = 0u64;
            for (row, record) in rows.iter().enumerate() {
                let ok = self
                    .tracker
                    .observe(raw.meta[*record].0 as usize, ts_at(row));
                late += u64::from(!ok);
                keep.push(ok);
            }
            if late > 0 {
                self.metrics.late.fetch_add(late, Relaxed);
                rows = rows
                    .into_iter()
                    .zip(&keep)
                    .filter_map(|(r, k)| k.then_some(r))
                    .collect();
                batch = filter_record_batch(&batch, &BooleanArray::from(keep))?;
            }
        }
        if batch.num_rows() > 0 {
            self.announce(WatermarkStatus::Active)?;
            self.metrics
                .records_out
                .fetch_add(batch.num_rows() as u64, Relaxed);
            self.metrics.record_latency(&batch);
            if self.origins {
                let origin: Vec<(i32, i64)> = rows
                    .iter()
                    .map(|&r| {
                        let (p, offset) = raw.meta[r];
                        (
                            self.partition_ids.get(p as usize).copied().unwrap_or(p),
                            offset,
                        )
                    })
                    .collect();
                self.outputs.blocking_send(Msg::Origin(Arc::new(origin)))?;
            }
            self.outputs.blocking_batch(&batch)?;
        }
        self.tick()
    }

    /// Re-evaluates idle partitions (or the wall clock) and sends the watermark if it moved.
    /// When every open partition is idle, the task says so downstream once (after its
    /// last watermark), so that its receivers set it aside; it says `Active` again
    /// before its next batch or watermark.
    pub fn tick(&mut self) -> Result<()> {
        let (w, idle) = match self.time {
            TimeMode::Processing => (now_ms(), false),
            TimeMode::Event(_) => {
                self.tracker.tick();
                (self.tracker.current(), self.tracker.all_idle())
            }
        };
        if !idle {
            self.announce(WatermarkStatus::Active)?;
        }
        self.send_watermark(w)?;
        if idle {
            self.announce(WatermarkStatus::Idle)?;
        }
        self.send_mark(false)?;
        self.send_barrier()
    }

    /// Sends this task's watermark status if it changed.
    fn announce(&mut self, status: WatermarkStatus) -> Result<()> {
        let idle = status == WatermarkStatus::Idle;
        if idle == self.idle {
            return Ok(());
        }
        self.idle = idle;
        self.outputs.blocking_send(Msg::Status(status))
    }

    /// Sends a checkpoint barrier when one was asked for, after recording this task's
    /// state under it: everything read before `positions` was sent ahead of it.
    fn send_barrier(&mut self) -> Result<()> {
        let Some(c) = &self.checkpoint else {
            return Ok(());
        };
        let id = c.coord.pending();
        if id <= self.last_barrier {
            return Ok(());
        }
        self.last_barrier = id;
        c.coord.ack(id, &c.name, self.state(), 0);
        if c.coord.stop_after(id) {
            self.barrier_stop = true;
        }
        self.outputs.blocking_send(Msg::Barrier(id))
    }

    /// This task's checkpoint state: positions, watermark and each partition's largest
    /// event time (`formats/checkpoint-v1.md`).
    pub fn state(&self) -> crate::checkpoint::TaskState {
        let (current, max_ts) = self.tracker.state();
        let max_ts: Vec<(i32, i64)> = max_ts
            .iter()
            .enumerate()
            .filter(|(_, ts)| **ts != i64::MIN)
            .filter_map(|(i, ts)| self.partition_ids.get(i).map(|p| (*p, *ts)))
            .collect();
        let positions: Vec<(i32, i64)> = self.positions.iter().map(|(p, o)| (*p, *o)).collect();
        let watermark = (current != i64::MIN && current != i64::MAX).then_some(current);
        crate::checkpoint::TaskState::meta(serde_json::json!({
            "positions": positions,
            "max_ts": max_ts,
            "watermark": watermark,
        }))
    }

    /// Sends a commit mark when one is due (`last`: at the end, always).
    fn send_mark(&mut self, last: bool) -> Result<()> {
        let positions = &self.positions;
        match self.marks.as_mut().and_then(|m| m.due(last, positions)) {
            Some(id) => self.outputs.blocking_send(Msg::Mark(id)),
            None => Ok(()),
        }
    }

    fn send_watermark(&mut self, w: i64) -> Result<()> {
        if w > self.sent_watermark {
            self.announce(WatermarkStatus::Active)?;
            self.sent_watermark = w;
            self.metrics.set_watermark(w);
            self.outputs.blocking_send(Msg::Watermark(w))?;
        }
        Ok(())
    }

    /// A partition reached its end (bounded input).
    pub fn finish_partition(&mut self, local: usize) {
        self.tracker.finish(local);
    }

    /// End of this task: watermark +∞ first when the input was read to its end.
    pub fn end(&mut self, drained: bool) -> Result<()> {
        if drained {
            self.send_watermark(i64::MAX)?;
        }
        self.send_mark(true)?;
        if let Some(c) = &self.checkpoint {
            c.coord.finished(&c.name, drained.then(|| self.state()));
        }
        self.outputs.blocking_send(Msg::End)
    }
}

/// Wall-clock milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Whether a column is null-free (used by tests).
pub fn no_nulls(a: &dyn Array) -> bool {
    a.null_count() == 0
}
