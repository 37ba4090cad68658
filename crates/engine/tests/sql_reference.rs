//! Streamed windowed aggregation against an independent reference: the same data as
//! one DataFusion batch query, with the windows computed by arithmetic on epoch
//! milliseconds (and UNNEST of a series for HOP and CUMULATE). Records arrive shuffled,
//! each less than the watermark bound behind the newest: the results must be identical;
//! records displaced further must be exactly the ones counted late.
// Helpers outside #[test] functions unwrap and panic too: that is a failed test, and
// clippy's allow-*-in-tests settings cover only the test functions themselves.
#![allow(clippy::unwrap_used, clippy::panic)]

mod shared;

use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use shared::{Rec, Rng, feed, hold_back, lines, schema, shuffle_within, split_late};
use weir_engine::Operator;
use weir_engine::sql::{InputTable, SqlOperator};

const BOUND: i64 = 3_000;
const START: i64 = 1_772_359_200_000; // 2026-03-01 10:00 UTC

fn data(seed: u64, n: usize) -> Vec<Rec> {
    let mut rng = Rng(seed);
    let mut ts = START;
    (0..n)
        .map(|_| {
            ts += rng.below(400) as i64;
            Rec {
                k: format!("k{}", rng.below(4)),
                c: format!("c{}", rng.below(3)),
                v: rng.below(100) as f64,
                ts,
            }
        })
        .collect()
}

const AGGS: &str =
    "COUNT(*) AS n, COUNT(DISTINCT c) AS dc, SUM(v) AS s, MIN(v) AS mn, MAX(v) AS mx, AVG(v) AS a";

struct Case {
    name: &'static str,
    stream: String,
    reference: String,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "tumble",
            stream: format!(
                "SELECT k, window_start, window_end, {AGGS} FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND)) WHERE v >= 5 GROUP BY k, window_start, window_end"
            ),
            reference: format!(
                "SELECT k, ws, ws + 10000 AS we, {AGGS} FROM (SELECT *, ts_ms - ts_ms % 10000 AS ws FROM r) WHERE v >= 5 GROUP BY k, ws"
            ),
        },
        Case {
            name: "hop",
            stream: format!(
                "SELECT k, window_start, window_end, {AGGS} FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '20' SECOND)) GROUP BY k, window_start, window_end HAVING COUNT(*) > 2"
            ),
            reference: format!(
                "SELECT k, ws, ws + 20000 AS we, {AGGS} FROM (SELECT *, UNNEST(generate_series(ts_ms - ts_ms % 5000 - 15000, ts_ms - ts_ms % 5000, 5000)) AS ws FROM r) GROUP BY k, ws HAVING COUNT(*) > 2"
            ),
        },
        Case {
            name: "cumulate",
            stream: format!(
                "SELECT k, window_start, window_end, {AGGS} FROM TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '4' SECOND, INTERVAL '12' SECOND)) GROUP BY k, window_start, window_end"
            ),
            reference: format!(
                "SELECT k, ws, we, {AGGS} FROM (SELECT *, UNNEST(generate_series(ws + (ts_ms - ws) / 4000 * 4000 + 4000, ws + 12000, 4000)) AS we FROM (SELECT *, ts_ms - ts_ms % 12000 AS ws FROM r)) GROUP BY k, ws, we"
            ),
        },
    ]
}

/// The reference result over `recs` (arrival order irrelevant).
fn reference(sql: &str, recs: &[Rec]) -> Vec<String> {
    let s = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("c", DataType::Utf8, true),
        Field::new("v", DataType::Float64, true),
        Field::new("ts_ms", DataType::Int64, true),
    ]));
    let b = RecordBatch::try_new(
        Arc::clone(&s),
        vec![
            Arc::new(StringArray::from_iter_values(
                recs.iter().map(|r| r.k.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                recs.iter().map(|r| r.c.as_str()),
            )),
            Arc::new(Float64Array::from_iter_values(recs.iter().map(|r| r.v))),
            Arc::new(Int64Array::from_iter_values(recs.iter().map(|r| r.ts))),
        ],
    )
    .unwrap();
    let ctx = SessionContext::new();
    ctx.register_table("r", Arc::new(MemTable::try_new(s, vec![vec![b]]).unwrap()))
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let out = rt.block_on(async { ctx.sql(sql).await.unwrap().collect().await.unwrap() });
    lines(&out)
}

/// Stream `arrival` in batches of `batch_rows`, watermark = max ts - BOUND after each.
fn stream(sql: &str, arrival: &[Rec], batch_rows: usize) -> (Vec<String>, u64) {
    let input = InputTable {
        name: "t".into(),
        schema: schema(),
        event_time: Some("ts".into()),
    };
    let mut op = SqlOperator::new("ref", sql, &[input]).unwrap();
    let mut max_ts = i64::MIN;
    let mut out = feed(&mut op, arrival, batch_rows, BOUND, &mut max_ts);
    op.close(&mut out).unwrap();
    (lines(&out), op.late_rows())
}

#[test]
fn shuffles_within_the_bound_give_the_batch_result() {
    let recs = data(7, 1500);
    for case in cases() {
        let want = reference(&case.reference, &recs);
        assert!(want.len() > 20, "{}: the reference has rows", case.name);
        for seed in 0..20u64 {
            let arrival = shuffle_within(&recs, 100 + seed, BOUND);
            let batch_rows = 1 + (seed as usize * 13) % 97;
            let (got, late) = stream(&case.stream, &arrival, batch_rows);
            assert_eq!(late, 0, "{} seed {seed}", case.name);
            assert_eq!(
                got, want,
                "{} seed {seed} (batches of {batch_rows})",
                case.name
            );
        }
    }
}

#[test]
fn records_beyond_the_bound_are_exactly_the_late_ones() {
    let recs = data(11, 1200);
    for case in cases() {
        for seed in 0..5u64 {
            // within the bound, then some records held back by 5 to 30 s
            let arrival = hold_back(&recs, 900 + seed, BOUND);
            let batch_rows = 10;
            let (on_time, late) = split_late(&arrival, batch_rows, BOUND);
            assert!(late > 10, "the shuffle makes late records");
            let (got, counted) = stream(&case.stream, &arrival, batch_rows);
            assert_eq!(counted, late, "{} seed {seed}: late count", case.name);
            assert_eq!(
                got,
                reference(&case.reference, &on_time),
                "{} seed {seed}",
                case.name
            );
        }
    }
}
