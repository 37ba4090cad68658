//! `weir job diff JOB A B`: the graph and text diff between two texts of a job (a
//! version, the live version, the latest, or the working file).

use serde::Serialize;
use weir_model::diff::{JobDiff, diff_texts};

use super::{JobId, Which};
use crate::AppError;
use crate::governance::Governance;

/// One side of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// `version 3 (3f9a1c0b2e7d)` or `working file`.
    pub label: String,
    /// The content hash (64 hex digits).
    pub hash: String,
}

/// The diff between two texts of a job.
#[derive(Debug, Clone, Serialize)]
pub struct JobDiffReport {
    /// `project/path`.
    pub job: String,
    /// The old side.
    pub a: Side,
    /// The new side.
    pub b: Side,
    /// The graph, parameter and text changes from `a` to `b`.
    pub diff: JobDiff,
    /// The new side's job, for drawing the unchanged nodes around the changes (the
    /// workbench's diff view); not part of the JSON.
    #[serde(skip)]
    pub new_job: Option<weir_model::model::Job>,
}

impl JobDiffReport {
    /// The report for people: a header naming both sides, then the diff.
    pub fn render(&self, color: bool) -> String {
        let mut out = format!("{}: {} → {}\n", self.job, self.a.label, self.b.label);
        if self.diff.is_empty() {
            out.push_str("no changes\n");
        } else {
            out.push_str(&self.diff.render_text(color));
        }
        out
    }
}

/// The diff between two canonical texts, named for errors by `a` and `b`.
pub fn between(job: &str, a: (Side, &str), b: (Side, &str)) -> Result<JobDiffReport, AppError> {
    let diff = diff_texts(a.1, b.1).map_err(|e| {
        AppError::User(format!(
            "cannot compare {} with {} of {job}: {e}",
            a.0.label, b.0.label
        ))
    })?;
    let new_job = weir_model::jobfile::check_source("b", b.1).job;
    Ok(JobDiffReport {
        job: job.to_string(),
        a: a.0,
        b: b.0,
        diff,
        new_job,
    })
}

impl Governance {
    /// The diff of `job` from `a` to `b`.
    pub async fn job_diff(
        &self,
        job: &JobId,
        a: Which,
        b: Which,
    ) -> Result<JobDiffReport, AppError> {
        let (la, ha, ta) = self.job_text(job, a).await?;
        let (lb, hb, tb) = self.job_text(job, b).await?;
        between(
            &job.name(),
            (
                Side {
                    label: la,
                    hash: ha,
                },
                &ta,
            ),
            (
                Side {
                    label: lb,
                    hash: hb,
                },
                &tb,
            ),
        )
    }
}
