//! Every shipped example (jobs/*.ron) validates without warnings, is in canonical form,
//! survives parse → print → parse unchanged, and draws the same graph as its snapshot.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use weir::graph::{self, render::Charset};
use weir::jobfile;

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("jobs")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "jobs/ holds no examples");
    files
}

#[test]
fn examples_are_valid_and_canonical() {
    for path in examples() {
        let checked = jobfile::check_file(&path);
        let report: Vec<String> = checked.diagnostics.iter().map(|d| d.render()).collect();
        assert!(
            checked.diagnostics.is_empty(),
            "{}:\n{}",
            path.display(),
            report.join("\n")
        );
        let src = std::fs::read_to_string(&path).unwrap();
        let formatted = jobfile::format_source(&path.display().to_string(), &src).unwrap();
        assert_eq!(
            formatted,
            src,
            "{} is not canonical: run `weir fmt {}`",
            path.display(),
            path.display()
        );
    }
}

#[test]
fn examples_round_trip() {
    for path in examples() {
        let job = jobfile::check_file(&path).job.unwrap();
        let printed = jobfile::to_ron(&job);
        let again = jobfile::check_source("printed.ron", &printed);
        assert_eq!(
            again.job.as_ref(),
            Some(&job),
            "{} changed through print → parse:\n{printed}",
            path.display()
        );
        assert!(
            !again.has_errors(),
            "printed form of {} is invalid",
            path.display()
        );
    }
}

#[test]
fn example_graphs() {
    for path in examples() {
        let job = jobfile::check_file(&path).job.unwrap();
        let layout = graph::layout::layout(&graph::job_graph(&job));
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let unicode = graph::render::render(&layout, Charset::Unicode);
        let ascii = graph::render::render(&layout, Charset::Ascii);
        for line in unicode.lines() {
            assert!(
                line.chars().count() <= 80,
                "{stem}: graph wider than 80 columns:\n{unicode}"
            );
        }
        insta::assert_snapshot!(format!("{stem}_unicode"), unicode);
        insta::assert_snapshot!(format!("{stem}_ascii"), ascii);
    }
}
