//! The metrics of a run checked against the input the test planted: records in at the
//! source, late drops, dead letters, bytes in, latency samples at the operator and the
//! sink (event time set a minute before the wall clock), backpressure within [0, 1], and
//! the Prometheus text of the final snapshot.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use weir_engine::metrics::{Snapshot, prometheus};
use weir_engine::pipeline::{Pipeline, RunOptions, TestData};
use weir_engine::resolve::Resolver;
use weir_engine::source::file::Replay;
use weir_engine::source::now_ms;
use weir_model::model::Job;

fn job(query: &str) -> Job {
    let text = format!(
        r#"Job(
    version: 1,
    name: "metrics",
    config: (time: Event),
    nodes: [
        KafkaSource(
            id: "src",
            datasource: "k",
            topic: "in",
            event_time: Some("ts"),
            watermark_ms: 1000,
            fields: Some([
                (name: "id", type: BigInt),
                (name: "v", type: Double),
                (name: "ts", type: Timestamp),
            ]),
        ),
        Sql(id: "q", query: "{query}"),
        PrintSink(id: "out"),
    ],
    edges: [("src", "q"), ("q", "out")],
)"#
    );
    let checked = weir_model::jobfile::check_source("metrics.ron", &text);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.job.expect("job")
}

fn project(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("weir_metrics_{tag}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(p.join("data")).expect("temp dir");
    p
}

/// What the test planted in the source's data file.
struct Planted {
    records: u64,
    late: u64,
    bad: u64,
    bytes: u64,
}

/// `records` lines 1 ms apart ending a minute before now; every 100th record is
/// planted 10 s behind (late: the watermark trails by 1 s), every 250th line is not JSON.
fn write_data(dir: &Path, records: i64) -> Planted {
    let base = now_ms() - 60_000 - records;
    let mut lines = Vec::new();
    let (mut late, mut bad) = (0, 0);
    for i in 0..records {
        let line = if i > 0 && i % 250 == 0 {
            bad += 1;
            "not json at all".to_string()
        } else if i > 0 && i % 100 == 0 {
            late += 1;
            format!(r#"{{"id": {i}, "v": 1.5, "ts": {}}}"#, base + i - 10_000)
        } else {
            format!(r#"{{"id": {i}, "v": 1.5, "ts": {}}}"#, base + i)
        };
        lines.push(line);
    }
    let bytes = lines.iter().map(|l| l.len() as u64).sum();
    std::fs::write(dir.join("data/src.jsonl"), lines.join("\n") + "\n").expect("data");
    Planted {
        records: records as u64,
        late,
        bad,
        bytes,
    }
}

/// Runs the job to its end on the test data, sampling snapshots while it runs; returns
/// the rows that reached the sink, the snapshots and the final one.
async fn run(job: &Job, dir: &Path) -> (usize, Vec<Snapshot>, Snapshot) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut opts = RunOptions::new(dir, weir_engine::transform::default_planner());
    opts.bounded = true;
    opts.batch_size = 64;
    opts.channel_capacity = 2;
    opts.capture = Some(tx);
    opts.test_data = Some(TestData {
        dir: dir.join("data"),
        replay: Replay::default(),
    });
    let started = Instant::now();
    let pipeline = Pipeline::start(job, &Resolver::default(), opts)
        .await
        .expect("starts");
    let (snaps_rx, sampler) = pipeline.metrics().publish(Duration::from_millis(5));
    let rows = tokio::spawn(async move {
        let mut n = 0;
        while rx.recv().await.is_some() {
            n += 1;
        }
        n
    });
    let metrics = tokio::time::timeout(Duration::from_secs(60), pipeline.wait())
        .await
        .expect("ends")
        .expect("runs");
    sampler.abort();
    let last = snaps_rx.borrow().clone();
    (
        rows.await.expect("rows"),
        vec![last],
        metrics.snapshot(started, None),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_figures_match_the_records_the_test_planted() {
    let dir = project("planted");
    let planted = write_data(&dir, 2000);
    let (rows, sampled, snap) = run(&job("SELECT id, v, ts FROM src"), &dir).await;
    let good = planted.records - planted.late - planted.bad;
    assert_eq!(rows as u64, good);

    let src = snap.node("src").expect("src");
    assert_eq!(src.records_in, planted.records);
    assert_eq!(src.late, planted.late);
    assert_eq!(src.errors, planted.bad);
    assert_eq!(src.dead_letters, planted.bad);
    assert_eq!(src.records_out, good);
    assert_eq!(
        src.bytes_in, planted.bytes,
        "sources count raw record bytes"
    );
    assert!(src.rate_bytes_in > 0.0);
    assert_eq!(src.backpressure, 0.0, "a source has no input channel");

    for id in ["src", "q", "out"] {
        let n = snap.node(id).expect("node");
        let (p50, p99) = (n.latency_p50_ms, n.latency_p99_ms);
        let (p50, p99) = (p50.expect("latency samples"), p99.expect("p99"));
        // event time trails the wall clock by 60 s to 62 s; buckets are ±12.5% wide
        assert!((52_000.0..=75_000.0).contains(&p50), "{id}: p50 {p50}");
        assert!(p99 >= p50 && p99 <= 75_000.0, "{id}: p99 {p99}");
        assert!(
            (0.0..=1.0).contains(&n.backpressure),
            "{id}: {}",
            n.backpressure
        );
        assert_eq!(n.watermark, Some(i64::MAX), "{id}: drained to the end");
        assert_eq!(n.watermark_delay_ms, None, "{id}: no delay at end of input");
    }
    assert_eq!(snap.node("out").map(|n| n.records_in), Some(good));
    for s in &sampled {
        for n in &s.nodes {
            assert!(
                (0.0..=1.0).contains(&n.backpressure),
                "{}: {}",
                n.id,
                n.backpressure
            );
        }
    }

    let text = prometheus(&snap, &[("instance", "i-1"), ("job", "metrics")]);
    let line = |name: &str, node: &str, v: u64| {
        format!("{name}{{instance=\"i-1\",job=\"metrics\",node=\"{node}\"}} {v}\n")
    };
    for want in [
        line("weir_records_in_total", "src", planted.records),
        line("weir_late_records_total", "src", planted.late),
        line("weir_dead_letters_total", "src", planted.bad),
        line("weir_bytes_in_total", "src", planted.bytes),
        line("weir_records_out_total", "out", good),
    ] {
        assert!(text.contains(&want), "{want} not in\n{text}");
    }
    assert!(text.contains(
        "weir_latency_seconds{instance=\"i-1\",job=\"metrics\",node=\"out\",quantile=\"0.99\"} "
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_result_is_timed_by_its_window_end() {
    let dir = project("window");
    let planted = write_data(&dir, 1000);
    let query = "SELECT window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end";
    let (rows, _, snap) = run(&job(query), &dir).await;
    assert!(rows > 0);
    let src = snap.node("src").expect("src");
    assert_eq!(src.records_in, planted.records);
    assert_eq!(src.late, planted.late);
    let out = snap.node("out").expect("out");
    let p50 = out.latency_p50_ms.expect("latency at the sink");
    // window ends fall within the data's 1 s span, a minute before now
    assert!((50_000.0..=75_000.0).contains(&p50), "p50 {p50}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_event_time_column_in_the_output_no_latency_is_reported() {
    let dir = project("no_time");
    let planted = write_data(&dir, 300);
    let (rows, _, snap) = run(&job("SELECT id, v FROM src"), &dir).await;
    assert_eq!(rows as u64, planted.records - planted.late - planted.bad);
    assert!(snap.node("src").and_then(|n| n.latency_p99_ms).is_some());
    for id in ["q", "out"] {
        let n = snap.node(id).expect("node");
        assert_eq!((n.latency_p50_ms, n.latency_p99_ms), (None, None), "{id}");
    }
}
