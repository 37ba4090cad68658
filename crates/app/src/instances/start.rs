//! Starting an instance: which text runs (the working file as it is now, or a version),
//! checked as `weir validate --store` checks it and against the starter's rights, then
//! recorded `created` for a worker to claim. Production instances start only from a live
//! release (the go-live created the record; this starts it again when it was stopped).

use std::path::PathBuf;

use serde::Serialize;
use weir_model::model::{Job, Node, StartOffset};

use super::{Instance, InstanceState, StartPosition};
use crate::AppError;
use crate::governance::Governance;
use crate::jobs::{JobId, Which, split_at_version, working};

/// What `weir instance start` (and the workbench's `:run`) asks for.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    /// `JOB`, `JOB@N` (`@latest`, `@live`) or a job file.
    pub job: String,
    /// `test` (default) or `prod`.
    pub env: Option<String>,
    /// `latest`, `earliest`, a time (RFC 3339 or epoch ms) or `savepoint:SP` (restore
    /// savepoint SP of the same job); default: the job's own start when its Kafka sources
    /// agree on one, else latest.
    pub from: Option<String>,
    /// `NAME=VALUE`: a data source's address (as `weir run --set`) or a job parameter
    /// (`config.env`).
    pub sets: Vec<String>,
    /// Default: the job's `config.parallelism`.
    pub parallelism: Option<i64>,
    /// Memory limit (`512MiB`, `2GiB`); default 1 GiB.
    pub memory: Option<String>,
    /// Where the command runs (the checkout).
    pub cwd: PathBuf,
}

/// A started instance.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    pub instance: Instance,
    /// `shop/clickstream_pv` `working file 3f9a1c0b2e7d` or `version 4`.
    pub what: String,
}

/// The start position the job itself asks for: its Kafka sources' common `start`.
fn job_start(job: &Job) -> StartPosition {
    let mut starts = job.nodes.iter().filter_map(|n| match n {
        Node::KafkaSource(s) => Some(s.start),
        _ => None,
    });
    let first = starts.next();
    match first {
        Some(s) if starts.all(|o| o == s) => match s {
            StartOffset::Latest => StartPosition::Latest,
            StartOffset::Earliest => StartPosition::Earliest,
            StartOffset::Timestamp(ms) => StartPosition::Timestamp(ms as i64),
        },
        _ => StartPosition::Latest,
    }
}

impl Governance {
    /// Starts an instance (see the module doc). The job is refused when it is not valid
    /// (with every diagnostic) or when the starter lacks a right it needs (listing each
    /// with the request that asks for it).
    pub async fn start_instance(&self, req: &StartRequest) -> Result<Started, AppError> {
        let (arg, which) = split_at_version(&req.job)?;
        let id = JobId::resolve(arg, &req.cwd)?;
        let env = req
            .env
            .as_deref()
            .unwrap_or("test")
            .trim()
            .to_ascii_lowercase();
        match env.as_str() {
            "test" => {}
            "prod" => {
                if let Some(f) = &req.from
                    && super::savepoints::parse_from_savepoint(f)?.is_some()
                {
                    return Err(AppError::User(format!(
                        "--from {f}: a production instance starts from its live release; to carry state over to a new version use weir instance upgrade ID --to JOB@N"
                    )));
                }
                return self.start_prod(&id).await;
            }
            other => {
                return Err(AppError::User(format!(
                    "--env {other}: an instance runs in test or prod"
                )));
            }
        }
        let topics = self.topics(None).await?;
        let (version, text, hash, what) = match which {
            None | Some(Which::Working) => {
                let Some((text, hash)) = working::current(&id)? else {
                    return Err(AppError::User(format!(
                        "job {} has no working file {}; check out a version or start one (JOB@N)",
                        id.name(),
                        id.file.display()
                    )));
                };
                let what = format!("working file {}", working::short(&hash));
                (None, text, hash, what)
            }
            Some(w) => {
                let v = self.job_version(&id.name(), w).await?;
                let n = v.info.number;
                (
                    Some(n),
                    v.text.clone(),
                    v.info.hash.clone(),
                    format!("version {n}"),
                )
            }
        };
        let checked = working::check(&id, &text, &topics);
        if checked.has_errors() {
            return Err(AppError::User(format!(
                "{}\n{} ({what}) is not valid, so it was not started; fix it first (weir validate --store)",
                working::render(&checked.diagnostics),
                id.name()
            )));
        }
        let Some(mut job) = checked.job else {
            return Err(AppError::User(format!("{}: no job in {what}", id.name())));
        };
        crate::jobs::schema::fill(&mut job, &topics)?;
        crate::jobs::access::check_job_rights(self, &id.project, &job).await?;
        let savepoint = match &req.from {
            Some(f) => super::savepoints::parse_from_savepoint(f)?,
            None => None,
        };
        let start = match &req.from {
            Some(f) if savepoint.is_none() => crate::jobs::parse_start(f)?,
            _ => job_start(&job),
        };
        if let Some(sp) = savepoint {
            super::savepoints::check_start_from(self, sp, &id.name()).await?;
        }
        let parallelism = req
            .parallelism
            .unwrap_or(i64::from(job.config.parallelism.max(1)));
        let memory_mib = match &req.memory {
            Some(m) => crate::jobs::parse_memory(m)?,
            None => 1024,
        };
        let params = crate::jobs::parse_params(req.sets.iter().map(String::as_str))?;
        let working_file = version.is_none().then(|| weir_store::WorkingFile {
            path: format!("jobs/{}.ron", id.path),
            text: text.clone(),
            hash: hash.clone(),
        });
        let spec = weir_store::TestInstanceSpec {
            version,
            working: working_file,
            parallelism,
            memory_mib,
            start,
            params,
        };
        let instance = self
            .session()
            .start_test_instance_from(&id.name(), &spec, savepoint)
            .await?;
        let from = savepoint
            .map(|sp| format!(" from savepoint #{sp}"))
            .unwrap_or_default();
        Ok(Started {
            instance,
            what: format!("{} {what}{from}", id.name()),
        })
    }

    /// `--env prod`: the live release's instance, started again when it is not running.
    async fn start_prod(&self, id: &JobId) -> Result<Started, AppError> {
        let Some(release) = self.live_release(&id.name()).await? else {
            return Err(AppError::User(format!(
                "job {} has no live release; production instances start only from a live release (weir release request, approve, then weir release golive)",
                id.name()
            )));
        };
        let Some(inst) = release.instance else {
            return Err(AppError::Internal(format!(
                "live release #{} has no production instance",
                release.id
            )));
        };
        let current = self.session().instance(inst).await?;
        let what = format!(
            "{} version {} (release #{})",
            id.name(),
            release.version,
            release.id
        );
        if current.state.is_active() {
            let state = if current.state == InstanceState::Created {
                "waiting for a worker".to_string()
            } else {
                current.state.to_string()
            };
            return Err(AppError::User(format!(
                "production instance #{inst} of {what} is already {state}; stop it first to restart it (weir instance restart {inst})"
            )));
        }
        let instance = self.session().start_instance(inst).await?;
        Ok(Started { instance, what })
    }
}
