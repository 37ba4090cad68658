//! `weir instance start|list|show|stop|restart|savepoint|logs` (SPEC R-life, issues 14
//! and 16): runs of a job version or of the working file, carried out by a worker. `start` prints the
//! instance id and returns; when no worker is alive for the store it starts the local
//! one (detached, logging to `.weir/logs/worker.log`), so instances outlive the terminal.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use weir_app::AppError;
use weir_app::instances::{
    Figures, Instance, InstanceDetail, InstanceFilter, InstanceRow, InstanceState, LogLine,
    StartRequest, uptime, version_label,
};
use weir_app::worker::local::{self, LocalWorker};

use super::gov::{emit, with_store};
use super::{Global, exit, table};

#[derive(Debug, Args)]
pub struct InstanceArgs {
    #[command(subcommand)]
    pub command: InstanceCommand,
}

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Start an instance of a job file (its text now), JOB@N, or (--env prod) the live release.
    Start {
        #[arg(value_name = "JOB|JOB@N")]
        job: String,
        /// test (default) or prod.
        #[arg(long, default_value = "test")]
        env: String,
        /// Where to start: latest, earliest, epoch ms, an RFC 3339 time, or savepoint:SP (its state; default: the job's own start).
        #[arg(long, value_name = "POSITION")]
        from: Option<String>,
        /// A data source's address (NAME=ADDRESS, NAME.user=…) or a job parameter NAME=VALUE.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        sets: Vec<String>,
        /// Parallel tasks (default: the job's config.parallelism).
        #[arg(long)]
        parallelism: Option<i64>,
        /// Memory limit (512MiB, 2GiB; default 1GiB).
        #[arg(long)]
        memory: Option<String>,
        /// Do not start a local worker when none is alive.
        #[arg(long)]
        no_worker: bool,
    },
    /// Instances that run or wait (with --all also stopped and failed ones).
    List {
        #[arg(long)]
        all: bool,
        /// Only this job.
        #[arg(long)]
        job: Option<String>,
        /// Only test or prod.
        #[arg(long)]
        env: Option<String>,
    },
    /// One instance: state, worker, figures per operator, recent log and alerts.
    Show { id: i64 },
    /// Stop an instance (its worker flushes the sinks and commits the offsets).
    Stop {
        id: i64,
        /// Wait until it is stopped (at most 60 s).
        #[arg(long)]
        wait: bool,
        /// Stop with a final savepoint, taken once the sinks committed; prints it.
        #[arg(long)]
        savepoint: bool,
    },
    /// Take a savepoint of a running instance (waits up to 60 s); prints its id and path.
    Savepoint { id: i64 },
    /// Carry a test instance's state to another version of its job: savepoint, per-operator report, stop, start JOB@N from it.
    Upgrade {
        id: i64,
        /// The version to run (JOB@N).
        #[arg(long, value_name = "JOB@N")]
        to: String,
        /// Print the report only (from the newest checkpoint, or a fresh savepoint).
        #[arg(long)]
        dry_run: bool,
        /// Let NODE's incompatible state go: it starts empty (repeatable).
        #[arg(long = "allow-drop", value_name = "NODE")]
        allow_drop: Vec<String>,
    },
    /// Start a stopped or failed instance again, from where it stopped.
    Restart {
        id: i64,
        #[arg(long)]
        no_worker: bool,
    },
    /// The instance's log (kept in the store, so any machine can read it).
    Logs {
        id: i64,
        /// Keep printing new lines until Ctrl-C.
        #[arg(long, short)]
        follow: bool,
        /// How many of the last lines.
        #[arg(long, default_value_t = 100)]
        lines: i64,
    },
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// Makes sure a worker will claim what was just started: the local one when none is alive.
fn ensure_worker(global: &Global) -> Result<Option<LocalWorker>, AppError> {
    let cwd = cwd();
    let url = weir_app::governance::store_url(global.store.as_deref(), &cwd)?;
    let project = weir_app::project_root(&cwd);
    local::ensure(&project, &url, global.store.as_deref()).map(Some)
}

fn worker_note(w: &Option<LocalWorker>) -> String {
    match w {
        Some(LocalWorker::Started { pid, log }) => {
            format!(
                "\nstarted the local worker (pid {pid}, log {})",
                log.display()
            )
        }
        _ => String::new(),
    }
}

pub fn run(global: &Global, args: &InstanceArgs) -> i32 {
    match &args.command {
        InstanceCommand::Logs { id, follow, lines } => return logs(global, *id, *follow, *lines),
        InstanceCommand::Stop {
            id,
            wait,
            savepoint: false,
        } => return stop(global, *id, *wait),
        InstanceCommand::Stop {
            id,
            savepoint: true,
            ..
        } => return savepoint(global, *id, true),
        InstanceCommand::Savepoint { id } => return savepoint(global, *id, false),
        _ => {}
    }
    with_store(global, |gov| async move {
        match &args.command {
            InstanceCommand::Start {
                job,
                env,
                from,
                sets,
                parallelism,
                memory,
                no_worker,
            } => {
                let req = StartRequest {
                    job: job.clone(),
                    env: Some(env.clone()),
                    from: from.clone(),
                    sets: sets.clone(),
                    parallelism: *parallelism,
                    memory: memory.clone(),
                    cwd: cwd(),
                };
                let s = gov.start_instance(&req).await?;
                let text = format!(
                    "instance #{} of {} is created; a worker starts it",
                    s.instance.id, s.what
                );
                started(global, s.instance, s.what, text, *no_worker)
            }
            InstanceCommand::Restart { id, no_worker } => {
                let inst = gov.restart_instance(*id).await?;
                let text = format!(
                    "instance #{} of {} is created again; a worker resumes it where it stopped",
                    inst.id, inst.job
                );
                let what = inst.job.clone();
                started(global, inst, what, text, *no_worker)
            }
            InstanceCommand::List { all, job, env } => {
                let job = match job {
                    Some(j) => Some(super::job::job_id(j)?.name()),
                    None => None,
                };
                let filter = InstanceFilter {
                    job,
                    env: env.clone(),
                    state: None,
                    all: *all,
                };
                let rows = gov.instance_rows(&filter, 0).await?;
                emit(global, &rows, || list_text(&rows));
                Ok(exit::OK)
            }
            InstanceCommand::Show { id } => {
                let d = gov.instance_detail(*id, 1, 20).await?;
                emit(global, &d, || show_text(&d));
                Ok(exit::OK)
            }
            InstanceCommand::Upgrade {
                id,
                to,
                dry_run,
                allow_drop,
            } => {
                let req = weir_app::instances::UpgradeRequest {
                    instance: *id,
                    to: to.clone(),
                    dry_run: *dry_run,
                    allow_drop: allow_drop.clone(),
                    cwd: cwd(),
                };
                let up = gov.upgrade_instance(&req).await?;
                emit(global, &up, || {
                    super::savepoint::upgrade_text(&up, *dry_run)
                });
                Ok(if up.blocked.is_empty() {
                    exit::OK
                } else {
                    exit::CHECK_FAILED
                })
            }
            InstanceCommand::Stop { .. }
            | InstanceCommand::Savepoint { .. }
            | InstanceCommand::Logs { .. } => Ok(exit::OK),
        }
    })
}

/// Prints a started instance (its id alone on stdout, for scripts) once a worker will
/// claim it: the local one is started when no worker is alive.
fn started(
    global: &Global,
    instance: Instance,
    what: String,
    text: String,
    no_worker: bool,
) -> Result<i32, AppError> {
    let worker = if no_worker {
        None
    } else {
        match ensure_worker(global) {
            Ok(w) => w,
            Err(e) => {
                return Err(AppError::User(format!(
                    "{text}, but no worker will run it: {e}"
                )));
            }
        }
    };
    if global.json {
        super::print_json(&serde_json::json!({
            "instance": instance,
            "what": what,
            "worker": worker,
        }));
    } else {
        outln!("{}", instance.id);
        eprintln!("{text}{}", worker_note(&worker));
    }
    Ok(exit::OK)
}

fn stop(global: &Global, id: i64, wait: bool) -> i32 {
    with_store(global, |gov| async move {
        let inst = gov.stop_instance(id).await?;
        let mut last = inst.clone();
        if wait && last.state.is_active() {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while last.state.is_active() && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(200)).await;
                last = gov.instance(id).await?;
            }
        }
        emit(global, &last, || match last.state {
            InstanceState::Stopped if wait || inst.state == InstanceState::Stopped => {
                format!("instance #{id} is stopped\n")
            }
            InstanceState::Failed => format!(
                "instance #{id} failed while stopping: {}\n",
                last.error.as_deref().unwrap_or("no error recorded")
            ),
            _ => format!(
                "instance #{id} is stopping; worker {} flushes its sinks and stops it within seconds\n",
                last.worker.as_deref().unwrap_or("(none)")
            ),
        });
        if wait && last.state.is_active() {
            return Err(AppError::External(format!(
                "instance #{id} is still {} after 60 s; see weir instance logs {id}",
                last.state
            )));
        }
        Ok(exit::OK)
    })
}

/// Takes a savepoint of instance `id` (with `stop`, stops it with one), waiting for its
/// worker; with `stop`, then waits until the instance is stopped.
fn savepoint(global: &Global, id: i64, stop: bool) -> i32 {
    with_store(global, |gov| async move {
        let sp = gov
            .take_savepoint(id, stop, weir_app::instances::SAVEPOINT_WAIT)
            .await?;
        let mut inst = None;
        if stop {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let mut last = gov.instance(id).await?;
            while last.state.is_active() && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(200)).await;
                last = gov.instance(id).await?;
            }
            inst = Some(last);
        }
        let value = serde_json::json!({ "savepoint": sp, "instance": inst });
        if global.json {
            super::print_json(&value);
        } else {
            outln!("{}", sp.id);
            outln!("{}", sp.path);
            let then = match &inst {
                Some(i) if i.state.is_active() => format!("; instance #{id} is still {}", i.state),
                Some(i) => format!("; instance #{id} is {}", i.state),
                None => String::new(),
            };
            eprintln!(
                "savepoint #{} of instance #{id} ({}, {}){then}",
                sp.id,
                sp.job,
                super::savepoint::bytes(sp.size)
            );
        }
        Ok(exit::OK)
    })
}

fn logs(global: &Global, id: i64, follow: bool, lines: i64) -> i32 {
    with_store(global, |gov| async move {
        gov.instance(id).await?;
        let mut after: Option<i64> = None;
        loop {
            let batch = gov
                .instance_logs(id, after, if after.is_some() { 1000 } else { lines })
                .await?;
            for l in &batch {
                print_log_line(global, l);
            }
            if let Some(last) = batch.last() {
                after = Some(last.id);
            } else if after.is_none() {
                after = Some(0);
            }
            if !follow {
                return Ok(exit::OK);
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = tokio::signal::ctrl_c() => return Ok(exit::OK),
            }
        }
    })
}

fn print_log_line(global: &Global, l: &LogLine) {
    if global.json {
        let line = serde_json::to_string(l).unwrap_or_default();
        outln!("{line}");
    } else {
        // a log line may quote a record's content: nothing in it may act on the terminal
        outln!(
            "{} {:5} {}",
            l.at,
            l.level.as_str(),
            weir_model::text::printable(&l.message)
        );
    }
}

/// Rate as people read it: `0`, `12.5`, `3.2k`, `1.4M`.
pub(crate) fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if v.fract() == 0.0 || v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

pub(crate) fn list_text(rows: &[InstanceRow]) -> String {
    if rows.is_empty() {
        return "no instances (weir instance start JOB starts one; --all shows stopped ones)\n"
            .into();
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let f = r.figures.as_ref();
            vec![
                format!("#{}", r.instance.id),
                r.instance.job.clone(),
                r.instance.env.clone(),
                version_label(&r.instance),
                r.instance.state.to_string(),
                uptime(&r.instance),
                f.map(|f| rate(f.rate_in())).unwrap_or_else(|| "-".into()),
                f.map(|f| rate(f.rate_out())).unwrap_or_else(|| "-".into()),
                opt(f.and_then(Figures::lag)),
                if r.firing > 0 {
                    format!("{} firing", r.firing)
                } else {
                    String::new()
                },
                r.instance.worker.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table::render(
        &[
            "ID", "JOB", "ENV", "VERSION", "STATE", "UP", "IN/S", "OUT/S", "LAG", "ALERTS",
            "WORKER",
        ],
        &body,
    )
}

pub(crate) fn operators_text(f: &Figures) -> String {
    let body: Vec<Vec<String>> = f
        .nodes
        .iter()
        .map(|n| {
            vec![
                n.id.clone(),
                n.kind.clone(),
                rate(n.rate_in),
                rate(n.rate_out),
                n.records_in.to_string(),
                n.records_out.to_string(),
                n.latency_p99_ms
                    .map(|v| format!("{v:.0}ms"))
                    .unwrap_or_else(|| "-".into()),
                opt(n.lag),
                n.watermark_delay_ms
                    .map(|d| format!("{:.1}s", d as f64 / 1000.0))
                    .unwrap_or_else(|| "-".into()),
                n.late.to_string(),
                (n.errors + n.dead_letters).to_string(),
                format!("{:.0}%", n.backpressure * 100.0),
            ]
        })
        .collect();
    table::render(
        &[
            "OPERATOR",
            "KIND",
            "IN/S",
            "OUT/S",
            "IN",
            "OUT",
            "P99",
            "LAG",
            "WM DELAY",
            "LATE",
            "ERRORS",
            "BACKPRESSURE",
        ],
        &body,
    )
}

fn show_text(d: &InstanceDetail) -> String {
    let i = &d.instance;
    let mut s = format!(
        "instance #{} of {} ({}, {})\n  state {} (desired {}){}\n  worker {}  heartbeat {}\n  {} task(s), {} MiB, start {}\n  created by {} at {}\n",
        i.id,
        i.job,
        i.env,
        version_label(i),
        i.state,
        i.desired,
        i.error
            .as_deref()
            .map(|e| format!("\n  error: {e}"))
            .unwrap_or_default(),
        i.worker.as_deref().unwrap_or("-"),
        i.heartbeat_at.as_deref().unwrap_or("-"),
        i.parallelism,
        i.memory_mib,
        weir_app::jobs::start_label(i.start),
        i.created_by,
        i.created_at,
    );
    if let Some(f) = d.figures() {
        s.push('\n');
        s.push_str(&operators_text(f));
        if let Some(c) = &f.checkpoints {
            s.push_str(&super::savepoint::checkpoints_text(c));
        }
    }
    let firing: Vec<_> = d.alerts.iter().filter(|a| a.cleared_at.is_none()).collect();
    if !firing.is_empty() {
        s.push_str("\nfiring alerts:\n");
        for a in firing {
            s.push_str(&format!(
                "  #{} {} since {}: {}\n",
                a.id,
                a.rule,
                a.fired_at,
                weir_model::text::printable(&a.message)
            ));
        }
    }
    if !d.log.is_empty() {
        s.push_str("\nlog:\n");
        for l in &d.log {
            s.push_str(&format!(
                "  {} {:5} {}\n",
                l.at,
                l.level.as_str(),
                weir_model::text::printable(&l.message)
            ));
        }
    }
    s
}
