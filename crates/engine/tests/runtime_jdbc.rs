//! JdbcSink failure handling on PostgreSQL: with `on_error: Skip`, rows the database
//! rejects go to the dead-letter file one by one and every other row is written; with
//! batches larger than one, flush on close writes the remainder.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use weir_engine::pipeline::{Pipeline, RunOptions, TestData};
use weir_engine::resolve::{DataSource, Resolver};
use weir_engine::source::file::Replay;
use weir_model::model::DataSourceKind;
use weir_testsupport::postgres::PgDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_rows_are_dead_lettered_and_the_rest_written() {
    let db = PgDatabase::create("weir_rt_jdbc").await;
    let name = db.name().to_string();
    let url = db.url();
    let pool = sqlx::PgPool::connect(&url).await.expect("pg");
    sqlx::raw_sql("CREATE TABLE t (id BIGINT PRIMARY KEY, v DOUBLE PRECISION CHECK (v < 100), ts TIMESTAMP(3))")
        .execute(&pool)
        .await
        .expect("table");
    let project = std::env::temp_dir().join(&name);
    let data = project.join("data");
    std::fs::create_dir_all(&data).expect("dir");
    let lines: Vec<String> = (0..50)
        .map(|i| {
            format!(
                r#"{{"id": {i}, "v": {}, "ts": {}}}"#,
                if i % 10 == 3 { 500.0 } else { i as f64 },
                1_000_000 + i
            )
        })
        .collect();
    std::fs::write(data.join("src.jsonl"), lines.join("\n")).expect("data");
    let job = weir_model::jobfile::check_source(
        "t.ron",
        r#"Job(version: 1, name: "jdbc", config: (time: Event),
        nodes: [
            KafkaSource(id: "src", datasource: "k", topic: "in", event_time: Some("ts"), watermark_ms: 0,
                fields: Some([(name: "id", type: BigInt), (name: "v", type: Double), (name: "ts", type: Timestamp)])),
            Sql(id: "q", query: "SELECT id, v, ts FROM src"),
            JdbcSink(id: "out", datasource: "pg", table: "t", operation: Upsert(key: ["id"]), batch_size: 8, on_error: Skip),
        ],
        edges: [("src", "q"), ("q", "out")])"#,
    )
    .job
    .expect("job");
    let mut resolver = Resolver::default();
    resolver.insert(
        "pg",
        DataSource {
            kind: DataSourceKind::Postgres,
            address: url.clone(),
            user: None,
            password: None,
            options: Default::default(),
        },
    );
    // the file source stands in for Kafka; the JDBC sink is real (no capture)
    let mut opts = RunOptions::new(&project, weir_engine::transform::default_planner());
    opts.bounded = true;
    opts.batch_size = 5;
    opts.test_data = Some(TestData {
        dir: data,
        replay: Replay::default(),
    });
    let p = Pipeline::start(&job, &resolver, opts)
        .await
        .expect("starts");
    let metrics = tokio::time::timeout(Duration::from_secs(30), p.wait())
        .await
        .expect("ends")
        .expect("runs");
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM t ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("select");
    let want: Vec<i64> = (0..50).filter(|i| i % 10 != 3).collect();
    assert_eq!(ids, want);
    let ts: String =
        sqlx::query_scalar("SELECT to_char(ts, 'YYYY-MM-DD HH24:MI:SS.MS') FROM t WHERE id = 1")
            .fetch_one(&pool)
            .await
            .expect("ts");
    assert_eq!(ts, "1970-01-01 00:16:40.001");
    let dl = std::fs::read_to_string(project.join(".weir/deadletter/jdbc/out.jsonl"))
        .expect("dead letters");
    assert_eq!(dl.lines().count(), 5, "{dl}");
    assert!(dl.contains("check constraint"), "{dl}");
    let errors = metrics
        .get("out")
        .map(|m| m.errors.load(std::sync::atomic::Ordering::Relaxed));
    assert_eq!(errors, Some(5));
    pool.close().await;
    db.remove().await;
}
