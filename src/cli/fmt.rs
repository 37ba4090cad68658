//! `weir fmt [--check] FILE...`: rewrite job files canonically, or with `--check` report
//! the ones that are not (exit 1).

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use super::{Global, exit, print_json};
use crate::jobfile;

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Do not write; exit 1 if any file is not in canonical form.
    #[arg(long)]
    pub check: bool,
    /// Job files (RON) to format; a directory means every *.ron below it.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

enum Outcome {
    Canonical,
    Rewritten,
    NotCanonical,
}

pub fn run(global: &Global, args: &FmtArgs) -> i32 {
    let mut report = Vec::new();
    for path in &super::job_files(&args.files) {
        let name = path.display().to_string();
        let outcome = match format_one(path, &name, args.check) {
            Ok(o) => o,
            Err(d) => {
                if !global.json {
                    eprintln!("{}", d.render());
                }
                report.push(json!({ "file": name, "status": "error", "diagnostic": d }));
                continue;
            }
        };
        let status = match outcome {
            Outcome::Canonical => "canonical",
            Outcome::Rewritten => "formatted",
            Outcome::NotCanonical => "not-canonical",
        };
        if !global.json {
            match outcome {
                Outcome::Rewritten => outln!("formatted: {name}"),
                Outcome::NotCanonical => outln!("not canonical: {name} (run `weir fmt {name}`)"),
                _ => {}
            }
        }
        report.push(json!({ "file": name, "status": status }));
    }
    if global.json {
        print_json(&json!({ "files": report }));
    }
    let status = |s: &str| report.iter().any(|r| r["status"] == s);
    // fmt refusing to change a file's meaning is weir's fault, not the file's
    let bug = report.iter().any(|r| r["diagnostic"]["code"] == "fmt-bug");
    if bug {
        exit::INTERNAL
    } else if status("error") {
        exit::INVALID
    } else if status("not-canonical") {
        exit::CHECK_FAILED
    } else {
        exit::OK
    }
}

fn format_one(path: &Path, name: &str, check: bool) -> Result<Outcome, Box<jobfile::Diagnostic>> {
    // the reader every command uses: regular files only, at most MAX_JOB_FILE_BYTES
    let bytes = jobfile::read_job_file(path)?;
    let Ok(src) = std::str::from_utf8(&bytes) else {
        // check_bytes words the UTF-8 problem with its position
        let checked = jobfile::check_bytes(name, &bytes);
        return Err(Box::new(
            checked.diagnostics.into_iter().next().unwrap_or_else(|| {
                jobfile::Diagnostic::whole_file(
                    name,
                    "not-text",
                    "the file is not UTF-8 text".into(),
                    None,
                )
            }),
        ));
    };
    let formatted = jobfile::format_source(name, src)?;
    if formatted == src {
        return Ok(Outcome::Canonical);
    }
    if check {
        return Ok(Outcome::NotCanonical);
    }
    weir_model::fsutil::write_atomic(path, formatted)
        .map(|()| Outcome::Rewritten)
        .map_err(|e| {
            Box::new(jobfile::Diagnostic::whole_file(
                name,
                "unwritable",
                format!("cannot write the file: {e}"),
                None,
            ))
        })
}
