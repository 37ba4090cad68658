//! An instance's checkpoints on its worker (issue 16): where they live
//! (`<project>/.weir/checkpoints/<instance id>/`), how often (the job's
//! `checkpoint_interval_ms`; 0 runs without), how many are kept (3), and what a start
//! restores: the instance's own newest complete checkpoint or savepoint (the take-over
//! after a `kill -9`, a restart, a stop with a savepoint), else the savepoint it was
//! started from (`weir instance start JOB@N --from savepoint:SP`).
//!
//! Savepoints: the worker carries out the requests of `weir instance savepoint` and `stop
//! --savepoint` ([`take`]) and records each in the store.
//!
//! Not done here: committing a completed checkpoint's source positions to the instance's
//! consumer groups (`CheckpointOptions::after_complete`). A restore reads its positions
//! from the checkpoint, so nothing depends on the groups; tools that read a group's
//! committed offsets see the positions of the last run without checkpoints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use weir_engine::checkpoint::{CheckpointOptions, Coordinator, Kind, Location, Restored};
use weir_model::model::Job;

use crate::AppError;
use crate::governance::Governance;
use crate::instances::Instance;

/// Complete checkpoints kept per instance.
pub const RETAIN: usize = 3;

/// Where instance `id`'s checkpoints and savepoints are.
pub fn dir_of(project: &Path, id: i64) -> PathBuf {
    project
        .join(".weir")
        .join("checkpoints")
        .join(id.to_string())
}

/// The checkpoint options of `inst` (its job `job`, text hash `text_hash`) and what the
/// run restores, in words for the log.
pub(super) async fn options(
    gov: &Governance,
    inst: &Instance,
    job: &Job,
    text_hash: &str,
    project: &Path,
) -> Result<(CheckpointOptions, Option<String>), AppError> {
    let location = Location::local(&dir_of(project, inst.id))?;
    let mut opts = CheckpointOptions::new(
        location.clone(),
        Duration::from_millis(job.config.checkpoint_interval_ms),
        &inst.job,
        text_hash,
    );
    opts.retain = RETAIN;
    let mut fork = false;
    let (restored, what) = match newest(&location).await? {
        Some(r) => {
            let what = format!(
                "restored {} {} of this instance",
                kind_word(r.manifest.kind),
                r.dir
            );
            (Some(r), Some(what))
        }
        None => match gov.session().instance_start_savepoint(inst.id).await? {
            Some(sp) => {
                // a savepoint of another instance (which may still run): a line of its own
                fork = true;
                let mut r = savepoint(gov, inst, sp).await?;
                let dropped = drop_unfit(&mut r, job, project)?;
                let mut what = format!("restored savepoint #{sp} ({})", r.dir);
                if !dropped.is_empty() {
                    what.push_str(&format!(
                        "; state dropped (it does not fit this version): {}",
                        dropped.join("; ")
                    ));
                }
                (Some(r), Some(what))
            }
            None => (None, None),
        },
    };
    opts.fork = fork;
    opts.restore = restored.map(Arc::new);
    Ok((opts, what))
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Checkpoint => "checkpoint",
        Kind::Savepoint => "savepoint",
    }
}

/// The newest complete checkpoint or savepoint under `location`, verified (a corrupted
/// newest one is refused, naming the previous complete one).
async fn newest(location: &Location) -> Result<Option<Restored>, AppError> {
    let listed = location.list().await?;
    let Some(l) = listed.iter().rev().find(|l| l.manifest.is_some()) else {
        return Ok(None);
    };
    Ok(Some(location.read(&l.dir).await?))
}

/// Savepoint `id` of the store, read from its directory: refused when it is of another
/// job than `inst`'s or its directory is gone.
async fn savepoint(gov: &Governance, inst: &Instance, id: i64) -> Result<Restored, AppError> {
    let sp = gov.session().savepoint(id).await.map_err(|e| {
        AppError::User(format!(
            "instance #{} starts from savepoint #{id}, which cannot be read: {e}",
            inst.id
        ))
    })?;
    if sp.job != inst.job {
        return Err(AppError::User(format!(
            "savepoint #{id} was taken of job {}, not of {}: start {} from one of its own savepoints (weir savepoint list {})",
            sp.job, inst.job, inst.job, inst.job
        )));
    }
    let path = Path::new(&sp.path);
    let (Some(parent), Some(dir)) = (path.parent(), path.file_name().and_then(|d| d.to_str()))
    else {
        return Err(AppError::Internal(format!(
            "savepoint #{id} has no directory name in its path {}",
            sp.path
        )));
    };
    if !path.is_dir() {
        return Err(AppError::User(format!(
            "savepoint #{id} is recorded at {}, but that directory is gone on this worker ({}): start from another savepoint, or run the worker where the savepoint is",
            sp.path,
            super::host()
        )));
    }
    let r = Location::local(parent)?.read(dir).await?;
    if r.manifest.job != inst.job {
        return Err(AppError::User(format!(
            "savepoint #{id} ({}) holds the state of job {}, not of {}",
            sp.path, r.manifest.job, inst.job
        )));
    }
    Ok(r)
}

/// Drops from `r` the operator states that do not fit `job` (another version's savepoint:
/// `weir instance upgrade` let them go with `--allow-drop`), so those operators start
/// empty; returns `node: reason` of each.
fn drop_unfit(r: &mut Restored, job: &Job, project: &Path) -> Result<Vec<String>, AppError> {
    use weir_engine::checkpoint::compat::{Verdict, report};
    let opts =
        weir_engine::pipeline::RunOptions::new(project, weir_engine::transform::default_planner());
    let new = weir_engine::pipeline::describe_states(job, &opts)?;
    let mut dropped = Vec::new();
    for line in report(&r.manifest, &new) {
        if let Verdict::Incompatible { reason } = line.verdict {
            r.tasks.remove(&format!("operator/{}", line.node));
            dropped.push(format!("{}: {reason}", line.node));
        }
    }
    Ok(dropped)
}

/// What became of a savepoint request.
pub(super) enum Taken {
    Recorded(weir_store::Savepoint),
    Failed(String),
}

/// Takes the savepoint that request `req` asks for on `coord` and records it (or the
/// failure) in the store. A stop request whose savepoint fails falls back to the stop
/// flag, so the instance still stops (without a savepoint, which the log says).
pub(super) async fn take(
    gov: &Governance,
    worker: &str,
    req: &weir_store::SavepointRequest,
    coord: Arc<Coordinator>,
    stop: Arc<AtomicBool>,
    text_hash: &str,
) -> Taken {
    match coord.trigger(Kind::Savepoint, req.stop).await {
        Ok(done) => {
            let taken = weir_store::TakenSavepoint {
                request: req.id,
                text_hash: text_hash.to_string(),
                path: done.path.clone(),
                checkpoint_id: done.id as i64,
                size: done.size as i64,
            };
            match gov.session().record_savepoint(worker, &taken).await {
                Ok(sp) => Taken::Recorded(sp),
                Err(e) => Taken::Failed(format!(
                    "savepoint {} was written to {} but could not be recorded in the store: {e}",
                    done.dir, done.path
                )),
            }
        }
        Err(e) => {
            let why = format!("the savepoint failed: {e}");
            if let Err(e2) = gov
                .session()
                .fail_savepoint_request(worker, req.id, &why)
                .await
            {
                tracing::warn!(
                    "cannot record the failed savepoint request #{}: {e2}",
                    req.id
                );
            }
            if req.stop {
                stop.store(true, Relaxed);
            }
            Taken::Failed(why)
        }
    }
}

/// Stops a run so that its transactional sinks commit first: a final checkpoint whose
/// barrier ends the sources; when it cannot be taken, the stop flag (the reason is
/// returned for the log).
pub(super) async fn stop_with_checkpoint(
    coord: Arc<Coordinator>,
    stop: Arc<AtomicBool>,
) -> Option<String> {
    match coord.trigger(Kind::Checkpoint, true).await {
        Ok(_) => None,
        Err(e) => {
            stop.store(true, Relaxed);
            Some(format!(
                "the final checkpoint failed ({e}); stopped without it: the next start resumes from the last complete checkpoint"
            ))
        }
    }
}

/// Carries out the pending savepoint requests of this worker's instances (each once);
/// returns the instances with a stop request, which stop with their savepoint rather
/// than with a final checkpoint. A request of an instance still starting waits.
pub(super) async fn savepoint_requests(
    gov: &Arc<Governance>,
    reporter: &super::Reporter,
    worker: &str,
    runs: &mut BTreeMap<i64, super::Run>,
    handled: &mut BTreeSet<i64>,
) -> BTreeSet<i64> {
    let mut stops = BTreeSet::new();
    if runs.is_empty() {
        return stops;
    }
    let requests = match gov.session().pending_savepoint_requests(worker).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("reading savepoint requests failed: {e}");
            return stops;
        }
    };
    for req in requests {
        if req.stop {
            stops.insert(req.instance);
        }
        if handled.contains(&req.id) {
            continue;
        }
        let Some(run) = runs.get_mut(&req.instance) else {
            continue;
        };
        let Some(live) = run.live.as_ref() else {
            continue;
        };
        let (coord, stop, hash) = (
            live.checkpoints.clone(),
            live.stop.clone(),
            live.text_hash.clone(),
        );
        handled.insert(req.id);
        let iid = run.instance.id;
        let Some(coord) = coord else {
            let why = format!(
                "instance #{iid} runs without checkpoints (its job's config.checkpoint_interval_ms is 0), so it cannot take a savepoint: set an interval (e.g. 60000) and start it again"
            );
            if let Err(e) = gov
                .session()
                .fail_savepoint_request(worker, req.id, &why)
                .await
            {
                tracing::warn!(
                    "cannot record the failed savepoint request #{}: {e}",
                    req.id
                );
            }
            if req.stop && !run.stopping {
                run.stopping = true;
                stop.store(true, Relaxed);
                reporter.stopping(&run.instance).await;
            }
            continue;
        };
        if req.stop && !run.stopping {
            run.stopping = true;
            reporter.stopping(&run.instance).await;
        }
        let (gov, reporter, worker) = (gov.clone(), reporter.clone(), worker.to_string());
        tokio::spawn(async move {
            use weir_store::LogLevel;
            match take(&gov, &worker, &req, coord, stop, &hash).await {
                Taken::Recorded(sp) => {
                    let then = if req.stop { "; stopping" } else { "" };
                    let msg = format!(
                        "savepoint #{} taken (checkpoint {}, {} bytes) at {}{then}",
                        sp.id, sp.checkpoint_id, sp.size, sp.path
                    );
                    reporter.log(iid, LogLevel::Info, msg).await;
                }
                Taken::Failed(why) => {
                    let then = if req.stop {
                        "; stopping without a savepoint"
                    } else {
                        ""
                    };
                    reporter
                        .log(iid, LogLevel::Warn, format!("{why}{then}"))
                        .await;
                }
            }
        });
    }
    stops
}
