//! Checkpoint costs (issue 16; prints figures and writes bench/results/checkpoints.txt):
//! 1. the state of 100k window keys: snapshot time, bytes, write, read and restore time;
//! 2. overhead: a windowed count/sum by key from the embedded broker (JSON, 8 partitions,
//!    2 source tasks) with checkpoints off and every 10 s, 1 s and 200 ms;
//! 3. recovery: a run holding 100k open window keys is cut off after a checkpoint; the
//!    time from the restart (reading the checkpoint included) to its first output row;
//! 4. alignment under backpressure: two source tasks into one windowed operator into a
//!    sink that writes every row to a file; the longest alignment seen;
//! 5. Nexmark q5 and q7 (bench/nexmark/) over generated bids on the embedded broker, with
//!    checkpoints off, every 200 ms and every 50 ms: the throughput of each (per wall
//!    second and per CPU-second, the latter steady on a busy machine), and the cost of one
//!    checkpoint (extra CPU per completed checkpoint), from which the overhead at a 10 s
//!    interval follows. A run here lasts about a second (the mock broker holds at
//!    most 12k bids per partition), so a 10 s interval would complete only the final
//!    checkpoint at the end of input and measure nothing; a checkpoint's cost does not
//!    depend on the interval (the state of q5/q7 is bounded by their open windows).
//!
//! Run: `cargo bench --profile dev --workspace --bench checkpoints` (WEIR_BENCH_KAFKA
//! sets the records of 2 and 4, default 400000).
// Benchmark helpers unwrap and panic; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Float64Array, Int64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use weir_engine::checkpoint::{CheckpointOptions, Kind, Location, Manifest, TaskState};
use weir_engine::operator::Operator;
use weir_engine::pipeline::{Pipeline, RunOptions};
use weir_engine::sql::InputTable;

const WINDOWED: &str = "SELECT window_start, window_end, k, COUNT(*) AS n, SUM(v) AS s FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' HOUR)) GROUP BY window_start, window_end, k";

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("id", DataType::Int64, true),
        Field::new("v", DataType::Float64, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
    ]))
}

/// `rows` rows over `keys` keys, all in one hour.
fn batches(rows: usize, keys: usize) -> Vec<RecordBatch> {
    (0..rows.div_ceil(8192))
        .map(|b| {
            let ids: Vec<i64> = (b * 8192..((b + 1) * 8192).min(rows))
                .map(|i| i as i64)
                .collect();
            RecordBatch::try_new(
                schema(),
                vec![
                    Arc::new(StringArray::from_iter_values(
                        ids.iter().map(|i| format!("key{}", *i as usize % keys)),
                    )),
                    Arc::new(Int64Array::from(ids.clone())),
                    Arc::new(Float64Array::from_iter_values(
                        ids.iter().map(|i| *i as f64),
                    )),
                    Arc::new(TimestampMillisecondArray::from_iter_values(
                        ids.iter().map(|i| 1_772_359_200_000 + i % 3_000_000),
                    )),
                ],
            )
            .unwrap()
        })
        .collect()
}

fn operator() -> Box<dyn Operator> {
    let input = InputTable {
        name: "src".into(),
        schema: schema(),
        event_time: Some("ts".into()),
    };
    weir_engine::sql::plan("agg", WINDOWED, &[input]).unwrap()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn scratch(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("weir-bench-ckpt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// 1: snapshot, write, read and restore of 100k window keys.
async fn state_of_100k_keys(out: &mut String) {
    let mut op = operator();
    let mut sink = Vec::new();
    for b in batches(1_000_000, 100_000) {
        op.on_batch(0, b, &mut sink).unwrap();
    }
    let t = Instant::now();
    let state = op.snapshot().unwrap();
    let snap = t.elapsed();
    let bytes: usize = state.files.values().map(Vec::len).sum();
    let dir = scratch("state");
    let loc = Location::local(&dir).unwrap();
    let mut manifest = Manifest {
        format: weir_engine::checkpoint::storage::FORMAT.into(),
        version: weir_engine::checkpoint::storage::VERSION,
        id: 1,
        kind: Kind::Checkpoint,
        lineage: "bench".into(),
        job: "bench".into(),
        job_hash: "h".into(),
        created_ms: 0,
        duration_ms: 0,
        alignment_ms: 0,
        size: 0,
        tasks: Default::default(),
    };
    let tasks = std::collections::BTreeMap::from([("operator/agg".to_string(), state)]);
    let t = Instant::now();
    loc.write(&mut manifest, &tasks).await.unwrap();
    let write = t.elapsed();
    let t = Instant::now();
    let read = loc.latest().await.unwrap().unwrap();
    let read_t = t.elapsed();
    let t = Instant::now();
    let mut again = operator();
    let saved: &TaskState = &read.tasks["operator/agg"];
    again.restore(saved).unwrap();
    let restore = t.elapsed();
    let l = format!(
        "state of 100k window keys (COUNT, SUM; 1M rows): snapshot {:.0} ms, {:.1} MB, write {:.0} ms, read+verify {:.0} ms, restore {:.0} ms",
        ms(snap),
        bytes as f64 / 1_048_576.0,
        ms(write),
        ms(read_t),
        ms(restore)
    );
    println!("{l}");
    let _ = writeln!(out, "{l}");
    let _ = std::fs::remove_dir_all(dir);
}

fn job(sink: &str, parallelism: u32) -> weir_model::model::Job {
    let text = format!(
        r#"Job(version: 1, name: "bench", config: (time: Event, parallelism: {parallelism}),
        nodes: [
            {},
            Sql(id: "q", query: "{WINDOWED}"),
            {sink},
        ],
        edges: [("src", "q"), ("q", "out")])"#,
        common::source_node("")
    );
    weir_model::jobfile::check_source("bench.ron", &text)
        .job
        .expect("job")
}

fn with_checkpoints(opts: &mut RunOptions, dir: &Path, every: Duration) {
    let loc = Location::local(dir).unwrap();
    opts.checkpoints = Some(CheckpointOptions::new(loc, every, "bench", "h"));
}

/// 2: events/s of a bounded windowed run with checkpoints every `every` (None: off);
/// returns (events/s, checkpoints completed, failed, largest alignment ms).
async fn windowed_run(
    broker: &weir_engine::broker::Broker,
    records: usize,
    every: Option<Duration>,
    sink: &str,
) -> (f64, u64, u64, u64) {
    let job = job(sink, 2);
    let dir = scratch("overhead");
    let mut opts = RunOptions::new(&dir, weir_engine::transform::default_planner());
    opts.bounded = true;
    opts.discard_sinks = sink.starts_with("PrintSink(id: \"out\")");
    if let Some(every) = every {
        with_checkpoints(&mut opts, &dir.join("checkpoints"), every);
    }
    let start = Instant::now();
    let p = Pipeline::start(&job, &common::resolver(broker), opts)
        .await
        .unwrap();
    let coord = p.checkpoints();
    let watch = coord.clone().map(|c| {
        tokio::spawn(async move {
            let mut most = 0;
            loop {
                most = most.max(c.stats().last_alignment_ms);
                tokio::time::sleep(Duration::from_millis(20)).await;
                if Arc::strong_count(&c) <= 1 {
                    return most;
                }
            }
        })
    });
    let metrics = p.wait().await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    let read = metrics
        .get("src")
        .map(|m| m.records_in.load(std::sync::atomic::Ordering::Relaxed))
        .unwrap_or(0);
    assert_eq!(read, records as u64, "every record read");
    let stats = coord.as_ref().map(|c| c.stats()).unwrap_or_default();
    drop(coord);
    let most = match watch {
        Some(w) => w.await.unwrap_or(0),
        None => 0,
    };
    let _ = std::fs::remove_dir_all(dir);
    (
        read as f64 / secs,
        stats.completed,
        stats.failed,
        most.max(stats.last_alignment_ms),
    )
}

/// 3: a run holding 100k open keys is cut off after a checkpoint; the restart's time to
/// its first output row (the window fires on one record far ahead), reading included.
async fn recovery(out: &mut String) {
    let keys = 100_000;
    let records = 200_000;
    // 8 partitions: the mock cluster keeps 5 MiB per partition
    let broker = common::loaded_broker(records, 8, keys);
    let records = common::held(&broker, 8) as usize;
    let dir = scratch("recovery");
    let file = dir.join("out.jsonl");
    let sink = format!(r#"PrintSink(id: "out", path: Some("{}"))"#, file.display());
    let job = job(&sink, 1);
    let resolver = common::resolver(&broker);
    let mut opts = RunOptions::new(&dir, weir_engine::transform::default_planner());
    with_checkpoints(&mut opts, &dir.join("checkpoints"), Duration::ZERO);
    let p = Pipeline::start(&job, &resolver, opts).await.unwrap();
    eprintln!("  recovery: reading {records} records over {keys} keys");
    while p
        .metrics()
        .get("q")
        .map(|m| m.records_in.load(std::sync::atomic::Ordering::Relaxed))
        .unwrap_or(0)
        < records as u64
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let taken = p
        .checkpoints()
        .unwrap()
        .trigger(Kind::Checkpoint, false)
        .await
        .unwrap();
    eprintln!(
        "  recovery: checkpoint {} taken, cutting the run off",
        taken.id
    );
    drop(p);
    // one record two hours ahead fires the window of every key
    {
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
        let prod: BaseProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap_servers())
            .create()
            .unwrap();
        let far = r#"{"k":"far","id":0,"v":0.5,"ts":1772366400000}"#;
        for part in 0..8 {
            prod.send(
                BaseRecord::<(), str>::to("bench")
                    .payload(far)
                    .partition(part),
            )
            .map_err(|e| e.0)
            .unwrap();
        }
        prod.flush(Duration::from_secs(10)).unwrap();
    }
    let t = Instant::now();
    let loc = Location::local(&dir.join("checkpoints")).unwrap();
    let restored = loc.latest().await.unwrap().unwrap();
    let mut opts = RunOptions::new(&dir, weir_engine::transform::default_planner());
    with_checkpoints(&mut opts, &dir.join("checkpoints"), Duration::ZERO);
    if let Some(c) = opts.checkpoints.as_mut() {
        c.restore = Some(Arc::new(restored));
    }
    let p = Pipeline::start(&job, &resolver, opts).await.unwrap();
    while std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let first = t.elapsed();
    p.stopper()
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = p.wait().await;
    let l = format!(
        "recovery with 100k open window keys ({:.1} MB checkpoint): restart to first output row {:.0} ms",
        taken.size as f64 / 1_048_576.0,
        ms(first)
    );
    println!("{l}");
    let _ = writeln!(out, "{l}");
    let _ = std::fs::remove_dir_all(dir);
}

/// 5: Nexmark q5 and q7 with checkpoints off, every 200 ms and every 50 ms.
async fn nexmark_overhead(out: &mut String) {
    use weir_engine::nexmark::{Config, Generator, produce_bids};
    const PARTITIONS: i32 = 16;
    let broker = weir_engine::broker::Broker::start().unwrap();
    broker.create_topic("bid", PARTITIONS).unwrap();
    // 10000 events per second of event time: 200k events span 20 s, ten 2 s hops of q5;
    // 184k bids, 11.5k per partition (the mock broker keeps 12k)
    let generator = Generator::new(Config {
        event_rate: 10_000,
        ..Config::default()
    });
    let bids = produce_bids(
        &generator,
        200_000,
        &broker.bootstrap_servers(),
        "bid",
        PARTITIONS,
        |_| {},
    )
    .unwrap();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for q in ["q5", "q7"] {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../bench/nexmark/{q}.ron"));
        let mut job = weir_model::jobfile::check_file(&path)
            .job
            .expect("the Nexmark job");
        job.config.parallelism = 2;
        let mut resolver = weir_engine::resolve::Resolver::default();
        resolver.insert(
            "nexmark",
            weir_engine::resolve::DataSource {
                kind: weir_model::model::DataSourceKind::Kafka,
                address: broker.bootstrap_servers(),
                user: None,
                password: None,
                options: Default::default(),
            },
        );
        // (wall seconds, CPU seconds, checkpoints completed) of one bounded run
        let run = |every: Option<Duration>| {
            let job = job.clone();
            let resolver = resolver.clone();
            async move {
                let dir = scratch("nexmark");
                let mut opts = RunOptions::new(&dir, weir_engine::transform::default_planner());
                opts.bounded = true;
                opts.discard_sinks = true;
                if let Some(every) = every {
                    with_checkpoints(&mut opts, &dir.join("checkpoints"), every);
                }
                let (start, cpu) = (Instant::now(), common::cpu_seconds());
                let p = Pipeline::start(&job, &resolver, opts).await.unwrap();
                let coord = p.checkpoints();
                let metrics = p.wait().await.unwrap();
                let (secs, cpu) = (start.elapsed().as_secs_f64(), common::cpu_seconds() - cpu);
                let read = metrics
                    .get("bid")
                    .map(|m| m.records_in.load(std::sync::atomic::Ordering::Relaxed))
                    .unwrap_or(0);
                assert_eq!(read, bids, "every bid read");
                let stats = coord.as_ref().map(|c| c.stats()).unwrap_or_default();
                assert_eq!(stats.failed, 0, "no checkpoint failed");
                let _ = std::fs::remove_dir_all(dir);
                (secs, cpu, stats.completed)
            }
        };
        let series = |runs: Vec<(f64, f64, u64)>| {
            let wall = median(runs.iter().map(|r| r.0).collect());
            let cpu = median(runs.iter().map(|r| r.1).collect());
            let done: u64 = runs.iter().map(|r| r.2).sum();
            (wall, cpu, done)
        };
        // the three settings take turns, so that a machine busy with other work slows
        // each of them alike
        const EVERY: [Option<u64>; 3] = [None, Some(200), Some(50)];
        let mut runs: Vec<Vec<(f64, f64, u64)>> = vec![Vec::new(); EVERY.len()];
        for _ in 0..5 {
            for (i, every) in EVERY.iter().enumerate() {
                runs[i].push(run(every.map(Duration::from_millis)).await);
            }
        }
        let mut results = runs.into_iter().map(series);
        let (wall_off, cpu_off, _) = results.next().unwrap();
        let l = format!(
            "nexmark {q}: {bids} bids from the broker, {PARTITIONS} partitions, 2 tasks (median of 5 runs, the settings in turn); off: {:.3} M ev/s, {:.3} M ev per CPU-second",
            bids as f64 / wall_off / 1e6,
            bids as f64 / cpu_off / 1e6
        );
        println!("{l}");
        let _ = writeln!(out, "{l}");
        let (mut cost, mut stall) = (0.0f64, 0.0f64);
        for (every, (wall, cpu, done)) in EVERY[1..].iter().flatten().zip(results) {
            // per checkpoint; the final checkpoint at the end of input is one of them
            cost = cost.max((cpu - cpu_off) / (done as f64 / 5.0));
            stall = stall.max((wall - wall_off) / (done as f64 / 5.0));
            let l = format!(
                "  checkpoints every {every:>5} ms: {:.3} M ev/s ({:+.1} % vs off), {:.3} M ev per CPU-second ({:+.1} %), {done} completed over 5 runs",
                bids as f64 / wall / 1e6,
                (wall_off / wall - 1.0) * 100.0,
                bids as f64 / cpu / 1e6,
                (cpu_off / cpu - 1.0) * 100.0
            );
            println!("{l}");
            let _ = writeln!(out, "{l}");
        }
        // at a 10 s interval one checkpoint's cost falls on 10 s of processing
        let busy = cpu_off / wall_off;
        let l = format!(
            "  one checkpoint costs about {:.1} ms of wall time and {:.1} ms of CPU (the larger estimate of the two intervals): at a 10 s interval {:.2} % of throughput and {:.2} % of CPU (aim: under 10 %)",
            stall.max(0.0) * 1000.0,
            cost.max(0.0) * 1000.0,
            stall.max(0.0) / 10.0 * 100.0,
            cost.max(0.0) / (10.0 * busy) * 100.0
        );
        println!("{l}");
        let _ = writeln!(out, "{l}");
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let records: usize = std::env::var("WEIR_BENCH_KAFKA")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400_000);
    let profile = if cfg!(debug_assertions) {
        "dev (deps opt-level 2, weir-engine opt-level 3)"
    } else {
        "release"
    };
    let mut out = format!("weir checkpoint benchmarks — profile {profile}\n");
    rt.block_on(async {
        state_of_100k_keys(&mut out).await;
        let broker = common::loaded_broker(records, 8, 1000);
        let discard = r#"PrintSink(id: "out")"#;
        // the median of 5 runs each: one run lasts about a second and varies by ±10 %
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let mut base_runs = Vec::new();
        for _ in 0..5 {
            base_runs.push(windowed_run(&broker, records, None, discard).await.0);
        }
        let base = median(base_runs);
        let l = format!(
            "overhead: windowed count/sum by 1000 keys, {records} JSON records, 8 partitions, 2 tasks (median of 5 runs); off: {:.3} M ev/s",
            base / 1e6
        );
        println!("{l}");
        let _ = writeln!(out, "{l}");
        // a run lasts about a second: at 10 s only the final checkpoint at the end of
        // input completes, so that line bounds the cost of one checkpoint, not of a rate
        for every in [10_000u64, 1_000, 200] {
            let (mut rates, mut done, mut failed) = (Vec::new(), 0, 0);
            for _ in 0..5 {
                let (rate, d, f, _) =
                    windowed_run(&broker, records, Some(Duration::from_millis(every)), discard).await;
                rates.push(rate);
                done += d;
                failed += f;
            }
            let rate = median(rates);
            let l = format!(
                "  checkpoints every {every:>5} ms: {:.3} M ev/s ({:+.1} % vs off), {done} completed, {failed} failed over 5 runs",
                rate / 1e6,
                (rate / base - 1.0) * 100.0
            );
            println!("{l}");
            let _ = writeln!(out, "{l}");
        }
        let file = scratch("align").join("out.jsonl");
        let slow = format!(r#"PrintSink(id: "out", path: Some("{}"))"#, file.display());
        let (rate, done, _, most) =
            windowed_run(&broker, records, Some(Duration::from_millis(200)), &slow).await;
        let l = format!(
            "alignment under backpressure (sink writes every row to a file, checkpoints every 200 ms): longest {most} ms over {done} checkpoints, {:.3} M ev/s",
            rate / 1e6
        );
        println!("{l}");
        let _ = writeln!(out, "{l}");
        recovery(&mut out).await;
        nexmark_overhead(&mut out).await;
    });
    let _ = writeln!(
        out,
        "command: cargo bench --profile dev --workspace --bench checkpoints   (WEIR_BENCH_KAFKA={records}; 2 tokio workers; rates include pipeline start, ~0.5 s for Kafka)"
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/results");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("checkpoints.txt"), out);
}
