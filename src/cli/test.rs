//! `weir test JOB [--data DIR] [--shuffle SEED] [--delay-ms N] [--expect FILE]`: run a job
//! on its test-data package, print result rows live, and compare them with the expected
//! rows (exit 0 when every sink got exactly them, 1 with a diff otherwise; a job that
//! cannot run exits 2, 3 or 4 by whose fault it is). Kafka sources without `fields` take
//! them from the store's catalog; a test reads only its test-data package, so it needs no
//! grants.

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use super::{Global, exit, print_json};
use weir_app::engine::{TestRequest, test as test_job};

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
    /// Expected rows (default: <data>/expected.jsonl).
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
}

pub fn run(global: &Global, args: &TestArgs) -> i32 {
    let req = TestRequest {
        job: args.job.clone(),
        data: args.data.clone(),
        shuffle: args.shuffle,
        delay_ms: args.delay_ms,
        expect: args.expect.clone(),
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
    let passed = outcome.passed();
    if global.json {
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
        print_json(&json!({
            "job": outcome.job,
            "data": outcome.data.display().to_string(),
            "expected_file": outcome.expected_file.as_ref().map(|p| p.display().to_string()),
            "passed": passed,
            "late": outcome.late(),
            "sinks": sinks,
            "metrics": outcome.metrics,
        }));
    } else {
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
        match &outcome.expected_file {
            None => eprintln!("no expected file; {} sinks ran", outcome.rows.len()),
            Some(f) if passed => eprintln!("test passed ({})", f.display()),
            Some(f) => eprintln!("test failed ({})", f.display()),
        }
    }
    if passed { exit::OK } else { exit::CHECK_FAILED }
}
