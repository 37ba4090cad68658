//! `weir job lock|unlock|status|submit|versions|show|checkout|diff` (SPEC R-life): the
//! edit lock, immutable versions and diffs, all on `app::jobs`.

use std::io::IsTerminal;

use clap::{Args, Subcommand};
use weir_app::AppError;
use weir_app::jobs::{JobId, Which, age, split_at_version};

use super::gov::{emit, emit_styled, with_store};
use super::{Global, exit, table};

#[derive(Debug, Args)]
pub struct JobArgs {
    #[command(subcommand)]
    pub command: JobCommand,
}

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Take the edit lock of a job nobody holds.
    Lock {
        /// The job: its file (jobs/name.ron) or its path under jobs/ (name).
        job: String,
    },
    /// Take the edit lock from whoever holds it (audited; they are told).
    Unlock { job: String },
    /// The lock holder, the latest version, and whether the working file differs from it.
    Status { job: String },
    /// Store the working file as a new immutable version (it must validate).
    Submit {
        job: String,
        /// What changed.
        #[arg(short, long)]
        message: String,
        /// Also run `weir test` on the job's test package and record the result.
        #[arg(long)]
        with_test: bool,
        /// The test's shuffle seed (0: records in file order).
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Every version of a job.
    Versions { job: String },
    /// Print a version's text: JOB@4, JOB@latest or JOB@live.
    Show {
        #[arg(value_name = "JOB@N")]
        job: String,
    },
    /// Write a version to the working file: JOB@4.
    Checkout {
        #[arg(value_name = "JOB@N")]
        job: String,
        /// Overwrite edits of the working file that no version holds.
        #[arg(long)]
        force: bool,
    },
    /// The graph and text diff between two versions (numbers, working, live or latest).
    Diff {
        job: String,
        /// The old side (default: latest).
        #[arg(default_value = "latest")]
        a: String,
        /// The new side (default: working).
        #[arg(default_value = "working")]
        b: String,
    },
}

/// The job an argument names, from the current directory.
pub(crate) fn job_id(arg: &str) -> Result<JobId, AppError> {
    let cwd = std::env::current_dir().map_err(|e| AppError::io("no current directory", e))?;
    JobId::resolve(arg, &cwd)
}

/// `JOB@N` → the job and the version; `@` is required.
fn job_at(arg: &str) -> Result<(JobId, Which), AppError> {
    let (job, which) = split_at_version(arg)?;
    let which = which.ok_or_else(|| {
        AppError::User(format!(
            "`{arg}` names no version; write JOB@N (a number, latest or live)"
        ))
    })?;
    Ok((job_id(job)?, which))
}

/// Colour for people on a terminal, never for pipes, `--json` or `NO_COLOR`.
pub(crate) fn color(global: &Global) -> bool {
    !global.json && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

pub fn run(global: &Global, args: &JobArgs) -> i32 {
    with_store(global, |gov| async move {
        match &args.command {
            JobCommand::Lock { job } => {
                let lock = gov.lock_job(&job_id(job)?).await?;
                emit(global, &lock, || {
                    format!("{} is locked by {}\n", lock.job, lock.holder)
                });
            }
            JobCommand::Unlock { job } => {
                let taken = gov.take_over_lock(&job_id(job)?).await?;
                emit(global, &taken, || match &taken.previous {
                    Some(p) if p.holder != taken.lock.holder => format!(
                        "took the edit lock of {} from {} (they will see it in weir inbox)\n",
                        taken.lock.job, p.holder
                    ),
                    _ => format!("{} is locked by {}\n", taken.lock.job, taken.lock.holder),
                });
            }
            JobCommand::Status { job } => {
                let st = gov.job_state(&job_id(job)?).await?;
                emit(global, &st, || {
                    let lock = st.lock.as_ref().map_or("nobody".to_string(), |l| {
                        format!("{} since {}", l.holder, l.since)
                    });
                    let latest = st.latest.as_ref().map_or("none".to_string(), |v| {
                        format!(
                            "{} ({}) by {}, {} ago",
                            v.number,
                            v.short_hash(),
                            v.author,
                            age(&v.created_at)
                        )
                    });
                    let mut out = format!(
                        "job      {}\nfile     {}\nlock     {lock}\nlatest   {latest}\nworking  {}\n",
                        st.job,
                        st.file,
                        st.working.label()
                    );
                    if let weir_app::jobs::Working::Unreadable(why) = &st.working {
                        out.push_str(&format!("         {why}\n"));
                    }
                    out
                });
            }
            JobCommand::Submit {
                job,
                message,
                with_test,
                seed,
            } => {
                let opts = weir_app::jobs::SubmitOptions {
                    message: message.clone(),
                    with_test: *with_test,
                    seed: *seed,
                };
                let out = gov.submit_job(&job_id(job)?, &opts).await?;
                emit(global, &out, || {
                    let mut text = String::new();
                    for w in &out.warnings {
                        text.push_str(w);
                        text.push('\n');
                    }
                    text.push_str(&out.line());
                    text.push('\n');
                    if let Some(t) = &out.version().test {
                        text.push_str(&format!(
                            "test {} (seed {}): {}\n",
                            if t.passed { "passed" } else { "FAILED" },
                            t.seed,
                            t.report
                        ));
                    }
                    text
                });
            }
            JobCommand::Versions { job } => {
                let id = job_id(job)?;
                let vs = gov.job_versions(&id.name()).await?;
                emit(global, &vs, || {
                    if vs.is_empty() {
                        return format!(
                            "{} has no versions yet; weir job submit {} -m … makes one\n",
                            id.name(),
                            id.path
                        );
                    }
                    let rows: Vec<Vec<String>> = vs
                        .iter()
                        .map(|v| {
                            vec![
                                v.number.to_string(),
                                v.short_hash().to_string(),
                                v.author.clone(),
                                age(&v.created_at),
                                v.test
                                    .as_ref()
                                    .map_or("-", |t| if t.passed { "passed" } else { "failed" })
                                    .into(),
                                v.message.clone(),
                            ]
                        })
                        .collect();
                    table::render(
                        &["VERSION", "HASH", "AUTHOR", "AGE", "TEST", "MESSAGE"],
                        &rows,
                    )
                });
            }
            JobCommand::Show { job } => {
                let (id, which) = job_at(job)?;
                let (label, hash, text) = gov.job_text(&id, which).await?;
                if global.json {
                    let value = serde_json::json!({
                        "job": id.name(), "label": label, "hash": hash, "text": text,
                    });
                    super::print_json(&value);
                } else {
                    outp!("{text}");
                }
            }
            JobCommand::Checkout { job, force } => {
                let (id, which) = job_at(job)?;
                let out = gov.checkout(&id, which, *force).await?;
                emit(global, &out, || {
                    if out.unchanged {
                        format!(
                            "{} already holds version {} of {}\n",
                            out.file, out.version.number, out.job
                        )
                    } else {
                        format!(
                            "wrote version {} ({}) of {} to {}\n",
                            out.version.number,
                            out.version.short_hash(),
                            out.job,
                            out.file
                        )
                    }
                });
            }
            JobCommand::Diff { job, a, b } => {
                let id = job_id(job)?;
                let report = gov
                    .job_diff(&id, Which::parse(a)?, Which::parse(b)?)
                    .await?;
                let color = color(global);
                emit_styled(global, &report, || report.render(color));
            }
        }
        Ok(exit::OK)
    })
}
