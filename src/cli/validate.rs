//! `weir validate FILE...`: every problem of every file, exit 0 when all are valid and 2
//! when any is not. Offline, a Kafka source must declare its `fields`. With a store
//! (`weir validate --store FILE...` for the project's store, `--store PATH FILE...` or
//! `WEIR_STORE` for another), a source that names a topic of
//! the catalog takes its fields and format from there, and every difference between the
//! fields a job declares and the catalog's is a warning at its place in the file.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::{Global, exit, print_json};
use crate::jobfile::{self, Severity};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Job files (RON) to check; a directory means every *.ron below it.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also say, for each valid job, how it checkpoints and what each sink guarantees
    /// across a crash (at least once, idempotent, exactly once).
    #[arg(long)]
    pub explain: bool,
}

/// What `--explain` says of one valid job: its checkpoint interval and each sink's delivery.
fn explain(checked: &jobfile::Checked) -> Option<serde_json::Value> {
    let job = checked.job.as_ref().filter(|_| !checked.has_errors())?;
    let sinks: Vec<_> = weir_app::engine::sink_deliveries(job)
        .into_iter()
        .map(|(node, delivery, how)| json!({ "node": node, "delivery": delivery, "how": how }))
        .collect();
    Some(json!({ "checkpoint_interval_ms": job.config.checkpoint_interval_ms, "sinks": sinks }))
}

pub fn run(global: &Global, args: &ValidateArgs) -> i32 {
    // `--store` is the global flag with a value. Written bare before the job files
    // (`weir validate --store jobs/x.ron`), clap takes the first file for the store: a
    // job file or a folder is never a store, so it is given back to the files and the
    // project's own store is the catalog.
    let mut files = args.files.clone();
    let store = match &global.store {
        Some(p) if p.extension().is_some_and(|e| e == "ron") || p.is_dir() => {
            files.insert(0, p.clone());
            Some(None)
        }
        Some(p) => Some(Some(p.as_path())),
        None => None,
    };
    if files.is_empty() {
        return super::fail(
            global,
            &weir_app::AppError::User(
                "no job files given; name files or folders: weir validate jobs/".into(),
            ),
        );
    }
    let catalog = match store {
        None => None,
        Some(store) => match weir_app::jobs::schema::catalog(store) {
            Ok(topics) => Some(topics),
            Err(e) => return super::fail(global, &e),
        },
    };
    let results: Vec<(String, jobfile::Checked)> = super::job_files(&files)
        .iter()
        .map(|f| {
            let checked = weir_app::jobs::schema::check_file(f, catalog.as_deref());
            (f.display().to_string(), checked)
        })
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
            .map(|(f, c)| {
                let mut v =
                    json!({ "file": f, "valid": !c.has_errors(), "diagnostics": c.diagnostics });
                if args.explain {
                    v["explain"] = explain(c).unwrap_or(serde_json::Value::Null);
                }
                v
            })
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
            if let Some(e) = explain(checked).filter(|_| args.explain) {
                let every = e["checkpoint_interval_ms"].as_u64().unwrap_or(0);
                if every == 0 {
                    outln!(
                        "  checkpoints: off (a restart re-reads from the committed offsets; sinks are at least once)"
                    );
                } else {
                    outln!("  checkpoints: every {every} ms");
                }
                for s in e["sinks"].as_array().into_iter().flatten() {
                    outln!(
                        "  sink {}: {}",
                        s["node"].as_str().unwrap_or_default(),
                        s["how"].as_str().unwrap_or_default()
                    );
                }
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
