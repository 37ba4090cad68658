//! A production release that keeps its state (issue 16, "Upgrades with state": "the
//! release approval view shows it for production"), through the `weir` binary on the
//! embedded SQLite store, a Kafka broker (librdkafka's mock cluster) in the test process
//! and a table on the real PostgreSQL:
//! - version 1 of a windowed job is live and its production instance holds a half-full
//!   window;
//! - a release of version 3 (a wider window) shows the approver `agg: incompatible`, and
//!   `weir release golive --keep-state` refuses it while the old instance keeps running;
//! - a release of version 2 (only the sink's batch size) shows `agg: state kept`; its
//!   go-live with `--keep-state` stops the old instance after a savepoint, starts the new
//!   one from it, and the window's count continues: the table equals an uninterrupted run.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::cli::Checkout;
use common::windowed::{
    counts_table, feed_first_part, feed_the_rest_and_check, show, submit_counts, windowed_job,
};
use weir_engine::broker::Broker;

fn state(c: &Checkout, id: &str) -> String {
    show(c, id)["instance"]["state"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Release request for `job@n`, approved by root with the output of `weir approve`.
fn release(c: &Checkout, version: &str) -> (String, String) {
    let req = c.json("bob", &["release", "request", version, "--note", "test"]);
    let id = req["id"].as_i64().unwrap().to_string();
    let approved = c.expect("root", &["approve", &id, "--opinion", "ok"], 0);
    (id, approved)
}

#[test]
fn a_production_release_shows_and_keeps_the_running_state() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(counts_table("weir_keep_state"));
    let mut c = Checkout::new("keep-state");
    let broker = Broker::start().unwrap();
    broker.create_topic("in", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let params = [
        "--param".to_string(),
        format!("pg_out={}", db.url()),
        "--param".to_string(),
        format!("k={bootstrap}"),
    ];
    let golive = |c: &Checkout, who: &str, id: &str, extra: &[&str], code: i32| {
        let mut args = vec!["release", "golive", id, "--start", "earliest"];
        args.extend(params.iter().map(String::as_str));
        args.extend_from_slice(extra);
        c.expect(who, &args, code)
    };
    submit_counts(&c, &windowed_job(), "v1");
    let batch = windowed_job().replace("batch_size: 100", "batch_size: 50");
    submit_counts(&c, &batch, "v2");
    let wider = windowed_job().replace("INTERVAL '10' SECOND", "INTERVAL '20' SECOND");
    submit_counts(&c, &wider, "v3");
    c.start_worker("bob", &["--id", "w1"]);

    // version 1 live; a first release has no state to show
    let (first, approved) = release(&c, "counts@1");
    assert!(!approved.contains("state"), "{approved}");
    // keeping state needs a live release
    let out = golive(&c, "bob", &first, &["--keep-state"], 2);
    assert!(out.contains("no release of shop/counts is live"), "{out}");
    let live = c.json(
        "bob",
        &[
            "release", "golive", &first, "--start", "earliest", &params[0], &params[1], &params[2],
            &params[3],
        ],
    );
    let old = live["instance"]["id"].as_i64().unwrap().to_string();
    c.wait_for(
        "production instance running",
        Duration::from_secs(30),
        || (state(&c, &old) == "running").then_some(()),
    );
    // window 0 whole, window 1 half open in the state
    feed_first_part(&c, &rt, &db, &bootstrap, &old);

    // version 3: the approver sees the incompatible window; keeping state is refused
    let (third, approved) = release(&c, "counts@3");
    assert!(
        approved.contains(&format!("state of production instance #{old}")),
        "{approved}"
    );
    assert!(approved.contains("agg: incompatible: window"), "{approved}");
    assert!(approved.contains("--allow-drop agg"), "{approved}");
    let shown = c.expect("root", &["release", "show", &third], 0);
    assert!(shown.contains("agg: incompatible: window"), "{shown}");
    for who in ["bob", "root"] {
        // refused from the versions alone, before any savepoint
        let refused = golive(&c, who, &third, &["--keep-state"], 2);
        assert!(
            refused.contains("did not go live") && refused.contains("keeps running"),
            "{refused}"
        );
        assert!(!refused.contains("savepoint #"), "{refused}");
    }
    assert_eq!(state(&c, &old), "running");
    let review = c.json("root", &["release", "show", &third]);
    assert_eq!(review["state"]["incompatible"][0], "agg", "{review}");

    // version 2: only the sink changed; the state is kept through the go-live
    let (second, approved) = release(&c, "counts@2");
    assert!(approved.contains("agg: state kept"), "{approved}");
    // it stops the production instance: a project or system admin's right
    let refused = golive(&c, "bob", &second, &["--keep-state"], 2);
    assert!(
        refused.contains("can stop production instances"),
        "a developer may not: {refused}"
    );
    assert_eq!(state(&c, &old), "running");
    let went = golive(&c, "root", &second, &["--keep-state"], 0);
    assert!(
        went.contains(&format!("production instance #{old} stopped")),
        "{went}"
    );
    assert_eq!(state(&c, &old), "stopped");
    let live = c.json("bob", &["release", "list", "--state", "live"]);
    let new = live[0]["instance"].as_i64().unwrap().to_string();
    assert_ne!(new, old);
    c.wait_for("the new instance running", Duration::from_secs(30), || {
        (state(&c, &new) == "running").then_some(())
    });
    let log = c.expect("bob", &["instance", "logs", &new], 0);
    assert!(log.contains("restored savepoint #"), "{log}");

    // the rest of window 1: the count continues from the savepoint
    feed_the_rest_and_check(&c, &rt, &db, &bootstrap, &new);
    rt.block_on(db.remove());
}
