//! Messages between pipeline tasks and the senders that fan them out to downstreams.
//! Channels are bounded, so a slow sink back-pressures everything upstream of it.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::operator::Watermark;

/// What flows on an edge.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A batch for input `0` (position of the upstream among the receiver's inputs).
    Batch(usize, RecordBatch),
    /// The sender's watermark moved.
    Watermark(Watermark),
    /// The sender is done.
    End,
    /// A commit mark (`pipeline::marks`): everything the sender sent before it derives from
    /// records its sources read up to the positions they recorded under this id.
    Mark(u64),
    /// Where the rows of the sender's next batch came from: (partition, offset) per row.
    /// Sent only by sources that feed a sink directly (sink dead letters name the record).
    Origin(Arc<Vec<(i32, i64)>>),
    /// A checkpoint barrier (`checkpoint`): everything the sender sent before it is in
    /// checkpoint `id`'s state, everything after it is not.
    Barrier(u64),
}

/// A message and the slot (one per upstream task) it came from, so a receiver can take
/// the minimum watermark over all of its upstream tasks.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub slot: usize,
    pub msg: Msg,
}

/// One downstream of a task.
#[derive(Debug, Clone)]
pub struct Output {
    pub tx: mpsc::Sender<Envelope>,
    pub input: usize,
    pub slot: usize,
}

/// Every downstream of a task; batches are cloned (Arc, cheap) to each.
#[derive(Debug, Clone, Default)]
pub struct Outputs(pub Vec<Output>);

fn closed() -> EngineError {
    EngineError::DownstreamStopped
}

impl Outputs {
    /// Sends a batch to every downstream.
    pub async fn batch(&self, batch: &RecordBatch) -> Result<()> {
        for o in &self.0 {
            let msg = Msg::Batch(o.input, batch.clone());
            o.tx.send(Envelope { slot: o.slot, msg })
                .await
                .map_err(|_| closed())?;
        }
        Ok(())
    }
    /// Sends a watermark to every downstream.
    pub async fn watermark(&self, w: Watermark) -> Result<()> {
        self.send(Msg::Watermark(w)).await
    }
    /// Ends every downstream.
    pub async fn end(&self) -> Result<()> {
        self.send(Msg::End).await
    }
    /// Sends a checkpoint barrier to every downstream.
    pub async fn barrier(&self, id: u64) -> Result<()> {
        self.send(Msg::Barrier(id)).await
    }
    /// Sends a commit mark to every downstream.
    pub async fn mark(&self, id: u64) -> Result<()> {
        self.send(Msg::Mark(id)).await
    }
    async fn send(&self, msg: Msg) -> Result<()> {
        for o in &self.0 {
            o.tx.send(Envelope {
                slot: o.slot,
                msg: msg.clone(),
            })
            .await
            .map_err(|_| closed())?;
        }
        Ok(())
    }
    /// `batch` from a blocking thread (Kafka consumers).
    pub fn blocking_batch(&self, batch: &RecordBatch) -> Result<()> {
        for o in &self.0 {
            let msg = Msg::Batch(o.input, batch.clone());
            o.tx.blocking_send(Envelope { slot: o.slot, msg })
                .map_err(|_| closed())?;
        }
        Ok(())
    }
    /// `watermark`/`end` from a blocking thread.
    pub fn blocking_send(&self, msg: Msg) -> Result<()> {
        for o in &self.0 {
            o.tx.blocking_send(Envelope {
                slot: o.slot,
                msg: msg.clone(),
            })
            .map_err(|_| closed())?;
        }
        Ok(())
    }
}

/// Tracks the watermark and end of each upstream slot of a receiver.
#[derive(Debug, Clone)]
pub struct Inputs {
    watermarks: Vec<Watermark>,
    ended: Vec<bool>,
    current: Watermark,
}

impl Inputs {
    /// A receiver with `slots` upstream tasks.
    pub fn new(slots: usize) -> Self {
        Inputs {
            watermarks: vec![i64::MIN; slots],
            ended: vec![false; slots],
            current: i64::MIN,
        }
    }
    /// Records a slot's watermark; returns the new minimum if it moved.
    pub fn watermark(&mut self, slot: usize, w: Watermark) -> Option<Watermark> {
        if let Some(s) = self.watermarks.get_mut(slot) {
            *s = (*s).max(w);
        }
        self.advance()
    }
    /// Records a slot's end; returns the new minimum if it moved (ended slots do not hold
    /// the watermark back).
    pub fn end(&mut self, slot: usize) -> Option<Watermark> {
        if let Some(e) = self.ended.get_mut(slot) {
            *e = true;
        }
        self.advance()
    }
    /// Every slot has ended.
    pub fn all_ended(&self) -> bool {
        self.ended.iter().all(|e| *e)
    }
    /// The minimum watermark so far.
    pub fn current(&self) -> Watermark {
        self.current
    }
    /// Whether the input was drained to the end (watermark +∞), not stopped.
    pub fn drained(&self) -> bool {
        self.watermarks.iter().all(|w| *w == i64::MAX)
    }
    fn advance(&mut self) -> Option<Watermark> {
        let min = self
            .watermarks
            .iter()
            .zip(&self.ended)
            .filter(|(_, e)| !**e)
            .map(|(w, _)| *w)
            .min();
        // all ended: the watermark stays where the slots left it
        let min = min.unwrap_or_else(|| self.watermarks.iter().copied().min().unwrap_or(i64::MIN));
        (min > self.current).then(|| {
            self.current = min;
            min
        })
    }
}
