//! The new side's job for the drawing: the report carries it (the app decoded it when it
//! made the diff), so the unchanged nodes around the changes can be drawn.

use weir_app::jobs::JobDiffReport;
use weir_model::jobfile::{decode_job, syntax};
use weir_model::model::Job;

/// The job of the report's new side, when its text decoded.
pub fn new_side(report: &JobDiffReport) -> Option<Job> {
    report.new_job.clone()
}

/// The job a text holds, if it decodes fully.
pub fn decode(text: &str) -> Option<Job> {
    let doc = syntax::parse(text).ok()?;
    let decoded = decode_job(&doc.value);
    if decoded.problems.is_empty() {
        decoded.job
    } else {
        None
    }
}
