//! Engine throughput (prints events/s and writes bench/results/engine.txt):
//! passthrough, filter+projection and a tumbling-window count/sum, each from an in-memory
//! generator (batches of 8192) through the operator task and a channel, and from the
//! embedded broker (JSON records decoded to Arrow, 2 partitions; plus the single-partition
//! fetch pitfall of BUILD-NOTES with librdkafka's default and weir's fetch.wait.max.ms).
//!
//! Run: `cargo bench -p weir-engine --bench engine` (add `--profile dev` for a quick run on
//! the dev profile, whose dependencies are built with opt-level 2).
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Float64Array, Int64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use tokio::sync::mpsc;
use weir_engine::channel::{Envelope, Msg, Output, Outputs};
use weir_engine::operator::Operator;
use weir_engine::pipeline::{Pipeline, RunOptions, run_operator};
use weir_engine::sql::InputTable;

const BATCH: usize = 8192;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("id", DataType::Int64, true),
        Field::new("v", DataType::Float64, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
    ]))
}

/// Batches of events 1 ms apart over 100 keys.
fn batches(n: usize) -> Vec<RecordBatch> {
    let keys: Vec<String> = (0..100).map(|i| format!("key{i}")).collect();
    (0..n.div_ceil(BATCH))
        .map(|b| {
            let base = (b * BATCH) as i64;
            let ids: Vec<i64> = (base..base + BATCH as i64).collect();
            RecordBatch::try_new(
                schema(),
                vec![
                    Arc::new(StringArray::from_iter_values(
                        ids.iter().map(|i| keys[(*i % 100) as usize].as_str()),
                    )),
                    Arc::new(Int64Array::from(ids.clone())),
                    Arc::new(Float64Array::from_iter_values(
                        ids.iter().map(|i| *i as f64 * 0.5),
                    )),
                    Arc::new(TimestampMillisecondArray::from_iter_values(
                        ids.iter().map(|i| 1_772_359_200_000 + i),
                    )),
                ],
            )
            .expect("batch")
        })
        .collect()
}

/// Events/s of `op` driven by its task: generator → channel → operator → channel → count.
async fn through_operator(op: Box<dyn Operator>, data: &[RecordBatch]) -> (f64, u64) {
    let (tx, rx) = mpsc::channel::<Envelope>(16);
    let (otx, mut orx) = mpsc::channel::<Envelope>(16);
    let task = tokio::spawn(run_operator(
        op,
        rx,
        1,
        Outputs(vec![Output {
            tx: otx,
            input: 0,
            slot: 0,
        }]),
        Arc::new(Default::default()),
        None,
    ));
    let counter = tokio::spawn(async move {
        let mut rows = 0u64;
        while let Some(e) = orx.recv().await {
            match e.msg {
                Msg::Batch(_, b) => rows += b.num_rows() as u64,
                Msg::End => break,
                Msg::Watermark(_)
                | Msg::Mark(_)
                | Msg::Origin(_)
                | Msg::Barrier(_)
                | Msg::Status(_) => {}
            }
        }
        rows
    });
    let start = Instant::now();
    let mut events = 0;
    for b in data {
        events += b.num_rows();
        let last_ts = 1_772_359_200_000 + events as i64;
        tx.send(Envelope {
            slot: 0,
            msg: Msg::Batch(0, b.clone()),
        })
        .await
        .expect("send");
        tx.send(Envelope {
            slot: 0,
            msg: Msg::Watermark(last_ts - 1000),
        })
        .await
        .expect("send");
    }
    tx.send(Envelope {
        slot: 0,
        msg: Msg::Watermark(i64::MAX),
    })
    .await
    .expect("send");
    tx.send(Envelope {
        slot: 0,
        msg: Msg::End,
    })
    .await
    .expect("send");
    let out = counter.await.expect("counter");
    task.await.expect("task").expect("operator");
    (events as f64 / start.elapsed().as_secs_f64(), out)
}

fn sql(query: &str) -> Box<dyn Operator> {
    let inputs = [InputTable {
        name: "t".into(),
        schema: schema(),
        event_time: Some("ts".into()),
    }];
    weir_engine::sql::plan("bench", query, &inputs).expect("plan")
}

/// Events/s of a bounded run from the embedded broker through a passthrough.
async fn from_broker(
    records: usize,
    partitions: i32,
    parallelism: u32,
    properties: &str,
) -> (f64, u64) {
    let broker = common::loaded_broker(records, partitions, 100);
    eprintln!(
        "  produced {records}, topic holds {}",
        common::held(&broker, partitions)
    );
    let text = format!(
        r#"Job(version: 1, name: "bench", config: (time: Event, parallelism: {parallelism}),
        nodes: [
            {},
            Sql(id: "q", query: "SELECT * FROM src"),
            PrintSink(id: "out"),
        ],
        edges: [("src", "q"), ("q", "out")])"#,
        common::source_node(properties)
    );
    let job = weir_model::jobfile::check_source("bench.ron", &text)
        .job
        .expect("job");
    let resolver = common::resolver(&broker);
    let mut opts = RunOptions::new(
        std::env::temp_dir(),
        weir_engine::transform::passthrough_planner(),
    );
    opts.bounded = true;
    opts.discard_sinks = true;
    let start = Instant::now();
    let p = Pipeline::start(&job, &resolver, opts)
        .await
        .expect("pipeline");
    let metrics = p.wait().await.expect("run");
    let secs = start.elapsed().as_secs_f64();
    if let Some(src) = metrics.snapshot(start, None).node("src") {
        eprintln!(
            "  src: in {} out {} late {} errors {}",
            src.records_in, src.records_out, src.late, src.errors
        );
    }
    let out = metrics
        .get("out")
        .map(|m| m.records_in.load(std::sync::atomic::Ordering::Relaxed))
        .unwrap_or(0);
    (out as f64 / secs, out)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let n: usize = std::env::var("WEIR_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000);
    let kafka_n: usize = std::env::var("WEIR_BENCH_KAFKA")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400_000);
    let data = batches(n);
    let mut report = String::new();
    let profile = if cfg!(debug_assertions) {
        "dev (deps opt-level 2, weir-engine opt-level 3)"
    } else {
        "release"
    };
    let _ = writeln!(
        report,
        "weir-engine benchmarks — profile {profile}, {} events in batches of {BATCH}",
        n
    );
    let mut line = |name: &str, (rate, out): (f64, u64)| {
        let l = format!("{name:<52} {:>8.2} M ev/s   (rows out {out})", rate / 1e6);
        println!("{l}");
        let _ = writeln!(report, "{l}");
    };
    rt.block_on(async {
        line("memory: passthrough", through_operator(Box::new(weir_engine::transform::Passthrough::new("p", schema())), &data).await);
        line("memory: filter+projection (SQL)", through_operator(sql("SELECT id, v * 2 AS v2, k FROM t WHERE id % 2 = 0"), &data).await);
        line(
            "memory: tumbling 1 s count/sum by 100 keys (SQL)",
            through_operator(
                sql("SELECT window_start, window_end, k, COUNT(*) AS n, SUM(v) AS s FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end, k"),
                &data,
            )
            .await,
        );
        line(&format!("broker: {kafka_n} JSON records, 8 partitions, 2 tasks"), from_broker(kafka_n, 8, 2, "").await);
        line("broker: 60k JSON records, 1 partition", from_broker(60_000, 1, 1, "").await);
        line(
            "broker: 60k, 1 partition, fetch.wait.max.ms=500",
            from_broker(60_000, 1, 1, r#""fetch.wait.max.ms": "500""#).await,
        );
        // over the mock's 5 MiB per-partition log cap: the head of the log is deleted
        line("broker: 100k JSON records, 1 partition (> 5 MiB)", from_broker(100_000, 1, 1, "").await);
    });
    let profile_flag = if cfg!(debug_assertions) {
        " --profile dev"
    } else {
        ""
    };
    let _ = writeln!(
        report,
        "command: cargo bench{profile_flag} -p weir-engine --bench engine   (events: WEIR_BENCH_EVENTS={n}, WEIR_BENCH_KAFKA={kafka_n}; 2 tokio workers; rates include pipeline start, ~0.5 s for Kafka)"
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/results");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("engine.txt"), report);
}
