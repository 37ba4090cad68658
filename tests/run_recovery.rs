//! `weir run` killed with `kill -9` at random points (seeded) and restarted, the probe's
//! recipe of issue 15 item 5: a sequence-numbered stream on the embedded broker (mock
//! cluster in the test process) read by one job into a MariaDB table of the test's own and
//! a PrintSink file, with `start: Earliest` and with `start: Latest`. At the end no
//! sequence number is missing from either sink, the file has no torn line, and the
//! duplicates are only those at least once permits: after each kill, the records that
//! were already written but not yet committed by the consumer group (the run re-reads
//! from the last commit). The counts are printed.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::cli::Checkout;
use common::seeded::Seeded;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use weir_engine::broker::Broker;
use weir_testsupport::mariadb::MariaDatabase;

const TOPIC: &str = "seq";
const PARTITIONS: i32 = 2;
/// Records produced before the first run starts (read with Earliest, skipped with Latest).
const BEFORE: i64 = 500;
/// Records in all.
const RECORDS: i64 = 20_000;

fn job(name: &str, bootstrap: &str, db: &str, out: &Path, start: &str) -> String {
    format!(
        r#"Job(
    version: 1,
    name: "{name}",
    config: (parallelism: 1),
    datasources: {{
        "k": (kind: Kafka, address: "{bootstrap}"),
        "db": (kind: Mysql, address: "127.0.0.1:3306", user: Some("root"), options: {{"database": "{db}"}}),
    }},
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "{TOPIC}", start: {start},
            fields: Some([(name: "seq", type: BigInt)])),
        JdbcSink(id: "rows", datasource: "db", table: "seqs", batch_size: 500, flush_interval_ms: 200, on_error: Fail),
        PrintSink(id: "file", path: Some("{}")),
    ],
    edges: [("src", "rows"), ("src", "file")],
)"#,
        out.display()
    )
}

/// Sequence number `seq` goes to partition `seq % 2`, in order: its offset is `seq / 2`.
fn produce(producer: &BaseProducer, seqs: std::ops::Range<i64>) {
    for seq in seqs {
        let payload = format!(r#"{{"seq": {seq}}}"#);
        loop {
            let record = BaseRecord::<(), String>::to(TOPIC)
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

/// The group's committed offset per partition (None where it has none).
fn committed(bootstrap: &str, group: &str) -> Vec<Option<i64>> {
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition(TOPIC, p);
    }
    let found = c.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    (0..PARTITIONS)
        .map(
            |p| match found.find_partition(TOPIC, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) if o >= 0 => Some(o),
                _ => None,
            },
        )
        .collect()
}

/// Whether record `seq` lies at or after the committed offsets (so a restart re-reads it).
fn uncommitted(seq: i64, commits: &[Option<i64>]) -> bool {
    let p = (seq % PARTITIONS as i64) as usize;
    seq / PARTITIONS as i64 >= commits[p].unwrap_or(0)
}

/// The sequence numbers in the table, with how often each was written.
fn table_counts(rt: &tokio::runtime::Runtime, db: &MariaDatabase) -> BTreeMap<i64, u64> {
    rt.block_on(async {
        let pool = db.pool().await;
        let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT seq, COUNT(*) FROM seqs GROUP BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows.into_iter().map(|(s, n)| (s, n as u64)).collect()
    })
}

/// The sequence numbers in the file, with how often each was written; a torn last line
/// (a kill in the middle of a write) is left out when `torn_ok`, else it fails the test.
fn file_counts(path: &Path, torn_ok: bool) -> BTreeMap<i64, u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut counts = BTreeMap::new();
    let complete = text.ends_with('\n') || text.is_empty();
    assert!(
        complete || torn_ok,
        "the file ends in a torn line: {:?}",
        text.lines().last()
    );
    let lines: Vec<&str> = text.lines().collect();
    let whole = if complete {
        lines.len()
    } else {
        lines.len() - 1
    };
    for line in &lines[..whole] {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a line that is not JSON ({e}): {line:?}"));
        *counts.entry(v["seq"].as_i64().unwrap()).or_default() += 1;
    }
    counts
}

/// Distinct sequence numbers in `counts` that a restart after `commits` re-reads.
fn permitted(counts: &BTreeMap<i64, u64>, commits: &[Option<i64>]) -> u64 {
    counts.keys().filter(|s| uncommitted(**s, commits)).count() as u64
}

fn start_run(c: &Checkout, job: &str) -> Child {
    c.command("bob", &["run", "--stats", &format!("jobs/{job}.ron")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

struct Tally {
    records: u64,
    rows: u64,
    distinct: u64,
    missing: Vec<i64>,
}

impl Tally {
    fn of(counts: &BTreeMap<i64, u64>, expected: std::ops::Range<i64>) -> Tally {
        Tally {
            records: (expected.end - expected.start) as u64,
            rows: counts.values().sum(),
            distinct: counts.len() as u64,
            missing: expected.filter(|s| !counts.contains_key(s)).collect(),
        }
    }
    fn duplicates(&self) -> u64 {
        self.rows - self.distinct
    }
}

fn kill_and_restart(start: &str, seed: u64) {
    let name = format!("recover_{}", start.to_lowercase());
    let c = Checkout::new(&format!("run-recovery-{}", start.to_lowercase()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(MariaDatabase::create("weir_run_recovery"));
    rt.block_on(db.execute("CREATE TABLE seqs (seq BIGINT NOT NULL)"));
    let broker = Broker::start().unwrap();
    broker.create_topic(TOPIC, PARTITIONS).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let out = c.path("out/seq.jsonl");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    c.write_job(
        &format!("{name}.ron"),
        &job(&name, &bootstrap, db.name(), &out, start),
    );
    let group = format!("weir-{name}-src");

    produce(&producer, 0..BEFORE);
    let mut run = start_run(&c, &name);
    // the first run commits where it starts (Latest: the end of what came before)
    c.wait_for(
        "the first run's start offsets",
        Duration::from_secs(30),
        || {
            committed(&bootstrap, &group)
                .iter()
                .all(Option::is_some)
                .then_some(())
        },
    );
    let expected_from = if start == "Latest" { BEFORE } else { 0 };

    // the rest arrives while the job is killed and restarted at random points
    let rest = std::thread::spawn({
        let bootstrap = bootstrap.clone();
        move || {
            let producer: BaseProducer = rdkafka::ClientConfig::new()
                .set("bootstrap.servers", &bootstrap)
                .create()
                .unwrap();
            let chunk = 500;
            let mut seq = BEFORE;
            while seq < RECORDS {
                let end = (seq + chunk).min(RECORDS);
                produce(&producer, seq..end);
                seq = end;
                std::thread::sleep(Duration::from_millis(120));
            }
        }
    });
    let mut rng = Seeded(seed);
    let mut allowed_rows = 0;
    let mut allowed_lines = 0;
    let kills = 6;
    for kill in 0..kills {
        std::thread::sleep(Duration::from_millis(600 + rng.below(1800)));
        run.kill().unwrap(); // SIGKILL
        run.wait().unwrap();
        // what the killed run wrote beyond its last commit is read and written again
        let commits = committed(&bootstrap, &group);
        allowed_rows += permitted(&table_counts(&rt, &db), &commits);
        allowed_lines += permitted(&file_counts(&out, true), &commits);
        eprintln!("kill {kill}: committed {commits:?}");
        std::thread::sleep(Duration::from_millis(rng.below(2000)));
        run = start_run(&c, &name);
    }
    rest.join().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    run.kill().unwrap();
    run.wait().unwrap();
    let commits = committed(&bootstrap, &group);
    allowed_rows += permitted(&table_counts(&rt, &db), &commits);
    allowed_lines += permitted(&file_counts(&out, true), &commits);

    // a last, bounded run reads to the end and ends cleanly
    let started = Instant::now();
    let text = c.expect("bob", &["run", "--bounded", &format!("jobs/{name}.ron")], 0);
    eprintln!("final bounded run ({:?}): {text}", started.elapsed());

    let table = Tally::of(&table_counts(&rt, &db), expected_from..RECORDS);
    let file = Tally::of(&file_counts(&out, false), expected_from..RECORDS);
    eprintln!(
        "start {start}, seed {seed}, {kills} kills + 1 stop: {} records; table {} rows, {} duplicates (at least once permits {allowed_rows}); file {} lines, {} duplicates (permits {allowed_lines})",
        table.records,
        table.rows,
        table.duplicates(),
        file.rows,
        file.duplicates(),
    );
    assert!(
        table.missing.is_empty(),
        "missing from the table: {:?}…",
        &table.missing[..table.missing.len().min(20)]
    );
    assert!(
        file.missing.is_empty(),
        "missing from the file: {:?}…",
        &file.missing[..file.missing.len().min(20)]
    );
    assert!(
        table.duplicates() <= allowed_rows,
        "{} duplicate rows, at least once permits {allowed_rows}",
        table.duplicates()
    );
    assert!(
        file.duplicates() <= allowed_lines,
        "{} duplicate lines, at least once permits {allowed_lines}",
        file.duplicates()
    );
    if start == "Latest" {
        // nothing from before the group's first run, and no record skipped by a restart
        assert!(table_counts(&rt, &db).keys().all(|s| *s >= BEFORE));
    }
    rt.block_on(db.remove());
}

#[test]
fn kill_9_and_restart_from_earliest_loses_nothing_and_doubles_only_the_uncommitted() {
    kill_and_restart("Earliest", 0x5eed_0015);
}

#[test]
fn kill_9_and_restart_from_latest_loses_nothing_and_doubles_only_the_uncommitted() {
    kill_and_restart("Latest", 0x5eed_0105);
}

#[test]
fn reset_starts_over_from_start_and_a_restart_resumes() {
    let c = Checkout::new("run-reset");
    let broker = Broker::start().unwrap();
    broker.create_topic(TOPIC, PARTITIONS).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    produce(&producer, 0..100);
    let out = c.path("out/reset.jsonl");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let text = format!(
        r#"Job(
    version: 1,
    name: "reset",
    datasources: {{"k": (kind: Kafka, address: "{bootstrap}")}},
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "{TOPIC}", start: Earliest,
            fields: Some([(name: "seq", type: BigInt)])),
        PrintSink(id: "file", path: Some("{}")),
    ],
    edges: [("src", "file")],
)"#,
        out.display()
    );
    c.write_job("reset.ron", &text);
    let job = "jobs/reset.ron";
    c.expect("bob", &["run", "--bounded", job], 0);
    assert_eq!(file_counts(&out, false).len(), 100);
    // the next run resumes after the commit: only the new records
    produce(&producer, 100..150);
    c.expect("bob", &["run", "--bounded", job], 0);
    let counts = file_counts(&out, false);
    assert_eq!(counts.len(), 150);
    assert!(counts.values().all(|n| *n == 1), "no record twice");
    // --reset starts over from `start: Earliest`
    c.expect("bob", &["run", "--bounded", "--reset", job], 0);
    let counts = file_counts(&out, false);
    assert_eq!(counts.values().sum::<u64>(), 300);
    assert!(counts.values().all(|n| *n == 2));
}

#[test]
fn a_torn_last_line_of_the_print_file_is_cut_off_and_said() {
    let c = Checkout::new("run-torn");
    let broker = Broker::start().unwrap();
    broker.create_topic(TOPIC, 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    common::cli::produce(&bootstrap, TOPIC, &[r#"{"seq": 7}"#.to_string()]);
    let out = c.path("out/torn.jsonl");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, "{\"seq\":1}\n{\"seq\":2}\n{\"se").unwrap();
    let text = format!(
        r#"Job(
    version: 1,
    name: "torn",
    datasources: {{"k": (kind: Kafka, address: "{bootstrap}")}},
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "{TOPIC}", start: Earliest,
            fields: Some([(name: "seq", type: BigInt)])),
        PrintSink(id: "file", path: Some("{}")),
    ],
    edges: [("src", "file")],
)"#,
        out.display()
    );
    c.write_job("torn.ron", &text);
    let said = c.expect("bob", &["run", "--bounded", "jobs/torn.ron"], 0);
    assert!(said.contains("torn"), "{said}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "{\"seq\":1}\n{\"seq\":2}\n{\"seq\":7}\n"
    );
}
