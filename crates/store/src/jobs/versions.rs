//! Versions: immutable snapshots of a job's canonical text, numbered 1, 2, … per job.
//! The database refuses UPDATE and DELETE on `job_versions` (triggers, migration 3), so
//! this module only inserts and reads.

use serde::{Deserialize, Serialize};

use crate::Session;
use crate::audit::{self, NONE};
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};
use crate::identity::roles;
use crate::projects;

use super::locks::{self, locked_by_other};
use super::{DEVS, JobRow, ensure, parse_job};

/// The result of `weir validate` on the submitted text; a submit needs it passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// Whether the job validated.
    pub passed: bool,
    /// The diagnostics (JSON or text, as the app writes them).
    pub report: String,
}

/// The result of `weir test` on the job's test package (`--with-test`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    /// The seed the test ran with.
    pub seed: i64,
    /// Whether it passed.
    pub passed: bool,
    /// What it printed (JSON or text).
    pub report: String,
}

/// What a submit stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    /// The canonical text (`weir fmt` output).
    pub text: String,
    /// sha256 of `text`, 64 hex digits (computed by the app).
    pub hash: String,
    /// The submit message.
    pub message: String,
    /// `weir validate`'s result; must have passed.
    pub validation: Validation,
    /// `weir test`'s result, when the submit ran it.
    pub test: Option<TestResult>,
}

/// A version without its text (lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    /// `project/path`.
    pub job: String,
    /// 1, 2, … per job.
    pub number: i64,
    /// sha256 of the text, 64 hex digits ([`VersionInfo::short_hash`] shows 12).
    pub hash: String,
    /// Who submitted it.
    pub author: String,
    /// When (RFC 3339, UTC).
    pub created_at: String,
    /// The submit message.
    pub message: String,
    /// `weir validate`'s result.
    pub validation: Validation,
    /// `weir test`'s result, if run.
    pub test: Option<TestResult>,
}

impl VersionInfo {
    /// The 12-character hash prefix people see.
    pub fn short_hash(&self) -> &str {
        self.hash.get(..12).unwrap_or(&self.hash)
    }
}

/// A version with its canonical text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobVersion {
    /// Number, hash, author, …
    pub info: VersionInfo,
    /// The canonical text.
    pub text: String,
}

/// The outcome of a submit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Submitted {
    /// A new version was stored.
    Created {
        /// The new version.
        version: VersionInfo,
        /// Whether this submit took the free edit lock (the job's first submit).
        took_lock: bool,
    },
    /// The text equals the latest version's: no new version, nothing written.
    Unchanged {
        /// The latest version, which already holds this text.
        latest: VersionInfo,
    },
}

type VersionRow = (
    i64,
    String,
    String,
    String,
    String,
    bool,
    String,
    Option<i64>,
    Option<bool>,
    Option<String>,
);

fn to_info(job: &JobRow, r: VersionRow) -> VersionInfo {
    let test = match (r.7, r.8, r.9) {
        (Some(seed), Some(passed), report) => Some(TestResult {
            seed,
            passed,
            report: report.unwrap_or_default(),
        }),
        _ => None,
    };
    VersionInfo {
        job: job.name(),
        number: r.0,
        hash: r.1,
        author: r.2,
        created_at: r.3,
        message: r.4,
        validation: Validation {
            passed: r.5,
            report: r.6,
        },
        test,
    }
}

/// Version `number` of `job` with its text, if it exists.
pub(crate) async fn get(tx: &mut Tx, job: &JobRow, number: i64) -> Result<Option<JobVersion>> {
    const SQL: &str = "SELECT number, hash, author, created_at, message, validation_passed, \
                       validation, test_seed, test_passed, test_report, text \
                       FROM job_versions WHERE job_id = $1 AND number = $2";
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        bool,
        String,
        Option<i64>,
        Option<bool>,
        Option<String>,
        String,
    );
    let row: Option<Row> = tx.opt(SQL, &args![job.id, number]).await?;
    Ok(row.map(|r| JobVersion {
        text: r.10,
        info: to_info(job, (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9)),
    }))
}

/// The newest version of `job` with its text.
pub(crate) async fn latest(tx: &mut Tx, job: &JobRow) -> Result<Option<JobVersion>> {
    let (n,): (i64,) = tx
        .one(
            "SELECT COALESCE(MAX(number), 0) FROM job_versions WHERE job_id = $1",
            &args![job.id],
        )
        .await?;
    if n == 0 {
        return Ok(None);
    }
    get(tx, job, n).await
}

/// The version's store id and hash; `NotFound` names `job@number`.
pub(crate) async fn id_and_hash(tx: &mut Tx, job: &JobRow, number: i64) -> Result<(i64, String)> {
    let row: Option<(i64, String)> = tx
        .opt(
            "SELECT id, hash FROM job_versions WHERE job_id = $1 AND number = $2",
            &args![job.id, number],
        )
        .await?;
    match row {
        Some(r) => Ok(r),
        None => Err(no_version(tx, job, number).await),
    }
}

async fn no_version(tx: &mut Tx, job: &JobRow, number: i64) -> StoreError {
    let newest: Result<(i64,)> = tx
        .one(
            "SELECT COALESCE(MAX(number), 0) FROM job_versions WHERE job_id = $1",
            &args![job.id],
        )
        .await;
    let suggestion = match newest {
        Ok((n,)) if n > 0 => Some(format!("{}@{n}", job.name())),
        _ => None,
    };
    StoreError::NotFound {
        kind: "version",
        name: format!("{}@{number}", job.name()),
        suggestion,
    }
}

/// Checks a submit's input before any transaction.
fn check_new(v: &NewVersion) -> Result<String> {
    let hash = v.hash.trim().to_ascii_lowercase();
    if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(StoreError::invalid(
            "hash",
            format!(
                "`{}` is not a sha256 in hex",
                weir_model::text::printable(&v.hash)
            ),
            "pass the sha256 of the canonical text, 64 hex digits",
        ));
    }
    if v.message.trim().is_empty() {
        return Err(StoreError::invalid(
            "message",
            "a version needs a message",
            "say what changed (-m \"…\")",
        ));
    }
    crate::checks::free_text("message", &v.message)?;
    if !v.validation.passed {
        return Err(StoreError::invalid(
            "job",
            "the job does not validate; only a valid job becomes a version",
            "fix what `weir validate` reports and submit again",
        ));
    }
    Ok(hash)
}

impl Session {
    /// Stores a new version of `job` (developer or project admin of its project).
    /// Needs the job's edit lock; the first submit of a job takes the free lock. When the
    /// text equals the latest version's, nothing is written and the outcome is
    /// [`Submitted::Unchanged`] (not an error). Refusals: not valid, locked by someone
    /// else (naming them), archived project.
    pub async fn submit_version(&self, job: &str, new: &NewVersion) -> Result<Submitted> {
        let hash = check_new(new)?;
        let (project, path) = parse_job(job)?;
        let mut tx = self.pool.write().await?;
        let p = projects::active(&mut tx, &project).await?;
        roles(&mut tx, &self.actor)
            .await?
            .require_in_project(&p.name, DEVS, &[], "submit jobs")?;
        let j = ensure(&mut tx, &self.actor, &p, &path).await?;
        let took_lock = match locks::current(&mut tx, &j).await? {
            Some(l) if l.holder != self.actor => return Err(locked_by_other(&l, "submitting")),
            Some(_) => false,
            None => {
                locks::take_free(&mut tx, &self.actor, &j).await?;
                true
            }
        };
        let last = latest(&mut tx, &j).await?;
        if let Some(last) = &last
            && last.text == new.text
        {
            // Nothing new: leave no trace (a lock taken just now is rolled back too).
            return Ok(Submitted::Unchanged {
                latest: last.info.clone(),
            });
        }
        let number = last.as_ref().map_or(1, |v| v.info.number + 1);
        let (seed, passed, report) = match &new.test {
            Some(t) => (Some(t.seed), Some(t.passed), Some(t.report.clone())),
            None => (None, None, None),
        };
        tx.execute(
            "INSERT INTO job_versions (job_id, number, text, hash, author, created_at, message, \
             validation_passed, validation, test_seed, test_passed, test_report) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &args![
                j.id,
                number,
                &new.text,
                hash,
                &self.actor,
                now(),
                new.message.trim(),
                new.validation.passed,
                &new.validation.report,
                seed,
                passed,
                report
            ],
        )
        .await?;
        let Some(created) = get(&mut tx, &j, number).await? else {
            return Err(StoreError::wrong_state(format!(
                "version {number} of {} vanished while it was stored; try again",
                j.name()
            )));
        };
        audit::append(
            &mut tx,
            &self.actor,
            "job.submit",
            "job_version",
            format!("{}@{number}", j.name()),
            NONE,
            Some(&created.info),
        )
        .await?;
        tx.commit().await?;
        Ok(Submitted::Created {
            version: created.info,
            took_lock,
        })
    }

    /// The versions of `job`, oldest first, without their text. A job the store does
    /// not know has none.
    pub async fn versions(&self, job: &str) -> Result<Vec<VersionInfo>> {
        let (project, path) = parse_job(job)?;
        let mut tx = self.pool.read().await?;
        let p = projects::by_name(&mut tx, &project).await?;
        let Some(j) = super::find(&mut tx, &p, &path).await? else {
            return Ok(Vec::new());
        };
        let rows: Vec<VersionRow> = tx
            .all(
                "SELECT number, hash, author, created_at, message, validation_passed, validation, \
                 test_seed, test_passed, test_report FROM job_versions WHERE job_id = $1 \
                 ORDER BY number",
                &args![j.id],
            )
            .await?;
        Ok(rows.into_iter().map(|r| to_info(&j, r)).collect())
    }

    /// Version `number` of `job`, with its text.
    pub async fn version(&self, job: &str, number: i64) -> Result<JobVersion> {
        let mut tx = self.pool.read().await?;
        let j = super::by_name(&mut tx, job).await?;
        match get(&mut tx, &j, number).await? {
            Some(v) => Ok(v),
            None => Err(no_version(&mut tx, &j, number).await),
        }
    }

    /// The newest version of `job`, with its text; `None` before the first submit.
    pub async fn latest_version(&self, job: &str) -> Result<Option<JobVersion>> {
        let (project, path) = parse_job(job)?;
        let mut tx = self.pool.read().await?;
        let p = projects::by_name(&mut tx, &project).await?;
        match super::find(&mut tx, &p, &path).await? {
            Some(j) => latest(&mut tx, &j).await,
            None => Ok(None),
        }
    }
}
