//! `weir worker`: the process that runs instances (issue 14). It registers with the
//! store, then every second:
//! - heartbeats (every 2 s): learns which instances it still holds and which should stop,
//!   stops those, and stops running any instance another worker took over; between
//!   heartbeats it reads the desired states again only when the store's change feed says
//!   something was written (at once, so a stop is carried out within a second);
//! - claims instances that want to run while it has free slots (one transaction; a
//!   worker silent for 10 s loses its instances to the others), on the heartbeat's turn
//!   and whenever the change feed fires;
//! - samples every instance's figures, stores them in one batch, evaluates the alert
//!   rules (firing and clearing alerts, webhooks) and refreshes `/metrics`;
//! - reports each instance's end: `stopped` (sinks flushed, offsets committed) or
//!   `failed` with the error.
//!
//! On SIGTERM or Ctrl-C it stops its instances cleanly and hands them back to the store,
//! so that another worker (or the next local one) resumes them where they stopped. When
//! the store does not answer it keeps running its instances and retries with backoff.
//!
//! With checkpoints (the job's `checkpoint_interval_ms` above 0), a stop takes a final
//! checkpoint whose barrier ends the sources, so that transactional sinks commit before
//! the run ends; savepoint requests of its instances (`weir instance savepoint`, `stop
//! --savepoint`) are picked up with the desired states, within a second.
//!
//! `instance.rs` prepares and starts one instance, `checkpoints.rs` its checkpoints and
//! savepoints, `report.rs` writes its figures, log and alerts, `http.rs` serves
//! `/metrics`, `local.rs` starts the local worker of the embedded default.

pub mod checkpoints;
mod http;
mod instance;
pub mod local;
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use weir_engine::metrics::Snapshot;

use crate::AppError;
use crate::governance::Governance;
use crate::instances::{
    AlertBook, DesiredState, Figures, HEARTBEAT_EVERY, Instance, KEEP_FIGURES, TAKE_OVER_AFTER,
};
use report::Reporter;

/// How `weir worker` runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The store (`sqlite://…` or `postgres://…`).
    pub store_url: String,
    /// The login it acts as on SQLite (PostgreSQL: the session user).
    pub login: String,
    /// The project directory: dead letters and logs go under its `.weir/`.
    pub project: PathBuf,
    /// How many instances it runs at most.
    pub slots: i64,
    /// Serve Prometheus metrics on this address (`127.0.0.1:9464`).
    pub metrics_addr: Option<String>,
    /// Its id (default `host-pid`).
    pub id: Option<String>,
    /// How long figures stay in the store.
    pub keep_figures: Duration,
    /// Run the project's embedded Kafka broker when none runs (the local worker).
    pub broker: bool,
}

impl WorkerOptions {
    /// Defaults for `store_url` as `login` in `project`.
    pub fn new(store_url: String, login: String, project: PathBuf) -> Self {
        WorkerOptions {
            store_url,
            login,
            project,
            slots: 8,
            metrics_addr: None,
            id: None,
            keep_figures: KEEP_FIGURES,
            broker: false,
        }
    }
}

/// What the worker says as it starts (`weir worker` prints it).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ready {
    pub id: String,
    pub slots: i64,
    pub metrics: Option<String>,
    pub broker: Option<String>,
}

/// One instance on this worker.
struct Run {
    instance: Instance,
    /// Set once the pipeline started.
    live: Option<Live>,
    /// The task that starts and then waits for the pipeline.
    task: JoinHandle<Result<(), AppError>>,
    /// Asked to stop (desired stopped, or the worker stops).
    stopping: bool,
    /// Another worker took it over: end it without reporting.
    lost: bool,
    book: AlertBook,
}

/// The parts of a started pipeline the loop samples.
struct Live {
    job: weir_model::model::Job,
    metrics: weir_engine::metrics::Metrics,
    stop: Arc<std::sync::atomic::AtomicBool>,
    /// The run's checkpoints (savepoints, the stop's final checkpoint, figures).
    checkpoints: Option<Arc<weir_engine::checkpoint::Coordinator>>,
    text_hash: String,
    started: Instant,
    previous: Option<Snapshot>,
    figures: Option<Figures>,
}

type Started = tokio::sync::oneshot::Receiver<Live>;

/// This machine's name, as workers record it.
pub fn host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Runs a worker until SIGTERM, Ctrl-C or `weir worker stop`; `on_ready` is called once
/// it is registered (and serving `/metrics`).
pub fn run(opts: WorkerOptions, on_ready: impl FnOnce(&Ready) + Send) -> Result<(), AppError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::io("cannot start the worker's runtime", e))?;
    rt.block_on(serve(opts, on_ready))
}

async fn serve(opts: WorkerOptions, on_ready: impl FnOnce(&Ready)) -> Result<(), AppError> {
    let gov = Arc::new(Governance::open(&opts.store_url, &opts.login).await?);
    let id = opts
        .id
        .clone()
        .unwrap_or_else(|| format!("{}-{}", host(), std::process::id()));
    gov.session()
        .register_worker(&id, &host(), i64::from(std::process::id()), opts.slots)
        .await?;
    // the embedded broker of the project, for the local worker
    let mut broker_addr = None;
    let _broker = if opts.broker {
        let (b, addr) = crate::engine::embedded_broker(&opts.project)?;
        broker_addr = Some(addr);
        b
    } else {
        None
    };
    let exposition = Arc::new(std::sync::RwLock::new(String::new()));
    let metrics_addr = match &opts.metrics_addr {
        Some(addr) => Some(http::serve(addr, exposition.clone()).await?),
        None => None,
    };
    on_ready(&Ready {
        id: id.clone(),
        slots: opts.slots,
        metrics: metrics_addr.clone(),
        broker: broker_addr,
    });
    tracing::info!(worker = %id, "worker registered");
    let reporter = Reporter::new(gov.clone(), id.clone());
    let mut runs: BTreeMap<i64, Run> = BTreeMap::new();
    let mut starting: BTreeMap<i64, Started> = BTreeMap::new();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| AppError::io("cannot watch SIGTERM", e))?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_beat = Instant::now();
    let mut last_sample = Instant::now();
    let mut last_prune = Instant::now() - Duration::from_secs(3600);
    // The store's change feed wakes the loop as soon as anyone writes (an instance
    // created, a stop asked), so a claim or a stop does not wait for the next tick; on
    // PostgreSQL it is LISTEN/NOTIFY, on SQLite a cheap poll of the newest audit id.
    let mut changes = gov.changes(Duration::from_millis(100)).await.ok();
    let mut backoff = Duration::ZERO;
    // savepoint requests already carried out or under way
    let mut handled: BTreeSet<i64> = BTreeSet::new();
    // the store changed since the last look (the first turn looks at everything)
    let mut woke = true;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            r = next_change(&mut changes) => {
                woke = true;
                if r.is_err() {
                    // the feed broke (store unreachable): the ticks carry on alone
                    changes = None;
                }
            }
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
        if changes.is_none() && backoff == Duration::ZERO && last_beat.elapsed() < HEARTBEAT_EVERY {
            changes = gov.changes(Duration::from_millis(100)).await.ok();
        }
        // pipelines that started
        for (iid, rx) in std::mem::take(&mut starting) {
            let mut rx = rx;
            match rx.try_recv() {
                Ok(live) => {
                    if let Some(run) = runs.get_mut(&iid) {
                        run.live = Some(live);
                        if run.stopping {
                            stop_run(run, &reporter, !run.lost);
                        }
                    }
                }
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {
                    starting.insert(iid, rx);
                }
                Err(_) => {}
            }
        }
        // runs that ended
        let ended: Vec<i64> = runs
            .iter()
            .filter(|(_, r)| r.task.is_finished())
            .map(|(i, _)| *i)
            .collect();
        for iid in ended {
            let Some(run) = runs.remove(&iid) else {
                continue;
            };
            starting.remove(&iid);
            let result = run
                .task
                .await
                .map_err(|e| AppError::Internal(format!("instance #{iid}'s task failed: {e}")))
                .and_then(|r| r);
            reporter
                .ended(&run.instance, result, run.stopping, run.lost, run.book)
                .await;
        }
        // heartbeat every 2 s. In between, the store is read only when it changed: every
        // write (a stop, a savepoint request, a new instance) is audited, and the change
        // feed wakes the loop at once. Without a feed every turn reads (stops within a
        // second either way); an idle worker no longer asks three questions a second.
        let beat_due = last_beat.elapsed() >= HEARTBEAT_EVERY && last_beat.elapsed() >= backoff;
        let look = std::mem::take(&mut woke) || changes.is_none() || beat_due;
        if beat_due || (look && !runs.is_empty() && backoff == Duration::ZERO) {
            let beat = if beat_due {
                last_beat = Instant::now();
                gov.session().worker_heartbeat(&id).await
            } else {
                gov.session()
                    .held_instances(&id)
                    .await
                    .map(|instances| weir_store::Heartbeat {
                        stopping: false,
                        instances,
                    })
            };
            match beat {
                Ok(beat) => {
                    if backoff > Duration::ZERO {
                        tracing::info!("the store answers again");
                    }
                    backoff = Duration::ZERO;
                    let stop_requested = checkpoints::savepoint_requests(
                        &gov,
                        &reporter,
                        &id,
                        &mut runs,
                        &mut handled,
                    )
                    .await;
                    for (iid, run) in runs.iter_mut() {
                        match beat.instances.iter().find(|h| h.id == *iid) {
                            None => {
                                // taken over by another worker (or handed back)
                                if !run.lost {
                                    tracing::warn!(
                                        "instance #{iid} was taken over; stopping it here"
                                    );
                                    run.lost = true;
                                    run.stopping = true;
                                    // no final checkpoint: the new holder writes there now
                                    stop_run(run, &reporter, false);
                                }
                            }
                            Some(h)
                                if h.desired == DesiredState::Stopped
                                    && !run.stopping
                                    && !stop_requested.contains(iid) =>
                            {
                                run.stopping = true;
                                stop_run(run, &reporter, true);
                                reporter.stopping(&run.instance).await;
                            }
                            Some(_) => {}
                        }
                    }
                    if beat.stopping {
                        tracing::info!("asked to stop (weir worker stop)");
                        break;
                    }
                }
                Err(e) => {
                    if store_file_gone(&opts.store_url) {
                        tracing::error!(
                            "the store file of {} is gone (the project was removed): the worker stops",
                            opts.store_url
                        );
                        break;
                    }
                    backoff = (backoff * 2).clamp(HEARTBEAT_EVERY, Duration::from_secs(30));
                    tracing::warn!(
                        "store unreachable ({e}); instances keep running, retrying in {backoff:?}"
                    );
                }
            }
        }
        // claim: new instances arrive through the feed, and the heartbeat's turn (every
        // 2 s) finds those whose worker went silent (taken over after 10 s)
        let free = opts.slots - runs.len() as i64;
        if free > 0 && look && backoff == Duration::ZERO {
            match gov
                .session()
                .claim_instances(&id, free, TAKE_OVER_AFTER)
                .await
            {
                Ok(claimed) => {
                    for inst in claimed {
                        let (tx, rx) = tokio::sync::oneshot::channel();
                        let task = tokio::spawn(run_instance(
                            gov.clone(),
                            reporter.clone(),
                            inst.clone(),
                            opts.project.clone(),
                            tx,
                        ));
                        starting.insert(inst.id, rx);
                        runs.insert(
                            inst.id,
                            Run {
                                instance: inst,
                                live: None,
                                task,
                                stopping: false,
                                lost: false,
                                book: AlertBook::new(),
                            },
                        );
                    }
                }
                Err(e) => tracing::warn!("claiming instances failed: {e}"),
            }
        }
        // figures, alerts, /metrics: once a second
        if last_sample.elapsed() >= Duration::from_millis(950) {
            last_sample = Instant::now();
            sample(&reporter, &mut runs, &exposition).await;
        }
        if last_prune.elapsed() >= Duration::from_secs(60) && backoff == Duration::ZERO {
            last_prune = Instant::now();
            let cutoff = crate::instances::now_ms() - opts.keep_figures.as_millis() as i64;
            if let Err(e) = gov.session().prune_metrics(&id, cutoff).await {
                tracing::warn!("pruning old figures failed: {e}");
            }
        }
    }
    // stop everything cleanly, then hand the instances back
    tracing::info!(worker = %id, "worker stopping: stopping {} instance(s)", runs.len());
    for run in runs.values_mut() {
        if !run.stopping {
            run.stopping = true;
            stop_run(run, &reporter, true);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while runs.values().any(|r| !r.task.is_finished()) && Instant::now() < deadline {
        for (iid, rx) in std::mem::take(&mut starting) {
            let mut rx = rx;
            if let Ok(live) = rx.try_recv() {
                if let Some(run) = runs.get_mut(&iid) {
                    run.live = Some(live);
                    stop_run(run, &reporter, true);
                } else {
                    live.stop.store(true, Relaxed);
                }
            } else {
                starting.insert(iid, rx);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (_, run) in std::mem::take(&mut runs) {
        let finished = run.task.is_finished();
        let result = if finished {
            run.task
                .await
                .unwrap_or_else(|e| Err(AppError::Internal(e.to_string())))
        } else {
            run.task.abort();
            Err(AppError::Internal("did not stop within 30 s".into()))
        };
        reporter.handed_back(&run.instance, result).await;
    }
    let handed = gov.session().unregister_worker(&id).await?;
    tracing::info!(worker = %id, "worker stopped; {} instance(s) handed back", handed.len());
    Ok(())
}

/// A SQLite store whose file no longer exists: nobody can reach this worker's instances
/// any more, so retrying forever would leave an orphan process.
fn store_file_gone(url: &str) -> bool {
    url.strip_prefix("sqlite://")
        .map(|p| p.split('?').next().unwrap_or(p))
        .is_some_and(|p| !std::path::Path::new(p).exists())
}

/// The next change of the store; pending forever without a feed.
async fn next_change(changes: &mut Option<weir_store::Changes>) -> Result<i64, AppError> {
    match changes {
        Some(c) => Ok(c.next().await?),
        None => std::future::pending().await,
    }
}

/// Stops a run: with a final checkpoint when `checkpoint` and the run takes
/// checkpoints (transactional sinks commit first), else with the stop flag.
fn stop_run(run: &Run, reporter: &Reporter, checkpoint: bool) {
    let Some(live) = &run.live else {
        return;
    };
    match (&live.checkpoints, checkpoint) {
        (Some(coord), true) => {
            let (coord, stop) = (coord.clone(), live.stop.clone());
            let (reporter, iid) = (reporter.clone(), run.instance.id);
            tokio::spawn(async move {
                if let Some(why) = checkpoints::stop_with_checkpoint(coord, stop).await {
                    reporter.log(iid, weir_store::LogLevel::Warn, why).await;
                }
            });
        }
        _ => live.stop.store(true, Relaxed),
    }
}

/// Starts `inst`, hands the sampling parts back through `started`, then waits for the
/// pipeline's end (which, for managed offsets, commits them).
async fn run_instance(
    gov: Arc<Governance>,
    reporter: Reporter,
    inst: Instance,
    project: PathBuf,
    started: tokio::sync::oneshot::Sender<Live>,
) -> Result<(), AppError> {
    let running = instance::start(&gov, &inst, &project).await?;
    reporter
        .running(&inst, &running.job, &running.addresses)
        .await?;
    if let Some(what) = &running.restored {
        reporter
            .log(inst.id, weir_store::LogLevel::Info, what.clone())
            .await;
    }
    let live = Live {
        job: running.job.clone(),
        metrics: running.metrics.clone(),
        stop: running.stop.clone(),
        checkpoints: running.checkpoints.clone(),
        text_hash: running.text_hash.clone(),
        started: Instant::now(),
        previous: None,
        figures: None,
    };
    let _ = started.send(live);
    running.pipeline.wait().await?;
    Ok(())
}

/// Samples every running instance: figures to the store (one batch), alerts, `/metrics`.
async fn sample(
    reporter: &Reporter,
    runs: &mut BTreeMap<i64, Run>,
    exposition: &Arc<std::sync::RwLock<String>>,
) {
    let now = crate::instances::now_ms();
    let mut batch = Vec::new();
    for (iid, run) in runs.iter_mut() {
        let Some(live) = run.live.as_mut() else {
            continue;
        };
        let snap = live.metrics.snapshot(live.started, live.previous.as_ref());
        let mut figures = Figures::of(&live.job, &snap, now);
        figures.checkpoints = live
            .checkpoints
            .as_ref()
            .map(|c| crate::instances::CheckpointFigures::of(&c.stats(), now));
        batch.push((*iid, figures.clone()));
        live.previous = Some(snap);
        live.figures = Some(figures);
    }
    reporter.figures(&batch).await;
    for run in runs.values_mut() {
        let Some(live) = run.live.as_ref() else {
            continue;
        };
        let Some(figures) = live.figures.clone() else {
            continue;
        };
        let job = live.job.clone();
        reporter
            .alerts(&run.instance, &job, &mut run.book, &figures)
            .await;
    }
    let parts: Vec<(String, String, &Snapshot)> = runs
        .values()
        .filter_map(|r| {
            let live = r.live.as_ref()?;
            Some((
                r.instance.id.to_string(),
                r.instance.job.clone(),
                live.previous.as_ref()?,
            ))
        })
        .collect();
    let labelled: Vec<[(&str, &str); 2]> = parts
        .iter()
        .map(|(i, j, _)| [("instance", i.as_str()), ("job", j.as_str())])
        .collect();
    let many: Vec<(&Snapshot, &[(&str, &str)])> = parts
        .iter()
        .zip(&labelled)
        .map(|((_, _, s), l)| (*s, &l[..]))
        .collect();
    let mut text = weir_engine::metrics::prometheus_many(&many);
    let checkpoints: Vec<(String, String, crate::instances::CheckpointFigures)> = runs
        .values()
        .filter_map(|r| {
            let c = r.live.as_ref()?.figures.as_ref()?.checkpoints.clone()?;
            Some((r.instance.id.to_string(), r.instance.job.clone(), c))
        })
        .collect();
    text.push_str(&http::checkpoint_metrics(&checkpoints));
    if let Ok(mut e) = exposition.write() {
        *e = text;
    }
}
