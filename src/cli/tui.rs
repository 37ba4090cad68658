//! `weir` / `weir tui`: the full-screen workbench on the current project, or headless
//! with `--script FILE --dump DIR` (keys replayed through the same path, every frame
//! written as text; `--json` prints a summary of the run; the script's `user` line says
//! who opens the store). The script language is `formats/headless.md`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::json;

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
    /// Replay this key script instead of reading the keyboard (headless; with --json, a
    /// summary of the run is printed: frames, expectations met and failed).
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
    if global.json && args.script.is_none() {
        return super::fail(
            global,
            &weir_app::AppError::User(
                "--json needs a script: the interactive workbench prints nothing to read; run `weir tui --script FILE --json` for a JSON summary of a headless run".into(),
            ),
        );
    }
    // a script is read before anything opens: its `user` line says who opens the store
    let script = match &args.script {
        Some(path) => match read_script(global, path, args) {
            Ok(s) => Some(s),
            Err(code) => return code,
        },
        None => None,
    };
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
    let login = script
        .as_ref()
        .and_then(|s| s.script.user())
        .map_or_else(current_user, str::to_string);
    let mut app = Workbench::new(project, loaded.theme, loaded.keymap, env, login.clone());
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
    let opened = weir_app::governance::store_url(global.store.as_deref(), &app.project.root)
        .and_then(|url| StoreLink::open(&url, &login));
    match opened {
        Ok(link) => app.attach_store(link),
        Err(e) => {
            let why = format!("no metadata store: {e}");
            if app.status.is_none() {
                app.status = Some((weir_tui::action::Level::Error, why.clone()));
            }
            app.store_failed(why);
        }
    }
    match script {
        Some(script) => run_headless(global, app, &script),
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

/// A script read and parsed, with what a run of it needs.
struct ScriptRun {
    path: PathBuf,
    /// The script's lines, for the summary's failures.
    lines: Vec<String>,
    script: headless::Script,
    size: (u16, u16),
    size_text: String,
    /// Where frames are written (--dump).
    dump: Option<PathBuf>,
}

/// Read and parse the script at `path`; on a problem, say it (`FILE:LINE: what is wrong;
/// what to do`, or the JSON summary with `--json`) and give the exit code.
fn read_script(global: &Global, path: &Path, args: &TuiArgs) -> Result<ScriptRun, i32> {
    let size_parsed = headless::parse_size(&args.size)
        .map_err(|e| super::fail(global, &weir_app::AppError::User(format!("--size: {e}"))))?;
    let text = std::fs::read_to_string(path).map_err(|e| {
        super::fail(
            global,
            &weir_app::AppError::User(format!(
                "cannot read the script {}: {e}; check the path given to --script",
                path.display()
            )),
        )
    })?;
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    match headless::parse_script(&text) {
        Ok(script) => Ok(ScriptRun {
            path: path.to_path_buf(),
            lines,
            script,
            size: size_parsed,
            size_text: args.size.clone(),
            dump: args.dump.clone(),
        }),
        Err(errors) => {
            if global.json {
                let errors: Vec<_> = errors
                    .iter()
                    .map(|e| json!({ "line": e.line, "text": line_text(&lines, e.line), "message": e.message }))
                    .collect();
                super::print_json(&json!({
                    "script": path.display().to_string(),
                    "passed": false,
                    "errors": errors,
                }));
            } else {
                for e in errors {
                    eprintln!("{}:{}: {}", path.display(), e.line, e.message);
                }
            }
            Err(exit::INVALID)
        }
    }
}

/// Line `n` (1-based) of the script as written.
fn line_text(lines: &[String], n: usize) -> &str {
    n.checked_sub(1)
        .and_then(|i| lines.get(i))
        .map_or("", |l| l.trim())
}

fn run_headless(global: &Global, mut app: Workbench, run: &ScriptRun) -> i32 {
    let (w, h) = run.size;
    let dump = run.dump.as_deref();
    let mut runner = match headless::Headless::new(w, h, dump) {
        Ok(r) => r,
        Err(e) => {
            return super::fail(
                global,
                &weir_app::AppError::User(format!(
                    "cannot create the frame directory {}: {e}; give --dump a directory you can write",
                    dump.map_or_else(String::new, |d| d.display().to_string())
                )),
            );
        }
    };
    let path = run.path.display();
    if global.json {
        let report = runner.run_report(&mut app, &run.script);
        let failures: Vec<_> = report
            .failed
            .iter()
            .map(|f| {
                json!({
                    "line": f.line,
                    "text": line_text(&run.lines, f.line),
                    "message": f.message,
                })
            })
            .collect();
        super::print_json(&json!({
            "script": path.to_string(),
            "size": run.size_text,
            "passed": report.passed(),
            "frames": report.frames,
            "expectations": {
                "met": report.met,
                "failed": report.failed.len(),
                "not_run": report.not_run,
            },
            "failures": failures,
        }));
        return if report.passed() {
            exit::OK
        } else {
            exit::CHECK_FAILED
        };
    }
    match runner.run(&mut app, &run.script) {
        Ok(()) => {
            outln!("{} frames, script passed", runner.frames);
            exit::OK
        }
        Err(f) => {
            eprintln!("{path}:{}: {}", f.line, f.message);
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
