//! Verdicts that claim only what was checked (issue 15), through the `weir` binary:
//! `weir test` without expectations fails unless `--no-expect` asks for a smoke run, which
//! says so; records dropped as late fail a test unless the package's manifest names them;
//! an operator the engine cannot run is refused by `weir validate` and `weir test` at its
//! place in the file, and a test names the sinks it captured; a `mode: Package` job is
//! refused by validate and never "runs" doing nothing.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::cli::Checkout;

/// 2026-03-01 10:00:00 UTC, where the shipped packages start.
const T0: i64 = 1_772_359_200_000;

/// Job `name` reading source `src` (event time `ts`, 1 s watermark) and writing `id` of
/// every record to `sinks` (RON operators, all fed by the query `q`).
fn job(name: &str, sinks: &[&str]) -> String {
    let ids: Vec<String> = sinks
        .iter()
        .map(|s| {
            let start = s.find("id: \"").unwrap() + 5;
            let end = start + s[start..].find('"').unwrap();
            s[start..end].to_string()
        })
        .collect();
    let edges: Vec<String> = ids.iter().map(|id| format!("(\"q\", \"{id}\")")).collect();
    format!(
        r#"Job(
    version: 1,
    name: "{name}",
    config: (time: Event),
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "in", event_time: Some("ts"), watermark_ms: 1000,
            fields: Some([(name: "id", type: BigInt), (name: "ts", type: Timestamp)])),
        Sql(id: "q", query: "SELECT id FROM src"),
        {},
    ],
    edges: [("src", "q"), {}],
)
"#,
        sinks.join(",\n        "),
        edges.join(", ")
    )
}

/// Records `(id, ms after T0)` as a source file's lines.
fn records(rows: &[(i64, i64)]) -> String {
    rows.iter()
        .map(|(id, dt)| format!("{{\"id\": {id}, \"ts\": {}}}\n", T0 + dt))
        .collect()
}

/// Expected lines: sink `out` receives these ids.
fn expected(ids: &[i64]) -> String {
    ids.iter()
        .map(|id| format!("{{\"sink\": \"out\", \"row\": {{\"id\": {id}}}}}\n"))
        .collect()
}

/// A checkout with job `name` (one PrintSink `out`) and its package's input.
fn with_package(tag: &str, name: &str, input: &str) -> Checkout {
    let c = Checkout::new(tag);
    c.write_job(
        &format!("{name}.ron"),
        &job(name, &[r#"PrintSink(id: "out")"#]),
    );
    let dir = c.path(&format!("testdata/{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("src.jsonl"), input).unwrap();
    c
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn a_test_without_an_expected_file_fails_unless_it_is_a_smoke_run() {
    let c = with_package("verdict-noexp", "ids", &records(&[(1, 0), (2, 1000)]));
    let out = c.expect("bob", &["test", "jobs/ids.ron"], 2);
    assert!(out.contains("no expectations for job ids"), "{out}");
    assert!(out.contains("testdata/ids/expected.jsonl"), "{out}");
    assert!(out.contains("--no-expect"), "{out}");
    assert!(!out.contains("test passed"), "{out}");
    // a misnamed --expect file is no better
    let out = c.expect(
        "bob",
        &[
            "test",
            "jobs/ids.ron",
            "--expect",
            "testdata/ids/expcted.jsonl",
        ],
        2,
    );
    assert!(out.contains("expcted.jsonl: no such file"), "{out}");

    // --no-expect: the job runs, and the output says nothing was checked
    let out = c.expect("bob", &["test", "jobs/ids.ron", "--no-expect"], 0);
    assert!(out.contains("smoke run"), "{out}");
    assert!(out.contains("no expectations checked"), "{out}");
    assert!(!out.contains("test passed"), "{out}");
    let v = json(&c.weir("bob", &["--json", "test", "jobs/ids.ron", "--no-expect"]));
    assert_eq!(v["verdict"], "smoke");
    assert_eq!(v["passed"], serde_json::Value::Null);
    assert_eq!(v["expected_file"], serde_json::Value::Null);
    assert_eq!(v["sinks"][0]["received"], 2);

    // both at once is a usage error
    c.expect(
        "bob",
        &["test", "jobs/ids.ron", "--no-expect", "--expect", "x.jsonl"],
        2,
    );

    // with the expected rows the same package passes
    std::fs::write(c.path("testdata/ids/expected.jsonl"), expected(&[1, 2])).unwrap();
    let out = c.expect("bob", &["test", "jobs/ids.ron"], 0);
    assert!(out.contains("test passed"), "{out}");
}

#[test]
fn late_records_fail_a_test_unless_the_manifest_names_them() {
    // id 4 is 59 s behind the newest record (1 s watermark): the engine drops it
    let input = records(&[(1, 0), (2, 5_000), (3, 60_000), (4, 1_000), (5, 61_000)]);
    let c = with_package("verdict-late", "ids", &input);
    std::fs::write(
        c.path("testdata/ids/expected.jsonl"),
        expected(&[1, 2, 3, 5]),
    )
    .unwrap();
    let out = c.expect("bob", &["test", "jobs/ids.ron"], 1);
    assert!(out.contains("late records dropped: 1"), "{out}");
    assert!(out.contains("1 records dropped as late"), "{out}");
    assert!(out.contains("test failed"), "{out}");
    assert!(!out.contains("test passed"), "{out}");
    let run = c.weir("bob", &["--json", "test", "jobs/ids.ron"]);
    assert_eq!(run.status.code(), Some(1));
    let v = json(&run);
    assert_eq!(v["passed"], false);
    assert_eq!(v["verdict"], "failed");
    assert_eq!(v["late"], 1);
    assert_eq!(v["expected_late"], 0);
    let reasons = v["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{v}");
    assert!(reasons[0].as_str().unwrap().contains("late"), "{v}");

    // the package says one record is meant to come late: now it passes
    std::fs::write(c.path("testdata/ids/manifest.json"), "{\"late\": 1}\n").unwrap();
    let out = c.expect("bob", &["test", "jobs/ids.ron"], 0);
    assert!(out.contains("test passed"), "{out}");
    assert!(out.contains("manifest.json"), "{out}");
    let v = json(&c.weir("bob", &["--json", "test", "jobs/ids.ron"]));
    assert_eq!(v["passed"], true);
    assert_eq!(v["expected_late"], 1);

    // naming two when one is dropped fails the other way
    std::fs::write(c.path("testdata/ids/manifest.json"), "{\"late\": 2}\n").unwrap();
    let out = c.expect("bob", &["test", "jobs/ids.ron"], 1);
    assert!(out.contains("the package expects 2"), "{out}");

    // a misspelt field is refused, with its place
    std::fs::write(c.path("testdata/ids/manifest.json"), "{\"lat\": 1}\n").unwrap();
    let out = c.expect("bob", &["test", "jobs/ids.ron"], 2);
    assert!(out.contains("manifest.json:1:"), "{out}");
    assert!(out.contains("unknown field `lat`"), "{out}");
}

#[test]
fn an_operator_the_engine_cannot_run_is_refused_at_its_place() {
    let c = with_package("verdict-es", "ids", &records(&[(1, 0)]));
    c.write_job(
        "es.ron",
        &job(
            "ids",
            &[r#"EsSink(id: "out", datasource: "es", index: "ids")"#],
        ),
    );
    std::fs::write(c.path("testdata/ids/expected.jsonl"), expected(&[1])).unwrap();
    // the EsSink stands on line 9 of the file, from column 9
    let out = c.expect("bob", &["validate", "jobs/es.ron"], 2);
    assert!(out.contains("error[unsupported-operator]"), "{out}");
    assert!(out.contains("jobs/es.ron:9:9"), "{out}");
    assert!(out.contains("EsSink"), "{out}");
    let v = json(&c.weir("bob", &["--json", "validate", "jobs/es.ron"]));
    assert_eq!(v["valid"], false);
    let d = &v["files"][0]["diagnostics"][0];
    assert_eq!(d["code"], "unsupported-operator");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(9), Some(9))
    );

    // weir test would have put a capture sink in its place and passed: refused the same way
    let out = c.expect("bob", &["test", "jobs/es.ron"], 2);
    assert!(out.contains("error[unsupported-operator]"), "{out}");
    assert!(out.contains("jobs/es.ron:9:9"), "{out}");
    assert!(!out.contains("test passed"), "{out}");
    // and weir run refuses it before it reads a source, not when the engine starts
    let out = c.expect("bob", &["run", "jobs/es.ron", "--bounded"], 2);
    assert!(out.contains("error[unsupported-operator]"), "{out}");
    assert!(out.contains("jobs/es.ron:9:9"), "{out}");

    // the sinks a test replaces are named
    c.write_job(
        "two.ron",
        &job(
            "ids",
            &[
                r#"PrintSink(id: "out")"#,
                r#"KafkaSink(id: "to_k", datasource: "k", topic: "ids")"#,
            ],
        ),
    );
    std::fs::write(
        c.path("testdata/ids/expected.jsonl"),
        "{\"sink\": \"out\", \"row\": {\"id\": 1}}\n{\"sink\": \"to_k\", \"row\": {\"id\": 1}}\n",
    )
    .unwrap();
    let out = c.expect("bob", &["test", "jobs/two.ron"], 0);
    assert!(
        out.contains("captured, not written: out (PrintSink), to_k (KafkaSink)"),
        "{out}"
    );
    let v = json(&c.weir("bob", &["--json", "test", "jobs/two.ron"]));
    assert_eq!(
        v["captured_sinks"],
        serde_json::json!([
            {"sink": "out", "kind": "PrintSink"},
            {"sink": "to_k", "kind": "KafkaSink"},
        ])
    );
}

#[test]
fn a_package_mode_job_is_refused_and_never_runs_doing_nothing() {
    let c = Checkout::new("verdict-pkg");
    c.write_job(
        "pkg.ron",
        r#"Job(
    version: 1,
    name: "pkg",
    mode: Package,
    package: Some((path: "plugins/missing.so", entry: "run")),
)
"#,
    );
    let out = c.expect("bob", &["validate", "jobs/pkg.ron"], 2);
    assert!(out.contains("error[package-mode]"), "{out}");
    assert!(out.contains("mode: Package"), "{out}");
    assert!(out.contains("jobs/pkg.ron:4:11"), "{out}");
    let run = c.weir("bob", &["--json", "run", "jobs/pkg.ron", "--bounded"]);
    assert_eq!(
        run.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v = json(&run);
    assert!(
        v["error"].as_str().unwrap().contains("mode: Package"),
        "{v}"
    );
    assert!(v.get("nodes").is_none(), "{v}");
    c.expect("bob", &["test", "jobs/pkg.ron", "--no-expect"], 2);
}
