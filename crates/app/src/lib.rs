//! Use cases shared by the CLI and the TUI: one code path per action, so the headless
//! TUI tests exactly what the terminal does. The app layer calls `jobfile`, `graph` and
//! (later) the store and engine; the UI layers never touch files or databases directly.

pub mod bench;
pub mod catalog;
pub mod connectivity;
pub mod engine;
pub mod governance;
pub mod kafka_topics;
pub mod project;
pub mod tables;

/// A runtime for running async use cases (the store, connectivity checks) from the
/// synchronous CLI and TUI.
pub fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::io("cannot start the async runtime", e))
}

/// What went wrong in a use case, said so that a user knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The user asked for something that cannot be done as asked.
    #[error("{0}")]
    User(String),
    /// The metadata store refused or failed; its message says what to do.
    #[error("{0}")]
    Store(#[from] weir_store::StoreError),
    /// The file system or another external system failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

impl AppError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        AppError::Io {
            what: what.into(),
            source,
        }
    }
}
