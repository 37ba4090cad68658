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
    /// The sender's watermark status changed (Flink's `WatermarkStatus`): an idle sender
    /// gets no data, so its watermark must not hold the receiver back.
    Status(WatermarkStatus),
}

/// Whether a sender's watermark counts for its receivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatermarkStatus {
    /// The sender has data; its watermark counts.
    Active,
    /// Every input of the sender is idle: its watermark does not move and is set aside
    /// until it says `Active` again.
    Idle,
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
    /// Sends a watermark status to every downstream.
    pub async fn status(&self, s: WatermarkStatus) -> Result<()> {
        self.send(Msg::Status(s)).await
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

/// Tracks the watermark, status and end of each upstream slot of a receiver, as Flink's
/// `StatusWatermarkValve` does: the output watermark is the minimum over the slots that
/// are neither ended nor idle and whose watermark has caught up with the output (a slot
/// that turns active again is not aligned until its watermark reaches the output's; its
/// records may be late meanwhile). When every slot still running is idle, the receiver
/// itself is idle: the output moves once more, to the largest watermark among them, and
/// then stays until a slot is active again.
#[derive(Debug, Clone)]
pub struct Inputs {
    watermarks: Vec<Watermark>,
    ended: Vec<bool>,
    idle: Vec<bool>,
    aligned: Vec<bool>,
    current: Watermark,
    /// The status the receiver last announced downstream.
    announced_idle: bool,
}

impl Inputs {
    /// A receiver with `slots` upstream tasks, all active.
    pub fn new(slots: usize) -> Self {
        Inputs {
            watermarks: vec![i64::MIN; slots],
            ended: vec![false; slots],
            idle: vec![false; slots],
            aligned: vec![true; slots],
            current: i64::MIN,
            announced_idle: false,
        }
    }
    /// Records a slot's watermark; returns the new minimum if it moved.
    pub fn watermark(&mut self, slot: usize, w: Watermark) -> Option<Watermark> {
        if let Some(s) = self.watermarks.get_mut(slot) {
            *s = (*s).max(w);
            self.align(slot);
        }
        self.advance()
    }
    /// Records a slot's watermark status; returns the new output watermark if it moved:
    /// a slot that turns idle may have been the one holding the output back, and when the
    /// last active slot turns idle the output moves to the largest watermark of the idle
    /// slots (Flink's flush: none of them will move it any more, and each promised no
    /// record below its own).
    pub fn status(&mut self, slot: usize, s: WatermarkStatus) -> Option<Watermark> {
        let was_active = self.any_active();
        let idle = self.idle.get_mut(slot)?;
        match s {
            WatermarkStatus::Idle => {
                *idle = true;
                if let Some(a) = self.aligned.get_mut(slot) {
                    *a = false;
                }
            }
            WatermarkStatus::Active => {
                *idle = false;
                self.align(slot);
            }
        }
        self.advance().or_else(|| self.flush_idle(was_active))
    }
    /// Records a slot's end; returns the new minimum if it moved (ended slots do not hold
    /// the watermark back). Unlike a slot turning idle, an end never flushes the idle
    /// slots' watermarks: a stopped run fires nothing it would not have fired before.
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
    /// Every slot still running is idle (and one is still running).
    pub fn idle(&self) -> bool {
        let mut running = self
            .ended
            .iter()
            .zip(&self.idle)
            .filter(|(e, _)| !**e)
            .peekable();
        running.peek().is_some() && running.all(|(_, i)| *i)
    }
    /// The receiver's own status, when it changed since the last call: what to send
    /// downstream. `Active` goes before the watermark it releases, `Idle` after the last
    /// watermark. Nothing once every slot ended (the receiver ends too).
    pub fn status_change(&mut self) -> Option<WatermarkStatus> {
        let idle = self.idle();
        if idle == self.announced_idle || self.all_ended() {
            return None;
        }
        self.announced_idle = idle;
        Some(if idle {
            WatermarkStatus::Idle
        } else {
            WatermarkStatus::Active
        })
    }
    /// The minimum watermark so far.
    pub fn current(&self) -> Watermark {
        self.current
    }
    /// Whether the input was drained to the end (watermark +∞), not stopped.
    pub fn drained(&self) -> bool {
        self.watermarks.iter().all(|w| *w == i64::MAX)
    }
    /// Some slot is running and not idle.
    fn any_active(&self) -> bool {
        self.ended.iter().zip(&self.idle).any(|(e, i)| !*e && !*i)
    }
    /// The last active slot just turned idle: the output moves to the largest watermark
    /// among the running (idle) slots, if that is ahead of it.
    fn flush_idle(&mut self, was_active: bool) -> Option<Watermark> {
        if !was_active || !self.idle() {
            return None;
        }
        let max = (0..self.watermarks.len())
            .filter(|&i| !self.ended[i])
            .map(|i| self.watermarks[i])
            .max()?;
        (max > self.current).then(|| {
            self.current = max;
            max
        })
    }
    /// An active slot whose watermark caught up with the output counts again.
    fn align(&mut self, slot: usize) {
        let caught_up = self
            .watermarks
            .get(slot)
            .is_some_and(|w| *w >= self.current);
        let active = self.idle.get(slot).is_some_and(|i| !*i);
        if let Some(a) = self.aligned.get_mut(slot) {
            *a = *a || (active && caught_up);
        }
    }
    fn advance(&mut self) -> Option<Watermark> {
        let min = if self.all_ended() {
            // all ended: the watermark stays where the slots left it
            self.watermarks.iter().copied().min().unwrap_or(i64::MIN)
        } else {
            // every running slot idle or not caught up: the output does not move
            (0..self.watermarks.len())
                .filter(|&i| !self.ended[i] && !self.idle[i] && self.aligned[i])
                .map(|i| self.watermarks[i])
                .min()?
        };
        (min > self.current).then(|| {
            self.current = min;
            min
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use WatermarkStatus::{Active, Idle};

    #[test]
    fn the_minimum_over_running_slots() {
        let mut i = Inputs::new(2);
        assert_eq!(i.watermark(0, 100), None, "slot 1 is still at -inf");
        assert_eq!(i.watermark(1, 50), Some(50));
        assert_eq!(i.watermark(1, 200), Some(100));
        assert_eq!(i.end(0), Some(200), "an ended slot does not hold back");
        assert_eq!(i.status_change(), None, "nobody is idle");
        assert_eq!(i.watermark(1, i64::MAX), Some(i64::MAX));
        assert_eq!(i.end(1), None);
        assert!(i.all_ended());
        assert!(!i.drained(), "slot 0 ended at 100 (stopped), not at +inf");
    }

    #[test]
    fn an_idle_slot_is_set_aside() {
        let mut i = Inputs::new(3);
        assert_eq!(i.watermark(0, 1_000), None);
        assert_eq!(i.status(1, Idle), None, "slot 2 still holds at -inf");
        assert_eq!(i.status(2, Idle), Some(1_000), "only slot 0 is running");
        assert_eq!(
            i.status_change(),
            None,
            "slot 0 is active: so is the receiver"
        );
        assert_eq!(i.watermark(0, 5_000), Some(5_000));
        assert_eq!(i.current(), 5_000);
    }

    #[test]
    fn when_every_running_slot_is_idle_nothing_advances_and_the_receiver_is_idle() {
        let mut i = Inputs::new(2);
        assert_eq!(i.watermark(0, 3_000), None);
        assert_eq!(i.watermark(1, 2_000), Some(2_000));
        assert_eq!(i.status(1, Idle), Some(3_000));
        assert_eq!(i.status(0, Idle), None, "all idle: the output stays");
        assert_eq!(i.current(), 3_000);
        assert!(i.idle());
        assert_eq!(i.status_change(), Some(Idle));
        assert_eq!(i.status_change(), None, "announced once");
        assert_eq!(
            i.watermark(0, 9_000),
            None,
            "a watermark of an idle slot does not count"
        );
        assert_eq!(
            i.status(0, Active),
            Some(9_000),
            "caught up: it counts at once"
        );
        assert_eq!(i.status_change(), Some(Active));
    }

    #[test]
    fn an_ended_slot_with_only_idle_ones_left_makes_the_receiver_idle() {
        let mut i = Inputs::new(2);
        assert_eq!(i.status(1, Idle), None);
        assert_eq!(i.status_change(), None, "slot 0 is running");
        assert_eq!(i.watermark(0, 4_000), Some(4_000));
        assert_eq!(i.end(0), None, "slot 1 idle: no advance");
        assert_eq!(i.status_change(), Some(Idle));
        assert_eq!(i.end(1), None);
        assert_eq!(i.status_change(), None, "all ended: no status any more");
    }

    #[test]
    fn a_reactivated_slot_counts_only_once_it_caught_up() {
        let mut i = Inputs::new(2);
        assert_eq!(i.watermark(0, 1_000), None);
        assert_eq!(i.status(1, Idle), Some(1_000));
        assert_eq!(i.watermark(0, 10_000), Some(10_000));
        // slot 1 gets data again, its watermark far behind the output
        assert_eq!(i.status(1, Active), None);
        assert_eq!(
            i.watermark(1, 4_000),
            None,
            "behind the output: not aligned"
        );
        assert_eq!(
            i.watermark(0, 12_000),
            Some(12_000),
            "slot 1 does not hold back"
        );
        assert_eq!(i.watermark(1, 11_000), None, "still behind 12 000");
        assert_eq!(
            i.watermark(1, 12_500),
            None,
            "aligned now: the min is 12 000"
        );
        assert_eq!(i.watermark(0, 20_000), Some(12_500), "slot 1 counts again");
        assert_eq!(i.current(), 12_500);
    }

    #[test]
    fn when_the_last_active_slot_turns_idle_the_output_takes_the_largest_idle_watermark() {
        let mut i = Inputs::new(3);
        assert_eq!(i.watermark(0, 8_000), None);
        assert_eq!(i.watermark(1, 3_000), None);
        assert_eq!(i.watermark(2, 20_000), Some(3_000));
        assert_eq!(i.status(0, Idle), None, "slot 1 still holds at 3 000");
        assert_eq!(i.end(2), None, "slot 1 still holds at 3 000");
        assert_eq!(
            i.status(1, Idle),
            Some(8_000),
            "no slot will move the output: the largest of the running (idle) ones, not the ended slot's"
        );
        assert_eq!(i.status_change(), Some(Idle));
        // slot 1 comes back behind the output: late until it catches up
        assert_eq!(i.status(1, Active), None);
        assert_eq!(i.status_change(), Some(Active));
        assert_eq!(i.watermark(1, 6_000), None, "behind 8 000: not aligned");
        assert_eq!(i.watermark(1, 9_000), Some(9_000), "caught up: it counts");
        assert_eq!(i.current(), 9_000);
    }

    #[test]
    fn an_idle_slot_comes_back_an_ended_one_does_not() {
        let mut i = Inputs::new(2);
        assert_eq!(i.watermark(0, 1_000), None);
        assert_eq!(i.watermark(1, 2_000), Some(1_000));
        // slot 0 idle, slot 1 ended (stopped): neither holds back, nothing is running
        // actively, and an end does not flush
        assert_eq!(i.status(0, Idle), Some(2_000));
        assert_eq!(i.end(1), None);
        assert!(i.idle(), "slot 0 is still running, idle");
        assert!(!i.all_ended());
        assert_eq!(i.status_change(), Some(Idle));
        // the idle slot comes back and moves the output; the ended one never counts again
        assert_eq!(i.status(0, Active), None, "1 000 is behind 2 000");
        assert_eq!(i.status_change(), Some(Active));
        assert_eq!(i.watermark(0, 7_000), Some(7_000));
        assert_eq!(
            i.watermark(1, 50_000),
            None,
            "an ended slot's watermark is not taken"
        );
        assert_eq!(i.watermark(0, i64::MAX), Some(i64::MAX));
        assert_eq!(i.end(0), None);
        assert!(i.all_ended());
        assert!(!i.drained(), "slot 1 stopped before +inf");
        assert_eq!(i.status_change(), None, "all ended: no status");
    }

    #[test]
    fn a_reactivated_slot_alone_waits_for_its_watermark_to_catch_up() {
        let mut i = Inputs::new(1);
        assert_eq!(i.watermark(0, 5_000), Some(5_000));
        assert_eq!(i.status(0, Idle), None);
        assert_eq!(i.status_change(), Some(Idle));
        assert_eq!(i.status(0, Active), None);
        assert_eq!(i.status_change(), Some(Active));
        assert_eq!(
            i.watermark(0, 6_000),
            Some(6_000),
            "ahead of the output: aligned"
        );
    }
}
