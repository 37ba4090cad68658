//! Savepoints (SPEC R-life, issue 16): what the store knows of them and how a command
//! asks a worker for one. The savepoint itself (its files) is on disk where the worker
//! wrote it (`path`); the store keeps the record (instance, job, text hash, checkpoint
//! id, size, who and when) and the requests.
//!
//! A request (`weir instance savepoint`, `stop --savepoint`) is a row the worker running
//! the instance picks up within a second ([`Session::pending_savepoint_requests`]); it
//! takes the savepoint, records it and settles the request in one transaction
//! ([`Session::record_savepoint`]), or marks it failed with the error. A stop request
//! also sets the instance's desired state to `stopped` in the request's transaction, so
//! the worker sees both at once and stops with the savepoint rather than without.
//!
//! Rights, as for stopping the instance: test instances, the project's developers and
//! admins or a system admin; production instances, the project admin or a system admin.
//! Only the login of the worker holding the instance records and settles. PostgreSQL
//! migration 7 enforces the same on every login.

use serde::Serialize;

use crate::Session;
use crate::audit::{self, NONE};
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};
use crate::identity::roles;

use super::instances::{
    DesiredState, InstanceState, audit_change, job_of, load_instance, lock_instance, require_right,
    set_desired_stopped,
};
use super::workers::own_worker;
use super::{by_id as job_by_id, by_name as job_by_name};

/// A recorded savepoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Savepoint {
    /// Store id (`weir savepoint delete ID`, `--from savepoint:ID`).
    pub id: i64,
    /// The instance it was taken of.
    pub instance: i64,
    /// `project/path`.
    pub job: String,
    /// sha256 of the job text that ran (the savepoint manifest's `job_hash`).
    pub text_hash: String,
    /// Its directory on the worker's disk (`…/.weir/checkpoints/7/sp-12`).
    pub path: String,
    /// The checkpoint id inside the instance's line of checkpoints.
    pub checkpoint_id: i64,
    /// Bytes of state.
    pub size: i64,
    /// Who asked for it.
    pub created_by: String,
    pub created_at: String,
}

/// State of a savepoint request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SavepointRequestState {
    /// Waiting for the worker.
    Pending,
    /// Taken: `savepoint` says which.
    Done,
    /// Not taken: `error` says why.
    Failed,
}

impl SavepointRequestState {
    fn from_db(s: &str) -> SavepointRequestState {
        match s {
            "done" => SavepointRequestState::Done,
            "failed" => SavepointRequestState::Failed,
            _ => SavepointRequestState::Pending,
        }
    }
}

/// A request for a savepoint of a running instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavepointRequest {
    pub id: i64,
    pub instance: i64,
    /// Stop the instance right after the savepoint (its sinks commit first).
    pub stop: bool,
    pub state: SavepointRequestState,
    pub savepoint: Option<i64>,
    pub error: Option<String>,
    pub requested_by: String,
    pub requested_at: String,
    pub done_at: Option<String>,
}

/// What a worker records once a savepoint is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenSavepoint {
    /// The request it carries out.
    pub request: i64,
    pub text_hash: String,
    pub path: String,
    pub checkpoint_id: i64,
    pub size: i64,
}

type SavepointRow = (i64, i64, i64, String, String, i64, i64, String, String);
type RequestRow = (
    i64,
    i64,
    bool,
    String,
    Option<i64>,
    Option<String>,
    String,
    String,
    Option<String>,
);

async fn load_savepoint(tx: &mut Tx, id: i64) -> Result<Savepoint> {
    let row: Option<SavepointRow> = tx
        .opt(
            "SELECT id, instance_id, job_id, text_hash, path, checkpoint_id, size, created_by, \
             created_at FROM savepoints WHERE id = $1",
            &args![id],
        )
        .await?;
    let Some(r) = row else {
        let all: Vec<(i64,)> = tx.all("SELECT id FROM savepoints ORDER BY id", &[]).await?;
        return Err(StoreError::not_found(
            "savepoint",
            &format!("#{id}"),
            all.into_iter().map(|(i,)| format!("#{i}")),
        ));
    };
    let job = job_by_id(tx, r.2).await?;
    Ok(Savepoint {
        id: r.0,
        instance: r.1,
        job: job.name(),
        text_hash: r.3,
        path: r.4,
        checkpoint_id: r.5,
        size: r.6,
        created_by: r.7,
        created_at: r.8,
    })
}

fn no_request(id: i64) -> StoreError {
    StoreError::NotFound {
        kind: "savepoint request",
        name: format!("#{id}"),
        suggestion: None,
    }
}

async fn load_request(tx: &mut Tx, id: i64) -> Result<SavepointRequest> {
    let row: Option<RequestRow> = tx
        .opt(
            "SELECT id, instance_id, stop, state, savepoint_id, error, requested_by, \
             requested_at, done_at FROM savepoint_requests WHERE id = $1",
            &args![id],
        )
        .await?;
    let r = row.ok_or_else(|| no_request(id))?;
    Ok(SavepointRequest {
        id: r.0,
        instance: r.1,
        stop: r.2,
        state: SavepointRequestState::from_db(&r.3),
        savepoint: r.4,
        error: r.5,
        requested_by: r.6,
        requested_at: r.7,
        done_at: r.8,
    })
}

/// The savepoint `id` as the start of a new instance of job `job_id`: refused when it
/// is another job's.
pub(super) async fn check_start_savepoint(
    tx: &mut Tx,
    id: i64,
    job_id: i64,
    job: &str,
) -> Result<()> {
    let sp = load_savepoint(tx, id).await?;
    let (sp_job,): (i64,) = tx
        .one("SELECT job_id FROM savepoints WHERE id = $1", &args![id])
        .await?;
    if sp_job != job_id {
        return Err(StoreError::invalid(
            "from",
            format!(
                "savepoint #{id} was taken of job {} (instance #{}), not of {job}",
                sp.job, sp.instance
            ),
            format!("start from a savepoint of {job} (weir savepoint list {job})"),
        ));
    }
    Ok(())
}

impl Session {
    /// Asks the worker running instance `id` for a savepoint; with `stop`, also asks it
    /// to stop right after (desired `stopped`, in the same transaction). The instance
    /// must be starting or running and not already stopping.
    pub async fn request_savepoint(&self, id: i64, stop: bool) -> Result<SavepointRequest> {
        let mut tx = self.pool.write().await?;
        let before = lock_instance(&mut tx, id).await?;
        let (_, p) = job_of(&mut tx, id).await?;
        let r = roles(&mut tx, &self.actor).await?;
        require_right(&r, &before, &p.name, true)?;
        let runs = matches!(
            before.state,
            InstanceState::Starting | InstanceState::Running
        );
        if !runs || before.desired == DesiredState::Stopped {
            let what = if before.desired == DesiredState::Stopped && before.state.is_active() {
                "stopping".to_string()
            } else {
                before.state.to_string()
            };
            return Err(StoreError::wrong_state(format!(
                "instance #{id} is {what}: a savepoint is taken of a running instance (start it, \
                 or start a new instance from its last savepoint: weir savepoint list)"
            )));
        }
        let pending: Option<(i64,)> = tx
            .opt(
                "SELECT id FROM savepoint_requests WHERE instance_id = $1 AND state = 'pending' \
                 ORDER BY id LIMIT 1",
                &args![id],
            )
            .await?;
        if let Some((rid,)) = pending
            && !stop
        {
            // one savepoint at a time: the pending one answers this request too
            return load_request(&mut tx, rid).await;
        }
        let at = now();
        let (rid,): (i64,) = tx
            .one(
                "INSERT INTO savepoint_requests (instance_id, stop, state, requested_by, \
                 requested_at) VALUES ($1, $2, 'pending', $3, $4) RETURNING id",
                &args![id, stop, &self.actor, &at],
            )
            .await?;
        let req = load_request(&mut tx, rid).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "savepoint.request",
            "savepoint_request",
            rid,
            NONE,
            Some(&req),
        )
        .await?;
        if stop {
            set_desired_stopped(&mut tx, &before).await?;
            let after = load_instance(&mut tx, id).await?;
            audit_change(&mut tx, &self.actor, "instance.stop", &before, &after).await?;
        }
        tx.commit().await?;
        Ok(req)
    }

    /// One savepoint request (a command waits on it).
    pub async fn savepoint_request(&self, id: i64) -> Result<SavepointRequest> {
        let mut tx = self.pool.read().await?;
        load_request(&mut tx, id).await
    }

    /// The pending requests of the instances worker `worker` holds, oldest first. Only
    /// the worker's own login.
    pub async fn pending_savepoint_requests(&self, worker: &str) -> Result<Vec<SavepointRequest>> {
        let mut tx = self.pool.read().await?;
        own_worker(&mut tx, &self.actor, worker).await?;
        let ids: Vec<(i64,)> = tx
            .all(
                "SELECT r.id FROM savepoint_requests r JOIN instances i ON i.id = r.instance_id \
                 WHERE r.state = 'pending' AND i.worker = $1 \
                 AND i.state IN ('starting', 'running', 'stopping') ORDER BY r.id",
                &args![worker],
            )
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(load_request(&mut tx, id).await?);
        }
        Ok(out)
    }

    /// Worker `worker` took the savepoint a request asked for: records it (created by
    /// whoever asked) and settles the request, audited `savepoint.take`.
    pub async fn record_savepoint(
        &self,
        worker: &str,
        taken: &TakenSavepoint,
    ) -> Result<Savepoint> {
        let mut tx = self.pool.write().await?;
        own_worker(&mut tx, &self.actor, worker).await?;
        let req = load_request(&mut tx, taken.request).await?;
        let inst = load_instance(&mut tx, req.instance).await?;
        if inst.worker.as_deref() != Some(worker) {
            return Err(StoreError::NotAllowed(format!(
                "worker {worker} does not run instance #{}; its savepoints are recorded by its own worker",
                inst.id
            )));
        }
        if req.state != SavepointRequestState::Pending {
            return Err(StoreError::wrong_state(format!(
                "savepoint request #{} is already settled",
                req.id
            )));
        }
        let (job_id,): (i64,) = tx
            .one(
                "SELECT job_id FROM instances WHERE id = $1",
                &args![inst.id],
            )
            .await?;
        let at = now();
        let (sid,): (i64,) = tx
            .one(
                "INSERT INTO savepoints (instance_id, job_id, text_hash, path, checkpoint_id, \
                 size, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 RETURNING id",
                &args![
                    inst.id,
                    job_id,
                    &taken.text_hash,
                    &taken.path,
                    taken.checkpoint_id,
                    taken.size,
                    &req.requested_by,
                    &at
                ],
            )
            .await?;
        tx.execute(
            "UPDATE savepoint_requests SET state = 'done', savepoint_id = $2, done_at = $3 \
             WHERE id = $1",
            &args![req.id, sid, &at],
        )
        .await?;
        let sp = load_savepoint(&mut tx, sid).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "savepoint.take",
            "savepoint",
            sid,
            NONE,
            Some(&sp),
        )
        .await?;
        tx.commit().await?;
        Ok(sp)
    }

    /// Worker `worker` could not take the savepoint request `request` asked for.
    pub async fn fail_savepoint_request(
        &self,
        worker: &str,
        request: i64,
        error: &str,
    ) -> Result<SavepointRequest> {
        let mut tx = self.pool.write().await?;
        own_worker(&mut tx, &self.actor, worker).await?;
        let before = load_request(&mut tx, request).await?;
        let inst = load_instance(&mut tx, before.instance).await?;
        if inst.worker.as_deref() != Some(worker) || before.state != SavepointRequestState::Pending
        {
            return Err(StoreError::wrong_state(format!(
                "savepoint request #{request} is not a pending request of an instance of worker {worker}"
            )));
        }
        let error = match error.trim() {
            "" => "the savepoint failed (no reason given)",
            e => e,
        };
        tx.execute(
            "UPDATE savepoint_requests SET state = 'failed', error = $2, done_at = $3 \
             WHERE id = $1",
            &args![request, error, now()],
        )
        .await?;
        let after = load_request(&mut tx, request).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "savepoint.fail",
            "savepoint_request",
            request,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// One savepoint.
    pub async fn savepoint(&self, id: i64) -> Result<Savepoint> {
        let mut tx = self.pool.read().await?;
        load_savepoint(&mut tx, id).await
    }

    /// Savepoints, oldest first; of job `job` (`project/path`) only when given.
    pub async fn savepoints(&self, job: Option<&str>) -> Result<Vec<Savepoint>> {
        let mut tx = self.pool.read().await?;
        let job_id = match job {
            Some(name) => Some(job_by_name(&mut tx, name).await?.id),
            None => None,
        };
        let ids: Vec<(i64,)> = tx
            .all(
                "SELECT id FROM savepoints WHERE ($1 IS NULL OR job_id = $1) ORDER BY id",
                &args![job_id],
            )
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(load_savepoint(&mut tx, id).await?);
        }
        Ok(out)
    }

    /// Deletes savepoint `id`'s record (the caller removes its directory), audited
    /// `savepoint.delete`. The rights of stopping its instance.
    pub async fn delete_savepoint(&self, id: i64) -> Result<Savepoint> {
        let mut tx = self.pool.write().await?;
        let sp = load_savepoint(&mut tx, id).await?;
        let inst = load_instance(&mut tx, sp.instance).await?;
        let (_, p) = job_of(&mut tx, sp.instance).await?;
        let r = roles(&mut tx, &self.actor).await?;
        require_right(&r, &inst, &p.name, true)?;
        tx.execute("DELETE FROM savepoints WHERE id = $1", &args![id])
            .await?;
        audit::append(
            &mut tx,
            &self.actor,
            "savepoint.delete",
            "savepoint",
            id,
            Some(&sp),
            NONE,
        )
        .await?;
        tx.commit().await?;
        Ok(sp)
    }

    /// The savepoint instance `id` was started from (`--from savepoint:SP`), if any.
    pub async fn instance_start_savepoint(&self, id: i64) -> Result<Option<i64>> {
        let mut tx = self.pool.read().await?;
        let row: Option<(Option<i64>,)> = tx
            .opt(
                "SELECT start_savepoint_id FROM instances WHERE id = $1",
                &args![id],
            )
            .await?;
        match row {
            Some((sp,)) => Ok(sp),
            None => Err(super::instances::no_instance(id)),
        }
    }
}
