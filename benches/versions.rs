//! Figures for job versions: `weir job versions` (the app call the CLI and `:versions`
//! make) on a job with 1,000 versions on the embedded SQLite store (aim: < 50 ms), and
//! the whole `weir job versions --json` process for comparison. Prints a table and writes
//! it to bench/results/versions.txt; asserts nothing.
//!
//! Run: `cargo bench --bench versions`
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use weir::app::governance::{Governance, ProjectRole};
use weir::app::jobs::content_hash;
use weir_store::{NewVersion, Validation};

const VERSIONS: usize = 1_000;

fn main() {
    let dir = std::env::temp_dir().join(format!("weir-bench-versions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::create_dir_all(dir.join(".weir")).unwrap();
    std::fs::write(dir.join(".weir/project"), "shop\n").unwrap();
    let db = dir.join(".weir/weir.db");
    let url = format!("sqlite://{}", db.display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let filled = Instant::now();
    rt.block_on(async {
        let root = Governance::open(&url, "root").await.unwrap();
        root.create_project("shop", "").await.unwrap();
        root.add_user("bob", "Bob", &[]).await.unwrap();
        root.add_member("shop", "bob", ProjectRole::Developer)
            .await
            .unwrap();
        root.closer().close().await;
        let store = weir_store::Store::open(&url).await.unwrap();
        let bob = store.session("bob").await.unwrap();
        for i in 0..VERSIONS {
            let text = format!("Job(version: 1, name: \"pv\", description: \"rev {i}\")\n");
            let new = NewVersion {
                hash: content_hash(&text),
                text,
                message: format!("change {i}"),
                validation: Validation {
                    passed: true,
                    report: "valid".into(),
                },
                test: None,
            };
            bob.submit_version("shop/pv", &new).await.unwrap();
        }
        store.close().await;
    });
    let filled = filled.elapsed();

    let (app_median, app_max) = rt.block_on(async {
        let bob = Governance::open(&url, "bob").await.unwrap();
        let mut samples = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            let vs = bob.job_versions("shop/pv").await.unwrap();
            samples.push(t.elapsed());
            assert_eq!(vs.len(), VERSIONS);
        }
        bob.closer().close().await;
        let max = samples.iter().copied().max().unwrap_or_default();
        (common::median(samples), max)
    });

    let exe = env!("CARGO_BIN_EXE_weir");
    let mut process = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = std::process::Command::new(exe)
            .args(["job", "versions", "pv", "--json"])
            .current_dir(&dir)
            .env("WEIR_USER", "bob")
            .env_remove("WEIR_DATABASE_URL")
            .env_remove("WEIR_STORE")
            .env_remove("WEIR_PROJECT")
            .output()
            .unwrap();
        process.push(t.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    let lines = vec![
        format!("{:<52} {:>12} {:>12}", "benchmark", "median", "max"),
        format!(
            "{:<52} {:>12} {:>12}",
            format!("job_versions on {VERSIONS} versions (SQLite, app)"),
            ms(app_median),
            ms(app_max)
        ),
        format!(
            "{:<52} {:>12}",
            "weir job versions --json (whole process)",
            ms(common::median(process))
        ),
        format!(
            "{:<52} {:>12}",
            format!("submitting {VERSIONS} versions (set-up)"),
            ms(filled)
        ),
    ];
    common::publish("versions", &lines);
    let _ = std::fs::remove_dir_all(&dir);
}
