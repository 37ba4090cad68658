//! Use cases shared by the CLI and the TUI: one code path per action, so the headless
//! TUI tests exactly what the terminal does. The app layer calls `jobfile`, `graph` and
//! (later) the store and engine; the UI layers never touch files or databases directly.

pub mod catalog;
pub mod connectivity;
pub mod engine;
mod error;
pub mod governance;
pub mod instances;
pub mod jobs;
pub mod kafka_topics;
pub mod notices;
pub mod project;
pub mod secrets;
pub mod store_admin;
pub mod store_link;
pub mod worker;

use std::path::{Path, PathBuf};

// The job model under the short paths the use cases have always used.
use weir_model::{jobfile, model};

/// The project directory: the nearest ancestor of `start` that holds `.weir/` or
/// `jobs/`, else `start` itself.
pub fn project_root(start: &Path) -> PathBuf {
    start
        .ancestors()
        .find(|d| d.join(".weir").is_dir() || d.join("jobs").is_dir())
        .unwrap_or(start)
        .to_path_buf()
}

/// A runtime for running async use cases (the store, connectivity checks) from the
/// synchronous CLI and TUI.
pub fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::io("cannot start the async runtime", e))
}

pub use error::AppError;
pub use weir_model::Fault;
