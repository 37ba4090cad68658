//! `weir worker [--slots N] [--metrics-addr ADDR]`: run instances from the store until
//! SIGTERM, Ctrl-C or `weir worker stop` (instances are stopped cleanly and handed back).
//! `weir worker status` lists the store's workers; `weir worker stop [ID]` asks one (by
//! default every live worker of this machine that runs as you) to stop.

use std::time::Duration;

use clap::{Args, Subcommand};
use weir_app::AppError;
use weir_app::instances::WorkerRow;
use weir_app::worker::{self, WorkerOptions};

use super::gov::{emit, with_store};
use super::{Global, exit, fail, table};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WorkerArgs {
    #[command(subcommand)]
    pub command: Option<WorkerCommand>,
    /// How many instances it runs at most.
    #[arg(long, default_value_t = 8)]
    pub slots: i64,
    /// Serve Prometheus metrics here (HOST:PORT; port 0 picks one).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    /// Its id in the store (default HOST-PID).
    #[arg(long)]
    pub id: Option<String>,
    /// How long figures are kept in the store (default 1h).
    #[arg(long, default_value = "1h")]
    pub keep: String,
    /// The local worker of the embedded default: also runs the project's embedded Kafka
    /// broker when none runs.
    #[arg(long)]
    pub local: bool,
}

#[derive(Debug, Subcommand)]
pub enum WorkerCommand {
    /// The workers of this store: heartbeat, slots, instances.
    Status,
    /// Ask a worker to stop (default: the live workers of this machine running as you).
    Stop {
        id: Option<String>,
        /// Do not wait until it has stopped.
        #[arg(long)]
        no_wait: bool,
    },
}

pub fn run(global: &Global, args: &WorkerArgs) -> i32 {
    match &args.command {
        None => serve(global, args),
        Some(WorkerCommand::Status) => with_store(global, |gov| async move {
            let rows = gov.worker_rows().await?;
            emit(global, &rows, || status_text(&rows));
            Ok(exit::OK)
        }),
        Some(WorkerCommand::Stop { id, no_wait }) => stop(global, id.clone(), !no_wait),
    }
}

fn serve(global: &Global, args: &WorkerArgs) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let url = match weir_app::governance::store_url(global.store.as_deref(), &cwd) {
        Ok(u) => u,
        Err(e) => return fail(global, &e),
    };
    let keep = match weir_app::instances::parse_duration_secs(&args.keep) {
        Ok(s) if s > 0 => Duration::from_secs(s),
        Ok(_) => {
            return fail(
                global,
                &AppError::User("--keep 0: keep figures for at least a second (1h, 30m)".into()),
            );
        }
        Err(e) => return fail(global, &e),
    };
    let mut opts = WorkerOptions::new(
        url,
        weir_app::governance::os_login(),
        weir_app::project_root(&cwd),
    );
    opts.slots = args.slots;
    opts.metrics_addr = args.metrics_addr.clone();
    opts.id = args.id.clone();
    opts.keep_figures = keep;
    opts.broker = args.local;
    let json = global.json;
    let r = worker::run(opts, |ready| {
        if json {
            super::print_json(&serde_json::to_value(ready).unwrap_or_default());
        } else {
            let mut s = format!("worker {} runs up to {} instance(s)", ready.id, ready.slots);
            if let Some(m) = &ready.metrics {
                s.push_str(&format!("; metrics at http://{m}/metrics"));
            }
            if let Some(b) = &ready.broker {
                s.push_str(&format!("; embedded broker at {b}"));
            }
            outln!("{s}");
            eprintln!("SIGTERM or Ctrl-C stops it cleanly (instances handed back)");
        }
    });
    match r {
        Ok(()) => exit::OK,
        Err(e) => fail(global, &e),
    }
}

fn stop(global: &Global, id: Option<String>, wait: bool) -> i32 {
    with_store(global, |gov| async move {
        let rows = gov.worker_rows().await?;
        let me = gov.actor().to_string();
        let host = weir_app::worker::host();
        let ids: Vec<String> = match id {
            Some(i) => vec![i],
            None => rows
                .iter()
                .filter(|w| w.alive && w.worker.login == me && w.worker.host == host)
                .map(|w| w.worker.id.clone())
                .collect(),
        };
        if ids.is_empty() {
            emit(global, &Vec::<String>::new(), || {
                "no live worker of yours on this machine (weir worker status lists them)\n".into()
            });
            return Ok(exit::OK);
        }
        for i in &ids {
            gov.stop_worker(i).await?;
        }
        if wait {
            let deadline = std::time::Instant::now() + Duration::from_secs(45);
            loop {
                let left: Vec<String> = gov
                    .worker_rows()
                    .await?
                    .into_iter()
                    .filter(|w| {
                        ids.contains(&w.worker.id)
                            && weir_app::instances::heartbeat_fresh(&w.worker.heartbeat_at)
                    })
                    .map(|w| w.worker.id)
                    .collect();
                if left.is_empty() || std::time::Instant::now() >= deadline {
                    if !left.is_empty() {
                        return Err(AppError::External(format!(
                            "worker(s) {} did not stop within 45 s; see .weir/logs/worker.log",
                            left.join(", ")
                        )));
                    }
                    break;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        emit(global, &ids, || {
            let verb = if wait { "stopped" } else { "asked to stop" };
            format!(
                "worker {} {verb}; its instances are handed back\n",
                ids.join(", ")
            )
        });
        Ok(exit::OK)
    })
}

fn status_text(rows: &[WorkerRow]) -> String {
    if rows.is_empty() {
        return "no workers (weir instance start starts the local one; weir worker runs one)\n"
            .into();
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|w| {
            let state = if w.worker.stopping {
                "stopping"
            } else if w.alive {
                "alive"
            } else {
                "silent"
            };
            vec![
                w.worker.id.clone(),
                state.to_string(),
                w.worker.login.clone(),
                format!("{}:{}", w.worker.host, w.worker.pid),
                format!("{}/{}", w.worker.instances.len(), w.worker.slots),
                weir_app::jobs::age(&w.worker.heartbeat_at),
                w.worker
                    .instances
                    .iter()
                    .map(|i| format!("#{i}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    table::render(
        &[
            "WORKER",
            "STATE",
            "LOGIN",
            "HOST:PID",
            "SLOTS",
            "HEARTBEAT",
            "INSTANCES",
        ],
        &body,
    )
}
