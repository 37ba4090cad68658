//! What a `weir test` run is checked against, and what it may claim: the test-data
//! package's expectations (`expected.jsonl`, and `manifest.json` for records the job is
//! meant to drop, formats/testdata.md), the verdict they give, and the sinks the run
//! replaced with capture sinks. A run without expectations is a smoke run and says so.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use weir_engine::metrics::Snapshot;
use weir_engine::testing::{SinkDiff, SinkRows, read_expected};

use crate::AppError;
use crate::model::{Job, Role};

/// The expected rows of a package, when `--expect` names no other file.
pub const EXPECTED_FILE: &str = "expected.jsonl";
/// The package's manifest: what the run is expected to drop (formats/testdata.md).
pub const MANIFEST_FILE: &str = "manifest.json";

/// `manifest.json` of a test-data package. Every field is optional; one left out is 0,
/// so a package without a manifest expects every record to reach the job's SQL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Records the engine must drop as late (behind the watermark), over all operators.
    #[serde(default)]
    pub late: u64,
    /// Records that must go to the dead-letter file (malformed input), over all operators.
    #[serde(default)]
    pub dead_letters: u64,
}

/// What a test compares its run with.
#[derive(Debug, Clone)]
pub struct Expectations {
    /// The expected rows and the file they came from.
    pub expected_file: PathBuf,
    pub rows: SinkRows,
    /// The package's manifest file, when it has one.
    pub manifest_file: Option<PathBuf>,
    pub manifest: Manifest,
}

/// Reads the expectations of the package in `data`: `expect` (`--expect FILE`) or
/// `<data>/expected.jsonl`, and `<data>/manifest.json` if present. A missing expected
/// file is an error that says how to give one or to ask for a smoke run.
pub fn expectations(
    job: &str,
    data: &Path,
    expect: Option<&Path>,
) -> Result<Expectations, AppError> {
    let expected_file = match expect {
        Some(p) => p.to_path_buf(),
        None => data.join(EXPECTED_FILE),
    };
    if !expected_file.is_file() {
        let why = match expect {
            Some(p) => format!("--expect {}: no such file", p.display()),
            None => format!(
                "no expectations for job {job}: {} does not exist",
                expected_file.display()
            ),
        };
        return Err(AppError::User(format!(
            "{why}; write the rows every sink must receive there (formats/testdata.md), name another file with --expect FILE, or ask for a smoke run that checks nothing: weir test JOB --no-expect"
        )));
    }
    let rows = read_expected(&expected_file)?;
    let manifest_path = data.join(MANIFEST_FILE);
    let (manifest_file, manifest) = if manifest_path.exists() {
        let m = read_manifest(&manifest_path)?;
        (Some(manifest_path), m)
    } else {
        (None, Manifest::default())
    };
    Ok(Expectations {
        expected_file,
        rows,
        manifest_file,
        manifest,
    })
}

/// Reads and checks a manifest file; a bad one is refused with line and column.
pub fn read_manifest(path: &Path) -> Result<Manifest, AppError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::io(format!("cannot read {}", path.display()), e))?;
    serde_json::from_str(&text).map_err(|e| {
        AppError::User(format!(
            "{}:{}:{}: {e}; a test package's manifest is a JSON object such as {{\"late\": 1, \"dead_letters\": 0}} (formats/testdata.md)",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

/// A sink of the job that the test replaced with a capture sink: nothing was written to
/// its real target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapturedSink {
    pub sink: String,
    pub kind: &'static str,
}

/// Every sink of `job`, in job order: a test captures them all.
pub fn captured_sinks(job: &Job) -> Vec<CapturedSink> {
    job.nodes
        .iter()
        .filter(|n| n.role() == Role::Sink)
        .map(|n| CapturedSink {
            sink: n.id().to_string(),
            kind: n.kind(),
        })
        .collect()
}

/// What a test run may claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every expectation was checked and held.
    Passed,
    /// Some expectation did not hold: one line per reason.
    Failed(Vec<String>),
    /// No expectations were checked (`--no-expect`): the job ran, and that is all.
    Smoke,
}

impl Verdict {
    /// `passed`, `failed` or `smoke`, for `--json`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed(_) => "failed",
            Verdict::Smoke => "smoke",
        }
    }
}

/// Records one operator of a run dropped: as late, and to the dead-letter file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub node: String,
    pub late: u64,
    pub dead_letters: u64,
}

/// The records every operator of a run dropped, from its final counters.
pub fn dropped(metrics: &Snapshot) -> Vec<Dropped> {
    metrics
        .nodes
        .iter()
        .map(|n| Dropped {
            node: n.id.clone(),
            late: n.late,
            dead_letters: n.dead_letters,
        })
        .collect()
}

/// The verdict of a run against `expected` (`None`: a smoke run): each sink's rows, then
/// records dropped as late and dead-lettered, each compared with the manifest.
pub fn verdict(expected: Option<&Manifest>, diffs: &[SinkDiff], dropped: &[Dropped]) -> Verdict {
    let Some(manifest) = expected else {
        return Verdict::Smoke;
    };
    let mut reasons: Vec<String> = diffs
        .iter()
        .filter(|d| !d.ok())
        .map(|d| {
            format!(
                "sink `{}`: expected {} rows, received {} ({} missing, {} unexpected)",
                d.sink,
                d.expected,
                d.received,
                d.missing.len(),
                d.unexpected.len()
            )
        })
        .collect();
    // the total, and where: " (1 at `src`)"
    let counted = |what: fn(&Dropped) -> u64| {
        let total: u64 = dropped.iter().map(what).sum();
        let at: Vec<String> = dropped
            .iter()
            .filter(|d| what(d) > 0)
            .map(|d| format!("{} at `{}`", what(d), d.node))
            .collect();
        let at = if at.is_empty() {
            String::new()
        } else {
            format!(" ({})", at.join(", "))
        };
        (total, at)
    };
    let (late, late_at) = counted(|d| d.late);
    if late != manifest.late {
        reasons.push(format!(
            "{late} records dropped as late{late_at}; the package expects {} (`late` in its {MANIFEST_FILE}; a record more than its source's watermark_ms behind the newest is dropped)",
            manifest.late
        ));
    }
    let (dead, dead_at) = counted(|d| d.dead_letters);
    if dead != manifest.dead_letters {
        reasons.push(format!(
            "{dead} records dead-lettered{dead_at}; the package expects {} (`dead_letters` in its {MANIFEST_FILE})",
            manifest.dead_letters
        ));
    }
    if reasons.is_empty() {
        Verdict::Passed
    } else {
        Verdict::Failed(reasons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(late: u64) -> Vec<Dropped> {
        vec![Dropped {
            node: "src".into(),
            late,
            dead_letters: 0,
        }]
    }

    #[test]
    fn late_records_fail_unless_the_manifest_names_them() {
        let none = Manifest::default();
        let Verdict::Failed(reasons) = verdict(Some(&none), &[], &source(1)) else {
            panic!("one late record passed");
        };
        assert!(
            reasons[0].contains("1 records dropped as late (1 at `src`)"),
            "{reasons:?}"
        );
        let one = Manifest {
            late: 1,
            dead_letters: 0,
        };
        assert_eq!(verdict(Some(&one), &[], &source(1)), Verdict::Passed);
        // named but not dropped is a failure too
        assert!(matches!(
            verdict(Some(&one), &[], &source(0)),
            Verdict::Failed(_)
        ));
        assert_eq!(verdict(None, &[], &source(1)), Verdict::Smoke);
    }

    #[test]
    fn a_manifest_with_an_unknown_field_is_refused_with_its_place() {
        let dir = std::env::temp_dir().join(format!("weir-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(MANIFEST_FILE);
        std::fs::write(&path, "{\"late\": 1,\n \"lat\": 2}").unwrap();
        let err = read_manifest(&path).unwrap_err().to_string();
        assert!(err.contains(":2:"), "{err}");
        assert!(err.contains("unknown field `lat`"), "{err}");
        std::fs::write(&path, "{\"late\": 1}").unwrap();
        assert_eq!(read_manifest(&path).unwrap().late, 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
