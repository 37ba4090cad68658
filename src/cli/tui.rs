//! `weir` / `weir tui`: the full-screen workbench on the current project, or headless
//! with `--script FILE --dump DIR` (keys replayed through the same path, every frame
//! written as text).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{Global, exit};
use weir_app::project::Project;
use weir_app::store_link::StoreLink;
use weir_tui::workbench::{Env, Workbench};
use weir_tui::{config, headless, terminal};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum EnvArg {
    #[default]
    Test,
    Prod,
}

#[derive(Debug, Args, Default)]
pub struct TuiArgs {
    /// Replay this key script instead of reading the keyboard (headless).
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Write every frame of a headless run as a text file into DIR.
    #[arg(long, value_name = "DIR", requires = "script")]
    pub dump: Option<PathBuf>,
    /// Screen size of a headless run.
    #[arg(long, value_name = "WxH", default_value = "80x24")]
    pub size: String,
    /// Environment: prod uses the prod skin.
    #[arg(long, value_enum, default_value_t = EnvArg::Test)]
    pub env: EnvArg,
    /// Theme name (themes/NAME.ron); default `default`, or `prod` in production.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Do not start the project's embedded Kafka broker with the workbench.
    #[arg(long)]
    pub no_broker: bool,
}

/// The acting user: WEIR_USER, else the OS login (from the environment, else the
/// password database entry of the process's uid).
pub fn current_user() -> String {
    weir_app::governance::os_login()
}

pub fn run(global: &Global, args: &TuiArgs) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let project = Project::discover(&cwd);
    let env = match args.env {
        EnvArg::Test => Env::Test,
        EnvArg::Prod => Env::Prod,
    };
    let loaded = config::load(&project.root, env, args.theme.as_deref());
    // configuration problems are shown before the alternate screen opens
    for d in &loaded.diagnostics {
        eprintln!("{}", d.render());
    }
    let mut app = Workbench::new(project, loaded.theme, loaded.keymap, env, current_user());
    if let Some(first) = loaded.diagnostics.first() {
        let more = match loaded.diagnostics.len() {
            1 => String::new(),
            n => format!(" (+{} more, see the terminal after exit)", n - 1),
        };
        app.status = Some((
            weir_tui::action::Level::Error,
            format!(
                "{}:{}:{}: {}; defaults used for it{more}",
                first.file, first.line, first.column, first.message
            ),
        ));
    }
    // The embedded default: the SQLite store under .weir/ (created on first use, the
    // first user becomes its system admin), or the team's PostgreSQL.
    match StoreLink::open_default(global.store.as_deref(), &app.project.root) {
        Ok(link) => app.attach_store(link),
        Err(e) => {
            let why = format!("no metadata store: {e}");
            if app.status.is_none() {
                app.status = Some((weir_tui::action::Level::Error, why.clone()));
            }
            app.store_failed(why);
        }
    }
    match &args.script {
        Some(script) => run_headless(app, script, args),
        None => {
            if !std::io::stdout().is_terminal() {
                eprintln!(
                    "error: weir's workbench needs a terminal; for scripts use `weir tui --script FILE --dump DIR`, and `weir --help` lists the commands"
                );
                return exit::INVALID;
            }
            // and a Kafka broker for the project
            let mut started: Option<String> = None;
            let worker = if args.no_broker {
                None
            } else {
                local_worker(global, &app.project.root)
            };
            if let Some(note) = &worker
                && app.status.is_none()
            {
                app.status = Some((weir_tui::action::Level::Info, note.clone()));
            }
            let broker = if args.no_broker || worker.is_some() {
                None
            } else {
                match weir_app::engine::embedded_broker(&app.project.root) {
                    Ok((broker, bootstrap)) => {
                        started = broker.as_ref().map(|_| bootstrap.clone());
                        if app.status.is_none() {
                            app.status = Some((
                                weir_tui::action::Level::Info,
                                format!("embedded Kafka broker at {bootstrap}"),
                            ));
                        }
                        broker
                    }
                    Err(e) => {
                        app.status = Some((
                            weir_tui::action::Level::Error,
                            format!("no embedded broker: {e}"),
                        ));
                        None
                    }
                }
            };
            let outcome = terminal::run(app);
            // The topic-creation registry holds a handle too: forget it, so that dropping
            // ours stops the broker and removes .weir/broker.json.
            if let Some(b) = &started {
                weir_app::kafka_topics::unregister_embedded(b);
            }
            drop(broker);
            match outcome {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("error: the terminal failed: {e}");
                    exit::EXTERNAL
                }
            }
        }
    }
}

fn run_headless(mut app: Workbench, script_path: &PathBuf, args: &TuiArgs) -> i32 {
    let (w, h) = match headless::parse_size(&args.size) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --size: {e}");
            return exit::INVALID;
        }
    };
    let text = match std::fs::read_to_string(script_path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read script {}: {e}", script_path.display());
            return exit::INVALID;
        }
    };
    let script = match headless::parse_script(&text) {
        Ok(s) => s,
        Err(errors) => {
            for e in errors {
                eprintln!("{}:{e}", script_path.display());
            }
            return exit::INVALID;
        }
    };
    let mut runner = match headless::Headless::new(w, h, args.dump.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot write frames: {e}");
            return exit::INVALID;
        }
    };
    match runner.run(&mut app, &script) {
        Ok(()) => {
            outln!("{} frames, script passed", runner.frames);
            exit::OK
        }
        Err(f) => {
            eprintln!("{}:{}: {}", script_path.display(), f.line, f.message);
            exit::CHECK_FAILED
        }
    }
}

/// The embedded default's local worker, which runs instances and the project's embedded
/// Kafka broker so that both outlive the workbench: started (detached, not waited for)
/// when no broker runs for the project and no worker is alive for the store. Returns what
/// to say in the status bar, or None when the workbench should run a broker of its own
/// (a broker or a worker is there already, or the worker cannot start).
fn local_worker(global: &Global, root: &std::path::Path) -> Option<String> {
    if let Ok((_, control)) = weir_app::engine::broker_running(root)
        && std::net::TcpStream::connect(&control).is_ok()
    {
        return None;
    }
    let url = weir_app::governance::store_url(global.store.as_deref(), root).ok()?;
    if weir_app::worker::local::alive(&url).ok()?.is_some() {
        return None;
    }
    match weir_app::worker::local::spawn(root, global.store.as_deref()) {
        Ok((pid, log)) => Some(format!(
            "started the local worker (pid {pid}): it runs instances and the embedded Kafka broker; log {}",
            log.display()
        )),
        Err(e) => {
            tracing::warn!("no local worker: {e}");
            None
        }
    }
}
