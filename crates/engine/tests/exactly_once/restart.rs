//! A Kafka → SQL → JDBC Insert job under checkpoints, killed three times and restored
//! from its last checkpoint: the table ends with every produced record exactly once.
//! A kill sets the stopper and drops the pipeline without waiting, so the rows the sink
//! held since the last checkpoint and anything in flight go with it.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use weir_engine::broker::Broker;
use weir_engine::checkpoint::{CheckpointOptions, Kind, Location};
use weir_engine::pipeline::{Pipeline, RunOptions};
use weir_engine::resolve::Resolver;
use weir_model::model::{DataSourceKind, Job};

use crate::support::{Db, TestDb, ds};

const PER_ROUND: i64 = 300;
const ROUNDS: i64 = 4;

async fn produce(bootstrap: &str, topic: &str, ids: std::ops::Range<i64>) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let mut pending = Vec::new();
    for id in ids {
        let payload = format!(r#"{{"id": {id}}}"#);
        let rec = FutureRecord::<(), String>::to(topic)
            .payload(&payload)
            .partition((id % 2) as i32);
        pending.push(producer.send_result(rec).map_err(|(e, _)| e).unwrap());
    }
    for p in pending {
        p.await.unwrap().map_err(|(e, _)| e).unwrap();
    }
}

fn job(topic: &str) -> Job {
    let text = format!(
        r#"Job(version: 1, name: "eo_restart",
        nodes: [
            KafkaSource(id: "src", datasource: "k", topic: "{topic}", start: Earliest,
                fields: Some([(name: "id", type: BigInt)])),
            Sql(id: "q", query: "SELECT id FROM src"),
            JdbcSink(id: "out", datasource: "db", table: "t", operation: Insert, batch_size: 50),
        ],
        edges: [("src", "q"), ("q", "out")])"#
    );
    let checked = weir_model::jobfile::check_source("eo_restart.ron", &text);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == weir_model::jobfile::diagnostic::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    checked.job.unwrap()
}

/// Starts the job, restoring the latest checkpoint under `dir` when there is one.
async fn start(job: &Job, resolver: &Resolver, project: &std::path::Path) -> Pipeline {
    let dir = project.join("checkpoints");
    let location = Location::local(&dir).unwrap();
    let mut ckpt = CheckpointOptions::new(
        location.clone(),
        Duration::from_millis(300),
        &job.name,
        "hash",
    );
    ckpt.restore = location.latest().await.unwrap().map(Arc::new);
    let mut opts = RunOptions::new(project, weir_engine::transform::default_planner());
    opts.batch_size = 64;
    opts.checkpoints = Some(ckpt);
    Pipeline::start(job, resolver, opts).await.unwrap()
}

/// Waits until the run completed `n` checkpoints.
async fn completed(p: &Pipeline, n: u64, what: &str) {
    let c = p.checkpoints().expect("checkpoints are on");
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.stats().completed < n {
        assert!(
            Instant::now() < deadline,
            "{what}: no checkpoint completed: {:?}",
            c.stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn count(db: &TestDb) -> i64 {
    let n = db.ints("SELECT COUNT(*) FROM t").await;
    n.first().copied().unwrap_or(0)
}

async fn crash_and_restore(backend: Db) {
    let broker = Broker::start().unwrap();
    let topic = "eo_in";
    broker.create_topic(topic, 2).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let db = TestDb::create(backend).await;
    db.execute("CREATE TABLE t (id BIGINT NOT NULL)").await;
    let mut resolver = Resolver::default();
    resolver.insert("k", ds(DataSourceKind::Kafka, &bootstrap));
    resolver.insert("db", ds(db.kind(), &db.url()));
    let project = std::env::temp_dir().join(weir_testsupport::unique("weir_eo_restart"));
    std::fs::create_dir_all(&project).unwrap();
    let job = job(topic);
    let total = PER_ROUND * ROUNDS;
    let mut before = 0;
    for round in 0..ROUNDS - 1 {
        let p = start(&job, &resolver, &project).await;
        let (first, half) = (round * PER_ROUND, round * PER_ROUND + PER_ROUND / 2);
        produce(&bootstrap, topic, first..half).await;
        // a checkpoint of this run completed and committed rows of this round
        completed(&p, 1, &format!("{backend:?} round {round}")).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(&db).await <= before {
            assert!(
                Instant::now() < deadline,
                "{backend:?} round {round}: no commit"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // more rows, read and held by the sink until the next checkpoint: killed with it
        produce(&bootstrap, topic, half..(round + 1) * PER_ROUND).await;
        tokio::time::sleep(Duration::from_millis(40 * round as u64)).await;
        p.stopper().store(true, Relaxed);
        drop(p);
        // what the table holds now: never a duplicate, whatever the kill interrupted
        let ids = db.ints("SELECT id FROM t").await;
        let mut unique = ids.clone();
        unique.dedup();
        assert_eq!(
            ids.len(),
            unique.len(),
            "{backend:?} round {round}: duplicates"
        );
        before = ids.len() as i64;
        // the killed run's source threads notice the stopper
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let p = start(&job, &resolver, &project).await;
    produce(&bootstrap, topic, (ROUNDS - 1) * PER_ROUND..total).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = count(&db).await;
        if n >= total {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{backend:?}: {n} rows of {total}; checkpoints {:?}",
            p.checkpoints().map(|c| c.stats())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let c = p.checkpoints().unwrap();
    c.trigger(Kind::Checkpoint, true).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), p.wait())
        .await
        .expect("the run stops")
        .unwrap();
    let ids = db.ints("SELECT id FROM t").await;
    let want: Vec<i64> = (0..total).collect();
    if ids != want {
        let mut dups = ids.clone();
        dups.dedup();
        let missing: Vec<i64> = want.iter().filter(|i| !ids.contains(i)).copied().collect();
        panic!(
            "{backend:?}: {} rows for {total} records; {} duplicated; missing {:?}",
            ids.len(),
            ids.len() - dups.len(),
            &missing[..missing.len().min(20)]
        );
    }
    let _ = std::fs::remove_dir_all(&project);
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_holds_every_record_once_after_three_kills() {
    crash_and_restore(Db::Pg).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_holds_every_record_once_after_three_kills() {
    crash_and_restore(Db::Maria).await;
}
