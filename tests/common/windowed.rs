//! The windowed job of the checkpoint tests (Kafka → 10-second TUMBLE count → JDBC
//! upsert on PostgreSQL) and how tests read it: its records, its table, its instances'
//! figures (`weir instance show`, `weir top`).
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use weir_testsupport::postgres::PgDatabase;

use std::time::Duration;

use super::cli::{Checkout, produce};

/// 2001-09-09T01:46:40Z, a multiple of every window size here.
pub const T0: i64 = 1_000_000_000_000;
pub const WINDOW_MS: i64 = 10_000;

pub fn record(id: i64, ts: i64) -> String {
    format!(r#"{{"id": {id}, "ts": {ts}}}"#)
}

/// The windowed job; its data sources (`k`, `pg_out`) are given with `--set` (or a
/// production instance's `--param`).
pub fn windowed_job() -> String {
    r#"Job(
    version: 1,
    name: "counts",
    config: (time: Event, checkpoint_interval_ms: 500, parallelism: 1),
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "in", start: Earliest, event_time: Some("ts"), watermark_ms: 1000,
            fields: Some([(name: "id", type: BigInt), (name: "ts", type: Timestamp)])),
        Sql(id: "agg", query: "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end"),
        JdbcSink(id: "out", datasource: "pg_out", table: "counts", operation: Upsert(key: ["window_start"]), batch_size: 100, flush_interval_ms: 200),
    ],
    edges: [("src", "agg"), ("agg", "out")],
)"#
    .to_string()
}

/// `text` as jobs/counts.ron, submitted by bob as the job's next version.
pub fn submit_counts(c: &Checkout, text: &str, message: &str) {
    c.write_job("counts.ron", text);
    c.expect(
        "bob",
        &["job", "submit", "jobs/counts.ron", "-m", message],
        0,
    );
}

/// A database with the job's table.
pub async fn counts_table(name: &str) -> PgDatabase {
    let db = PgDatabase::create(name).await;
    db.execute("CREATE TABLE counts (window_start TIMESTAMP PRIMARY KEY, n BIGINT NOT NULL)")
        .await;
    db
}

/// (window start in epoch ms, count) of every row of `counts`, by window.
pub async fn table_rows(db: &PgDatabase) -> Vec<(i64, i64)> {
    let pool = db.pool().await;
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT CAST(EXTRACT(EPOCH FROM window_start) * 1000 AS BIGINT), n FROM counts ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    rows
}

pub fn show(c: &Checkout, id: &str) -> serde_json::Value {
    c.json("bob", &["instance", "show", id])
}

/// The checkpoint figures of instance `id` (`weir instance show --json`).
pub fn checkpoints(c: &Checkout, id: &str) -> Option<serde_json::Value> {
    let d = show(c, id);
    let f = d["history"].as_array()?.last()?.clone();
    Some(f["checkpoints"].clone()).filter(|v| !v.is_null())
}

/// Records read by the source `src` in the current run (`weir top ID --json`).
pub fn records_in(c: &Checkout, id: &str) -> Option<u64> {
    records_into(c, id, "src")
}

/// Records read by node `node` in the current run of instance `id`.
pub fn records_into(c: &Checkout, id: &str, node: &str) -> Option<u64> {
    let out = c.weir("bob", &["top", id, "--json", "--count", "1"]);
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    line["figures"]["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["id"] == node)?["records_in"]
        .as_u64()
}

/// Window 0 whole (30 records) and window 1 half (10 records) to topic `in`: window 0
/// fires, window 1 stays open with its partial count in the state of instance `id`. Waits
/// until the instance read them, window 0 is in the table and a checkpoint completed after
/// that; returns the checkpoint figures.
pub fn feed_first_part(
    c: &Checkout,
    rt: &tokio::runtime::Runtime,
    db: &PgDatabase,
    bootstrap: &str,
    id: &str,
) -> serde_json::Value {
    let mut first: Vec<String> = (0..30).map(|i| record(i, T0 + i * 300)).collect();
    first.extend((30..40).map(|i| record(i, T0 + WINDOW_MS + 1000 + (i - 30) * 100)));
    produce(bootstrap, "in", &first);
    c.wait_for("40 records in", Duration::from_secs(30), || {
        records_in(c, id).filter(|n| *n == 40)
    });
    c.wait_for("window 0 in the table", Duration::from_secs(30), || {
        (rt.block_on(table_rows(db)) == vec![(T0, 30)]).then_some(())
    });
    // a checkpoint completed after every record was read
    let seen = checkpoints(c, id)
        .and_then(|f| f["last_id"].as_u64())
        .unwrap_or(0);
    c.wait_for("a later checkpoint", Duration::from_secs(20), || {
        checkpoints(c, id).filter(|f| f["last_id"].as_u64().unwrap_or(0) >= seen + 2)
    })
}

/// The rest of window 1 and a record far ahead that fires it; then the table holds both
/// windows with their whole counts (none lost, none counted twice), and instance `id`
/// read only what came after the state it continued from.
pub fn feed_the_rest_and_check(
    c: &Checkout,
    rt: &tokio::runtime::Runtime,
    db: &PgDatabase,
    bootstrap: &str,
    id: &str,
) {
    let mut rest: Vec<String> = (40..50)
        .map(|i| record(i, T0 + WINDOW_MS + 2000 + (i - 40) * 100))
        .collect();
    rest.push(record(50, T0 + 10 * WINDOW_MS));
    produce(bootstrap, "in", &rest);
    c.wait_for("window 1 in the table", Duration::from_secs(30), || {
        (rt.block_on(table_rows(db)).len() == 2).then_some(())
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        rt.block_on(table_rows(db)),
        vec![(T0, 30), (T0 + WINDOW_MS, 20)],
        "no row lost, none counted twice"
    );
    assert_eq!(
        records_in(c, id),
        Some(11),
        "only what came after the state"
    );
}
