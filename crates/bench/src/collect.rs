//! Metrics collection in a measurement, as a worker does it for an instance: the
//! registry's node counters (with latency on the event-time column) and a sampler that
//! turns them into a snapshot, the stored figures and the Prometheus text once a second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_engine::metrics::{Metrics, NodeMetrics};
use weir_engine::operator::Operator;
use weir_model::model::{Job, Node};

/// What a worker does with a running instance's metrics once a second: a snapshot, its
/// figures as the store keeps them (JSON) and the Prometheus text. Runs until aborted.
pub(crate) fn sampler(metrics: Metrics, job: Job) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let started = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        let mut previous: Option<weir_engine::metrics::Snapshot> = None;
        loop {
            tick.tick().await;
            let snap = metrics.snapshot(started, previous.as_ref());
            let now = weir_engine::source::now_ms();
            let figures = weir_app::instances::Figures::of(&job, &snap, now);
            let stored = figures.to_json().to_string();
            let labels = [("instance", "1"), ("job", job.name.as_str())];
            let text = weir_engine::metrics::prometheus_many(&[(&snap, &labels[..])]);
            std::hint::black_box((stored, text));
            previous = Some(snap);
        }
    })
}

/// The job's operator ids for the metrics registry: (source id, SQL operator id).
pub(crate) fn node_ids(job: &Job) -> (String, String) {
    let id = |want: fn(&Node) -> bool| {
        job.nodes
            .iter()
            .find(|n| want(n))
            .map(|n| n.id().to_string())
            .unwrap_or_default()
    };
    (
        id(|n| matches!(n, Node::KafkaSource(_))),
        id(|n| matches!(n, Node::Sql(_))),
    )
}

/// The SQL operator's counters, measuring latency on `dateTime` when its rows carry it
/// (as the pipeline does for an operator with an event-time column).
pub(crate) fn sql_metrics(registry: &mut Metrics, id: &str, op: &dyn Operator) -> Arc<NodeMetrics> {
    let m = registry.node(id, "Sql");
    if op.schema().column_with_name("dateTime").is_some() {
        m.set_event_time("dateTime");
    }
    m
}
