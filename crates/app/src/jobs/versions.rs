//! Versions and the edit lock as use cases: lock, take over, status, submit, list, show,
//! check out. The store keeps versions immutable and checks roles and the lock; this
//! module adds what the file system and the engine know: the working file's canonical
//! text and hash, `weir validate`, and `weir test` for `--with-test`.

use serde::Serialize;

use super::working::{self, content_hash};
use super::{
    JobId, JobLock, LockTaken, NewVersion, Submitted, TestResult, Validation, VersionInfo,
};
use super::{JobVersion, LockTakeover, Which};
use crate::AppError;
use crate::governance::Governance;

/// How the working file stands against the job's versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Working {
    /// There is no working file.
    Missing,
    /// The job has no version yet.
    New,
    /// The working file's canonical text is the latest version's.
    Same,
    /// The working file has edits the latest version does not hold.
    Modified,
    /// The working file cannot be read or has a syntax error (the message says which).
    Unreadable(String),
}

impl Working {
    /// One word for lists and the tree.
    pub fn label(&self) -> &'static str {
        match self {
            Working::Missing => "no working file",
            Working::New => "never submitted",
            Working::Same => "same as latest",
            Working::Modified => "modified",
            Working::Unreadable(_) => "unreadable",
        }
    }
}

/// A job's lock holder, latest version and working copy (`weir job status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobState {
    /// `project/path`.
    pub job: String,
    /// The working file.
    pub file: String,
    /// Who holds the edit lock.
    pub lock: Option<JobLock>,
    /// The newest version.
    pub latest: Option<VersionInfo>,
    /// The working file against the latest version.
    pub working: Working,
    /// The working file's hash, when it could be read.
    pub working_hash: Option<String>,
}

/// What `weir job submit` asks for.
#[derive(Debug, Clone, Default)]
pub struct SubmitOptions {
    /// The submit message (required).
    pub message: String,
    /// Also run `weir test` on the job's test package and record its result.
    pub with_test: bool,
    /// The test's shuffle seed (0 = records in file order).
    pub seed: u64,
}

/// The outcome of a submit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubmitOutcome {
    /// `project/path`.
    pub job: String,
    /// A new version, or none because the text equals the latest.
    pub submitted: Submitted,
    /// Warnings of `weir validate` (the job had no errors).
    pub warnings: Vec<String>,
}

impl SubmitOutcome {
    /// The version the working file now equals.
    pub fn version(&self) -> &VersionInfo {
        match &self.submitted {
            Submitted::Created { version, .. } => version,
            Submitted::Unchanged { latest } => latest,
        }
    }

    /// One line for people: `version 4 (3f9a1c0b2e7d) of shop/clickstream_pv`.
    pub fn line(&self) -> String {
        let v = self.version();
        match &self.submitted {
            Submitted::Created { took_lock, .. } => format!(
                "version {} ({}) of {}{}",
                v.number,
                v.short_hash(),
                self.job,
                if *took_lock {
                    "; you now hold its edit lock"
                } else {
                    ""
                }
            ),
            Submitted::Unchanged { .. } => format!(
                "no new version: the working file equals version {} ({}) of {}",
                v.number,
                v.short_hash(),
                self.job
            ),
        }
    }
}

/// The outcome of a checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedOut {
    /// `project/path`.
    pub job: String,
    /// The version written.
    pub version: VersionInfo,
    /// The working file.
    pub file: String,
    /// Whether the file already held that text (nothing written).
    pub unchanged: bool,
}

impl Governance {
    /// Take the edit lock of a job that nobody holds (a holder is refused, named).
    pub async fn lock_job(&self, job: &JobId) -> Result<JobLock, AppError> {
        Ok(self.session().lock_job(&job.name()).await?)
    }

    /// Take the edit lock from whoever holds it (the manual's "unlock"); audited, and
    /// the previous holder finds it in their notices.
    pub async fn take_over_lock(&self, job: &JobId) -> Result<LockTaken, AppError> {
        Ok(self.session().take_over_lock(&job.name()).await?)
    }

    /// Locks someone took over from the actor, after audit row `after_id`.
    pub async fn locks_taken_from_me(&self, after_id: i64) -> Result<Vec<LockTakeover>, AppError> {
        Ok(self.session().locks_taken_from_me(after_id).await?)
    }

    /// The lock holder, the latest version and how the working file stands.
    pub async fn job_state(&self, job: &JobId) -> Result<JobState, AppError> {
        let status = self.session().job_status(&job.name()).await?;
        let (working, working_hash) = match working::current(job) {
            Ok(None) => (Working::Missing, None),
            Ok(Some((_, hash))) => {
                let w = match &status.latest {
                    None => Working::New,
                    Some(v) if v.hash == hash => Working::Same,
                    Some(_) => Working::Modified,
                };
                (w, Some(hash))
            }
            Err(e) => (Working::Unreadable(e.to_string()), None),
        };
        Ok(JobState {
            job: job.name(),
            file: job.file.display().to_string(),
            lock: status.lock,
            latest: status.latest,
            working,
            working_hash,
        })
    }

    /// Submit the working file as a new version: canonical text, hash, `weir validate
    /// --store` (an invalid job is refused with its diagnostics), the rights the job
    /// needs in its project (refused naming each missing one), optionally `weir test`;
    /// the store checks the lock and stores it.
    pub async fn submit_job(
        &self,
        job: &JobId,
        opts: &SubmitOptions,
    ) -> Result<SubmitOutcome, AppError> {
        if opts.message.trim().is_empty() {
            return Err(AppError::User(
                "a submit needs a message that says what changed (-m MESSAGE)".into(),
            ));
        }
        let text = working::canonical(job, &working::read(job)?)?;
        let topics = self.topics(None).await?;
        let checked = working::check(job, &text, &topics);
        if checked.has_errors() {
            return Err(AppError::User(format!(
                "{}\n{} is not valid, so nothing was submitted; fix it and submit again (weir validate shows the same)",
                working::render(&checked.diagnostics),
                job.name()
            )));
        }
        if let Some(parsed) = &checked.job {
            super::access::check_job_rights(self, &job.project, parsed)
                .await
                .map_err(|e| match e {
                    AppError::User(why) => AppError::User(format!("nothing was submitted: {why}")),
                    other => other,
                })?;
        }
        let warnings: Vec<String> = checked.diagnostics.iter().map(|d| d.render()).collect();
        let validation = Validation {
            passed: true,
            report: if warnings.is_empty() {
                "valid".into()
            } else {
                warnings.join("\n")
            },
        };
        let test = if opts.with_test {
            Some(run_test(job, opts.seed)?)
        } else {
            None
        };
        let new = NewVersion {
            hash: content_hash(&text),
            text,
            message: opts.message.trim().to_string(),
            validation,
            test,
        };
        let submitted = self.session().submit_version(&job.name(), &new).await?;
        Ok(SubmitOutcome {
            job: job.name(),
            submitted,
            warnings,
        })
    }

    /// Every version of a job, oldest first.
    pub async fn job_versions(&self, job: &str) -> Result<Vec<VersionInfo>, AppError> {
        Ok(self.session().versions(job).await?)
    }

    /// One stored version with its text (`Which::Version`, `Latest` or `Live`).
    pub async fn job_version(&self, job: &str, which: Which) -> Result<JobVersion, AppError> {
        match which {
            Which::Version(n) => Ok(self.session().version(job, n).await?),
            Which::Latest => self.session().latest_version(job).await?.ok_or_else(|| {
                AppError::User(format!(
                    "{job} has no version yet; submit one first (weir job submit)"
                ))
            }),
            Which::Live => {
                let live = self.live_release(job).await?.ok_or_else(|| {
                    AppError::User(format!(
                        "{job} has no live release; see weir release list --job {job}"
                    ))
                })?;
                Ok(self.session().version(job, live.version).await?)
            }
            Which::Working => Err(AppError::User(
                "the working file is not a stored version; name a version number, latest or live"
                    .into(),
            )),
        }
    }

    /// The text a command means: a stored version, or the working file's canonical text.
    /// Returns a label for people, the hash and the text.
    pub async fn job_text(
        &self,
        job: &JobId,
        which: Which,
    ) -> Result<(String, String, String), AppError> {
        if which == Which::Working {
            let (text, hash) = working::current(job)?.ok_or_else(|| {
                AppError::User(format!(
                    "job {} has no working file {}",
                    job.name(),
                    job.file.display()
                ))
            })?;
            return Ok(("working file".into(), hash, text));
        }
        let v = self.job_version(&job.name(), which).await?;
        Ok((
            format!("version {} ({})", v.info.number, v.info.short_hash()),
            v.info.hash,
            v.text,
        ))
    }

    /// Write version `number` to the working file. Refused when the working file holds
    /// edits that no version holds, unless `force`.
    pub async fn checkout(
        &self,
        job: &JobId,
        which: Which,
        force: bool,
    ) -> Result<CheckedOut, AppError> {
        let v = self.job_version(&job.name(), which).await?;
        let mut unchanged = false;
        if job.file.exists() {
            let current = working::read(job).and_then(|src| working::canonical(job, &src));
            let hash = current.as_deref().ok().map(content_hash);
            unchanged = hash.as_deref() == Some(v.info.hash.as_str());
            if !unchanged && !force {
                let versions = self.job_versions(&job.name()).await?;
                let held = hash
                    .as_deref()
                    .is_some_and(|h| versions.iter().any(|x| x.hash == h));
                if !held {
                    return Err(AppError::User(format!(
                        "{} has edits that no version of {} holds; submit them first (weir job submit {} -m …) or pass --force to overwrite them",
                        job.file.display(),
                        job.name(),
                        job.path
                    )));
                }
            }
        }
        if !unchanged {
            if let Some(dir) = job.file.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| AppError::io(format!("cannot create {}", dir.display()), e))?;
            }
            working::write(&job.file, &v.text)?;
        }
        Ok(CheckedOut {
            job: job.name(),
            version: v.info,
            file: job.file.display().to_string(),
            unchanged,
        })
    }
}

/// `weir test` on the job's test package for a submit: its seed, verdict and summary.
fn run_test(job: &JobId, seed: u64) -> Result<TestResult, AppError> {
    let req = crate::engine::TestRequest {
        job: job.file.clone(),
        shuffle: (seed != 0).then_some(seed),
        ..Default::default()
    };
    // The engine runs its own runtime: give it a thread of its own.
    let outcome = std::thread::scope(|s| {
        s.spawn(|| crate::engine::test(&req, |_| {}))
            .join()
            .map_err(|_| AppError::Internal("the test run panicked".into()))
    })??;
    let rows: usize = outcome.rows.values().map(Vec::len).sum();
    // a test without expectations is refused before it runs (crate::engine::test)
    let report = if let crate::engine::Verdict::Failed(reasons) = outcome.verdict() {
        reasons.join("\n")
    } else if outcome.diffs.is_empty() {
        format!("{rows} row(s) produced")
    } else {
        outcome
            .diffs
            .iter()
            .map(|d| {
                format!(
                    "{}: {} expected, {} received, {} missing, {} unexpected",
                    d.sink,
                    d.expected,
                    d.received,
                    d.missing.len(),
                    d.unexpected.len()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(TestResult {
        seed: i64::try_from(seed).unwrap_or(i64::MAX),
        passed: outcome.passed(),
        report,
    })
}
