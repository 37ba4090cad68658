//! Go-live and offline: an approved release becomes live with a production instance
//! record (state `created`, desired `running`: a worker claims it, see `instances.rs`), a newer go-live marks
//! the job's live release `replaced`, and a live release can be taken offline.

use serde::Serialize;

use crate::Session;
use crate::audit::{self, NONE};
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};
use crate::identity::{GlobalRole, roles};
use crate::projects;

use super::instances::{Instance, load_instance};
use super::releases::{Release, ReleaseState, load, set_state};
use super::{DEVS, JobRow, by_name as job_by_name, touch};

/// Where a production instance starts reading its sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartPosition {
    /// From now on.
    Latest,
    /// From the oldest retained record.
    Earliest,
    /// From this event time (milliseconds since the Unix epoch).
    Timestamp(i64),
}

/// The resources and start of a go-live.
#[derive(Debug, Clone, PartialEq)]
pub struct GoLiveSpec {
    /// Parallel tasks, ≥ 1.
    pub parallelism: i64,
    /// Memory limit in MiB, ≥ 1.
    pub memory_mib: i64,
    /// Where to start reading.
    pub start: StartPosition,
    /// Job parameters, a JSON object.
    pub params: serde_json::Value,
}

/// The outcome of a go-live.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WentLive {
    /// The release, now live.
    pub release: Release,
    /// The production instance record, state `created`.
    pub instance: Instance,
    /// The release of the same job that was live before and is now replaced.
    pub replaced: Option<Release>,
}

pub(super) fn check_spec(spec: &GoLiveSpec) -> Result<()> {
    if spec.parallelism < 1 {
        return Err(StoreError::invalid(
            "parallelism",
            format!("{} tasks", spec.parallelism),
            "run at least 1 task",
        ));
    }
    if spec.memory_mib < 1 {
        return Err(StoreError::invalid(
            "memory",
            format!("{} MiB", spec.memory_mib),
            "give the instance at least 1 MiB",
        ));
    }
    if let StartPosition::Timestamp(ms) = spec.start
        && ms < 0
    {
        return Err(StoreError::invalid(
            "start",
            format!("timestamp {ms} is before 1970"),
            "start at latest, earliest or a time since 1970",
        ));
    }
    if !spec.params.is_object() {
        return Err(StoreError::invalid(
            "params",
            "parameters must be a JSON object",
            "pass name → value pairs ({} for none)",
        ));
    }
    Ok(())
}

/// Opens the release `id` for a go-live or an offline: the job's project must be active
/// and the actor a developer or project admin of it, or a system admin.
async fn for_change(tx: &mut Tx, actor: &str, id: i64, action: &str) -> Result<(Release, JobRow)> {
    let before = load(tx, id).await?;
    let job = job_by_name(tx, &before.job).await?;
    let p = projects::active(tx, &job.project).await?;
    roles(tx, actor).await?.require_in_project(
        &p.name,
        DEVS,
        &[GlobalRole::SystemAdmin],
        action,
    )?;
    touch(tx, job.id).await?;
    // Re-read after the job's row lock: a concurrent go-live may have changed it.
    let before = load(tx, id).await?;
    Ok((before, job))
}

impl Session {
    /// Takes an approved release live (developer or project admin of the job's project,
    /// or a system admin): records a production instance in state `created` and marks the
    /// job's previously live release `replaced`. Refused for a release that is not
    /// approved and in an archived project.
    pub async fn go_live(&self, release_id: i64, spec: &GoLiveSpec) -> Result<WentLive> {
        self.go_live_from(release_id, spec, None).await
    }

    /// [`Session::go_live`] whose production instance starts from savepoint `from` (one of
    /// the same job, e.g. of the instance of the release it replaces: its state carries
    /// over); refused when the savepoint is another job's.
    pub async fn go_live_from(
        &self,
        release_id: i64,
        spec: &GoLiveSpec,
        from: Option<i64>,
    ) -> Result<WentLive> {
        check_spec(spec)?;
        let mut tx = self.pool.write().await?;
        let (before, job) =
            for_change(&mut tx, &self.actor, release_id, "take releases live").await?;
        if before.state != ReleaseState::Approved {
            return Err(StoreError::wrong_state(format!(
                "release #{release_id} is {}; only an approved release can go live",
                before.state.as_str()
            )));
        }
        if let Some(sp) = from {
            super::savepoints::check_start_savepoint(&mut tx, sp, job.id, &job.name()).await?;
        }
        let at = now();
        let live: Option<(i64,)> = tx
            .opt(
                "SELECT request_id FROM releases WHERE job_id = $1 AND state = 'live'",
                &args![job.id],
            )
            .await?;
        let replaced = match live {
            Some((old_id,)) => {
                let old_before = load(&mut tx, old_id).await?;
                set_state(
                    &mut tx,
                    "UPDATE releases SET state = 'replaced', ended_by = $2, ended_at = $3 \
                     WHERE request_id = $1 AND state = 'live'",
                    &args![old_id, &self.actor, &at],
                )
                .await?;
                let old_after = load(&mut tx, old_id).await?;
                audit::append(
                    &mut tx,
                    &self.actor,
                    "release.replace",
                    "request",
                    old_id,
                    Some(&old_before),
                    Some(&old_after),
                )
                .await?;
                Some(old_after)
            }
            None => None,
        };
        set_state(
            &mut tx,
            "UPDATE releases SET state = 'live', live_by = $2, live_at = $3 \
             WHERE request_id = $1 AND state = 'approved'",
            &args![release_id, &self.actor, &at],
        )
        .await?;
        let (start, start_ms) = match spec.start {
            StartPosition::Latest => ("latest", None),
            StartPosition::Earliest => ("earliest", None),
            StartPosition::Timestamp(ms) => ("timestamp", Some(ms)),
        };
        let (instance_id,): (i64,) = tx
            .one(
                "INSERT INTO instances (job_id, version_id, release_id, env, parallelism, \
                 memory_mib, start_position, start_timestamp_ms, params, state, created_by, \
                 created_at, start_savepoint_id) SELECT job_id, version_id, request_id, 'prod', \
                 $2, $3, $4, $5, $6, 'created', $7, $8, $9 FROM releases WHERE request_id = $1 \
                 RETURNING id",
                &args![
                    release_id,
                    spec.parallelism,
                    spec.memory_mib,
                    start,
                    start_ms,
                    spec.params.to_string(),
                    &self.actor,
                    &at,
                    from
                ],
            )
            .await?;
        let instance = load_instance(&mut tx, instance_id).await?;
        let after = load(&mut tx, release_id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "release.go_live",
            "request",
            release_id,
            Some(&before),
            Some(&after),
        )
        .await?;
        audit::append(
            &mut tx,
            &self.actor,
            "instance.create",
            "instance",
            instance_id,
            NONE,
            Some(&instance),
        )
        .await?;
        tx.commit().await?;
        Ok(WentLive {
            release: after,
            instance,
            replaced,
        })
    }

    /// Takes a live release offline (developer or project admin of the job's project, or
    /// a system admin). Its instance record stays for the instances issue to stop.
    pub async fn take_offline(&self, release_id: i64) -> Result<Release> {
        let mut tx = self.pool.write().await?;
        let (before, _) =
            for_change(&mut tx, &self.actor, release_id, "take releases offline").await?;
        if before.state != ReleaseState::Live {
            return Err(StoreError::wrong_state(format!(
                "release #{release_id} is {}; only a live release can be taken offline",
                before.state.as_str()
            )));
        }
        set_state(
            &mut tx,
            "UPDATE releases SET state = 'offline', ended_by = $2, ended_at = $3 \
             WHERE request_id = $1 AND state = 'live'",
            &args![release_id, &self.actor, now()],
        )
        .await?;
        let after = load(&mut tx, release_id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "release.offline",
            "request",
            release_id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
