//! Per-operator counters, updated lock-free by the tasks, and the `Snapshot`s sampled from
//! them about once a second on a tokio watch channel (`weir run --stats`, later the TUI).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

/// Live counters of one operator.
#[derive(Debug)]
pub struct NodeMetrics {
    pub records_in: AtomicU64,
    pub records_out: AtomicU64,
    pub bytes_in: AtomicU64,
    /// Records dropped because they came behind the watermark.
    pub late: AtomicU64,
    /// Records that could not be decoded or written.
    pub errors: AtomicU64,
    /// Current watermark, `i64::MIN` before the first.
    pub watermark: AtomicI64,
    /// Kafka consumer lag (messages), -1 when unknown or not a Kafka source.
    pub lag: AtomicI64,
}

impl Default for NodeMetrics {
    fn default() -> Self {
        NodeMetrics {
            records_in: AtomicU64::new(0),
            records_out: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            late: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            watermark: AtomicI64::new(i64::MIN),
            lag: AtomicI64::new(-1),
        }
    }
}

impl NodeMetrics {
    /// Moves the watermark forward (never back).
    pub fn set_watermark(&self, w: i64) {
        self.watermark.fetch_max(w, Relaxed);
    }
}

/// The counters of every operator of a running pipeline.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    nodes: Vec<(String, &'static str, Arc<NodeMetrics>)>,
}

impl Metrics {
    /// Registers a node and returns its counters (the same ones if already registered).
    pub fn node(&mut self, id: &str, kind: &'static str) -> Arc<NodeMetrics> {
        if let Some((_, _, m)) = self.nodes.iter().find(|(n, _, _)| n == id) {
            return m.clone();
        }
        let m = Arc::new(NodeMetrics::default());
        self.nodes.push((id.to_string(), kind, m.clone()));
        m
    }

    /// Counters of `id`, if registered.
    pub fn get(&self, id: &str) -> Option<&Arc<NodeMetrics>> {
        self.nodes
            .iter()
            .find(|(n, _, _)| n == id)
            .map(|(_, _, m)| m)
    }

    /// Reads every counter now; rates are computed against `previous`.
    pub fn snapshot(&self, started: Instant, previous: Option<&Snapshot>) -> Snapshot {
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let dt = previous
            .map(|p| elapsed_ms.saturating_sub(p.elapsed_ms))
            .unwrap_or(elapsed_ms)
            .max(1) as f64
            / 1000.0;
        let nodes = self
            .nodes
            .iter()
            .map(|(id, kind, m)| {
                let (records_in, records_out) =
                    (m.records_in.load(Relaxed), m.records_out.load(Relaxed));
                let prev = previous.and_then(|p| p.nodes.iter().find(|n| &n.id == id));
                let (pin, pout) = prev
                    .map(|p| (p.records_in, p.records_out))
                    .unwrap_or((0, 0));
                let w = m.watermark.load(Relaxed);
                let lag = m.lag.load(Relaxed);
                NodeSnapshot {
                    id: id.clone(),
                    kind,
                    records_in,
                    records_out,
                    rate_in: records_in.saturating_sub(pin) as f64 / dt,
                    rate_out: records_out.saturating_sub(pout) as f64 / dt,
                    bytes_in: m.bytes_in.load(Relaxed),
                    watermark: (w != i64::MIN).then_some(w),
                    late: m.late.load(Relaxed),
                    errors: m.errors.load(Relaxed),
                    lag: (lag >= 0).then_some(lag),
                }
            })
            .collect();
        Snapshot { elapsed_ms, nodes }
    }

    /// Samples every `interval` onto a watch channel until the returned handle is dropped
    /// or the receiver side closes.
    pub fn publish(
        &self,
        interval: Duration,
    ) -> (watch::Receiver<Snapshot>, tokio::task::JoinHandle<()>) {
        let started = Instant::now();
        let first = self.snapshot(started, None);
        let (tx, rx) = watch::channel(first);
        let this = self.clone();
        let handle = tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.tick().await;
            loop {
                tick.tick().await;
                let prev = tx.borrow().clone();
                if tx.send(this.snapshot(started, Some(&prev))).is_err() {
                    break;
                }
            }
        });
        (rx, handle)
    }
}

/// All counters at one moment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Snapshot {
    /// Since the pipeline started.
    pub elapsed_ms: u64,
    pub nodes: Vec<NodeSnapshot>,
}

/// One operator's counters at one moment; rates are per second since the previous sample.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NodeSnapshot {
    pub id: String,
    pub kind: &'static str,
    pub records_in: u64,
    pub records_out: u64,
    pub rate_in: f64,
    pub rate_out: f64,
    pub bytes_in: u64,
    pub watermark: Option<i64>,
    pub late: u64,
    pub errors: u64,
    pub lag: Option<i64>,
}

impl Snapshot {
    /// The snapshot of `id`.
    pub fn node(&self, id: &str) -> Option<&NodeSnapshot> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// One line: `id in/out (rate/s) late errs wm` per node.
    pub fn line(&self) -> String {
        self.nodes
            .iter()
            .map(|n| {
                let mut s = format!(
                    "{} {}→{} ({:.0}/s)",
                    n.id,
                    n.records_in,
                    n.records_out,
                    n.rate_in.max(n.rate_out)
                );
                if n.late > 0 {
                    s.push_str(&format!(" late {}", n.late));
                }
                if n.errors > 0 {
                    s.push_str(&format!(" err {}", n.errors));
                }
                if let Some(lag) = n.lag {
                    s.push_str(&format!(" lag {lag}"));
                }
                if let Some(w) = n.watermark {
                    if w == i64::MAX {
                        s.push_str(" wm end");
                    } else {
                        s.push_str(&format!(" wm {}", crate::rows::format_ts_ms(w)));
                    }
                }
                s
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }
}
