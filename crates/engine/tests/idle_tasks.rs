//! Idle source tasks do not stall the watermark (issue 20): a TUMBLE aggregate over a
//! topic whose records are skewed (all in partition 0 of 4; partition 3 of 4 empty; 3
//! partitions, so that at parallelism 4 one task has none) gives exactly the same rows at
//! parallelism 1, 2 and 4, equal to a reference computed here by arithmetic. A task
//! whose partitions get no record announces itself idle (`Msg::Status`), and the operator
//! sets it aside when taking the minimum watermark. The shipped `iot_alerts` job, all
//! its readings in partition 0 of 2, gives the alerts of its expected.jsonl at
//! parallelism 1 and 2 (the bug report: none at 2).
//!
//! The runs are unbounded (a bounded run finishes empty partitions at once and never
//! needs idleness). In the TUMBLE cases, after the data every non-empty partition keeps
//! receiving records at one far timestamp `T`, so that the tasks with data stay active
//! while the empty ones turn idle: the watermark ends at `T - watermark_ms` whatever the
//! timing, every data window closes, and `T`'s own window never does. In the iot_alerts
//! case nothing follows the data, so every task ends idle. A run stops one idle period
//! after the expected rows arrived (so that a row too many shows), or after a timeout.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use weir_engine::broker::Broker;
use weir_engine::pipeline::{Pipeline, RunOptions};
use weir_engine::resolve::{DataSource, Resolver};
use weir_engine::sink::capture::CapturedRow;
use weir_engine::testing::{SinkRows, compare, read_expected};
use weir_model::model::{DataSourceKind, Job, Node, StartOffset};

const WATERMARK_MS: i64 = 1_000;
const WINDOW_MS: i64 = 10_000;
/// 01:00:00 on the first day of the epoch: the data spans one minute from here.
const BASE: i64 = 3_600_000;
/// The timestamp of the records that keep partitions with data active (01:02:00).
const FAR: i64 = BASE + 120_000;
const IDLE_MS: u64 = 2_000;

fn job(topic: &str, parallelism: usize) -> Job {
    let text = format!(
        r#"Job(
    version: 1,
    name: "idle_tasks",
    config: (time: Event, parallelism: {parallelism}),
    nodes: [
        KafkaSource(
            id: "src",
            datasource: "k",
            topic: "{topic}",
            start: Earliest,
            event_time: Some("ts"),
            watermark_ms: {WATERMARK_MS},
            fields: Some([
                (name: "device", type: String),
                (name: "v", type: BigInt),
                (name: "ts", type: Timestamp),
            ]),
        ),
        Sql(id: "q", query: "SELECT device, window_start, window_end, COUNT(*) AS n, SUM(v) AS total FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY device, window_start, window_end"),
        PrintSink(id: "out"),
    ],
    edges: [("src", "q"), ("q", "out")],
)"#
    );
    let checked = weir_model::jobfile::check_source("idle_tasks.ron", &text);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.job.expect("job")
}

/// One reading: device, value, event time.
#[derive(Debug, Clone)]
struct Reading {
    device: String,
    v: i64,
    ts: i64,
}

/// 300 readings over one minute, in event-time order, five devices.
fn readings() -> Vec<Reading> {
    (0..300i64)
        .map(|i| Reading {
            device: format!("d{}", (i * 7) % 5),
            v: (i * i) % 101,
            ts: BASE + i * 197,
        })
        .collect()
}

/// `YYYY-MM-DD HH:MM:SS.mmm` of a time within the first day of the epoch, as the
/// capture sink writes timestamps.
fn clock(ms: i64) -> String {
    assert!((0..86_400_000).contains(&ms));
    let (s, milli) = (ms / 1000, ms % 1000);
    format!(
        "1970-01-01 {:02}:{:02}:{:02}.{milli:03}",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// A result row: device, window start, window end, count, sum.
type Row = (String, String, String, i64, i64);

/// The windows the job must emit, by arithmetic: every tumbling window of the data
/// (all close, since the watermark ends at `FAR - WATERMARK_MS`).
fn reference(data: &[Reading]) -> Vec<Row> {
    let mut groups: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
    for r in data {
        let start = r.ts - r.ts.rem_euclid(WINDOW_MS);
        let g = groups.entry((r.device.clone(), start)).or_default();
        g.0 += 1;
        g.1 += r.v;
    }
    assert!(FAR - WATERMARK_MS >= groups.keys().map(|k| k.1).max().unwrap() + WINDOW_MS);
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|((d, start), (n, total))| (d, clock(start), clock(start + WINDOW_MS), n, total))
        .collect();
    rows.sort();
    rows
}

fn payload(device: &str, v: i64, ts: i64) -> String {
    format!(r#"{{"device": "{device}", "v": {v}, "ts": {ts}}}"#)
}

fn producer(broker: &Broker) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap_servers())
        .create()
        .expect("producer")
}

async fn send(producer: &FutureProducer, topic: &str, partition: i32, payload: &str) {
    producer
        .send(
            FutureRecord::<(), str>::to(topic)
                .payload(payload)
                .partition(partition),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .expect("delivered");
}

/// Produces the readings, reading `i` to `partition_of(i)`, in order per partition
/// (one producer, so each partition keeps the order of sending).
async fn produce(broker: &Broker, topic: &str, data: &[Reading], partition_of: fn(usize) -> i32) {
    let p = producer(broker);
    let mut pending = Vec::new();
    for (i, r) in data.iter().enumerate() {
        let text = payload(&r.device, r.v, r.ts);
        let record = FutureRecord::<(), str>::to(topic)
            .payload(&text)
            .partition(partition_of(i));
        pending.push(p.send_result(record).map_err(|(e, _)| e).expect("enqueue"));
    }
    for d in pending {
        d.await
            .expect("delivery")
            .map_err(|(e, _)| e)
            .expect("delivered");
    }
}

/// Until `stop`: a record at `FAR` to each of `partitions` every 50 ms, so that they
/// stay active (`IDLE_MS`) for as long as a run lasts.
fn keep_active(
    broker: &Broker,
    topic: &str,
    partitions: Vec<i32>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    let p = producer(broker);
    let topic = topic.to_string();
    tokio::spawn(async move {
        while !stop.load(Relaxed) {
            for &partition in &partitions {
                send(&p, &topic, partition, &payload("far", 0, FAR)).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

fn cell(row: &Map<String, Value>, key: &str) -> Value {
    row.get(key)
        .cloned()
        .unwrap_or_else(|| panic!("no {key} in {row:?}"))
}

/// Runs `job` (its sources reading data source `datasource` on `broker`) with capture
/// sinks until `want` rows arrived (30 s at most), then for one more idle period, so that
/// a row too many would show; stops it and returns every row it emitted, with the late
/// counts of all its nodes.
async fn run(broker: &Broker, job: &Job, datasource: &str, want: usize) -> (Vec<CapturedRow>, u64) {
    let mut resolver = Resolver::default();
    resolver.insert(
        datasource,
        DataSource {
            kind: DataSourceKind::Kafka,
            address: broker.bootstrap_servers(),
            user: None,
            password: None,
            options: Default::default(),
        },
    );
    let project = tempfile::tempdir().expect("project dir");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut opts = RunOptions::new(project.path(), weir_engine::transform::default_planner());
    // longer than a consumer takes from start to the first records of every partition:
    // a partition idle before its first fetch would make its records late at the source
    // (the tracker's own rule, at parallelism 1 too)
    opts.idle_ms = IDLE_MS;
    opts.batch_size = 64;
    opts.capture = Some(tx);
    let pipeline = Pipeline::start(job, &resolver, opts).await.expect("starts");
    let stop = pipeline.stopper();
    let wait = tokio::spawn(pipeline.wait());
    let mut rows = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while rows.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(r)) => rows.push(r),
            Ok(None) | Err(_) => break,
        }
    }
    // every task turns idle meanwhile: what that releases must not be a row too many
    let settle = Instant::now() + Duration::from_millis(IDLE_MS * 3 / 2);
    while let Ok(Some(r)) =
        tokio::time::timeout(settle.saturating_duration_since(Instant::now()), rx.recv()).await
    {
        rows.push(r);
    }
    stop.store(true, Relaxed);
    let metrics = tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the run stops")
        .expect("joins")
        .expect("runs");
    // what came after, up to the end of the run
    while let Some(r) = rx.recv().await {
        rows.push(r);
    }
    let snap = metrics.snapshot(Instant::now(), None);
    let late = job
        .nodes
        .iter()
        .map(|n| snap.node(n.id()).map_or(0, |m| m.late))
        .sum();
    (rows, late)
}

/// The TUMBLE job's rows, sorted.
fn tumble_rows(rows: &[CapturedRow]) -> Vec<Row> {
    let mut got: Vec<Row> = rows
        .iter()
        .map(|r| {
            let r = &r.row;
            (
                cell(r, "device").as_str().unwrap().to_string(),
                cell(r, "window_start").as_str().unwrap().to_string(),
                cell(r, "window_end").as_str().unwrap().to_string(),
                cell(r, "n").as_i64().unwrap(),
                cell(r, "total").as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    got
}

/// Produces `data` (reading `i` to `partition_of(i)`) to a fresh topic of `partitions`
/// and checks the job at parallelism 1, 2 and 4 against the reference.
async fn same_rows_at_every_parallelism(
    topic: &str,
    partitions: i32,
    partition_of: fn(usize) -> i32,
) {
    let broker = Broker::start().expect("broker");
    broker.create_topic(topic, partitions).expect("topic");
    let data = readings();
    let want = reference(&data);
    assert!(want.len() > 20, "{} windows", want.len());
    produce(&broker, topic, &data, partition_of).await;
    let mut with_data: Vec<i32> = (0..data.len()).map(partition_of).collect();
    with_data.sort();
    with_data.dedup();
    assert!(
        with_data.len() < partitions as usize,
        "a partition stays empty"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let keeper = keep_active(&broker, topic, with_data, stop.clone());
    for parallelism in [1, 2, 4] {
        let (rows, late) = run(&broker, &job(topic, parallelism), "k", want.len()).await;
        let got = tumble_rows(&rows);
        assert_eq!(
            got.len(),
            want.len(),
            "parallelism {parallelism}: {} rows, {} expected",
            got.len(),
            want.len()
        );
        assert_eq!(got, want, "parallelism {parallelism}");
        assert_eq!(late, 0, "parallelism {parallelism}: no record is late");
    }
    stop.store(true, Relaxed);
    keeper.await.expect("keeper");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_records_in_partition_0_of_4() {
    same_rows_at_every_parallelism("skewed_one", 4, |_| 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partition_3_of_4_empty() {
    same_rows_at_every_parallelism("skewed_three", 4, |i| (i % 3) as i32).await;
}

/// At parallelism 4, task 3 has no partition (it ends at once) and task 2's partition
/// is empty (it turns idle).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_partitions_one_task_without_any() {
    same_rows_at_every_parallelism("skewed_no_partition", 3, |i| (i % 2) as i32).await;
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shipped iot_alerts job at `parallelism`, reading from the earliest offset.
fn iot_alerts(parallelism: u32) -> Job {
    let checked = weir_model::jobfile::check_file(&root().join("jobs/iot_alerts.ron"));
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let mut job = checked.job.expect("example job");
    job.config.parallelism = parallelism;
    for n in &mut job.nodes {
        if let Node::KafkaSource(s) = n {
            s.start = StartOffset::Earliest;
        }
    }
    job
}

/// iot_alerts with every reading in partition 0 of 2: the alerts of expected.jsonl
/// whose window the last reading's watermark closes (an unbounded run never closes the
/// last one), to both sinks, at parallelism 1 and 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn iot_alerts_with_every_reading_in_one_partition() {
    let dir = root().join("testdata/iot_alerts");
    let lines: Vec<String> = std::fs::read_to_string(dir.join("readings.jsonl"))
        .expect("readings")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    // the reference: the package's expected rows of the windows that end at or before
    // the final watermark, max(ts) - watermark_ms (2 000 in the job)
    let last = lines
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("json reading");
            v["ts"].as_i64().expect("ts")
        })
        .max()
        .expect("readings");
    let closed = clock_utc(last - 2_000);
    let mut want = read_expected(&dir.join("expected.jsonl")).expect("expected");
    for rows in want.values_mut() {
        rows.retain(|r| cell(r, "window_end").as_str().unwrap() <= closed.as_str());
    }
    assert_eq!(
        want.get("to_kafka").map(Vec::len),
        Some(23),
        "the bug report's 23 alerts"
    );
    let total: usize = want.values().map(Vec::len).sum();
    let broker = Broker::start().expect("broker");
    broker.create_topic("sensor_readings", 2).expect("topic");
    let p = producer(&broker);
    let mut pending = Vec::new();
    for l in &lines {
        let record = FutureRecord::<(), str>::to("sensor_readings")
            .payload(l.as_str())
            .partition(0);
        pending.push(p.send_result(record).map_err(|(e, _)| e).expect("enqueue"));
    }
    for d in pending {
        d.await
            .expect("delivery")
            .map_err(|(e, _)| e)
            .expect("delivered");
    }
    for parallelism in [1u32, 2] {
        let (rows, late) = run(&broker, &iot_alerts(parallelism), "kafka_iot", total).await;
        let mut got = SinkRows::new();
        for r in rows {
            got.entry(r.sink).or_default().push(r.row);
        }
        let diffs: Vec<_> = compare(&want, &got)
            .into_iter()
            .filter(|d| !d.ok())
            .collect();
        assert!(diffs.is_empty(), "parallelism {parallelism}: {diffs:#?}");
        assert_eq!(late, 0, "parallelism {parallelism}: no reading is late");
    }
}

/// `YYYY-MM-DD HH:MM:SS.mmm` (UTC) of epoch milliseconds, as the capture sink writes
/// timestamps; by the civil-from-days algorithm (H. Hinnant), not the engine's code.
fn clock_utc(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let in_day = ms.rem_euclid(86_400_000);
    format!("{year:04}-{month:02}-{day:02} {}", &clock(in_day)[11..])
}
