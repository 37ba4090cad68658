//! The SQL golden suite: every tests/sql/*.sql-test file (format: tests/sql/README.md),
//! whose expected rows were recorded from Apache Flink by bench/flink/golden.py. Each
//! case's query runs in `SqlOperator` over the file's rows in arrival order, one row at a
//! time, with the watermark a source gives (largest event time seen − bound; a row before
//! the watermark is late and dropped before the operator, as `WatermarkTracker` does) and
//! a final watermark i64::MAX. Then under 20 seeded shuffles of the rows that were on time,
//! each row at most `bound` behind the newest, in batches of 1 to 7 rows: the rows must be
//! the same. The result's column names and types (from `check`) must be Flink's too.
//! Error cases must fail planning with the expected text. Cases marked
//! `known-difference:` are run and their differences reported (stderr and
//! `sql_golden_report.txt` in the test's target tmp dir), not asserted; such a case fails
//! once weir matches Flink, so the mark gets removed. No Flink or Python at test time:
//! only the recorded rows are read.
// Helpers outside #[test] functions unwrap and panic too: that is a failed test, and
// clippy's allow-*-in-tests settings cover only the test functions themselves.
#![allow(clippy::unwrap_used, clippy::panic)]

mod golden;
mod shared;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, Int64Array, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;
use golden::{Case, Expect, GoldenFile, Table, values};
use shared::Rng;
use weir_engine::Operator;
use weir_engine::sql::{InputTable, SqlOperator, check, plan};

const SHUFFLES: u64 = 20;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sql")
}

/// One table's rows ready to feed: the batch in file order and each row's event time.
struct Feed {
    input: usize,
    batch: RecordBatch,
    times: Option<Vec<i64>>,
    bound: i64,
}

impl Feed {
    fn new(tables: &[Table], input: usize) -> Result<Feed, String> {
        let table = &tables[input];
        let batch = values::table_batch(table)?;
        let (times, bound) = match &table.watermark {
            None => (None, 0),
            Some((col, bound)) => {
                let idx = table.schema.index_of(col).map_err(|e| e.to_string())?;
                let ms = cast(batch.column(idx), &DataType::Int64).map_err(|e| e.to_string())?;
                let ms = ms
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .ok_or("event time")?;
                if ms.null_count() > 0 {
                    return Err(format!("table {}: an event time is NULL", table.name));
                }
                (Some(ms.values().to_vec()), *bound)
            }
        };
        Ok(Feed {
            input,
            batch,
            times,
            bound,
        })
    }

    /// Feed rows `order` in batches of `batch_rows`; returns the output rows and the rows
    /// that were not late. Every output batch must have the columns `check` planned.
    fn run(
        &self,
        op: &mut SqlOperator,
        order: &[usize],
        batch_rows: usize,
        schema: &SchemaRef,
    ) -> Result<(Vec<String>, Vec<usize>), String> {
        let (mut watermark, mut max_ts) = (i64::MIN, i64::MIN);
        let mut out = Vec::new();
        let mut on_time = Vec::new();
        for chunk in order.chunks(batch_rows) {
            let mut keep = Vec::new();
            for &row in chunk {
                if let Some(times) = &self.times {
                    let ts = times[row];
                    if ts < watermark {
                        continue;
                    }
                    if ts > max_ts {
                        max_ts = ts;
                        watermark = watermark.max(max_ts.saturating_sub(self.bound));
                    }
                }
                keep.push(row as u32);
            }
            on_time.extend(keep.iter().map(|&r| r as usize));
            if !keep.is_empty() {
                let batch = take_record_batch(&self.batch, &UInt32Array::from(keep))
                    .map_err(|e| e.to_string())?;
                op.on_batch(self.input, batch, &mut out)
                    .map_err(|e| e.to_string())?;
            }
            if watermark > i64::MIN {
                op.on_watermark(watermark, &mut out)
                    .map_err(|e| e.to_string())?;
            }
        }
        op.on_watermark(i64::MAX, &mut out)
            .map_err(|e| e.to_string())?;
        for batch in &out {
            let types = |s: &SchemaRef| -> Vec<DataType> {
                s.fields().iter().map(|f| f.data_type().clone()).collect()
            };
            if types(&batch.schema()) != types(schema) {
                return Err(format!(
                    "an output batch has the columns {:?}, but check() planned {:?}",
                    batch.schema().fields(),
                    schema.fields()
                ));
            }
        }
        Ok((values::rows(&out)?, on_time))
    }

    /// `rows` re-ordered by event time + a jitter below the bound: every row arrives less
    /// than `bound` behind the newest before it, so none is late.
    fn shuffle(&self, rows: &[usize], seed: u64) -> Vec<usize> {
        let mut rng = Rng(seed);
        let mut keyed: Vec<(i64, u64, usize)> = rows
            .iter()
            .map(|&r| {
                let ts = self.times.as_ref().map_or(0, |t| t[r]);
                let jitter = if self.times.is_some() {
                    rng.below(self.bound as u64) as i64
                } else {
                    0
                };
                (ts + jitter, rng.next(), r)
            })
            .collect();
        keyed.sort();
        keyed.into_iter().map(|(_, _, r)| r).collect()
    }
}

/// Rows in `a` and not in `b`, as multisets.
fn minus(a: &[String], b: &[String]) -> Vec<String> {
    let mut count: BTreeMap<&str, i64> = BTreeMap::new();
    for r in b {
        *count.entry(r).or_default() += 1;
    }
    let mut out = Vec::new();
    for r in a {
        let c = count.entry(r).or_default();
        if *c > 0 {
            *c -= 1;
        } else {
            out.push(r.clone());
        }
    }
    out
}

/// None when `got` is `want` (in order when `ordered`), else what differs.
fn compare(want: &[String], got: &[String], ordered: bool) -> Option<String> {
    let (missing, extra) = (minus(want, got), minus(got, want));
    if missing.is_empty() && extra.is_empty() {
        if ordered && want != got {
            return Some(format!(
                "same rows in another order:\n    got      {}",
                got.join("\n             ")
            ));
        }
        return None;
    }
    let list = |rows: &[String]| {
        if rows.is_empty() {
            "(none)".to_string()
        } else {
            rows.join("\n             ")
        }
    };
    Some(format!(
        "missing  {}\n    extra    {}",
        list(&missing),
        list(&extra)
    ))
}

/// None when weir's result columns have Flink's names and types (golden.py's words,
/// `values::flink_type`), else every column that differs.
fn compare_columns(flink: &[(String, String)], weir: &SchemaRef) -> Option<String> {
    let weir: Vec<(String, String)> = weir
        .fields()
        .iter()
        .map(|f| (f.name().clone(), values::flink_type(f.data_type())))
        .collect();
    if flink == weir.as_slice() {
        return None;
    }
    if flink.len() != weir.len() {
        let show = |cols: &[(String, String)]| {
            cols.iter()
                .map(|(n, t)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Some(format!(
            "Flink's result has {} column(s) ({}), weir's {} ({})",
            flink.len(),
            show(flink),
            weir.len(),
            show(&weir)
        ));
    }
    let diffs: Vec<String> = flink
        .iter()
        .zip(&weir)
        .filter(|(f, w)| f != w)
        .map(|((fname, ftype), (wname, wtype))| {
            format!("column `{fname}` {ftype} in Flink, `{wname}` {wtype} in weir")
        })
        .collect();
    Some(format!("result columns differ: {}", diffs.join("; ")))
}

fn inputs(file: &GoldenFile) -> Vec<InputTable> {
    file.tables
        .iter()
        .map(|t| InputTable {
            name: t.name.clone(),
            schema: t.schema.clone(),
            event_time: t.watermark.as_ref().map(|(c, _)| c.clone()),
        })
        .collect()
}

/// What differs between weir and Flink in one case: the result's columns (names and
/// types) and the rows, or for an error case the error.
#[derive(Default)]
struct Diffs {
    columns: Option<String>,
    rows: Option<String>,
}

/// Runs one case.
fn run_case(file: &GoldenFile, case: &Case) -> Diffs {
    let inputs = inputs(file);
    let rows_only = |e: String| Diffs {
        columns: None,
        rows: Some(e),
    };
    let (want, recorded, columns) = match &case.expect {
        Expect::Error(text) => {
            for (how, result) in [
                ("check", check(&case.query, &inputs).map(|_| ())),
                ("plan", plan("golden", &case.query, &inputs).map(|_| ())),
            ] {
                match result {
                    Ok(()) => {
                        return rows_only(format!(
                            "{how} accepted the query; expected an error containing `{text}`"
                        ));
                    }
                    Err(e) if e.to_string().contains(text.as_str()) => {}
                    Err(e) => {
                        return rows_only(format!(
                            "{how} said `{e}`, which does not contain `{text}`"
                        ));
                    }
                }
            }
            return Diffs::default();
        }
        Expect::Rows {
            rows,
            recorded,
            columns,
        } => (rows, *recorded, columns),
    };
    if !recorded {
        return rows_only("no rows recorded from Flink yet: run bench/flink/golden.py".into());
    }
    let schema = match check(&case.query, &inputs) {
        Ok(s) => s,
        Err(e) => return rows_only(format!("planning failed: {e}")),
    };
    // both the columns and the rows, so a case that differs in one shows the other too
    Diffs {
        columns: compare_columns(columns, &schema),
        rows: compare_rows(file, case, want, &inputs, &schema).err(),
    }
}

/// Sorts one case's outcome into known differences (reported, not asserted) and failures
/// by its `known-difference` and `known-type-difference` marks; true when it passed.
fn judge(
    case: &Case,
    at: &str,
    diffs: Diffs,
    known: &mut Vec<String>,
    failures: &mut Vec<String>,
) -> bool {
    let all = [&diffs.columns, &diffs.rows]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("\n    ");
    match (&case.known_difference, &case.known_type_difference) {
        (Some(why), _) if all.is_empty() => failures.push(format!(
            "{at}: marked `known-difference: {why}` but weir now matches Flink; remove the line"
        )),
        (Some(why), _) => known.push(format!("{at}: {why}\n    {all}")),
        (None, _) if diffs.rows.is_some() => failures.push(format!("{at}: {all}")),
        (None, None) => match &diffs.columns {
            None => return true,
            Some(c) => failures.push(format!("{at}: {c}")),
        },
        (None, Some(why)) => match &diffs.columns {
            None => failures.push(format!(
                "{at}: marked `known-type-difference: {why}` but weir's columns now match Flink's; remove the line"
            )),
            Some(c) => known.push(format!("{at}: {why} (rows match)\n    {c}")),
        },
    }
    false
}

/// Runs the case's query over its table's rows in arrival order and in the shuffles;
/// Err names the first run whose rows are not `want`.
fn compare_rows(
    file: &GoldenFile,
    case: &Case,
    want: &[String],
    inputs: &[InputTable],
    schema: &SchemaRef,
) -> Result<(), String> {
    let new_op = || {
        SqlOperator::new("golden", &case.query, inputs).map_err(|e| format!("planning failed: {e}"))
    };
    let input = new_op()?.input_index();
    let feed = Feed::new(&file.tables, input)?;
    let all: Vec<usize> = (0..feed.batch.num_rows()).collect();
    let (got, on_time) = feed.run(&mut new_op()?, &all, 1, schema)?;
    if let Some(diff) = compare(want, &got, case.ordered) {
        return Err(format!("in arrival order, one row at a time:\n    {diff}"));
    }
    for seed in 0..SHUFFLES {
        let order = feed.shuffle(&on_time, 1000 + seed);
        let batch_rows = 1 + (seed as usize * 5) % 7;
        let (got, kept) = feed.run(&mut new_op()?, &order, batch_rows, schema)?;
        if kept.len() != order.len() {
            return Err(format!(
                "shuffle {seed}: a row within the bound was late (runner bug)"
            ));
        }
        if let Some(diff) = compare(want, &got, false) {
            return Err(format!(
                "shuffle seed {seed} (batches of {batch_rows}):\n    {diff}"
            ));
        }
    }
    Ok(())
}

#[test]
fn golden_files_match_flinks_recorded_rows() {
    let dir = golden_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql-test"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 6, "golden files in {}", dir.display());
    let (mut failures, mut known, mut passed) = (Vec::new(), Vec::new(), 0usize);
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let file = match golden::parse(&text) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        for case in &file.cases {
            let at = format!("{name}:{} case {}", case.line, case.name);
            if judge(case, &at, run_case(&file, case), &mut known, &mut failures) {
                passed += 1;
            }
        }
    }
    let summary = format!(
        "{} golden file(s): {passed} case(s) match Flink, {} known difference(s), {} failure(s)",
        paths.len(),
        known.len(),
        failures.len()
    );
    let report = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sql_golden_report.txt");
    let text = format!(
        "{summary}\n\nKNOWN DIFFERENCES (run, not asserted)\n\n{}\n\nFAILURES\n\n{}\n",
        known.join("\n\n"),
        failures.join("\n\n")
    );
    std::fs::write(&report, text)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", report.display()));
    for k in &known {
        eprintln!("KNOWN DIFFERENCE {k}\n");
    }
    eprintln!("{summary}; report in {}", report.display());
    assert!(
        failures.is_empty(),
        "\n{}\n\n{summary}; report in {}\n",
        failures.join("\n\n"),
        report.display()
    );
}

#[test]
fn a_broken_file_is_refused_with_its_line() {
    let e = golden::parse("table t (a STRING, ts TIMESTAMP(3))\nwatermark nope - 10 ms\n")
        .err()
        .unwrap();
    assert!(e.contains("line 2") && e.contains("nope"), "{e}");
    let e = golden::parse("table t (a TEXT)\n").err().unwrap();
    assert!(e.contains("line 1") && e.contains("TEXT"), "{e}");
    let e = golden::parse("table t (a STRING)\nrows t\nx | y\n")
        .err()
        .unwrap();
    assert!(e.contains("line 3") && e.contains("2 values"), "{e}");
    let e = golden::parse("case c\nquery\nSELECT 1\n").err().unwrap();
    assert!(e.contains("----"), "{e}");
}

#[test]
fn the_comparison_names_missing_and_extra_rows() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let d = compare(
        &s(&["a | 1", "b | 2", "b | 2"]),
        &s(&["b | 2", "c | 3"]),
        false,
    )
    .unwrap();
    assert!(
        d.contains("missing  a | 1\n             b | 2") && d.contains("extra    c | 3"),
        "{d}"
    );
    assert!(compare(&s(&["x", "y"]), &s(&["y", "x"]), false).is_none());
    assert!(compare(&s(&["x", "y"]), &s(&["y", "x"]), true).is_some());
}

#[test]
fn marks_decide_what_is_asserted() {
    let file = golden::parse(
        "case a\nknown-type-difference: INT vs BIGINT\nquery\nSELECT 1\n----\n\ncase b\nknown-difference: other rows\nquery\nSELECT 1\n----\n\ncase c\nquery\nSELECT 1\n----\n",
    )
    .unwrap();
    let [typed, rows, plain] = [&file.cases[0], &file.cases[1], &file.cases[2]];
    let diff = |columns: bool, rows: bool| Diffs {
        columns: columns.then(|| "result columns differ".to_string()),
        rows: rows.then(|| "missing x".to_string()),
    };
    let judged = |case: &Case, d: Diffs| {
        let (mut known, mut failures) = (Vec::new(), Vec::new());
        let passed = judge(case, "f:1", d, &mut known, &mut failures);
        (passed, known.len(), failures.len())
    };
    // a type mark covers the columns only; the rows are still asserted
    assert_eq!(judged(typed, diff(true, false)), (false, 1, 0));
    assert_eq!(judged(typed, diff(true, true)), (false, 0, 1));
    assert_eq!(judged(typed, diff(false, false)), (false, 0, 1));
    // a difference mark covers both, and fails once nothing differs
    assert_eq!(judged(rows, diff(true, true)), (false, 1, 0));
    assert_eq!(judged(rows, diff(false, false)), (false, 0, 1));
    // no mark: anything that differs fails
    assert_eq!(judged(plain, diff(false, false)), (true, 0, 0));
    assert_eq!(judged(plain, diff(true, false)), (false, 0, 1));
}
