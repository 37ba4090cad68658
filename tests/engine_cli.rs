//! `weir test`, `weir run` and `weir broker` through the binary: every example job passes
//! its test-data package (also shuffled, seeds 1..20), a tampered expected file fails with
//! a diff and exit 1 naming the one sink that differs, and a job runs bounded against a `weir broker` in another process.
//! A job that cannot run exits by whose fault it is: 3 for a stopped broker or database
//! (named, with its address), 2 for bad SQL, 4 for an injected internal fault.
// Helpers outside #[test] functions unwrap and panic too: that is a failed test, and
// clippy's allow-*-in-tests settings cover only the test functions themselves.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const JOBS: [&str; 4] = [
    "clickstream_pv",
    "risk_control",
    "iot_alerts",
    "ecommerce_features",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn weir(dir: &Path, args: &[&str]) -> Output {
    weir_with(dir, args, &[])
}

/// `weir args` in `dir` with extra environment variables.
fn weir_with(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let config = std::env::temp_dir().join(format!("weir-engine-noconfig-{}", std::process::id()));
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .env("WEIR_CONFIG_DIR", config)
        .envs(envs.iter().copied())
        .output()
        .expect("weir runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn every_example_job_passes_its_test_data() {
    for job in JOBS {
        let out = weir(&root(), &["test", &format!("jobs/{job}.ron")]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{job}: {stderr}");
        assert!(stderr.contains("test passed"), "{job}: {stderr}");
        // rows are printed live as `sink  {row}`
        let expected =
            std::fs::read_to_string(root().join("testdata").join(job).join("expected.jsonl"))
                .unwrap();
        assert_eq!(stdout.lines().count(), expected.lines().count(), "{job}");
    }
}

#[test]
fn shuffled_within_the_watermark_bound_still_passes() {
    for job in JOBS {
        for seed in 1..=20 {
            let out = weir(
                &root(),
                &[
                    "--json",
                    "test",
                    &format!("jobs/{job}.ron"),
                    "--shuffle",
                    &seed.to_string(),
                ],
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{job} seed {seed}: {}",
                text(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json summary");
            assert_eq!(v["passed"], true);
            assert_eq!(v["late"], 0, "{job} seed {seed}");
        }
    }
}

#[test]
fn a_tampered_expected_file_fails_with_a_diff() {
    let dir = std::env::temp_dir().join(format!("weir-engine-tamper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let expected =
        std::fs::read_to_string(root().join("testdata/iot_alerts/expected.jsonl")).unwrap();
    let mut lines: Vec<String> = expected.lines().map(str::to_string).collect();
    lines[0] = lines[0].replace("\"readings\": ", "\"readings\": 1");
    lines.remove(1);
    let tampered = dir.join("expected.jsonl");
    std::fs::write(&tampered, lines.join("\n")).unwrap();
    let out = weir(
        &root(),
        &[
            "test",
            "jobs/iot_alerts.ron",
            "--expect",
            tampered.to_str().unwrap(),
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("FAIL: to_kafka"), "{stderr}");
    assert!(stderr.contains("- missing"), "{stderr}");
    assert!(stderr.contains("+ unexpected"), "{stderr}");
    // only to_kafka's rows were tampered with (the file is sorted by sink): to_mysql's
    // 24 rows still match, and the verdict names the one sink that failed
    assert!(
        stderr.contains("ok: to_mysql: 24 rows as expected"),
        "{stderr}"
    );
    assert!(!stderr.contains("FAIL: to_mysql"), "{stderr}");
    assert!(stderr.contains("FAIL: sink `to_kafka`"), "{stderr}");
    assert!(stderr.contains("test failed"), "{stderr}");

    let out = weir(
        &root(),
        &[
            "--json",
            "test",
            "jobs/iot_alerts.ron",
            "--expect",
            tampered.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["verdict"], "failed");
    let reasons = v["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{v}");
    assert!(
        reasons[0].as_str().unwrap().starts_with("sink `to_kafka`"),
        "{v}"
    );
}

#[test]
fn run_bounded_against_a_broker_in_another_process() {
    run_against_broker(None);
}

#[test]
fn run_bounded_against_a_broker_on_a_fixed_port() {
    // a free port: bind, read it, release it
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    run_against_broker(Some(port));
}

fn run_against_broker(port: Option<u16>) {
    let tag = port
        .map(|p| p.to_string())
        .unwrap_or_else(|| "random".into());
    let project =
        std::env::temp_dir().join(format!("weir-engine-run-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&project);
    std::fs::create_dir_all(project.join("jobs")).unwrap();
    let job = r#"Job(
    version: 1,
    name: "echo",
    config: (time: Event, parallelism: 2),
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "in", start: Earliest, event_time: Some("ts"), watermark_ms: 1000,
            fields: Some([(name: "id", type: BigInt), (name: "ts", type: Timestamp)])),
        Sql(id: "q", query: "SELECT id, ts FROM src WHERE id % 2 = 0"),
        PrintSink(id: "out", path: Some("out.jsonl")),
    ],
    edges: [("src", "q"), ("q", "out")],
)"#;
    std::fs::write(project.join("jobs/echo.ron"), job).unwrap();
    let (mut broker, bootstrap) = start_broker(&project, port);
    assert!(project.join(".weir/broker.json").exists());
    // another process creates a topic through the control endpoint
    weir_engine::broker::create_topic_remote(&project, "other", 3).expect("remote create");
    // produce 100 records
    {
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
        let p: BaseProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .unwrap();
        for i in 0..100 {
            let payload = format!(r#"{{"id": {i}, "ts": {}}}"#, 1_000_000 + i * 10);
            p.send(BaseRecord::<(), String>::to("in").payload(&payload))
                .unwrap();
        }
        p.flush(std::time::Duration::from_secs(10)).unwrap();
    }
    // On the fixed port the data source comes from the metadata store, on the random
    // port from --set: both ways of resolving `k` are exercised.
    let set = format!("k={bootstrap}");
    let mut run_args = vec!["--json", "run", "jobs/echo.ron", "--bounded"];
    if port.is_some() {
        let add = weir(
            &project,
            &[
                "datasource",
                "add",
                "k",
                "--kind",
                "kafka",
                "--env",
                "test",
                "--test-address",
                &bootstrap,
            ],
        );
        assert_eq!(add.status.code(), Some(0), "{}", text(&add.stderr));
        // A registered data source is governed: reading its topic needs select.
        let public = weir(
            &project,
            &["perm", "public", "--table", "k.in", "--perms", "select"],
        );
        assert_eq!(public.status.code(), Some(0), "{}", text(&public.stderr));
    } else {
        run_args.extend(["--set", set.as_str()]);
    }
    let out = weir(&project, &run_args);
    let _ = broker.kill();
    let _ = broker.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metrics json");
    let src = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "src")
        .unwrap();
    assert_eq!(src["records_in"], 100);
    let rows = std::fs::read_to_string(project.join("jobs/out.jsonl"))
        .or_else(|_| std::fs::read_to_string(project.join("out.jsonl")))
        .unwrap();
    assert_eq!(rows.lines().count(), 50);
}

/// `weir broker --topics in:2` in `project` (on `port`, or a random one); returns the
/// process and the bootstrap address it printed.
fn start_broker(project: &Path, port: Option<u16>) -> (Child, String) {
    let mut args = vec!["broker".to_string(), "--topics".into(), "in:2".into()];
    if let Some(p) = port {
        args.extend(["--port".to_string(), p.to_string()]);
    }
    let mut broker = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(&args)
        .current_dir(project)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("broker starts");
    let mut line = String::new();
    BufReader::new(broker.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let bootstrap = line.trim().to_string();
    assert!(
        bootstrap.contains(':'),
        "bootstrap address printed: {line:?}"
    );
    (broker, bootstrap)
}

/// A local address with nothing listening: bind a free port, then release it.
fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("127.0.0.1:{port}")
}

/// A fresh project holding `jobs/job.ron`: a Kafka source `src` on data source `k`, the
/// SQL `query`, and `sink` (whose id must be `out`).
fn project_with_job(tag: &str, query: &str, sink: &str) -> PathBuf {
    let project =
        std::env::temp_dir().join(format!("weir-engine-fault-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&project);
    std::fs::create_dir_all(project.join("jobs")).unwrap();
    let job = format!(
        r#"Job(
    version: 1,
    name: "faulty",
    config: (time: Event),
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "in", start: Earliest, event_time: Some("ts"), watermark_ms: 1000,
            fields: Some([(name: "id", type: BigInt), (name: "ts", type: Timestamp)])),
        Sql(id: "q", query: "{query}"),
        {sink},
    ],
    edges: [("src", "q"), ("q", "out")],
)"#
    );
    std::fs::write(project.join("jobs/job.ron"), job).unwrap();
    project
}

#[test]
fn run_against_a_stopped_broker_exits_3_naming_the_data_source_and_address() {
    let project = project_with_job("kafka", "SELECT id, ts FROM src", r#"PrintSink(id: "out")"#);
    let address = free_address();
    let set = format!("k={address}");
    let started = Instant::now();
    let out = weir(
        &project,
        &["run", "jobs/job.ron", "--bounded", "--set", &set],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(stderr.contains("Kafka data source `k`"), "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");

    let out = weir(
        &project,
        &["--json", "run", "jobs/job.ron", "--bounded", "--set", &set],
    );
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error");
    assert_eq!(v["fault"], "external");
    assert!(v["error"].as_str().unwrap().contains(&address), "{v}");
}

#[test]
fn a_query_on_an_unknown_column_exits_2() {
    let project = project_with_job("sql", "SELECT nope FROM src", r#"PrintSink(id: "out")"#);
    let set = format!("k={}", free_address());
    let out = weir(
        &project,
        &["run", "jobs/job.ron", "--bounded", "--set", &set],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");
}

#[test]
fn an_injected_internal_fault_exits_4() {
    let inject = [("WEIR_INJECT_FAULT", "internal")];
    let out = weir_with(&root(), &["test", "jobs/iot_alerts.ron"], &inject);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("bug in weir"), "{stderr}");

    let project = project_with_job(
        "inject",
        "SELECT id, ts FROM src",
        r#"PrintSink(id: "out")"#,
    );
    let set = format!("k={}", free_address());
    let out = weir_with(
        &project,
        &["--json", "run", "jobs/job.ron", "--bounded", "--set", &set],
        &inject,
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error");
    assert_eq!(v["fault"], "internal");
}

#[test]
fn run_with_its_sink_database_stopped_exits_3_naming_it() {
    let project = project_with_job(
        "jdbc",
        "SELECT id, ts FROM src",
        r#"JdbcSink(id: "out", datasource: "db", table: "t")"#,
    );
    let (mut broker, bootstrap) = start_broker(&project, None);
    let database = free_address();
    let (k, db) = (format!("k={bootstrap}"), format!("db={database}"));
    let started = Instant::now();
    let out = weir(
        &project,
        &[
            "run",
            "jobs/job.ron",
            "--bounded",
            "--set",
            &k,
            "--set",
            "db.kind=mysql",
            "--set",
            &db,
        ],
    );
    let _ = broker.kill();
    let _ = broker.wait();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(stderr.contains("data source `db`"), "{stderr}");
    assert!(stderr.contains(&database), "{stderr}");
    // the cause in plain words, not the pool's "timed out" (issue 15 item 13)
    assert!(stderr.contains("connection refused"), "{stderr}");
}

#[test]
fn validate_explain_says_what_each_sink_guarantees_across_a_crash() {
    let out = weir(&root(), &["validate", "--explain", "--json", "jobs/"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for f in v["files"].as_array().unwrap() {
        for s in f["explain"]["sinks"].as_array().unwrap() {
            seen.insert(
                s["node"].as_str().unwrap().to_string(),
                s["delivery"].as_str().unwrap().to_string(),
            );
        }
    }
    // JDBC Upsert and Redis ZADD are idempotent; JDBC Insert and Kafka transactional
    assert_eq!(seen["to_pg"], "idempotent");
    assert_eq!(seen["to_redis"], "idempotent");
    assert_eq!(seen["to_mysql"], "exactly-once");
    assert_eq!(seen["to_kafka"], "exactly-once");
    let text = weir(&root(), &["validate", "--explain", "jobs/iot_alerts.ron"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("checkpoints: every 10000 ms"), "{text}");
    assert!(text.contains("sink to_kafka: exactly once"), "{text}");
}
