//! Workers, the processes that run instances: register, heartbeat, claim and report
//! states. The rules (who may run a worker, how a claim picks instances, why no instance
//! runs on two workers) are in the module doc of `instances.rs`.

use std::time::Duration;

use serde::Serialize;

use crate::Session;
use crate::audit::{self, NONE};
use crate::db::{Backend, Tx, ago, args, now};
use crate::error::{Result, StoreError};
use crate::identity::{GlobalRole, Roles, roles};

use super::instances::*;

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
pub(super) async fn own_worker(tx: &mut Tx, actor: &str, id: &str) -> Result<Worker> {
    let w = load_worker(tx, id).await?;
    if w.login != actor {
        return Err(StoreError::NotAllowed(format!(
            "worker {id} runs as {}; only that login can act for it (you are {actor})",
            w.login
        )));
    }
    Ok(w)
}

/// Hands back what worker `w` holds: an instance that should run becomes `created` again
/// (the next claim starts it), one asked to stop is `stopped`; each audited as
/// `instance.release`. Returns the ids handed back to run.
async fn release_held(tx: &mut Tx, actor: &str, w: &Worker) -> Result<Vec<i64>> {
    let at = now();
    let mut handed_back = Vec::new();
    for &iid in &w.instances {
        let inst = lock_instance(tx, iid).await?;
        if inst.worker.as_deref() != Some(w.id.as_str()) || !inst.state.is_held() {
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
        let after = load_instance(tx, iid).await?;
        audit_change(tx, actor, "instance.release", &inst, &after).await?;
    }
    Ok(handed_back)
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

impl Session {
    /// Registers a worker (or registers it again after a restart: same id, new process;
    /// the instances the old process held are handed back for the next claim).
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
        // A worker registering again under its id is a new process: whatever the old one
        // held (it crashed, or was killed with -9) runs nowhere now. Hand those instances
        // back at once, as `unregister_worker` does, so that the next claim (this
        // worker's, or any other's) starts them and restores their checkpoints, instead of
        // waiting for a heartbeat that this very registration keeps fresh.
        if let Some(b) = &before {
            release_held(&mut tx, &self.actor, b).await?;
        }
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

    /// The instances worker `id` holds with their desired states, read without writing
    /// (between heartbeats a worker looks every second, so that a stop is carried out
    /// within a second). Only the worker's own login.
    pub async fn held_instances(&self, id: &str) -> Result<Vec<Held>> {
        let mut tx = self.pool.read().await?;
        own_worker(&mut tx, &self.actor, id).await?;
        let rows: Vec<(i64, String, String)> = tx
            .all(
                "SELECT id, state, desired FROM instances WHERE worker = $1 \
                 AND state IN ('starting', 'running', 'stopping') ORDER BY id",
                &args![id],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (iid, state, desired) in rows {
            out.push(Held {
                id: iid,
                state: InstanceState::parse(&state)?,
                desired: DesiredState::from_db(&desired),
            });
        }
        Ok(out)
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
        let handed_back = release_held(&mut tx, &self.actor, &before).await?;
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
