//! `weir validate FILE...`: every problem of every file, exit 0 when all are valid and 2
//! when any is not.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::{Global, exit, print_json};
use crate::jobfile::{self, Severity};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Job files (RON) to check; a directory means every *.ron below it.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(global: &Global, args: &ValidateArgs) -> i32 {
    let results: Vec<(String, jobfile::Checked)> = super::job_files(&args.files)
        .iter()
        .map(|f| (f.display().to_string(), weir_app::engine::check_file(f)))
        .collect();
    let invalid = results.iter().filter(|(_, c)| c.has_errors()).count();
    let count = |sev| {
        results
            .iter()
            .flat_map(|(_, c)| &c.diagnostics)
            .filter(|d| d.severity == sev)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    if global.json {
        let files: Vec<_> = results
            .iter()
            .map(|(f, c)| json!({ "file": f, "valid": !c.has_errors(), "diagnostics": c.diagnostics }))
            .collect();
        print_json(&json!({
            "files": files,
            "valid": invalid == 0,
            "errors": errors,
            "warnings": warnings,
        }));
    } else {
        for (file, checked) in &results {
            for d in &checked.diagnostics {
                eprintln!("{}", d.render());
            }
            if !checked.has_errors() {
                outln!("ok: {file}");
            }
        }
        let files = results.len();
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        let summary = format!(
            "{} checked: {} valid, {} invalid ({}, {})",
            plural(files, "file"),
            files - invalid,
            invalid,
            plural(errors, "error"),
            plural(warnings, "warning"),
        );
        if invalid > 0 {
            eprintln!("{summary}")
        } else {
            outln!("{summary}")
        }
    }
    if invalid > 0 { exit::INVALID } else { exit::OK }
}
