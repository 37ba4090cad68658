//! Dead-letter files: records a source could not decode and rows a sink could not
//! write, one JSON line each `{partition, offset, reason, payload}`, under
//! `<project>/.weir/deadletter/<job>/<node>.jsonl`. Writing one never stops the job.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::json;

/// An append-only dead-letter file, opened on first use.
#[derive(Debug)]
pub struct DeadLetter {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl DeadLetter {
    /// The dead-letter file of `node` in `job` under `project`.
    pub fn for_node(project: &Path, job: &str, node: &str) -> Self {
        let path = project
            .join(".weir")
            .join("deadletter")
            .join(job)
            .join(format!("{node}.jsonl"));
        DeadLetter {
            path,
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
        let line = json!({ "partition": partition, "offset": offset, "reason": reason, "payload": payload });
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        if guard.is_none() {
            if let Some(dir) = self.path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            match OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
            {
                Ok(f) => *guard = Some(f),
                Err(e) => {
                    tracing::warn!("dead-letter file {}: {e}", self.path.display());
                    return;
                }
            }
        }
        if let Some(f) = guard.as_mut()
            && let Err(e) = writeln!(f, "{line}")
        {
            tracing::warn!("dead-letter file {}: {e}", self.path.display());
        }
    }
}
