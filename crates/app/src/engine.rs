// Long because run, test and the broker share the job loading and data-source
// resolution here; the verdict of `weir test` is in engine/verdict.rs already.
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
use weir_engine::testing::{SinkDiff, SinkRows, compare};

use super::AppError;
use crate::jobfile;
use crate::model::Job;

mod verdict;

pub use verdict::{CapturedSink, EXPECTED_FILE, MANIFEST_FILE, Manifest, Verdict, read_manifest};

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
    accepted(jobfile::check_file(path), path, "is not valid")
}

/// [`load_job`], and also refused when the engine cannot run the job
/// ([`engine_problems`]), with the same located diagnostics as `weir validate`.
fn load_runnable(path: &Path) -> Result<Job, AppError> {
    accepted(
        jobfile::check_file_with(path, &engine_problems),
        path,
        "is not valid, or has what the engine cannot run",
    )
}

/// The checked job, or its errors (rendered as `weir validate` does) and `path`'s `verdict`.
fn accepted(checked: jobfile::Checked, path: &Path, verdict: &str) -> Result<Job, AppError> {
    if checked.has_errors() {
        let text: Vec<String> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.render())
            .collect();
        return Err(AppError::User(format!(
            "{}\n{} {verdict}; fix it first (weir validate)",
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
    /// Who confirms the secrets the run sends (`--yes`, a terminal's y/N, or none):
    /// [`crate::secrets::require`].
    pub consent: crate::secrets::Consent,
    /// `--reset`: ignore the consumer groups' committed offsets and start every Kafka
    /// source by its `start` (then commit from there); with `checkpoints`, do not
    /// restore the last checkpoint either.
    pub reset: bool,
    /// `--checkpoints`: take checkpoints every `config.checkpoint_interval_ms` under
    /// `<project>/.weir/checkpoints/run-<job>/` and continue from the newest complete one
    /// (positions, windows, transactional sinks' rows: exactly once across a crash).
    pub checkpoints: bool,
}

/// Where `weir run --checkpoints` keeps the checkpoints of job `job` of `project`.
pub fn run_checkpoint_dir(project: &Path, job: &str) -> PathBuf {
    project
        .join(".weir")
        .join("checkpoints")
        .join(format!("run-{job}"))
}

/// The checkpoint options of `weir run --checkpoints` for `job` (text hash of its
/// canonical text), restoring the newest complete checkpoint unless `reset`; and what it
/// restored, in words.
fn run_checkpoints(
    project: &Path,
    job_file: &Path,
    job: &Job,
    reset: bool,
) -> Result<(weir_engine::checkpoint::CheckpointOptions, Option<String>), AppError> {
    use weir_engine::checkpoint::{CheckpointOptions, Location};
    let dir = run_checkpoint_dir(project, &job.name);
    let location = Location::local(&dir)?;
    let bytes = jobfile::read_job_file(job_file).map_err(|d| AppError::User(d.render()))?;
    let hash = crate::jobs::working::content_hash(&String::from_utf8_lossy(&bytes));
    let every = Duration::from_millis(job.config.checkpoint_interval_ms);
    let mut opts = CheckpointOptions::new(location.clone(), every, &job.name, &hash);
    let mut said = None;
    if !reset {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AppError::io("cannot start a runtime to read the checkpoints", e))?;
        if let Some(r) = rt.block_on(location.latest())? {
            said = Some(format!(
                "continuing from {} ({}/{})",
                r.dir,
                dir.display(),
                r.dir
            ));
            opts.restore = Some(std::sync::Arc::new(r));
        }
    }
    Ok((opts, said))
}

/// What a run gave: its final counters and where its dead letters went.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub snapshot: Snapshot,
    /// Names this run's lines in the dead-letter files (`run`).
    pub run_id: String,
    /// Every node that dead-lettered records or rows in this run.
    pub dead_letters: Vec<DeadLetters>,
}

/// One node's dead letters of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetters {
    pub node: String,
    pub path: PathBuf,
    /// Lines this run wrote.
    pub count: u64,
}

impl RunOutcome {
    /// Records and rows this run dead-lettered, over all nodes.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_letters.iter().map(|d| d.count).sum()
    }
}

/// Runs a job against its real sources until it ends (bounded) or Ctrl-C, once the
/// catalog completed its sources and the acting person's rights were checked. Kafka
/// sources use managed offsets: they resume from their consumer group's committed
/// offsets (`start` applies to a group's first run, or with `reset`), and what every
/// sink has written is committed four times a second and at the end (at least once).
pub fn run(req: &RunRequest, on_stats: impl FnMut(&Snapshot)) -> Result<RunOutcome, AppError> {
    let job = load_runnable(&req.job)?;
    let job = prepare(job, &req.job, req.store.as_deref(), true)?;
    let resolver = resolver_in(&job, &req.sets, req.store.as_deref())?;
    crate::secrets::require(&crate::secrets::uses_of_job(&job, &resolver), &req.consent)?;
    let mut opts = RunOptions::new(
        project_of(&req.job),
        weir_engine::transform::default_planner(),
    );
    opts.bounded = req.bounded;
    let mut offsets = weir_engine::source::kafka::Offsets::default();
    offsets.reset = req.reset;
    opts.offsets = Some(std::sync::Arc::new(offsets));
    if req.checkpoints {
        let (c, said) = run_checkpoints(&opts.project, &req.job, &job, req.reset)?;
        if let Some(said) = said {
            tracing::info!("{said}");
            eprintln!("{said}");
        }
        opts.checkpoints = Some(c);
    }
    let run_id = opts.run_id.clone();
    let project = opts.project.clone();
    injected_fault()?;
    let snapshot =
        weir_engine::runtime::run_job(&job, &resolver, opts, Duration::from_secs(1), on_stats)?;
    let dead_letters = snapshot
        .nodes
        .iter()
        .filter(|n| n.dead_letters > 0)
        .map(|n| DeadLetters {
            node: n.id.clone(),
            path: weir_engine::deadletter::path_of(&project, &job.name, &n.id),
            count: n.dead_letters,
        })
        .collect();
    Ok(RunOutcome {
        snapshot,
        run_id,
        dead_letters,
    })
}

/// What `weir test` asks for.
#[derive(Debug, Clone, Default)]
pub struct TestRequest {
    pub job: PathBuf,
    /// Default: `<project>/testdata/<job name>/`.
    pub data: Option<PathBuf>,
    pub shuffle: Option<u64>,
    pub delay_ms: u64,
    /// Default: `<data>/expected.jsonl`, which must then exist.
    pub expect: Option<PathBuf>,
    /// `--no-expect`: a smoke run that checks nothing (no expected rows, no manifest).
    pub no_expect: bool,
    /// `--store`: the metadata store whose catalog completes the job's sources.
    pub store: Option<PathBuf>,
}

/// What a test run gave.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub job: String,
    pub data: PathBuf,
    /// The expected rows compared with; `None` for a smoke run (`--no-expect`).
    pub expected_file: Option<PathBuf>,
    /// The package's `manifest.json`, when it has one (and the run is not a smoke run).
    pub manifest_file: Option<PathBuf>,
    /// What the run was expected to drop; `None` for a smoke run.
    pub manifest: Option<Manifest>,
    pub rows: SinkRows,
    /// Per sink; empty for a smoke run.
    pub diffs: Vec<SinkDiff>,
    pub metrics: Snapshot,
    /// The job's sinks, every one replaced by a capture sink: nothing reached them.
    pub captured: Vec<CapturedSink>,
}

impl TestOutcome {
    /// What the run may claim: passed or failed against its expectations (rows per sink,
    /// records dropped as late or dead-lettered), or a smoke run that checked nothing.
    pub fn verdict(&self) -> Verdict {
        verdict::verdict(
            self.manifest.as_ref(),
            &self.diffs,
            &verdict::dropped(&self.metrics),
        )
    }
    /// Expectations were checked and every one held (false for a smoke run).
    pub fn passed(&self) -> bool {
        self.verdict() == Verdict::Passed
    }
    /// Records dropped as late, over all operators.
    pub fn late(&self) -> u64 {
        self.metrics.nodes.iter().map(|n| n.late).sum()
    }
}

/// Runs a job on its test-data package with capture sinks, and checks what it gave
/// against the package's expectations (or, with `no_expect`, nothing). It reads no real
/// source and writes no real sink, so it needs no grants. A job the engine cannot run
/// is refused as `weir validate` refuses it, at the operator.
pub fn test(req: &TestRequest, on_row: impl FnMut(&CapturedRow)) -> Result<TestOutcome, AppError> {
    let job = load_runnable(&req.job)?;
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
    let expected = if req.no_expect {
        None
    } else {
        Some(verdict::expectations(
            &job.name,
            &data,
            req.expect.as_deref(),
        )?)
    };
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
        .map(|e| compare(&e.rows, &rows))
        .unwrap_or_default();
    Ok(TestOutcome {
        captured: verdict::captured_sinks(&job),
        job: job.name,
        data,
        expected_file: expected.as_ref().map(|e| e.expected_file.clone()),
        manifest_file: expected.as_ref().and_then(|e| e.manifest_file.clone()),
        manifest: expected.map(|e| e.manifest),
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
/// How each sink of `job` delivers across a restore from a checkpoint (`weir validate
/// --explain`): (node id, short name, the guarantee in words).
pub fn sink_deliveries(job: &Job) -> Vec<(String, &'static str, &'static str)> {
    use weir_engine::sink::Delivery;
    job.nodes
        .iter()
        .filter(|n| n.role() == weir_model::model::Role::Sink)
        .map(|n| {
            let d = weir_engine::sink::delivery_of(n);
            let short = match d {
                Delivery::AtLeastOnce => "at-least-once",
                Delivery::Idempotent => "idempotent",
                Delivery::Transactional => "exactly-once",
            };
            (n.id().to_string(), short, d.describe())
        })
        .collect()
}

pub fn check_file(path: &Path) -> jobfile::Checked {
    crate::jobs::schema::check_file(path, None)
}

/// The engine's refusals of a job: every operator it has no implementation for
/// (`unsupported-operator`, at the node, or at its `datasource` when that is the reason),
/// then its SQL (`unsupported-sql` for a construct it does not run, `sql-plan` for a
/// query that does not plan, such as an unknown column; at the word inside the `query`
/// the refusal is about, else at the query). `weir validate` and
/// `weir test` report these, so neither accepts a job that `weir run` would refuse.
pub fn engine_problems(job: &Job) -> Vec<jobfile::NodeProblem> {
    let operators = weir_engine::check::check_operators(job)
        .into_iter()
        .map(|p| jobfile::NodeProblem {
            node: p.node,
            // no such field: the diagnostic points at the operator's kind
            field: p.field.unwrap_or(""),
            code: "unsupported-operator",
            message: p.message,
            hint: Some(format!(
                "the engine runs {} so far; replace the operator, or leave it out until the engine runs it",
                weir_engine::check::RUNS
            )),
            within: None,
        });
    let sql = weir_engine::check::check_job(job)
        .into_iter()
        .map(|p| jobfile::NodeProblem {
            node: p.node,
            field: "query",
            code: if p.unsupported { "unsupported-sql" } else { "sql-plan" },
            message: p.message,
            hint: Some(if p.unsupported {
                "the engine runs projections, filters, window TVFs (TUMBLE, HOP, CUMULATE) with GROUP BY, and per-window TopN; see formats/job-v1.md".into()
            } else {
                "the query is planned over the fields its input tables declare, as weir run plans it: check the names and types it uses".into()
            }),
            // the offending word inside the query, mapped into the file by the model
            within: p.at,
        });
    operators.chain(sql).collect()
}

/// The embedded broker running for `project` (`weir broker`, the local worker or a
/// workbench): its bootstrap and control addresses, from `.weir/broker.json`.
pub fn broker_running(project: &Path) -> Result<(String, String), AppError> {
    Ok(weir_engine::broker::running(project)?)
}
