//! Processing latency (event time to emit) as a fixed-bucket log histogram of atomics:
//! recording is a few relaxed `fetch_add`s per batch, with no lock and no allocation, and
//! the snapshot turns the counts of one sampling interval into p50 and p99.
//!
//! Buckets: 0–7 ms exactly, then four buckets per power of two (each at most 25% wide), up
//! to about 2^42 ms; a quantile is reported as its bucket's midpoint, within ±12.5%.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampMillisecondType};
use arrow::record_batch::RecordBatch;

/// Number of buckets: 8 exact ones, then 4 per power of two from 2^3 to 2^42 ms.
pub const BUCKETS: usize = 8 + 40 * 4;

/// At most this many rows of a batch are sampled (evenly spaced), so that the cost per
/// batch stays fixed however large the batch is.
pub const SAMPLES_PER_BATCH: usize = 64;

/// The bucket of a latency of `ms` milliseconds.
pub fn bucket(ms: u64) -> usize {
    if ms < 8 {
        return ms as usize;
    }
    let exp = 63 - ms.leading_zeros() as usize; // ≥ 3
    let sub = ((ms >> (exp - 2)) & 3) as usize;
    (8 + (exp - 3) * 4 + sub).min(BUCKETS - 1)
}

/// The lower and upper bounds (ms, upper exclusive) of bucket `index`.
pub fn bounds(index: usize) -> (u64, u64) {
    if index < 8 {
        return (index as u64, index as u64 + 1);
    }
    let exp = 3 + (index - 8) / 4;
    let sub = ((index - 8) % 4) as u64;
    ((4 + sub) << (exp - 2), (5 + sub) << (exp - 2))
}

/// The value reported for a bucket: its midpoint in milliseconds.
fn midpoint(index: usize) -> f64 {
    let (lo, hi) = bounds(index);
    (lo as f64 + hi as f64) / 2.0
}

/// Latency counts per bucket since the node started; never reset (a snapshot subtracts
/// the previous snapshot's counts to get one interval's distribution).
#[derive(Debug)]
pub struct LatencyHistogram {
    counts: [AtomicU64; BUCKETS],
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl LatencyHistogram {
    /// Counts one latency of `ms` milliseconds (negative ones, event time ahead of the
    /// clock, count as 0).
    pub fn record(&self, ms: i64) {
        if let Some(c) = self.counts.get(bucket(ms.max(0) as u64)) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// Samples up to [`SAMPLES_PER_BATCH`] rows of `batch`'s event-time `column` (a
    /// millisecond timestamp or a BIGINT of epoch milliseconds) against `now_ms`. A batch
    /// without that column, or with another type, is skipped; null times are skipped.
    pub fn record_batch(&self, batch: &RecordBatch, column: &str, now_ms: i64) {
        let Some(col) = batch.column_by_name(column) else {
            return;
        };
        let rows = col.len();
        if rows == 0 {
            return;
        }
        let step = rows.div_ceil(SAMPLES_PER_BATCH).max(1);
        let sample = |value: &dyn Fn(usize) -> i64| {
            for i in (0..rows).step_by(step) {
                if col.is_valid(i) {
                    self.record(now_ms.saturating_sub(value(i)));
                }
            }
        };
        match col.data_type() {
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                let a = col.as_primitive::<TimestampMillisecondType>();
                sample(&|i| a.value(i));
            }
            DataType::Int64 => {
                let a = col.as_primitive::<Int64Type>();
                sample(&|i| a.value(i));
            }
            _ => {}
        }
    }

    /// The cumulative counts now, or an empty vector when nothing was recorded yet.
    pub fn counts(&self) -> Vec<u64> {
        let counts: Vec<u64> = self.counts.iter().map(|c| c.load(Relaxed)).collect();
        if counts.iter().all(|c| *c == 0) {
            Vec::new()
        } else {
            counts
        }
    }
}

/// The `q` quantile (0 < q ≤ 1) in milliseconds of the samples counted in `now` and not in
/// `before` (cumulative counts, `before` possibly empty); `None` when there are none.
pub fn quantile(now: &[u64], before: &[u64], q: f64) -> Option<f64> {
    let delta = |i: usize| {
        let b = before.get(i).copied().unwrap_or(0);
        now.get(i).copied().unwrap_or(0).saturating_sub(b)
    };
    let total: u64 = (0..now.len()).map(delta).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for i in 0..now.len() {
        seen += delta(i);
        if seen >= rank {
            return Some(midpoint(i));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, TimestampMillisecondArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn every_value_falls_inside_its_bucket_and_buckets_are_contiguous() {
        for ms in (0..5000).chain([1 << 20, (1 << 20) + 12345, 1 << 40]) {
            let (lo, hi) = bounds(bucket(ms));
            assert!(lo <= ms && ms < hi, "{ms} not in [{lo}, {hi})");
        }
        for i in 1..BUCKETS {
            assert_eq!(bounds(i - 1).1, bounds(i).0, "gap before bucket {i}");
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_are_within_the_bucket_width_of_the_true_value() {
        let h = LatencyHistogram::default();
        for ms in 1..=1000 {
            h.record(ms);
        }
        let counts = h.counts();
        let p50 = quantile(&counts, &[], 0.5).expect("samples");
        let p99 = quantile(&counts, &[], 0.99).expect("samples");
        assert!((p50 - 500.0).abs() <= 500.0 * 0.125, "p50 {p50}");
        assert!((p99 - 990.0).abs() <= 990.0 * 0.125, "p99 {p99}");
    }

    #[test]
    fn a_quantile_covers_only_the_samples_since_the_previous_counts() {
        let h = LatencyHistogram::default();
        for _ in 0..100 {
            h.record(10_000);
        }
        let before = h.counts();
        assert_eq!(quantile(&before, &before, 0.5), None);
        for _ in 0..10 {
            h.record(3);
        }
        assert_eq!(quantile(&h.counts(), &before, 0.99), Some(3.5));
        assert_eq!(LatencyHistogram::default().counts(), Vec::<u64>::new());
    }

    #[test]
    fn a_batch_is_sampled_on_its_event_time_column_only() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
            Field::new("n", DataType::Int64, false),
        ]));
        let now = 1_000_000;
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(TimestampMillisecondArray::from(vec![
                    Some(now - 100),
                    None,
                    Some(now - 100),
                ])),
                Arc::new(Int64Array::from(vec![0; 3])),
            ],
        )
        .expect("batch");
        let h = LatencyHistogram::default();
        h.record_batch(&batch, "ts", now);
        let counts = h.counts();
        assert_eq!(counts.iter().sum::<u64>(), 2, "the null is skipped");
        let p50 = quantile(&counts, &[], 0.5).expect("samples");
        assert!((p50 - 100.0).abs() <= 12.5, "{p50}");
        h.record_batch(&batch, "missing", now);
        assert_eq!(h.counts().iter().sum::<u64>(), 2);
    }

    #[test]
    fn a_large_batch_costs_at_most_the_fixed_number_of_samples() {
        let schema = Arc::new(Schema::new(vec![Field::new("t", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![5; 8192]))])
            .expect("batch");
        let h = LatencyHistogram::default();
        h.record_batch(&batch, "t", 10);
        assert_eq!(h.counts().iter().sum::<u64>(), SAMPLES_PER_BATCH as u64);
        assert_eq!(quantile(&h.counts(), &[], 0.5), Some(5.5));
    }
}
