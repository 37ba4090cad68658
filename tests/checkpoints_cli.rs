//! Checkpoints and savepoints of instances end to end (issue 16), through the `weir`
//! binary on the embedded SQLite store and a Kafka broker (librdkafka's mock cluster) in
//! the test process:
//! - a windowed job (Kafka → TUMBLE count → JDBC upsert on PostgreSQL) checkpoints every
//!   500 ms; the worker is killed with -9 in the middle of a window; a new worker takes
//!   the instance over, restores the checkpoint (its run reads only what came after it),
//!   and the table holds exactly the expected counts;
//! - `weir instance savepoint`, `weir savepoint list`, `weir instance stop --savepoint`,
//!   `weir instance start --from savepoint:SP` (and refused for another job's savepoint),
//!   `weir savepoint delete`; the checkpoint figures in `weir instance show` and
//!   `/metrics`.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::cli::{Checkout, produce};
use common::windowed::{
    T0, checkpoints, counts_table, feed_first_part, feed_the_rest_and_check, record, records_in,
    show, submit_counts, windowed_job,
};
use weir_engine::broker::Broker;

#[test]
fn a_kill_9_in_the_middle_of_a_window_restores_the_checkpoint_and_the_table_is_exact() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(counts_table("weir_chk"));
    let mut c = Checkout::new("chk-kill9");
    let broker = Broker::start().unwrap();
    broker.create_topic("in", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    c.write_job("counts.ron", &windowed_job());
    let (w1, _) = c.start_worker("bob", &["--id", "w1"]);
    let pg_set = format!("pg_out={}", db.url());
    let k_set = format!("k={bootstrap}");
    let started = c.expect(
        "bob",
        &[
            "instance",
            "start",
            "jobs/counts.ron",
            "--no-worker",
            "--set",
            &pg_set,
            "--set",
            &k_set,
        ],
        0,
    );
    let id = started.lines().next().unwrap().trim().to_string();

    let cp = feed_first_part(&c, &rt, &db, &bootstrap, &id);
    assert_eq!(cp["failed"], 0, "{cp}");
    assert!(cp["size"].as_u64().unwrap() > 0, "the window's state: {cp}");
    let shown = c.expect("bob", &["instance", "show", &id], 0);
    assert!(shown.contains("checkpoints: last #"), "{shown}");

    // kill -9 in the middle of window 1
    c.child(w1).kill().unwrap();
    c.child(w1).wait().unwrap();
    let (_w2, _) = c.start_worker("bob", &["--id", "w2"]);
    c.wait_for("the take-over", Duration::from_secs(40), || {
        let i = &show(&c, &id)["instance"];
        (i["state"] == "running" && i["worker"] == "w2").then_some(())
    });
    let log = c.expect("bob", &["instance", "logs", &id], 0);
    assert!(
        log.contains("restored checkpoint chk-"),
        "the take-over restores the checkpoint: {log}"
    );
    // the rest of window 1; restored, not re-read
    feed_the_rest_and_check(&c, &rt, &db, &bootstrap, &id);

    // upgrade: the same text as version 1 keeps the window's state; a wider window is
    // incompatible and refused
    c.expect(
        "bob",
        &["job", "submit", "jobs/counts.ron", "-m", "first"],
        0,
    );
    let wider = windowed_job().replace("INTERVAL '10' SECOND", "INTERVAL '20' SECOND");
    submit_counts(&c, &wider, "wider");
    let dry = c.json(
        "bob",
        &["instance", "upgrade", &id, "--to", "counts@1", "--dry-run"],
    );
    assert_eq!(dry["report"][0]["node"], "agg", "{dry}");
    assert_eq!(dry["report"][0]["verdict"], "kept", "{dry}");
    assert!(dry["started"].is_null());
    let refused = c.expect(
        "bob",
        &["instance", "upgrade", &id, "--to", "counts@2", "--dry-run"],
        1,
    );
    assert!(
        refused.contains("agg: incompatible") && refused.contains("--allow-drop agg"),
        "{refused}"
    );
    // the two versions 2: a column added to the SQL's output is incompatible
    // ("output schema of agg changed"); a sink's batch size alone keeps all state
    let wider_output = windowed_job().replace(
        "SELECT window_start, COUNT(*) AS n FROM",
        "SELECT window_start, window_end, COUNT(*) AS n FROM",
    );
    assert_ne!(wider_output, windowed_job(), "the query was changed");
    submit_counts(&c, &wider_output, "a column more");
    let refused = c.expect(
        "bob",
        &["instance", "upgrade", &id, "--to", "counts@3", "--dry-run"],
        1,
    );
    assert!(
        refused.contains("output schema of agg changed"),
        "{refused}"
    );
    let batch = windowed_job().replace("batch_size: 100", "batch_size: 250");
    assert_ne!(batch, windowed_job(), "the batch size was changed");
    submit_counts(&c, &batch, "bigger batches");
    let dry = c.json(
        "bob",
        &["instance", "upgrade", &id, "--to", "counts@4", "--dry-run"],
    );
    assert_eq!(dry["report"][0]["verdict"], "kept", "{dry}");
    let up = c.json("bob", &["instance", "upgrade", &id, "--to", "counts@1"]);
    let id3 = up["started"]["id"].as_i64().unwrap().to_string();
    assert_eq!(show(&c, &id)["instance"]["state"], "stopped");
    c.wait_for(
        "the upgraded instance runs",
        Duration::from_secs(30),
        || (show(&c, &id3)["instance"]["state"] == "running").then_some(()),
    );
    let log = c.expect("bob", &["instance", "logs", &id3], 0);
    assert!(log.contains("restored savepoint #"), "{log}");
    c.expect("bob", &["instance", "stop", &id3, "--wait"], 0);
    rt.block_on(db.remove());
}

fn echo(bootstrap: &str, name: &str, out: &std::path::Path) -> String {
    common::cli::echo_job(
        name,
        bootstrap,
        "in",
        "Earliest",
        out,
        ", checkpoint_interval_ms: 500",
    )
}

fn lines(path: &std::path::Path) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["id"].as_i64())
        .collect()
}

/// GET http://addr/metrics.
fn scrape(addr: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn savepoints_are_taken_listed_stopped_with_started_from_and_deleted() {
    let mut c = Checkout::new("chk-savepoints");
    let broker = Broker::start().unwrap();
    broker.create_topic("in", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let out = c.path("out.jsonl");
    c.write_job("echo.ron", &echo(&bootstrap, "echo", &out));
    c.write_job(
        "other.ron",
        &echo(&bootstrap, "other", &c.path("other.jsonl")),
    );
    let (_w, ready) = c.start_worker("bob", &["--id", "w1", "--metrics-addr", "127.0.0.1:0"]);
    let metrics = ready["metrics"].as_str().unwrap().to_string();
    let started = c.expect(
        "bob",
        &["instance", "start", "jobs/echo.ron", "--no-worker"],
        0,
    );
    let id = started.lines().next().unwrap().trim().to_string();
    produce(
        &bootstrap,
        "in",
        &(0..10).map(|i| record(i, T0 + i)).collect::<Vec<_>>(),
    );
    c.wait_for("10 rows", Duration::from_secs(30), || {
        (lines(&out).len() == 10).then_some(())
    });

    // a savepoint of the running instance
    let taken = c.json("bob", &["instance", "savepoint", &id]);
    let sp1 = taken["savepoint"]["id"].as_i64().unwrap();
    let path1 = taken["savepoint"]["path"].as_str().unwrap().to_string();
    assert!(
        path1.contains(&format!(".weir/checkpoints/{id}/sp-")),
        "{taken}"
    );
    assert!(
        std::path::Path::new(&path1)
            .join("_manifest.json")
            .is_file(),
        "{path1}"
    );
    let text = c.expect("bob", &["instance", "savepoint", &id], 0);
    let sp_text: i64 = text.lines().next().unwrap().trim().parse().unwrap();
    assert!(sp_text > sp1, "a second savepoint: {text}");
    let list = c.json("bob", &["savepoint", "list", "jobs/echo.ron"]);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[0]["job"], "shop/echo");

    // the checkpoint figures: weir instance show and /metrics
    let figures = c.wait_for("checkpoint figures", Duration::from_secs(10), || {
        checkpoints(&c, &id).filter(|f| f["completed"].as_u64().unwrap_or(0) >= 2)
    });
    assert!(figures["last_id"].as_u64().is_some(), "{figures}");
    let scraped = c.wait_for("/metrics", Duration::from_secs(10), || {
        let t = scrape(&metrics);
        t.contains("weir_checkpoint_last_id{").then_some(t)
    });
    assert!(
        scraped.contains(&format!(
            "weir_checkpoints_completed_total{{instance=\"{id}\",job=\"shop/echo\"}}"
        )),
        "{scraped}"
    );

    // stop with a savepoint
    produce(
        &bootstrap,
        "in",
        &(10..15).map(|i| record(i, T0 + i)).collect::<Vec<_>>(),
    );
    c.wait_for("15 rows", Duration::from_secs(30), || {
        (lines(&out).len() == 15).then_some(())
    });
    let stopped = c.json("bob", &["instance", "stop", &id, "--savepoint"]);
    assert_eq!(stopped["instance"]["state"], "stopped", "{stopped}");
    let sp_stop = stopped["savepoint"]["id"].as_i64().unwrap();
    let again = c.expect("bob", &["instance", "savepoint", &id], 2);
    assert!(again.contains("stopped"), "{again}");

    // a new instance from the stop's savepoint reads only what came after it
    produce(
        &bootstrap,
        "in",
        &(15..20).map(|i| record(i, T0 + i)).collect::<Vec<_>>(),
    );
    let from = format!("savepoint:{sp_stop}");
    let started = c.expect(
        "bob",
        &[
            "instance",
            "start",
            "jobs/echo.ron",
            "--no-worker",
            "--from",
            &from,
        ],
        0,
    );
    let id2 = started.lines().next().unwrap().trim().to_string();
    assert_ne!(id2, id);
    c.wait_for("20 rows", Duration::from_secs(30), || {
        (lines(&out).len() == 20).then_some(())
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(lines(&out), (0..20).collect::<Vec<_>>(), "each record once");
    assert_eq!(records_in(&c, &id2), Some(5));
    let log = c.expect("bob", &["instance", "logs", &id2], 0);
    assert!(
        log.contains(&format!("restored savepoint #{sp_stop}")),
        "{log}"
    );

    // another job's savepoint is refused, naming both jobs
    let refused = c.expect(
        "bob",
        &[
            "instance",
            "start",
            "jobs/other.ron",
            "--no-worker",
            "--from",
            &from,
        ],
        2,
    );
    assert!(
        refused.contains("shop/echo") && refused.contains("shop/other"),
        "{refused}"
    );

    // delete: the record and the directory
    let deleted = c.json("bob", &["savepoint", "delete", &sp1.to_string()]);
    assert_eq!(deleted["directory_removed"], true, "{deleted}");
    assert!(!std::path::Path::new(&path1).exists());
    let list = c.json("bob", &["savepoint", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let gone = c.expect("bob", &["savepoint", "delete", &sp1.to_string()], 2);
    assert!(gone.contains("savepoint"), "{gone}");
    c.expect("bob", &["instance", "stop", &id2, "--wait"], 0);
    let audit = c.expect("root", &["audit"], 0);
    for action in ["savepoint.request", "savepoint.take", "savepoint.delete"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
}
