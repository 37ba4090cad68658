//! A windowed job with checkpoints on the embedded broker (issue 16): the run is cut off
//! like a crash after a checkpoint completed, in the middle of its windows; the next run
//! restores the checkpoint (source positions, watermark, open windows) and is fed the
//! rest. The windows it writes equal an uninterrupted run's: no record lost, none counted
//! twice. Also: stop with a savepoint, and a savepoint of another job refused.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use weir_engine::broker::Broker;
use weir_engine::checkpoint::{CheckpointOptions, Kind, Location};
use weir_engine::pipeline::{Pipeline, RunOptions};
use weir_engine::resolve::Resolver;
use weir_model::model::Job;

fn job(name: &str, out: &Path) -> Job {
    let text = format!(
        r##"Job(
    version: 1,
    name: "{name}",
    config: (time: Event, checkpoint_interval_ms: 200, parallelism: 1, env: {{}}),
    nodes: [
        KafkaSource(
            id: "clicks",
            datasource: "kafka_main",
            topic: "clicks",
            start: Earliest,
            event_time: Some("ts"),
            watermark_ms: 0,
            fields: Some([(name: "url", type: String), (name: "ts", type: Timestamp)]),
        ),
        Sql(
            id: "pv",
            query: r#"SELECT window_start, url, COUNT(*) AS pv
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, url"#,
        ),
        PrintSink(id: "out", path: Some("{}")),
    ],
    edges: [("clicks", "pv"), ("pv", "out")],
)"##,
        out.display()
    );
    let checked = weir_model::jobfile::check_source("t.ron", &text);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.job.unwrap()
}

async fn produce(bootstrap: &str, records: &[(String, i64)]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    for (url, ts) in records {
        let payload = serde_json::json!({ "url": url, "ts": ts }).to_string();
        producer
            .send(
                FutureRecord::<(), _>::to("clicks")
                    .payload(&payload)
                    .partition(0),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
    }
}

fn resolver(job: &Job, bootstrap: &str) -> Resolver {
    let mut r = Resolver::default();
    r.set(job, &format!("kafka_main={bootstrap}")).unwrap();
    r.set(job, "kafka_main.kind=kafka").unwrap();
    r
}

fn options(project: &Path, job: &Job, restore: bool) -> RunOptions {
    let mut opts = RunOptions::new(project, weir_engine::transform::default_planner());
    opts.idle_ms = 60_000;
    let loc = Location::local(&project.join("checkpoints")).unwrap();
    let mut c = CheckpointOptions::new(loc.clone(), Duration::from_millis(200), &job.name, "h1");
    if restore {
        let rt = tokio::runtime::Handle::current();
        let latest = std::thread::spawn(move || rt.block_on(loc.latest()))
            .join()
            .unwrap()
            .unwrap()
            .expect("a complete checkpoint");
        c.restore = Some(std::sync::Arc::new(latest));
    }
    opts.checkpoints = Some(c);
    opts
}

/// (window start, url) → count, from the print sink's lines.
fn counts(path: &Path) -> BTreeMap<(String, String), i64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = (
            v["window_start"].as_str().unwrap().to_string(),
            v["url"].as_str().unwrap().to_string(),
        );
        assert!(
            out.insert(key.clone(), v["pv"].as_i64().unwrap()).is_none(),
            "window {key:?} written twice"
        );
    }
    out
}

fn project(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("weir-ckpt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

async fn wait_for_checkpoint(p: &Pipeline, at_least: u64) {
    let c = p.checkpoints().expect("checkpoints on");
    for _ in 0..200 {
        if c.stats().completed >= at_least {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no checkpoint completed: {:?}", c.stats());
}

const T0: i64 = 1_772_359_200_000;

fn records(range: std::ops::Range<i64>) -> Vec<(String, i64)> {
    // 3 urls, one record per 500 ms: windows of 10 s hold 20 records each
    range
        .map(|i| (format!("/p{}", i % 3), T0 + i * 500))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_cut_off_by_a_crash_continue_from_the_checkpoint() {
    let broker = Broker::start().unwrap();
    broker.create_topic("clicks", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let dir = project("crash");
    let out = dir.join("out.jsonl");
    let job = job("ckpt_crash", &out);
    let all = records(0..90);

    // run 1: the first 50 records (windows 0-20 s fire at the watermark 20 s... and the
    // window 20-30 s holds 10 records when the run is cut off)
    produce(&bootstrap, &all[..50]).await;
    let p = Pipeline::start(
        &job,
        &resolver(&job, &bootstrap),
        options(&dir, &job, false),
    )
    .await
    .unwrap();
    wait_for_checkpoint(&p, 2).await;
    // a crash: the sources stop, the tasks go with the dropped pipeline
    p.stopper()
        .store(true, std::sync::atomic::Ordering::Relaxed);
    drop(p);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // rows written after the last checkpoint are written again (at least once, print):
    // keep only what a crash leaves (the print sink flushed at each barrier)
    let before = counts(&out);
    assert!(before.len() <= 6, "{before:?}");
    std::fs::remove_file(&out).ok();

    // run 2: restored, fed the rest, then a far record moves the watermark past them all
    produce(&bootstrap, &all[50..]).await;
    produce(&bootstrap, &[("/end".to_string(), T0 + 3_600_000)]).await;
    let p = Pipeline::start(&job, &resolver(&job, &bootstrap), options(&dir, &job, true))
        .await
        .unwrap();
    let want: BTreeMap<(String, String), i64> = {
        let mut m = BTreeMap::new();
        for (url, ts) in &all {
            let start = (ts - T0) / 10_000 * 10_000 + T0;
            let s = weir_engine::rows::format_ts_ms(start);
            *m.entry((s, url.clone())).or_insert(0) += 1;
        }
        m
    };
    for _ in 0..200 {
        let mut got = before.clone();
        got.extend(counts(&out));
        if got.len() >= want.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let c = p.checkpoints().unwrap();
    let stop = c.trigger(Kind::Savepoint, true).await.unwrap();
    assert_eq!(stop.kind, Kind::Savepoint);
    p.wait().await.unwrap();
    let mut got = before;
    for (k, v) in counts(&out) {
        // a window written before the crash may be written again after it (at least
        // once), with the same count
        if let Some(old) = got.insert(k.clone(), v) {
            assert_eq!(old, v, "window {k:?}");
        }
    }
    assert_eq!(got, want);

    // the savepoint is complete and belongs to this job; another job's is refused
    let loc = Location::local(&dir.join("checkpoints")).unwrap();
    let sp = loc.read(&stop.dir).await.unwrap();
    assert_eq!(sp.manifest.job, "ckpt_crash");
    let other = weir_engine::checkpoint::Coordinator::new({
        let mut o = CheckpointOptions::new(loc, Duration::ZERO, "another_job", "h2");
        o.restore = Some(std::sync::Arc::new(sp));
        o
    });
    let err = other.err().unwrap().to_string();
    assert!(
        err.contains("ckpt_crash") && err.contains("another_job"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_that_cannot_be_written_fails_and_the_job_keeps_running() {
    let broker = Broker::start().unwrap();
    broker.create_topic("clicks", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let dir = project("unwritable");
    let out = dir.join("out.jsonl");
    let job = job("ckpt_unwritable", &out);
    produce(&bootstrap, &records(0..20)).await;
    let p = Pipeline::start(
        &job,
        &resolver(&job, &bootstrap),
        options(&dir, &job, false),
    )
    .await
    .unwrap();
    wait_for_checkpoint(&p, 1).await;
    let c = p.checkpoints().unwrap();
    // the checkpoint directory turns into a file: nothing can be written under it
    let root = dir.join("checkpoints");
    let aside = dir.join("checkpoints.aside");
    std::fs::rename(&root, &aside).unwrap();
    std::fs::write(&root, b"not a directory").unwrap();
    let mut failed = false;
    for _ in 0..100 {
        if c.stats().failed > 0 {
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failed, "{:?}", c.stats());
    let why = c.stats().last_failure.unwrap();
    assert!(
        why.contains("checkpoint") && why.contains("failed"),
        "{why}"
    );
    // the job keeps running: later records are read
    let before = p
        .metrics()
        .get("clicks")
        .unwrap()
        .records_in
        .load(std::sync::atomic::Ordering::Relaxed);
    produce(&bootstrap, &records(20..40)).await;
    for _ in 0..100 {
        let now = p
            .metrics()
            .get("clicks")
            .unwrap()
            .records_in
            .load(std::sync::atomic::Ordering::Relaxed);
        if now >= before + 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now = p
        .metrics()
        .get("clicks")
        .unwrap()
        .records_in
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        now >= before + 20,
        "the job kept reading ({before} → {now})"
    );
    // once the directory is back, checkpoints complete again
    std::fs::remove_file(&root).unwrap();
    std::fs::rename(&aside, &root).unwrap();
    let done = c.stats().completed;
    wait_for_checkpoint(&p, done + 1).await;
    p.stopper()
        .store(true, std::sync::atomic::Ordering::Relaxed);
    p.wait().await.unwrap();
}
