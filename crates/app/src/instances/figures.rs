//! The figures of one instance at one second, as the worker stores them (a compact JSON
//! object per instance and second in the store's `instance_metrics`) and the screens and
//! `weir top` draw them. Rates are per second over the last second.

use serde::{Deserialize, Serialize};
use weir_engine::metrics::Snapshot;
use weir_model::model::{Job, Role};

/// One instance's figures at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Epoch milliseconds of the sample.
    pub at_ms: i64,
    /// Per operator, in the job's order.
    pub nodes: Vec<NodeFigures>,
    /// The run's checkpoints; absent when it runs without (interval 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<CheckpointFigures>,
}

/// A run's checkpoint figures (issue 16): the last completed checkpoint or savepoint
/// and the counts, as the instance view, `weir instance show` and `/metrics` show them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckpointFigures {
    /// The last completed checkpoint's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_id: Option<u64>,
    /// How long ago it completed, at the sample's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_ms: Option<i64>,
    pub duration_ms: u64,
    pub size: u64,
    pub alignment_ms: u64,
    pub completed: u64,
    /// Failed or aborted ones.
    pub failed: u64,
    /// Failed or aborted since the last one that completed.
    #[serde(default)]
    pub failing: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<u64>,
}

impl CheckpointFigures {
    /// The figures of `stats` at `at_ms`.
    pub fn of(stats: &weir_engine::checkpoint::CheckpointStats, at_ms: i64) -> CheckpointFigures {
        CheckpointFigures {
            last_id: stats.last_id,
            age_ms: stats.last_completed_ms.map(|c| (at_ms - c).max(0)),
            duration_ms: stats.last_duration_ms,
            size: stats.last_size,
            alignment_ms: stats.last_alignment_ms,
            completed: stats.completed,
            failed: stats.failed,
            failing: stats.failing,
            last_failure: stats.last_failure.clone(),
            in_progress: stats.in_progress,
        }
    }
}

/// One operator's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeFigures {
    pub id: String,
    pub kind: String,
    /// `source`, `transform` or `sink`.
    pub role: String,
    pub records_in: u64,
    pub records_out: u64,
    pub rate_in: f64,
    pub rate_out: f64,
    pub bytes_in: u64,
    pub rate_bytes_in: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lag_partitions: Vec<(i32, i64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark_delay_ms: Option<i64>,
    pub late: u64,
    pub errors: u64,
    pub dead_letters: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p99_ms: Option<f64>,
    pub backpressure: f64,
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Source => "source",
        Role::Sink => "sink",
        _ => "transform",
    }
}

impl Figures {
    /// The figures of `snapshot`, a sample of `job`'s pipeline taken at `at_ms`.
    pub fn of(job: &Job, snapshot: &Snapshot, at_ms: i64) -> Figures {
        let nodes = snapshot
            .nodes
            .iter()
            .map(|n| NodeFigures {
                id: n.id.clone(),
                kind: n.kind.to_string(),
                role: job
                    .node(&n.id)
                    .map(|node| role_word(node.role()))
                    .unwrap_or("transform")
                    .to_string(),
                records_in: n.records_in,
                records_out: n.records_out,
                rate_in: round2(n.rate_in),
                rate_out: round2(n.rate_out),
                bytes_in: n.bytes_in,
                rate_bytes_in: round2(n.rate_bytes_in),
                lag: n.lag,
                lag_partitions: n.lag_partitions.clone(),
                watermark: n.watermark.filter(|w| *w != i64::MAX),
                watermark_delay_ms: n.watermark_delay_ms,
                late: n.late,
                errors: n.errors,
                dead_letters: n.dead_letters,
                latency_p50_ms: n.latency_p50_ms.map(round2),
                latency_p99_ms: n.latency_p99_ms.map(round2),
                backpressure: round2(n.backpressure),
            })
            .collect();
        Figures {
            at_ms,
            nodes,
            checkpoints: None,
        }
    }

    /// Reads a stored sample; a sample that does not parse gives empty figures.
    pub fn from_json(at_ms: i64, v: &serde_json::Value) -> Figures {
        // read from the borrowed value: no copy of the whole tree per sample
        let mut f = <Figures as serde::Deserialize>::deserialize(v).unwrap_or_default();
        f.at_ms = at_ms;
        f
    }

    /// The JSON the store keeps.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn by_role<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'a NodeFigures> + 'a {
        self.nodes.iter().filter(move |n| n.role == role)
    }

    /// Records per second read by the sources.
    pub fn rate_in(&self) -> f64 {
        self.by_role("source").map(|n| n.rate_in).sum()
    }

    /// Records per second written by the sinks.
    pub fn rate_out(&self) -> f64 {
        self.by_role("sink").map(|n| n.rate_out).sum()
    }

    /// Records read by the sources since the instance started.
    pub fn records_in(&self) -> u64 {
        self.by_role("source").map(|n| n.records_in).sum()
    }

    /// Records written by the sinks since the instance started.
    pub fn records_out(&self) -> u64 {
        self.by_role("sink").map(|n| n.records_out).sum()
    }

    /// Kafka lag over every source; None when no source knows its lag.
    pub fn lag(&self) -> Option<i64> {
        let lags: Vec<i64> = self.nodes.iter().filter_map(|n| n.lag).collect();
        (!lags.is_empty()).then(|| lags.iter().sum())
    }

    /// The largest watermark delay of any operator, in milliseconds.
    pub fn watermark_delay_ms(&self) -> Option<i64> {
        self.nodes.iter().filter_map(|n| n.watermark_delay_ms).max()
    }

    /// Errors plus dead letters over every operator.
    pub fn errors(&self) -> u64 {
        self.nodes.iter().map(|n| n.errors + n.dead_letters).sum()
    }

    /// Records dropped as late over every operator.
    pub fn late(&self) -> u64 {
        self.nodes.iter().map(|n| n.late).sum()
    }

    /// The operator `id`.
    pub fn node(&self, id: &str) -> Option<&NodeFigures> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

fn round2(v: f64) -> f64 {
    if v.is_finite() {
        (v * 100.0).round() / 100.0
    } else {
        0.0
    }
}

/// Series of an instance's figures over time, oldest first, for sparklines and charts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trend {
    /// Epoch milliseconds of each sample.
    pub at_ms: Vec<i64>,
    pub rate_in: Vec<f64>,
    pub rate_out: Vec<f64>,
    pub lag: Vec<i64>,
    pub watermark_delay_ms: Vec<i64>,
}

impl Trend {
    /// The series of `history` (oldest first).
    pub fn of(history: &[Figures]) -> Trend {
        let mut t = Trend::default();
        for f in history {
            t.at_ms.push(f.at_ms);
            t.rate_in.push(f.rate_in());
            t.rate_out.push(f.rate_out());
            t.lag.push(f.lag().unwrap_or(0));
            t.watermark_delay_ms
                .push(f.watermark_delay_ms().unwrap_or(0));
        }
        t
    }

    /// The series as whole numbers for ratatui's `Sparkline` (u64).
    pub fn sparkline(series: &[f64]) -> Vec<u64> {
        series.iter().map(|v| v.max(0.0).round() as u64).collect()
    }
}
