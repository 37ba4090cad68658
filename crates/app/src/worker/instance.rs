//! One instance on a worker: its job text as the store keeps it, completed from the
//! catalog, with its parameters and data sources (the store's addresses of its
//! environment, the job's own, its `--set`s, and the project's embedded broker for a
//! Kafka data source nobody else names), started on the embedded engine with managed
//! offsets: it resumes from its consumer group's committed offsets and commits the
//! positions it reached once its sinks flushed; with checkpoints (the job's
//! `checkpoint_interval_ms` above 0) it restores its newest checkpoint or the savepoint
//! it was started from instead (`checkpoints.rs`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use weir_engine::checkpoint::Coordinator;
use weir_engine::metrics::Metrics;
use weir_engine::pipeline::{Pipeline, RunOptions};
use weir_engine::resolve::Resolver;
use weir_model::model::{Job, Node, StartOffset};

use crate::AppError;
use crate::governance::{Env, Governance};
use crate::instances::{Instance, StartPosition};

/// A started pipeline: what the worker samples and how it stops it.
pub struct Running {
    pub job: Job,
    pub metrics: Metrics,
    pub stop: Arc<AtomicBool>,
    pub pipeline: Pipeline,
    /// Where each Kafka data source went, for the log (`kafka_main → 127.0.0.1:9092`).
    pub addresses: Vec<String>,
    /// The run's checkpoints (None when the job's `checkpoint_interval_ms` is 0).
    pub checkpoints: Option<Arc<Coordinator>>,
    /// sha256 of the job text (the checkpoints' `job_hash`).
    pub text_hash: String,
    /// What it restored, for the log (`checkpoint chk-7 of …`).
    pub restored: Option<String>,
}

/// The job of `inst` as it will run: parsed, catalog fields filled, parameters applied.
pub async fn job_of(gov: &Governance, inst: &Instance) -> Result<(Job, Vec<String>), AppError> {
    let text = gov.session().instance_text(inst.id).await?;
    let name = format!("instance #{} ({})", inst.id, inst.job);
    let checked = weir_model::jobfile::check_source(&name, &text);
    let valid = !checked.has_errors();
    let Some(mut job) = checked.job.filter(|_| valid) else {
        return Err(AppError::User(format!(
            "{}\nthe job text of instance #{} is not valid",
            crate::jobs::working::render(&checked.diagnostics),
            inst.id
        )));
    };
    let topics = gov.topics(None).await?;
    crate::jobs::schema::fill(&mut job, &topics)?;
    crate::jobs::schema::require_fields(&job, Some(&topics))?;
    if let Ok(p) = u32::try_from(inst.parallelism) {
        job.config.parallelism = p.max(1);
    }
    // parameters: a data source's address or option, else a job parameter (config.env)
    let mut sets = Vec::new();
    if let Some(map) = inst.params.as_object() {
        for (k, v) in map {
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let base = k.split('.').next().unwrap_or(k);
            let names_source = job.nodes.iter().any(|n| n.datasource() == Some(base))
                || job.datasources.contains_key(base);
            if names_source {
                sets.push(format!("{k}={value}"));
            } else {
                job.config.env.insert(k.clone(), value);
            }
        }
    }
    Ok((job, sets))
}

/// Where `inst`'s data sources are: the job's own, the store's (addresses of the
/// instance's environment), its `--set`s, then the project's embedded broker for Kafka
/// data sources still unknown (the embedded default of a laptop).
///
/// Secrets: the references stay references, read when the pipeline connects, from this
/// worker process's own configuration: its `WEIR_SECRET_*` environment variables and its
/// secrets directory (`WEIR_SECRETS_DIR`, by default `~/.config/weir/secrets/` of the
/// account the worker runs as). Nothing is asked: whoever started the worker configured
/// which secrets it holds (`crate::secrets` asks only a person at a command or screen).
pub async fn resolver_of(
    gov: &Governance,
    inst: &Instance,
    job: &Job,
    sets: &[String],
    project: &Path,
) -> Result<(Resolver, Vec<String>), AppError> {
    let env = if inst.env == "prod" {
        Env::Prod
    } else {
        Env::Test
    };
    let mut r = Resolver::from_job(job);
    r.extend_missing(crate::engine::connections_of(gov, job, env).await);
    for s in sets {
        r.set(job, s)?;
    }
    let mut notes = Vec::new();
    for n in &job.nodes {
        let (Node::KafkaSource(_) | Node::KafkaSink(_)) = n else {
            continue;
        };
        let Some(ds) = n.datasource() else { continue };
        if r.get(n.id(), ds).is_err()
            && let Ok((bootstrap, _)) = weir_engine::broker::running(project)
        {
            r.set(job, &format!("{ds}={bootstrap}"))?;
            r.set(job, &format!("{ds}.kind=kafka"))?;
            notes.push(format!(
                "{ds} → the project's embedded broker at {bootstrap}"
            ));
        } else if let Ok(c) = r.get(n.id(), ds) {
            notes.push(format!("{ds} → {}", c.address));
        }
    }
    notes.sort();
    notes.dedup();
    Ok((r, notes))
}

fn start_offset(s: StartPosition) -> StartOffset {
    match s {
        StartPosition::Latest => StartOffset::Latest,
        StartPosition::Earliest => StartOffset::Earliest,
        StartPosition::Timestamp(ms) => StartOffset::Timestamp(ms.max(0) as u64),
    }
}

/// Prepares and starts `inst`'s pipeline (call inside the worker's runtime).
pub async fn start(gov: &Governance, inst: &Instance, project: &Path) -> Result<Running, AppError> {
    let (job, sets) = job_of(gov, inst).await?;
    let (resolver, addresses) = resolver_of(gov, inst, &job, &sets, project).await?;
    let text_hash =
        crate::jobs::working::content_hash(&gov.session().instance_text(inst.id).await?);
    let mut opts = RunOptions::new(project, weir_engine::transform::default_planner());
    opts.start = Some(start_offset(inst.start));
    opts.group_suffix = format!("-i{}", inst.id);
    opts.offsets = Some(Arc::default());
    let mut restored = None;
    if job.config.checkpoint_interval_ms > 0 {
        let (c, what) = super::checkpoints::options(gov, inst, &job, &text_hash, project).await?;
        opts.checkpoints = Some(c);
        restored = what;
    }
    // Planning holds operators that are not Sync across its awaits, so the start runs on
    // a blocking thread of its own driving the worker's runtime, as `weir run` does.
    let handle = tokio::runtime::Handle::current();
    let planned = job.clone();
    let pipeline = tokio::task::spawn_blocking(move || {
        handle.block_on(Pipeline::start(&planned, &resolver, opts))
    })
    .await
    .map_err(|e| AppError::Internal(format!("starting instance #{}: {e}", inst.id)))??;
    Ok(Running {
        metrics: pipeline.metrics().clone(),
        stop: pipeline.stopper(),
        checkpoints: pipeline.checkpoints(),
        pipeline,
        job,
        addresses,
        text_hash,
        restored,
    })
}
