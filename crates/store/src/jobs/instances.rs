//! Instances and the workers that run them (SPEC R-life, issue 14).
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
//! | starting, running, stopping   | created    | [`Session::unregister_worker`] hands it back |
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

use std::time::Duration;

use serde::Serialize;

use crate::Session;
use crate::audit::{self, NONE};
use crate::db::{Backend, Tx, ago, args, now};
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

    fn from_db(s: &str) -> DesiredState {
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

/// A registered worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Worker {
    /// Its id, chosen by the worker (`host-pid` or a uuid).
    pub id: String,
    /// The login it acts as.
    pub login: String,
    /// The machine it runs on.
    pub host: String,
    /// Its process id there.
    pub pid: i64,
    /// How many instances it runs at most.
    pub slots: i64,
    /// When it registered.
    pub started_at: String,
    /// Its last heartbeat.
    pub heartbeat_at: String,
    /// Asked to stop (`weir worker stop`).
    pub stopping: bool,
    /// The instances it holds (starting, running or stopping), by id.
    pub instances: Vec<i64>,
}

/// One instance a worker holds, as its heartbeat reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Held {
    /// Instance id.
    pub id: i64,
    /// Its state.
    pub state: InstanceState,
    /// What it should be doing: `stopped` means the worker must stop it.
    pub desired: DesiredState,
}

/// What a heartbeat tells its worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heartbeat {
    /// The worker is asked to stop.
    pub stopping: bool,
    /// The instances it still holds; one it runs that is missing was taken over by
    /// another worker, and it must stop running it.
    pub instances: Vec<Held>,
}

type MainRow = (
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

type RunRow = (
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

fn no_instance(id: i64) -> StoreError {
    StoreError::NotFound {
        kind: "instance",
        name: format!("#{id}"),
        suggestion: None,
    }
}

/// Locks the instance's row for the transaction (on PostgreSQL; SQLite's write
/// transaction is exclusive anyway), then reads it: a claim racing this write either
/// waits or skips the row.
async fn lock_instance(tx: &mut Tx, id: i64) -> Result<Instance> {
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
async fn job_of(tx: &mut Tx, id: i64) -> Result<(JobRow, Project)> {
    let (job_id,): (i64,) = tx
        .one("SELECT job_id FROM instances WHERE id = $1", &args![id])
        .await?;
    let job = job_by_id(tx, job_id).await?;
    let p = projects::by_name(tx, &job.project).await?;
    Ok((job, p))
}

/// Checks the actor may start (`stop == false`) or stop the instance.
fn require_right(r: &Roles, inst: &Instance, project: &str, stop: bool) -> Result<()> {
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
async fn audit_change(
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

fn check_hash(hash: &str) -> Result<String> {
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

fn check_worker_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.chars().count() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "worker",
            format!("`{id}` is not a worker id"),
            "use 1 to 100 letters, digits, `-`, `_`, `.`, `:` or `@` (host-pid, a uuid)",
        ))
    }
}

/// Fails unless the actor may run workers (see the module doc).
async fn require_worker_role(tx: &mut Tx, actor: &str) -> Result<Roles> {
    let r = roles(tx, actor).await?;
    match tx.backend() {
        Backend::Sqlite if r.registered => Ok(r),
        Backend::Sqlite => Err(r.forbidden("run a worker", "a registered user".to_string())),
        Backend::Postgres => {
            r.require(&[GlobalRole::SystemAdmin, GlobalRole::Ops], "run a worker")?;
            Ok(r)
        }
    }
}

type WorkerRow = (String, String, String, i64, i64, String, String, bool);

async fn load_worker(tx: &mut Tx, id: &str) -> Result<Worker> {
    let row: Option<WorkerRow> = tx
        .opt(
            "SELECT id, login, host, pid, slots, started_at, heartbeat_at, stopping \
             FROM workers WHERE id = $1",
            &args![id],
        )
        .await?;
    let Some(r) = row else {
        let all: Vec<(String,)> = tx.all("SELECT id FROM workers", &[]).await?;
        return Err(StoreError::not_found(
            "worker",
            id,
            all.into_iter().map(|(w,)| w),
        ));
    };
    let held: Vec<(i64,)> = tx
        .all(
            "SELECT id FROM instances WHERE worker = $1 \
             AND state IN ('starting', 'running', 'stopping') ORDER BY id",
            &args![id],
        )
        .await?;
    Ok(Worker {
        id: r.0,
        login: r.1,
        host: r.2,
        pid: r.3,
        slots: r.4,
        started_at: r.5,
        heartbeat_at: r.6,
        stopping: r.7,
        instances: held.into_iter().map(|(i,)| i).collect(),
    })
}

/// The worker `id`, which the actor must be acting for (the login that registered it).
async fn own_worker(tx: &mut Tx, actor: &str, id: &str) -> Result<Worker> {
    let w = load_worker(tx, id).await?;
    if w.login != actor {
        return Err(StoreError::NotAllowed(format!(
            "worker {id} runs as {}; only that login can act for it (you are {actor})",
            w.login
        )));
    }
    Ok(w)
}

/// Instances held by another worker whose heartbeat is older than `cutoff`, or waiting
/// (`created`); on PostgreSQL skipping rows another transaction has locked.
const CLAIM_PG: &str = "SELECT id FROM instances \
     WHERE desired = 'running' AND (state = 'created' OR (state IN ('starting', 'running', 'stopping') \
     AND (worker IS NULL OR worker <> $1) AND (heartbeat_at IS NULL OR heartbeat_at < $2))) \
     ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED";
const CLAIM_SQLITE: &str = "SELECT id FROM instances \
     WHERE desired = 'running' AND (state = 'created' OR (state IN ('starting', 'running', 'stopping') \
     AND (worker IS NULL OR worker <> $1) AND (heartbeat_at IS NULL OR heartbeat_at < $2))) \
     ORDER BY id LIMIT $3";
/// Instances asked to stop whose worker went silent: nobody will finish the stop.
const ABANDONED_PG: &str = "SELECT id FROM instances \
     WHERE desired = 'stopped' AND state IN ('starting', 'running', 'stopping') \
     AND (worker IS NULL OR worker <> $1) AND (heartbeat_at IS NULL OR heartbeat_at < $2) \
     ORDER BY id FOR UPDATE SKIP LOCKED";
const ABANDONED_SQLITE: &str = "SELECT id FROM instances \
     WHERE desired = 'stopped' AND state IN ('starting', 'running', 'stopping') \
     AND (worker IS NULL OR worker <> $1) AND (heartbeat_at IS NULL OR heartbeat_at < $2) \
     ORDER BY id";

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
async fn set_desired_stopped(tx: &mut Tx, inst: &Instance) -> Result<()> {
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
                 source_path, text, text_hash, created_by, created_at) \
                 VALUES ($1, $2, NULL, 'test', $3, $4, $5, $6, $7, 'created', 'running', $8, $9, \
                 $10, $11, $12) RETURNING id",
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
                    now()
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

    /// Registers a worker (or registers it again after a restart: same id, new process).
    /// From now on only the actor's login acts for it. See the module doc for who may.
    pub async fn register_worker(
        &self,
        id: &str,
        host: &str,
        pid: i64,
        slots: i64,
    ) -> Result<Worker> {
        check_worker_id(id)?;
        if slots < 1 {
            return Err(StoreError::invalid(
                "slots",
                format!("{slots} slots"),
                "give the worker at least 1 slot",
            ));
        }
        if pid < 0 {
            return Err(StoreError::invalid(
                "pid",
                format!("process id {pid}"),
                "pass the worker's process id",
            ));
        }
        let mut tx = self.pool.write().await?;
        require_worker_role(&mut tx, &self.actor).await?;
        let before = match load_worker(&mut tx, id).await {
            Ok(w) => Some(w),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        if let Some(b) = &before
            && b.login != self.actor
        {
            return Err(StoreError::NotAllowed(format!(
                "worker id {id} is taken by a worker running as {}; choose another id",
                b.login
            )));
        }
        let at = now();
        tx.execute(
            "INSERT INTO workers (id, login, host, pid, slots, started_at, heartbeat_at, stopping) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, FALSE) \
             ON CONFLICT (id) DO UPDATE SET host = $3, pid = $4, slots = $5, started_at = $6, \
             heartbeat_at = $6, stopping = FALSE",
            &args![id, &self.actor, host.trim(), pid, slots, &at],
        )
        .await?;
        let after = load_worker(&mut tx, id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "worker.register",
            "worker",
            id,
            before.as_ref(),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The worker's heartbeat: refreshes it and that of the instances it holds, and tells
    /// it which instances it still holds with their desired states (so it carries out
    /// stops) and whether it is asked to stop. Not audited.
    pub async fn worker_heartbeat(&self, id: &str) -> Result<Heartbeat> {
        let mut tx = self.pool.write().await?;
        let w = own_worker(&mut tx, &self.actor, id).await?;
        let at = now();
        tx.execute(
            "UPDATE workers SET heartbeat_at = $2 WHERE id = $1",
            &args![id, &at],
        )
        .await?;
        tx.execute(
            "UPDATE instances SET heartbeat_at = $2 WHERE worker = $1 \
             AND state IN ('starting', 'running', 'stopping')",
            &args![id, &at],
        )
        .await?;
        let rows: Vec<(i64, String, String)> = tx
            .all(
                "SELECT id, state, desired FROM instances WHERE worker = $1 \
                 AND state IN ('starting', 'running', 'stopping') ORDER BY id",
                &args![id],
            )
            .await?;
        tx.commit().await?;
        let mut instances = Vec::with_capacity(rows.len());
        for (iid, state, desired) in rows {
            instances.push(Held {
                id: iid,
                state: InstanceState::parse(&state)?,
                desired: DesiredState::from_db(&desired),
            });
        }
        Ok(Heartbeat {
            stopping: w.stopping,
            instances,
        })
    }

    /// Claims up to `max` instances for worker `id` in one transaction: those waiting
    /// (`created`) and those held by another worker whose heartbeat is older than
    /// `take_over_after` (taken over). Each becomes `starting`, held by this worker, and
    /// is audited (`instance.claim` or `instance.take_over`). Instances asked to stop
    /// whose worker went silent are marked `stopped` on the way. Returns the claimed ones.
    pub async fn claim_instances(
        &self,
        id: &str,
        max: i64,
        take_over_after: Duration,
    ) -> Result<Vec<Instance>> {
        let mut tx = self.pool.write().await?;
        let w = own_worker(&mut tx, &self.actor, id).await?;
        if w.stopping {
            return Ok(Vec::new());
        }
        let cutoff = ago(take_over_after);
        let at = now();
        let abandoned_sql = match tx.backend() {
            Backend::Postgres => ABANDONED_PG,
            Backend::Sqlite => ABANDONED_SQLITE,
        };
        let abandoned: Vec<(i64,)> = tx.all(abandoned_sql, &args![id, &cutoff]).await?;
        for (iid,) in abandoned {
            let before = load_instance(&mut tx, iid).await?;
            tx.execute(
                "UPDATE instances SET state = 'stopped', stopped_at = $2 WHERE id = $1",
                &args![iid, &at],
            )
            .await?;
            let after = load_instance(&mut tx, iid).await?;
            audit_change(&mut tx, &self.actor, "instance.state", &before, &after).await?;
        }
        let mut claimed = Vec::new();
        if max > 0 {
            let claim_sql = match tx.backend() {
                Backend::Postgres => CLAIM_PG,
                Backend::Sqlite => CLAIM_SQLITE,
            };
            let ids: Vec<(i64,)> = tx.all(claim_sql, &args![id, &cutoff, max]).await?;
            for (iid,) in ids {
                let before = load_instance(&mut tx, iid).await?;
                tx.execute(
                    "UPDATE instances SET worker = $2, state = 'starting', heartbeat_at = $3, \
                     started_at = NULL, stopped_at = NULL, error = NULL WHERE id = $1",
                    &args![iid, id, &at],
                )
                .await?;
                let after = load_instance(&mut tx, iid).await?;
                let action = if before.state == InstanceState::Created {
                    "instance.claim"
                } else {
                    "instance.take_over"
                };
                audit_change(&mut tx, &self.actor, action, &before, &after).await?;
                claimed.push(after);
            }
        }
        tx.execute(
            "UPDATE workers SET heartbeat_at = $2 WHERE id = $1",
            &args![id, &at],
        )
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Worker `worker` reports instance `id`'s new state. Only the worker holding the
    /// instance may (no instance runs on two workers). Allowed: starting → running;
    /// starting or running → stopping; any held state → stopped (once desired is
    /// stopped) or failed (with `error`).
    pub async fn set_instance_state(
        &self,
        worker: &str,
        id: i64,
        state: InstanceState,
        error: Option<&str>,
    ) -> Result<Instance> {
        let mut tx = self.pool.write().await?;
        own_worker(&mut tx, &self.actor, worker).await?;
        let before = lock_instance(&mut tx, id).await?;
        if before.worker.as_deref() != Some(worker) || !before.state.is_held() {
            let holder = match (&before.worker, before.state.is_held()) {
                (Some(w), true) => format!("held by worker {w}"),
                _ => format!("{} and held by no worker", before.state),
            };
            return Err(StoreError::NotAllowed(format!(
                "worker {worker} does not hold instance #{id}: it is {holder}; stop running it"
            )));
        }
        use InstanceState as S;
        let allowed = match (before.state, state) {
            (S::Starting, S::Running) => true,
            (S::Starting | S::Running, S::Stopping) | (_, S::Stopped) => {
                if before.desired != DesiredState::Stopped {
                    return Err(StoreError::wrong_state(format!(
                        "instance #{id} should keep running (nobody asked it to stop); report \
                         failed with the error, or unregister the worker to hand it back"
                    )));
                }
                true
            }
            (_, S::Failed) => true,
            _ => false,
        };
        if !allowed {
            return Err(StoreError::wrong_state(format!(
                "instance #{id} cannot go from {} to {state}",
                before.state
            )));
        }
        let error = error.map(str::trim).filter(|e| !e.is_empty());
        let at = now();
        match state {
            S::Running => {
                tx.execute(
                    "UPDATE instances SET state = 'running', started_at = $2, heartbeat_at = $2 \
                     WHERE id = $1",
                    &args![id, &at],
                )
                .await?;
            }
            S::Stopping => {
                tx.execute(
                    "UPDATE instances SET state = 'stopping', heartbeat_at = $2 WHERE id = $1",
                    &args![id, &at],
                )
                .await?;
            }
            S::Stopped => {
                tx.execute(
                    "UPDATE instances SET state = 'stopped', stopped_at = $2 WHERE id = $1",
                    &args![id, &at],
                )
                .await?;
            }
            _ => {
                let Some(error) = error else {
                    return Err(StoreError::invalid(
                        "error",
                        format!("instance #{id} is reported failed without an error"),
                        "say what failed, where, and what to do",
                    ));
                };
                tx.execute(
                    "UPDATE instances SET state = 'failed', stopped_at = $2, error = $3 \
                     WHERE id = $1",
                    &args![id, &at, error],
                )
                .await?;
            }
        }
        let after = load_instance(&mut tx, id).await?;
        audit_change(&mut tx, &self.actor, "instance.state", &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The registered workers, by id, with the instances each holds.
    pub async fn workers(&self) -> Result<Vec<Worker>> {
        let mut tx = self.pool.read().await?;
        let ids: Vec<(String,)> = tx.all("SELECT id FROM workers ORDER BY id", &[]).await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(load_worker(&mut tx, &id).await?);
        }
        Ok(out)
    }

    /// Asks worker `id` to stop (`weir worker stop`): its next heartbeat says so. Its own
    /// login, a system admin or ops.
    pub async fn stop_worker(&self, id: &str) -> Result<Worker> {
        let mut tx = self.pool.write().await?;
        let before = load_worker(&mut tx, id).await?;
        if before.login != self.actor {
            roles(&mut tx, &self.actor)
                .await?
                .require(&[GlobalRole::SystemAdmin, GlobalRole::Ops], "stop workers")?;
        }
        if before.stopping {
            return Err(StoreError::wrong_state(format!(
                "worker {id} is already asked to stop"
            )));
        }
        tx.execute(
            "UPDATE workers SET stopping = TRUE WHERE id = $1",
            &args![id],
        )
        .await?;
        let after = load_worker(&mut tx, id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "worker.stop",
            "worker",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes worker `id` (it is exiting, or a system admin clears a dead one). The
    /// instances it holds are handed back: those that should run go to `created` for
    /// another worker to claim, those asked to stop are `stopped`. Returns the ids handed
    /// back to run. Its own login or a system admin.
    pub async fn unregister_worker(&self, id: &str) -> Result<Vec<i64>> {
        let mut tx = self.pool.write().await?;
        let before = load_worker(&mut tx, id).await?;
        if before.login != self.actor {
            roles(&mut tx, &self.actor)
                .await?
                .require(&[GlobalRole::SystemAdmin], "remove another login's worker")?;
        }
        let at = now();
        let mut handed_back = Vec::new();
        for &iid in &before.instances {
            let inst = lock_instance(&mut tx, iid).await?;
            if inst.worker.as_deref() != Some(id) || !inst.state.is_held() {
                continue;
            }
            if inst.desired == DesiredState::Running {
                tx.execute(
                    "UPDATE instances SET state = 'created', worker = NULL, heartbeat_at = NULL \
                     WHERE id = $1",
                    &args![iid],
                )
                .await?;
                handed_back.push(iid);
            } else {
                tx.execute(
                    "UPDATE instances SET state = 'stopped', stopped_at = $2 WHERE id = $1",
                    &args![iid, &at],
                )
                .await?;
            }
            let after = load_instance(&mut tx, iid).await?;
            audit_change(&mut tx, &self.actor, "instance.release", &inst, &after).await?;
        }
        tx.execute("DELETE FROM workers WHERE id = $1", &args![id])
            .await?;
        audit::append(
            &mut tx,
            &self.actor,
            "worker.unregister",
            "worker",
            id,
            Some(&before),
            NONE,
        )
        .await?;
        tx.commit().await?;
        Ok(handed_back)
    }
}
