//! Instances and the workers that run them (SPEC R-life, issue 14).
//!
//! Long because it holds one subject whole: the state machine's table and rules below,
//! the instance types, and the people's transitions (start, restart, stop) with their
//! rights; the workers' side is in `workers.rs`, monitoring in `monitoring/`.
//!
//! An instance is one run of a job version, or for a test instance of the working file as
//! it was at start (`source_path`, `text`), in `test` or `prod`. Its state:
//!
//! | from                          | to         | by                                        |
//! |-------------------------------|------------|-------------------------------------------|
//! | (new)                         | created    | go-live (prod), [`Session::start_test_instance`] |
//! | created                       | starting   | a worker's [`Session::claim_instances`]   |
//! | starting, running (stale)     | starting   | another worker's claim (take-over)        |
//! | starting                      | running    | the holding worker                        |
//! | starting, running             | stopping   | the holding worker, once desired is stopped |
//! | starting, running, stopping   | stopped    | the holding worker, once desired is stopped |
//! | starting, running, stopping   | failed     | the holding worker, with the error        |
//! | created                       | stopped    | [`Session::stop_instance`] (nobody runs it) |
//! | stopped, failed               | created    | [`Session::start_instance`] (restart)     |
//! | starting, running, stopping   | created    | [`Session::unregister_worker`] hands it back, as does [`Session::register_worker`] of its worker's id again (a new process) |
//!
//! Besides its state an instance records its desired state (`running` or `stopped`): a
//! stop only sets desired `stopped` unless nobody runs the instance yet, and the worker,
//! which learns desired states from [`Session::worker_heartbeat`], carries the stop out.
//! Every transition writes an audit row with the instance before and after; heartbeats
//! are not transitions and are not audited (one every 2 s per worker would drown the log).
//!
//! Rights: test instances are started, restarted and stopped by developers and project
//! admins of the job's project (a system admin may stop them too); production instances
//! are restarted and stopped by the project admin or a system admin, and restarted only
//! while their release is live. Starting needs an active project; stopping does not.
//!
//! **Workers.** A worker registers with an id of its own choosing and from then on acts as
//! the login that registered it: only that login heartbeats, claims and reports states
//! for it. Who may run a worker: on PostgreSQL (a team's store) a system admin or ops,
//! since a worker runs every project's production jobs; on SQLite (the embedded store of
//! one person, whose file any local process can write anyway) any registered user, so the
//! local worker that `weir instance start` launches runs as the person's own login.
//!
//! Claiming is one transaction that picks instances that want to run and that nobody
//! holds: state `created`, or held by another worker whose heartbeat on the instance is
//! older than the take-over age. On PostgreSQL the pick is `FOR UPDATE SKIP LOCKED`, so
//! racing workers take disjoint sets; on SQLite the write transaction (`BEGIN IMMEDIATE`)
//! is exclusive. A worker reports states only for instances it holds, so no instance is
//! run by two workers at once: a worker that lost an instance to a take-over finds it
//! missing from its heartbeat and has its state reports refused.

use serde::Serialize;

use crate::Session;
use crate::audit::{self, NONE};
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};
use crate::identity::{GlobalRole, ProjectRole, Roles, roles};
use crate::projects::{self, Project};

use super::golive::{GoLiveSpec, StartPosition, check_spec};
use super::versions::id_and_hash;
use super::{
    DEVS, JobRow, by_id as job_by_id, by_name as job_by_name, ensure as ensure_job, parse_job,
    touch,
};

/// Where an instance is in its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceState {
    /// Waiting for a worker to claim it.
    Created,
    /// Claimed by a worker, which is starting it.
    Starting,
    /// Running on its worker.
    Running,
    /// Its worker is stopping it (sinks flushing).
    Stopping,
    /// Stopped cleanly.
    Stopped,
    /// Failed; `error` says why.
    Failed,
}

impl InstanceState {
    /// Every state, in lifecycle order.
    pub const ALL: [InstanceState; 6] = [
        InstanceState::Created,
        InstanceState::Starting,
        InstanceState::Running,
        InstanceState::Stopping,
        InstanceState::Stopped,
        InstanceState::Failed,
    ];

    /// The stored word (`created`, `running`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Created => "created",
            InstanceState::Starting => "starting",
            InstanceState::Running => "running",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
            InstanceState::Failed => "failed",
        }
    }

    /// Parses a stored or typed word.
    pub fn parse(s: &str) -> Result<InstanceState> {
        let s = s.trim().to_ascii_lowercase();
        InstanceState::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                StoreError::invalid(
                    "state",
                    format!("`{s}` is not an instance state"),
                    "use created, starting, running, stopping, stopped or failed",
                )
            })
    }

    /// Not yet ended: neither stopped nor failed.
    pub fn is_active(self) -> bool {
        !matches!(self, InstanceState::Stopped | InstanceState::Failed)
    }

    /// Held by a worker: starting, running or stopping.
    pub fn is_held(self) -> bool {
        matches!(
            self,
            InstanceState::Starting | InstanceState::Running | InstanceState::Stopping
        )
    }
}

/// Compares with the stored word (`state == "running"`).
impl PartialEq<&str> for InstanceState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for InstanceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an instance should be doing; its worker makes the state follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DesiredState {
    /// Run (the default).
    Running,
    /// Stop (asked by a user, or by archiving the project).
    Stopped,
}

impl DesiredState {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            DesiredState::Running => "running",
            DesiredState::Stopped => "stopped",
        }
    }

    pub(super) fn from_db(s: &str) -> DesiredState {
        if s == "stopped" {
            DesiredState::Stopped
        } else {
            DesiredState::Running
        }
    }
}

impl std::fmt::Display for DesiredState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instance {
    /// Store id.
    pub id: i64,
    /// `project/path`.
    pub job: String,
    /// The version it runs; `None` for a test instance of a working file.
    pub version: Option<i64>,
    /// The release that created it (production instances).
    pub release: Option<i64>,
    /// `test` or `prod`.
    pub env: String,
    /// Parallel tasks.
    pub parallelism: i64,
    /// Memory limit in MiB.
    pub memory_mib: i64,
    /// Where it starts reading.
    pub start: StartPosition,
    /// Job parameters.
    pub params: serde_json::Value,
    /// Where it is in its run.
    pub state: InstanceState,
    /// What it should be doing.
    pub desired: DesiredState,
    /// The worker holding it (or that last held it, once stopped or failed).
    pub worker: Option<String>,
    /// Its worker's last heartbeat for it.
    pub heartbeat_at: Option<String>,
    /// When it last reached `running`.
    pub started_at: Option<String>,
    /// When it last stopped or failed.
    pub stopped_at: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// For a test instance of a working file: the file's path (`jobs/clickstream_pv.ron`).
    pub source_path: Option<String>,
    /// For a test instance of a working file: the snapshot's content hash.
    pub text_hash: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: String,
}

/// The working file a test instance runs: its text as it was at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingFile {
    /// The file's path in the project (`jobs/clickstream_pv.ron`).
    pub path: String,
    /// Its text.
    pub text: String,
    /// sha256 of the text, 64 hex digits.
    pub hash: String,
}

/// What a test instance runs and how.
#[derive(Debug, Clone, PartialEq)]
pub struct TestInstanceSpec {
    /// A stored version of the job, or …
    pub version: Option<i64>,
    /// … the working file's text at start (exactly one of the two).
    pub working: Option<WorkingFile>,
    /// Parallel tasks, ≥ 1.
    pub parallelism: i64,
    /// Memory limit in MiB, ≥ 1.
    pub memory_mib: i64,
    /// Where to start reading.
    pub start: StartPosition,
    /// Job parameters, a JSON object.
    pub params: serde_json::Value,
}

/// Which instances [`Session::instances`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceFilter {
    /// Only this job's (`project/path`).
    pub job: Option<String>,
    /// Only `test` or `prod`.
    pub env: Option<String>,
    /// Only this state.
    pub state: Option<InstanceState>,
    /// Also stopped and failed ones (without it, only active ones unless `state` asks).
    pub all: bool,
}

pub(super) type MainRow = (
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    i64,
    i64,
    String,
    Option<i64>,
    String,
    String,
    String,
    String,
);

pub(super) type RunRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The instance `id`, `NotFound` if there is none.
pub(crate) async fn load_instance(tx: &mut Tx, id: i64) -> Result<Instance> {
    let row: Option<MainRow> = tx
        .opt(
            "SELECT i.id, i.job_id, v.number, i.release_id, i.env, i.parallelism, i.memory_mib, \
             i.start_position, i.start_timestamp_ms, i.params, i.state, i.created_by, i.created_at \
             FROM instances i LEFT JOIN job_versions v ON v.id = i.version_id WHERE i.id = $1",
            &args![id],
        )
        .await?;
    let Some(r) = row else {
        return Err(no_instance(id));
    };
    let run: RunRow = tx
        .one(
            "SELECT desired, worker, heartbeat_at, started_at, stopped_at, error, source_path, \
             text_hash FROM instances WHERE id = $1",
            &args![id],
        )
        .await?;
    let job = job_by_id(tx, r.1).await?;
    let start = match (r.7.as_str(), r.8) {
        ("earliest", _) => StartPosition::Earliest,
        ("timestamp", Some(ms)) => StartPosition::Timestamp(ms),
        _ => StartPosition::Latest,
    };
    Ok(Instance {
        id: r.0,
        job: job.name(),
        version: r.2,
        release: r.3,
        env: r.4,
        parallelism: r.5,
        memory_mib: r.6,
        start,
        params: serde_json::from_str(&r.9).unwrap_or_default(),
        state: InstanceState::parse(&r.10)?,
        desired: DesiredState::from_db(&run.0),
        worker: run.1,
        heartbeat_at: run.2,
        started_at: run.3,
        stopped_at: run.4,
        error: run.5,
        source_path: run.6,
        text_hash: run.7,
        created_by: r.11,
        created_at: r.12,
    })
}

pub(super) fn no_instance(id: i64) -> StoreError {
    StoreError::NotFound {
        kind: "instance",
        name: format!("#{id}"),
        suggestion: None,
    }
}

/// Locks the instance's row for the transaction (on PostgreSQL; SQLite's write
/// transaction is exclusive anyway), then reads it: a claim racing this write either
/// waits or skips the row.
pub(super) async fn lock_instance(tx: &mut Tx, id: i64) -> Result<Instance> {
    let n = tx
        .execute(
            "UPDATE instances SET desired = desired WHERE id = $1",
            &args![id],
        )
        .await?;
    if n == 0 {
        return Err(no_instance(id));
    }
    load_instance(tx, id).await
}

/// The instance's job and project.
pub(super) async fn job_of(tx: &mut Tx, id: i64) -> Result<(JobRow, Project)> {
    let (job_id,): (i64,) = tx
        .one("SELECT job_id FROM instances WHERE id = $1", &args![id])
        .await?;
    let job = job_by_id(tx, job_id).await?;
    let p = projects::by_name(tx, &job.project).await?;
    Ok((job, p))
}

/// Checks the actor may start (`stop == false`) or stop the instance.
pub(super) fn require_right(r: &Roles, inst: &Instance, project: &str, stop: bool) -> Result<()> {
    let verb = if stop { "stop" } else { "start" };
    if inst.env == "prod" {
        r.require_in_project(
            project,
            &[ProjectRole::ProjectAdmin],
            &[GlobalRole::SystemAdmin],
            &format!("{verb} production instances"),
        )
    } else {
        let global: &[GlobalRole] = if stop {
            &[GlobalRole::SystemAdmin]
        } else {
            &[]
        };
        r.require_in_project(project, DEVS, global, &format!("{verb} test instances"))
    }
}

/// Appends the audit row of one instance transition.
pub(super) async fn audit_change(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    before: &Instance,
    after: &Instance,
) -> Result<()> {
    audit::append(
        tx,
        actor,
        action,
        "instance",
        before.id,
        Some(before),
        Some(after),
    )
    .await
}

pub(super) fn check_hash(hash: &str) -> Result<String> {
    let h = hash.trim().to_ascii_lowercase();
    if h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(StoreError::invalid(
            "hash",
            format!("`{hash}` is not a sha256 in hex"),
            "pass the sha256 of the working file's text (64 hex digits)",
        ));
    }
    Ok(h)
}

/// Stops the instances of project `project_id` for an archive, inside its transaction:
/// desired `stopped` for every active one, those nobody holds (`created`) straight to
/// `stopped`. Returns the ids a worker still has to stop. Audited per instance.
pub(crate) async fn stop_for_archive(
    tx: &mut Tx,
    actor: &str,
    project_id: i64,
) -> Result<Vec<i64>> {
    let ids: Vec<(i64,)> = tx
        .all(
            "SELECT i.id FROM instances i JOIN jobs j ON j.id = i.job_id \
             WHERE j.project_id = $1 AND i.state IN ('created', 'starting', 'running', 'stopping') \
             ORDER BY i.id",
            &args![project_id],
        )
        .await?;
    let mut to_stop = Vec::new();
    for (id,) in ids {
        let before = lock_instance(tx, id).await?;
        if before.desired == DesiredState::Stopped && before.state != InstanceState::Created {
            to_stop.push(id);
            continue;
        }
        set_desired_stopped(tx, &before).await?;
        let after = load_instance(tx, id).await?;
        audit_change(tx, actor, "instance.stop", &before, &after).await?;
        if after.state.is_active() {
            to_stop.push(id);
        }
    }
    Ok(to_stop)
}

/// Desired `stopped`; an instance nobody holds (`created`) is stopped at once.
pub(super) async fn set_desired_stopped(tx: &mut Tx, inst: &Instance) -> Result<()> {
    if inst.state == InstanceState::Created {
        tx.execute(
            "UPDATE instances SET desired = 'stopped', state = 'stopped', stopped_at = $2 \
             WHERE id = $1",
            &args![inst.id, now()],
        )
        .await?;
    } else {
        tx.execute(
            "UPDATE instances SET desired = 'stopped' WHERE id = $1",
            &args![inst.id],
        )
        .await?;
    }
    Ok(())
}

impl Session {
    /// One instance.
    pub async fn instance(&self, id: i64) -> Result<Instance> {
        let mut tx = self.pool.read().await?;
        load_instance(&mut tx, id).await
    }

    /// The job text instance `id` runs: its version's text, or the working file's snapshot
    /// taken at start (what a worker runs).
    pub async fn instance_text(&self, id: i64) -> Result<String> {
        let mut tx = self.pool.read().await?;
        let row: Option<(Option<String>, Option<String>)> = tx
            .opt(
                "SELECT i.text, v.text FROM instances i \
                 LEFT JOIN job_versions v ON v.id = i.version_id WHERE i.id = $1",
                &args![id],
            )
            .await?;
        match row {
            Some((Some(t), _) | (None, Some(t))) => Ok(t),
            _ => Err(no_instance(id)),
        }
    }

    /// Instances, oldest first: active ones unless `filter.all` (or a state) says
    /// otherwise, narrowed by job, environment and state.
    pub async fn instances(&self, filter: &InstanceFilter) -> Result<Vec<Instance>> {
        let mut tx = self.pool.read().await?;
        let job_id = match &filter.job {
            Some(name) => Some(job_by_name(&mut tx, name).await?.id),
            None => None,
        };
        if let Some(env) = &filter.env
            && env != "test"
            && env != "prod"
        {
            return Err(StoreError::invalid(
                "env",
                format!("`{env}` is not an environment"),
                "use test or prod",
            ));
        }
        let active_only = !filter.all && filter.state.is_none();
        let ids: Vec<(i64,)> = tx
            .all(
                "SELECT id FROM instances WHERE ($1 IS NULL OR job_id = $1) \
                 AND ($2 IS NULL OR env = $2) AND ($3 IS NULL OR state = $3) \
                 AND ($4 = FALSE OR state NOT IN ('stopped', 'failed')) ORDER BY id",
                &args![
                    job_id,
                    filter.env.clone(),
                    filter.state.map(|s| s.as_str()),
                    active_only
                ],
            )
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(load_instance(&mut tx, id).await?);
        }
        Ok(out)
    }

    /// Starts a test instance of `job` (`project/path`): of a stored version, or of the
    /// working file's text as it is now. Developers and project admins of an active
    /// project. The instance is `created` with desired `running`; a worker claims it.
    pub async fn start_test_instance(
        &self,
        job: &str,
        spec: &TestInstanceSpec,
    ) -> Result<Instance> {
        self.start_test_instance_from(job, spec, None).await
    }

    /// [`Session::start_test_instance`], restoring savepoint `from` (a savepoint of the
    /// same job; refused otherwise) when the worker starts it.
    pub async fn start_test_instance_from(
        &self,
        job: &str,
        spec: &TestInstanceSpec,
        from: Option<i64>,
    ) -> Result<Instance> {
        check_spec(&GoLiveSpec {
            parallelism: spec.parallelism,
            memory_mib: spec.memory_mib,
            start: spec.start,
            params: spec.params.clone(),
        })?;
        let working = match (&spec.version, &spec.working) {
            (Some(_), None) => None,
            (None, Some(w)) => {
                if w.text.trim().is_empty() {
                    return Err(StoreError::invalid(
                        "text",
                        format!("the working file {} is empty", w.path),
                        "save the job file before starting it",
                    ));
                }
                let path = w.path.trim();
                if path.is_empty() {
                    return Err(StoreError::invalid(
                        "path",
                        "the working file has no path",
                        "pass the job file's path (jobs/clickstream_pv.ron)",
                    ));
                }
                Some((path.to_string(), w.text.clone(), check_hash(&w.hash)?))
            }
            _ => {
                return Err(StoreError::invalid(
                    "source",
                    "a test instance runs either a version or the working file",
                    "pass exactly one of the two (JOB@N or the file)",
                ));
            }
        };
        let mut tx = self.pool.write().await?;
        let (project, path) = parse_job(job)?;
        let p = projects::active(&mut tx, &project).await?;
        roles(&mut tx, &self.actor).await?.require_in_project(
            &p.name,
            DEVS,
            &[],
            "start test instances",
        )?;
        let (job, version_id) = match spec.version {
            Some(n) => {
                let j = job_by_name(&mut tx, job).await?;
                touch(&mut tx, j.id).await?;
                let (vid, _) = id_and_hash(&mut tx, &j, n).await?;
                (j, Some(vid))
            }
            None => (ensure_job(&mut tx, &self.actor, &p, &path).await?, None),
        };
        if let Some(sp) = from {
            super::savepoints::check_start_savepoint(&mut tx, sp, job.id, &job.name()).await?;
        }
        let (start, start_ms) = match spec.start {
            StartPosition::Latest => ("latest", None),
            StartPosition::Earliest => ("earliest", None),
            StartPosition::Timestamp(ms) => ("timestamp", Some(ms)),
        };
        let (source_path, text, text_hash) = match working {
            Some((p, t, h)) => (Some(p), Some(t), Some(h)),
            None => (None, None, None),
        };
        let (id,): (i64,) = tx
            .one(
                "INSERT INTO instances (job_id, version_id, release_id, env, parallelism, \
                 memory_mib, start_position, start_timestamp_ms, params, state, desired, \
                 source_path, text, text_hash, created_by, created_at, start_savepoint_id) \
                 VALUES ($1, $2, NULL, 'test', $3, $4, $5, $6, $7, 'created', 'running', $8, $9, \
                 $10, $11, $12, $13) RETURNING id",
                &args![
                    job.id,
                    version_id,
                    spec.parallelism,
                    spec.memory_mib,
                    start,
                    start_ms,
                    spec.params.to_string(),
                    source_path,
                    text,
                    text_hash,
                    &self.actor,
                    now(),
                    from
                ],
            )
            .await?;
        let inst = load_instance(&mut tx, id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "instance.create",
            "instance",
            id,
            NONE,
            Some(&inst),
        )
        .await?;
        tx.commit().await?;
        Ok(inst)
    }

    /// Starts a stopped or failed instance again (restart): desired `running`, state
    /// `created`, no worker, so a worker claims it. Test instances: developers and project
    /// admins; production instances: the project admin or a system admin, and only while
    /// their release is live. The project must be active.
    pub async fn start_instance(&self, id: i64) -> Result<Instance> {
        let mut tx = self.pool.write().await?;
        let before = lock_instance(&mut tx, id).await?;
        let (job, p) = job_of(&mut tx, id).await?;
        projects::ensure_active(&p)?;
        let r = roles(&mut tx, &self.actor).await?;
        require_right(&r, &before, &p.name, false)?;
        touch(&mut tx, job.id).await?;
        if before.env == "prod" {
            let release: Option<(i64, String)> = tx
                .opt(
                    "SELECT r.request_id, r.state FROM instances i \
                     JOIN releases r ON r.request_id = i.release_id WHERE i.id = $1",
                    &args![id],
                )
                .await?;
            match release {
                Some((_, state)) if state == "live" => {}
                Some((rid, state)) => {
                    return Err(StoreError::wrong_state(format!(
                        "instance #{id} belongs to release #{rid}, which is {state}; only the \
                         instance of a live release can start (take a release live instead)"
                    )));
                }
                None => {
                    return Err(StoreError::wrong_state(format!(
                        "production instance #{id} has no release; production instances \
                         start only from a live release"
                    )));
                }
            }
        }
        if before.state.is_active() {
            let what = if before.desired == DesiredState::Stopped {
                "is stopping; start it again once it is stopped"
            } else {
                "is already running or waiting for a worker"
            };
            return Err(StoreError::wrong_state(format!(
                "instance #{id} is {} and {what}",
                before.state
            )));
        }
        tx.execute(
            "UPDATE instances SET desired = 'running', state = 'created', worker = NULL, \
             heartbeat_at = NULL, started_at = NULL, stopped_at = NULL, error = NULL \
             WHERE id = $1",
            &args![id],
        )
        .await?;
        let after = load_instance(&mut tx, id).await?;
        audit_change(&mut tx, &self.actor, "instance.start", &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Stops an instance: desired `stopped`; one nobody runs yet (`created`) is stopped at
    /// once, otherwise its worker stops it. Test instances: developers and project admins
    /// (or a system admin); production instances: the project admin or a system admin.
    /// Refused for an instance already stopped, failed or stopping.
    pub async fn stop_instance(&self, id: i64) -> Result<Instance> {
        let mut tx = self.pool.write().await?;
        let before = lock_instance(&mut tx, id).await?;
        let (_, p) = job_of(&mut tx, id).await?;
        let r = roles(&mut tx, &self.actor).await?;
        require_right(&r, &before, &p.name, true)?;
        match before.state {
            InstanceState::Stopped => {
                return Err(StoreError::wrong_state(format!(
                    "instance #{id} is already stopped (since {})",
                    before.stopped_at.as_deref().unwrap_or("an unknown time")
                )));
            }
            InstanceState::Failed => {
                return Err(StoreError::wrong_state(format!(
                    "instance #{id} is not running: it failed ({})",
                    before.error.as_deref().unwrap_or("no error recorded")
                )));
            }
            _ if before.desired == DesiredState::Stopped => {
                return Err(StoreError::wrong_state(format!(
                    "instance #{id} is already stopping; worker {} stops it within seconds",
                    before.worker.as_deref().unwrap_or("(none)")
                )));
            }
            _ => {}
        }
        set_desired_stopped(&mut tx, &before).await?;
        let after = load_instance(&mut tx, id).await?;
        audit_change(&mut tx, &self.actor, "instance.stop", &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }
}
