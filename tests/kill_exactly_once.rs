//! Twenty `kill -9`s at random points (seeded) while records arrive, then a clean stop (issue
//! 16, "Faults and bad input"): once of `weir run --checkpoints`, once of the worker that
//! runs the job as an instance (restarted under its id, it takes the instance back and
//! restores its checkpoint). One job
//! on the embedded broker (the mock cluster in the test process) writes every record to
//! a MariaDB table with JDBC `Insert` (exactly once: each checkpoint's rows and its id in
//! one transaction), the counts of 2-second tumbling windows to another table (window
//! state restored from the checkpoints), and the records to a Kafka topic (one producer
//! transaction per checkpoint). At the end:
//! - the record table holds every record exactly once;
//! - the window table equals the batch reference DataFusion computes over the same input;
//! - the Kafka topic holds every record at least once (the mock cluster does not hide the
//!   rows of aborted transactions, so exactly once there needs a real cluster).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Int64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use common::cli::Checkout;
use common::seeded::Seeded;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use weir_engine::broker::Broker;
use weir_testsupport::mariadb::MariaDatabase;

const RECORDS: i64 = 4000;
const KILLS: u64 = 20;
const T0: i64 = 1_772_359_200_000;
const PARTITIONS: i32 = 2;

fn url(seq: i64) -> String {
    format!("/p{}", seq % 5)
}

/// Record `seq` happens 10 ms after the one before it.
fn ts(seq: i64) -> i64 {
    T0 + seq * 10
}

fn job(bootstrap: &str, db: &str) -> String {
    format!(
        r##"Job(
    version: 1,
    name: "exactly",
    config: (time: Event, checkpoint_interval_ms: 250, parallelism: 1),
    datasources: {{
        "k": (kind: Kafka, address: "{bootstrap}"),
        "db": (kind: Mysql, address: "127.0.0.1:3306", user: Some("root"), options: {{"database": "{db}"}}),
    }},
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "clicks", start: Earliest,
            event_time: Some("ts"), watermark_ms: 0,
            fields: Some([(name: "seq", type: BigInt), (name: "url", type: String), (name: "ts", type: Timestamp)])),
        Sql(id: "pv", query: r#"SELECT window_start, url, COUNT(*) AS pv
FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '2' SECOND))
GROUP BY window_start, window_end, url"#),
        JdbcSink(id: "records", datasource: "db", table: "records", batch_size: 500, on_error: Fail),
        JdbcSink(id: "windows", datasource: "db", table: "windows", batch_size: 500, on_error: Fail),
        KafkaSink(id: "copy", datasource: "k", topic: "copy"),
    ],
    edges: [("src", "records"), ("src", "pv"), ("pv", "windows"), ("src", "copy")],
)"##
    )
}

fn produce(producer: &BaseProducer, seqs: std::ops::Range<i64>) {
    for seq in seqs {
        let payload = serde_json::json!({ "seq": seq, "url": url(seq), "ts": ts(seq) }).to_string();
        loop {
            let record = BaseRecord::<(), String>::to("clicks")
                .partition((seq % PARTITIONS as i64) as i32)
                .payload(&payload);
            match producer.send(record) {
                Ok(()) => break,
                Err(_) => {
                    producer.poll(Duration::from_millis(10));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

fn start_run(c: &Checkout) -> Child {
    c.command("bob", &["run", "--checkpoints", "jobs/exactly.ron"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The window counts DataFusion computes in batch over records `0..RECORDS`:
/// (window start as the sink writes it, url) → count.
fn reference(rt: &tokio::runtime::Runtime) -> BTreeMap<(String, String), i64> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("seq", DataType::Int64, false),
        Field::new("url", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(0..RECORDS)),
            Arc::new(StringArray::from_iter_values((0..RECORDS).map(url))),
            Arc::new(TimestampMillisecondArray::from_iter_values(
                (0..RECORDS).map(ts),
            )),
        ],
    )
    .unwrap();
    rt.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new();
        let table = datafusion::datasource::MemTable::try_new(schema, vec![vec![batch]]).unwrap();
        ctx.register_table("clicks", Arc::new(table)).unwrap();
        let df = ctx
            .sql(
                "SELECT CAST(date_bin(INTERVAL '2 seconds', ts, TIMESTAMP '1970-01-01 00:00:00') AS BIGINT) AS start_ms, url, COUNT(*) AS pv \
                 FROM clicks GROUP BY 1, 2",
            )
            .await
            .unwrap();
        let mut out = BTreeMap::new();
        for b in df.collect().await.unwrap() {
            let starts = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            let urls = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
            let pvs = b.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
            for i in 0..b.num_rows() {
                // date_bin on a millisecond timestamp casts to milliseconds
                let start = weir_engine::rows::format_ts_ms(starts.value(i));
                out.insert((start, urls.value(i).to_string()), pvs.value(i));
            }
        }
        out
    })
}

fn seqs_in_table(rt: &tokio::runtime::Runtime, db: &MariaDatabase) -> BTreeMap<i64, i64> {
    rt.block_on(async {
        let pool = db.pool().await;
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT seq, COUNT(*) FROM records GROUP BY seq")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        rows.into_iter().collect()
    })
}

fn windows_in_table(
    rt: &tokio::runtime::Runtime,
    db: &MariaDatabase,
) -> Vec<((String, String), i64)> {
    rt.block_on(async {
        let pool = db.pool().await;
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT window_start, url, pv FROM windows")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        rows.into_iter().map(|(w, u, n)| ((w, u), n)).collect()
    })
}

/// The tables, the broker with its topics, the job file, and the first 200 records.
struct Setup {
    c: Checkout,
    rt: tokio::runtime::Runtime,
    db: MariaDatabase,
    _broker: Broker,
    bootstrap: String,
}

fn setup(name: &str) -> Setup {
    let c = Checkout::new(name);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(MariaDatabase::create(&format!(
        "weir_{}",
        name.replace('-', "_")
    )));
    rt.block_on(
        db.execute("CREATE TABLE records (seq BIGINT NOT NULL, url VARCHAR(16), ts VARCHAR(40))"),
    );
    rt.block_on(
        db.execute("CREATE TABLE windows (window_start VARCHAR(40), url VARCHAR(16), pv BIGINT)"),
    );
    let broker = Broker::start().unwrap();
    broker.create_topic("clicks", PARTITIONS).unwrap();
    broker.create_topic("copy", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    c.write_job("exactly.ron", &job(&bootstrap, db.name()));
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    produce(&producer, 0..200);
    Setup {
        c,
        rt,
        db,
        _broker: broker,
        bootstrap,
    }
}

/// The rest of the records, arriving in small batches while the job is killed and
/// restarted, then one record a day later per partition that moves the watermark past
/// every window.
fn feed_the_rest(bootstrap: &str) -> std::thread::JoinHandle<()> {
    let bootstrap = bootstrap.to_string();
    std::thread::spawn(move || {
        let producer: BaseProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .unwrap();
        let mut seq = 200;
        while seq < RECORDS {
            let end = (seq + 50).min(RECORDS);
            produce(&producer, seq..end);
            seq = end;
            std::thread::sleep(Duration::from_millis(150));
        }
        for p in 0..PARTITIONS {
            let seq = RECORDS + p as i64;
            let far = serde_json::json!({ "seq": seq, "url": "/end", "ts": ts(seq) + 86_400_000 })
                .to_string();
            producer
                .send(
                    BaseRecord::<(), String>::to("clicks")
                        .partition(p)
                        .payload(&far),
                )
                .map_err(|e| e.0)
                .unwrap();
        }
        producer.flush(Duration::from_secs(10)).unwrap();
    })
}

/// Kill `child` with -9 and check that no record was written twice so far.
fn kill_9(rt: &tokio::runtime::Runtime, db: &MariaDatabase, child: &mut Child, kill: u64) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let seqs = seqs_in_table(rt, db);
    let twice: Vec<_> = seqs.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        twice.is_empty(),
        "after kill {kill}: written twice: {twice:?}"
    );
    eprintln!("kill {kill}: {} records in the table", seqs.len());
}

/// Wait until the last run caught up with every record and window.
fn caught_up(s: &Setup) {
    let want = reference(&s.rt).len();
    s.c.wait_for(
        "every record and window in the tables",
        Duration::from_secs(90),
        || {
            let records = seqs_in_table(&s.rt, &s.db).len() as i64;
            let windows = windows_in_table(&s.rt, &s.db).len();
            (records > RECORDS + 1 && windows >= want).then_some(())
        },
    );
}

/// The newest complete checkpoint under `dir` (0 when none).
fn newest_checkpoint(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("_manifest.json").exists())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("chk-")?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

/// Every sink as an uninterrupted run leaves it: each record once in `records`, the
/// windows equal to DataFusion's batch reference, each once, and every record (at least
/// once) in the Kafka copy.
fn assert_sinks(s: &Setup) {
    let seqs = seqs_in_table(&s.rt, &s.db);
    let all = 0..RECORDS + PARTITIONS as i64;
    let missing: Vec<i64> = all
        .clone()
        .filter(|n| !seqs.contains_key(n))
        .take(10)
        .collect();
    assert!(missing.is_empty(), "missing records: {missing:?}");
    let twice: Vec<_> = seqs.iter().filter(|(_, n)| **n > 1).take(10).collect();
    assert!(twice.is_empty(), "records written twice: {twice:?}");
    let got = windows_in_table(&s.rt, &s.db);
    let distinct: BTreeMap<(String, String), i64> = got.iter().cloned().collect();
    assert_eq!(got.len(), distinct.len(), "a window was written twice");
    assert_eq!(distinct, reference(&s.rt));
    let copied: BTreeSet<i64> =
        common::kafka::read_topic(&s.bootstrap, "copy", 1, all.end as usize)
            .iter()
            .filter_map(|row| row.get("seq").and_then(serde_json::Value::as_i64))
            .collect();
    let lost: Vec<i64> = all.filter(|n| !copied.contains(n)).take(10).collect();
    assert!(
        lost.is_empty(),
        "records missing from the Kafka copy: {lost:?}"
    );
}

#[test]
fn twenty_kill_9s_leave_every_sink_as_an_uninterrupted_run_leaves_it() {
    let s = setup("kill-exactly-once");
    let rest = feed_the_rest(&s.bootstrap);
    let mut rng = Seeded(0x5eed_0016);
    let mut run = start_run(&s.c);
    for kill in 0..KILLS {
        std::thread::sleep(Duration::from_millis(300 + rng.below(900)));
        kill_9(&s.rt, &s.db, &mut run, kill);
        run = start_run(&s.c);
    }
    rest.join().unwrap();

    // the last run catches up, then stops cleanly (SIGTERM: a last checkpoint, then end)
    caught_up(&s);
    // SIGTERM once the last run took a checkpoint of its own (it is running, its signal
    // handler in place)
    let dir = s.c.path(".weir/checkpoints/run-exactly");
    let before = newest_checkpoint(&dir);
    s.c.wait_for(
        "a checkpoint of the last run",
        Duration::from_secs(30),
        || (newest_checkpoint(&dir) > before + 1).then_some(()),
    );
    let pid = run.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = run.wait().unwrap();
    assert!(status.success(), "the last run ends cleanly: {status:?}");
    assert_sinks(&s);
    s.rt.block_on(s.db.remove());
}

/// The same job as an instance: the worker that runs it is killed with -9 twenty times and
/// restarted under its id each time; the new process takes the instance back at once and
/// restores its newest complete checkpoint. `weir instance stop` ends it with a last
/// checkpoint, and the sinks are as an uninterrupted run leaves them.
#[test]
fn twenty_kill_9s_of_the_worker_leave_every_sink_as_an_uninterrupted_run_leaves_it() {
    let mut s = setup("kill-worker-once");
    let (mut worker, _) = s.c.start_worker("bob", &["--id", "w1"]);
    let started = s.c.expect(
        "bob",
        &["instance", "start", "jobs/exactly.ron", "--no-worker"],
        0,
    );
    let id = started.lines().next().unwrap().trim().to_string();
    let state = |c: &Checkout| {
        let shown = c.json("bob", &["instance", "show", &id]);
        shown["instance"]["state"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    s.c.wait_for("the instance running", Duration::from_secs(30), || {
        (state(&s.c) == "running").then_some(())
    });
    let rest = feed_the_rest(&s.bootstrap);
    let mut rng = Seeded(0x5eed_0017);
    for kill in 0..KILLS {
        std::thread::sleep(Duration::from_millis(300 + rng.below(1500)));
        kill_9(&s.rt, &s.db, s.c.child(worker), kill);
        worker = s.c.start_worker("bob", &["--id", "w1"]).0;
    }
    rest.join().unwrap();
    caught_up(&s);
    let dir = s.c.path(&format!(".weir/checkpoints/{id}"));
    let before = newest_checkpoint(&dir);
    s.c.wait_for(
        "a checkpoint of the last worker",
        Duration::from_secs(30),
        || (newest_checkpoint(&dir) > before + 1).then_some(()),
    );
    s.c.expect("bob", &["instance", "stop", &id], 0);
    s.c.wait_for("the instance stopped", Duration::from_secs(60), || {
        (state(&s.c) == "stopped").then_some(())
    });
    let log = s.c.expect("bob", &["instance", "logs", &id], 0);
    assert!(
        log.matches("restored checkpoint chk-").count() >= 10,
        "most take-overs restore a checkpoint: {log}"
    );
    assert_sinks(&s);
    s.rt.block_on(s.db.remove());
}
