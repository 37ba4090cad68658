//! What collecting metrics costs Nexmark q0 (issue 14: under 2 % of its throughput).
//!
//! Each measurement is a child `weir bench --one SPEC` (crates/bench), q0 over generated
//! bids from memory and from a JSON-lines file, with metrics collection
//! - on, as a worker collects them for an instance: the counters, the latency samples of
//!   each batch, and once a second a snapshot, the stored figures (JSON) and the
//!   Prometheus text;
//! - off: the counters only (a relaxed add per batch and node; the results are read from
//!   them).
//!
//! On and off alternate, `ROUNDS` times each (the order flips every round), so that a
//! slow moment of the machine hits both; the table gives the medians, the spread and the
//! ratio on / off of events/s and of CPU-seconds per million events. On a busy machine
//! those swing by more than the cost itself, so the collection work is also timed
//! directly, in this process: the latency samples of one q0 batch (8192 bids) and one
//! second's sampling of a three-node pipeline, set against the CPU time q0 spends on a
//! batch and against a core-second. What the lag watcher
//! costs (one `ListOffsets` request a second per source task) does not grow with the
//! input; it is in the idle worker's CPU of bench/results/instances.txt.
//!
//! Prints a table and writes it to bench/results/metrics.txt; asserts nothing.
//!
//! Run: `cargo bench --bench metrics --profile dev`
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use weir_bench::{BenchRequest, OneResult, OneSpec, Source};

/// Runs of each (source, on/off).
const ROUNDS: usize = 7;
/// Generated events per memory run (about 92 % are bids).
const MEMORY_EVENTS: u64 = 10_000_000;
/// Generated events of the file (the default data of `weir bench`, shared with it).
const FILE_EVENTS: u64 = 1_000_000;
const SEED: u64 = 42;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bid file of `weir bench --events FILE_EVENTS`, generated once.
fn bid_file(exe: &Path) -> PathBuf {
    let req = BenchRequest {
        queries: vec!["q0".into()],
        events: FILE_EVENTS,
        sources: vec![Source::File],
        rate: 0,
        latency_secs: 0.0,
        broker_events: 0,
        seed: SEED,
        ooo_ms: 1000,
        event_rate: 100_000,
        jobs: root().join("bench/nexmark"),
        data: std::env::temp_dir().join(format!("weir-nexmark-{FILE_EVENTS}-{SEED}")),
        flink: false,
        root: root(),
        exe: exe.to_path_buf(),
    };
    weir_bench::ensure_data(&req, &mut |_, _, _| {}).unwrap()
}

fn spec(source: Source, file: &Path, metrics: bool) -> OneSpec {
    OneSpec {
        query: "q0".into(),
        job: root().join("bench/nexmark/q0.ron"),
        source,
        events: match source {
            Source::Memory => MEMORY_EVENTS,
            _ => FILE_EVENTS,
        },
        seed: SEED,
        ooo_ms: 1000,
        event_rate: 100_000,
        file: Some(file.to_path_buf()),
        bootstrap: None,
        rate: None,
        latency_secs: 0.0,
        metrics,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `median (min–max)` of `f` over `runs`.
fn spread(runs: &[OneResult], f: fn(&OneResult) -> f64, scale: f64, digits: usize) -> String {
    let v: Vec<f64> = runs.iter().map(|r| f(r) / scale).collect();
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "{:.digits$} ({lo:.digits$}–{hi:.digits$})",
        median(v.clone())
    )
}

/// The collection work timed directly: (µs per batch for the latency samples, µs per
/// sample for a snapshot, its stored figures and the Prometheus text).
fn direct_costs() -> (f64, f64) {
    use std::time::Instant;
    use weir_engine::metrics::Metrics;
    use weir_engine::nexmark::{BidBatches, Config, Generator};
    let g = Generator::new(Config::default());
    let (batch, _) = BidBatches::new(&g, 0..9000, 8192).next().unwrap().unwrap();
    let mut metrics = Metrics::default();
    let source = metrics.node("bid", "KafkaSource");
    let q0 = metrics.node("q0", "Sql");
    let sink = metrics.node("out", "PrintSink");
    for m in [&source, &q0, &sink] {
        m.set_event_time("dateTime");
    }
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        q0.record_latency(std::hint::black_box(&batch));
    }
    let per_batch = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let job = weir::jobfile::check_file(&root().join("bench/nexmark/q0.ron"))
        .job
        .unwrap();
    let started = Instant::now();
    let mut previous = None;
    let samples = 2_000;
    let t = Instant::now();
    for _ in 0..samples {
        let snap = metrics.snapshot(started, previous.as_ref());
        let figures = weir::app::instances::Figures::of(&job, &snap, 0);
        let stored = figures.to_json().to_string();
        let labels = [("instance", "1"), ("job", job.name.as_str())];
        let text = weir_engine::metrics::prometheus_many(&[(&snap, &labels[..])]);
        std::hint::black_box((stored, text));
        previous = Some(snap);
    }
    let per_sample = t.elapsed().as_secs_f64() * 1e6 / samples as f64;
    (per_batch, per_sample)
}

fn main() {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_weir"));
    let file = bid_file(&exe);
    let sources = [Source::Memory, Source::File];
    // (source, on) → runs
    let mut runs: Vec<((Source, bool), Vec<OneResult>)> = sources
        .iter()
        .flat_map(|s| [((*s, true), Vec::new()), ((*s, false), Vec::new())])
        .collect();
    for round in 0..ROUNDS {
        for source in sources {
            let order = if round % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for on in order {
                let r = weir_bench::run_child(&exe, &spec(source, &file, on)).unwrap();
                eprintln!(
                    "round {round}: q0 {} metrics {}: {:.0} events/s",
                    source.name(),
                    if on { "on" } else { "off" },
                    r.events_per_sec
                );
                if let Some((_, v)) = runs.iter_mut().find(|(k, _)| *k == (source, on)) {
                    v.push(r);
                }
            }
        }
    }
    let of = |source: Source, on: bool| -> &Vec<OneResult> {
        &runs.iter().find(|(k, _)| *k == (source, on)).unwrap().1
    };
    let row = |what: &str, value: String, goal: &str| format!("{what:<44} {value:>34}  {goal}");
    let mut lines = vec![
        format!(
            "# run: cargo bench --bench metrics --profile dev (weir-engine at opt-level 3, dependencies 2); each run a child `weir bench --one`, {ROUNDS} runs per line, on and off alternating"
        ),
        format!("# q0 from memory: {MEMORY_EVENTS} events generated per run; from file: bid.jsonl of {FILE_EVENTS} events"),
        "# on: counters, latency samples per batch, and each second a snapshot, the stored figures (JSON) and the Prometheus text; off: counters only".to_string(),
        format!("{:<44} {:>34}  {}", "benchmark", "median (min–max)", "goal"),
    ];
    for source in sources {
        let (on, off) = (of(source, true), of(source, false));
        let eps = |r: &OneResult| r.events_per_sec;
        let cpu = |r: &OneResult| r.cpu_seconds_per_million;
        for (label, runs) in [("on", on), ("off", off)] {
            lines.push(row(
                &format!("q0 {} metrics {label}: M events/s", source.name()),
                spread(runs, eps, 1e6, 3),
                "",
            ));
            lines.push(row(
                &format!("q0 {} metrics {label}: CPU-s per M events", source.name()),
                spread(runs, cpu, 1.0, 3),
                "",
            ));
        }
        let rate_ratio =
            median(on.iter().map(eps).collect()) / median(off.iter().map(eps).collect());
        let cpu_ratio =
            median(on.iter().map(cpu).collect()) / median(off.iter().map(cpu).collect());
        lines.push(row(
            &format!("q0 {}: throughput on / off", source.name()),
            format!(
                "{rate_ratio:.4} (cost {:+.2} %)",
                (1.0 - rate_ratio) * 100.0
            ),
            "cost < 2 %",
        ));
        lines.push(row(
            &format!("q0 {}: CPU per event on / off", source.name()),
            format!("{cpu_ratio:.4} ({:+.2} %)", (cpu_ratio - 1.0) * 100.0),
            "",
        ));
    }
    let (per_batch, per_sample) = direct_costs();
    let off_cpu = median(
        of(Source::Memory, false)
            .iter()
            .map(|r| r.cpu_seconds_per_million)
            .collect(),
    );
    // CPU seconds q0 spends on one batch of 8192 bids from memory (metrics off)
    let batch_us = off_cpu * 8192.0;
    lines.push(row(
        "latency samples of one 8192-row batch",
        format!(
            "{per_batch:.2} µs ({:.3} % of q0's {batch_us:.0} µs)",
            per_batch / batch_us * 100.0
        ),
        "",
    ));
    lines.push(row(
        "one second's sampling (snapshot, figures, text)",
        format!("{per_sample:.1} µs ({:.4} % of a core)", per_sample / 1e4),
        "",
    ));
    lines.push(
        "# the direct costs use the debug build of this benchmark for the figures and text; weir-engine (snapshot, latency) is at opt-level 3"
            .to_string(),
    );
    common::publish("metrics", &lines);
}
