//! `weir test JOB [--data DIR] [--shuffle SEED] [--delay-ms N] [--expect FILE | --no-expect]`:
//! run a job on its test-data package with every sink replaced by a capture sink (named
//! in the output), print result rows live, and check them against the package's
//! expectations: the expected rows, and the records its `manifest.json` says are dropped
//! as late or dead-lettered (formats/testdata.md). Exit 0 when every expectation held, 1
//! with the reasons otherwise; no expected file is an error (2) unless `--no-expect`
//! asks for a smoke run, which checks nothing and says so. A job that cannot run, the
//! engine's unsupported operators included, exits 2, 3 or 4 by whose fault it is. Kafka
//! sources without `fields` take them from the store's catalog; a test reads only its
//! test-data package, so it needs no grants.

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use super::{Global, exit, print_json};
use weir_app::engine::{TestOutcome, TestRequest, Verdict, test as test_job};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The job file (RON).
    #[arg(value_name = "JOB")]
    pub job: PathBuf,
    /// Test-data package directory (default: testdata/<job name>/ of the project).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Reorder events randomly (never beyond a source's watermark bound).
    #[arg(long, value_name = "SEED")]
    pub shuffle: Option<u64>,
    /// Sleep this many ms between events.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub delay_ms: u64,
    /// Expected rows (default: <data>/expected.jsonl, which must exist).
    #[arg(long, value_name = "FILE", conflicts_with = "no_expect")]
    pub expect: Option<PathBuf>,
    /// Smoke run: check no expectations (rows, late records, dead letters); only that
    /// the job runs on the package.
    #[arg(long)]
    pub no_expect: bool,
}

pub fn run(global: &Global, args: &TestArgs) -> i32 {
    let req = TestRequest {
        job: args.job.clone(),
        data: args.data.clone(),
        shuffle: args.shuffle,
        delay_ms: args.delay_ms,
        expect: args.expect.clone(),
        no_expect: args.no_expect,
        store: global.store.clone(),
    };
    let live = !global.json;
    let outcome = match test_job(&req, |r| {
        if live {
            outln!("{}  {}", r.sink, Value::Object(r.row.clone()));
        }
    }) {
        Ok(o) => o,
        Err(e) => return super::fail(global, &e),
    };
    let verdict = outcome.verdict();
    if global.json {
        print_json(&summary(&outcome, &verdict));
    } else {
        report(&outcome, &verdict);
    }
    match verdict {
        Verdict::Passed | Verdict::Smoke => exit::OK,
        Verdict::Failed(_) => exit::CHECK_FAILED,
    }
}

/// The `--json` summary: `passed` is true or false when expectations were checked and
/// null for a smoke run (`verdict` says which), with the reasons of a failure.
fn summary(outcome: &TestOutcome, verdict: &Verdict) -> Value {
    let sinks: Vec<Value> = outcome
        .rows
        .iter()
        .map(|(sink, rows)| {
            let diff = outcome.diffs.iter().find(|d| &d.sink == sink);
            json!({
                "sink": sink,
                "received": rows.len(),
                "expected": diff.map(|d| d.expected),
                "missing": diff.map(|d| d.missing.clone()).unwrap_or_default(),
                "unexpected": diff.map(|d| d.unexpected.clone()).unwrap_or_default(),
            })
        })
        .collect();
    let passed = match verdict {
        Verdict::Passed => json!(true),
        Verdict::Failed(_) => json!(false),
        Verdict::Smoke => Value::Null,
    };
    let reasons = match verdict {
        Verdict::Failed(r) => r.clone(),
        _ => Vec::new(),
    };
    json!({
        "job": outcome.job,
        "data": outcome.data.display().to_string(),
        "verdict": verdict.label(),
        "passed": passed,
        "reasons": reasons,
        "expected_file": outcome.expected_file.as_ref().map(|p| p.display().to_string()),
        "manifest_file": outcome.manifest_file.as_ref().map(|p| p.display().to_string()),
        "expected_late": outcome.manifest.as_ref().map(|m| m.late),
        "expected_dead_letters": outcome.manifest.as_ref().map(|m| m.dead_letters),
        "late": outcome.late(),
        "captured_sinks": outcome.captured,
        "sinks": sinks,
        "metrics": outcome.metrics,
    })
}

/// The human report on stderr: which sinks were captured, each sink's diff, then one
/// line of verdict saying what was checked.
fn report(outcome: &TestOutcome, verdict: &Verdict) {
    if !outcome.captured.is_empty() {
        let names: Vec<String> = outcome
            .captured
            .iter()
            .map(|c| format!("{} ({})", c.sink, c.kind))
            .collect();
        eprintln!(
            "captured, not written: {} (every sink is replaced by a capture sink in a test)",
            names.join(", ")
        );
    }
    for d in &outcome.diffs {
        if d.ok() {
            eprintln!("ok: {}: {} rows as expected", d.sink, d.expected);
            continue;
        }
        eprintln!(
            "FAIL: {}: expected {} rows, received {}",
            d.sink, d.expected, d.received
        );
        for r in &d.missing {
            eprintln!("  - missing     {}", Value::Object(r.clone()));
        }
        for r in &d.unexpected {
            eprintln!("  + unexpected  {}", Value::Object(r.clone()));
        }
    }
    if outcome.late() > 0 {
        eprintln!("late records dropped: {}", outcome.late());
    }
    let against = match (&outcome.expected_file, &outcome.manifest_file) {
        (Some(e), Some(m)) => format!("{} and {}", e.display(), m.display()),
        (Some(e), None) => e.display().to_string(),
        (None, _) => String::new(),
    };
    match verdict {
        Verdict::Passed => eprintln!("test passed ({against})"),
        Verdict::Failed(reasons) => {
            for r in reasons {
                eprintln!("FAIL: {r}");
            }
            eprintln!("test failed ({against})");
        }
        Verdict::Smoke => {
            let rows: usize = outcome.rows.values().map(Vec::len).sum();
            eprintln!(
                "smoke run (--no-expect): {} sinks ran, {rows} rows; no expectations checked",
                outcome.rows.len()
            );
        }
    }
}
