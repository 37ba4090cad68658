//! `weir bench` (the Nexmark harness, against Flink with `--flink`) and
//! `weir nexmark gen` (the generator to files or to the project's embedded broker).

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::{Global, exit, fail, print_json};
use weir_bench::{self as bench, BenchRequest, Report, Source, generate};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Queries to run, from bench/nexmark/ (q0, q1, q2, q5, q7).
    #[arg(long, value_name = "LIST", default_value = "q0,q1,q2,q5,q7")]
    pub queries: String,
    /// Events to generate (all kinds; 46 in 50 are bids, the rows the queries read).
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    pub events: u64,
    /// Sources to measure: memory, file, broker.
    #[arg(long, value_name = "LIST", default_value = "memory,file,broker")]
    pub sources: String,
    /// Input rate of the latency runs, events/s (0: no latency runs).
    #[arg(long, value_name = "R", default_value_t = 100_000)]
    pub rate: u64,
    /// Length of each latency run, seconds.
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    pub latency_secs: f64,
    /// Events for the broker source (default: --events, at most 1 000 000: the embedded
    /// broker keeps the topic in memory).
    #[arg(long, value_name = "N")]
    pub broker_events: Option<u64>,
    /// Also run the Flink peer (bench/flink/) and print both side by side.
    #[arg(long)]
    pub flink: bool,
    /// Generator seed.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
    /// Out-of-orderness of the generated event times, ms (below the 4 s watermark bound).
    #[arg(long, value_name = "M", default_value_t = 1000)]
    pub ooo_ms: u64,
    /// Events per second of event time in the generated data.
    #[arg(long, value_name = "R", default_value_t = 100_000)]
    pub event_rate: u64,
    /// Folder of the query jobs.
    #[arg(long, value_name = "DIR", default_value = "bench/nexmark")]
    pub jobs: PathBuf,
    /// Folder for the JSON results.
    #[arg(long, value_name = "DIR", default_value = "bench/results")]
    pub out: PathBuf,
    /// Folder for generated data (default: a folder under the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Internal: run one measurement described by this JSON and print its result.
    #[arg(long, hide = true, value_name = "SPEC")]
    pub one: Option<String>,
}

#[derive(Debug, Args)]
pub struct NexmarkArgs {
    #[command(subcommand)]
    pub command: NexmarkCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GenFormat {
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum NexmarkCommand {
    /// Generate Nexmark events: DIR/{person,auction,bid}.{jsonl,csv}, or bids to the
    /// project's embedded broker (`weir broker`) with --broker.
    Gen(GenArgs),
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Events to generate (1 person, 3 auctions, 46 bids in every 50).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub events: u64,
    #[arg(long, value_enum, default_value = "json")]
    pub format: GenFormat,
    /// Output folder (files).
    #[arg(long, value_name = "DIR", default_value = "nexmark")]
    pub out: PathBuf,
    /// Write the bids as JSON to the embedded broker of this project instead of files.
    #[arg(long)]
    pub broker: bool,
    /// Topic for --broker.
    #[arg(long, value_name = "NAME", default_value = "bid")]
    pub topic: String,
    /// Partitions of the topic for --broker (default: one per 12 000 bids; the embedded
    /// broker keeps at most 5 MiB per partition).
    #[arg(long, value_name = "N")]
    pub partitions: Option<i32>,
    /// Event times move back by up to this many ms (events stay in generation order).
    #[arg(long, value_name = "M", default_value_t = 1000)]
    pub ooo_ms: u64,
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
    /// Events per second of event time.
    #[arg(long, value_name = "R", default_value_t = 100_000)]
    pub event_rate: u64,
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

fn progress_bar(done: u64, total: u64, what: &str) {
    let width = 30usize;
    let filled = if total == 0 {
        width
    } else {
        (done.min(total) as usize * width) / total as usize
    };
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\r\x1b[2K[{}{}] {done}/{total} {what}",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
    let _ = err.flush();
}

pub fn run(global: &Global, args: &BenchArgs) -> i32 {
    if let Some(spec) = &args.one {
        return run_one(spec);
    }
    let mut sources = Vec::new();
    for s in list(&args.sources) {
        match s.as_str() {
            "memory" => sources.push(Source::Memory),
            "file" => sources.push(Source::File),
            "broker" => sources.push(Source::Broker),
            other => {
                eprintln!(
                    "error: --sources: unknown source `{other}` (expected memory, file, broker)"
                );
                return exit::INVALID;
            }
        }
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let root = weir_app::project_root(&cwd);
    if args.flink && bench::flink_python(&root).is_none() {
        eprintln!(
            "error: the Flink peer is not installed ({} is missing).\n  install it with: bash bench/flink/setup.sh   (PyFlink into bench/flink/.venv; Java 17 is needed)\n  then run again: weir bench --flink",
            root.join("bench/flink/.venv/bin/python").display()
        );
        return exit::INVALID;
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot find the weir binary to run measurements: {e}");
            return exit::INVALID;
        }
    };
    let data = args.data.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("weir-nexmark-{}-{}", args.events, args.seed))
    });
    let req = BenchRequest {
        queries: list(&args.queries),
        events: args.events,
        sources,
        rate: args.rate,
        latency_secs: args.latency_secs,
        broker_events: args.broker_events.unwrap_or(args.events.min(1_000_000)),
        seed: args.seed,
        ooo_ms: args.ooo_ms,
        event_rate: args.event_rate,
        jobs: args.jobs.clone(),
        data,
        flink: args.flink,
        root,
        exe,
    };
    let report = match bench::run(&req, &mut progress_bar) {
        Ok(r) => r,
        Err(e) => {
            eprintln!();
            return fail(global, &e);
        }
    };
    eprintln!();
    let command = format!(
        "weir bench {}",
        std::env::args().skip(2).collect::<Vec<_>>().join(" ")
    );
    let mut doc = serde_json::to_value(&report).unwrap_or(Value::Null);
    if let Some(o) = doc.as_object_mut() {
        o.insert("command".into(), json!(command.trim()));
        o.insert("engine".into(), json!("weir"));
        o.insert("weir_version".into(), json!(env!("CARGO_PKG_VERSION")));
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: cannot create {}: {e}", args.out.display());
        return exit::INVALID;
    }
    let write = |name: &str, v: &Value| {
        let path = args.out.join(name);
        let text = serde_json::to_string_pretty(v).unwrap_or_default();
        if let Err(e) = weir_model::fsutil::write_atomic(&path, text + "\n") {
            eprintln!("error: cannot write {}: {e}", path.display());
            false
        } else {
            true
        }
    };
    if !write("nexmark-weir.json", &doc) {
        return exit::INVALID;
    }
    let compare = bench::comparison(&report);
    if args.flink {
        let v = json!({"command": command.trim(), "machine": report.machine, "config": report.config,
            "rows": compare, "flink": report.flink, "failures": report.failures});
        if !write("nexmark-compare.json", &v) {
            return exit::INVALID;
        }
    }
    if global.json {
        if args.flink
            && let Some(o) = doc.as_object_mut()
        {
            o.insert("compare".into(), compare);
        }
        print_json(&doc);
    } else {
        print_table(&report, args.flink, &compare);
    }
    for f in &report.failures {
        eprintln!("failed: {f}");
    }
    if report.failures.is_empty() {
        exit::OK
    } else {
        exit::CHECK_FAILED
    }
}

fn human(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2}M", rate / 1e6)
    } else {
        format!("{:.0}k", rate / 1e3)
    }
}

fn print_table(report: &Report, flink: bool, compare: &Value) {
    outln!(
        "{:<4} {:<8} {:>10} {:>10} {:>9} {:>12} {:>10}",
        "q",
        "source",
        "events",
        "ev/s",
        "rows out",
        "cpu-s/M ev",
        "peak RSS"
    );
    for r in &report.results {
        outln!(
            "{:<4} {:<8} {:>10} {:>10} {:>9} {:>12.3} {:>8} MB",
            r.query,
            r.source,
            r.events,
            human(r.events_per_sec),
            r.rows_out,
            r.cpu_seconds_per_million,
            r.peak_rss_bytes / (1 << 20)
        );
    }
    if !report.latency.is_empty() {
        outln!();
        outln!(
            "{:<4} {:>10} {:>8} {:>9} {:>9} {:>9}",
            "q",
            "rate ev/s",
            "samples",
            "p50 ms",
            "p99 ms",
            "max ms"
        );
        let ms = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
        for r in &report.latency {
            if let Some(l) = &r.latency {
                outln!(
                    "{:<4} {:>10} {:>8} {:>9} {:>9} {:>9}",
                    r.query,
                    l.rate,
                    l.samples,
                    ms(l.p50_ms),
                    ms(l.p99_ms),
                    ms(l.max_ms)
                );
            }
        }
    }
    if flink {
        outln!();
        outln!(
            "{:<4} {:<16} {:>10} {:>10} {:>10} {:>8} {:>8}",
            "q",
            "weir vs flink",
            "weir ev/s",
            "flink p1",
            "flink p2",
            "ratio p1",
            "ratio p2"
        );
        let f = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
        for row in compare.as_array().into_iter().flatten() {
            let rate = |k: &str| f(row, k).map(human).unwrap_or_else(|| "-".into());
            let ratio = |k: &str| {
                f(row, k)
                    .map(|x| format!("{x:.2}x"))
                    .unwrap_or_else(|| "-".into())
            };
            outln!(
                "{:<4} {:<16} {:>10} {:>10} {:>10} {:>8} {:>8}",
                row.get("query").and_then(Value::as_str).unwrap_or(""),
                format!(
                    "{}/{}",
                    row.get("weir_source").and_then(Value::as_str).unwrap_or(""),
                    row.get("flink_source")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                ),
                rate("weir_events_per_sec"),
                rate("flink_p1_events_per_sec"),
                rate("flink_p2_events_per_sec"),
                ratio("ratio_p1"),
                ratio("ratio_p2")
            );
        }
    }
    outln!();
    outln!(
        "events = bid rows consumed; q5/q7 are the TopN formulations (no joins yet); q3 and q8 need joins and are not run."
    );
}

fn run_one(spec: &str) -> i32 {
    let spec: bench::OneSpec = match serde_json::from_str(spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --one: {e}");
            return exit::INVALID;
        }
    };
    match bench::run_one(&spec) {
        Ok(r) => {
            outln!("{}", serde_json::to_string(&r).unwrap_or_default());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::of(&e)
        }
    }
}

pub fn nexmark(global: &Global, args: &NexmarkArgs) -> i32 {
    let NexmarkCommand::Gen(a) = &args.command;
    let req = generate::GenRequest {
        seed: a.seed,
        event_rate: a.event_rate,
        ooo_ms: a.ooo_ms,
        events: a.events,
    };
    let total = a.events;
    let tick = |n: u64| progress_bar(n, total, "events");
    if a.broker {
        let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
        let project = weir_app::project_root(&cwd);
        match generate::to_broker(&req, &project, &a.topic, a.partitions, tick) {
            Ok(p) => {
                eprintln!();
                if global.json {
                    print_json(&json!(p));
                } else {
                    outln!(
                        "{} bids to topic {} ({} partitions) at {}",
                        p.bids,
                        p.topic,
                        p.partitions,
                        p.bootstrap
                    );
                }
                exit::OK
            }
            Err(e) => {
                eprintln!();
                fail(global, &e)
            }
        }
    } else {
        match generate::to_files(&req, &a.out, matches!(a.format, GenFormat::Csv), tick) {
            Ok(w) => {
                eprintln!();
                if global.json {
                    print_json(&json!(w));
                } else {
                    outln!(
                        "{} persons, {} auctions, {} bids in {}",
                        w.persons,
                        w.auctions,
                        w.bids,
                        a.out.display()
                    );
                }
                exit::OK
            }
            Err(e) => {
                eprintln!();
                fail(global, &e)
            }
        }
    }
}
