//! Watching instances: the list with each one's latest figures and recent trend, one
//! instance's detail (its job, per-operator figures, history, log, alerts), stop and
//! restart, and the workers of the store.

use std::collections::HashMap;

use serde::Serialize;

use super::{Alert, AlertFilter, Figures, Instance, InstanceFilter, LogLine, Trend, Worker};
use crate::AppError;
use crate::governance::Governance;

/// One line of `:instances` and `weir instance list`.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceRow {
    pub instance: Instance,
    /// The newest figures, if the worker stored any.
    pub figures: Option<Figures>,
    /// The last minutes (see [`Governance::instance_rows`]).
    pub trend: Trend,
    /// Firing alerts of this instance.
    pub firing: usize,
}

/// Everything the instance view shows.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceDetail {
    pub instance: Instance,
    /// The job text it runs.
    pub text: String,
    /// Oldest first, the last `history` samples asked for.
    pub history: Vec<Figures>,
    /// The newest log lines, oldest first.
    pub log: Vec<LogLine>,
    /// Its alerts, newest first (firing and recent).
    pub alerts: Vec<Alert>,
}

impl InstanceDetail {
    /// The newest figures.
    pub fn figures(&self) -> Option<&Figures> {
        self.history.last()
    }
}

/// A worker with whether it is alive (heartbeat within the take-over age).
#[derive(Debug, Clone, Serialize)]
pub struct WorkerRow {
    pub worker: Worker,
    pub alive: bool,
}

/// Epoch milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Governance {
    /// Instances with their latest figures and `trend_secs` seconds of trend.
    pub async fn instance_rows(
        &self,
        filter: &InstanceFilter,
        trend_secs: i64,
    ) -> Result<Vec<InstanceRow>, AppError> {
        let instances = self.session().instances(filter).await?;
        let firing = self
            .session()
            .alerts(&AlertFilter {
                firing_only: true,
                instance: None,
                limit: None,
            })
            .await?;
        // every active instance's figures in one read, then each one's of this run only:
        // a restarted instance does not show the last run's
        let active: Vec<i64> = instances
            .iter()
            .filter(|i| i.state.is_active())
            .map(|i| i.id)
            .collect();
        let now = now_ms();
        let recent = if trend_secs > 0 {
            self.session()
                .metrics_of(&active, now - trend_secs * 1000, trend_secs + 5)
                .await?
        } else {
            Vec::new()
        };
        let mut history: HashMap<i64, Vec<Figures>> = HashMap::new();
        for p in &recent {
            history
                .entry(p.instance)
                .or_default()
                .push(Figures::from_json(p.at_ms, &p.snapshot));
        }
        for i in &instances {
            let since = run_started_ms(i).unwrap_or(0);
            if let Some(h) = history.get_mut(&i.id) {
                h.retain(|f| f.at_ms >= since);
            }
        }
        // the newest figures of active instances with none in the trend's window
        let without: Vec<i64> = active
            .iter()
            .copied()
            .filter(|id| history.get(id).is_none_or(|h| h.is_empty()))
            .collect();
        let latest = if without.is_empty() {
            Vec::new()
        } else {
            self.session().latest_metrics(&without).await?
        };
        let mut rows = Vec::with_capacity(instances.len());
        for instance in instances {
            let history = history.remove(&instance.id).unwrap_or_default();
            let figures = match history.last() {
                Some(f) => Some(f.clone()),
                None => latest
                    .iter()
                    .find(|p| p.instance == instance.id)
                    .filter(|p| p.at_ms >= run_started_ms(&instance).unwrap_or(0))
                    .map(|p| Figures::from_json(p.at_ms, &p.snapshot)),
            };
            let n = firing.iter().filter(|a| a.instance == instance.id).count();
            rows.push(InstanceRow {
                trend: Trend::of(&history),
                figures,
                firing: n,
                instance,
            });
        }
        Ok(rows)
    }

    /// One instance with its text, `history` samples of figures, the last `log_lines`
    /// log lines and its alerts.
    pub async fn instance_detail(
        &self,
        id: i64,
        history: i64,
        log_lines: i64,
    ) -> Result<InstanceDetail, AppError> {
        let s = self.session();
        let instance = s.instance(id).await?;
        let text = s.instance_text(id).await?;
        let this_run = if instance.state.is_active() {
            run_started_ms(&instance)
        } else {
            None
        };
        let history = if history > 0 {
            s.instance_metrics(id, this_run, history)
                .await?
                .iter()
                .map(|p| Figures::from_json(p.at_ms, &p.snapshot))
                .collect()
        } else {
            Vec::new()
        };
        let log = if log_lines > 0 {
            s.instance_logs(id, None, log_lines).await?
        } else {
            Vec::new()
        };
        let alerts = s
            .alerts(&AlertFilter {
                firing_only: false,
                instance: Some(id),
                limit: Some(20),
            })
            .await?;
        Ok(InstanceDetail {
            instance,
            text,
            history,
            log,
            alerts,
        })
    }

    /// One instance.
    pub async fn instance(&self, id: i64) -> Result<Instance, AppError> {
        Ok(self.session().instance(id).await?)
    }

    /// Instances, as the store filters them.
    pub async fn instances(&self, filter: &InstanceFilter) -> Result<Vec<Instance>, AppError> {
        Ok(self.session().instances(filter).await?)
    }

    /// Stops an instance (its worker flushes the sinks); refused when it is not running.
    pub async fn stop_instance(&self, id: i64) -> Result<Instance, AppError> {
        Ok(self.session().stop_instance(id).await?)
    }

    /// Starts a stopped or failed instance again, from where it stopped (its Kafka
    /// sources resume from the offsets committed when it stopped).
    pub async fn restart_instance(&self, id: i64) -> Result<Instance, AppError> {
        Ok(self.session().start_instance(id).await?)
    }

    /// Log lines of instance `id` after line `after` (None: the last `limit`).
    pub async fn instance_logs(
        &self,
        id: i64,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<LogLine>, AppError> {
        Ok(self.session().instance_logs(id, after, limit).await?)
    }

    /// The workers of the store, with whether each is alive.
    pub async fn worker_rows(&self) -> Result<Vec<WorkerRow>, AppError> {
        let workers = self.session().workers().await?;
        Ok(workers
            .into_iter()
            .map(|w| WorkerRow {
                alive: !w.stopping && heartbeat_fresh(&w.heartbeat_at),
                worker: w,
            })
            .collect())
    }

    /// Asks worker `id` to stop.
    pub async fn stop_worker(&self, id: &str) -> Result<Worker, AppError> {
        Ok(self.session().stop_worker(id).await?)
    }
}

/// When the instance's current run started (epoch ms), if it has started.
fn run_started_ms(inst: &Instance) -> Option<i64> {
    let at = inst.started_at.as_deref()?;
    let t = humantime::parse_rfc3339_weak(at).ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis() as i64)
}

/// A heartbeat within the take-over age.
pub fn heartbeat_fresh(at: &str) -> bool {
    match humantime::parse_rfc3339_weak(at) {
        Ok(then) => std::time::SystemTime::now()
            .duration_since(then)
            .map(|d| d < super::TAKE_OVER_AFTER)
            .unwrap_or(true),
        Err(_) => false,
    }
}
