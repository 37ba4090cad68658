//! Savepoints as use cases (issue 16): take one of a running instance (the worker running
//! it takes it within a second and records it; the command waits), stop with one, list
//! and delete them, and start a new instance from one (`--from savepoint:SP`). The store
//! keeps the records and checks every right (`weir_store` `jobs/savepoints.rs`); the
//! files are where the worker wrote them (`crate::worker::checkpoints::dir_of`).

use std::time::{Duration, Instant};

use weir_engine::checkpoint::Location;
pub use weir_store::{Savepoint, SavepointRequest, SavepointRequestState};

use crate::AppError;
use crate::governance::Governance;

/// How long `weir instance savepoint` waits for the worker.
pub const SAVEPOINT_WAIT: Duration = Duration::from_secs(60);

/// `savepoint:12` (or `savepoint:#12`) → Some(12); any other start position → None.
pub fn parse_from_savepoint(from: &str) -> Result<Option<i64>, AppError> {
    let Some(id) = from.trim().strip_prefix("savepoint:") else {
        return Ok(None);
    };
    let id = id.trim().trim_start_matches('#');
    match id.parse::<i64>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(AppError::User(format!(
            "--from {from}: `{id}` is not a savepoint id; use savepoint:ID with an id of weir savepoint list"
        ))),
    }
}

/// Checks that savepoint `sp` can start a new instance of job `job` (`project/path`):
/// it is a savepoint of that job.
pub(super) async fn check_start_from(gov: &Governance, sp: i64, job: &str) -> Result<(), AppError> {
    let s = gov.session().savepoint(sp).await?;
    if s.job != job {
        return Err(AppError::User(format!(
            "--from savepoint:{sp}: savepoint #{sp} was taken of job {} (instance #{}), not of {job}; start {job} from one of its own savepoints (weir savepoint list {job})",
            s.job, s.instance
        )));
    }
    Ok(())
}

impl Governance {
    /// Asks for a savepoint of instance `id` (with `stop`, the instance stops right
    /// after it, its sinks committed) and waits up to `wait` for the worker to take it.
    pub async fn take_savepoint(
        &self,
        id: i64,
        stop: bool,
        wait: Duration,
    ) -> Result<Savepoint, AppError> {
        let req = self.session().request_savepoint(id, stop).await?;
        let deadline = Instant::now() + wait;
        loop {
            let r = self.session().savepoint_request(req.id).await?;
            match r.state {
                SavepointRequestState::Done => {
                    let Some(sp) = r.savepoint else {
                        return Err(AppError::Internal(format!(
                            "savepoint request #{} is done without a savepoint",
                            r.id
                        )));
                    };
                    return Ok(self.session().savepoint(sp).await?);
                }
                SavepointRequestState::Failed => {
                    return Err(AppError::External(format!(
                        "instance #{id}: {}{}",
                        r.error.as_deref().unwrap_or("the savepoint failed"),
                        if stop {
                            "; the instance stops without a savepoint"
                        } else {
                            ""
                        }
                    )));
                }
                SavepointRequestState::Pending => {}
            }
            if Instant::now() >= deadline {
                return Err(AppError::External(format!(
                    "instance #{id}: no savepoint within {} s (request #{} is still pending); is its worker alive? see weir instance show {id} and weir worker status",
                    wait.as_secs(),
                    req.id
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Savepoints, oldest first, of job `job` (`project/path`) or of every job.
    pub async fn savepoints(&self, job: Option<&str>) -> Result<Vec<Savepoint>, AppError> {
        Ok(self.session().savepoints(job).await?)
    }

    /// One savepoint.
    pub async fn savepoint(&self, id: i64) -> Result<Savepoint, AppError> {
        Ok(self.session().savepoint(id).await?)
    }

    /// Deletes savepoint `id`: its record (with the rights of stopping its instance),
    /// then its directory. Returns it and whether the directory was removed here (it is
    /// on another machine's disk when the worker ran elsewhere).
    pub async fn delete_savepoint(&self, id: i64) -> Result<(Savepoint, bool), AppError> {
        let sp = self.session().delete_savepoint(id).await?;
        let path = std::path::Path::new(&sp.path);
        let (Some(parent), Some(dir)) = (path.parent(), path.file_name().and_then(|d| d.to_str()))
        else {
            return Ok((sp, false));
        };
        if !path.is_dir() {
            return Ok((sp, false));
        }
        Location::local(parent)?
            .delete(dir)
            .await
            .map_err(|e| {
                AppError::External(format!(
                    "savepoint #{id}'s record is deleted, but its directory {} could not be removed: {e}; remove it by hand",
                    sp.path
                ))
            })?;
        let _ = std::fs::remove_dir_all(path);
        Ok((sp, true))
    }
}
