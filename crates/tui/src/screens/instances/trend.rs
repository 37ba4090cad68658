//! The sparklines' history of `:instances`, kept between reads. The first read (and one a
//! minute, or after an instance the screen has no history of) asks the store for the
//! whole trend; the reads in between ask for the last few seconds and append them. A
//! second's refresh of 20 instances then parses a few samples per instance instead of 300
//! each (that parse was most of the workbench's CPU; bench/results/instances.txt).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use weir_app::instances::{InstanceRow, Trend};

/// Seconds of trend each row's sparkline covers.
pub const TREND_SECS: i64 = 300;
/// Seconds a read between two full ones covers: a few refreshes may be late or missed.
const RECENT_SECS: i64 = 5;
/// How often the whole trend is read again anyway.
const FULL_EVERY: Duration = Duration::from_secs(60);

/// Per instance: the run it belongs to (`started_at`) and its samples so far.
#[derive(Default)]
pub struct Trends {
    by_id: HashMap<i64, (Option<String>, Trend)>,
    /// When the whole trend was last read (None: never, or due).
    full_at: Option<Instant>,
}

impl Trends {
    /// The seconds of trend the next read asks for.
    pub fn span(&self) -> i64 {
        if self.full_at.is_none_or(|t| t.elapsed() >= FULL_EVERY) {
            TREND_SECS
        } else {
            RECENT_SECS
        }
    }

    /// Takes in the rows of a read that covered `span` seconds (from [`Trends::span`]) and
    /// gives each row its whole trend; `now_ms` trims what is older than [`TREND_SECS`].
    pub fn merge(&mut self, rows: &mut [InstanceRow], span: i64, now_ms: i64) {
        let full = span >= TREND_SECS;
        if full {
            self.full_at = Some(Instant::now());
            self.by_id.clear();
        }
        let oldest = now_ms - TREND_SECS * 1000;
        let mut unknown = false;
        let mut seen = HashMap::with_capacity(rows.len());
        for row in rows.iter_mut() {
            let id = row.instance.id;
            let run = row.instance.started_at.clone();
            let fresh = std::mem::take(&mut row.trend);
            let (kept_run, kept) = self
                .by_id
                .remove(&id)
                .unwrap_or_else(|| (run.clone(), Trend::default()));
            let mut trend = if kept_run == run {
                kept
            } else {
                // restarted: the figures of the last run are not this run's
                Trend::default()
            };
            if !full && trend.at_ms.is_empty() && !fresh.at_ms.is_empty() {
                // a history this screen has not read: the next read takes it whole
                unknown = true;
            }
            append(&mut trend, &fresh, oldest);
            row.trend = trend.clone();
            seen.insert(id, (run, trend));
        }
        // instances no longer listed are forgotten
        self.by_id = seen;
        if unknown {
            self.full_at = None;
        }
    }
}

/// Appends the samples of `fresh` newer than the last of `trend`, and drops those older
/// than `oldest`.
fn append(trend: &mut Trend, fresh: &Trend, oldest: i64) {
    let last = trend.at_ms.last().copied().unwrap_or(i64::MIN);
    for (i, &t) in fresh.at_ms.iter().enumerate() {
        if t <= last {
            continue;
        }
        trend.at_ms.push(t);
        trend.rate_in.push(at(&fresh.rate_in, i));
        trend.rate_out.push(at(&fresh.rate_out, i));
        trend.lag.push(at(&fresh.lag, i));
        trend
            .watermark_delay_ms
            .push(at(&fresh.watermark_delay_ms, i));
    }
    let old = trend.at_ms.iter().take_while(|t| **t < oldest).count();
    if old > 0 {
        trend.at_ms.drain(..old);
        trend.rate_in.drain(..old.min(trend.rate_in.len()));
        trend.rate_out.drain(..old.min(trend.rate_out.len()));
        trend.lag.drain(..old.min(trend.lag.len()));
        trend
            .watermark_delay_ms
            .drain(..old.min(trend.watermark_delay_ms.len()));
    }
}

fn at<T: Copy + Default>(series: &[T], i: usize) -> T {
    series.get(i).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_app::instances::{
        DesiredState, Figures, Instance, InstanceState, NodeFigures, StartPosition,
    };

    fn row(id: i64, started: &str, samples: &[(i64, f64)]) -> InstanceRow {
        let history: Vec<Figures> = samples
            .iter()
            .map(|(at, rate)| Figures {
                at_ms: *at,
                nodes: vec![NodeFigures {
                    id: "src".into(),
                    role: "source".into(),
                    rate_in: *rate,
                    rate_out: *rate,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect();
        let instance = Instance {
            id,
            job: "shop/echo".into(),
            version: None,
            release: None,
            env: "test".into(),
            parallelism: 1,
            memory_mib: 512,
            start: StartPosition::Earliest,
            params: serde_json::json!({}),
            state: InstanceState::Running,
            desired: DesiredState::Running,
            worker: Some("w1".into()),
            heartbeat_at: None,
            started_at: Some(started.into()),
            stopped_at: None,
            error: None,
            source_path: None,
            text_hash: None,
            created_by: "bob".into(),
            created_at: "2026-12-07T12:00:00Z".into(),
        };
        InstanceRow {
            instance,
            figures: None,
            trend: Trend::of(&history),
            firing: 0,
        }
    }

    #[test]
    fn recent_reads_append_to_the_full_trend_and_a_restart_starts_over() {
        let mut trends = Trends::default();
        assert_eq!(trends.span(), TREND_SECS, "the first read is whole");
        let mut rows = vec![row(1, "a", &[(1_000, 1.0), (2_000, 2.0)])];
        trends.merge(&mut rows, TREND_SECS, 2_000);
        assert_eq!(trends.span(), RECENT_SECS);
        // a recent read overlaps the kept samples: only the new one is appended
        let mut rows = vec![row(1, "a", &[(2_000, 2.0), (3_000, 3.0)])];
        trends.merge(&mut rows, RECENT_SECS, 3_000);
        assert_eq!(rows[0].trend.at_ms, [1_000, 2_000, 3_000]);
        assert_eq!(rows[0].trend.rate_in, [1.0, 2.0, 3.0]);
        // samples older than the trend's window are dropped
        let later = 1_500 + TREND_SECS * 1000;
        let mut rows = vec![row(1, "a", &[(later, 4.0)])];
        trends.merge(&mut rows, RECENT_SECS, later);
        assert_eq!(rows[0].trend.at_ms, [2_000, 3_000, later]);
        // restarted: the last run's samples go
        let mut rows = vec![row(1, "b", &[(later + 1_000, 5.0)])];
        trends.merge(&mut rows, RECENT_SECS, later + 1_000);
        assert_eq!(rows[0].trend.at_ms, [later + 1_000]);
    }

    #[test]
    fn an_instance_with_history_the_screen_has_not_read_asks_for_a_full_read() {
        let mut trends = Trends::default();
        let mut rows = vec![row(1, "a", &[(1_000, 1.0)])];
        trends.merge(&mut rows, TREND_SECS, 1_000);
        let mut rows = vec![row(1, "a", &[(2_000, 1.0)]), row(2, "a", &[(2_000, 7.0)])];
        trends.merge(&mut rows, RECENT_SECS, 2_000);
        assert_eq!(rows[1].trend.at_ms, [2_000], "what there is until then");
        assert_eq!(trends.span(), TREND_SECS);
    }
}
