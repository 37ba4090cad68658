//! Runs in which records failed (issue 15 items 8 and 9), through the `weir` binary on
//! the embedded broker (mock cluster in the test process): a bounded run that
//! dead-lettered anything exits 1 and names the dead-letter file; each line names its run
//! and, for a sink reading the source directly, the record's partition and offset; values
//! of the wrong type are dead letters with the field and the reason unless the source is
//! `lenient`; no record is lost (rows + dead letters = records).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;

use common::cli::{Checkout, produce};
use weir_engine::broker::Broker;
use weir_testsupport::mariadb::MariaDatabase;

fn lines(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    assert!(text.is_empty() || text.ends_with('\n'), "torn: {text:?}");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_jdbc_sink_on_a_missing_table_dead_letters_every_row_and_the_bounded_run_exits_1() {
    let c = Checkout::new("run-missing-table");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(MariaDatabase::create("weir_run_missing"));
    let broker = Broker::start().unwrap();
    broker.create_topic("in", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let records: Vec<String> = (0..5).map(|i| format!(r#"{{"id": {i}}}"#)).collect();
    produce(&bootstrap, "in", &records);
    c.write_job(
        "missing.ron",
        &format!(
            r#"Job(
    version: 1,
    name: "missing",
    datasources: {{
        "k": (kind: Kafka, address: "{bootstrap}"),
        "db": (kind: Mysql, address: "127.0.0.1:3306", user: Some("root"), options: {{"database": "{}"}}),
    }},
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "in", start: Earliest,
            fields: Some([(name: "id", type: BigInt)])),
        JdbcSink(id: "rows", datasource: "db", table: "no_such_table", on_error: Retry(max: 2, backoff_ms: 10)),
    ],
    edges: [("src", "rows")],
)"#,
            db.name()
        ),
    );
    let said = c.expect("bob", &["run", "--bounded", "jobs/missing.ron"], 1);
    let file = c.path(".weir/deadletter/missing/rows.jsonl");
    assert!(said.contains(&file.display().to_string()), "{said}");
    assert!(said.contains("5 dead letter(s)"), "{said}");
    let first = lines(&file);
    assert_eq!(first.len(), 5);
    for (i, l) in first.iter().enumerate() {
        assert_eq!(l["partition"], 0, "{l}");
        assert_eq!(l["offset"], i as i64, "{l}");
        assert!(
            l["reason"].as_str().unwrap().contains("no_such_table"),
            "{l}"
        );
        assert_eq!(l["payload"], format!(r#"{{"id":{i}}}"#), "{l}");
    }
    let run = first[0]["run"].as_str().unwrap().to_string();
    assert!(first.iter().all(|l| l["run"] == run.as_str()));
    assert!(said.contains(&run), "the run id is printed: {said}");

    // a second run over the same records: its lines carry its own run id
    let json = c.weir(
        "bob",
        &["--json", "run", "--bounded", "--reset", "jobs/missing.ron"],
    );
    assert_eq!(json.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let second = v["run"].as_str().unwrap();
    assert_ne!(second, run);
    assert_eq!(v["dead_letters"][0]["count"], 5);
    assert_eq!(v["dead_letters"][0]["node"], "rows");
    let all = lines(&file);
    assert_eq!(all.len(), 10);
    assert_eq!(all.iter().filter(|l| l["run"] == second).count(), 5);
    rt.block_on(db.remove());
}

/// Records with a value of the wrong type, one per case, and good ones around them.
fn typed_records() -> Vec<String> {
    [
        r#"{"seq": 1, "ts": 1000, "name": "a", "v": 1.5}"#,
        r#"{"seq": 1.7, "ts": 1000, "name": "b", "v": 1.5}"#,
        r#"{"seq": 3, "ts": 1.5, "name": "c", "v": 1.5}"#,
        r#"{"seq": 4, "ts": 1e17, "name": "d", "v": 1.5}"#,
        r#"{"seq": "5", "ts": 1000, "name": "e", "v": 1.5}"#,
        r#"{"seq": 6, "ts": 1000, "name": 6, "v": 1.5}"#,
        r#"{"seq": 7, "ts": 1000, "name": "g", "v": "1.5"}"#,
        r#"{"seq": 8, "ts": 100000000000000000, "name": "h", "v": 1.5}"#,
        r#"{"seq": 9, "ts": "2026-03-01T10:00:00", "name": "i", "v": 2}"#,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn typed_job(name: &str, bootstrap: &str, topic: &str, out: &Path, lenient: bool) -> String {
    let lenient = if lenient { "lenient: true, " } else { "" };
    format!(
        r#"Job(
    version: 1,
    name: "{name}",
    datasources: {{"k": (kind: Kafka, address: "{bootstrap}")}},
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "{topic}", start: Earliest, {lenient}
            fields: Some([(name: "seq", type: BigInt), (name: "ts", type: Timestamp), (name: "name", type: String), (name: "v", type: Double)])),
        PrintSink(id: "out", path: Some("{}")),
    ],
    edges: [("src", "out")],
)"#,
        out.display()
    )
}

#[test]
fn values_of_the_wrong_type_are_dead_letters_with_the_field_unless_the_source_is_lenient() {
    let c = Checkout::new("run-strict");
    let broker = Broker::start().unwrap();
    broker.create_topic("typed", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let records = typed_records();
    produce(&bootstrap, "typed", &records);

    let out = c.path("out/strict.jsonl");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    c.write_job(
        "strict.ron",
        &typed_job("strict", &bootstrap, "typed", &out, false),
    );
    let said = c.expect("bob", &["run", "--bounded", "jobs/strict.ron"], 1);
    let dead = lines(&c.path(".weir/deadletter/strict/src.jsonl"));
    let rows = lines(&out);
    assert_eq!(
        rows.len() + dead.len(),
        records.len(),
        "no record lost: {said}"
    );
    let kept: Vec<i64> = rows.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert_eq!(kept, vec![1, 9]);
    let reasons: Vec<(i64, String)> = dead
        .iter()
        .map(|d| {
            (
                d["offset"].as_i64().unwrap(),
                d["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = [
        (1, "`seq`: 1.7 is not a whole number"),
        (2, "`ts`: 1.5 is not a whole number"),
        (3, "`ts`: 1e17 is not a whole number"),
        (4, "`seq`: the string \"5\" where BigInt is expected"),
        (5, "`name`: the number 6 where String is expected"),
        (6, "`v`: the string \"1.5\" where Double is expected"),
        (
            7,
            "`ts`: 100000000000000000 ms since the epoch is outside the years 0001 to 9999",
        ),
    ];
    assert_eq!(reasons.len(), expect.len(), "{reasons:?}");
    for ((offset, reason), (want_offset, want)) in reasons.iter().zip(expect) {
        assert_eq!(*offset, want_offset, "{reason}");
        assert!(
            reason.starts_with(want),
            "{reason} should start with {want}"
        );
    }
    assert!(dead.iter().all(|d| d["partition"] == 0));

    // lenient: Arrow's coercions, nothing dead-lettered, every record a row
    let out = c.path("out/lenient.jsonl");
    c.write_job(
        "lenient.ron",
        &typed_job("lenient", &bootstrap, "typed", &out, true),
    );
    c.expect("bob", &["run", "--bounded", "jobs/lenient.ron"], 0);
    let rows = lines(&out);
    assert_eq!(rows.len(), records.len());
    assert_eq!(rows[1]["seq"], 1, "1.7 coerced to 1: {}", rows[1]);
    assert!(!c.path(".weir/deadletter/lenient/src.jsonl").exists());
}
