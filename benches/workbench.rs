//! The workbench's idle CPU (issue 17: "below 1 %, even with file watching"; issue 14:
//! `:instances` below 1 %), on its real event loop: `weir tui` on a pseudo-terminal
//! (util-linux `script`, 160x50, common/pty.rs), left alone for 10 s on
//! 1. Home of a project holding the shipped example jobs (jobs/ watched for new files);
//! 2. the first example open in the graph editor (its file watched for changes);
//! 3. `:instances` with a few idle instances of an echo job on one `weir worker` and a
//!    Kafka broker (librdkafka's mock cluster) in this process: figures arrive every second.
//!
//! For each: CPU % of a core (from the threads' schedstat, nanoseconds; and from
//! /proc/PID/stat, whole clock ticks, as instances.rs measures it), wake-ups per second
//! (context switches of all its threads) and its busiest threads (/proc,
//! common/procfs.rs). Prints a table and writes it to bench/results/workbench.txt;
//! asserts nothing.
//!
//! Run: `cargo bench --bench workbench --profile dev`. `WEIR_BENCH_PARTS=home,editor`
//! (any of `home`, `editor`, `instances`) runs only those and prints them without writing
//! the results file; `WEIR_BENCH_INSTANCES=20` opens `:instances` on 20 instances.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../tests/common/cli.rs"]
mod cli;
mod common;

use std::time::{Duration, Instant};

use cli::Checkout;
use common::procfs::{busiest, clock_ticks, cpu_seconds, status_kb, thread_cpu, wakeups};
use common::pty::Pty;
use weir_engine::broker::Broker;

/// How long the workbench is left alone and measured.
const WINDOW: Duration = Duration::from_secs(10);
/// Instances on `:instances`.
const INSTANCES: usize = 4;

/// Instances on `:instances`: [`INSTANCES`], or `WEIR_BENCH_INSTANCES`.
fn instance_count() -> usize {
    std::env::var("WEIR_BENCH_INSTANCES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(INSTANCES)
}

/// One idle measurement.
struct Idle {
    /// From the threads' schedstat (nanoseconds).
    cpu: f64,
    /// From /proc/PID/stat (whole clock ticks: coarse over 10 s).
    cpu_ticks: f64,
    wakeups: f64,
    peak_kb: u64,
    threads: String,
}

/// Launches the workbench in `c`, types `keys` after a second, lets it settle for
/// `settle`, then measures it over [`WINDOW`].
fn idle(c: &Checkout, tick: f64, keys: &[u8], settle: Duration) -> Option<Idle> {
    let mut pty = Pty::launch(&c.root, "bob", 160, 50)?;
    std::thread::sleep(Duration::from_secs(1));
    if !keys.is_empty() {
        pty.keys(keys)?;
    }
    std::thread::sleep(settle);
    let pid = pty.pid;
    let (cpu0, woke0, threads0) = (cpu_seconds(pid, tick)?, wakeups(pid), thread_cpu(pid, tick));
    let t0 = Instant::now();
    std::thread::sleep(WINDOW);
    let (cpu1, woke1, threads1) = (cpu_seconds(pid, tick)?, wakeups(pid), thread_cpu(pid, tick));
    let secs = t0.elapsed().as_secs_f64();
    let alive = pty.alive();
    let peak_kb = status_kb(pid, "VmHWM").unwrap_or(0);
    pty.quit();
    if !alive {
        eprintln!("the workbench ended during the measurement");
        return None;
    }
    // threads alive at the end, a thread born in the window from zero; one that ended
    // within the window is missed (none does in an idle workbench: compare the stat column)
    let on_cpu: f64 = threads1
        .iter()
        .map(|(tid, (_, s))| s - threads0.get(tid).map_or(0.0, |t| t.1))
        .sum();
    Some(Idle {
        cpu: on_cpu / secs * 100.0,
        cpu_ticks: (cpu1 - cpu0) / secs * 100.0,
        wakeups: woke1.saturating_sub(woke0) as f64 / secs,
        peak_kb,
        threads: busiest(&threads0, &threads1, secs),
    })
}

/// The parts to run (`WEIR_BENCH_PARTS`), all by default.
fn part(name: &str) -> bool {
    std::env::var("WEIR_BENCH_PARTS")
        .map(|p| p.split(',').any(|x| x.trim() == name))
        .unwrap_or(true)
}

/// Copies the shipped example jobs into the checkout's jobs/.
fn copy_examples(c: &Checkout) {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs");
    for entry in std::fs::read_dir(&shipped).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "ron") {
            std::fs::copy(entry.path(), c.path("jobs").join(entry.file_name())).unwrap();
        }
    }
}

/// Starts [`instance_count`] idle echo instances on a worker; returns the broker (which must
/// outlive the measurement) and the worker's index in the checkout.
fn instances(c: &mut Checkout) -> (Broker, usize) {
    let count = instance_count();
    let broker = Broker::start().unwrap();
    broker.create_topic("idle", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let slots = (count + 2).to_string();
    let (w, _) = c.start_worker("bob", &["--id", "w1", "--slots", &slots]);
    c.write_job(
        "idle.ron",
        &cli::echo_job(
            "idle",
            &bootstrap,
            "idle",
            "Latest",
            &c.path("idle.jsonl"),
            "",
        ),
    );
    let ids: Vec<String> = (0..count)
        .map(|_| {
            let out = c.expect(
                "bob",
                &["instance", "start", "jobs/idle.ron", "--no-worker"],
                0,
            );
            out.lines().next().unwrap_or_default().trim().to_string()
        })
        .collect();
    c.wait_for("the instances running", Duration::from_secs(120), || {
        let list = c.json("bob", &["instance", "list"]);
        let running = list.as_array().map_or(0, |rows| {
            rows.iter()
                .filter(|r| {
                    ids.contains(&r["instance"]["id"].to_string())
                        && r["instance"]["state"] == "running"
                })
                .count()
        });
        (running == count).then_some(())
    });
    // first figures in the store
    std::thread::sleep(Duration::from_secs(3));
    (broker, w)
}

fn main() {
    let all_parts = std::env::var("WEIR_BENCH_PARTS").is_err();
    let tick = clock_ticks();
    let mut c = Checkout::new("bench-workbench");
    copy_examples(&c);
    // a key keeps the loop turning fast for 3 s (crates/tui/src/terminal.rs ACTIVE): measure after
    let settle = Duration::from_millis(4000);
    let mut rows: Vec<(String, Option<Idle>)> = Vec::new();
    if part("home") {
        rows.push((
            "Home, example project (jobs/ watched)".into(),
            idle(&c, tick, b"", settle),
        ));
    }
    if part("editor") {
        // the tree has the focus; Enter opens its first job (clickstream_pv)
        rows.push((
            "graph editor, clickstream_pv open".into(),
            idle(&c, tick, b"\r", settle),
        ));
    }
    if part("instances") {
        let (broker, w) = instances(&mut c);
        rows.push((
            format!(":instances, {} running instances", instance_count()),
            idle(&c, tick, b":instances\r", settle),
        ));
        let worker = c.child(w).id();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &worker.to_string()])
            .status();
        let _ = c.child(w).wait();
        drop(broker);
    }

    let mut lines = vec![
        "# run: cargo bench --bench workbench --profile dev (dev profile, not release); `weir tui` on a pty (script, 160x50), embedded SQLite store; each screen left alone 10 s, from 4 s after its keys; CPU from schedstat, (stat) from clock ticks"
            .to_string(),
        format!(
            "{:<44} {:>16} {:>10} {:>12} {:>9}  {}",
            "workbench idle on", "CPU", "(stat)", "wake-ups/s", "peak RSS", "goal"
        ),
    ];
    for (what, m) in &rows {
        match m {
            Some(m) => {
                lines.push(format!(
                    "{what:<44} {:>16} {:>10} {:>12.1} {:>6.1} MB  < 1 %",
                    format!("{:.2} % of a core", m.cpu),
                    format!("{:.2} %", m.cpu_ticks),
                    m.wakeups,
                    m.peak_kb as f64 / 1024.0
                ));
                lines.push(format!("#   busiest threads: {}", m.threads));
            }
            None => lines.push(format!("{what:<44} {:>16}", "not measured (no `script`?)")),
        }
    }
    if all_parts {
        common::publish("workbench", &lines);
    } else {
        print!("{}", lines.join("\n") + "\n");
    }
}
