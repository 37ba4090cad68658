//! The edit lock: one holder per job. The first developer who locks or submits a job
//! takes it; another developer of the project may take it over (the manual's "unlock"),
//! which is audited (`job.lock.take_over`, before = the previous holder) and returned so
//! the app can tell the previous holder, who also finds it with
//! [`Session::locks_taken_from_me`].

use serde::{Deserialize, Serialize};

use crate::Session;
use crate::audit;
use crate::db::{Tx, args, now};
use crate::error::Result;
use crate::identity::roles;
use crate::projects;

use super::versions::{self, VersionInfo};
use super::{DEVS, JobRow, ensure, parse_job};

/// Who holds a job's edit lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLock {
    /// `project/path`.
    pub job: String,
    /// The login holding it.
    pub holder: String,
    /// Since when (RFC 3339, UTC).
    pub since: String,
}

/// The outcome of taking a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockTaken {
    /// The lock now.
    pub lock: JobLock,
    /// The lock as someone else held it, when it was taken over from them: the app tells
    /// `previous.holder`.
    pub previous: Option<JobLock>,
}

/// A lock that someone took over from the actor (from the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockTakeover {
    /// The audit row recording it.
    pub audit_id: i64,
    /// `project/path`.
    pub job: String,
    /// Who took it.
    pub by: String,
    /// When.
    pub at: String,
}

/// A job's lock and latest version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobStatus {
    /// `project/path`.
    pub job: String,
    /// Whether the store knows the job (it was locked or submitted once).
    pub known: bool,
    /// The edit lock, if anyone holds it.
    pub lock: Option<JobLock>,
    /// The newest version, if any.
    pub latest: Option<VersionInfo>,
}

/// The lock of `job`, if held.
pub(crate) async fn current(tx: &mut Tx, job: &JobRow) -> Result<Option<JobLock>> {
    let row: Option<(String, String)> = tx
        .opt(
            "SELECT holder, locked_at FROM job_locks WHERE job_id = $1",
            &args![job.id],
        )
        .await?;
    Ok(row.map(|(holder, since)| JobLock {
        job: job.name(),
        holder,
        since,
    }))
}

/// Gives the free lock of `job` to `actor` (audited `job.lock`).
pub(crate) async fn take_free(tx: &mut Tx, actor: &str, job: &JobRow) -> Result<JobLock> {
    let at = now();
    tx.execute(
        "INSERT INTO job_locks (job_id, holder, locked_at) VALUES ($1, $2, $3)",
        &args![job.id, actor, &at],
    )
    .await?;
    let lock = JobLock {
        job: job.name(),
        holder: actor.to_string(),
        since: at,
    };
    audit::append(
        tx,
        actor,
        "job.lock",
        "job",
        job.name(),
        audit::NONE,
        Some(&lock),
    )
    .await?;
    Ok(lock)
}

/// The error for a job locked by someone else.
pub(crate) fn locked_by_other(lock: &JobLock, action: &str) -> crate::StoreError {
    crate::StoreError::wrong_state(format!(
        "job {} is locked by {} since {}; {action} needs its edit lock (`weir job unlock {}` takes it over)",
        lock.job, lock.holder, lock.since, lock.job
    ))
}

impl Session {
    /// Takes the edit lock of `job` (developer or project admin of its project). Free:
    /// taken; held by the actor: unchanged; held by someone else: refused, naming them
    /// (see [`Session::take_over_lock`]).
    pub async fn lock_job(&self, job: &str) -> Result<JobLock> {
        self.lock(job, false).await.map(|t| t.lock)
    }

    /// Takes the edit lock of `job` even from someone else (the manual's "unlock");
    /// developer or project admin of the job's project. A take-over is audited with the
    /// previous holder as `before`, and returned in [`LockTaken::previous`].
    pub async fn take_over_lock(&self, job: &str) -> Result<LockTaken> {
        self.lock(job, true).await
    }

    async fn lock(&self, job: &str, take_over: bool) -> Result<LockTaken> {
        let (project, path) = parse_job(job)?;
        let mut tx = self.pool.write().await?;
        let p = projects::active(&mut tx, &project).await?;
        roles(&mut tx, &self.actor)
            .await?
            .require_in_project(&p.name, DEVS, &[], "lock jobs")?;
        let j = ensure(&mut tx, &self.actor, &p, &path).await?;
        let taken = match current(&mut tx, &j).await? {
            None => LockTaken {
                lock: take_free(&mut tx, &self.actor, &j).await?,
                previous: None,
            },
            Some(l) if l.holder == self.actor => LockTaken {
                lock: l,
                previous: None,
            },
            Some(l) if !take_over => return Err(locked_by_other(&l, "editing")),
            Some(before) => {
                let at = now();
                tx.execute(
                    "UPDATE job_locks SET holder = $2, locked_at = $3 WHERE job_id = $1",
                    &args![j.id, &self.actor, &at],
                )
                .await?;
                let after = JobLock {
                    job: j.name(),
                    holder: self.actor.clone(),
                    since: at,
                };
                audit::append(
                    &mut tx,
                    &self.actor,
                    "job.lock.take_over",
                    "job",
                    j.name(),
                    Some(&before),
                    Some(&after),
                )
                .await?;
                LockTaken {
                    lock: after,
                    previous: Some(before),
                }
            }
        };
        tx.commit().await?;
        Ok(taken)
    }

    /// The job's lock holder and latest version. A job the store does not know yet (never
    /// locked nor submitted) has neither; its project must exist.
    pub async fn job_status(&self, job: &str) -> Result<JobStatus> {
        let (project, path) = parse_job(job)?;
        let mut tx = self.pool.read().await?;
        let p = projects::by_name(&mut tx, &project).await?;
        let Some(j) = super::find(&mut tx, &p, &path).await? else {
            return Ok(JobStatus {
                job: format!("{project}/{path}"),
                known: false,
                lock: None,
                latest: None,
            });
        };
        Ok(JobStatus {
            job: j.name(),
            known: true,
            lock: current(&mut tx, &j).await?,
            latest: versions::latest(&mut tx, &j).await?.map(|v| v.info),
        })
    }

    /// Locks that others took over from the actor, oldest first, from audit id
    /// `after_id` on: the store's notification of a take-over (the change feed wakes the
    /// workbench; this says what happened).
    pub async fn locks_taken_from_me(&self, after_id: i64) -> Result<Vec<LockTakeover>> {
        let mut tx = self.pool.read().await?;
        let rows: Vec<(i64, String, String, Option<String>)> = tx
            .all(
                "SELECT id, at, actor, before_json FROM audit \
                 WHERE action = 'job.lock.take_over' AND id > $1 ORDER BY id",
                &args![after_id],
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(audit_id, at, by, before)| {
                let before: JobLock = serde_json::from_str(before.as_deref()?).ok()?;
                (before.holder == self.actor).then_some(LockTakeover {
                    audit_id,
                    job: before.job,
                    by,
                    at,
                })
            })
            .collect())
    }
}
