//! `weir release request|list|show|golive|offline` (SPEC R-life): a version proposed
//! for production, approved in `weir inbox` by a system admin, then taken live with its
//! resources. Approving is `weir approve ID [--hash PREFIX]`.

use clap::{Args, Subcommand};
use weir_app::AppError;
use weir_app::jobs::{
    GoLiveSpec, Release, ReleaseFilter, ReleaseState, age, describe_went_live, parse_memory,
    parse_params, parse_start, split_at_version,
};

use super::gov::{emit, emit_styled, with_store};
use super::job::{color, job_id};
use super::{Global, exit, table};

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    #[command(subcommand)]
    pub command: ReleaseCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Ask a system admin to approve version N for production: JOB@N (or JOB@latest).
    Request {
        #[arg(value_name = "JOB@N")]
        job: String,
        /// Why this version should go live.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Releases, newest first.
    List {
        /// Only this state: pending, approved, rejected, withdrawn, live, offline, replaced.
        #[arg(long)]
        state: Option<String>,
        /// Only this job.
        #[arg(long)]
        job: Option<String>,
    },
    /// A release with the diff from the live version and the hash it is bound to.
    Show { id: i64 },
    /// Take an approved release live: creates its production instance record.
    Golive {
        id: i64,
        /// Parallel tasks.
        #[arg(long, default_value_t = 1)]
        parallelism: i64,
        /// Memory limit (512MiB, 2GiB).
        #[arg(long, default_value = "512MiB")]
        memory: String,
        /// Where to start reading: latest, earliest, epoch ms or an RFC 3339 time.
        #[arg(long, default_value = "latest")]
        start: String,
        /// Job parameter NAME=VALUE (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Carry the state of the running production instance over: a savepoint of it,
        /// the state report against this version, then it stops and the new instance
        /// starts from the savepoint (refused while a state does not fit).
        #[arg(long)]
        keep_state: bool,
        /// With --keep-state: an operator whose state does not fit starts empty.
        #[arg(long = "allow-drop", value_name = "NODE", requires = "keep_state")]
        allow_drop: Vec<String>,
    },
    /// Take a live release offline.
    Offline { id: i64 },
}

pub fn run(global: &Global, args: &ReleaseArgs) -> i32 {
    with_store(global, |gov| async move {
        match &args.command {
            ReleaseCommand::Request { job, note } => {
                let (job, which) = split_at_version(job)?;
                let which = which.ok_or_else(|| {
                    AppError::User(format!(
                        "name the version to release: {job}@N (see weir job versions {job})"
                    ))
                })?;
                let r = gov.request_release(&job_id(job)?, which, note).await?;
                emit(global, &r, || {
                    format!(
                        "release request #{} is pending a system admin's approval: {}\n",
                        r.id, r.summary
                    )
                });
            }
            ReleaseCommand::List { state, job } => {
                let filter = ReleaseFilter {
                    job: job.as_deref().map(job_id).transpose()?.map(|j| j.name()),
                    state: state
                        .as_deref()
                        .map(ReleaseState::parse)
                        .transpose()
                        .map_err(AppError::from)?,
                };
                let rs = gov.releases(&filter).await?;
                emit(global, &rs, || {
                    if rs.is_empty() {
                        return "no releases\n".into();
                    }
                    let rows: Vec<Vec<String>> = rs.iter().map(row).collect();
                    table::render(
                        &[
                            "ID", "JOB", "VERSION", "HASH", "STATE", "BY", "AGE", "INSTANCE",
                            "NOTE",
                        ],
                        &rows,
                    )
                });
            }
            ReleaseCommand::Show { id } => {
                let review = gov.review_release(*id).await?;
                let color = color(global);
                emit_styled(global, &review, || {
                    let r = &review.release;
                    let state = review
                        .state
                        .as_ref()
                        .map(|p| format!("\n{}\n", weir_app::jobs::preview_lines(p).join("\n")))
                        .unwrap_or_default();
                    format!(
                        "release #{} of {} version {} ({}) is {}; asked by {}: {}\nhash {}\n\n{}{state}",
                        r.id,
                        r.job,
                        r.version,
                        short(&r.hash),
                        r.state.as_str(),
                        r.requester,
                        if r.note.is_empty() {
                            "(no note)".into()
                        } else {
                            weir_model::text::printable(&r.note)
                        },
                        r.hash,
                        review.diff.render(color)
                    )
                });
            }
            ReleaseCommand::Golive {
                id,
                parallelism,
                memory,
                start,
                params,
                keep_state,
                allow_drop,
            } => {
                let spec = GoLiveSpec {
                    parallelism: *parallelism,
                    memory_mib: parse_memory(memory)?,
                    start: parse_start(start)?,
                    params: parse_params(params.iter().map(String::as_str))?,
                };
                if *keep_state {
                    let cwd = std::env::current_dir()
                        .map_err(|e| AppError::io("cannot read the current directory", e))?;
                    let kept = gov
                        .go_live_keeping_state(*id, &spec, allow_drop, &cwd)
                        .await?;
                    emit(global, &kept, || {
                        format!(
                            "{}\nproduction instance #{} stopped; the new one starts from its savepoint #{}:\n{}\n",
                            describe_went_live(&kept.went),
                            kept.stopped,
                            kept.savepoint.id,
                            weir_app::jobs::report_lines(&kept.report)
                                .iter()
                                .map(|l| format!("  {l}"))
                                .collect::<Vec<_>>()
                                .join("\n")
                        )
                    });
                    return Ok(exit::OK);
                }
                let went = gov.go_live(*id, &spec).await?;
                emit(global, &went, || format!("{}\n", describe_went_live(&went)));
            }
            ReleaseCommand::Offline { id } => {
                let r = gov.take_offline(*id).await?;
                emit(global, &r, || {
                    format!(
                        "release #{} of {} version {} is offline\n",
                        r.id, r.job, r.version
                    )
                });
            }
        }
        Ok(exit::OK)
    })
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

fn row(r: &Release) -> Vec<String> {
    vec![
        format!("#{}", r.id),
        r.job.clone(),
        r.version.to_string(),
        short(&r.hash).to_string(),
        r.state.as_str().to_string(),
        r.requester.clone(),
        age(&r.requested_at),
        r.instance.map_or("-".into(), |i| format!("#{i}")),
        r.note.clone(),
    ]
}
