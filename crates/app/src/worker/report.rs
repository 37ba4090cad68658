//! What a worker writes about its instances: state reports, log lines, figures (one
//! batch a second) and alerts (fired and cleared in the store, audited there, and POSTed
//! to the rule's webhook). A store that does not answer costs a warning in the worker's
//! log, never the instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weir_model::model::{AlertRule, Job};

use crate::AppError;
use crate::governance::Governance;
use crate::instances::{
    AlertBook, AlertFilter, Figures, Instance, InstanceState, LogLevel, MetricPoint, Transition,
};

type Rules = Vec<(Option<i64>, AlertRule)>;

/// Writes for one worker; cheap to clone.
#[derive(Clone)]
pub(super) struct Reporter {
    gov: Arc<Governance>,
    worker: String,
    /// Per instance: the store's rules (refreshed every 10 s) and whether its firing
    /// alerts were read back into its book.
    rules: Arc<Mutex<HashMap<i64, (Instant, Rules)>>>,
}

impl Reporter {
    pub(super) fn new(gov: Arc<Governance>, worker: String) -> Self {
        Reporter {
            gov,
            worker,
            rules: Arc::default(),
        }
    }

    pub(super) async fn log(&self, id: i64, level: LogLevel, message: String) {
        match level {
            LogLevel::Error => tracing::error!(instance = id, "{message}"),
            LogLevel::Warn => tracing::warn!(instance = id, "{message}"),
            LogLevel::Info => tracing::info!(instance = id, "{message}"),
        }
        if let Err(e) = self
            .gov
            .session()
            .log_instance(&self.worker, &[(id, level, message)])
            .await
        {
            tracing::warn!(instance = id, "cannot write the instance's log: {e}");
        }
    }

    async fn set_state(&self, inst: &Instance, state: InstanceState, error: Option<&str>) {
        if let Err(e) = self
            .gov
            .session()
            .set_instance_state(&self.worker, inst.id, state, error)
            .await
        {
            tracing::warn!(instance = inst.id, "cannot report {state}: {e}");
        }
    }

    /// The pipeline started: `running`.
    pub(super) async fn running(
        &self,
        inst: &Instance,
        job: &Job,
        addresses: &[String],
    ) -> Result<(), AppError> {
        self.gov
            .session()
            .set_instance_state(&self.worker, inst.id, InstanceState::Running, None)
            .await?;
        let what = match inst.version {
            Some(v) => format!("version {v}"),
            None => format!(
                "{} as it was at start",
                inst.source_path.as_deref().unwrap_or("the working file")
            ),
        };
        let mut msg = format!(
            "running {} {what} on worker {} ({} task(s), start {})",
            inst.job,
            self.worker,
            job.config.parallelism,
            crate::jobs::start_label(inst.start)
        );
        if !addresses.is_empty() {
            msg.push_str(&format!("; {}", addresses.join(", ")));
        }
        self.log(inst.id, LogLevel::Info, msg).await;
        let rules = self.rules_of(inst.id, job).await;
        let mut book = AlertBook::new();
        self.seed(inst.id, &mut book).await;
        let clears = book.running(&rules);
        self.apply(inst, &mut book, clears).await;
        Ok(())
    }

    /// Desired stopped: `stopping` while the sinks flush.
    pub(super) async fn stopping(&self, inst: &Instance) {
        self.set_state(inst, InstanceState::Stopping, None).await;
        self.log(
            inst.id,
            LogLevel::Info,
            "stopping: sources stop, sinks flush".into(),
        )
        .await;
    }

    /// The run ended: `stopped` when it was asked to stop and ended cleanly, `failed`
    /// otherwise; nothing when another worker took it over.
    pub(super) async fn ended(
        &self,
        inst: &Instance,
        result: Result<(), AppError>,
        stopping: bool,
        lost: bool,
        mut book: AlertBook,
    ) {
        if lost {
            tracing::warn!(
                instance = inst.id,
                "stopped here after a take-over: {result:?}"
            );
            return;
        }
        let error = match (result, stopping) {
            (Ok(()), true) => {
                self.set_state(inst, InstanceState::Stopped, None).await;
                self.log(
                    inst.id,
                    LogLevel::Info,
                    "stopped: sinks flushed, source offsets committed".into(),
                )
                .await;
                return;
            }
            (Ok(()), false) => "the job ended by itself: every source ended".to_string(),
            (Err(e), _) => e.to_string(),
        };
        self.set_state(inst, InstanceState::Failed, Some(&error))
            .await;
        self.log(inst.id, LogLevel::Error, format!("failed: {error}"))
            .await;
        // `failed` rules: the job's own ones need its text
        let job = crate::worker::instance::job_of(&self.gov, inst)
            .await
            .map(|(j, _)| j)
            .unwrap_or_else(|_| empty_job());
        let rules = self.rules_of(inst.id, &job).await;
        self.seed(inst.id, &mut book).await;
        let fires = book.failed(&rules, &error);
        self.apply(inst, &mut book, fires).await;
        if let Ok(mut cache) = self.rules.lock() {
            cache.remove(&inst.id);
        }
    }

    /// The worker stopped and handed the instance back.
    pub(super) async fn handed_back(&self, inst: &Instance, result: Result<(), AppError>) {
        let msg = match result {
            Ok(()) => "the worker stopped: sinks flushed, offsets committed; handed back for the next worker".to_string(),
            Err(e) => format!("the worker stopped; handed back for the next worker ({e})"),
        };
        self.log(inst.id, LogLevel::Info, msg).await;
    }

    /// Stores one second of figures of every instance in one batch.
    pub(super) async fn figures(&self, batch: &[(i64, Figures)]) {
        if batch.is_empty() {
            return;
        }
        let points: Vec<MetricPoint> = batch
            .iter()
            .map(|(id, f)| MetricPoint {
                instance: *id,
                at_ms: f.at_ms,
                snapshot: f.to_json(),
            })
            .collect();
        if let Err(e) = self
            .gov
            .session()
            .record_metrics(&self.worker, &points)
            .await
        {
            tracing::warn!("cannot store figures: {e}");
        }
    }

    /// The instance's rules: its job file's `config.alerts` and the store's.
    async fn rules_of(&self, id: i64, job: &Job) -> Rules {
        let cached = self.rules.lock().ok().and_then(|c| {
            c.get(&id)
                .filter(|(at, _)| at.elapsed() < Duration::from_secs(10))
                .map(|(_, r)| r.clone())
        });
        if let Some(r) = cached {
            return r;
        }
        let mut rules: Rules = job
            .config
            .alerts
            .iter()
            .map(|r| (None, r.clone()))
            .collect();
        match self.gov.session().rules_for_instance(id).await {
            Ok(rows) => rules.extend(rows.into_iter().map(|r| (Some(r.id), r.rule))),
            Err(e) => tracing::warn!(instance = id, "cannot read alert rules: {e}"),
        }
        if let Ok(mut c) = self.rules.lock() {
            c.insert(id, (Instant::now(), rules.clone()));
        }
        rules
    }

    /// Reads the instance's firing alerts back into `book` (a restart, a take-over).
    async fn seed(&self, id: i64, book: &mut AlertBook) {
        let filter = AlertFilter {
            firing_only: true,
            instance: Some(id),
            limit: None,
        };
        if let Ok(firing) = self.gov.session().alerts(&filter).await {
            for a in firing {
                book.seed_firing(&a.rule, a.id);
            }
        }
    }

    /// Evaluates the rules on `figures` and writes what fires or clears.
    pub(super) async fn alerts(
        &self,
        inst: &Instance,
        job: &Job,
        book: &mut AlertBook,
        figures: &Figures,
    ) {
        let fresh = self
            .rules
            .lock()
            .map(|c| !c.contains_key(&inst.id))
            .unwrap_or(false);
        let rules = self.rules_of(inst.id, job).await;
        if rules.is_empty() {
            return;
        }
        if fresh {
            self.seed(inst.id, book).await;
        }
        let transitions = book.observe(&rules, figures);
        self.apply(inst, book, transitions).await;
    }

    async fn apply(&self, inst: &Instance, book: &mut AlertBook, transitions: Vec<Transition>) {
        for t in transitions {
            match t {
                Transition::Fire {
                    rule_id,
                    rule,
                    value,
                    message,
                } => {
                    let firing = weir_store::AlertFiring {
                        instance: inst.id,
                        rule_id,
                        rule: rule.describe(),
                        kind: rule.kind,
                        value,
                        message: message.clone(),
                    };
                    match self.gov.session().fire_alert(&self.worker, &firing).await {
                        Ok((alert, new)) => {
                            book.fired(&rule, alert.id);
                            if new {
                                self.log(
                                    inst.id,
                                    LogLevel::Warn,
                                    format!("alert #{} fires: {message}", alert.id),
                                )
                                .await;
                                self.webhook(inst, &rule, &alert).await;
                            }
                        }
                        Err(e) => tracing::warn!(instance = inst.id, "cannot record an alert: {e}"),
                    }
                }
                Transition::Clear {
                    alert_id,
                    rule,
                    value,
                } => match self
                    .gov
                    .session()
                    .clear_alert(&self.worker, alert_id, value)
                    .await
                {
                    Ok(alert) => {
                        book.cleared(&rule);
                        self.log(
                            inst.id,
                            LogLevel::Info,
                            format!("alert #{alert_id} cleared: {}", rule.describe()),
                        )
                        .await;
                        self.webhook(inst, &rule, &alert).await;
                    }
                    Err(weir_store::StoreError::Conflict(weir_store::Conflict::WrongState {
                        ..
                    })) => book.cleared(&rule),
                    Err(e) => {
                        tracing::warn!(instance = inst.id, "cannot clear alert #{alert_id}: {e}")
                    }
                },
            }
        }
    }

    /// POSTs the alert as JSON to the rule's webhook; a failure is a warning in the log.
    async fn webhook(&self, inst: &Instance, rule: &AlertRule, alert: &crate::instances::Alert) {
        let Some(url) = rule.webhook.clone() else {
            return;
        };
        let body = serde_json::json!({
            "alert": alert.id,
            "state": alert.state,
            "instance": inst.id,
            "job": inst.job,
            "env": inst.env,
            "kind": rule.kind.as_str(),
            "rule": rule.describe(),
            "value": alert.value,
            "message": alert.message,
            "fired_at": alert.fired_at,
            "cleared_at": alert.cleared_at,
        });
        let target = url.clone();
        let sent = tokio::task::spawn_blocking(move || post_json(&target, &body)).await;
        let problem = match sent {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(e) => e.to_string(),
        };
        self.log(
            inst.id,
            LogLevel::Warn,
            format!("webhook {url} for alert #{} failed: {problem}", alert.id),
        )
        .await;
    }
}

/// POST `body` to `url` within 5 s.
fn post_json(url: &str, body: &serde_json::Value) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .http_status_as_error(true)
        .build()
        .into();
    agent
        .post(url)
        .header("content-type", "application/json")
        .send(body.to_string())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn empty_job() -> Job {
    Job {
        version: weir_model::model::FORMAT_VERSION,
        name: String::new(),
        description: String::new(),
        mode: Default::default(),
        config: Default::default(),
        package: None,
        datasources: Default::default(),
        nodes: Vec::new(),
        edges: Vec::new(),
        positions: Default::default(),
    }
}
