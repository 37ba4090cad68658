//! The transactional sinks driven directly: commit two checkpoints, check the rows and
//! the marker, then read the marker back as a restored run does (a new sink).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use weir_engine::broker::Broker;
use weir_engine::deadletter::DeadLetter;
use weir_engine::sink::Sink;
use weir_engine::sink::jdbc::JdbcSink;
use weir_engine::sink::kafka::{KafkaSink, marker_group};
use weir_engine::sink::redis::{RedisSink, commit_key};
use weir_model::model::{DataSourceKind, Node};
use weir_testsupport::redis::RedisPrefix;

use crate::support::{Db, TestDb, batch, ds, node, schema};

/// A JDBC sink `id` (Insert into `t`, `on_error` as given) on `db`.
async fn jdbc(db: &TestDb, id: &str, on_error: &str, project: &std::path::Path) -> JdbcSink {
    let n = node(
        &format!(
            r#"JdbcSink(id: "{id}", datasource: "db", table: "t", operation: Insert, batch_size: 2, on_error: {on_error})"#
        ),
        id,
    );
    let Node::JdbcSink(j) = n else {
        panic!("not a JdbcSink")
    };
    JdbcSink::connect(
        &j,
        "db",
        &ds(db.kind(), &db.url()),
        &schema(),
        Arc::new(DeadLetter::for_node(project, "eo", id)),
        Arc::new(Default::default()),
    )
    .await
    .unwrap()
}

async fn jdbc_commits(backend: Db) {
    let db = TestDb::create(backend).await;
    db.execute("CREATE TABLE t (id BIGINT NOT NULL, name VARCHAR(16) NOT NULL, n BIGINT NOT NULL, CHECK (id < 1000))")
        .await;
    let project = std::env::temp_dir().join(weir_testsupport::unique("weir_eo"));
    let key = "lineage-1/out";
    let mut sink = jdbc(&db, "out", "Fail", &project).await;
    assert_eq!(
        sink.committed_epoch(key).await.unwrap(),
        0,
        "{backend:?}: no marker yet"
    );
    sink.commit_epoch(key, 1, vec![batch(&[1, 2]), batch(&[3])])
        .await
        .unwrap();
    sink.commit_epoch(key, 2, vec![batch(&[4, 5])])
        .await
        .unwrap();
    assert_eq!(db.ints("SELECT id FROM t").await, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        db.ints("SELECT checkpoint FROM weir_commits WHERE sink = 'lineage-1/out'")
            .await,
        vec![2],
        "{backend:?}: the marker"
    );
    // a refused row fails the whole commit: no row of it, the marker unchanged
    let refused = sink
        .commit_epoch(key, 3, vec![batch(&[6, 5000, 7])])
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("checkpoint 3"), "{refused}");
    assert_eq!(db.ints("SELECT id FROM t").await, vec![1, 2, 3, 4, 5]);
    // a restored run: a new sink reads the marker
    let mut restored = jdbc(&db, "out", "Fail", &project).await;
    assert_eq!(
        restored.committed_epoch(key).await.unwrap(),
        2,
        "{backend:?}"
    );
    // with Skip, the refused row goes to the dead-letter file and the rest commits
    let other = "lineage-1/skipping";
    let mut skipping = jdbc(&db, "skipping", "Skip", &project).await;
    skipping
        .commit_epoch(other, 3, vec![batch(&[6, 5000, 7])])
        .await
        .unwrap();
    assert_eq!(db.ints("SELECT id FROM t").await, vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(skipping.committed_epoch(other).await.unwrap(), 3);
    let dl = std::fs::read_to_string(project.join(".weir/deadletter/eo/skipping.jsonl"))
        .expect("dead letters");
    assert_eq!(dl.lines().count(), 1, "{dl}");
    assert!(dl.contains("5000"), "{dl}");
    let _ = std::fs::remove_dir_all(&project);
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jdbc_postgres_commits_rows_and_marker_together() {
    jdbc_commits(Db::Pg).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jdbc_mariadb_commits_rows_and_marker_together() {
    jdbc_commits(Db::Maria).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_incr_commits_commands_and_marker_in_one_block() {
    let prefix = RedisPrefix::new("weir_eo");
    let n = node(
        &format!(
            r#"RedisSink(id: "out", datasource: "r", command: Incr, key_prefix: Some("{}"), key: ["name"], value: ["n"])"#,
            prefix.as_str()
        ),
        "out",
    );
    let Node::RedisSink(r) = n else {
        panic!("not a RedisSink")
    };
    let ds = ds(DataSourceKind::Redis, weir_testsupport::redis::URL);
    let key = format!("{}/out", prefix.as_str());
    let mut sink = RedisSink::connect(&r, "r", &ds).await.unwrap();
    assert_eq!(sink.committed_epoch(&key).await.unwrap(), 0);
    sink.commit_epoch(&key, 1, vec![batch(&[1, 2]), batch(&[3])])
        .await
        .unwrap();
    sink.commit_epoch(&key, 2, vec![batch(&[4, 5])])
        .await
        .unwrap();
    let mut con = prefix.connection().await;
    let get = |k: String| {
        let mut con = con.clone();
        async move {
            redis::cmd("GET")
                .arg(k)
                .query_async::<Option<String>>(&mut con)
                .await
                .unwrap()
        }
    };
    // k1: 1 + 3 + 5, k0: 2 + 4
    assert_eq!(get(prefix.key("k1")).await.as_deref(), Some("9"));
    assert_eq!(get(prefix.key("k0")).await.as_deref(), Some("6"));
    assert_eq!(get(commit_key(&key)).await.as_deref(), Some("2"));
    let mut restored = RedisSink::connect(&r, "r", &ds).await.unwrap();
    assert_eq!(restored.committed_epoch(&key).await.unwrap(), 2);
    redis::cmd("DEL")
        .arg(commit_key(&key))
        .query_async::<()>(&mut con)
        .await
        .unwrap();
    prefix.remove().await;
}

/// Every record of `topic` (all partitions), as (partition, payload).
fn read_topic(bootstrap: &str, topic: &str, want: usize) -> Vec<(i32, String)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "weir-eo-reader")
        .set("fetch.wait.max.ms", "10")
        .create()
        .unwrap();
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in md.topics()[0].partitions() {
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut rows = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while rows.len() < want && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let payload = String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string();
            rows.push((m.partition(), payload));
        }
    }
    // nothing beyond what was committed
    while let Some(Ok(m)) = consumer.poll(Duration::from_millis(300)) {
        rows.push((
            m.partition(),
            String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string(),
        ));
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_commits_each_checkpoint_in_a_transaction_with_its_marker() {
    let broker = Broker::start().unwrap();
    broker.create_topic("eo_out", 2).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let n = node(
        r#"KafkaSink(id: "out", datasource: "k", topic: "eo_out", key: Some(["id"]))"#,
        "out",
    );
    let Node::KafkaSink(k) = n else {
        panic!("not a KafkaSink")
    };
    let ds = ds(DataSourceKind::Kafka, &bootstrap);
    let key = "lineage-k/out";
    let mut sink = KafkaSink::connect(&k, &ds).unwrap();
    assert_eq!(sink.committed_epoch(key).await.unwrap(), 0, "no marker yet");
    sink.commit_epoch(key, 1, vec![batch(&[1, 2]), batch(&[3])])
        .await
        .unwrap();
    sink.commit_epoch(key, 2, vec![batch(&[4, 5])])
        .await
        .unwrap();
    let rows = tokio::task::spawn_blocking({
        let bootstrap = bootstrap.clone();
        move || read_topic(&bootstrap, "eo_out", 5)
    })
    .await
    .unwrap();
    let mut ids: Vec<i64> = rows
        .iter()
        .map(|(_, p)| {
            let v: serde_json::Value = serde_json::from_str(p).unwrap();
            v["id"].as_i64().unwrap()
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![1, 2, 3, 4, 5], "{rows:?}");
    // a restored run reads the marker back (its init_transactions takes over the id)
    let mut restored = KafkaSink::connect(&k, &ds).unwrap();
    assert_eq!(restored.committed_epoch(key).await.unwrap(), 2);
    // the marker is the group's committed offset of (topic, 0)
    let group = marker_group(key);
    let committed = tokio::task::spawn_blocking(move || {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", &group)
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition("eo_out", 0);
        let got = c.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
        got.find_partition("eo_out", 0).unwrap().offset()
    })
    .await
    .unwrap();
    assert_eq!(committed, Offset::Offset(2));
    // the restored sink goes on with the next checkpoint
    restored
        .commit_epoch(key, 3, vec![batch(&[6])])
        .await
        .unwrap();
    assert_eq!(restored.committed_epoch(key).await.unwrap(), 3);
}
