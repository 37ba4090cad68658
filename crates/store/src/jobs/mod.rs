//! Jobs as the store keeps them (SPEC R-life): a job's identity, its immutable versions,
//! its edit lock and its releases up to the production instance record.
//!
//! A job is named `project/path`, the path being the job file's under `jobs/` without
//! `.ron` (`shop/clickstream_pv` for `jobs/clickstream_pv.ron` of project `shop`). The
//! file in git stays the working copy; the store keeps what was submitted. A job row is
//! created by the first lock or submit. Every write about a job first touches its row
//! ([`touch`]), which serialises writes about one job on PostgreSQL as `BEGIN IMMEDIATE`
//! does on SQLite (version numbers, the lock and the one live release stay consistent).
//!
//! `locks.rs`: the edit lock; `versions.rs`: submit and read versions; `releases.rs`:
//! release requests (kind `release` of the requests table); `golive.rs`: go-live, the
//! instance record and offline; `instances.rs`: test and production instances and their
//! state machine; `workers.rs`: the workers that claim and run them; `monitoring/`: metric
//! snapshots, instance logs, alert rules and alerts.

use serde::Serialize;

use crate::audit::{self, NONE};
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};
use crate::identity::ProjectRole;
use crate::projects::{self, Project};

mod golive;
mod instances;
mod locks;
mod monitoring;
mod releases;
mod savepoints;
mod versions;
mod workers;

pub use golive::{GoLiveSpec, StartPosition, WentLive};
pub(crate) use instances::stop_for_archive;
pub use instances::{
    DesiredState, Instance, InstanceFilter, InstanceState, TestInstanceSpec, WorkingFile,
};
pub use locks::{JobLock, JobStatus, LockTaken, LockTakeover};
pub use monitoring::{
    Alert, AlertFilter, AlertFiring, AlertRuleRow, AlertRuleSpec, AlertState, AlertTarget,
    LOG_LINES_KEPT, LogLevel, LogLine, MetricPoint,
};
pub use releases::{Release, ReleaseFilter, ReleaseState};
pub(crate) use releases::{check_hash, on_decided, on_withdrawn, request_detail};
pub use savepoints::{Savepoint, SavepointRequest, SavepointRequestState, TakenSavepoint};
pub use versions::{JobVersion, NewVersion, Submitted, TestResult, Validation, VersionInfo};
pub use workers::{Heartbeat, Held, Worker};

/// Who may lock, submit and request releases of a project's jobs.
const DEVS: &[ProjectRole] = &[ProjectRole::ProjectAdmin, ProjectRole::Developer];

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobRow {
    pub(crate) id: i64,
    pub(crate) project: String,
    pub(crate) path: String,
}

impl JobRow {
    /// `project/path`.
    pub(crate) fn name(&self) -> String {
        format!("{}/{}", self.project, self.path)
    }
}

/// The job's name as stored in the audit log.
#[derive(Debug, Serialize)]
struct JobRecord<'a> {
    job: &'a str,
    project: &'a str,
    path: &'a str,
}

/// Splits `project/path` and checks the path: segments of letters, digits, `_` or `-`,
/// separated by `/`, at most 200 characters, without `.ron`.
pub(crate) fn parse_job(job: &str) -> Result<(String, String)> {
    let fix = "name a job `project/path`, the path under jobs/ without .ron (shop/clickstream_pv)";
    let job = job.trim();
    let shown = weir_model::text::printable(job);
    let Some((project, path)) = job.split_once('/') else {
        return Err(StoreError::invalid(
            "job",
            format!("`{shown}` names no project"),
            fix,
        ));
    };
    projects::check_name("job", project)?;
    if path.ends_with(".ron") {
        return Err(StoreError::invalid(
            "job",
            format!("`{shown}` ends with .ron"),
            fix,
        ));
    }
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    };
    if path.is_empty() || path.chars().count() > 200 || !path.split('/').all(segment_ok) {
        return Err(StoreError::invalid(
            "job",
            format!("`{shown}` is not a job path (letters, digits, `_`, `-`, folders with `/`)"),
            fix,
        ));
    }
    Ok((project.to_string(), path.to_string()))
}

/// The job `path` of `project`, if the store knows it.
pub(crate) async fn find(tx: &mut Tx, project: &Project, path: &str) -> Result<Option<JobRow>> {
    let row: Option<(i64,)> = tx
        .opt(
            "SELECT id FROM jobs WHERE project_id = $1 AND path = $2",
            &args![project.id, path],
        )
        .await?;
    Ok(row.map(|(id,)| JobRow {
        id,
        project: project.name.clone(),
        path: path.to_string(),
    }))
}

/// The job named `job` (`project/path`); `NotFound` with the closest job of the project.
pub(crate) async fn by_name(tx: &mut Tx, job: &str) -> Result<JobRow> {
    let (project, path) = parse_job(job)?;
    let p = projects::by_name(tx, &project).await?;
    match find(tx, &p, &path).await? {
        Some(j) => Ok(j),
        None => {
            let all: Vec<(String,)> = tx
                .all("SELECT path FROM jobs WHERE project_id = $1", &args![p.id])
                .await?;
            Err(StoreError::not_found(
                "job",
                job,
                all.into_iter().map(|(path,)| format!("{project}/{path}")),
            ))
        }
    }
}

/// The job with id `id`.
pub(crate) async fn by_id(tx: &mut Tx, id: i64) -> Result<JobRow> {
    let (project_id, path): (i64, String) = tx
        .one(
            "SELECT project_id, path FROM jobs WHERE id = $1",
            &args![id],
        )
        .await?;
    Ok(JobRow {
        id,
        project: projects::by_id(tx, project_id).await?.name,
        path,
    })
}

/// The job `path` of `project`, created (and audited) if the store does not know it yet;
/// its row is touched either way, so the caller holds the job for the transaction.
pub(crate) async fn ensure(
    tx: &mut Tx,
    actor: &str,
    project: &Project,
    path: &str,
) -> Result<JobRow> {
    let at = now();
    let created = tx
        .execute(
            "INSERT INTO jobs (project_id, path, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (project_id, path) DO NOTHING",
            &args![project.id, path, actor, &at],
        )
        .await?;
    let Some(job) = find(tx, project, path).await? else {
        return Err(StoreError::wrong_state(format!(
            "job {}/{path} vanished while it was being created; try again",
            project.name
        )));
    };
    if created > 0 {
        let name = job.name();
        audit::append(
            tx,
            actor,
            "job.create",
            "job",
            &name,
            NONE,
            Some(&JobRecord {
                job: &name,
                project: &job.project,
                path: &job.path,
            }),
        )
        .await?;
    }
    touch(tx, job.id).await?;
    Ok(job)
}

/// Touches the job's row: on PostgreSQL this takes its row lock until the transaction
/// ends, so two writes about one job run one after the other.
pub(crate) async fn touch(tx: &mut Tx, job_id: i64) -> Result<()> {
    tx.execute(
        "UPDATE jobs SET updated_at = $2 WHERE id = $1",
        &args![job_id, now()],
    )
    .await?;
    Ok(())
}
