//! The test-data source of `weir test`: `<dir>/<source id>.jsonl` (or `.csv`), one record
//! per line, replayed in order (or shuffled within the watermark bound), parallelism 1.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Int64Type, TimestampMillisecondType};
use weir_model::model::Format;

use super::{Emitter, TimeMode};
use crate::decode::RawBatch;
use crate::error::{EngineError, Result};

/// How to replay a file.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// Reorder records randomly, never by more than the source's watermark bound.
    pub shuffle: Option<u64>,
    /// Sleep this long between records (live demo).
    pub delay_ms: u64,
    /// Records per batch when there is no delay.
    pub batch_size: usize,
}

/// The data file of `source` in `dir` and its format.
pub fn data_file(dir: &Path, source: &str) -> Result<(PathBuf, Format)> {
    let json = dir.join(format!("{source}.jsonl"));
    if json.exists() {
        return Ok((json, Format::Json));
    }
    let csv = dir.join(format!("{source}.csv"));
    if csv.exists() {
        return Ok((csv, Format::Csv));
    }
    Err(EngineError::Config(format!(
        "no test data for source `{source}`: expected {} or {}",
        json.display(),
        csv.display()
    )))
}

/// Lines of `path`, without empty trailing lines.
pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|source| EngineError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect())
}

/// A small deterministic generator (splitmix64), so shuffles repeat per seed.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// Order of `ts` after a bounded shuffle: sorted by `ts + U[0, bound)`, so a record ends
/// up behind the newest one before it by less than `bound` ms and is never late.
pub fn bounded_shuffle(ts: &[i64], bound_ms: u64, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix::new(seed);
    let mut keyed: Vec<(i64, u64, usize)> = ts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                t.saturating_add(rng.below(bound_ms.max(1)) as i64),
                rng.next_u64(),
                i,
            )
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, _, i)| i).collect()
}

/// Replays `lines` through `emitter` until done or `stop` is set.
pub fn replay(
    lines: &[String],
    emitter: &mut Emitter,
    replay: &Replay,
    watermark_ms: u64,
    stop: &AtomicBool,
) -> Result<()> {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    if let (Some(seed), TimeMode::Event(col)) = (replay.shuffle, emitter.time) {
        let mut raw = RawBatch::default();
        for (i, l) in lines.iter().enumerate() {
            raw.push(0, i as i64, l.as_bytes());
        }
        let decoded = emitter.decoder.decode(&raw)?;
        let column = decoded.batch.column(col).clone();
        let mut ts = vec![i64::MIN; lines.len()];
        for (row, record) in decoded.rows.iter().enumerate() {
            ts[*record] = match column.data_type() {
                DataType::Int64 => column.as_primitive::<Int64Type>().value(row),
                _ => column.as_primitive::<TimestampMillisecondType>().value(row),
            };
        }
        // bad lines stay next to the line before them
        for i in 1..ts.len() {
            if ts[i] == i64::MIN {
                ts[i] = ts[i - 1];
            }
        }
        order = bounded_shuffle(&ts, watermark_ms, seed);
    }
    let per_batch = if replay.delay_ms > 0 {
        1
    } else {
        replay.batch_size.max(1)
    };
    let mut raw = RawBatch::default();
    for chunk in order.chunks(per_batch) {
        if stop.load(Relaxed) {
            return emitter.end(false);
        }
        raw.clear();
        for &i in chunk {
            raw.push(0, i as i64, lines[i].as_bytes());
        }
        emitter.emit(&raw)?;
        if replay.delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(replay.delay_ms));
        }
    }
    emitter.finish_partition(0);
    emitter.end(true)
}

/// Shared stop flag of a pipeline.
pub type Stop = Arc<AtomicBool>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_shuffle_reorders_but_never_makes_a_record_late() {
        let ts: Vec<i64> = (0..2000).map(|i| i * 7).collect();
        for seed in 1..=20 {
            let order = bounded_shuffle(&ts, 1000, seed);
            assert_ne!(
                order,
                (0..ts.len()).collect::<Vec<_>>(),
                "seed {seed} reorders"
            );
            let mut max = i64::MIN;
            for &i in &order {
                assert!(
                    ts[i] > max.saturating_sub(1000),
                    "seed {seed}: record {i} would be late"
                );
                max = max.max(ts[i]);
            }
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..ts.len()).collect::<Vec<_>>(), "a permutation");
        }
    }
}
