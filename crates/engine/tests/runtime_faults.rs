//! Starting a pipeline that cannot run says whose fault it is: a Kafka data source with
//! nothing listening, and a JDBC sink whose database is down, fail the start promptly as
//! `Unavailable` (external) naming the data source and its address; a query naming an
//! unknown column is the user's.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use weir_engine::EngineError;
use weir_engine::pipeline::{Pipeline, RunOptions, TestData};
use weir_engine::resolve::{Connection, Resolver};
use weir_engine::source::file::Replay;
use weir_model::Fault;
use weir_model::model::{DataSourceKind, Job};

/// A local address with nothing listening: bind a free port, then release it.
fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    format!("127.0.0.1:{port}")
}

fn job(query: &str, sink: &str) -> Job {
    let text = format!(
        r#"Job(version: 1, name: "faults", config: (time: Event),
        nodes: [
            KafkaSource(id: "src", datasource: "k", topic: "in", event_time: Some("ts"), watermark_ms: 0,
                fields: Some([(name: "id", type: BigInt), (name: "ts", type: Timestamp)])),
            Sql(id: "q", query: "{query}"),
            {sink},
        ],
        edges: [("src", "q"), ("q", "out")])"#
    );
    weir_model::jobfile::check_source("faults.ron", &text)
        .job
        .expect("job")
}

fn project(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("weir-faults-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("data")).expect("dir");
    std::fs::write(
        dir.join("data/src.jsonl"),
        r#"{"id": 1, "ts": 1000}
{"id": 2, "ts": 2000}"#,
    )
    .expect("data");
    dir
}

async fn start(job: &Job, resolver: &Resolver, opts: RunOptions) -> Result<(), EngineError> {
    let pipeline = Pipeline::start(job, resolver, opts).await?;
    pipeline.wait().await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_data_source_with_nothing_listening_is_unavailable_at_start() {
    let address = free_address();
    let job = job("SELECT id, ts FROM src", r#"PrintSink(id: "out")"#);
    let mut resolver = Resolver::default();
    resolver.insert("k", Connection::new(DataSourceKind::Kafka, address.clone()));
    let mut opts = RunOptions::new(project("kafka"), weir_engine::transform::default_planner());
    opts.bounded = true;
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(30), start(&job, &resolver, opts))
        .await
        .expect("the start does not hang")
        .expect_err("no broker");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.fault(), Fault::External, "{err}");
    let EngineError::Unavailable {
        what, address: at, ..
    } = &err
    else {
        panic!("not Unavailable: {err:?}");
    };
    assert!(what.contains("`k`"), "{what}");
    assert_eq!(at, &address);
    assert!(err.to_string().contains(&address), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jdbc_sink_whose_database_is_down_is_unavailable_at_start() {
    let address = free_address();
    let job = job(
        "SELECT id, ts FROM src",
        r#"JdbcSink(id: "out", datasource: "db", table: "t")"#,
    );
    let mut resolver = Resolver::default();
    let mut db = Connection::new(DataSourceKind::Mysql, address.clone());
    db.user = Some("root".into());
    db.options.insert("database".into(), "test".into());
    resolver.insert("db", db);
    let dir = project("jdbc");
    let mut opts = RunOptions::new(&dir, weir_engine::transform::default_planner());
    opts.bounded = true;
    // the file source stands in for Kafka; the JDBC sink is real
    opts.test_data = Some(TestData {
        dir: dir.join("data"),
        replay: Replay::default(),
    });
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(30), start(&job, &resolver, opts))
        .await
        .expect("the start does not hang")
        .expect_err("no database");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
    let EngineError::Unavailable {
        what, address: at, ..
    } = &err
    else {
        panic!("not Unavailable: {err:?}");
    };
    assert!(what.contains("`db`") && what.contains("`out`"), "{what}");
    assert_eq!(at, &address);
    assert_eq!(err.fault(), Fault::External);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_naming_an_unknown_column_is_the_users_fault() {
    let job = job("SELECT nope FROM src", r#"PrintSink(id: "out")"#);
    let dir = project("sql");
    let mut opts = RunOptions::new(&dir, weir_engine::transform::default_planner());
    opts.test_data = Some(TestData {
        dir: dir.join("data"),
        replay: Replay::default(),
    });
    let err = start(&job, &Resolver::default(), opts)
        .await
        .expect_err("bad SQL");
    assert_eq!(err.fault(), Fault::User, "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
}
