//! `weir bench` through the binary: a small run over every query and source writes
//! bench/results-style JSON with every metric present and consistent (no timing
//! thresholds: the figures are whatever this machine gives).
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Bids among events 0..n (46 of every 50).
fn bids_in(n: u64) -> u64 {
    (n / 50) * 46 + (0..n % 50).filter(|o| *o >= 4).count() as u64
}

#[test]
fn small_bench_run_reports_every_metric() {
    let tmp = std::env::temp_dir().join(format!("weir-bench-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let out_dir = tmp.join("results");
    let data = tmp.join("data");
    let jobs = root().join("bench/nexmark");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "bench",
            "--events",
            "20000",
            "--json",
            "--latency-secs",
            "3",
            "--ooo-ms",
            "0",
        ])
        .arg("--jobs")
        .arg(&jobs)
        .arg("--out")
        .arg(&out_dir)
        .arg("--data")
        .arg(&data)
        .current_dir(tmp.parent().unwrap_or(&tmp))
        .env("WEIR_CONFIG_DIR", tmp.join("config"))
        .output()
        .expect("weir runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("nexmark-weir.json")).expect("results file"),
    )
    .expect("results file is JSON");
    assert_eq!(doc["results"], file["results"]);
    assert!(doc["machine"]["nproc"].as_u64().unwrap_or(0) >= 1);
    assert!(doc["failures"].as_array().is_some_and(|f| f.is_empty()));

    let bids = bids_in(20_000);
    let results = doc["results"].as_array().expect("results");
    assert_eq!(results.len(), 5 * 3, "5 queries × 3 sources");
    for r in results {
        let q = r["query"].as_str().unwrap_or("");
        let src = r["source"].as_str().unwrap_or("");
        let what = format!("{q} from {src}");
        assert_eq!(r["events"].as_u64(), Some(bids), "{what}: every bid read");
        assert_eq!(r["late"].as_u64(), Some(0), "{what}");
        let rows = r["rows_out"].as_u64().expect("rows_out");
        match q {
            "q0" | "q1" => assert_eq!(rows, bids, "{what}"),
            "q2" => assert!(rows > 0 && rows < bids / 10, "{what}: {rows}"),
            // 20 000 events at 100 000/s of event time = 0.2 s (no out-of-order shift): one
            // TUMBLE window, and
            // the 5 HOP windows that cover it
            "q5" => assert_eq!(rows, 5, "{what}"),
            "q7" => assert_eq!(rows, 1, "{what}"),
            _ => panic!("unexpected query {q}"),
        }
        for k in ["seconds", "events_per_sec", "cpu_seconds_per_million"] {
            let v = r[k].as_f64().unwrap_or(-1.0);
            assert!(v >= 0.0 && v.is_finite(), "{what}: {k} = {v}");
        }
        assert!(r["events_per_sec"].as_f64().unwrap_or(0.0) > 0.0, "{what}");
        let rss = r["peak_rss_bytes"].as_u64().unwrap_or(0);
        assert!(rss > 1 << 20 && rss < 64 << 30, "{what}: peak RSS {rss}");
    }
    let latency = doc["latency"].as_array().expect("latency");
    assert_eq!(latency.len(), 5);
    for r in latency {
        let q = r["query"].as_str().unwrap_or("");
        let l = &r["latency"];
        assert_eq!(l["rate"].as_u64(), Some(100_000), "{q}");
        let samples = l["samples"].as_u64().unwrap_or(0);
        let bids = r["events"].as_u64().unwrap_or(0);
        assert!(
            bids > 200_000 && bids <= 300_000,
            "{q}: 3 s at 100k ev/s: {bids}"
        );
        if matches!(q, "q0" | "q1" | "q2") {
            assert!(samples > 2000, "{q}: one sample per ms: {samples}");
        }
        if samples > 0 {
            let p50 = l["p50_ms"].as_f64().unwrap_or(-1.0);
            let p99 = l["p99_ms"].as_f64().unwrap_or(-1.0);
            let max = l["max_ms"].as_f64().unwrap_or(-1.0);
            assert!(0.0 <= p50 && p50 <= p99 && p99 <= max, "{q}: {l}");
        } else {
            assert!(l["p50_ms"].is_null() && l["p99_ms"].is_null(), "{q}: {l}");
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn flink_without_its_venv_says_how_to_install() {
    let tmp = std::env::temp_dir().join(format!("weir-bench-noflink-{}", std::process::id()));
    std::fs::create_dir_all(tmp.join("jobs")).expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["bench", "--flink", "--events", "100"])
        .current_dir(&tmp)
        .env("WEIR_CONFIG_DIR", tmp.join("config"))
        .output()
        .expect("weir runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bench/flink/setup.sh"), "{stderr}");
    let _ = std::fs::remove_dir_all(&tmp);
}
