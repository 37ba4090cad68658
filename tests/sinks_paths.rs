//! Sink paths no other test ran (issue 15), on the real services: the JDBC upsert on
//! PostgreSQL (`ON CONFLICT`) and MariaDB (`ON DUPLICATE KEY`) with keys repeated within
//! a batch (the per-batch dedup keeps the last row per key) and across batches; the
//! `Fail` and `Retry` error policies with injected write failures (a CHECK constraint
//! that rejects a row, a table that appears only while the sink retries); and a Kafka
//! sink's topic read in full after the run: no message missing or extra, keys as the node
//! configures them. A test-data file stands in for the Kafka source; the sinks are real.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use weir::model::{DataSourceKind, Job};
use weir_engine::EngineError;
use weir_engine::metrics::Metrics;
use weir_engine::pipeline::{Pipeline, RunOptions, TestData};
use weir_engine::resolve::{Connection, Resolver};
use weir_engine::source::file::Replay;
use weir_testsupport::mariadb::MariaDatabase;
use weir_testsupport::postgres::PgDatabase;

/// The input of every test: `(k, v, name)` per record, one second apart.
const ROWS: [(i64, i64, &str); 9] = [
    // first batch of 4: k 1 three times, the last (v 4) wins
    (1, 1, "a"),
    (2, 2, "b"),
    (1, 3, "c"),
    (1, 4, "d"),
    // second batch: k 2 again (from the first batch) and k 3 twice
    (2, 5, "e"),
    (3, 6, "f"),
    (3, 7, "g"),
    (2, 8, "h"),
    // the rest, flushed at the end: k 1 once more
    (1, 9, "i"),
];

/// What a table upserted by `k` holds after [`ROWS`]: the last `v` of each key.
const UPSERTED: [(i64, i64); 3] = [(1, 9), (2, 8), (3, 7)];

/// A project directory with `data/src.jsonl` holding `rows`.
fn project(tag: &str, rows: &[(i64, i64, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(weir_testsupport::unique(&format!("weir_sinks_{tag}")));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let lines: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, (k, v, name))| {
            format!(
                r#"{{"k": {k}, "v": {v}, "name": "{name}", "ts": {}}}"#,
                1_000_000 + i as i64 * 1000
            )
        })
        .collect();
    std::fs::write(dir.join("data/src.jsonl"), lines.join("\n") + "\n").unwrap();
    dir
}

/// A job reading `src` (k, v, name, ts) into the sinks `sinks`, each fed by `q`.
fn job(sinks: &[(&str, &str)]) -> Job {
    let nodes: Vec<&str> = sinks.iter().map(|(_, node)| *node).collect();
    let edges: Vec<String> = sinks
        .iter()
        .map(|(id, _)| format!("(\"q\", \"{id}\")"))
        .collect();
    let text = format!(
        r#"Job(version: 1, name: "sinks", config: (time: Event),
        nodes: [
            KafkaSource(id: "src", datasource: "k", topic: "in", event_time: Some("ts"), watermark_ms: 0,
                fields: Some([(name: "k", type: BigInt), (name: "v", type: BigInt), (name: "name", type: String), (name: "ts", type: Timestamp)])),
            Sql(id: "q", query: "SELECT k, v, name FROM src"),
            {},
        ],
        edges: [("src", "q"), {}])"#,
        nodes.join(",\n            "),
        edges.join(", ")
    );
    let checked = weir::jobfile::check_source("sinks.ron", &text);
    let errors: Vec<String> = checked.diagnostics.iter().map(|d| d.render()).collect();
    assert!(!checked.has_errors(), "{}", errors.join("\n"));
    checked.job.unwrap()
}

/// Options of a bounded run of `dir`'s test data with real sinks.
fn options(dir: &std::path::Path) -> RunOptions {
    let mut opts = RunOptions::new(dir, weir_engine::transform::default_planner());
    opts.bounded = true;
    // one record per source batch: the sinks' own batch sizes decide the statements
    opts.batch_size = 1;
    opts.test_data = Some(TestData {
        dir: dir.join("data"),
        replay: Replay::default(),
    });
    opts
}

/// Runs `job` to its end (at most 60 s).
async fn run(job: &Job, resolver: &Resolver, opts: RunOptions) -> Result<Metrics, EngineError> {
    let p = Pipeline::start(job, resolver, opts).await?;
    tokio::time::timeout(Duration::from_secs(60), p.wait())
        .await
        .expect("the run ends")
}

fn counter(
    metrics: &Metrics,
    node: &str,
    what: fn(&weir_engine::metrics::NodeMetrics) -> u64,
) -> u64 {
    metrics.get(node).map(|m| what(m)).unwrap_or_default()
}

fn database(kind: DataSourceKind, url: &str) -> Resolver {
    let mut r = Resolver::default();
    r.insert("db", Connection::new(kind, url.to_string()));
    r
}

const UPSERT_SINKS: [(&str, &str); 2] = [
    (
        "out",
        r#"JdbcSink(id: "out", datasource: "db", table: "t", columns: Some(["k", "v"]), operation: Upsert(key: ["k"]), batch_size: 4, on_error: Fail)"#,
    ),
    // every column is the key: DO NOTHING / `k = k`
    (
        "keys",
        r#"JdbcSink(id: "keys", datasource: "db", table: "u", columns: Some(["k"]), operation: Upsert(key: ["k"]), batch_size: 4, on_error: Fail)"#,
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_on_postgres_keeps_the_last_row_per_key_within_and_across_batches() {
    let db = PgDatabase::create("weir_sinks_pg").await;
    db.execute("CREATE TABLE t (k BIGINT PRIMARY KEY, v BIGINT NOT NULL); CREATE TABLE u (k BIGINT PRIMARY KEY)")
        .await;
    let dir = project("pg", &ROWS);
    // `on_error: Fail`: a statement that touched a key twice ("ON CONFLICT DO UPDATE
    // command cannot affect row a second time") would fail the run
    let metrics = run(
        &job(&UPSERT_SINKS),
        &database(DataSourceKind::Postgres, &db.url()),
        options(&dir),
    )
    .await
    .expect("the upsert runs");
    let pool = db.pool().await;
    let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT k, v FROM t ORDER BY k")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows, UPSERTED.to_vec());
    let keys: Vec<i64> = sqlx::query_scalar("SELECT k FROM u ORDER BY k")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![1, 2, 3]);
    assert_eq!(counter(&metrics, "out", |m| m.records_in.load(Relaxed)), 9);
    assert_eq!(counter(&metrics, "out", |m| m.errors.load(Relaxed)), 0);
    assert_eq!(
        counter(&metrics, "out", |m| m.dead_letters.load(Relaxed)),
        0
    );
    pool.close().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_on_mariadb_keeps_the_last_row_per_key_within_and_across_batches() {
    let db = MariaDatabase::create("weir_sinks_my").await;
    db.execute("CREATE TABLE t (k BIGINT PRIMARY KEY, v BIGINT NOT NULL); CREATE TABLE u (k BIGINT PRIMARY KEY)")
        .await;
    let dir = project("my", &ROWS);
    let metrics = run(
        &job(&UPSERT_SINKS),
        &database(DataSourceKind::Mysql, &db.url()),
        options(&dir),
    )
    .await
    .expect("the upsert runs");
    let pool = db.pool().await;
    let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT k, v FROM t ORDER BY k")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows, UPSERTED.to_vec());
    let keys: Vec<i64> = sqlx::query_scalar("SELECT k FROM u ORDER BY k")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![1, 2, 3]);
    assert_eq!(counter(&metrics, "out", |m| m.errors.load(Relaxed)), 0);
    pool.close().await;
    db.remove().await;
}

/// A sink into `t` (k, v) by plain INSERT, in batches of 4, with `policy`.
fn insert_sink(policy: &str) -> String {
    format!(
        r#"JdbcSink(id: "out", datasource: "db", table: "t", columns: Some(["k", "v"]), batch_size: 4, on_error: {policy})"#
    )
}

/// Distinct keys 1..=9, `v` 10 * k, except k 6 whose v (600) the table's CHECK rejects.
fn checked_rows() -> Vec<(i64, i64, &'static str)> {
    (1..=9)
        .map(|k| (k, if k == 6 { 600 } else { 10 * k }, "x"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fail_policy_stops_the_run_at_a_rejected_write() {
    let db = PgDatabase::create("weir_sinks_fail").await;
    db.execute("CREATE TABLE t (k BIGINT PRIMARY KEY, v BIGINT CHECK (v < 100))")
        .await;
    let dir = project("fail", &checked_rows());
    let sink = insert_sink("Fail");
    let err = run(
        &job(&[("out", &sink)]),
        &database(DataSourceKind::Postgres, &db.url()),
        options(&dir),
    )
    .await
    .expect_err("a rejected row fails the run");
    let message = err.to_string();
    assert!(
        message.contains("`out`") && message.contains("table t"),
        "{message}"
    );
    assert!(message.contains("check constraint"), "{message}");
    // the first batch (k 1..=4) was written; the batch holding k 6 (5..=8) was not, and
    // nothing after it
    let pool = db.pool().await;
    let keys: Vec<i64> = sqlx::query_scalar("SELECT k FROM t ORDER BY k")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![1, 2, 3, 4]);
    pool.close().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_policy_retries_with_backoff_then_dead_letters_only_the_bad_row() {
    let db = PgDatabase::create("weir_sinks_retry").await;
    db.execute("CREATE TABLE t (k BIGINT PRIMARY KEY, v BIGINT CHECK (v < 100))")
        .await;
    let dir = project("retry", &checked_rows());
    let sink = insert_sink("Retry(max: 2, backoff_ms: 200)");
    let started = Instant::now();
    let metrics = run(
        &job(&[("out", &sink)]),
        &database(DataSourceKind::Postgres, &db.url()),
        options(&dir),
    )
    .await
    .expect("a policy of Retry goes on after the retries");
    // two retries of the batch holding k 6, 200 ms then 400 ms apart
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    let pool = db.pool().await;
    let keys: Vec<i64> = sqlx::query_scalar("SELECT k FROM t ORDER BY k")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![1, 2, 3, 4, 5, 7, 8, 9]);
    assert_eq!(
        counter(&metrics, "out", |m| m.dead_letters.load(Relaxed)),
        1
    );
    assert_eq!(counter(&metrics, "out", |m| m.errors.load(Relaxed)), 1);
    pool.close().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_policy_writes_everything_once_the_table_is_back() {
    let db = PgDatabase::create("weir_sinks_back").await;
    // no table yet: every write fails until the test creates it
    let dir = project("back", &ROWS);
    let sink = r#"JdbcSink(id: "out", datasource: "db", table: "t", columns: Some(["k", "v"]), operation: Upsert(key: ["k"]), batch_size: 4, on_error: Retry(max: 6, backoff_ms: 200))"#;
    let job = job(&[("out", sink)]);
    let p = Pipeline::start(
        &job,
        &database(DataSourceKind::Postgres, &db.url()),
        options(&dir),
    )
    .await
    .expect("starts");
    let sink = p.metrics().get("out").cloned().expect("sink metrics");
    let run = tokio::spawn(async move {
        tokio::time::timeout(Duration::from_secs(60), p.wait())
            .await
            .expect("the run ends")
    });
    // the first batch has reached the sink (and failed: there is no table); create the
    // table while the sink backs off
    let deadline = Instant::now() + Duration::from_secs(10);
    while sink.records_in.load(Relaxed) < 4 {
        assert!(Instant::now() < deadline, "the sink got no rows");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    db.execute("CREATE TABLE t (k BIGINT PRIMARY KEY, v BIGINT NOT NULL)")
        .await;
    let metrics = run.await.unwrap().expect("the retries succeed");
    let pool = db.pool().await;
    let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT k, v FROM t ORDER BY k")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows, UPSERTED.to_vec());
    assert_eq!(
        counter(&metrics, "out", |m| m.dead_letters.load(Relaxed)),
        0
    );
    assert_eq!(counter(&metrics, "out", |m| m.errors.load(Relaxed)), 0);
    pool.close().await;
    db.remove().await;
}

/// Every message of `topic`, read from the beginning up to each partition's high
/// watermark: `(key, payload)`.
fn read_all(bootstrap: &str, topic: &str) -> Vec<(Option<String>, serde_json::Value)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "weir-sinks-reader")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .unwrap();
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    let mut ends: BTreeMap<i32, i64> = BTreeMap::new();
    for p in md.topics()[0].partitions() {
        let (low, high) = consumer
            .fetch_watermarks(topic, p.id(), Duration::from_secs(5))
            .unwrap();
        if high > low {
            ends.insert(p.id(), high);
        }
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while ends
        .iter()
        .any(|(p, end)| next.get(p).copied().unwrap_or(0) < *end)
    {
        assert!(
            Instant::now() < deadline,
            "read {} messages, then nothing",
            out.len()
        );
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            let m = m.unwrap();
            next.insert(m.partition(), m.offset() + 1);
            let key = m.key().map(|k| String::from_utf8_lossy(k).into_owned());
            let payload = serde_json::from_slice(m.payload().unwrap_or(b"null")).unwrap();
            out.push((key, payload));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_sink_writes_each_row_once_keyed_as_configured() {
    let broker = weir_engine::broker::Broker::start().unwrap();
    broker.create_topic("keyed", 3).unwrap();
    broker.create_topic("unkeyed", 2).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let dir = project("kafka", &ROWS);
    let mut resolver = Resolver::default();
    resolver.insert(
        "kc",
        Connection::new(DataSourceKind::Kafka, bootstrap.clone()),
    );
    let job = job(&[
        (
            "keyed",
            r#"KafkaSink(id: "keyed", datasource: "kc", topic: "keyed", key: Some(["k", "name"]))"#,
        ),
        (
            "unkeyed",
            r#"KafkaSink(id: "unkeyed", datasource: "kc", topic: "unkeyed")"#,
        ),
    ]);
    let metrics = run(&job, &resolver, options(&dir)).await.expect("runs");
    assert_eq!(
        counter(&metrics, "keyed", |m| m.records_out.load(Relaxed)),
        9
    );

    let want: Vec<(String, serde_json::Value)> = ROWS
        .iter()
        .map(|(k, v, name)| {
            (
                format!("{k},{name}"),
                serde_json::json!({"k": k, "v": v, "name": name}),
            )
        })
        .collect();
    let sorted = |mut rows: Vec<(Option<String>, serde_json::Value)>| {
        rows.sort_by_key(|(k, v)| (k.clone(), v.to_string()));
        rows
    };
    let keyed = tokio::task::spawn_blocking({
        let b = bootstrap.clone();
        move || read_all(&b, "keyed")
    })
    .await
    .unwrap();
    assert_eq!(
        sorted(keyed),
        sorted(
            want.iter()
                .map(|(k, v)| (Some(k.clone()), v.clone()))
                .collect()
        ),
        "every row once, keyed `k,name`"
    );
    let unkeyed = tokio::task::spawn_blocking({
        let b = bootstrap.clone();
        move || read_all(&b, "unkeyed")
    })
    .await
    .unwrap();
    assert_eq!(
        sorted(unkeyed),
        sorted(want.iter().map(|(_, v)| (None, v.clone())).collect()),
        "every row once, without a key"
    );
    drop(broker);
}
