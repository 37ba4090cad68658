//! Figures for instances (issue 14), through the `weir` binary on the embedded SQLite
//! store and a Kafka broker (librdkafka's mock cluster) in this process, with one
//! `weir worker` child:
//! 1. start to first row: `weir instance start` of an echo job (Kafka → SQL projection →
//!    PrintSink to a file) while a producer sends a record every 5 ms; from the command's
//!    launch to the first line in the file, 5 runs (aim: < 500 ms);
//! 2. the idle worker's CPU with 20 small instances on an idle topic (aim: < 2% of a core),
//!    with its busiest thread groups (from /proc/PID/task);
//! 3. figures in the store: the bytes of one sample, `weir instance list --json` with 20
//!    instances, rows written to `instance_metrics` and the growth of weir.db;
//! 4. the workbench's peak RSS and CPU with `:instances` open on the 20 instances
//!    (aims: < 60 MB, < 1 % CPU): the headless driver (`weir tui --script`), and the real
//!    event loop on a pseudo-terminal (`script`, 160x50), which is what a person runs.
//!
//! Prints a table and writes it to bench/results/instances.txt; asserts nothing.
//!
//! Long because it is one sequence of measurements on one worker and its 20 instances,
//! each part a function; the /proc readings are in common/procfs.rs.
//!
//! Run: `cargo bench --bench instances --profile dev`. `WEIR_BENCH_PARTS=idle,workbench`
//! (any of `first`, `idle`, `store`, `workbench`) runs only those parts and prints them
//! without writing the results file; `WEIR_BENCH_THREADS=1` lists the idle worker's
//! busiest threads one by one.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../tests/common/cli.rs"]
mod cli;
mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cli::Checkout;
use common::procfs::{busiest, clock_ticks, cpu_seconds, status_kb, thread_cpu};
use common::pty::Pty;
use weir_engine::broker::Broker;

/// Runs of the start-to-first-row measurement.
const FIRST_ROW_RUNS: usize = 5;
/// Instances of the idle echo job.
const IDLE_INSTANCES: usize = 20;
/// The window of the idle worker's CPU sample.
const CPU_WINDOW: Duration = Duration::from_secs(20);
/// The window of the store's growth.
const GROWTH_WINDOW: Duration = Duration::from_secs(60);

/// The id `weir instance start` prints on its first line.
fn id_of(started: &str) -> String {
    let id = started
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(id.parse::<i64>().is_ok(), "the id first: {started}");
    id
}

/// The state of every instance `weir instance list --json` shows, by id.
fn states(c: &Checkout) -> Vec<(String, String)> {
    let list = c.json("bob", &["instance", "list"]);
    list.as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r["instance"]["id"].to_string(),
                        r["instance"]["state"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A thread producing one record to `topic` every 5 ms until `done`.
fn producer(bootstrap: String, topic: &str, done: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let topic = topic.to_string();
    std::thread::spawn(move || {
        let p: BaseProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("linger.ms", "0")
            .create()
            .unwrap();
        let mut i = 0i64;
        while !done.load(Ordering::Relaxed) {
            let payload = format!(r#"{{"id": {i}, "ts": {}}}"#, 1_000_000 + i);
            // a full queue only delays this record; the next one tries again
            let _ = p.send(BaseRecord::<(), String>::to(&topic).payload(&payload));
            p.poll(Duration::ZERO);
            i += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = p.flush(Duration::from_secs(5));
    })
}

/// Measurement 1: start to first row, `FIRST_ROW_RUNS` times, each a new instance that is
/// stopped afterwards. Returns (start to first row, the start command alone).
fn start_to_first_row(c: &Checkout, bootstrap: &str) -> (Vec<Duration>, Vec<Duration>) {
    let done = Arc::new(AtomicBool::new(false));
    let feeder = producer(bootstrap.to_string(), "live", done.clone());
    std::thread::sleep(Duration::from_millis(500));
    let (mut first_row, mut command) = (Vec::new(), Vec::new());
    for run in 0..FIRST_ROW_RUNS {
        let out = c.path(&format!("first-{run}.jsonl"));
        c.write_job(
            "echo.ron",
            &cli::echo_job("echo", bootstrap, "live", "Latest", &out, ""),
        );
        let t = Instant::now();
        let mut child = c
            .command(
                "bob",
                &["instance", "start", "jobs/echo.ron", "--no-worker"],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = t + Duration::from_secs(60);
        let mut exited = None;
        let row = loop {
            if exited.is_none() && child.try_wait().unwrap().is_some() {
                exited = Some(t.elapsed());
            }
            if std::fs::read_to_string(&out).is_ok_and(|s| s.contains('\n')) {
                break t.elapsed();
            }
            assert!(
                Instant::now() < deadline,
                "no row in {out:?} after 60 s (run {run})"
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        let output = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            output.status.success(),
            "weir instance start: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        first_row.push(row);
        command.push(exited.unwrap_or(row));
        let id = id_of(&text);
        c.expect("bob", &["instance", "stop", &id, "--wait"], 0);
    }
    done.store(true, Ordering::Relaxed);
    feeder.join().unwrap();
    (first_row, command)
}

/// What the store holds at one moment: rows of `instance_metrics`, the logical size
/// (page_count × page_size) and the files' size (weir.db + -wal).
struct StoreSize {
    rows: i64,
    logical: i64,
    files: u64,
}

fn store_size(rt: &tokio::runtime::Runtime, db: &Path) -> StoreSize {
    let files = ["", "-wal"]
        .iter()
        .map(|suffix| {
            let p = PathBuf::from(format!("{}{suffix}", db.display()));
            std::fs::metadata(p).map_or(0, |m| m.len())
        })
        .sum();
    rt.block_on(async {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .read_only(true)
            .connect()
            .await
            .unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM instance_metrics")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let page: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        drop(conn);
        StoreSize {
            rows,
            logical: pages * page,
            files,
        }
    })
}

/// The workbench's figures with `:instances` open: peak RSS (kB), CPU % over the whole run
/// and over its last part (from 1.5 s after the launch), the run's length.
struct Workbench {
    peak_kb: u64,
    /// The peak of RssAnon: heap and stacks, without the binary's code mapped from disk.
    anon_kb: u64,
    cpu_all: f64,
    cpu_steady: f64,
    wall: Duration,
    summary: String,
}

fn workbench(c: &Checkout, tick: f64) -> Workbench {
    let script = c.path("instances.keys");
    std::fs::write(&script, ":instances<Enter>\nwait 5000\n").unwrap();
    let dump = c.path("frames");
    std::fs::create_dir_all(&dump).unwrap();
    let t = Instant::now();
    let mut child = c
        .command(
            "bob",
            &[
                "tui",
                "--script",
                script.to_str().unwrap(),
                "--dump",
                dump.to_str().unwrap(),
                "--size",
                "160x50",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak_kb = 0;
    let mut anon_kb = 0;
    let mut samples: Vec<(Duration, f64)> = Vec::new();
    while child.try_wait().unwrap().is_none() {
        if let Some(kb) = status_kb(pid, "VmHWM") {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(kb) = status_kb(pid, "RssAnon") {
            anon_kb = anon_kb.max(kb);
        }
        if let Some(cpu) = cpu_seconds(pid, tick) {
            samples.push((t.elapsed(), cpu));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = t.elapsed();
    let output = child.wait_with_output().unwrap();
    let summary = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "weir tui --script: {summary}");
    let percent = |from: &(Duration, f64), to: &(Duration, f64)| {
        let secs = (to.0 - from.0).as_secs_f64();
        if secs > 0.0 {
            (to.1 - from.1) / secs * 100.0
        } else {
            0.0
        }
    };
    let last = samples.last().copied().unwrap_or_default();
    let cpu_all = percent(&(Duration::ZERO, 0.0), &last);
    let cpu_steady = samples
        .iter()
        .find(|(at, _)| *at >= Duration::from_millis(1500))
        .map_or(0.0, |from| percent(from, &last));
    Workbench {
        peak_kb,
        anon_kb,
        cpu_all,
        cpu_steady,
        wall,
        summary: summary.lines().last().unwrap_or_default().to_string(),
    }
}

/// The workbench's real event loop on a pseudo-terminal (util-linux `script`, 160x50):
/// `:instances` is typed after the first second, then the CPU of the weir process is
/// sampled over `window`; returns (CPU %, peak RSS kB), or None without `script`.
fn workbench_pty(c: &Checkout, tick: f64, window: Duration) -> Option<(f64, u64)> {
    let mut pty = Pty::launch(&c.root, "bob", 160, 50)?;
    std::thread::sleep(Duration::from_millis(1000));
    pty.keys(b":instances\r")?;
    // let the screen open and read its first full trend
    std::thread::sleep(Duration::from_millis(1500));
    let cpu0 = cpu_seconds(pty.pid, tick)?;
    let t0 = Instant::now();
    std::thread::sleep(window);
    let cpu1 = cpu_seconds(pty.pid, tick)?;
    let pct = (cpu1 - cpu0) / t0.elapsed().as_secs_f64() * 100.0;
    let peak = status_kb(pty.pid, "VmHWM").unwrap_or(0);
    pty.quit();
    Some((pct, peak))
}

/// The parts of the benchmark to run (`WEIR_BENCH_PARTS`), all by default.
fn part(name: &str) -> bool {
    std::env::var("WEIR_BENCH_PARTS")
        .map(|p| p.split(',').any(|x| x.trim() == name))
        .unwrap_or(true)
}

fn main() {
    let all_parts = std::env::var("WEIR_BENCH_PARTS").is_err();
    let mut c = Checkout::new("bench-instances");
    let broker = Broker::start().unwrap();
    broker.create_topic("live", 1).unwrap();
    broker.create_topic("idle", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let tick = clock_ticks();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let slots = (IDLE_INSTANCES + 4).to_string();
    let (w, _) = c.start_worker("bob", &["--id", "w1", "--slots", &slots]);
    let worker_pid = c.child(w).id();

    // 1. start to first row
    let (first_row, command) = if part("first") {
        start_to_first_row(&c, &bootstrap)
    } else {
        (vec![Duration::ZERO], vec![Duration::ZERO])
    };

    // 2. twenty idle instances
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
    let started = Instant::now();
    let ids: Vec<String> = (0..IDLE_INSTANCES)
        .map(|_| {
            id_of(&c.expect(
                "bob",
                &["instance", "start", "jobs/idle.ron", "--no-worker"],
                0,
            ))
        })
        .collect();
    c.wait_for("20 running instances", Duration::from_secs(120), || {
        let s = states(&c);
        ids.iter()
            .all(|id| s.iter().any(|(i, st)| i == id && st == "running"))
            .then_some(())
    });
    let all_running = started.elapsed();
    // let the start-up settle (consumer groups, first figures)
    std::thread::sleep(Duration::from_secs(5));

    let db = c.path(".weir/weir.db");
    let before = store_size(&rt, &db);
    let t0 = Instant::now();
    let cpu0 = cpu_seconds(worker_pid, tick).unwrap();
    let threads0 = thread_cpu(worker_pid, tick);
    let rss0 = status_kb(worker_pid, "VmRSS").unwrap_or(0);
    if part("idle") || part("store") {
        std::thread::sleep(CPU_WINDOW);
    }
    let cpu1 = cpu_seconds(worker_pid, tick).unwrap();
    let threads1 = thread_cpu(worker_pid, tick);
    let cpu_secs = t0.elapsed().as_secs_f64();
    let worker_cpu = (cpu1 - cpu0) / cpu_secs * 100.0;
    let worker_threads = busiest(&threads0, &threads1, cpu_secs);
    let thread_count = threads1.len();
    // CPU of threads that ended within the window: the process's minus its live threads'
    let live: f64 = threads1
        .iter()
        .map(|(tid, (_, cpu))| cpu - threads0.get(tid).map_or(0.0, |b| b.1))
        .sum();
    let ended_pct = ((cpu1 - cpu0) - live).max(0.0) / cpu_secs * 100.0;
    let born = threads1
        .keys()
        .filter(|t| !threads0.contains_key(t))
        .count();
    if std::env::var("WEIR_BENCH_THREADS").is_ok() {
        let mut each: Vec<(f64, &str, u32)> = threads1
            .iter()
            .map(|(tid, (name, cpu))| {
                let was = threads0.get(tid).map_or(0.0, |b| b.1);
                ((cpu - was) / cpu_secs * 100.0, name.as_str(), *tid)
            })
            .collect();
        each.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (pct, name, tid) in each.iter().take(40) {
            eprintln!("thread {tid} {name}: {pct:.3} %");
        }
    }
    let rows_cpu = store_size(&rt, &db).rows;

    // 3. figures in the store (reads while the worker writes)
    let line: serde_json::Value = {
        let out = c.weir("bob", &["top", &ids[0], "--json", "--count", "1"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let sample_bytes = serde_json::to_string(&line["figures"]).unwrap().len();
    let mut list_times = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let list = c.json("bob", &["instance", "list"]);
        list_times.push(t.elapsed());
        assert_eq!(
            list.as_array().map(Vec::len),
            Some(IDLE_INSTANCES),
            "{list}"
        );
    }
    let remaining = GROWTH_WINDOW.saturating_sub(t0.elapsed());
    if part("store") {
        std::thread::sleep(remaining);
    }
    let after = store_size(&rt, &db);
    let window = t0.elapsed().as_secs_f64();
    let rss1 = status_kb(worker_pid, "VmRSS").unwrap_or(0);

    // 4. the workbench on the 20 instances: headless, then on a pseudo-terminal
    let wb = workbench(&c, tick);
    let pty = if part("workbench") {
        workbench_pty(&c, tick, Duration::from_secs(10))
    } else {
        None
    };

    // stop everything: the instances, then the worker (SIGTERM: it hands back cleanly)
    for id in &ids {
        c.expect("bob", &["instance", "stop", id], 0);
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &worker_pid.to_string()])
        .status();
    let _ = c.child(w).wait();

    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
    let min_med_max = |v: &[Duration]| {
        let mut s = v.to_vec();
        s.sort();
        format!(
            "{} / {} / {}",
            ms(s[0]),
            ms(common::median(s.clone())),
            ms(s[s.len() - 1])
        )
    };
    let rows_per_s = (after.rows - before.rows) as f64 / window;
    let mb_per_hour = |bytes: f64| bytes / window * 3600.0 / 1e6;
    let row = |what: &str, value: String, goal: &str| format!("{what:<58} {value:>26}  {goal}");
    let lines = vec![
        "# run: cargo bench --bench instances --profile dev (dev profile, not release); embedded SQLite store, librdkafka mock broker in the bench process"
            .to_string(),
        format!("{:<58} {:>26}  {}", "benchmark", "value", "goal"),
        row(
            &format!("start to first row, {FIRST_ROW_RUNS} runs (min / median / max)"),
            min_med_max(&first_row),
            "< 500 ms",
        ),
        row(
            "  `weir instance start` command alone (min / median / max)",
            min_med_max(&command),
            "",
        ),
        row(
            &format!("{IDLE_INSTANCES} instances started until all running"),
            ms(all_running),
            "",
        ),
        row(
            &format!(
                "idle worker CPU, {IDLE_INSTANCES} instances, {}s",
                CPU_WINDOW.as_secs()
            ),
            format!("{worker_cpu:.2} % of a core"),
            "< 2 %",
        ),
        format!("#   its {thread_count} threads ({born} born in the window; threads that ended used {ended_pct:.2} %), busiest: {worker_threads}"),
        row(
            "idle worker RSS (start / end of the window)",
            format!(
                "{:.1} / {:.1} MB",
                rss0 as f64 / 1024.0,
                rss1 as f64 / 1024.0
            ),
            "",
        ),
        row(
            "one stored sample (`weir top --json` figures)",
            format!("{sample_bytes} bytes"),
            "",
        ),
        row(
            &format!("weir instance list --json, {IDLE_INSTANCES} instances (median)"),
            ms(common::median(list_times.clone())),
            "",
        ),
        row(
            &format!(
                "instance_metrics rows after {}s / {window:.0}s",
                CPU_WINDOW.as_secs()
            ),
            format!("{} / {}", rows_cpu - before.rows, after.rows - before.rows),
            "",
        ),
        row(
            "instance_metrics rows per second",
            format!("{rows_per_s:.1}"),
            "",
        ),
        row(
            &format!("weir.db logical growth (page_count), {window:.0}s"),
            format!(
                "{:.2} MB/hour",
                mb_per_hour((after.logical - before.logical) as f64)
            ),
            "",
        ),
        row(
            &format!("weir.db + -wal files growth, {window:.0}s"),
            format!(
                "{:.2} MB/hour",
                mb_per_hour(after.files as f64 - before.files as f64)
            ),
            "",
        ),
        row(
            "weir.db size at the end (logical / files)",
            format!(
                "{:.2} / {:.2} MB",
                after.logical as f64 / 1e6,
                after.files as f64 / 1e6
            ),
            "",
        ),
        row(
            &format!("workbench peak RSS (VmHWM), :instances, {IDLE_INSTANCES} instances"),
            format!("{:.1} MB", wb.peak_kb as f64 / 1024.0),
            "< 60 MB",
        ),
        row(
            "  of it anonymous (heap, stacks; not code pages)",
            format!("{:.1} MB", wb.anon_kb as f64 / 1024.0),
            "",
        ),
        row(
            "workbench CPU (whole run / from 1.5 s on)",
            format!("{:.1} / {:.1} %", wb.cpu_all, wb.cpu_steady),
            "",
        ),
        row("workbench run (script: wait 5000)", ms(wb.wall), ""),
        format!("# workbench: {}", wb.summary.trim()),
        row(
            "workbench on a terminal (pty 160x50), :instances, 10 s",
            pty.map_or("no `script` here".to_string(), |(pct, _)| {
                format!("{pct:.2} % of a core")
            }),
            "< 1 %",
        ),
        row(
            "  its peak RSS (VmHWM)",
            pty.map_or("-".to_string(), |(_, kb)| format!("{:.1} MB", kb as f64 / 1024.0)),
            "< 60 MB",
        ),
    ];
    if all_parts {
        common::publish("instances", &lines);
    } else {
        print!("{}", lines.join("\n") + "\n");
    }
    drop(broker);
}
