//! Barrier alignment (Chandy–Lamport, as Flink and Arroyo align): a task with several
//! upstream slots holds back what a slot sends after its barrier `n` until every slot
//! still running has sent barrier `n` too; then the task snapshots its state, forwards
//! the barrier and processes what it held back. A slot that ended counts as aligned. A
//! newer barrier while aligning gives up the older one (its checkpoint was aborted at a
//! source that skipped it).

use std::collections::VecDeque;
use std::time::Instant;

use crate::channel::{Envelope, Msg};

/// What the task does with a message it received.
#[derive(Debug)]
pub enum Step {
    /// Process it now.
    Process(Envelope),
    /// Nothing now (held back, or a stale barrier).
    Wait,
}

/// The alignment state of one task.
#[derive(Debug)]
pub struct Align {
    ended: Vec<bool>,
    arrived: Vec<bool>,
    /// The barrier being aligned (0: none).
    current: u64,
    /// The last barrier aligned.
    done: u64,
    started: Option<Instant>,
    held: VecDeque<Envelope>,
    released: VecDeque<Envelope>,
    aligned: Option<(u64, u64)>,
}

impl Align {
    /// A task with `slots` upstream slots.
    pub fn new(slots: usize) -> Self {
        Align {
            ended: vec![false; slots],
            arrived: vec![false; slots],
            current: 0,
            done: 0,
            started: None,
            held: VecDeque::new(),
            released: VecDeque::new(),
            aligned: None,
        }
    }

    /// A message held back earlier that may be processed now; take these before receiving.
    pub fn next_released(&mut self) -> Option<Envelope> {
        self.released.pop_front()
    }

    /// Offers a received (or released) message.
    pub fn offer(&mut self, env: Envelope) -> Step {
        let slot = env.slot;
        let blocked = self.current != 0 && self.arrived.get(slot).copied().unwrap_or(false);
        match env.msg {
            Msg::Barrier(id) if !blocked || id > self.current => self.barrier(slot, id, env),
            _ if blocked => {
                self.held.push_back(env);
                Step::Wait
            }
            Msg::End => {
                if let Some(e) = self.ended.get_mut(slot) {
                    *e = true;
                }
                self.check();
                Step::Process(env)
            }
            _ => Step::Process(env),
        }
    }

    fn barrier(&mut self, slot: usize, id: u64, env: Envelope) -> Step {
        if id <= self.done || (self.current != 0 && id < self.current) {
            return Step::Wait;
        }
        if id > self.current {
            if self.current != 0 {
                // a newer barrier: the older checkpoint was given up; what was held back
                // came before this barrier on its slot
                self.release();
            }
            self.current = id;
            self.arrived.iter_mut().for_each(|a| *a = false);
            self.started = Some(Instant::now());
        }
        let _ = env;
        if let Some(a) = self.arrived.get_mut(slot) {
            *a = true;
        }
        self.check();
        Step::Wait
    }

    fn release(&mut self) {
        let mut held = std::mem::take(&mut self.held);
        held.append(&mut self.released);
        self.released = held;
    }

    fn check(&mut self) {
        if self.current == 0 {
            return;
        }
        let all = self.arrived.iter().zip(&self.ended).all(|(a, e)| *a || *e);
        if all {
            let ms = self
                .started
                .take()
                .map_or(0, |s| s.elapsed().as_millis() as u64);
            self.aligned = Some((self.current, ms));
            self.done = self.current;
            self.current = 0;
            self.release();
        }
    }

    /// The barrier that every slot has now passed, with the alignment time in ms: the
    /// task snapshots and forwards it before processing anything released.
    pub fn take_aligned(&mut self) -> Option<(u64, u64)> {
        self.aligned.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(slot: usize, msg: Msg) -> Envelope {
        Envelope { slot, msg }
    }

    fn processed(a: &mut Align, e: Envelope) -> bool {
        matches!(a.offer(e), Step::Process(_))
    }

    #[test]
    fn a_single_slot_aligns_at_once() {
        let mut a = Align::new(1);
        assert!(!processed(&mut a, env(0, Msg::Barrier(1))));
        assert_eq!(a.take_aligned().map(|x| x.0), Some(1));
        assert!(processed(&mut a, env(0, Msg::Watermark(5))));
    }

    #[test]
    fn a_slot_past_its_barrier_is_held_until_the_others_arrive() {
        let mut a = Align::new(2);
        assert!(!processed(&mut a, env(0, Msg::Barrier(1))));
        assert!(a.take_aligned().is_none());
        assert!(!processed(&mut a, env(0, Msg::Watermark(7))), "held");
        assert!(processed(&mut a, env(1, Msg::Watermark(3))), "slot 1 runs");
        assert!(!processed(&mut a, env(1, Msg::Barrier(1))));
        assert_eq!(a.take_aligned().map(|x| x.0), Some(1));
        let r = a.next_released().expect("released");
        assert!(matches!(r.msg, Msg::Watermark(7)));
        assert!(processed(&mut a, r));
    }

    #[test]
    fn an_ended_slot_counts_as_aligned() {
        let mut a = Align::new(2);
        assert!(!processed(&mut a, env(0, Msg::Barrier(4))));
        assert!(processed(&mut a, env(1, Msg::End)));
        assert_eq!(a.take_aligned().map(|x| x.0), Some(4));
    }

    #[test]
    fn a_newer_barrier_gives_up_the_older_alignment() {
        let mut a = Align::new(2);
        assert!(!processed(&mut a, env(0, Msg::Barrier(1))));
        assert!(!processed(&mut a, env(0, Msg::Watermark(9))), "held");
        // slot 1's source skipped checkpoint 1
        assert!(!processed(&mut a, env(1, Msg::Barrier(2))));
        let r = a.next_released().expect("released");
        assert!(processed(&mut a, r), "slot 0 is not blocked for 2 yet");
        assert!(!processed(&mut a, env(0, Msg::Barrier(2))));
        assert_eq!(a.take_aligned().map(|x| x.0), Some(2));
        assert!(!processed(&mut a, env(1, Msg::Barrier(1))), "stale");
        assert!(a.take_aligned().is_none());
    }
}
