//! Dead-letter files: records a source could not decode and rows a sink could not
//! write, one JSON line each `{run, partition, offset, reason, payload}` (a reason about
//! one field of the record starts with the field's name), under
//! `<project>/.weir/deadletter/<job>/<node>.jsonl`. Every run appends to the same file
//! and names itself in `run`; lines are written whole, and a torn last line left by a
//! killed run is cut off before the next run appends ([`crate::sink::lines`]). Writing
//! one never stops the job.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::json;

/// An append-only dead-letter file, opened on first use.
#[derive(Debug)]
pub struct DeadLetter {
    path: PathBuf,
    run: String,
    file: Mutex<Option<File>>,
}

/// A new run id: the UTC start time and the process id (`2026-12-07T15:30:00.123Z-4242`).
pub fn new_run_id() -> String {
    let now = crate::source::now_ms();
    format!(
        "{}Z-{}",
        crate::rows::format_ts_ms(now).replace(' ', "T"),
        std::process::id()
    )
}

/// Where the dead letters of `node` in `job` under `project` go.
pub fn path_of(project: &Path, job: &str, node: &str) -> PathBuf {
    project
        .join(".weir")
        .join("deadletter")
        .join(job)
        .join(format!("{node}.jsonl"))
}

impl DeadLetter {
    /// The dead-letter file of `node` in `job` under `project`, for a run of its own.
    pub fn for_node(project: &Path, job: &str, node: &str) -> Self {
        Self::for_run(project, job, node, &new_run_id())
    }

    /// The dead-letter file of `node` in `job` under `project`, for the run `run`.
    pub fn for_run(project: &Path, job: &str, node: &str, run: &str) -> Self {
        DeadLetter {
            path: path_of(project, job, node),
            run: run.to_string(),
            file: Mutex::new(None),
        }
    }

    /// Where the file is (it may not exist yet).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry; the payload is written as text when it is UTF-8.
    pub fn write(&self, partition: Option<i32>, offset: Option<i64>, reason: &str, payload: &[u8]) {
        let payload = match std::str::from_utf8(payload) {
            Ok(s) => json!(s),
            Err(_) => json!(payload),
        };
        let line = json!({
            "run": self.run,
            "partition": partition,
            "offset": offset,
            "reason": reason,
            "payload": payload,
        });
        let mut text = line.to_string();
        text.push('\n');
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        if guard.is_none() {
            if let Some(dir) = self.path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            match crate::sink::lines::open(&self.path) {
                Ok(opened) => {
                    crate::sink::lines::report_torn("dead-letter file", &self.path, opened.torn);
                    *guard = Some(opened.file);
                }
                Err(e) => {
                    tracing::warn!("dead-letter file {}: {e}", self.path.display());
                    return;
                }
            }
        }
        if let Some(f) = guard.as_mut()
            && let Err(e) = f.write_all(text.as_bytes())
        {
            tracing::warn!("dead-letter file {}: {e}", self.path.display());
        }
    }
}
