//! Per-operator counters, updated lock-free by the tasks, and the `Snapshot`s sampled from
//! them about once a second on a tokio watch channel (`weir run --stats`, later the TUI).
//! `latency.rs` holds the latency histogram, `prometheus.rs` the text exposition format.

pub mod latency;
pub mod prometheus;

pub use prometheus::{prometheus, prometheus_many};

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use crate::channel::Envelope;
use latency::LatencyHistogram;

/// Whether the measurements beyond the counters are taken: the latency samples of each
/// emitted batch. On unless [`set_collecting`] turned it off, which only the metrics-cost
/// benchmark does (`cargo bench --bench metrics`), to measure what collecting costs.
static COLLECTING: AtomicBool = AtomicBool::new(true);

/// Turns the latency samples on or off for the whole process (see [`COLLECTING`]); the
/// counters (records, bytes, late, errors) are always kept, results are read from them.
pub fn set_collecting(on: bool) {
    COLLECTING.store(on, Relaxed);
}

/// Whether latency samples are taken (see [`set_collecting`]).
pub fn collecting() -> bool {
    COLLECTING.load(Relaxed)
}

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
    /// Kafka consumer lag (messages), -1 when unknown or not a Kafka source: the sum of
    /// `partition_lag`, which the source tasks update with [`NodeMetrics::set_lag`].
    pub lag: AtomicI64,
    /// Lag per Kafka partition, by partition id.
    partition_lag: Mutex<std::collections::BTreeMap<i32, i64>>,
    /// Records and rows written to the node's dead-letter file.
    pub dead_letters: AtomicU64,
    /// Event time to emit of the batches this node emits (sinks: writes).
    pub latency: LatencyHistogram,
    /// The event-time column of the batches this node emits (sinks: writes), when it has
    /// one; set once when the pipeline starts. Without it no latency is recorded.
    event_time: OnceLock<String>,
    /// The node's input channel(s), probed at snapshot time for how full they are; weak so
    /// that the metrics never keep a channel open.
    inputs: Mutex<Vec<mpsc::WeakSender<Envelope>>>,
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
            partition_lag: Mutex::new(std::collections::BTreeMap::new()),
            dead_letters: AtomicU64::new(0),
            latency: LatencyHistogram::default(),
            event_time: OnceLock::new(),
            inputs: Mutex::new(Vec::new()),
        }
    }
}

impl NodeMetrics {
    /// Moves the watermark forward (never back).
    pub fn set_watermark(&self, w: i64) {
        self.watermark.fetch_max(w, Relaxed);
    }

    /// Records the lag of some partitions (one source task's share) and sets the node's
    /// total over every partition known so far.
    pub fn set_lag(&self, partitions: &[(i32, i64)]) {
        let Ok(mut map) = self.partition_lag.lock() else {
            return;
        };
        for (p, l) in partitions {
            map.insert(*p, (*l).max(0));
        }
        self.lag.store(map.values().sum(), Relaxed);
    }

    /// Lag per partition, by partition id.
    pub fn partition_lag(&self) -> Vec<(i32, i64)> {
        self.partition_lag
            .lock()
            .map(|m| m.iter().map(|(p, l)| (*p, *l)).collect())
            .unwrap_or_default()
    }

    /// Names the event-time column of the batches this node emits (the first call wins).
    pub fn set_event_time(&self, column: &str) {
        let _ = self.event_time.set(column.to_string());
    }

    /// The event-time column latency is measured on, if any.
    pub fn event_time(&self) -> Option<&str> {
        self.event_time.get().map(String::as_str)
    }

    /// Records the latency of an emitted batch (event time to now, sampled): once per
    /// batch, a no-op when the node has no event-time column.
    pub fn record_latency(&self, batch: &RecordBatch) {
        if !collecting() {
            return;
        }
        if let Some(column) = self.event_time.get() {
            self.latency
                .record_batch(batch, column, crate::source::now_ms());
        }
    }

    /// Watches one input channel of this node for backpressure.
    pub fn watch_input(&self, tx: &mpsc::Sender<Envelope>) {
        if let Ok(mut inputs) = self.inputs.lock() {
            inputs.push(tx.downgrade());
        }
    }

    /// How full the fullest input channel is now (queued / capacity, 0.0–1.0); 0.0 for a
    /// node without input channels (sources) or whose channels have closed.
    pub fn backpressure(&self) -> f64 {
        let Ok(inputs) = self.inputs.lock() else {
            return 0.0;
        };
        inputs
            .iter()
            .filter_map(mpsc::WeakSender::upgrade)
            .map(|tx| {
                let max = tx.max_capacity().max(1);
                max.saturating_sub(tx.capacity()) as f64 / max as f64
            })
            .fold(0.0, f64::max)
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

    /// Reads every counter now; rates (and latency quantiles) are computed against
    /// `previous`, or since the start without one.
    pub fn snapshot(&self, started: Instant, previous: Option<&Snapshot>) -> Snapshot {
        self.snapshot_at(started, previous, crate::source::now_ms())
    }

    /// [`Metrics::snapshot`] with the wall clock read as `now_ms` (epoch milliseconds),
    /// which the watermark delay is measured against.
    pub fn snapshot_at(
        &self,
        started: Instant,
        previous: Option<&Snapshot>,
        now_ms: i64,
    ) -> Snapshot {
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
                let (pin, pout, pbytes) = prev
                    .map(|p| (p.records_in, p.records_out, p.bytes_in))
                    .unwrap_or((0, 0, 0));
                let bytes_in = m.bytes_in.load(Relaxed);
                let w = m.watermark.load(Relaxed);
                let lag = m.lag.load(Relaxed);
                let latency_counts = m.latency.counts();
                let before = prev.map_or(&[][..], |p| &p.latency_counts[..]);
                NodeSnapshot {
                    id: id.clone(),
                    kind,
                    records_in,
                    records_out,
                    rate_in: records_in.saturating_sub(pin) as f64 / dt,
                    rate_out: records_out.saturating_sub(pout) as f64 / dt,
                    bytes_in,
                    watermark: (w != i64::MIN).then_some(w),
                    late: m.late.load(Relaxed),
                    errors: m.errors.load(Relaxed),
                    lag: (lag >= 0).then_some(lag),
                    lag_partitions: m.partition_lag(),
                    rate_bytes_in: bytes_in.saturating_sub(pbytes) as f64 / dt,
                    dead_letters: m.dead_letters.load(Relaxed),
                    latency_p50_ms: latency::quantile(&latency_counts, before, 0.5),
                    latency_p99_ms: latency::quantile(&latency_counts, before, 0.99),
                    backpressure: m.backpressure(),
                    watermark_delay_ms: (w != i64::MIN && w != i64::MAX)
                        .then(|| now_ms.saturating_sub(w)),
                    latency_counts,
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
    /// Lag per Kafka partition (partition id, records), sources only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lag_partitions: Vec<(i32, i64)>,
    /// Bytes in per second since the previous sample.
    pub rate_bytes_in: f64,
    /// Records and rows written to the dead-letter file.
    pub dead_letters: u64,
    /// Event time to emit, median over the interval (since the previous sample); None
    /// without samples (no event-time column, or nothing emitted in the interval).
    pub latency_p50_ms: Option<f64>,
    /// Event time to emit, 99th percentile over the interval.
    pub latency_p99_ms: Option<f64>,
    /// How full the node's fullest input channel is (0.0–1.0; 0.0 for sources).
    pub backpressure: f64,
    /// Wall time minus the watermark (ms); None before the first watermark and at end of
    /// input.
    pub watermark_delay_ms: Option<i64>,
    /// Cumulative latency histogram counts, for the next sample's interval (not shown).
    #[serde(skip)]
    pub latency_counts: Vec<u64>,
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

#[cfg(test)]
mod tests {
    use arrow::array::TimestampMillisecondArray;
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    use super::*;
    use crate::channel::Msg;

    fn batch(times: Vec<i64>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        )]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(TimestampMillisecondArray::from(times))],
        )
        .expect("batch")
    }

    #[tokio::test]
    async fn backpressure_is_the_share_of_the_input_channel_in_use() {
        let mut metrics = Metrics::default();
        let m = metrics.node("q", "Sql");
        let (tx, mut rx) = mpsc::channel::<Envelope>(4);
        m.watch_input(&tx);
        let started = Instant::now();
        assert_eq!(metrics.snapshot(started, None).nodes[0].backpressure, 0.0);
        for _ in 0..3 {
            tx.send(Envelope {
                slot: 0,
                msg: Msg::End,
            })
            .await
            .expect("send");
        }
        assert_eq!(metrics.snapshot(started, None).nodes[0].backpressure, 0.75);
        rx.recv().await.expect("one");
        assert_eq!(metrics.snapshot(started, None).nodes[0].backpressure, 0.5);
        drop(tx);
        assert_eq!(
            metrics.snapshot(started, None).nodes[0].backpressure,
            0.0,
            "a closed channel is not watched"
        );
        drop(rx);
    }

    #[test]
    fn watermark_delay_is_wall_time_minus_the_watermark() {
        let mut metrics = Metrics::default();
        let m = metrics.node("src", "KafkaSource");
        let started = Instant::now();
        assert_eq!(
            metrics.snapshot_at(started, None, 10_000).nodes[0].watermark_delay_ms,
            None
        );
        m.set_watermark(7_500);
        assert_eq!(
            metrics.snapshot_at(started, None, 10_000).nodes[0].watermark_delay_ms,
            Some(2_500)
        );
        m.set_watermark(i64::MAX);
        assert_eq!(
            metrics.snapshot_at(started, None, 10_000).nodes[0].watermark_delay_ms,
            None,
            "end of input has no delay"
        );
    }

    #[test]
    fn latency_and_rates_cover_the_interval_since_the_previous_snapshot() {
        let mut metrics = Metrics::default();
        let m = metrics.node("out", "PrintSink");
        let started = Instant::now();
        let now = crate::source::now_ms();
        m.record_latency(&batch(vec![now - 1000; 4]));
        let first = metrics.snapshot(started, None);
        assert_eq!(
            first.nodes[0].latency_p50_ms, None,
            "no event-time column set"
        );

        m.set_event_time("ts");
        m.record_latency(&batch(vec![now - 1000; 4]));
        m.bytes_in.fetch_add(4000, Relaxed);
        let second = metrics.snapshot(started, Some(&first));
        let p50 = second.nodes[0].latency_p50_ms.expect("samples");
        assert!((875.0..=1125.0).contains(&p50), "{p50} is 1000 ± 12.5%");
        assert!(second.nodes[0].rate_bytes_in > 0.0);

        let third = metrics.snapshot(started, Some(&second));
        assert_eq!(third.nodes[0].latency_p99_ms, None, "nothing emitted since");
        assert_eq!(third.nodes[0].rate_bytes_in, 0.0);
        assert_eq!(third.nodes[0].bytes_in, 4000);
        let json = serde_json::to_value(&third).expect("json");
        let node = &json["nodes"][0];
        assert!(node.get("latency_counts").is_none(), "{node}");
        for key in [
            "latency_p50_ms",
            "latency_p99_ms",
            "backpressure",
            "watermark_delay_ms",
            "dead_letters",
            "rate_bytes_in",
            "records_in",
            "lag",
        ] {
            assert!(node.get(key).is_some(), "{key} missing in {node}");
        }
    }
}
