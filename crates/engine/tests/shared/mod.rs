//! Pieces the SQL tests share: a seeded generator (splitmix64, so a failing seed can be
//! replayed), the test record of the windowed tests (key, category, value, event time)
//! with its Arrow schema and batches, arrival orders (shuffled within the watermark bound,
//! or with some records held back beyond it), an independent account of the late ones,
//! feeding an operator, and result rows as sorted text lines.
// Each test crate uses a part of this module.
#![allow(dead_code)]

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::util::display::array_value_to_string;
use weir_engine::Operator;
use weir_engine::sql::SqlOperator;

/// splitmix64: small, seeded, the same sequence on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// One record of the windowed tests: key, category, value, event time (epoch ms).
#[derive(Clone, Debug)]
pub struct Rec {
    pub k: String,
    pub c: String,
    pub v: f64,
    pub ts: i64,
}

/// The schema of [`Rec`] rows: k, c, v, ts.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("c", DataType::Utf8, true),
        Field::new("v", DataType::Float64, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
    ]))
}

/// `recs` as one batch of [`schema`].
pub fn batch(recs: &[Rec]) -> RecordBatch {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            recs.iter().map(|r| r.k.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            recs.iter().map(|r| r.c.as_str()),
        )),
        Arc::new(Float64Array::from_iter_values(recs.iter().map(|r| r.v))),
        Arc::new(TimestampMillisecondArray::from_iter_values(
            recs.iter().map(|r| r.ts),
        )),
    ];
    RecordBatch::try_new(schema(), cols).unwrap()
}

/// Rows as sorted text lines; timestamps as epoch ms.
pub fn lines(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let cols: Vec<ArrayRef> = b
            .columns()
            .iter()
            .map(|c| match c.data_type() {
                DataType::Timestamp(..) => cast(c, &DataType::Int64).unwrap(),
                _ => Arc::clone(c),
            })
            .collect();
        for i in 0..b.num_rows() {
            let row: Vec<String> = cols
                .iter()
                .map(|c| array_value_to_string(c, i).unwrap())
                .collect();
            out.push(row.join("|"));
        }
    }
    out.sort();
    out
}

/// Arrival order: sorted by ts + jitter, jitter < `bound`, so every record is less than
/// `bound` behind the newest record before it (none is late).
pub fn shuffle_within(recs: &[Rec], seed: u64, bound: i64) -> Vec<Rec> {
    let mut rng = Rng(seed);
    let mut keyed: Vec<(i64, usize)> = recs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.ts + rng.below(bound as u64) as i64, i))
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, i)| recs[i].clone()).collect()
}

/// Arrival order: as [`shuffle_within`], but about one record in 20 is held back by 5 to
/// 30 s, so it may arrive behind the watermark.
pub fn hold_back(recs: &[Rec], seed: u64, bound: i64) -> Vec<Rec> {
    let mut rng = Rng(seed);
    let mut keyed: Vec<(i64, usize)> = recs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let hold = if rng.below(20) == 0 {
                5_000 + rng.below(25_000) as i64
            } else {
                rng.below(bound as u64) as i64
            };
            (r.ts + hold, i)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, i)| recs[i].clone()).collect()
}

/// An account of lateness independent of the engine: fed in batches of `batch_rows`, a
/// record is late when its time is before the watermark (newest time − `bound`) given
/// after the previous batches. Returns the records on time and the number late.
pub fn split_late(arrival: &[Rec], batch_rows: usize, bound: i64) -> (Vec<Rec>, u64) {
    let mut on_time = Vec::new();
    let mut late = 0u64;
    let mut watermark = i64::MIN;
    let mut max_ts = i64::MIN;
    for chunk in arrival.chunks(batch_rows) {
        for r in chunk {
            if r.ts < watermark {
                late += 1;
            } else {
                on_time.push(r.clone());
            }
        }
        max_ts = max_ts.max(chunk.iter().map(|r| r.ts).max().unwrap());
        watermark = watermark.max(max_ts - bound);
    }
    (on_time, late)
}

/// Feeds `arrival` to `op` in batches of `batch_rows`, with the watermark newest time −
/// `bound` after each (`max_ts` carries the newest time across calls); returns the rows.
pub fn feed(
    op: &mut SqlOperator,
    arrival: &[Rec],
    batch_rows: usize,
    bound: i64,
    max_ts: &mut i64,
) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    for chunk in arrival.chunks(batch_rows) {
        op.on_batch(0, batch(chunk), &mut out).unwrap();
        *max_ts = (*max_ts).max(chunk.iter().map(|r| r.ts).max().unwrap());
        op.on_watermark(*max_ts - bound, &mut out).unwrap();
    }
    out
}
