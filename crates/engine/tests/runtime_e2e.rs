//! End to end on the embedded broker with the real sinks: each example job's test data
//! is produced to a 2-partition topic, the job runs bounded against the mock cluster,
//! PostgreSQL, MariaDB and Redis, and every table / topic / Redis key is read back and
//! compared with the package's expected.jsonl (the job's `start` is set to Earliest,
//! since the data is produced before the run).
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::{Map, Value};
use sqlx::Row;
use weir_engine::broker::Broker;
use weir_engine::pipeline::{Pipeline, RunOptions};
use weir_engine::resolve::{DataSource, Resolver};
use weir_engine::testing::{SinkDiff, SinkRows, compare, read_expected};
use weir_model::model::{DataSourceKind, Job, Node, StartOffset};
use weir_testsupport::mariadb::MariaDatabase;
use weir_testsupport::postgres::PgDatabase;
use weir_testsupport::redis::RedisPrefix;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(job: &str) -> Job {
    let checked = weir_model::jobfile::check_file(&root().join("jobs").join(format!("{job}.ron")));
    let mut job = checked.job.expect("example job");
    for n in &mut job.nodes {
        if let Node::KafkaSource(s) = n {
            s.start = StartOffset::Earliest;
        }
    }
    job
}

fn ds(kind: DataSourceKind, address: &str) -> DataSource {
    DataSource {
        kind,
        address: address.into(),
        user: None,
        password: None,
        options: BTreeMap::new(),
    }
}

fn unique(job: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("weir_rt_{job}_{}_{nanos}", std::process::id())
}

async fn produce(bootstrap: &str, topic: &str, lines: &[String], partitions: i32) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("producer");
    let mut pending = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let rec = FutureRecord::<(), String>::to(topic)
            .payload(l)
            .partition(i as i32 % partitions);
        pending.push(
            producer
                .send_result(rec)
                .map_err(|(e, _)| e)
                .expect("enqueue"),
        );
    }
    for p in pending {
        p.await
            .expect("delivery")
            .map_err(|(e, _)| e)
            .expect("delivered");
    }
}

fn read_topic(bootstrap: &str, topic: &str, want: usize) -> Vec<Map<String, Value>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "weir-test-reader")
        .set("fetch.wait.max.ms", "10")
        .create()
        .expect("consumer");
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .expect("metadata");
    let mut tpl = TopicPartitionList::new();
    for p in md.topics()[0].partitions() {
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
            .expect("tpl");
    }
    consumer.assign(&tpl).expect("assign");
    let mut rows = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while rows.len() < want && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let v: Value =
                serde_json::from_slice(m.payload().unwrap_or(b"null")).expect("json payload");
            rows.push(v.as_object().cloned().expect("object"));
        }
    }
    rows
}

/// Text from the database back to JSON numbers where it parses as one.
fn typed(s: Option<String>) -> Value {
    match s {
        None => Value::Null,
        Some(s) => {
            if let Ok(i) = s.parse::<i64>() {
                return Value::from(i);
            }
            if let Ok(f) = s.parse::<f64>() {
                return serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or(Value::Null);
            }
            Value::String(s)
        }
    }
}

fn columns(expected: &SinkRows, sink: &str) -> Vec<String> {
    expected[sink][0].keys().cloned().collect()
}

const TS: [&str; 2] = ["window_start", "window_end"];

async fn read_pg(url: &str, table: &str, cols: &[String]) -> Vec<Map<String, Value>> {
    let pool = sqlx::PgPool::connect(url).await.expect("pg");
    let select: Vec<String> = cols
        .iter()
        .map(|c| {
            if TS.contains(&c.as_str()) {
                format!("to_char(\"{c}\", 'YYYY-MM-DD HH24:MI:SS.MS')")
            } else {
                format!("\"{c}\"::text")
            }
        })
        .collect();
    let sql = format!("SELECT {} FROM {table}", select.join(", "));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_all(&pool)
        .await
        .expect("select");
    rows.iter()
        .map(|r| {
            cols.iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), typed(r.get::<Option<String>, _>(i))))
                .collect()
        })
        .collect()
}

async fn read_mysql(url: &str, table: &str, cols: &[String]) -> Vec<Map<String, Value>> {
    let pool = sqlx::MySqlPool::connect(url).await.expect("mysql");
    let select: Vec<String> = cols
        .iter()
        .map(|c| {
            if TS.contains(&c.as_str()) {
                format!("LEFT(DATE_FORMAT(`{c}`, '%Y-%m-%d %H:%i:%s.%f'), 23)")
            } else {
                format!("CAST(`{c}` AS CHAR)")
            }
        })
        .collect();
    let sql = format!("SELECT {} FROM {table}", select.join(", "));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_all(&pool)
        .await
        .expect("select");
    rows.iter()
        .map(|r| {
            cols.iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), typed(r.get::<Option<String>, _>(i))))
                .collect()
        })
        .collect()
}

struct Env {
    broker: Broker,
    resolver: Resolver,
    project: PathBuf,
}

async fn setup(job: &Job, source_topic: &str, lines: &[String]) -> Env {
    let broker = Broker::start().expect("broker");
    broker.create_topic(source_topic, 2).expect("topic");
    let bootstrap = broker.bootstrap_servers();
    for n in &job.nodes {
        if let Node::KafkaSink(k) = n {
            broker.create_topic(&k.topic, 2).expect("sink topic");
        }
    }
    produce(&bootstrap, source_topic, lines, 2).await;
    let project = std::env::temp_dir().join(unique(&job.name));
    std::fs::create_dir_all(&project).expect("project dir");
    Env {
        broker,
        resolver: Resolver::default(),
        project,
    }
}

async fn run(job: &Job, env: &Env) {
    let mut opts = RunOptions::new(&env.project, weir_engine::transform::default_planner());
    opts.bounded = true;
    opts.idle_ms = 30_000;
    let p = Pipeline::start(job, &env.resolver, opts)
        .await
        .expect("pipeline starts");
    let metrics = tokio::time::timeout(Duration::from_secs(60), p.wait())
        .await
        .expect("finishes")
        .expect("runs");
    let snap = metrics.snapshot(Instant::now(), None);
    for n in &snap.nodes {
        assert_eq!(n.late, 0, "{}: no late records", n.id);
        assert_eq!(n.errors, 0, "{}: no errors", n.id);
    }
}

fn assert_ok(diffs: Vec<SinkDiff>) {
    for d in diffs {
        assert!(
            d.ok(),
            "{}: {} expected, {} received; missing {:?}; unexpected {:?}",
            d.sink,
            d.expected,
            d.received,
            d.missing.first(),
            d.unexpected.first()
        );
    }
}

fn testdata(job: &str, source: &str) -> (Vec<String>, SinkRows) {
    let dir = root().join("testdata").join(job);
    let lines = std::fs::read_to_string(dir.join(format!("{source}.jsonl")))
        .expect("data")
        .lines()
        .map(str::to_string)
        .collect();
    (
        lines,
        read_expected(&dir.join("expected.jsonl")).expect("expected"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iot_alerts_to_kafka_and_mariadb() {
    let job = load("iot_alerts");
    let (lines, expected) = testdata("iot_alerts", "readings");
    let mut env = setup(&job, "sensor_readings", &lines).await;
    let db = MariaDatabase::create("weir_rt").await;
    let url = db.url();
    db.execute("CREATE TABLE alert_log (device_id VARCHAR(64), window_start DATETIME(3), window_end DATETIME(3), avg_temp DOUBLE, max_temp DOUBLE, readings BIGINT, level VARCHAR(16))").await;
    env.resolver.insert(
        "kafka_iot",
        ds(DataSourceKind::Kafka, &env.broker.bootstrap_servers()),
    );
    env.resolver
        .insert("mysql_ops", ds(DataSourceKind::Mysql, &url));
    run(&job, &env).await;
    let mut actual = SinkRows::new();
    actual.insert(
        "to_mysql".into(),
        read_mysql(&url, "alert_log", &columns(&expected, "to_mysql")).await,
    );
    actual.insert(
        "to_kafka".into(),
        read_topic(
            &env.broker.bootstrap_servers(),
            "sensor_alerts",
            expected["to_kafka"].len(),
        ),
    );
    assert_ok(compare(&expected, &actual));
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickstream_pv_to_mariadb() {
    let job = load("clickstream_pv");
    let (lines, expected) = testdata("clickstream_pv", "clicks");
    let mut env = setup(&job, "clicks", &lines).await;
    let db = MariaDatabase::create("weir_rt").await;
    let url = db.url();
    db.execute("CREATE TABLE pv_minute (window_start DATETIME(3), window_end DATETIME(3), url VARCHAR(255), pv BIGINT, uv BIGINT)").await;
    env.resolver.insert(
        "kafka_main",
        ds(DataSourceKind::Kafka, &env.broker.bootstrap_servers()),
    );
    env.resolver
        .insert("mysql_report", ds(DataSourceKind::Mysql, &url));
    run(&job, &env).await;
    let mut actual = SinkRows::new();
    actual.insert(
        "out".into(),
        read_mysql(&url, "pv_minute", &columns(&expected, "out")).await,
    );
    assert_ok(compare(&expected, &actual));
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_control_to_kafka_and_postgres_upsert() {
    let job = load("risk_control");
    let (lines, expected) = testdata("risk_control", "txns");
    let mut env = setup(&job, "card_txns", &lines).await;
    let db = PgDatabase::create("weir_rt").await;
    let url = db.url();
    db.execute("CREATE TABLE risk_alerts (card_id TEXT, window_start TIMESTAMP(3), window_end TIMESTAMP(3), cities BIGINT, txns BIGINT, total DOUBLE PRECISION, max_amount DOUBLE PRECISION, reason TEXT, PRIMARY KEY (card_id, window_start))").await;
    env.resolver.insert(
        "kafka_main",
        ds(DataSourceKind::Kafka, &env.broker.bootstrap_servers()),
    );
    env.resolver
        .insert("pg_risk", ds(DataSourceKind::Postgres, &url));
    run(&job, &env).await;
    let mut actual = SinkRows::new();
    actual.insert(
        "to_pg".into(),
        read_pg(&url, "risk_alerts", &columns(&expected, "to_pg")).await,
    );
    actual.insert(
        "to_kafka".into(),
        read_topic(
            &env.broker.bootstrap_servers(),
            "risk_alerts",
            expected["to_kafka"].len(),
        ),
    );
    assert_ok(compare(&expected, &actual));
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecommerce_features_to_redis_and_postgres() {
    let mut job = load("ecommerce_features");
    let (lines, expected) = testdata("ecommerce_features", "events");
    let mut env = setup(&job, "user_events", &lines).await;
    let keys = RedisPrefix::new("weir_rt");
    let prefix = keys.key("interest");
    for n in &mut job.nodes {
        if let Node::RedisSink(r) = n {
            r.key_prefix = Some(prefix.clone());
        }
    }
    let db = PgDatabase::create("weir_rt").await;
    let url = db.url();
    db.execute("CREATE TABLE user_interest (window_start TIMESTAMP(3), window_end TIMESTAMP(3), user_id TEXT, category TEXT, score BIGINT, events BIGINT, interest_rank BIGINT, PRIMARY KEY (user_id, window_start, category))").await;
    env.resolver.insert(
        "kafka_main",
        ds(DataSourceKind::Kafka, &env.broker.bootstrap_servers()),
    );
    env.resolver
        .insert("pg_features", ds(DataSourceKind::Postgres, &url));
    env.resolver.insert(
        "redis_features",
        ds(DataSourceKind::Redis, "127.0.0.1:6379"),
    );
    run(&job, &env).await;
    let mut actual = SinkRows::new();
    actual.insert(
        "to_pg".into(),
        read_pg(&url, "user_interest", &columns(&expected, "to_pg")).await,
    );
    let mut only_pg = expected.clone();
    only_pg.remove("to_redis");
    assert_ok(compare(&only_pg, &actual));
    // Redis: per user a sorted set; each category's score is that of its latest window.
    let mut want: BTreeMap<String, BTreeMap<String, (String, f64)>> = BTreeMap::new();
    for r in &expected["to_redis"] {
        let user = r["user_id"].as_str().unwrap_or_default().to_string();
        let cat = r["category"].as_str().unwrap_or_default().to_string();
        let ws = r["window_start"].as_str().unwrap_or_default().to_string();
        let score = r["score"].as_f64().unwrap_or_default();
        let e = want
            .entry(user)
            .or_default()
            .entry(cat)
            .or_insert((ws.clone(), score));
        if ws > e.0 {
            *e = (ws, score);
        }
    }
    let mut con = keys.connection().await;
    for (user, cats) in &want {
        let key = format!("{prefix}:{user}");
        let got: Vec<(String, f64)> = redis::cmd("ZRANGE")
            .arg(&key)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut con)
            .await
            .expect("zrange");
        let got: BTreeMap<String, f64> = got.into_iter().collect();
        let want: BTreeMap<String, f64> = cats.iter().map(|(c, (_, s))| (c.clone(), *s)).collect();
        assert_eq!(got, want, "{key}");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut con)
            .await
            .expect("pttl");
        assert!(ttl > 7_000_000 && ttl <= 7_200_000, "{key} ttl {ttl}");
    }
    keys.remove().await;
    db.remove().await;
}
