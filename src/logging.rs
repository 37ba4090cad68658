//! Logging with `tracing` to a file under the project's `.weir/logs/`, never to the
//! terminal (a full-screen TUI owns it). `-v` raises the level to debug, `-vv` to trace;
//! `WEIR_LOG` (an env-filter directive such as `weir=debug`) overrides both.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// The project directory: the nearest ancestor of `start` that holds `.weir/` or
/// `jobs/`, else `start` itself.
pub fn project_root(start: &Path) -> PathBuf {
    start
        .ancestors()
        .find(|d| d.join(".weir").is_dir() || d.join("jobs").is_dir())
        .unwrap_or(start)
        .to_path_buf()
}

/// Start logging to `<project>/.weir/logs/weir.log`. Returns the log file's path, or why
/// logging could not start (the command still runs; the caller decides whether to say so).
pub fn init(verbosity: u8) -> Result<PathBuf, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
    let dir = project_root(&cwd).join(".weir").join("logs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("weir.log");
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let level = match verbosity {
        0 => "weir=info",
        1 => "weir=debug",
        _ => "trace",
    };
    let filter = std::env::var("WEIR_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .try_init()
        .map_err(|e| format!("logging already started: {e}"))?;
    Ok(path)
}
