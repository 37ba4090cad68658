//! SESSION windows and the legacy group windows against independent references.
//!
//! Flink's rule for sessions (flink-table-runtime `SessionWindowAssigner` and
//! `TimeWindow.intersects`: `start <= other.end && end >= other.start`): a row opens
//! `[ts, ts + gap)` and windows of a key that overlap *or touch* merge. So, per key with
//! rows sorted by time, a session is cut only where the next row is more than `gap` after
//! the previous one; a row exactly `gap` later joins. The reference below computes that by
//! plain sorting, without the engine's merging code.
// Helpers outside #[test] functions unwrap and panic too: that is a failed test, and
// clippy's allow-*-in-tests settings cover only the test functions themselves.
#![allow(clippy::unwrap_used, clippy::panic)]

mod shared;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use shared::{Rec, Rng, batch, feed, hold_back, lines, schema, shuffle_within, split_late};
use weir_engine::Operator;
use weir_engine::sql::{InputTable, SqlOperator};

/// Event times are whole 10 ms and the bound ends in 5: a watermark never equals a
/// session end, so whether a row touching a session arrives before or after it fires
/// never depends on arrival order.
const BOUND: i64 = 3_005;
const GAP: i64 = 5_000;
const START: i64 = 1_772_359_200_000; // 2026-03-01 10:00 UTC

/// Rows of 4 keys; per key the steps are short (same session), exactly GAP (touching:
/// same session) or longer (a new session).
fn data(seed: u64, n: usize) -> Vec<Rec> {
    let mut rng = Rng(seed);
    let mut at: Vec<i64> = vec![START; 4];
    let mut out: Vec<Rec> = (0..n)
        .map(|_| {
            let key = rng.below(4) as usize;
            let step = match rng.below(10) {
                0 => GAP,
                1 => GAP + 10,
                2 | 3 => GAP + 10 * rng.below(1_000) as i64,
                _ => 10 * rng.below(200) as i64,
            };
            at[key] += step;
            Rec {
                k: format!("k{key}"),
                c: format!("c{}", rng.below(3)),
                v: rng.below(100) as f64,
                ts: at[key],
            }
        })
        .collect();
    out.sort_by_key(|r| r.ts);
    out
}

/// The sessions of `recs` per key (`key` of a row) by plain sorting: cut where the next
/// row of the key is more than GAP after the previous one. (key, start, end, rows).
fn sessionize(recs: &[Rec], key: impl Fn(&Rec) -> String) -> Vec<(String, i64, i64, Vec<&Rec>)> {
    let mut by_key: BTreeMap<String, Vec<&Rec>> = BTreeMap::new();
    for r in recs {
        by_key.entry(key(r)).or_default().push(r);
    }
    let mut out = Vec::new();
    for (k, mut rows) in by_key {
        rows.sort_by_key(|r| r.ts);
        let mut sessions: Vec<Vec<&Rec>> = Vec::new();
        for r in rows {
            match sessions.last_mut() {
                Some(s) if r.ts - s[s.len() - 1].ts <= GAP => s.push(r),
                _ => sessions.push(vec![r]),
            }
        }
        for s in sessions {
            let start = s[0].ts;
            let end = s[s.len() - 1].ts + GAP;
            out.push((k.clone(), start, end, s));
        }
    }
    out
}

/// Per key `k`, lines `k|start|end|count|distinct c|sum|min|max`, sorted.
fn reference(recs: &[Rec]) -> Vec<String> {
    let mut out: Vec<String> = sessionize(recs, |r| r.k.clone())
        .into_iter()
        .map(|(k, start, end, s)| {
            let distinct: BTreeSet<&str> = s.iter().map(|r| r.c.as_str()).collect();
            let sum: f64 = s.iter().map(|r| r.v).sum();
            let min = s.iter().map(|r| r.v).fold(f64::INFINITY, f64::min);
            let max = s.iter().map(|r| r.v).fold(f64::NEG_INFINITY, f64::max);
            // `{:?}` writes floats as arrow does: 3.0, not 3
            format!(
                "{k}|{start}|{end}|{}|{}|{sum:?}|{min:?}|{max:?}",
                s.len(),
                distinct.len()
            )
        })
        .collect();
    out.sort();
    out
}

const SESSION_Q: &str = "SELECT k, window_start, window_end, COUNT(*) AS n, COUNT(DISTINCT c) AS dc, SUM(v) AS s, MIN(v) AS mn, MAX(v) AS mx
FROM TABLE(SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' SECOND))
GROUP BY k, window_start, window_end";

/// Flink 1.x form, without PARTITION BY: sessions are still per GROUP BY key.
const SESSION_Q_NO_PARTITION: &str = "SELECT k, window_start, window_end, COUNT(*) AS n, COUNT(DISTINCT c) AS dc, SUM(v) AS s, MIN(v) AS mn, MAX(v) AS mx
FROM TABLE(SESSION(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND))
GROUP BY window_start, window_end, k";

fn operator(sql: &str) -> SqlOperator {
    let input = InputTable {
        name: "t".into(),
        schema: schema(),
        event_time: Some("ts".into()),
    };
    SqlOperator::new("session", sql, &[input]).unwrap()
}

fn stream(sql: &str, arrival: &[Rec], batch_rows: usize) -> (Vec<String>, u64) {
    let mut op = operator(sql);
    let mut max_ts = i64::MIN;
    let mut out = feed(&mut op, arrival, batch_rows, BOUND, &mut max_ts);
    op.close(&mut out).unwrap();
    (lines(&out), op.late_rows())
}

fn rec(k: &str, ts: i64, v: f64) -> Rec {
    Rec {
        k: k.into(),
        c: "c0".into(),
        v,
        ts: START + ts,
    }
}

#[test]
fn shuffles_within_the_bound_give_the_sorted_sessions() {
    let recs = data(5, 1500);
    let want = reference(&recs);
    assert!(want.len() > 100, "many sessions: {}", want.len());
    // the data holds steps of exactly GAP inside a key: touching sessions merged
    let touching = {
        let mut by_key: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for r in &recs {
            by_key.entry(&r.k).or_default().push(r.ts);
        }
        by_key
            .values()
            .flat_map(|ts| ts.windows(2).map(|w| w[1] - w[0]))
            .filter(|d| *d == GAP)
            .count()
    };
    assert!(touching > 20, "steps of exactly the gap: {touching}");
    for sql in [SESSION_Q, SESSION_Q_NO_PARTITION] {
        // in event-time order, row by row and in one batch
        for batch_rows in [1, recs.len()] {
            let (got, late) = stream(sql, &recs, batch_rows);
            assert_eq!(late, 0);
            assert_eq!(got, want, "in order, batches of {batch_rows}");
        }
        for seed in 0..20u64 {
            let arrival = shuffle_within(&recs, 300 + seed, BOUND);
            let batch_rows = 1 + (seed as usize * 13) % 97;
            let (got, late) = stream(sql, &arrival, batch_rows);
            assert_eq!(late, 0, "seed {seed}");
            assert_eq!(got, want, "seed {seed} (batches of {batch_rows})");
        }
    }
}

#[test]
fn a_row_late_within_the_bound_bridges_two_sessions() {
    let mut op = operator(SESSION_Q);
    let mut out = Vec::new();
    // k: [0, 5000) and [9000, 14000); b: [1000, 6000)
    op.on_batch(
        0,
        batch(&[rec("k", 0, 1.0), rec("k", 9_000, 2.0), rec("b", 1_000, 7.0)]),
        &mut out,
    )
    .unwrap();
    op.on_watermark(START + 4_000, &mut out).unwrap();
    assert_eq!(op.open_windows(), 3);
    assert!(out.is_empty());
    // [4500, 9500) overlaps both sessions of k: one session [0, 14000)
    op.on_batch(0, batch(&[rec("k", 4_500, 4.0)]), &mut out)
        .unwrap();
    assert_eq!(op.open_windows(), 2);
    op.on_watermark(START + 6_000, &mut out).unwrap();
    assert_eq!(
        lines(&out),
        [format!(
            "b|{}|{}|1|1|7.0|7.0|7.0",
            START + 1_000,
            START + 6_000
        )]
    );
    op.on_watermark(START + 14_000, &mut out).unwrap();
    let want = reference(&[
        rec("k", 0, 1.0),
        rec("k", 9_000, 2.0),
        rec("b", 1_000, 7.0),
        rec("k", 4_500, 4.0),
    ]);
    assert_eq!(lines(&out), want);
    assert!(want.contains(&format!("k|{}|{}|3|1|7.0|1.0|4.0", START, START + 14_000)));
    assert_eq!(op.open_windows(), 0);
}

#[test]
fn the_gap_boundary_follows_flink() {
    // exactly GAP apart: [0, 5000) and [5000, 10000) touch and merge (Flink's
    // TimeWindow.intersects is inclusive); GAP + 1 ms apart: two sessions
    let recs = [
        rec("a", 0, 1.0),
        rec("a", GAP, 2.0),
        rec("b", 0, 1.0),
        rec("b", GAP + 1, 2.0),
    ];
    let (got, late) = stream(SESSION_Q, &recs, 10);
    assert_eq!(late, 0);
    assert_eq!(
        got,
        [
            format!("a|{START}|{}|2|1|3.0|1.0|2.0", START + 2 * GAP),
            format!("b|{START}|{}|1|1|1.0|1.0|1.0", START + GAP),
            format!(
                "b|{}|{}|1|1|2.0|2.0|2.0",
                START + GAP + 1,
                START + 2 * GAP + 1
            ),
        ]
    );
    assert_eq!(got, reference(&recs));
}

#[test]
fn rows_beyond_the_bound_are_exactly_the_late_ones() {
    let recs = data(17, 1200);
    for seed in 0..5u64 {
        let arrival = hold_back(&recs, 700 + seed, BOUND);
        let batch_rows = 10;
        let (on_time, late) = split_late(&arrival, batch_rows, BOUND);
        assert!(late > 10, "the shuffle makes late rows");
        let (got, counted) = stream(SESSION_Q, &arrival, batch_rows);
        assert_eq!(counted, late, "seed {seed}: late count");
        assert_eq!(got, reference(&on_time), "seed {seed}");
    }
}

#[test]
fn a_checkpoint_inside_open_sessions_restores_them() {
    // hand-made: a session open across the checkpoint is bridged after the restore
    let mut op = operator(SESSION_Q);
    let mut out = Vec::new();
    op.on_batch(
        0,
        batch(&[rec("k", 0, 1.0), rec("k", 9_000, 2.0)]),
        &mut out,
    )
    .unwrap();
    op.on_watermark(START + 1_000, &mut out).unwrap();
    let state = op.snapshot().unwrap();
    let mut again = operator(SESSION_Q);
    again.restore(&state).unwrap();
    assert_eq!(again.open_windows(), 2);
    again
        .on_batch(0, batch(&[rec("k", 4_500, 4.0)]), &mut out)
        .unwrap();
    again.close(&mut out).unwrap();
    assert_eq!(
        lines(&out),
        [format!("k|{START}|{}|3|1|7.0|1.0|4.0", START + 14_000)]
    );

    // the generated data, cut at several points of the stream
    let recs = data(23, 1000);
    let arrival = shuffle_within(&recs, 41, BOUND);
    let want = reference(&recs);
    for cut in [137, 500, 871] {
        let mut first = operator(SESSION_Q);
        let mut max_ts = i64::MIN;
        let mut out = feed(&mut first, &arrival[..cut], 7, BOUND, &mut max_ts);
        assert!(first.open_windows() > 0, "sessions open at the checkpoint");
        let state = first.snapshot().unwrap();
        // the running operator goes on unchanged after its snapshot
        let mut cont_out = out.clone();
        let mut cont_max = max_ts;
        cont_out.extend(feed(&mut first, &arrival[cut..], 7, BOUND, &mut cont_max));
        first.close(&mut cont_out).unwrap();
        assert_eq!(lines(&cont_out), want, "cut {cut}: without restore");

        let mut second = operator(SESSION_Q);
        second.restore(&state).unwrap();
        out.extend(feed(&mut second, &arrival[cut..], 7, BOUND, &mut max_ts));
        second.close(&mut out).unwrap();
        assert_eq!(lines(&out), want, "cut {cut}: restored");
    }
}

/// The rows of a query over `recs` streamed in order, as sorted lines.
fn run(sql: &str, recs: &[Rec]) -> Vec<String> {
    let (got, late) = stream(sql, &shuffle_within(recs, 9, BOUND), 31);
    assert_eq!(late, 0);
    got
}

#[test]
fn legacy_group_windows_equal_their_table_function_form() {
    let recs = data(31, 800);
    let pairs = [
        (
            "SELECT k, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, TUMBLE_END(ts, INTERVAL '10' SECOND) AS we, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY TUMBLE(ts, INTERVAL '10' SECOND), k",
            "SELECT k, window_start AS ws, window_end AS we, COUNT(*) AS n, SUM(v) AS s FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k",
        ),
        (
            "SELECT HOP_START(ts, INTERVAL '5' SECOND, INTERVAL '20' SECOND) AS ws, k, HOP_END(ts, INTERVAL '5' SECOND, INTERVAL '20' SECOND) AS we, MAX(v) AS mx FROM t GROUP BY k, HOP(ts, INTERVAL '5' SECOND, INTERVAL '20' SECOND) HAVING COUNT(*) > 2",
            "SELECT window_start AS ws, k, window_end AS we, MAX(v) AS mx FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '20' SECOND)) GROUP BY k, window_start, window_end HAVING COUNT(*) > 2",
        ),
        (
            "SELECT k, SESSION_START(ts, INTERVAL '5' SECOND) AS ws, SESSION_END(ts, INTERVAL '5' SECOND) AS we, COUNT(*) AS n, COUNT(DISTINCT c) AS dc, SUM(v) AS s, MIN(v) AS mn, MAX(v) AS mx FROM t GROUP BY k, SESSION(ts, INTERVAL '5' SECOND)",
            SESSION_Q,
        ),
    ];
    for (legacy, tvf) in pairs {
        let got = run(legacy, &recs);
        assert!(got.len() > 20, "{legacy}: rows");
        assert_eq!(got, run(tvf, &recs), "{legacy}");
    }
    // and the session one is the sorted reference
    assert_eq!(run(pairs[2].0, &recs), reference(&recs));
}

#[test]
fn legacy_tumble_equals_a_batch_query_with_arithmetic_windows() {
    let recs = data(37, 900);
    let legacy = "SELECT k, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, TUMBLE_END(ts, INTERVAL '10' SECOND), TUMBLE_ROWTIME(ts, INTERVAL '10' SECOND) AS rt, COUNT(*) AS n, SUM(v) AS s FROM t WHERE v >= 5 GROUP BY TUMBLE(ts, INTERVAL '10' SECOND), k";
    let op = operator(legacy);
    let names: Vec<String> = op
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "k",
            "ws",
            "TUMBLE_END(ts, INTERVAL '10' SECOND)",
            "rt",
            "n",
            "s"
        ]
    );
    assert!(matches!(
        op.schema().field(3).data_type(),
        DataType::Timestamp(TimeUnit::Millisecond, _)
    ));
    let reference_sql = "SELECT k, ws, ws + 10000 AS we, ws + 9999 AS rt, COUNT(*) AS n, SUM(v) AS s FROM (SELECT *, ts_ms - ts_ms % 10000 AS ws FROM r) WHERE v >= 5 GROUP BY k, ws";
    let s = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("v", DataType::Float64, true),
        Field::new("ts_ms", DataType::Int64, true),
    ]));
    let b = RecordBatch::try_new(
        Arc::clone(&s),
        vec![
            Arc::new(StringArray::from_iter_values(
                recs.iter().map(|r| r.k.as_str()),
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
    let want = rt.block_on(async {
        ctx.sql(reference_sql)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap()
    });
    let want = lines(&want);
    assert!(want.len() > 50);
    assert_eq!(run(legacy, &recs), want);
}

#[test]
fn sessions_are_kept_per_key_of_several_columns_or_over_all_rows() {
    let recs = data(43, 1200);
    let arrival = shuffle_within(&recs, 44, BOUND);
    // PARTITION BY two columns, grouped by both
    let q = "SELECT k, c, window_start, window_end, COUNT(*) AS n, SUM(v) AS s
        FROM TABLE(SESSION(TABLE t PARTITION BY (k, c), DESCRIPTOR(ts), INTERVAL '5' SECOND))
        GROUP BY window_start, window_end, k, c";
    let mut want: Vec<String> = sessionize(&recs, |r| format!("{}|{}", r.k, r.c))
        .into_iter()
        .map(|(key, start, end, s)| {
            let sum: f64 = s.iter().map(|r| r.v).sum();
            format!("{key}|{start}|{end}|{}|{sum:?}", s.len())
        })
        .collect();
    want.sort();
    let (got, late) = stream(q, &arrival, 17);
    assert_eq!(late, 0);
    assert_eq!(got, want);
    // a (k, c) session is not a k session: the two keyings give other rows
    assert_ne!(got.len(), reference(&recs).len());

    // no key at all: sessions over every row, as Flink's SESSION without PARTITION BY
    // and a GROUP BY of only the window columns
    let q = "SELECT window_start, window_end, COUNT(*) AS n, MAX(v) AS mx
        FROM TABLE(SESSION(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND))
        GROUP BY window_start, window_end";
    let mut want: Vec<String> = sessionize(&recs, |_| String::new())
        .into_iter()
        .map(|(_, start, end, s)| {
            let max = s.iter().map(|r| r.v).fold(f64::NEG_INFINITY, f64::max);
            format!("{start}|{end}|{}|{max:?}", s.len())
        })
        .collect();
    want.sort();
    assert!(want.len() > 5, "sessions over all rows: {}", want.len());
    let (got, late) = stream(q, &arrival, 5);
    assert_eq!(late, 0);
    assert_eq!(got, want);
}

#[test]
fn legacy_rowtime_is_the_last_millisecond_of_the_window() {
    let recs = data(47, 700);
    // SESSION_ROWTIME against the sorted sessions
    let q = "SELECT k, SESSION_START(ts, INTERVAL '5' SECOND) AS ws, SESSION_ROWTIME(ts, INTERVAL '5' SECOND) AS rt, COUNT(*) AS n FROM t GROUP BY SESSION(ts, INTERVAL '5' SECOND), k";
    let op = operator(q);
    assert!(matches!(
        op.schema().field(2).data_type(),
        DataType::Timestamp(TimeUnit::Millisecond, _)
    ));
    let mut want: Vec<String> = sessionize(&recs, |r| r.k.clone())
        .into_iter()
        .map(|(k, start, end, s)| format!("{k}|{start}|{}|{}", end - 1, s.len()))
        .collect();
    want.sort();
    assert_eq!(run(q, &recs), want);

    // HOP_START / HOP_END / HOP_ROWTIME against windows counted by hand: a row at ts is in
    // the 4 windows [s, s + 20 s) with s a multiple of 5 s and s <= ts < s + 20 s
    let q = "SELECT HOP_START(ts, INTERVAL '5' SECOND, INTERVAL '20' SECOND) AS ws, HOP_END(ts, INTERVAL '5' SECOND, INTERVAL '20' SECOND) AS we, HOP_ROWTIME(ts, INTERVAL '5' SECOND, INTERVAL '20' SECOND) AS rt, COUNT(*) AS n FROM t GROUP BY HOP(ts, INTERVAL '5' SECOND, INTERVAL '20' SECOND)";
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for r in &recs {
        let last = r.ts - r.ts.rem_euclid(5_000);
        for i in 0..4 {
            *counts.entry(last - i * 5_000).or_default() += 1;
        }
    }
    let mut want: Vec<String> = counts
        .into_iter()
        .map(|(s, n)| format!("{s}|{}|{}|{n}", s + 20_000, s + 19_999))
        .collect();
    want.sort();
    assert_eq!(run(q, &recs), want);
}
