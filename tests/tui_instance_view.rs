//! The live instance view (issue 14, `:instances` → Enter) drawn from fixed data at a
//! fixed "now": a running instance of clickstream_pv (clicks → pv → out) with figures,
//! lag, a firing alert and log lines at 80x24 and 160x50; an instance with no figures
//! yet; a failed instance with its error; the instance's savepoints (issue 16: a section
//! when wide, one line when narrow). Snapshots plus checks that the key numbers are on
//! screen.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use weir::app::instances::{
    Alert, AlertKind, Figures, Instance, InstanceDetail, InstanceState, LogLevel, LogLine,
    NodeFigures, Savepoint,
};
use weir::tui::screens::instances::view::{InstanceView, parse_rfc3339_ms};
use weir_store::AlertState;

const JOB: &str = include_str!("../jobs/clickstream_pv.ron");

fn ms(at: &str) -> i64 {
    parse_rfc3339_ms(at).unwrap()
}

fn now() -> i64 {
    ms("2026-12-07T12:10:00Z")
}

fn instance(state: InstanceState) -> Instance {
    common::fixtures::instance(7, "demo/clickstream_pv", state)
}

/// The figures `k` seconds before the last sample (k = 0: the last one).
fn sample(k: i64) -> Figures {
    let f = (60 - k) as f64 / 60.0;
    Figures {
        at_ms: now() - 1000 - k * 1000,
        nodes: vec![
            NodeFigures {
                id: "clicks".into(),
                kind: "KafkaSource".into(),
                role: "source".into(),
                records_in: 250_000,
                records_out: 250_000,
                rate_in: 1234.0 * f,
                rate_out: 1234.0 * f,
                lag: Some((5200.0 * f) as i64),
                backpressure: 0.2,
                ..Default::default()
            },
            NodeFigures {
                id: "pv".into(),
                kind: "Sql".into(),
                role: "transform".into(),
                records_in: 250_000,
                records_out: 240_000,
                rate_in: 1234.0 * f,
                rate_out: 1180.0 * f,
                watermark: Some(now() - 3100),
                watermark_delay_ms: Some(2100),
                late: 3,
                latency_p99_ms: Some(12.4),
                backpressure: 0.65,
                ..Default::default()
            },
            NodeFigures {
                id: "out".into(),
                kind: "JdbcSink".into(),
                role: "sink".into(),
                records_in: 240_000,
                records_out: 239_000,
                rate_in: 1180.0 * f,
                rate_out: 1180.0 * f,
                errors: 2,
                dead_letters: 1,
                latency_p99_ms: Some(48.0),
                backpressure: 0.95,
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

fn log(id: i64, at: &str, level: LogLevel, message: &str) -> LogLine {
    LogLine {
        id,
        instance: 7,
        at: at.into(),
        level,
        message: message.into(),
    }
}

fn running() -> InstanceDetail {
    InstanceDetail {
        instance: instance(InstanceState::Running),
        text: JOB.into(),
        history: (0..60).rev().map(sample).collect(),
        log: vec![
            log(
                1,
                "2026-12-07T12:07:00Z",
                LogLevel::Info,
                "started on worker w-local-1",
            ),
            log(
                2,
                "2026-12-07T12:08:10Z",
                LogLevel::Warn,
                "sink out: batch retried after a deadlock",
            ),
            log(
                3,
                "2026-12-07T12:09:00Z",
                LogLevel::Info,
                "checkpoint 2 done",
            ),
            log(
                4,
                "2026-12-07T12:09:40Z",
                LogLevel::Error,
                "clicks: record at offset 1234 does not decode: missing field ts",
            ),
        ],
        alerts: vec![Alert {
            id: 1,
            instance: 7,
            job: "demo/clickstream_pv".into(),
            env: "test".into(),
            rule_id: Some(1),
            rule: "lag > 1000 records for 30s".into(),
            kind: AlertKind::Lag,
            state: AlertState::Firing,
            value: Some(5200.0),
            message: "lag 5200 records".into(),
            fired_at: "2026-12-07T12:09:30Z".into(),
            cleared_at: None,
        }],
    }
}

fn frame(detail: InstanceDetail, w: u16, h: u16) -> String {
    InstanceView::from_detail(detail, now()).render_text(w, h)
}

#[track_caller]
fn expect(frame: &str, texts: &[&str]) {
    for t in texts {
        assert!(frame.contains(t), "expected {t:?} on screen:\n{frame}");
    }
}

#[test]
fn running_instance_80x24() {
    let f = frame(running(), 80, 24);
    expect(
        &f,
        &[
            "#7 demo/clickstream_pv",
            "running",
            "up 3m",
            "worker w-local-1",
            "▲ 1 alert firing",
            // the graph as one line, with each operator's rate
            "clicks 1.2k/s → pv 1.2k/s → out 1.2k/s",
            "OPERATOR",
            "BACKPRESSURE",
            "12ms",
            "2.1s",
            "0.95",
            "lag      5.2k",
            "lag > 1000 records for 30s",
            "ERROR",
        ],
    );
    // warnings and errors before the info lines, newest first
    let error = f.find("does not decode").unwrap();
    let warn = f.find("deadlock").unwrap();
    let info = f.find("checkpoint 2 done").unwrap();
    assert!(error < warn && warn < info, "{f}");
    insta::assert_snapshot!("instance_running_80x24", f);
}

#[test]
fn running_instance_160x50() {
    let f = frame(running(), 160, 50);
    expect(
        &f,
        &[
            "#7 demo/clickstream_pv",
            "graph",
            // the boxes carry the rates
            "1.2k/s",
            "clicks",
            "▼",
            "12:09:56 (2.1s)",
            "0.65 ████··",
            "lag > 1000 records for 30s",
        ],
    );
    insta::assert_snapshot!("instance_running_160x50", f);
}

#[test]
fn instance_without_figures_yet() {
    let mut d = running();
    d.instance.state = InstanceState::Starting;
    d.instance.started_at = None;
    d.history.clear();
    d.log.clear();
    d.alerts.clear();
    for (w, h) in [(80, 24), (160, 50)] {
        let f = frame(d.clone(), w, h);
        expect(
            &f,
            &[
                "starting",
                "no figures yet",
                "no history yet",
                "no alerts and no log lines yet",
                "no alert firing",
            ],
        );
        insta::assert_snapshot!(format!("instance_no_figures_{w}x{h}"), f);
    }
}

#[test]
fn failed_instance_shows_its_error() {
    let mut d = running();
    d.instance.state = InstanceState::Failed;
    d.instance.error =
        Some("sink out: cannot reach mysql_report at db:3306 (connection refused)".into());
    d.instance.stopped_at = Some("2026-12-07T12:09:50Z".into());
    d.alerts[0].state = AlertState::Cleared;
    d.alerts[0].cleared_at = Some("2026-12-07T12:09:50Z".into());
    let f = frame(d, 80, 24);
    expect(
        &f,
        &[
            "failed",
            "failed: sink out: cannot reach mysql_report",
            "r restart",
            "no alert firing",
            "cleared 12:09:50",
        ],
    );
    assert!(
        !f.contains("up 3m"),
        "a failed instance has no uptime:\n{f}"
    );
    insta::assert_snapshot!("instance_failed_80x24", f);
}

#[test]
fn a_job_text_that_does_not_read_still_shows_the_figures() {
    let mut d = running();
    d.text = "Job(version: 1, nodes: [".into();
    let f = frame(d, 80, 24);
    expect(
        &f,
        &["the job text does not read", "clicks", "out", "1.2k/s"],
    );
}

#[test]
fn tiny_areas_do_not_panic() {
    for (w, h) in [
        (1, 1),
        (2, 2),
        (10, 3),
        (20, 6),
        (40, 10),
        (79, 23),
        (200, 60),
    ] {
        let _ = frame(running(), w, h);
    }
}

fn savepoint(id: i64, instance: i64, at: &str, size: i64) -> Savepoint {
    Savepoint {
        id,
        instance,
        job: "demo/clickstream_pv".into(),
        text_hash: "3f9a1c0b2e7d".into(),
        path: format!("/srv/demo/.weir/checkpoints/{instance}/sp-{id}"),
        checkpoint_id: id,
        size,
        created_by: "bob".into(),
        created_at: at.into(),
    }
}

/// Savepoints of instance 7 (and one of another instance, which the view leaves out).
fn savepoints() -> Vec<Savepoint> {
    vec![
        savepoint(3, 7, "2026-12-07T12:07:30Z", 812),
        savepoint(4, 6, "2026-12-07T12:08:00Z", 4096),
        savepoint(5, 7, "2026-12-07T12:09:15Z", 18_432),
    ]
}

fn frame_with_savepoints(detail: InstanceDetail, w: u16, h: u16) -> String {
    InstanceView::from_detail(detail, now())
        .with_savepoints(savepoints())
        .render_text(w, h)
}

#[test]
fn savepoints_80x24_are_one_line() {
    let f = frame_with_savepoints(running(), 80, 24);
    expect(
        &f,
        &["savepoints  2 · newest #5 45s ago (18KB)", "S savepoint"],
    );
    assert!(!f.contains("sp-4"), "another instance's savepoint:\n{f}");
    insta::assert_snapshot!("instance_savepoints_80x24", f);
}

#[test]
fn savepoints_160x50_are_a_section() {
    let f = frame_with_savepoints(running(), 160, 50);
    expect(
        &f,
        &[
            "savepoints · 2",
            "ID           AGE     SIZE  PATH",
            "#5       45s ago     18KB  /srv/demo/.weir/checkpoints/7/sp-5",
            "#3        2m ago     812B  /srv/demo/.weir/checkpoints/7/sp-3",
        ],
    );
    // newest first
    assert!(f.find("sp-5").unwrap() < f.find("sp-3").unwrap(), "{f}");
    assert!(!f.contains("sp-4"), "another instance's savepoint:\n{f}");
    insta::assert_snapshot!("instance_savepoints_160x50", f);
}

#[test]
fn no_savepoints_say_how_to_take_one() {
    let f = frame(running(), 160, 50);
    expect(&f, &["no savepoints of this instance yet; S takes one"]);
    let f = frame(running(), 80, 24);
    expect(&f, &["savepoints  none yet · S takes one"]);
}
