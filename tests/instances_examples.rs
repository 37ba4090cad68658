//! Each shipped example job (every `jobs/*.ron`) as an instance on a worker (issue 14),
//! through the `weir` binary on the embedded SQLite store, with a Kafka broker (the
//! librdkafka mock cluster) of the test's own and the real sinks (MariaDB, PostgreSQL,
//! Redis, Kafka) pointed at a database, key prefix or topic of the test's own with `--set`:
//! 1. `weir instance start jobs/JOB.ron --from earliest --set …` on a running worker;
//! 2. the job's test-data package (`testdata/JOB/<source id>.jsonl`) is produced into
//!    each source topic, then one record per partition far ahead in event time (it moves
//!    the watermark past every window of the data and fires them; its own windows never
//!    close) and one far behind (planted late: it is counted and dropped);
//! 3. the figures (`weir top ID --json`) count every produced record in, the planted late
//!    ones as late, no errors and no dead letters;
//! 4. the sinks hold exactly the package's `expected.jsonl` rows (JDBC tables and Kafka
//!    topics row for row; Redis: the keys, and for ZADD the members and their scores);
//! 5. stop (sinks flushed, offsets committed), restart: the new run resumes after the
//!    committed offsets, so it counts only the records produced since.
//!
//! The test knows no example by name. A JDBC sink's data source goes to MariaDB when its
//! name says `mysql`/`maria` and to PostgreSQL when it says `pg`/`postgres`; its table is
//! created from the expected rows' columns (types from the values; an upsert's key is the
//! primary key).
//!
//! The sinks' databases and readers are in `instances_examples/sinks.rs`.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
#[path = "instances_examples/sinks.rs"]
mod sinks;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::cli::Checkout;
use common::kafka::produce;
use serde_json::{Map, Value};
use sinks::{Database, Sinks, check_zadd, redis_expected};
use weir::model::{Job, Node};
use weir_engine::broker::Broker;
use weir_engine::testing::{compare, read_expected};
use weir_testsupport::redis::RedisPrefix;

/// Partitions of every topic (the examples run with parallelism 2).
const PARTITIONS: i32 = 2;
/// How far ahead of the data the watermark-moving records are: more than any window.
const AHEAD_MS: i64 = 24 * 3600 * 1000;

/// The example jobs, as tests/examples.rs finds them.
fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("jobs")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "jobs/ holds no examples");
    files
}

/// The source figures of instance `id`, summed over the job's Kafka sources, as
/// `weir top ID --json` shows them: (records in, late), and the errors and dead letters
/// of every node.
fn source_figures(c: &Checkout, id: &str, sources: &[String]) -> Option<(u64, u64, u64)> {
    let out = c.weir("bob", &["top", id, "--json", "--count", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_slice(&out.stdout).ok()?;
    let nodes = line["figures"]["nodes"].as_array()?;
    let (mut records_in, mut late, mut faults) = (0, 0, 0);
    for s in sources {
        let n = nodes.iter().find(|n| n["id"] == s.as_str())?;
        records_in += n["records_in"].as_u64()?;
        late += n["late"].as_u64().unwrap_or(0);
    }
    for n in nodes {
        faults += n["errors"].as_u64().unwrap_or(0) + n["dead_letters"].as_u64().unwrap_or(0);
    }
    Some((records_in, late, faults))
}

/// The summed lag of the job's Kafka sources as `weir top ID --json` shows it, from
/// figures sampled at `since_ms` or later.
fn lag_of(c: &Checkout, id: &str, sources: &[String], since_ms: i64) -> Option<i64> {
    let out = c.weir("bob", &["top", id, "--json", "--count", "1"]);
    let line: Value = serde_json::from_slice(&out.stdout).ok()?;
    if line["figures"]["at_ms"].as_i64()? < since_ms {
        return None;
    }
    let nodes = line["figures"]["nodes"].as_array()?;
    let mut lag = 0;
    for s in sources {
        lag += nodes.iter().find(|n| n["id"] == s.as_str())?["lag"].as_i64()?;
    }
    Some(lag)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn state(c: &Checkout, id: &str) -> String {
    c.json("bob", &["instance", "show", id])["instance"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// One Kafka source: its topic and the records the test produces into it.
struct SourceData {
    id: String,
    topic: String,
    /// The test-data lines, spread over the partitions in turn.
    lines: Vec<String>,
    /// A line of the data with its event time set to `ms`.
    at: Box<dyn Fn(i64) -> String>,
    /// The newest and oldest event time in the data.
    newest: i64,
    oldest: i64,
}

fn source_data(job: &Job, dir: &Path) -> Vec<SourceData> {
    job.nodes
        .iter()
        .filter_map(|n| match n {
            Node::KafkaSource(s) => Some(s),
            _ => None,
        })
        .map(|s| {
            let file = dir.join(format!("{}.jsonl", s.id));
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
                panic!(
                    "{}: source `{}` has no test data at {}: {e}",
                    job.name,
                    s.id,
                    file.display()
                )
            });
            let lines: Vec<String> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect();
            let field = s.event_time.clone().unwrap_or_else(|| {
                panic!(
                    "{}: source `{}` has no event time; this test moves the watermark by it",
                    job.name, s.id
                )
            });
            let times: Vec<i64> = lines
                .iter()
                .map(|l| {
                    let v: Value = serde_json::from_str(l).unwrap();
                    v[&field].as_i64().unwrap_or_else(|| {
                        panic!(
                            "{}: {}: event time `{field}` is not epoch milliseconds: {l}",
                            job.name,
                            file.display()
                        )
                    })
                })
                .collect();
            let template: Map<String, Value> = serde_json::from_str(&lines[0]).unwrap();
            SourceData {
                id: s.id.clone(),
                topic: s.topic.clone(),
                newest: times.iter().copied().max().unwrap(),
                oldest: times.iter().copied().min().unwrap(),
                lines,
                at: Box::new(move |ms| {
                    let mut row = template.clone();
                    row.insert(field.clone(), Value::from(ms));
                    Value::Object(row).to_string()
                }),
            }
        })
        .collect()
}

/// Everything one example needs outside the worker: its broker, topics, databases, key
/// prefix, and the `--set`s that point the instance at them.
struct Example {
    name: String,
    broker: Broker,
    sources: Vec<SourceData>,
    sinks: Sinks,
    sets: Vec<String>,
    redis: Option<RedisPrefix>,
}

async fn prepare(path: &Path, c: &Checkout) -> Example {
    let checked = weir::jobfile::check_file(path);
    let mut job = checked
        .job
        .unwrap_or_else(|| panic!("{} does not parse", path.display()));
    let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
    let dir = PathBuf::from("testdata").join(&stem);
    let expected = read_expected(&dir.join("expected.jsonl")).unwrap();
    let broker = Broker::start().unwrap();
    let bootstrap = broker.bootstrap_servers();
    let sources = source_data(&job, &dir);
    let mut sets = BTreeSet::new();
    let mut databases: BTreeMap<String, Database> = BTreeMap::new();
    let mut redis = None;
    let (mut jdbc, mut kafka, mut redis_sinks) = (Vec::new(), Vec::new(), Vec::new());
    for node in &mut job.nodes {
        match node {
            Node::KafkaSource(s) => {
                broker.create_topic(&s.topic, PARTITIONS).unwrap();
                sets.insert(format!("{}={bootstrap}", s.datasource));
            }
            Node::KafkaSink(k) => {
                broker.create_topic(&k.topic, PARTITIONS).unwrap();
                sets.insert(format!("{}={bootstrap}", k.datasource));
                kafka.push((k.id.clone(), k.topic.clone()));
            }
            Node::JdbcSink(j) => {
                if !databases.contains_key(&j.datasource) {
                    let db = Database::for_source(&job.name, &j.datasource).await;
                    sets.insert(format!("{}={}", j.datasource, db.url()));
                    databases.insert(j.datasource.clone(), db);
                }
                let rows = expected.get(&j.id).map(Vec::as_slice).unwrap_or_default();
                databases[&j.datasource].create_table(j, rows).await;
                jdbc.push((j.clone(), j.datasource.clone()));
            }
            Node::RedisSink(r) => {
                let prefix = redis.get_or_insert_with(|| RedisPrefix::new("weir_ie"));
                r.key_prefix = Some(prefix.key(r.key_prefix.as_deref().unwrap_or(&r.id)));
                sets.insert(format!("{}=redis://127.0.0.1:6379", r.datasource));
                redis_sinks.push(r.clone());
            }
            Node::Sql(_) => {}
            other => panic!(
                "{}: this test does not drive a {} yet (node `{}`)",
                job.name,
                other.kind(),
                other.id()
            ),
        }
    }
    // the job as the instance runs it: the example, with Redis keys under the test's prefix
    c.write_job(&format!("{stem}.ron"), &weir::jobfile::to_ron(&job));
    Example {
        name: stem,
        broker,
        sources,
        sinks: Sinks {
            expected,
            jdbc,
            kafka,
            redis: redis_sinks,
            databases,
        },
        sets: sets.into_iter().collect(),
        redis,
    }
}

/// Runs one example through start, data, figures, sink rows, stop and restart.
fn run_example(c: &Checkout, rt: &tokio::runtime::Runtime, path: &Path) {
    let ex = rt.block_on(prepare(path, c));
    let bootstrap = ex.broker.bootstrap_servers();
    let job_file = format!("jobs/{}.ron", ex.name);
    let mut args = vec!["instance", "start", job_file.as_str(), "--from", "earliest"];
    for s in &ex.sets {
        args.extend(["--set", s.as_str()]);
    }
    let started = c.expect("bob", &args, 0);
    let id = started.lines().next().unwrap().trim().to_string();
    assert!(
        id.parse::<i64>().is_ok(),
        "{}: the id first: {started}",
        ex.name
    );
    c.wait_for(
        &format!("{} running", ex.name),
        Duration::from_secs(60),
        || {
            let s = state(c, &id);
            assert_ne!(
                s,
                "failed",
                "{}: {}",
                ex.name,
                c.expect("bob", &["instance", "logs", &id], 0)
            );
            (s == "running").then_some(())
        },
    );

    // the test data, then per partition one record far ahead and one far behind
    let mut produced = 0u64;
    for s in &ex.sources {
        let mut records: Vec<(i32, String)> = s
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| (i as i32 % PARTITIONS, l.clone()))
            .collect();
        for p in 0..PARTITIONS {
            records.push((p, (s.at)(s.newest + AHEAD_MS)));
        }
        for p in 0..PARTITIONS {
            records.push((p, (s.at)(s.oldest)));
        }
        produced += records.len() as u64;
        produce(&bootstrap, &s.topic, &records);
    }
    let planted_late = (ex.sources.len() as i32 * PARTITIONS) as u64;
    let source_ids: Vec<String> = ex.sources.iter().map(|s| s.id.clone()).collect();
    let (records_in, late, faults) = c.wait_for(
        &format!("{}: {produced} records in, {planted_late} late", ex.name),
        Duration::from_secs(60),
        || {
            source_figures(c, &id, &source_ids)
                .filter(|(n, l, _)| *n == produced && *l == planted_late)
        },
    );
    assert_eq!(
        (records_in, late, faults),
        (produced, planted_late, 0),
        "{}",
        ex.name
    );

    // the windows fired: wait until each sink holds as many rows as expected
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = rt.block_on(ex.sinks.counts(&bootstrap));
        let want: Vec<(String, usize, usize)> = ex
            .sinks
            .expected
            .iter()
            .map(|(s, rows)| {
                let n = if ex.sinks.redis.iter().any(|r| &r.id == s) {
                    let r = ex.sinks.redis.iter().find(|r| &r.id == s).unwrap();
                    redis_expected(r, rows).len()
                } else {
                    rows.len()
                };
                (s.clone(), n, n)
            })
            .collect();
        let reached = counts
            .iter()
            .zip(&want)
            .all(|((_, got, _), (_, n, _))| got >= n);
        if reached {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{}: the sinks did not fill within 60 s: (sink, rows, expected) {counts:?}",
            ex.name
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // stop: the sinks flush; then they hold exactly the expected rows
    let stopped = c.expect("bob", &["instance", "stop", &id, "--wait"], 0);
    assert!(stopped.contains("is stopped"), "{}: {stopped}", ex.name);
    let actual = rt.block_on(ex.sinks.read(&bootstrap, true));
    let mut expected = ex.sinks.expected.clone();
    for r in &ex.sinks.redis {
        let rows = expected.remove(&r.id).unwrap_or_default();
        rt.block_on(check_zadd(&ex.name, r, &rows));
        expected.insert(r.id.clone(), redis_expected(r, &rows));
    }
    for d in compare(&expected, &actual) {
        assert!(
            d.ok(),
            "{}: sink {}: {} expected, {} received; missing {:?}; unexpected {:?}",
            ex.name,
            d.sink,
            d.expected,
            d.received,
            d.missing.first(),
            d.unexpected.first()
        );
    }

    // restart: the new run resumes from the committed offsets. Those may stop short of
    // the stop's position: without checkpoints, a commit never passes a record that a
    // window still open at the stop holds (its state is gone with the run), so a
    // windowed job reads those again. At least once, then: this run counts the new records
    // and at most everything before them, and the sinks lose no row (repeats allowed).
    c.expect("bob", &["instance", "restart", &id], 0);
    c.wait_for(
        &format!("{} running again", ex.name),
        Duration::from_secs(60),
        || (state(c, &id) == "running").then_some(()),
    );
    let mut more = 0u64;
    for s in &ex.sources {
        let records: Vec<(i32, String)> = (0..PARTITIONS)
            .map(|p| (p, (s.at)(s.newest + AHEAD_MS + 1000)))
            .collect();
        more += records.len() as u64;
        produce(&bootstrap, &s.topic, &records);
    }
    let produced_at = now_ms();
    // the new records are the last in their partitions: once the lag is 0 and the count
    // covers them, this run has read everything it will
    let deadline = Instant::now() + Duration::from_secs(60);
    let resumed = loop {
        let seen = source_figures(c, &id, &source_ids);
        // figures sampled well after the new records were produced (the lag is measured
        // once a second)
        let last = lag_of(c, &id, &source_ids, produced_at + 1500);
        if let Some((n, late, faults)) = seen
            && n >= more
            && last == Some(0)
        {
            break (n, late, faults);
        }
        assert!(
            Instant::now() < deadline,
            "{}: the restarted run should read the {more} new records; (records in, late, \
             faults) = {seen:?}, lag {last:?}; log:\n{}",
            ex.name,
            c.expect("bob", &["instance", "logs", &id], 0)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        resumed.0 <= produced + more && resumed.1 <= planted_late && resumed.2 == 0,
        "{}: the restarted run read (records in, late, faults) = {resumed:?}; at most \
         {produced} were there before the {more} new ones",
        ex.name
    );
    c.expect("bob", &["instance", "stop", &id, "--wait"], 0);
    let rows: Vec<String> = actual
        .iter()
        .map(|(k, v)| format!("{k} {}", v.len()))
        .collect();
    eprintln!(
        "{}: {produced} records in ({planted_late} late), sink rows: {}; the restarted run read {}",
        ex.name,
        rows.join(", "),
        resumed.0
    );
    let after = rt.block_on(ex.sinks.read(&bootstrap, true));
    for d in compare(&expected, &after) {
        let repeats = d.unexpected.iter().all(|row| {
            expected[&d.sink]
                .iter()
                .any(|e| weir_engine::testing::rows_match(e, row))
        });
        assert!(
            d.missing.is_empty() && repeats,
            "{}: sink {} after the restart: missing {:?}; not an expected row {:?}",
            ex.name,
            d.sink,
            d.missing.first(),
            d.unexpected.first()
        );
    }
    rt.block_on(async {
        for db in ex.sinks.databases.values() {
            db.remove().await;
        }
        if let Some(p) = &ex.redis {
            p.remove().await;
        }
    });
}

#[test]
fn each_example_job_runs_as_an_instance_with_its_test_data() {
    let mut c = Checkout::new("inst-examples");
    c.start_worker("bob", &["--id", "w1", "--slots", "4"]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for path in examples() {
        run_example(&c, &rt, &path);
    }
}
