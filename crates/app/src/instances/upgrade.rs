//! `weir instance upgrade ID --to JOB@M` (issue 16): carries a test instance's state over
//! to another version of its job. It takes a savepoint, compares every operator's saved
//! state with what version M plans (`weir_engine::checkpoint::compat`: kept, dropped,
//! new, incompatible with the reason), refuses when a state is incompatible unless
//! `--allow-drop NODE` names it, then stops the instance and starts version M from the
//! savepoint. `--dry-run` prints the report alone, from the newest checkpoint (or a fresh
//! savepoint when there is none). The worker that starts M drops the states that do not
//! fit (`crate::worker::checkpoints`), so an allowed node starts empty.
//!
//! Production instances change version through a release, not here.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use weir_engine::checkpoint::compat::{OperatorReport, Verdict};
use weir_engine::checkpoint::{Location, Manifest};

use super::{Instance, SAVEPOINT_WAIT, Savepoint, StartRequest};
use crate::AppError;
use crate::governance::Governance;
use crate::jobs::{JobId, split_at_version};

/// What `weir instance upgrade` asks for.
#[derive(Debug, Clone, Default)]
pub struct UpgradeRequest {
    pub instance: i64,
    /// `JOB@N` (the same job).
    pub to: String,
    pub dry_run: bool,
    /// Operators whose incompatible state may be dropped.
    pub allow_drop: Vec<String>,
    pub cwd: PathBuf,
}

/// The pre-flight report and what was done.
#[derive(Debug, Clone, Serialize)]
pub struct Upgrade {
    pub instance: i64,
    /// `shop/counts version 2`.
    pub to: String,
    /// Where the compared state is (`savepoint #4 at …`, `checkpoint chk-9 at …`).
    pub state_from: String,
    pub savepoint: Option<Savepoint>,
    pub report: Vec<OperatorReport>,
    /// Incompatible operators not allowed to drop: the upgrade is refused while any.
    pub blocked: Vec<String>,
    /// The new instance (not for a dry run, nor when refused).
    pub started: Option<Instance>,
}

/// The newest complete checkpoint or savepoint of `dir`, if any.
async fn newest(dir: &Path) -> Result<Option<(String, Manifest)>, AppError> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let location = Location::local(dir)?;
    let listed = location.list().await?;
    let Some(l) = listed.iter().rev().find(|l| l.manifest.is_some()) else {
        return Ok(None);
    };
    let r = location.read(&l.dir).await?;
    Ok(Some((r.dir, r.manifest)))
}

/// The manifest of savepoint `sp`, read where the worker wrote it.
pub(crate) async fn manifest_of(sp: &Savepoint) -> Result<Manifest, AppError> {
    let path = Path::new(&sp.path);
    let (Some(parent), Some(dir)) = (path.parent(), path.file_name().and_then(|d| d.to_str()))
    else {
        return Err(AppError::Internal(format!(
            "savepoint #{} has no directory in its path {}",
            sp.id, sp.path
        )));
    };
    if !path.is_dir() {
        return Err(AppError::User(format!(
            "savepoint #{} was written to {}, which is not on this machine: run the upgrade where the worker runs",
            sp.id, sp.path
        )));
    }
    Ok(Location::local(parent)?.read(dir).await?.manifest)
}

impl Governance {
    /// Upgrades (or with `dry_run` checks) instance `req.instance` to `req.to`.
    pub async fn upgrade_instance(&self, req: &UpgradeRequest) -> Result<Upgrade, AppError> {
        let inst = self.instance(req.instance).await?;
        if inst.env == "prod" {
            return Err(AppError::User(format!(
                "instance #{} runs in production: a production instance changes version through a release (weir release request)",
                inst.id
            )));
        }
        let (arg, which) = split_at_version(&req.to)?;
        let Some(which) = which else {
            return Err(AppError::User(format!(
                "--to {}: name the version to upgrade to (JOB@N)",
                req.to
            )));
        };
        let id = JobId::resolve(arg, &req.cwd)?;
        if id.name() != inst.job {
            return Err(AppError::User(format!(
                "--to {}: instance #{} runs job {}, not {}; an upgrade keeps the job and changes its version",
                req.to,
                inst.id,
                inst.job,
                id.name()
            )));
        }
        let version = self.job_version(&id.name(), which).await?;
        let to = format!("{} version {}", id.name(), version.info.number);
        let project = crate::project_root(&req.cwd);
        let new = self.planned_states(&to, &version.text, &project).await?;

        let dir = crate::worker::checkpoints::dir_of(&project, inst.id);
        let latest = if req.dry_run {
            newest(&dir).await?
        } else {
            None
        };
        let (manifest, state_from, savepoint) = match latest {
            Some((d, m)) => (m, format!("checkpoint {d} at {}", dir.display()), None),
            None => {
                let sp = self.take_savepoint(inst.id, false, SAVEPOINT_WAIT).await?;
                let m = manifest_of(&sp).await?;
                (m, format!("savepoint #{} at {}", sp.id, sp.path), Some(sp))
            }
        };
        let report = weir_engine::checkpoint::compat::report(&manifest, &new);
        for n in &req.allow_drop {
            if !report.iter().any(|r| &r.node == n) {
                return Err(AppError::User(format!(
                    "--allow-drop {n}: no operator {n} keeps state in {state_from} or in {to} (operators: {})",
                    report
                        .iter()
                        .map(|r| r.node.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let blocked: Vec<String> = report
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Incompatible { .. }))
            .filter(|r| !req.allow_drop.contains(&r.node))
            .map(|r| r.node.clone())
            .collect();
        let mut up = Upgrade {
            instance: inst.id,
            to,
            state_from,
            savepoint,
            report,
            blocked,
            started: None,
        };
        if req.dry_run || !up.blocked.is_empty() {
            return Ok(up);
        }
        let Some(sp) = up.savepoint.clone() else {
            return Err(AppError::Internal("an upgrade without a savepoint".into()));
        };
        // stop the old instance, then start M from the savepoint
        self.stop_instance(inst.id).await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = self.instance(inst.id).await?;
        while last.state.is_active() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            last = self.instance(inst.id).await?;
        }
        if last.state.is_active() {
            return Err(AppError::External(format!(
                "instance #{} did not stop within 60 s; savepoint #{} is kept: start {} from it when it stopped (weir instance start {} --from savepoint:{})",
                inst.id, sp.id, up.to, req.to, sp.id
            )));
        }
        let sets = inst
            .params
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => format!("{k}={s}"),
                        other => format!("{k}={other}"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let started = self
            .start_instance(&StartRequest {
                job: req.to.clone(),
                env: Some("test".into()),
                from: Some(format!("savepoint:{}", sp.id)),
                sets,
                parallelism: Some(inst.parallelism),
                memory: Some(format!("{}MiB", inst.memory_mib)),
                cwd: req.cwd.clone(),
            })
            .await?;
        up.started = Some(started.instance);
        Ok(up)
    }
}

impl Governance {
    /// The state description of every operator of the job `text` (named `name` in
    /// messages) as the engine would plan it in `project`, with its sources' fields from
    /// the catalog: what a savepoint is compared with.
    pub(crate) async fn planned_states(
        &self,
        name: &str,
        text: &str,
        project: &Path,
    ) -> Result<std::collections::BTreeMap<String, serde_json::Value>, AppError> {
        let checked = weir_model::jobfile::check_source(name, text);
        let valid = !checked.has_errors();
        let Some(mut job) = checked.job.filter(|_| valid) else {
            return Err(AppError::User(format!(
                "{}\n{name} is not valid",
                crate::jobs::working::render(&checked.diagnostics)
            )));
        };
        let topics = self.topics(None).await?;
        crate::jobs::schema::fill(&mut job, &topics)?;
        let opts = weir_engine::pipeline::RunOptions::new(
            project,
            weir_engine::transform::default_planner(),
        );
        Ok(weir_engine::pipeline::describe_states(&job, &opts)?)
    }
}
