//! Event-time watermarks of a source, Flink's bounded-out-of-orderness convention: per
//! partition W_p = max event time seen − `watermark_ms`; the source's watermark is the
//! minimum over its partitions that are neither idle (no record for `idle_ms`) nor
//! finished. A record with event time < the current watermark is late.

use std::time::{Duration, Instant};

use crate::operator::Watermark;

#[derive(Debug, Clone)]
struct Partition {
    max_ts: i64,
    last_record: Instant,
    finished: bool,
}

/// Watermark state of one source task over its assigned partitions.
#[derive(Debug, Clone)]
pub struct WatermarkTracker {
    delay_ms: i64,
    idle: Duration,
    partitions: Vec<Partition>,
    current: Watermark,
}

impl WatermarkTracker {
    /// `partitions` is the number of partitions this task reads (index 0..n).
    pub fn new(partitions: usize, watermark_ms: u64, idle_ms: u64) -> Self {
        let now = Instant::now();
        WatermarkTracker {
            delay_ms: watermark_ms.min(i64::MAX as u64) as i64,
            idle: Duration::from_millis(idle_ms),
            partitions: vec![
                Partition {
                    max_ts: i64::MIN,
                    last_record: now,
                    finished: false
                };
                partitions.max(1)
            ],
            current: i64::MIN,
        }
    }

    /// The current watermark (never decreases).
    pub fn current(&self) -> Watermark {
        self.current
    }

    /// The state a checkpoint keeps: the watermark and each partition's largest event time.
    pub fn state(&self) -> (Watermark, Vec<i64>) {
        (
            self.current,
            self.partitions.iter().map(|p| p.max_ts).collect(),
        )
    }

    /// Takes back a checkpoint's state (`max_ts` by partition index; None: not seen).
    pub fn restore(&mut self, current: Watermark, max_ts: &[Option<i64>]) {
        for (p, ts) in self.partitions.iter_mut().zip(max_ts) {
            if let Some(ts) = ts {
                p.max_ts = p.max_ts.max(*ts);
            }
        }
        self.current = self.current.max(current);
    }

    /// Records one event of `partition`; returns false when it is late (to be dropped).
    /// The watermark advances immediately, so lateness is exact per record.
    pub fn observe(&mut self, partition: usize, ts: i64) -> bool {
        if ts < self.current {
            return false;
        }
        let Some(p) = self.partitions.get_mut(partition) else {
            return true;
        };
        p.last_record = Instant::now();
        if ts > p.max_ts {
            p.max_ts = ts;
            self.recompute(Instant::now(), false);
        }
        true
    }

    /// Marks a partition as done (bounded input reached its end); it no longer holds
    /// the watermark back.
    pub fn finish(&mut self, partition: usize) {
        if let Some(p) = self.partitions.get_mut(partition) {
            p.finished = true;
        }
        self.recompute(Instant::now(), false);
    }

    /// Re-evaluates idleness against the wall clock; returns the new watermark if it moved.
    pub fn tick(&mut self) -> Option<Watermark> {
        let before = self.current;
        self.recompute(Instant::now(), true);
        (self.current > before).then_some(self.current)
    }

    /// Every partition not finished is idle (no record for `idle_ms`, by the wall clock
    /// now): the task's watermark cannot move, so its downstreams set it aside (Flink's
    /// `WatermarkStatus.IDLE`). False when idleness is off (`idle_ms` 0) or every
    /// partition finished (the watermark is then +∞, not idle).
    pub fn all_idle(&self) -> bool {
        let now = Instant::now();
        let mut open = self.partitions.iter().filter(|p| !p.finished).peekable();
        open.peek().is_some() && open.all(|p| self.is_idle(p, now))
    }

    fn is_idle(&self, p: &Partition, now: Instant) -> bool {
        !self.idle.is_zero() && now.duration_since(p.last_record) >= self.idle
    }

    fn recompute(&mut self, now: Instant, check_idle: bool) {
        let mut min = i64::MAX;
        let mut active = 0usize;
        let mut all_finished = true;
        for p in &self.partitions {
            if p.finished {
                continue;
            }
            all_finished = false;
            // Idle partitions stop holding the watermark back (checked on ticks only, so
            // lateness decisions within a batch do not depend on timing).
            if check_idle && self.is_idle(p, now) {
                continue;
            }
            if p.max_ts == i64::MIN && !check_idle {
                // never seen a record: holds the watermark until it turns idle
                min = i64::MIN;
                active += 1;
                continue;
            }
            active += 1;
            min = min.min(p.max_ts.saturating_sub(self.delay_ms));
        }
        if all_finished {
            self.current = i64::MAX;
            return;
        }
        if active == 0 {
            // every open partition idle (ticks only): none will move the watermark, so
            // it takes the largest of theirs, as a receiver does when its last active
            // input turns idle (`channel::Inputs`); otherwise a partition that turned
            // idle just after an empty one would keep its records' windows open forever
            let max = self
                .partitions
                .iter()
                .filter(|p| !p.finished && p.max_ts != i64::MIN)
                .map(|p| p.max_ts.saturating_sub(self.delay_ms))
                .max();
            if let Some(max) = max.filter(|m| *m > self.current) {
                self.current = max;
            }
            return;
        }
        if min > self.current {
            self.current = min;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_over_partitions_and_lateness() {
        let mut w = WatermarkTracker::new(2, 1000, 60_000);
        assert!(w.observe(0, 10_000));
        assert_eq!(w.current(), i64::MIN, "partition 1 has no record yet");
        assert!(w.observe(1, 5_000));
        assert_eq!(w.current(), 4_000);
        assert!(w.observe(1, 20_000));
        assert_eq!(w.current(), 9_000);
        assert!(!w.observe(0, 8_999), "behind the watermark: late");
        assert!(w.observe(0, 9_000), "at the watermark: on time");
        w.finish(0);
        assert_eq!(w.current(), 19_000);
        w.finish(1);
        assert_eq!(w.current(), i64::MAX);
    }

    #[test]
    fn idle_partition_stops_holding_back() {
        let mut w = WatermarkTracker::new(2, 0, 50);
        assert!(w.observe(0, 10_000));
        std::thread::sleep(Duration::from_millis(60));
        // both partitions are idle by now: the watermark takes the largest of theirs
        assert_eq!(w.tick(), Some(10_000));
        assert!(w.observe(0, 11_000));
        assert_eq!(
            w.current(),
            10_000,
            "partition 1 still counts between ticks"
        );
        assert_eq!(
            w.tick(),
            Some(11_000),
            "partition 1 is idle and no longer holds back"
        );
    }

    #[test]
    fn all_idle_when_every_open_partition_has_had_no_record_for_idle_ms() {
        let mut w = WatermarkTracker::new(2, 0, 50);
        assert!(!w.all_idle(), "just started: nobody is idle yet");
        assert!(w.observe(0, 10_000));
        std::thread::sleep(Duration::from_millis(60));
        assert!(w.all_idle(), "no record on either partition for 50 ms");
        assert!(w.observe(1, 12_000));
        assert!(!w.all_idle(), "partition 1 just had a record");
        std::thread::sleep(Duration::from_millis(60));
        assert!(w.all_idle());
        w.finish(1);
        assert!(w.all_idle(), "a finished partition does not count");
        w.finish(0);
        assert!(
            !w.all_idle(),
            "all finished: the watermark is +inf, not idle"
        );
        assert_eq!(w.current(), i64::MAX);
    }

    #[test]
    fn when_every_partition_is_idle_the_watermark_takes_the_largest_of_theirs() {
        let mut w = WatermarkTracker::new(3, 1_000, 50);
        assert!(w.observe(0, 10_000));
        assert!(w.observe(1, 4_000));
        assert_eq!(w.current(), i64::MIN, "partition 2 has no record yet");
        std::thread::sleep(Duration::from_millis(60));
        // no tick saw partitions 0 and 1 active with 2 idle: all three are idle at once
        assert_eq!(w.tick(), Some(9_000), "max(10 000, 4 000) - 1 000");
        assert!(!w.observe(1, 5_000), "behind the watermark: late");
        assert!(w.observe(1, 12_000));
        assert_eq!(w.current(), 9_000, "idleness is re-checked on ticks only");
        assert_eq!(
            w.tick(),
            Some(11_000),
            "partitions 0 and 2 idle: 1 alone counts"
        );
    }

    #[test]
    fn never_idle_when_idleness_is_off() {
        let mut w = WatermarkTracker::new(1, 0, 0);
        assert!(w.observe(0, 1));
        std::thread::sleep(Duration::from_millis(10));
        assert!(!w.all_idle());
        assert_eq!(w.tick(), None);
    }
}
