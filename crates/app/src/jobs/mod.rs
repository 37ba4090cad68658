//! Job use cases beyond one file (SPEC R-life): which job a command means (`identity`),
//! the working copy (`working`: canonical text, hash, validation), versions and the edit
//! lock (`versions`), diffs (`diff`), releases (`releases`) and what a release does to
//! the running production state (`release_state`). The store keeps versions
//! immutable and checks every rule; these add what the files and the engine know.

pub mod access;
pub mod diff;
pub mod identity;
pub mod release_state;
pub mod releases;
pub mod schema;
pub mod versions;
pub mod working;

pub use diff::{JobDiffReport, Side};
pub use identity::{JobId, Which, split_at_version, store_project, use_project};
pub use release_state::{KeptLive, StatePreview, preview_lines, report_lines};
pub use releases::{
    ReleaseReview, describe_went_live, parse_memory, parse_params, parse_start, start_label,
};
pub use versions::{CheckedOut, JobState, SubmitOptions, SubmitOutcome, Working};
pub use weir_model::diff::{JobDiff, NodeChange, ParamChange, TextDiff};
pub use weir_store::{
    GoLiveSpec, Instance, JobLock, JobStatus, JobVersion, LockTaken, LockTakeover, NewVersion,
    Release, ReleaseFilter, ReleaseState, StartPosition, Submitted, TestResult, Validation,
    VersionInfo, WentLive,
};
pub use working::{age, content_hash};
