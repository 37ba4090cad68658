//! `weir bench`: the Nexmark queries of bench/nexmark/ over generated bids, from memory,
//! from files and from the embedded broker, each measurement in a child process of the
//! weir binary (`weir bench --one SPEC`) so that its peak RSS and CPU time are its own;
//! optionally the Flink peer of bench/flink/ over the same file and its datagen.
//!
//! What is measured:
//! - events = the bid rows the query consumed; events/s = events / wall seconds of the run
//!   in the child (memory: including generation on its own thread; file: reading and JSON
//!   decoding; broker: pipeline start-up and consumer group join included);
//! - CPU-seconds per million events: user + system time of the child over the run;
//! - peak RSS: VmHWM of the child at the end of the run;
//! - latency at a fixed input rate (memory source, paced): the generator emits each
//!   millisecond's events at t0 + k ms with event time base + k ms, and records the instant
//!   it hands that batch to the operator. For a stateless query (q0–q2) a sample is the
//!   time from that instant until the sink receives the watermark that follows the batch's
//!   results out of the operator (so every row of the batch has left by then). For a
//!   windowed query (q5, q7) a sample is, per result row, the time from the emission of
//!   the first event at or after window_end + the 4 s watermark bound (the event whose
//!   watermark fires the window) until the sink receives the row. The watermark bound
//!   itself is thus not counted; windows flushed at the end of input are not sampled.

mod collect;
pub mod generate;
pub mod one;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;
use serde_json::{Value, json};
use weir_engine::nexmark::{Config, FileFormat, Generator};

pub use one::{Latency, OneResult, OneSpec, Source, run_one};

use weir_app::AppError;

/// Records per partition of the embedded broker's topic: the mock broker keeps at most
/// 5 MiB per partition (ARCHITECTURE), a bid is ~250 bytes of JSON.
pub const BROKER_RECORDS_PER_PARTITION: u64 = 12_000;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchRequest {
    pub queries: Vec<String>,
    /// Generated events (all kinds; ~92 % are bids).
    pub events: u64,
    pub sources: Vec<Source>,
    /// Paced input rate of the latency runs (0: no latency runs).
    pub rate: u64,
    pub latency_secs: f64,
    /// Events for the broker source (the mock broker holds the topic in memory).
    pub broker_events: u64,
    pub seed: u64,
    pub ooo_ms: u64,
    pub event_rate: u64,
    /// Folder of the query jobs (qN.ron).
    pub jobs: PathBuf,
    /// Folder for generated data.
    pub data: PathBuf,
    pub flink: bool,
    /// The repository root (bench/flink/ is under it).
    pub root: PathBuf,
    /// The weir binary for the children.
    pub exe: PathBuf,
}

/// One Flink run, as bench/flink/run_flink.py printed it.
#[derive(Debug, Clone, Serialize)]
pub struct FlinkRun {
    pub query: String,
    pub source: String,
    pub parallelism: u32,
    pub result: Value,
}

/// Everything a bench run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Value,
    pub config: Value,
    pub results: Vec<OneResult>,
    pub latency: Vec<OneResult>,
    pub flink: Vec<FlinkRun>,
    /// Problems that did not stop the run (a failed child, a failed Flink job).
    pub failures: Vec<String>,
}

/// Facts of this machine: cores, CPU model, memory.
pub fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu": model,
        "ram_bytes": mem_kb * 1024,
        "profile": if cfg!(debug_assertions) { "dev (weir-engine opt-level 3, dependencies opt-level 2, weir crate unoptimised)" } else { "release" },
    })
}

/// The bids among events 0..events (46 of every 50).
pub fn bids_in(events: u64) -> u64 {
    (events / 50) * 46 + (0..events % 50).filter(|o| *o >= 4).count() as u64
}

/// Progress of a bench run: (done, total, what is running now).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64, &str);

/// Writes the bid file for `req` unless the same one is there (a stamp file records
/// the parameters). Returns the path of bid.jsonl.
pub fn ensure_data(req: &BenchRequest, progress: Progress) -> Result<PathBuf, AppError> {
    let stamp = format!(
        "events={} seed={} ooo_ms={} event_rate={} format=json v1\n",
        req.events, req.seed, req.ooo_ms, req.event_rate
    );
    let stamp_file = req.data.join("STAMP");
    let bid = req.data.join("bid.jsonl");
    if bid.exists() && std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(&stamp) {
        return Ok(bid);
    }
    let g = Generator::new(config(req));
    let total = req.events;
    weir_engine::nexmark::write_files(&g, req.events, &req.data, FileFormat::Json, |n| {
        progress(n, total, "generating files")
    })
    .map_err(|e| AppError::User(e.to_string()))?;
    weir_model::fsutil::write_atomic(&stamp_file, stamp)
        .map_err(|e| AppError::io(format!("cannot write {}", stamp_file.display()), e))?;
    Ok(bid)
}

fn config(req: &BenchRequest) -> Config {
    Config {
        seed: req.seed,
        event_rate: req.event_rate,
        ooo_ms: req.ooo_ms,
        ..Config::default()
    }
}

/// Runs one measurement in a child process and reads its JSON line.
pub fn run_child(exe: &Path, spec: &OneSpec) -> Result<OneResult, AppError> {
    let arg = serde_json::to_string(spec).map_err(|e| AppError::User(e.to_string()))?;
    let out = Command::new(exe)
        .args(["bench", "--one", &arg])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| AppError::io(format!("cannot run {}", exe.display()), e))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(AppError::User(format!(
            "{} from {}: {} ({})",
            spec.query,
            spec.source.name(),
            String::from_utf8_lossy(&out.stderr).trim(),
            out.status
        )));
    }
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).map_err(|e| {
        AppError::User(format!(
            "{} from {}: unreadable result `{line}`: {e}",
            spec.query,
            spec.source.name()
        ))
    })
}

/// The Flink peer's python, when set up.
pub fn flink_python(root: &Path) -> Option<PathBuf> {
    let py = root.join("bench/flink/.venv/bin/python");
    let script = root.join("bench/flink/run_flink.py");
    (py.exists() && script.exists()).then_some(py)
}

/// Runs the Flink peer once: one JSON line on stdout.
pub fn run_flink(
    root: &Path,
    query: &str,
    source: &str,
    parallelism: u32,
) -> Result<Value, AppError> {
    let py = flink_python(root).ok_or_else(|| {
        AppError::User("the Flink peer is not installed; run bench/flink/setup.sh".into())
    })?;
    let mut child = Command::new(py)
        .arg(root.join("bench/flink/run_flink.py"))
        .args(["--query", query, "--source", source, "--parallelism"])
        .arg(parallelism.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| AppError::io("cannot run bench/flink/run_flink.py", e))?;
    let mut last = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.trim_start().starts_with('{') {
                last = line;
            }
        }
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    let status = child
        .wait()
        .map_err(|e| AppError::io("waiting for run_flink.py", e))?;
    if !status.success() || last.is_empty() {
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(AppError::User(format!(
            "flink {query} {source} p{parallelism}: {status}: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    serde_json::from_str(&last)
        .map_err(|e| AppError::User(format!("flink {query}: unreadable result `{last}`: {e}")))
}

/// Runs everything `req` asks for.
pub fn run(req: &BenchRequest, progress: Progress) -> Result<Report, AppError> {
    let mut failures = Vec::new();
    for q in &req.queries {
        let job = req.jobs.join(format!("{q}.ron"));
        if !job.exists() {
            return Err(AppError::User(format!(
                "no job for query {q}: {} is missing (queries: q0, q1, q2, q5, q7)",
                job.display()
            )));
        }
    }
    let need_file = req.sources.contains(&Source::File) || req.flink;
    let file = if need_file {
        Some(ensure_data(req, progress)?)
    } else {
        None
    };
    let flink_steps = if req.flink { req.queries.len() * 4 } else { 0 };
    let latency_steps = if req.rate > 0 { req.queries.len() } else { 0 };
    let total = (req.queries.len() * req.sources.len() + latency_steps + flink_steps) as u64;
    let mut done = 0u64;
    // the broker lives in this process; children reach it over TCP
    let mut broker = None;
    let mut bootstrap = None;
    if req.sources.contains(&Source::Broker) {
        progress(done, total, "embedded broker: producing bids");
        let b = weir_engine::broker::Broker::start().map_err(|e| AppError::User(e.to_string()))?;
        let bids = bids_in(req.broker_events);
        let partitions = bids.div_ceil(BROKER_RECORDS_PER_PARTITION).max(1) as i32;
        b.create_topic("bid", partitions)
            .map_err(|e| AppError::User(e.to_string()))?;
        let g = Generator::new(config(req));
        weir_engine::nexmark::produce_bids(
            &g,
            req.broker_events,
            &b.bootstrap_servers(),
            "bid",
            partitions,
            |_| {},
        )
        .map_err(|e| AppError::User(e.to_string()))?;
        bootstrap = Some(b.bootstrap_servers());
        broker = Some(b);
    }
    let spec = |q: &str, source: Source| OneSpec {
        query: q.to_string(),
        job: req.jobs.join(format!("{q}.ron")),
        source,
        events: if source == Source::Broker {
            req.broker_events
        } else {
            req.events
        },
        seed: req.seed,
        ooo_ms: req.ooo_ms,
        event_rate: req.event_rate,
        file: file.clone(),
        bootstrap: bootstrap.clone(),
        rate: None,
        latency_secs: req.latency_secs,
        metrics: true,
    };
    let mut results = Vec::new();
    for q in &req.queries {
        for s in &req.sources {
            progress(done, total, &format!("{q} from {}", s.name()));
            match run_child(&req.exe, &spec(q, *s)) {
                Ok(r) => results.push(r),
                Err(e) => failures.push(e.to_string()),
            }
            done += 1;
        }
    }
    drop(broker);
    let mut latency = Vec::new();
    if req.rate > 0 {
        for q in &req.queries {
            progress(done, total, &format!("{q} latency at {} ev/s", req.rate));
            let mut s = spec(q, Source::Memory);
            s.rate = Some(req.rate);
            match run_child(&req.exe, &s) {
                Ok(r) => latency.push(r),
                Err(e) => failures.push(e.to_string()),
            }
            done += 1;
        }
    }
    let mut flink = Vec::new();
    if req.flink {
        let bids = bids_in(req.events);
        for q in &req.queries {
            for p in [1u32, 2] {
                let file_arg = file
                    .as_ref()
                    .map(|f| format!("file:{}", f.display()))
                    .unwrap_or_default();
                for (name, arg) in [("file", file_arg), ("datagen", format!("datagen:{bids}"))] {
                    progress(done, total, &format!("flink {q} {name} p{p}"));
                    match run_flink(&req.root, q, &arg, p) {
                        Ok(v) => flink.push(FlinkRun {
                            query: q.clone(),
                            source: name.to_string(),
                            parallelism: p,
                            result: v,
                        }),
                        Err(e) => failures.push(e.to_string()),
                    }
                    done += 1;
                }
            }
        }
    }
    progress(total, total, "done");
    Ok(Report {
        machine: machine(),
        config: json!({
            "queries": req.queries,
            "events_generated": req.events,
            "bids": bids_in(req.events),
            "broker_events_generated": req.broker_events,
            "broker_bids": bids_in(req.broker_events),
            "sources": req.sources.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "latency_rate": req.rate,
            "latency_secs": req.latency_secs,
            "seed": req.seed,
            "ooo_ms": req.ooo_ms,
            "event_rate": req.event_rate,
            "watermark_ms": one::WATERMARK_MS,
            "batch_rows": 8192,
        }),
        results,
        latency,
        flink,
        failures,
    })
}

/// Events/s of Flink for (query, source, parallelism), if measured.
pub fn flink_rate(report: &Report, query: &str, source: &str, p: u32) -> Option<f64> {
    report
        .flink
        .iter()
        .find(|f| f.query == query && f.source == source && f.parallelism == p)
        .and_then(|f| f.result.get("events_per_sec").and_then(Value::as_f64))
}

/// weir and Flink side by side: per query, weir memory vs Flink datagen and weir file vs
/// Flink file, with the ratio weir/Flink at parallelism 1 and 2.
pub fn comparison(report: &Report) -> Value {
    let weir = |q: &str, s: &str| {
        report
            .results
            .iter()
            .find(|r| r.query == q && r.source == s)
            .map(|r| r.events_per_sec)
    };
    let mut rows = Vec::new();
    let queries: Vec<String> = report
        .results
        .iter()
        .map(|r| r.query.clone())
        .chain(report.flink.iter().map(|f| f.query.clone()))
        .fold(Vec::new(), |mut v, q| {
            if !v.contains(&q) {
                v.push(q);
            }
            v
        });
    for q in &queries {
        for (ws, fs) in [("memory", "datagen"), ("file", "file")] {
            let w = weir(q, ws);
            let f1 = flink_rate(report, q, fs, 1);
            let f2 = flink_rate(report, q, fs, 2);
            let ratio = |w: Option<f64>, f: Option<f64>| match (w, f) {
                (Some(w), Some(f)) if f > 0.0 => Some(w / f),
                _ => None,
            };
            rows.push(json!({
                "query": q, "weir_source": ws, "flink_source": fs,
                "weir_events_per_sec": w,
                "flink_p1_events_per_sec": f1, "flink_p2_events_per_sec": f2,
                "ratio_p1": ratio(w, f1), "ratio_p2": ratio(w, f2),
            }));
        }
    }
    Value::Array(rows)
}
