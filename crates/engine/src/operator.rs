//! The one trait every operator of a pipeline implements (SQL, ETL, windows, TopN …).
//! Sources and sinks are driven by the runtime; operators sit between them and are plain
//! synchronous state machines, so they can be tested without tokio or Kafka.
//!
//! Contract:
//! - `on_batch` receives a batch from input `input` (the position of the upstream in the
//!   job's edges into this node) and pushes zero or more result batches into `out`.
//! - `on_watermark` is called with the minimum watermark over all inputs, never
//!   decreasing; an operator emits whatever the watermark completes (e.g. windows whose
//!   end ≤ watermark) and must not emit them again.
//! - `snapshot` (a checkpoint barrier aligned over every input) returns the operator's
//!   state, `restore` takes it back before the first batch of a restored run, and
//!   `state_description` says what the state is made of (an upgrade compares them).
//!   Stateless operators keep the defaults.
//! - `close` is end of input: flush everything, as for a watermark of +∞.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::checkpoint::TaskState;
use crate::error::Result;

/// Event time in milliseconds since the Unix epoch (UTC). `i64::MAX` is end of input.
pub type Watermark = i64;

/// A table an operator reads: one input of a transform node, as its upstream emits it.
#[derive(Debug, Clone)]
pub struct InputTable {
    /// The table name a query uses (the upstream's table name, or its node id).
    pub name: String,
    /// The input's columns (event time as `Timestamp(Millisecond, None)`).
    pub schema: SchemaRef,
    /// The event-time column, if the input has event time (`Timestamp(Millisecond)`).
    pub event_time: Option<String>,
}

pub trait Operator: Send {
    /// A short name for metrics and errors (the node id).
    fn name(&self) -> &str;
    /// The schema of every batch this operator emits.
    fn schema(&self) -> SchemaRef;
    fn start(&mut self) -> Result<()> {
        Ok(())
    }
    fn on_batch(
        &mut self,
        input: usize,
        batch: RecordBatch,
        out: &mut Vec<RecordBatch>,
    ) -> Result<()>;
    fn on_watermark(&mut self, watermark: Watermark, out: &mut Vec<RecordBatch>) -> Result<()>;
    /// The state to save in a checkpoint (a barrier aligned over every input); the
    /// default has none.
    fn snapshot(&mut self) -> Result<TaskState> {
        Ok(TaskState::default())
    }
    /// Takes back what [`Operator::snapshot`] saved, before the first batch.
    fn restore(&mut self, state: &TaskState) -> Result<()> {
        if state.files.is_empty() {
            Ok(())
        } else {
            Err(crate::EngineError::Config(format!(
                "operator `{}` keeps no state, but the checkpoint holds state for it",
                self.name()
            )))
        }
    }
    /// What the state is made of (keys, aggregates, window), compared by an upgrade;
    /// Null when the operator keeps none.
    fn state_description(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// The watermark at which everything this operator holds now (rows received but not
    /// emitted yet, e.g. open windows) will have been emitted; None when it holds nothing.
    /// Commit marks wait for it, so an operator that keeps rows must say so here.
    fn held_until(&self) -> Option<Watermark> {
        None
    }
    /// Rows this operator dropped as late so far (behind its own watermark); shown in the
    /// metrics beside the sources' late drops.
    fn late_rows(&self) -> u64 {
        0
    }
    fn close(&mut self, out: &mut Vec<RecordBatch>) -> Result<()>;
}
