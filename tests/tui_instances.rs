//! `:instances` (issue 14): snapshots of the list drawn from fixed rows at a fixed "now"
//! (80x24 and 160x50: a running instance with figures, a trend and a firing alert, one
//! waiting for a worker, a failed one with its error), and the whole road through the
//! `weir` binary on the embedded SQLite store and a Kafka broker in the test process: a
//! test instance of a small job is started through the app (`weir instance start`, which
//! starts a local worker), the workbench's key script opens `:instances`, waits until it
//! runs, opens its live view, waits for a non-zero rate while the test produces records,
//! takes a savepoint (`S`, issue 16) and sees it listed, stops it after the confirmation
//! and waits until it is stopped.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::cli::{Checkout, produce};
use common::fixtures::instance;
use common::{run_keys, shows, test_env};
use weir::app::instances::{Figures, InstanceRow, InstanceState, NodeFigures, Trend};
use weir::tui::screens::instances::clock::epoch_ms;
use weir::tui::screens::instances::list::Instances;
use weir::tui::workbench::{Env, Focus, Workbench};
use weir_engine::broker::Broker;

fn now() -> i64 {
    epoch_ms("2026-12-07T12:10:00Z").unwrap()
}

/// Figures `k` seconds before now: the rate in climbs over the last minutes.
fn sample(k: i64) -> Figures {
    let rate = 1234.0 * (300 - k) as f64 / 300.0;
    Figures {
        at_ms: now() - 1000 - k * 1000,
        nodes: vec![
            NodeFigures {
                id: "clicks".into(),
                kind: "KafkaSource".into(),
                role: "source".into(),
                records_in: 250_000,
                records_out: 250_000,
                rate_in: rate,
                rate_out: rate,
                lag: Some(5200),
                ..Default::default()
            },
            NodeFigures {
                id: "out".into(),
                kind: "JdbcSink".into(),
                role: "sink".into(),
                records_in: 240_000,
                records_out: 239_000,
                rate_in: rate * 0.95,
                rate_out: rate * 0.95,
                watermark_delay_ms: Some(2100),
                late: 3,
                errors: 2,
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

fn rows() -> Vec<InstanceRow> {
    let history: Vec<Figures> = (0..300).rev().map(sample).collect();
    let mut file = instance(8, "demo/orders_enrich", InstanceState::Created);
    file.version = None;
    file.text_hash = Some("3f9a1c0b2e7d55aa".into());
    file.source_path = Some("jobs/orders_enrich.ron".into());
    file.worker = None;
    file.heartbeat_at = None;
    file.started_at = None;
    let mut failed = instance(5, "demo/pv_hourly", InstanceState::Failed);
    failed.error = Some("kafka_main at 127.0.0.1:1: connection refused".into());
    failed.stopped_at = Some("2026-12-07T11:58:00Z".into());
    vec![
        InstanceRow {
            instance: instance(7, "demo/clickstream_pv", InstanceState::Running),
            figures: history.last().cloned(),
            trend: Trend::of(&history),
            firing: 1,
        },
        InstanceRow {
            instance: file,
            figures: None,
            trend: Trend::default(),
            firing: 0,
        },
        InstanceRow {
            instance: failed,
            figures: None,
            trend: Trend::default(),
            firing: 0,
        },
    ]
}

/// A workbench showing `:instances` over the fixed rows, focused.
fn app_with(rows: Vec<InstanceRow>) -> Workbench {
    let mut app = test_env("instances-snap", Env::Test);
    app.screens
        .push(Box::new(Instances::from_rows(rows, now())));
    app.focus = Focus::Main;
    app
}

#[test]
fn instances_at_80x24() {
    let mut app = app_with(rows());
    let frame = run_keys(&mut app, "", 80, 24);
    for text in ["#7", "running", "1.2k", "5.2k", "⚠1", "created", "failed"] {
        assert!(shows(&frame, text), "{text} missing:\n{frame}");
    }
    insta::assert_snapshot!("instances_80x24", frame);
}

#[test]
fn instances_at_160x50() {
    let mut app = app_with(rows());
    let frame = run_keys(&mut app, "", 160, 50);
    for text in [
        "VERSION",
        "file 3f9a1c",
        "v3",
        "TREND",
        "█",
        "3m",
        "1.2k",
        "⚠1",
        "250000 in",
    ] {
        assert!(frame.contains(text), "{text} missing:\n{frame}");
    }
    insta::assert_snapshot!("instances_160x50", frame);
    // the failed one's error, once selected; the filter narrows the list
    let frame = run_keys(&mut app, "j\nj", 160, 50);
    assert!(shows(&frame, "connection refused"), "{frame}");
    let frame = run_keys(&mut app, "/orders<Enter>", 160, 50);
    assert!(frame.contains("#8") && !frame.contains("#7 "), "{frame}");
    // stopping asks first, naming the instance
    let frame = run_keys(&mut app, "/<Esc>x", 160, 50);
    assert!(
        shows(&frame, "stop instance #7 of demo/clickstream_pv?"),
        "{frame}"
    );
    let frame = run_keys(&mut app, "n", 160, 50);
    assert!(shows(&frame, "keeps running"), "{frame}");
}

#[test]
fn no_instances_says_how_to_start_one() {
    let mut app = app_with(Vec::new());
    let frame = run_keys(&mut app, "", 160, 50);
    assert!(shows(&frame, "s starts one of a job"), "{frame}");
    assert!(shows(&frame, ":run in the graph editor"), "{frame}");
}

#[test]
fn an_instance_is_watched_live_and_stopped_from_the_workbench() {
    let c = Checkout::new("tui-inst");
    let broker = Broker::start().unwrap();
    broker.create_topic("in", 2).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let out = c.path("out.jsonl");
    c.write_job(
        "echo.ron",
        &common::cli::echo_job("echo", &bootstrap, "in", "Earliest", &out, ""),
    );
    // started through the app; a local worker starts by itself (WEIR_EXE)
    let started = c.expect("bob", &["instance", "start", "jobs/echo.ron"], 0);
    let id = started.lines().next().unwrap().trim().to_string();
    assert!(id.parse::<i64>().is_ok(), "the id first: {started}");

    // bursts of records while the workbench watches: thousands a second
    let done = Arc::new(AtomicBool::new(false));
    let producer = {
        let (done, bootstrap) = (done.clone(), bootstrap.clone());
        std::thread::spawn(move || {
            let mut next = 0i64;
            while !done.load(Ordering::Relaxed) {
                let batch: Vec<String> = (next..next + 3000)
                    .map(|i| format!(r#"{{"id": {i}, "ts": {}}}"#, 1_000_000 + i))
                    .collect();
                produce(&bootstrap, "in", &batch);
                next += 3000;
                std::thread::sleep(Duration::from_millis(1500));
            }
        })
    };
    let script = format!(
        ":instances<Enter>\n\
         until \"running\" 30000\n\
         expect \"#{id}\"\n\
         <Enter>\n\
         until \"k/s\" 30000\n\
         S\n\
         # the status bar's word (the log pane says \"taken (checkpoint\" sooner)\n\
         until \"savepoint #1 taken:\" 60000\n\
         until \"savepoints  1 · newest #\" 10000\n\
         expect \"/sp-\"\n\
         x\n\
         y\n\
         until \"· stopped ·\" 30000\n"
    );
    let path = c.path("flow.txt");
    std::fs::write(&path, script).unwrap();
    let out = c
        .command(
            "bob",
            &[
                "tui",
                "--script",
                path.to_str().unwrap(),
                "--size",
                "160x50",
            ],
        )
        .output()
        .unwrap();
    done.store(true, Ordering::Relaxed);
    producer.join().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the script failed:\n{text}");
    assert!(text.contains("script passed"), "{text}");
    let list = c.json("bob", &["instance", "list", "--all"]);
    let inst = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["instance"]["id"]
                .as_i64()
                .map(|v| v.to_string())
                .as_deref()
                == Some(id.as_str())
        })
        .cloned()
        .unwrap();
    assert_eq!(inst["instance"]["state"], "stopped", "{inst}");
    // the Checkout stops the local worker when dropped (weir worker stop)
}
