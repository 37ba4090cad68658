//! The write-ahead side of a transactional sink ([`super::Delivery::Transactional`]):
//! rows are held per epoch (the rows between two barriers belong to the checkpoint of
//! the second), saved in each checkpoint as Arrow IPC (`epoch-<id>.arrow`), and written
//! by the sink when a checkpoint completes, with the checkpoint's id as the commit marker
//! under `<lineage>/<node>` in the same transaction. Restoring a checkpoint writes the
//! epochs it holds that the marker says were not written yet: a crash between a
//! checkpoint's completion and the sink's commit loses nothing and duplicates nothing.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use arrow::record_batch::RecordBatch;

use super::Sink;
use crate::checkpoint::{TaskCheckpoint, TaskState, ipc};
use crate::error::{EngineError, Result};
use crate::metrics::NodeMetrics;

/// The epoch of rows that came after the last barrier of a drained run.
const FINAL: u64 = u64::MAX;

pub struct WriteAhead {
    /// The commit marker's key: `<lineage>/<node>`.
    key: String,
    current: Vec<RecordBatch>,
    pending: BTreeMap<u64, Vec<RecordBatch>>,
}

fn file_of(epoch: u64) -> String {
    if epoch == FINAL {
        "epoch-final.arrow".into()
    } else {
        format!("epoch-{epoch}.arrow")
    }
}

fn epoch_of(file: &str) -> Option<u64> {
    let id = file.strip_prefix("epoch-")?.strip_suffix(".arrow")?;
    if id == "final" {
        Some(FINAL)
    } else {
        id.parse().ok()
    }
}

impl WriteAhead {
    pub fn new(task: &TaskCheckpoint) -> Self {
        let node = task.name.strip_prefix("sink/").unwrap_or(&task.name);
        WriteAhead {
            key: format!("{}/{node}", task.coord.lineage()),
            current: Vec::new(),
            pending: BTreeMap::new(),
        }
    }

    /// Writes what the restored checkpoint held for this sink and the sink's marker says
    /// was not written yet.
    pub async fn restore(&mut self, sink: &mut dyn Sink, task: &TaskCheckpoint) -> Result<()> {
        let (Some(state), Some(restored)) = (task.restored(), task.coord.restored()) else {
            return Ok(());
        };
        let id = restored.manifest.id;
        let mut epochs: BTreeMap<u64, Vec<RecordBatch>> = BTreeMap::new();
        for (file, bytes) in &state.files {
            let epoch = epoch_of(file).ok_or_else(|| {
                EngineError::Config(format!(
                    "{} of {}: `{file}` is not a sink epoch file",
                    task.name, restored.dir
                ))
            })?;
            let what = format!("{}/{file} of {}", task.name, restored.dir);
            // the rows after the last barrier of a drained run belong to this checkpoint
            let epoch = if epoch == FINAL { id } else { epoch };
            epochs
                .entry(epoch)
                .or_default()
                .extend(ipc::decode(bytes, &what)?);
        }
        // the restored epochs belong to the line of checkpoints that sealed them (another
        // one when this run forked from a savepoint): its marker says what was written
        let node = task.name.strip_prefix("sink/").unwrap_or(&task.name);
        let key = format!("{}/{node}", restored.manifest.lineage);
        let committed = sink.committed_epoch(&key).await?;
        let batches: Vec<RecordBatch> = epochs
            .into_iter()
            .filter(|(e, _)| *e > committed)
            .flat_map(|(_, b)| b)
            .collect();
        if !batches.is_empty() {
            sink.commit_epoch(&key, id, batches).await?;
        }

        Ok(())
    }

    /// Holds a batch for the current epoch.
    pub fn hold(&mut self, batch: RecordBatch) {
        if batch.num_rows() > 0 {
            self.current.push(batch);
        }
    }

    /// The rows held so far belong to checkpoint `id`.
    pub fn seal(&mut self, id: u64) {
        if !self.current.is_empty() {
            self.pending
                .entry(id)
                .or_default()
                .append(&mut self.current);
        }
    }

    /// Every sealed epoch not written yet, as the sink's checkpoint state.
    pub fn state(&self) -> Result<TaskState> {
        let mut files = BTreeMap::new();
        let mut rows = 0usize;
        for (epoch, batches) in &self.pending {
            rows += batches.iter().map(RecordBatch::num_rows).sum::<usize>();
            if let Some(bytes) = ipc::encode(batches)? {
                files.insert(file_of(*epoch), bytes);
            }
        }
        let meta = serde_json::json!({ "pending_rows": rows, "epochs": self.pending.keys().collect::<Vec<_>>() });
        Ok(TaskState { meta, files })
    }

    /// Writes the epochs up to `up_to` with `marker` as the last committed id.
    pub async fn commit(
        &mut self,
        sink: &mut dyn Sink,
        up_to: u64,
        marker: u64,
        metrics: &NodeMetrics,
    ) -> Result<()> {
        let later = match up_to.checked_add(1) {
            Some(next) => self.pending.split_off(&next),
            None => BTreeMap::new(),
        };
        let due = std::mem::replace(&mut self.pending, later);
        let batches: Vec<RecordBatch> = due.into_values().flatten().collect();
        if batches.is_empty() {
            return Ok(());
        }
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        for b in &batches {
            metrics.record_latency(b);
        }
        sink.commit_epoch(&self.key, marker, batches).await?;
        metrics.records_out.fetch_add(rows as u64, Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_files_name_their_epoch() {
        assert_eq!(epoch_of(&file_of(7)), Some(7));
        assert_eq!(epoch_of(&file_of(FINAL)), Some(FINAL));
        assert_eq!(epoch_of("windows.arrow"), None);
    }
}
