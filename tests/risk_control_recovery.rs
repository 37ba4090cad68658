//! Issue 16's "done when", as a new user would: `jobs/risk_control.ron` (unchanged: a 5-minute
//! HOP window sliding every minute, checkpoints every 30 s) runs as an instance on the
//! embedded broker, is fed the first half of `testdata/risk_control/txns.jsonl`, and its
//! worker is killed with -9 in the middle of its windows once a checkpoint holds them. The
//! worker comes back under its id, the instance restores the checkpoint (its checkpoint
//! age starts over), the rest is fed, and the PostgreSQL sink table equals the `to_pg`
//! rows `weir test` expects (`testdata/risk_control/expected.jsonl`).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::cli::Checkout;
use common::windowed::{checkpoints, records_into, show};
use weir_engine::broker::Broker;
use weir_testsupport::postgres::PgDatabase;

/// A row as the test compares it: every column as text, amounts to the cent.
type Row = Vec<String>;

fn expected_rows() -> BTreeSet<Row> {
    let text = std::fs::read_to_string("testdata/risk_control/expected.jsonl").unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["sink"] == "to_pg")
        .map(|v| {
            let r = &v["row"];
            vec![
                r["card_id"].as_str().unwrap().to_string(),
                r["window_start"].as_str().unwrap().to_string(),
                r["window_end"].as_str().unwrap().to_string(),
                r["cities"].to_string(),
                r["txns"].to_string(),
                format!("{:.2}", r["total"].as_f64().unwrap()),
                format!("{:.2}", r["max_amount"].as_f64().unwrap()),
                r["reason"].as_str().unwrap().to_string(),
            ]
        })
        .collect()
}

async fn table_rows(db: &PgDatabase) -> BTreeSet<Row> {
    let pool = db.pool().await;
    type Raw = (String, String, String, i64, i64, f64, f64, String);
    let rows: Vec<Raw> = sqlx::query_as(
        "SELECT card_id, to_char(window_start, 'YYYY-MM-DD HH24:MI:SS.MS'), \
         to_char(window_end, 'YYYY-MM-DD HH24:MI:SS.MS'), cities, txns, total, max_amount, reason \
         FROM risk_alerts",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.into_iter()
        .map(|(c, ws, we, cities, txns, total, max, reason)| {
            vec![
                c,
                ws,
                we,
                cities.to_string(),
                txns.to_string(),
                format!("{total:.2}"),
                format!("{max:.2}"),
                reason,
            ]
        })
        .collect()
}

#[test]
fn risk_control_survives_a_kill_9_of_its_worker_and_writes_what_weir_test_expects() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(PgDatabase::create("weir_risk_recovery"));
    rt.block_on(db.execute(
        "CREATE TABLE risk_alerts (card_id TEXT, window_start TIMESTAMP, window_end TIMESTAMP, \
         cities BIGINT, txns BIGINT, total DOUBLE PRECISION, max_amount DOUBLE PRECISION, \
         reason TEXT, PRIMARY KEY (card_id, window_start))",
    ));
    let mut c = Checkout::new("risk-recovery");
    std::fs::copy("jobs/risk_control.ron", c.path("jobs/risk_control.ron")).unwrap();
    let broker = Broker::start().unwrap();
    broker.create_topic("card_txns", 1).unwrap();
    broker.create_topic("risk_alerts", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let (w1, _) = c.start_worker("bob", &["--id", "w1"]);
    let kafka = format!("kafka_main={bootstrap}");
    let pg = format!("pg_risk={}", db.url());
    let started = c.expect(
        "bob",
        &[
            "instance",
            "start",
            "jobs/risk_control.ron",
            "--no-worker",
            "--from",
            "earliest",
            "--parallelism",
            "1",
            "--set",
            &kafka,
            "--set",
            &pg,
        ],
        0,
    );
    let id = started.lines().next().unwrap().trim().to_string();
    let txns: Vec<String> = std::fs::read_to_string("testdata/risk_control/txns.jsonl")
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let half = txns.len() / 2;
    let records: Vec<(i32, String)> = txns.iter().map(|t| (0, t.clone())).collect();
    common::kafka::produce(&bootstrap, "card_txns", &records[..half]);
    c.wait_for("the first half read", Duration::from_secs(60), || {
        records_into(&c, &id, "txns").filter(|n| *n == half as u64)
    });
    // a checkpoint completed after the first half: it holds the open windows
    let seen = checkpoints(&c, &id)
        .and_then(|f| f["last_id"].as_u64())
        .unwrap_or(0);
    c.wait_for(
        "a checkpoint of the first half",
        Duration::from_secs(45),
        || checkpoints(&c, &id).filter(|f| f["last_id"].as_u64().unwrap_or(0) > seen),
    );

    // kill -9 in the middle of the windows; the worker comes back under its id
    c.child(w1).kill().unwrap();
    c.child(w1).wait().unwrap();
    c.start_worker("bob", &["--id", "w1"]);
    c.wait_for("the instance back", Duration::from_secs(30), || {
        let i = &show(&c, &id)["instance"];
        (i["state"] == "running" && i["worker"] == "w1").then_some(())
    });
    let log = c.expect("bob", &["instance", "logs", &id], 0);
    assert!(log.contains("restored checkpoint chk-"), "{log}");
    // the checkpoint figures start over with the new run
    let figures = c.wait_for("figures of the new run", Duration::from_secs(15), || {
        checkpoints(&c, &id)
    });
    assert_eq!(figures["failed"], 0, "{figures}");

    // the rest, then one transaction a day later that fires every window and alerts nothing
    let mut rest = records[half..].to_vec();
    rest.push((
        0,
        r#"{"card_id": "card_late", "amount": 1.0, "city": "Beijing", "merchant": "x", "ts": 1772447400000}"#
            .to_string(),
    ));
    common::kafka::produce(&bootstrap, "card_txns", &rest);
    let want = expected_rows();
    let got = c.wait_for("every alert in the table", Duration::from_secs(60), || {
        let rows = rt.block_on(table_rows(&db));
        (rows.len() >= want.len()).then_some(rows)
    });
    std::thread::sleep(Duration::from_secs(2));
    let got_now = rt.block_on(table_rows(&db));
    assert_eq!(got, got_now, "nothing more arrives");
    let missing: Vec<_> = want.difference(&got).take(5).collect();
    let extra: Vec<_> = got.difference(&want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the table differs from weir test's expected rows: missing {missing:?}, extra {extra:?}"
    );
    rt.block_on(db.remove());
}
