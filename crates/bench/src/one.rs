//! One measurement, in the process that runs it (a child `weir bench --one SPEC` of the
//! harness, so that peak RSS and CPU time belong to this query and source alone).
//!
//! - memory: the generator builds Arrow batches of bids on a thread of its own (generation
//!   is part of the cost, as for Flink's datagen), watermark = newest time − 4 s;
//! - file: `bid.jsonl` read line by line into the engine's source emitter (JSON decode to
//!   Arrow, watermark tracker, late-record filter), as a Kafka source task does;
//! - broker: the query's job run by the engine's pipeline against the embedded broker
//!   (bounded: it stops at the end the topic had at start; includes consumer start-up);
//! - latency: the memory source paced to `rate` events/s (see `mod.rs` for the definition).
//!
//! Metrics are collected as on a worker (`OneSpec::metrics`, on by default): the latency
//! samples of each batch, and once a second the snapshot, the stored figures (JSON) and
//! the Prometheus text of the run. Off, only the counters are kept, which the results are
//! read from; `cargo bench --bench metrics` compares the two.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, TimestampMillisecondType};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use weir_engine::channel::{Envelope, Msg, Output, Outputs};
use weir_engine::metrics::{Metrics, NodeMetrics};

use crate::collect::{node_ids, sampler, sql_metrics};
use weir_engine::nexmark::{BidBatches, Config, Generator, bid_schema};
use weir_engine::operator::Operator;
use weir_engine::sql::InputTable;
use weir_model::model::{Job, Node};

use weir_app::AppError;

/// The watermark bound of the Nexmark jobs (`watermark_ms` of bench/nexmark/*.ron).
pub const WATERMARK_MS: i64 = 4000;
const BATCH: usize = 8192;

/// Where the bids come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Memory,
    File,
    Broker,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Memory => "memory",
            Source::File => "file",
            Source::Broker => "broker",
        }
    }
}

/// What one child measures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OneSpec {
    pub query: String,
    pub job: PathBuf,
    pub source: Source,
    /// Generated events (all kinds); the bids among them are what the query reads.
    pub events: u64,
    pub seed: u64,
    pub ooo_ms: u64,
    pub event_rate: u64,
    /// `bid.jsonl` for the file source.
    pub file: Option<PathBuf>,
    /// Bootstrap address for the broker source.
    pub bootstrap: Option<String>,
    /// Latency mode: pace the memory source at this many events/s for `latency_secs`.
    pub rate: Option<u64>,
    pub latency_secs: f64,
    /// Collect metrics as a worker does (default); false keeps the counters only.
    #[serde(default = "collect_by_default")]
    pub metrics: bool,
}

fn collect_by_default() -> bool {
    true
}

/// Latency percentiles over the samples of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Latency {
    pub rate: u64,
    pub samples: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// What a sample is for this query.
    pub sample: String,
}

/// What one child measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OneResult {
    pub query: String,
    pub source: String,
    /// Bid rows the query consumed.
    pub events: u64,
    pub rows_out: u64,
    pub late: u64,
    pub seconds: f64,
    pub events_per_sec: f64,
    pub cpu_seconds: f64,
    pub cpu_seconds_per_million: f64,
    pub peak_rss_bytes: u64,
    pub latency: Option<Latency>,
}

fn engine(e: weir_engine::EngineError) -> AppError {
    AppError::User(e.to_string())
}

/// CPU seconds (user + system, all threads) of this process, from /proc/self/stat
/// (clock ticks of 1/100 s, the fixed USER_HZ of Linux's /proc).
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // fields after the command name, which is in parentheses and may hold spaces
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ")"
    let tick = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    (tick(11) + tick(12)) as f64 / 100.0
}

/// Peak resident set size of this process (VmHWM of /proc/self/status), bytes.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// The job's SQL operator: (source id, query text).
fn sql_of(job: &Job) -> Result<(String, String), AppError> {
    let src = job
        .nodes
        .iter()
        .find_map(|n| match n {
            Node::KafkaSource(s) => Some(s.id.clone()),
            _ => None,
        })
        .ok_or_else(|| AppError::User(format!("{}: the job has no KafkaSource", job.name)))?;
    let q = job
        .nodes
        .iter()
        .find_map(|n| match n {
            Node::Sql(s) => Some(s.query.clone()),
            _ => None,
        })
        .ok_or_else(|| AppError::User(format!("{}: the job has no Sql operator", job.name)))?;
    Ok((src, q))
}

fn operator(job: &Job) -> Result<Box<dyn Operator>, AppError> {
    let (src, query) = sql_of(job)?;
    let input = InputTable {
        name: src,
        schema: bid_schema(),
        event_time: Some("dateTime".into()),
    };
    weir_engine::sql::plan(&job.name, &query, &[input]).map_err(engine)
}

/// Runs one measurement in this process.
pub fn run_one(spec: &OneSpec) -> Result<OneResult, AppError> {
    let job = weir_app::engine::load_job(&spec.job)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::io("cannot start the async runtime", e))?;
    weir_engine::metrics::set_collecting(spec.metrics);
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let (events, rows_out, late, latency) = match (spec.source, spec.rate) {
        (Source::Memory, Some(rate)) => rt.block_on(paced(spec, &job, rate))?,
        (Source::Memory, None) => rt.block_on(memory(spec, &job))?,
        (Source::File, _) => rt.block_on(file(spec, &job))?,
        (Source::Broker, _) => rt.block_on(broker(spec, &job))?,
    };
    let seconds = start.elapsed().as_secs_f64();
    let cpu = (cpu_seconds() - cpu0).max(0.0);
    Ok(OneResult {
        query: spec.query.clone(),
        source: match spec.rate {
            Some(_) => format!("{}-paced", spec.source.name()),
            None => spec.source.name().to_string(),
        },
        events,
        rows_out,
        late,
        seconds,
        events_per_sec: events as f64 / seconds.max(1e-9),
        cpu_seconds: cpu,
        cpu_seconds_per_million: if events > 0 {
            cpu * 1e6 / events as f64
        } else {
            0.0
        },
        peak_rss_bytes: peak_rss_bytes(),
        latency,
    })
}

type Counts = (u64, u64, u64, Option<Latency>);

/// Operator task + a sink counting rows; returns (input sender, sink handle, op handle, late).
struct Harness {
    tx: mpsc::Sender<Envelope>,
    sink: tokio::task::JoinHandle<SinkOut>,
    op: tokio::task::JoinHandle<weir_engine::error::Result<()>>,
    metrics: Arc<NodeMetrics>,
}

#[derive(Default)]
struct SinkOut {
    rows: u64,
    samples: Vec<u64>,
}

/// How the sink turns what it receives into latency samples (µs).
#[derive(Clone)]
struct Probe {
    t0: Instant,
    /// Emission instant (ns since t0, +1; 0 = not emitted) of each millisecond of event
    /// time since `base_ms`.
    emitted: Arc<Vec<AtomicU64>>,
    base_ms: i64,
    /// Windowed query: rows carry `window_end`; a row is due with the first event at or
    /// after window_end + the watermark bound. Otherwise: the watermark that follows a
    /// millisecond's batch through the operator.
    window_end: bool,
}

impl Probe {
    fn sample(&self, ms: i64, out: &mut Vec<u64>) {
        let k = ms - self.base_ms;
        if k < 0 {
            return;
        }
        let Some(slot) = self.emitted.get(k as usize) else {
            return;
        };
        let at = slot.load(Relaxed);
        if at == 0 {
            return;
        }
        let now = self.t0.elapsed().as_nanos() as u64 + 1;
        out.push(now.saturating_sub(at) / 1000);
    }
}

fn harness(op: Box<dyn Operator>, probe: Option<Probe>, metrics: Arc<NodeMetrics>) -> Harness {
    let (tx, rx) = mpsc::channel::<Envelope>(16);
    let (otx, mut orx) = mpsc::channel::<Envelope>(16);
    let op = tokio::spawn(weir_engine::pipeline::run_operator(
        op,
        rx,
        1,
        Outputs(vec![Output {
            tx: otx,
            input: 0,
            slot: 0,
        }]),
        metrics.clone(),
        None,
    ));
    let sink = tokio::spawn(async move {
        let mut out = SinkOut::default();
        while let Some(e) = orx.recv().await {
            match e.msg {
                Msg::Batch(_, b) => {
                    out.rows += b.num_rows() as u64;
                    if let Some(p) = &probe
                        && p.window_end
                        && let Some(col) = b.column_by_name("window_end")
                        && let DataType::Timestamp(..) = col.data_type()
                    {
                        let ends = col.as_primitive::<TimestampMillisecondType>();
                        for i in 0..ends.len() {
                            if ends.is_valid(i) {
                                p.sample(ends.value(i) + WATERMARK_MS, &mut out.samples);
                            }
                        }
                    }
                }
                Msg::Watermark(w) => {
                    if let Some(p) = &probe
                        && !p.window_end
                        && w < i64::MAX
                    {
                        p.sample(w + WATERMARK_MS, &mut out.samples);
                    }
                }
                Msg::End => break,
                Msg::Mark(_) | Msg::Origin(_) | Msg::Barrier(_) | Msg::Status(_) => {}
            }
        }
        out
    });
    Harness {
        tx,
        sink,
        op,
        metrics,
    }
}

async fn finish(h: Harness) -> Result<(SinkOut, u64), AppError> {
    drop(h.tx);
    let sink = h
        .sink
        .await
        .map_err(|e| AppError::User(format!("bench sink task failed: {e}")))?;
    h.op.await
        .map_err(|e| AppError::User(format!("operator task failed: {e}")))?
        .map_err(engine)?;
    Ok((sink, h.metrics.late.load(Relaxed)))
}

fn generator(spec: &OneSpec, event_rate: u64, ooo_ms: u64) -> Generator {
    Generator::new(Config {
        seed: spec.seed,
        event_rate,
        ooo_ms,
        ..Config::default()
    })
}

fn send(tx: &mpsc::Sender<Envelope>, msg: Msg) -> Result<(), AppError> {
    tx.blocking_send(Envelope { slot: 0, msg })
        .map_err(|_| AppError::User("the operator stopped early".into()))
}

async fn memory(spec: &OneSpec, job: &Job) -> Result<Counts, AppError> {
    let mut registry = Metrics::default();
    let (_, sql) = node_ids(job);
    let op = operator(job)?;
    let m = sql_metrics(&mut registry, &sql, op.as_ref());
    let h = harness(op, None, m);
    let sampling = spec.metrics.then(|| sampler(registry.clone(), job.clone()));
    let tx = h.tx.clone();
    let spec2 = spec.clone();
    let producer = std::thread::spawn(move || -> Result<u64, AppError> {
        let g = generator(&spec2, spec2.event_rate, spec2.ooo_ms);
        let mut bids = 0u64;
        let mut max_ts = i64::MIN;
        for item in BidBatches::new(&g, 0..spec2.events, BATCH) {
            let (batch, ts) = item.map_err(engine)?;
            bids += batch.num_rows() as u64;
            max_ts = max_ts.max(ts);
            send(&tx, Msg::Batch(0, batch))?;
            send(&tx, Msg::Watermark(max_ts - WATERMARK_MS))?;
        }
        send(&tx, Msg::Watermark(i64::MAX))?;
        send(&tx, Msg::End)?;
        Ok(bids)
    });
    let (sink, late) = finish(h).await?;
    if let Some(s) = sampling {
        s.abort();
    }
    let bids = producer
        .join()
        .map_err(|_| AppError::User("the generator thread panicked".into()))??;
    Ok((bids, sink.rows, late, None))
}

async fn file(spec: &OneSpec, job: &Job) -> Result<Counts, AppError> {
    use weir_engine::decode::{RawBatch, RecordDecoder};
    use weir_engine::source::{Emitter, TimeMode};
    let path = spec
        .file
        .clone()
        .ok_or_else(|| AppError::User("file source without a file".into()))?;
    let mut registry = Metrics::default();
    let (src, sql) = node_ids(job);
    let src_metrics = registry.node(&src, "KafkaSource");
    src_metrics.set_event_time("dateTime");
    let op = operator(job)?;
    let m = sql_metrics(&mut registry, &sql, op.as_ref());
    let h = harness(op, None, m);
    let sampling = spec.metrics.then(|| sampler(registry.clone(), job.clone()));
    let out = Outputs(vec![Output {
        tx: h.tx.clone(),
        input: 0,
        slot: 0,
    }]);
    let m2 = src_metrics.clone();
    let project = std::env::temp_dir().join("weir-bench");
    let producer = std::thread::spawn(move || -> Result<(), AppError> {
        let schema = bid_schema();
        let ts = schema
            .index_of("dateTime")
            .map_err(|e| AppError::User(e.to_string()))?;
        let decoder = RecordDecoder::new(schema, weir_model::model::Format::Json, Some(ts));
        let dl = Arc::new(weir_engine::deadletter::DeadLetter::for_node(
            &project, "nexmark", "bid",
        ));
        let tracker = weir_engine::watermark::WatermarkTracker::new(1, WATERMARK_MS as u64, 0);
        let mut e = Emitter::new(out, m2, decoder, dl, tracker, TimeMode::Event(ts), vec![0]);
        let f = std::fs::File::open(&path)
            .map_err(|err| AppError::io(format!("cannot read {}", path.display()), err))?;
        let mut r = std::io::BufReader::with_capacity(1 << 20, f);
        let mut raw = RawBatch::default();
        let mut line = Vec::with_capacity(512);
        let mut offset = 0i64;
        loop {
            line.clear();
            let n = r
                .read_until(b'\n', &mut line)
                .map_err(|err| AppError::io(format!("cannot read {}", path.display()), err))?;
            if n == 0 {
                break;
            }
            let body = line.strip_suffix(b"\n").unwrap_or(&line);
            if body.is_empty() {
                continue;
            }
            raw.push(0, offset, body);
            offset += 1;
            if raw.len() >= BATCH {
                e.emit(&raw).map_err(engine)?;
                raw.clear();
            }
        }
        e.emit(&raw).map_err(engine)?;
        e.finish_partition(0);
        e.end(true).map_err(engine)
    });
    let (sink, late) = finish(h).await?;
    if let Some(s) = sampling {
        s.abort();
    }
    producer
        .join()
        .map_err(|_| AppError::User("the file reader thread panicked".into()))??;
    let events = src_metrics.records_out.load(Relaxed);
    let late = late + src_metrics.late.load(Relaxed);
    Ok((events, sink.rows, late, None))
}

async fn broker(spec: &OneSpec, job: &Job) -> Result<Counts, AppError> {
    use weir_engine::pipeline::{Pipeline, RunOptions};
    use weir_engine::resolve::{DataSource, Resolver};
    let bootstrap = spec
        .bootstrap
        .clone()
        .ok_or_else(|| AppError::User("broker source without a bootstrap address".into()))?;
    let (src, _) = sql_of(job)?;
    let mut resolver = Resolver::from_job(job);
    for (name, _) in job.datasources.iter() {
        resolver.insert(
            name.clone(),
            DataSource {
                kind: weir_model::model::DataSourceKind::Kafka,
                address: bootstrap.clone(),
                user: None,
                password: None,
                options: Default::default(),
            },
        );
    }
    let mut opts = RunOptions::new(
        std::env::temp_dir().join("weir-bench"),
        weir_engine::transform::default_planner(),
    );
    opts.bounded = true;
    opts.discard_sinks = true;
    let p = Pipeline::start(job, &resolver, opts)
        .await
        .map_err(engine)?;
    let metrics = p.wait().await.map_err(engine)?;
    let get = |id: &str, f: fn(&NodeMetrics) -> u64| metrics.get(id).map(|m| f(m)).unwrap_or(0);
    let events = get(&src, |m| m.records_out.load(Relaxed));
    let late = get(&src, |m| m.late.load(Relaxed));
    let sql_id = job
        .nodes
        .iter()
        .find_map(|n| match n {
            Node::Sql(s) => Some(s.id.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let rows = get(&sql_id, |m| m.records_out.load(Relaxed));
    Ok((events, rows, late, None))
}

async fn paced(spec: &OneSpec, job: &Job, rate: u64) -> Result<Counts, AppError> {
    let rate = rate.max(1000);
    let millis = (spec.latency_secs.max(0.1) * 1000.0) as usize;
    let emitted: Arc<Vec<AtomicU64>> =
        Arc::new((0..millis + 1).map(|_| AtomicU64::new(0)).collect());
    let op = operator(job)?;
    let window_end = op.schema().column_with_name("window_end").is_some();
    let t0 = Instant::now();
    let base_ms = Config::default().base_ms;
    let probe = Probe {
        t0,
        emitted: emitted.clone(),
        base_ms,
        window_end,
    };
    let h = harness(op, Some(probe), Arc::new(NodeMetrics::default()));
    let tx = h.tx.clone();
    let spec2 = spec.clone();
    // event time = emission time: event n is due at t0 + n/rate, in order (no shift)
    let producer = std::thread::spawn(move || -> Result<u64, AppError> {
        let g = generator(&spec2, rate, 0);
        let total = rate * millis as u64 / 1000;
        let mut batches = BidBatches::new(&g, 0..total, (rate / 1000 + 2) as usize);
        let mut bids = 0u64;
        for k in 0..millis as u64 {
            let due = t0 + Duration::from_micros(k * 1000);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let until = (k + 1) * rate / 1000;
            if let Some((batch, _)) = batches.next_until(until).map_err(engine)? {
                bids += batch.num_rows() as u64;
                emitted[k as usize].store(t0.elapsed().as_nanos() as u64 + 1, Relaxed);
                send(&tx, Msg::Batch(0, batch))?;
                // every event of millisecond k has time base + k: this watermark follows
                // the batch's results out of the operator
                send(&tx, Msg::Watermark(base_ms + k as i64 - WATERMARK_MS))?;
            }
        }
        send(&tx, Msg::Watermark(i64::MAX))?;
        send(&tx, Msg::End)?;
        Ok(bids)
    });
    let (sink, late) = finish(h).await?;
    let bids = producer
        .join()
        .map_err(|_| AppError::User("the paced generator thread panicked".into()))??;
    let mut s = sink.samples;
    s.sort_unstable();
    let pct = |p: f64| -> Option<f64> {
        if s.is_empty() {
            return None;
        }
        let i = ((s.len() as f64 * p).ceil() as usize).clamp(1, s.len()) - 1;
        Some(s[i] as f64 / 1000.0)
    };
    let latency = Latency {
        rate,
        samples: s.len() as u64,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: s.last().map(|m| *m as f64 / 1000.0),
        sample: if window_end {
            "per result row: sink receipt − emission of the first event at or after window_end + 4 s (the event whose watermark fires the window)".into()
        } else {
            "per millisecond of input: sink receipt of the watermark that follows that millisecond's batch through the operator − the batch's emission".into()
        },
    };
    Ok((bids, sink.rows, late, Some(latency)))
}
