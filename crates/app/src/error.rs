//! `AppError`: what went wrong in a use case, said so that a user knows what to do, and
//! whose fault it is ([`Fault`]): the CLI turns the fault into its exit code (2 bad input,
//! 3 external system unavailable, 4 internal error) and the workbench into its wording.

use weir_model::Fault;

/// What went wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The user asked for something that cannot be done as asked (bad job, bad argument,
    /// missing name); the message says what to change.
    #[error("{0}")]
    User(String),
    /// A system outside weir failed or did not answer; the message names it and its
    /// address, and a retry may help once it is back.
    #[error("{0}")]
    External(String),
    /// A bug in weir.
    #[error("internal error: {0} (this is a bug in weir; please report it with this message)")]
    Internal(String),
    /// The metadata store refused or failed; its message says what to do.
    #[error("{0}")]
    Store(#[from] weir_store::StoreError),
    /// The engine refused the job or failed while running it.
    #[error("{0}")]
    Engine(#[from] weir_engine::EngineError),
    /// The file system failed, or a file could not be read or written.
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

    /// Whose fault this is.
    pub fn fault(&self) -> Fault {
        use std::io::ErrorKind as K;
        match self {
            AppError::User(_) => Fault::User,
            AppError::External(_) => Fault::External,
            AppError::Internal(_) => Fault::Internal,
            AppError::Store(e) => e.fault(),
            AppError::Engine(e) => e.fault(),
            AppError::Io { source, .. } => match source.kind() {
                K::NotFound
                | K::PermissionDenied
                | K::AlreadyExists
                | K::InvalidInput
                | K::InvalidData
                | K::IsADirectory
                | K::NotADirectory
                | K::DirectoryNotEmpty => Fault::User,
                _ => Fault::External,
            },
        }
    }
}
