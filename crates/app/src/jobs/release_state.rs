//! Production releases that keep their state (issue 16, "Upgrades with state"): what the
//! release review shows an approver about the state of the running production instance
//! (per operator: kept, dropped, new, incompatible with the reason), and the go-live that
//! carries that state over (`weir release golive ID --keep-state`): a savepoint of the
//! live release's instance, the pre-flight report against it, then the old instance stops
//! and the new production instance starts from the savepoint.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use weir_engine::checkpoint::compat::{self, OperatorReport, Verdict};

use super::{GoLiveSpec, Release, ReleaseState, WentLive, Which};
use crate::AppError;
use crate::governance::Governance;
use crate::instances::{SAVEPOINT_WAIT, Savepoint};

/// What a release does to the state of the production instance it replaces.
#[derive(Debug, Clone, Serialize)]
pub struct StatePreview {
    /// The running production instance of the live release, whose state a go-live with
    /// `--keep-state` carries over; None when none runs (nothing to keep).
    pub instance: Option<i64>,
    /// Per operator, from the live version's state to the proposed version's.
    pub report: Vec<OperatorReport>,
    /// Operators whose state does not fit the proposed version.
    pub incompatible: Vec<String>,
    /// Why the states could not be compared (a version the engine cannot plan).
    pub problem: Option<String>,
}

/// What `go_live_keeping_state` did.
#[derive(Debug, Clone, Serialize)]
pub struct KeptLive {
    pub went: WentLive,
    /// The savepoint of the replaced instance the new one starts from.
    pub savepoint: Savepoint,
    /// The replaced production instance, now stopped.
    pub stopped: i64,
    pub report: Vec<OperatorReport>,
}

fn incompatible(report: &[OperatorReport]) -> Vec<String> {
    report
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Incompatible { .. }))
        .map(|r| r.node.clone())
        .collect()
}

/// The report in lines for people: `agg: state kept`, `pv: incompatible: window size of
/// pv changed 1 min → 5 min`.
pub fn report_lines(report: &[OperatorReport]) -> Vec<String> {
    report
        .iter()
        .map(|r| match &r.verdict {
            Verdict::Kept => format!("{}: state kept", r.node),
            Verdict::Dropped => format!("{}: state dropped (the operator was removed)", r.node),
            Verdict::New => format!("{}: new, empty state", r.node),
            Verdict::Incompatible { reason } => format!("{}: incompatible: {reason}", r.node),
        })
        .collect()
}

/// The state part of a release review in lines: which instance, then the report.
pub fn preview_lines(p: &StatePreview) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(why) = &p.problem {
        out.push(format!("state: cannot be compared: {why}"));
        return out;
    }
    out.push(match p.instance {
        Some(i) => format!(
            "state of production instance #{i} (kept with `weir release golive ID --keep-state`):"
        ),
        None => "state: no production instance runs; the new one starts empty".into(),
    });
    out.extend(
        report_lines(&p.report)
            .into_iter()
            .map(|l| format!("  {l}")),
    );
    if !p.incompatible.is_empty() {
        out.push(format!(
            "  keeping state needs --allow-drop {} (that state starts empty)",
            p.incompatible.join(" --allow-drop ")
        ));
    }
    out
}

/// `--allow-drop` names only operators the report knows.
fn check_drops(
    allow_drop: &[String],
    report: &[OperatorReport],
    instance: i64,
    to: &str,
) -> Result<(), AppError> {
    for n in allow_drop {
        if !report.iter().any(|r| &r.node == n) {
            return Err(AppError::User(format!(
                "--allow-drop {n}: no operator {n} keeps state in instance #{instance} or in {to} (operators: {})",
                report
                    .iter()
                    .map(|r| r.node.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

/// Refuses the go-live of release `id` while an operator's state is incompatible and not
/// allowed to drop; the old instance keeps running (and `savepoint`, if one was taken, is
/// kept).
fn refuse_blocked(
    id: i64,
    report: &[OperatorReport],
    allow_drop: &[String],
    instance: i64,
    to: &str,
    savepoint: Option<i64>,
) -> Result<(), AppError> {
    let blocked: Vec<String> = incompatible(report)
        .into_iter()
        .filter(|n| !allow_drop.contains(n))
        .collect();
    if blocked.is_empty() {
        return Ok(());
    }
    let kept = savepoint
        .map(|sp| format!(" and savepoint #{sp} is kept"))
        .unwrap_or_default();
    Err(AppError::User(format!(
        "{}\nrelease #{id} did not go live: the state of {} does not fit {to}; instance #{instance} keeps running{kept}. Go live with --allow-drop {} to start that state empty, or without --keep-state",
        report_lines(report).join("\n"),
        blocked.join(", "),
        blocked.join(" --allow-drop ")
    )))
}

impl Governance {
    /// The state preview of a release of `job` whose proposed text is `proposed`, against
    /// the live release `live` (its text `live_text`).
    pub(crate) async fn state_preview(
        &self,
        live: &Release,
        live_text: &str,
        proposed: &str,
        project: &Path,
    ) -> StatePreview {
        let instance = match live.instance {
            Some(i) => match self.instance(i).await {
                Ok(inst) if inst.state.is_active() => Some(i),
                _ => None,
            },
            None => None,
        };
        let states = async {
            let old = self
                .planned_states(
                    &format!("live version {}", live.version),
                    live_text,
                    project,
                )
                .await?;
            let new = self
                .planned_states("the proposed version", proposed, project)
                .await?;
            Ok::<_, AppError>(compat::compare_states(&old, &new))
        };
        match states.await {
            Ok(report) => StatePreview {
                instance,
                incompatible: incompatible(&report),
                report,
                problem: None,
            },
            Err(e) => StatePreview {
                instance,
                report: Vec::new(),
                incompatible: Vec::new(),
                problem: Some(e.to_string()),
            },
        }
    }

    /// Takes approved release `id` live and carries the state of the job's running
    /// production instance over: a savepoint of it, the pre-flight report against the
    /// release's version (refused while an operator's state is incompatible and not named
    /// in `allow_drop`; the old instance keeps running and the savepoint is kept), then the
    /// old instance stops and the new production instance starts from the savepoint.
    pub async fn go_live_keeping_state(
        &self,
        id: i64,
        spec: &GoLiveSpec,
        allow_drop: &[String],
        cwd: &Path,
    ) -> Result<KeptLive, AppError> {
        let release = self.release(id).await?;
        if release.state != ReleaseState::Approved {
            return Err(AppError::User(format!(
                "release #{id} is {}; only an approved release can go live",
                release.state.as_str()
            )));
        }
        let job = release.job.clone();
        let live = self.live_release(&job).await?.ok_or_else(|| {
            AppError::User(format!(
                "no release of {job} is live, so there is no production state to keep; go live without --keep-state"
            ))
        })?;
        let old = match live.instance {
            Some(i) => self.instance(i).await?,
            None => {
                return Err(AppError::User(format!(
                    "live release #{} of {job} has no production instance; go live without --keep-state",
                    live.id
                )));
            }
        };
        if !old.state.is_active() || old.desired == crate::instances::DesiredState::Stopped {
            return Err(AppError::User(format!(
                "production instance #{} of {job} is {}, so it has no running state to keep; start it again first (weir instance restart {}), or go live without --keep-state",
                old.id,
                old.state.as_str(),
                old.id
            )));
        }
        let proposed = self
            .job_version(&job, Which::Version(release.version))
            .await?;
        let project = crate::project_root(cwd);
        let to = format!("{job} version {}", release.version);
        let new = self.planned_states(&to, &proposed.text, &project).await?;
        // first from the versions alone, so that a refusal takes no savepoint
        let live_text = self
            .job_version(&job, Which::Version(live.version))
            .await?
            .text;
        let planned = self
            .planned_states(
                &format!("live version {}", live.version),
                &live_text,
                &project,
            )
            .await?;
        let before = compat::compare_states(&planned, &new);
        check_drops(allow_drop, &before, old.id, &to)?;
        refuse_blocked(id, &before, allow_drop, old.id, &to, None)?;
        // then against the state itself
        let savepoint = self.take_savepoint(old.id, false, SAVEPOINT_WAIT).await?;
        let manifest = crate::instances::manifest_of(&savepoint).await?;
        let report = compat::report(&manifest, &new);
        refuse_blocked(id, &report, allow_drop, old.id, &to, Some(savepoint.id))?;
        self.stop_instance(old.id).await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = self.instance(old.id).await?;
        while last.state.is_active() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            last = self.instance(old.id).await?;
        }
        if last.state.is_active() {
            return Err(AppError::External(format!(
                "production instance #{} did not stop within 60 s; release #{id} did not go live and savepoint #{} is kept: try again once it stopped",
                old.id, savepoint.id
            )));
        }
        let went = self
            .session()
            .go_live_from(id, spec, Some(savepoint.id))
            .await?;
        Ok(KeptLive {
            went,
            savepoint,
            stopped: old.id,
            report,
        })
    }
}
