//! Logging with `tracing` to a file under the project's `.weir/logs/`, never to the
//! terminal (a full-screen TUI owns it). `-v` raises the level to debug, `-vv` to trace;
//! `WEIR_LOG` (an env-filter directive such as `weir=debug`) overrides both.

use std::fs::OpenOptions;
use std::path::PathBuf;

use std::sync::Mutex;
use weir_app::project_root;

use tracing_subscriber::EnvFilter;

/// Why logging could not start; the command runs anyway.
#[derive(Debug, thiserror::Error)]
pub enum LoggingOff {
    /// The log file or its folder could not be made or opened.
    #[error("{what}: {source}")]
    File {
        what: String,
        source: std::io::Error,
    },
    /// A logger was installed before (tests that start weir twice in one process).
    #[error("logging already started: {0}")]
    AlreadyStarted(String),
}

/// Start logging to `<project>/.weir/logs/weir.log`. Returns the log file's path, or why
/// logging could not start (the command still runs; the caller decides whether to say so).
pub fn init(verbosity: u8) -> Result<PathBuf, LoggingOff> {
    init_to(verbosity, "weir.log")
}

/// [`init`] into `<project>/.weir/logs/<file>` (`weir worker` logs to `worker.log`).
pub fn init_to(verbosity: u8, file: &str) -> Result<PathBuf, LoggingOff> {
    let file_error = |what: String| move |source| LoggingOff::File { what, source };
    let cwd = std::env::current_dir().map_err(file_error("no current directory".into()))?;
    let dir = project_root(&cwd).join(".weir").join("logs");
    std::fs::create_dir_all(&dir)
        .map_err(file_error(format!("cannot create {}", dir.display())))?;
    let path = dir.join(file);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(file_error(format!("cannot open {}", path.display())))?;
    let level = match verbosity {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    // Every crate of weir logs under its own target (weir, weir_app, weir_tui, …).
    let ours = [
        "weir",
        "weir_app",
        "weir_tui",
        "weir_engine",
        "weir_store",
        "weir_model",
        "weir_bench",
    ]
    .map(|c| format!("{c}={level}"))
    .join(",");
    let filter = std::env::var("WEIR_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| {
            if verbosity >= 2 {
                EnvFilter::new("trace")
            } else {
                EnvFilter::new(ours)
            }
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .try_init()
        .map_err(|e| LoggingOff::AlreadyStarted(e.to_string()))?;
    Ok(path)
}
