//! Use cases of the engine: run a job, unit-test it on its test-data package, run the
//! embedded broker. The CLI (and later the TUI) call these; they read and check the job
//! file and resolve data sources, and leave tokio to weir-engine. Engine errors keep
//! their fault ([`AppError::Engine`]), so `weir run` against a stopped broker exits 3.

use std::path::{Path, PathBuf};
use std::time::Duration;

use weir_engine::metrics::Snapshot;
use weir_engine::pipeline::{RunOptions, TestData};
use weir_engine::resolve::Resolver;
use weir_engine::sink::capture::CapturedRow;
use weir_engine::source::file::Replay;
use weir_engine::testing::{SinkDiff, SinkRows, compare, read_expected};

use super::AppError;
use crate::jobfile;
use crate::model::Job;

/// Test hook: with `WEIR_INJECT_FAULT=internal` in the environment, [`run`] and [`test`]
/// fail with an internal engine error after loading the job and before running it, so
/// that tests can check how a bug is reported (`weir run` and `weir test` exit 4).
pub const INJECT_FAULT_VAR: &str = "WEIR_INJECT_FAULT";

/// The fault [`INJECT_FAULT_VAR`] asks for, read once per call; other values are ignored.
fn injected_fault() -> Result<(), AppError> {
    match std::env::var(INJECT_FAULT_VAR).as_deref() {
        Ok("internal") => Err(AppError::Engine(weir_engine::EngineError::Internal(
            format!("fault injected by {INJECT_FAULT_VAR}=internal"),
        ))),
        _ => Ok(()),
    }
}

/// Reads and checks a job file; a job with errors is refused with its diagnostics.
pub fn load_job(path: &Path) -> Result<Job, AppError> {
    let checked = jobfile::check_file(path);
    if checked.has_errors() {
        let text: Vec<String> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.render())
            .collect();
        return Err(AppError::User(format!(
            "{}\n{} is not valid; fix it first (weir validate)",
            text.join("\n"),
            path.display()
        )));
    }
    checked
        .job
        .ok_or_else(|| AppError::User(format!("{}: no job", path.display())))
}

/// The project a job file belongs to.
pub fn project_of(job_path: &Path) -> PathBuf {
    let dir = job_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    crate::project_root(&dir)
}

/// Data sources of a run: the metadata store's (`store_sources`), the
/// job's own, then `--set` overrides.
pub fn resolver(job: &Job, sets: &[String]) -> Result<Resolver, AppError> {
    resolver_in(job, sets, None)
}

/// [`resolver`] with the store the command line names (`--store`).
fn resolver_in(job: &Job, sets: &[String], store: Option<&Path>) -> Result<Resolver, AppError> {
    let mut r = Resolver::from_job(job);
    r.extend_missing(store_sources_in(job, store));
    for s in sets {
        r.set(job, s)?;
    }
    Ok(r)
}

/// The metadata store's data sources that the job names, with their test-environment
/// address (the store of the project: `WEIR_DATABASE_URL`, `WEIR_STORE` or
/// `<project>/.weir/weir.db`). No store yet, or a store that cannot be read, gives none:
/// the job's own data sources and `--set` still apply, and an unresolved name is reported
/// by the resolver with how to give it.
pub fn store_sources(job: &Job) -> Vec<(String, weir_engine::resolve::Connection)> {
    store_sources_in(job, None)
}

/// [`store_sources`] with the store the command line names (`--store`).
fn store_sources_in(
    job: &Job,
    store: Option<&Path>,
) -> Vec<(String, weir_engine::resolve::Connection)> {
    let Ok(Some(url)) = store_in_use(store) else {
        return Vec::new();
    };
    let job = job.clone();
    on_store(&url, |gov| async move {
        Ok(connections_of(&gov, &job, crate::governance::Env::Test).await)
    })
    .unwrap_or_default()
}

/// The metadata store's data sources that `job` names, with their address in `env`; a
/// name the store does not know, or without an address in `env`, is left out (the
/// resolver then says how to give it).
pub async fn connections_of(
    gov: &crate::governance::Governance,
    job: &Job,
    env: crate::governance::Env,
) -> Vec<(String, weir_engine::resolve::Connection)> {
    let mut names: Vec<String> = job
        .nodes
        .iter()
        .filter_map(|n| n.datasource().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in &names {
        let Ok(ds) = gov.data_source(name).await else {
            continue;
        };
        let Ok(connection) = ds.connection(env) else {
            continue;
        };
        out.push((name.clone(), connection));
    }
    out
}

/// The metadata store a run, a test or a rights check uses, when there is one:
/// `WEIR_DATABASE_URL`, the `--store` flag (or `WEIR_STORE`), or the project's
/// `.weir/weir.db` when that file exists (seen from the current directory). `None`: no
/// store, so no catalog and nothing governed.
pub fn store_in_use(store_flag: Option<&Path>) -> Result<Option<String>, AppError> {
    let cwd = std::env::current_dir().map_err(|e| AppError::io("no current directory", e))?;
    let flag = store_flag.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("WEIR_STORE")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    });
    let url_set = std::env::var("WEIR_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty());
    let default = crate::project_root(&cwd).join(".weir").join("weir.db");
    if !url_set && flag.is_none() && !default.exists() {
        return Ok(None);
    }
    crate::governance::store_url(flag.as_deref(), &cwd).map(Some)
}

/// Run `work` on the store at `url` as the acting person (`WEIR_USER` or the OS login on
/// SQLite), on a thread and runtime of its own so that it works inside or outside an
/// async runtime; the store is closed afterwards.
pub fn on_store<T, F, Fut>(url: &str, work: F) -> Result<T, AppError>
where
    T: Send,
    F: FnOnce(crate::governance::Governance) -> Fut + Send,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let rt = crate::runtime()?;
                rt.block_on(async move {
                    let gov =
                        crate::governance::Governance::open(url, &crate::governance::os_login())
                            .await?;
                    let closer = gov.closer();
                    let out = work(gov).await;
                    closer.close().await;
                    out
                })
            })
            .join()
            .map_err(|_| AppError::Internal("the metadata store's thread panicked".into()))?
    })
}

/// Before a job runs (`rights`) or is tested: Kafka sources take what they leave out
/// (fields, format) from the store's catalog, a source still without fields is refused,
/// and for a run the acting person's rights in the job's store project are checked
/// ([`check_job_rights`](crate::jobs::access::check_job_rights)). Without a store the
/// job is as its file says and nothing is governed. A test opens the store only for a
/// source without fields: it reads its test-data package and writes to capture sinks,
/// so it needs no grants.
fn prepare(
    mut job: Job,
    job_file: &Path,
    store: Option<&Path>,
    rights: bool,
) -> Result<Job, AppError> {
    let lacks_fields = job
        .nodes
        .iter()
        .any(|n| matches!(n, crate::model::Node::KafkaSource(s) if s.fields.is_none()));
    let url = if rights || lacks_fields {
        store_in_use(store)?
    } else {
        None
    };
    let Some(url) = url else {
        crate::jobs::schema::require_fields(&job, None)?;
        return Ok(job);
    };
    let project = crate::jobs::store_project(&project_of(job_file));
    on_store(&url, move |gov| async move {
        let topics = gov.topics(None).await?;
        crate::jobs::schema::fill(&mut job, &topics)?;
        crate::jobs::schema::require_fields(&job, Some(&topics))?;
        if rights {
            crate::jobs::access::check_job_rights(&gov, &project, &job).await?;
        }
        Ok(job)
    })
}

/// What `weir run` asks for.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub job: PathBuf,
    pub sets: Vec<String>,
    pub bounded: bool,
    /// `--store`: the metadata store (default: see [`store_in_use`]).
    pub store: Option<PathBuf>,
}

/// Runs a job against its real sources until it ends (bounded) or Ctrl-C, once the
/// catalog completed its sources and the acting person's rights were checked.
pub fn run(req: &RunRequest, on_stats: impl FnMut(&Snapshot)) -> Result<Snapshot, AppError> {
    let job = load_job(&req.job)?;
    let job = prepare(job, &req.job, req.store.as_deref(), true)?;
    let resolver = resolver_in(&job, &req.sets, req.store.as_deref())?;
    let mut opts = RunOptions::new(
        project_of(&req.job),
        weir_engine::transform::default_planner(),
    );
    opts.bounded = req.bounded;
    injected_fault()?;
    Ok(weir_engine::runtime::run_job(
        &job,
        &resolver,
        opts,
        Duration::from_secs(1),
        on_stats,
    )?)
}

/// What `weir test` asks for.
#[derive(Debug, Clone, Default)]
pub struct TestRequest {
    pub job: PathBuf,
    /// Default: `<project>/testdata/<job name>/`.
    pub data: Option<PathBuf>,
    pub shuffle: Option<u64>,
    pub delay_ms: u64,
    /// Default: `<data>/expected.jsonl` if it exists.
    pub expect: Option<PathBuf>,
    /// `--store`: the metadata store whose catalog completes the job's sources.
    pub store: Option<PathBuf>,
}

/// What a test run gave.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub job: String,
    pub data: PathBuf,
    pub expected_file: Option<PathBuf>,
    pub rows: SinkRows,
    /// Per sink; empty without an expected file.
    pub diffs: Vec<SinkDiff>,
    pub metrics: Snapshot,
}

impl TestOutcome {
    /// Every sink received exactly the expected rows (true without an expected file).
    pub fn passed(&self) -> bool {
        self.diffs.iter().all(SinkDiff::ok)
    }
    /// Records dropped as late, over all operators.
    pub fn late(&self) -> u64 {
        self.metrics.nodes.iter().map(|n| n.late).sum()
    }
}

/// Runs a job on its test-data package with capture sinks. It reads no real source and
/// writes no real sink, so it needs no grants.
pub fn test(req: &TestRequest, on_row: impl FnMut(&CapturedRow)) -> Result<TestOutcome, AppError> {
    let job = load_job(&req.job)?;
    let job = prepare(job, &req.job, req.store.as_deref(), false)?;
    let project = project_of(&req.job);
    let data = req
        .data
        .clone()
        .unwrap_or_else(|| project.join("testdata").join(&job.name));
    if !data.is_dir() {
        return Err(AppError::User(format!(
            "no test data for job {}: {} is not a directory; give one with --data DIR",
            job.name,
            data.display()
        )));
    }
    let expected_file = match &req.expect {
        Some(p) => Some(p.clone()),
        None => Some(data.join("expected.jsonl")).filter(|p| p.exists()),
    };
    let expected = expected_file.as_deref().map(read_expected).transpose()?;
    let mut opts = RunOptions::new(&project, weir_engine::transform::default_planner());
    opts.bounded = true;
    opts.batch_size = 1024;
    opts.test_data = Some(TestData {
        dir: data.clone(),
        replay: Replay {
            shuffle: req.shuffle,
            delay_ms: req.delay_ms,
            batch_size: 1024,
        },
    });
    injected_fault()?;
    let (rows, metrics) = weir_engine::runtime::test_job(&job, opts, on_row)?;
    let diffs = expected
        .as_ref()
        .map(|e| compare(e, &rows))
        .unwrap_or_default();
    Ok(TestOutcome {
        job: job.name,
        data,
        expected_file,
        rows,
        diffs,
        metrics,
    })
}

/// Parses `a:3,b:2` (partitions default 2).
pub fn parse_topics(spec: &str) -> Result<Vec<(String, i32)>, AppError> {
    spec.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            let (name, n) = s.trim().split_once(':').unwrap_or((s.trim(), "2"));
            let n: i32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                AppError::User(format!(
                    "--topics {spec}: `{n}` is not a partition count (expected NAME:PARTITIONS)"
                ))
            })?;
            Ok((name.to_string(), n))
        })
        .collect()
}

/// Runs the embedded broker for `project` until Ctrl-C.
pub fn broker(
    project: &Path,
    port: Option<u16>,
    topics: &[(String, i32)],
    on_ready: impl FnOnce(&str, &str),
) -> Result<(), AppError> {
    Ok(weir_engine::runtime::run_broker(
        port, topics, project, on_ready,
    )?)
}

/// The project's embedded Kafka broker for the workbench: when no `weir broker` runs for
/// `project`, start one in this process (mock cluster + control endpoint, written to
/// `.weir/broker.json`) and make it known for topic creation; it stops when the returned
/// broker is dropped. Returns the broker (if started here) and its bootstrap address.
pub fn embedded_broker(
    project: &Path,
) -> Result<(Option<std::sync::Arc<weir_engine::broker::Broker>>, String), AppError> {
    if let Ok((bootstrap, control)) = weir_engine::broker::running(project)
        && std::net::TcpStream::connect(&control).is_ok()
    {
        return Ok((None, bootstrap));
    }
    let mut broker = weir_engine::broker::Broker::start()?;
    broker.serve_control(project)?;
    let bootstrap = broker.bootstrap_servers();
    let broker = std::sync::Arc::new(broker);
    crate::kafka_topics::register_embedded(&bootstrap, &broker);
    Ok((Some(broker), bootstrap))
}

/// Check a job file as `weir validate` does offline: the model's rules, Kafka sources
/// without `fields` (`no-fields`), then whether the engine runs each SQL query
/// (`unsupported-sql`, naming the construct). With the store's catalog:
/// [`crate::jobs::schema::check_file`].
pub fn check_file(path: &Path) -> jobfile::Checked {
    crate::jobs::schema::check_file(path, None)
}

/// The engine's refusals of a job's SQL, as problems at the nodes' `query` fields.
pub fn engine_problems(job: &Job) -> Vec<jobfile::NodeProblem> {
    weir_engine::check::check_job(job)
        .into_iter()
        .map(|p| jobfile::NodeProblem {
            node: p.node,
            field: "query",
            code: "unsupported-sql",
            message: p.message,
            hint: Some("the engine runs projections, filters, window TVFs (TUMBLE, HOP, CUMULATE) with GROUP BY, and per-window TopN; see formats/job-v1.md".into()),
        })
        .collect()
}

/// The embedded broker running for `project` (`weir broker`, the local worker or a
/// workbench): its bootstrap and control addresses, from `.weir/broker.json`.
pub fn broker_running(project: &Path) -> Result<(String, String), AppError> {
    Ok(weir_engine::broker::running(project)?)
}
