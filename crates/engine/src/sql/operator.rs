//! `SqlOperator`: the planned query as an [`Operator`]. Event time, lateness and window
//! firing follow Flink: a row with an event time before the last watermark is late and
//! dropped (counted); a window `[start, end)` fires once, when the watermark reaches `end`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::InputTable;
use super::planner::{Planned, Shape, plan_query};
use super::window::Windowing;
use crate::checkpoint::compat::{self, Compat};
use crate::checkpoint::{TaskState, ipc};
use crate::error::{EngineError, Result};
use crate::operator::{Operator, Watermark};

/// A SQL operator node, planned once.
pub struct SqlOperator {
    name: String,
    planned: Planned,
    watermark: Watermark,
    late: Arc<AtomicU64>,
    null_time: u64,
}

impl SqlOperator {
    /// Plan `query` over `inputs` for the node `node_id`.
    pub fn new(node_id: &str, query: &str, inputs: &[InputTable]) -> Result<Self> {
        let planned = plan_query(query, inputs).map_err(|e| match e {
            EngineError::Plan(m) => EngineError::Plan(format!("SQL operator `{node_id}`: {m}")),
            other => other,
        })?;
        Ok(SqlOperator {
            name: node_id.to_string(),
            planned,
            watermark: Watermark::MIN,
            late: Arc::new(AtomicU64::new(0)),
            null_time: 0,
        })
    }

    /// Rows dropped because their event time was before the watermark.
    pub fn late_rows(&self) -> u64 {
        self.late.load(Ordering::Relaxed)
    }

    /// The late-row counter, to read after the operator is boxed (metrics).
    pub fn late_rows_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.late)
    }

    /// Rows dropped because their event-time column was null.
    pub fn null_time_rows(&self) -> u64 {
        self.null_time
    }

    /// Windows holding state (not fired yet).
    pub fn open_windows(&self) -> usize {
        match &self.planned.shape {
            Shape::Windowed { aggregate, .. } => aggregate.open_windows(),
            Shape::Stateless(_) => 0,
        }
    }

    /// The index (into the `inputs` given at planning) of the input the query reads;
    /// batches from other inputs are ignored.
    pub fn input_index(&self) -> usize {
        self.planned.input_index
    }

    /// Whether the per-batch part runs as direct expression evaluation.
    pub fn is_direct(&self) -> bool {
        match &self.planned.shape {
            Shape::Stateless(s) => s.is_direct(),
            Shape::Windowed { lower, .. } => lower.is_direct(),
        }
    }

    fn check_schema(&self, batch: &RecordBatch) -> Result<()> {
        let want = &self.planned.input_schema;
        let got = batch.schema();
        if Arc::ptr_eq(want, &got) {
            return Ok(());
        }
        let same = want.fields().len() == got.fields().len()
            && want
                .fields()
                .iter()
                .zip(got.fields())
                .all(|(a, b)| a.data_type() == b.data_type());
        if same {
            Ok(())
        } else {
            Err(EngineError::Plan(format!(
                "SQL operator `{}`: a batch does not have the input's schema (expected {:?}, got {:?})",
                self.name,
                want.fields()
                    .iter()
                    .map(|f| format!("{} {}", f.name(), f.data_type()))
                    .collect::<Vec<_>>(),
                got.fields()
                    .iter()
                    .map(|f| format!("{} {}", f.name(), f.data_type()))
                    .collect::<Vec<_>>(),
            )))
        }
    }
}

impl Operator for SqlOperator {
    fn name(&self) -> &str {
        &self.name
    }

    fn late_rows(&self) -> u64 {
        SqlOperator::late_rows(self)
    }

    fn held_until(&self) -> Option<Watermark> {
        match &self.planned.shape {
            Shape::Windowed { aggregate, .. } => aggregate.last_window_end(),
            Shape::Stateless(_) => None,
        }
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.planned.schema)
    }

    fn on_batch(
        &mut self,
        input: usize,
        batch: RecordBatch,
        out: &mut Vec<RecordBatch>,
    ) -> Result<()> {
        if input != self.planned.input_index || batch.num_rows() == 0 {
            return Ok(());
        }
        self.check_schema(&batch)?;
        let batch = match &self.planned.expander {
            Some(expander) => {
                let (expanded, dropped) = expander.expand(&batch, self.watermark)?;
                if dropped.late > 0 {
                    self.late.fetch_add(dropped.late, Ordering::Relaxed);
                }
                self.null_time += dropped.null_time;
                expanded
            }
            None => batch,
        };
        if batch.num_rows() == 0 {
            return Ok(());
        }
        match &mut self.planned.shape {
            Shape::Stateless(stage) => out.extend(stage.run(vec![batch])?),
            Shape::Windowed {
                lower, aggregate, ..
            } => {
                for b in lower.run(vec![batch])? {
                    aggregate.update(&b)?;
                }
            }
        }
        Ok(())
    }

    fn on_watermark(&mut self, watermark: Watermark, out: &mut Vec<RecordBatch>) -> Result<()> {
        if watermark <= self.watermark {
            return Ok(());
        }
        self.watermark = watermark;
        if let Shape::Windowed {
            aggregate, upper, ..
        } = &mut self.planned.shape
        {
            let fired = aggregate.fire(watermark)?;
            if !fired.is_empty() {
                out.extend(upper.run(fired)?);
            }
        }
        Ok(())
    }

    fn close(&mut self, out: &mut Vec<RecordBatch>) -> Result<()> {
        self.on_watermark(Watermark::MAX, out)
    }

    fn snapshot(&mut self) -> Result<TaskState> {
        let mut meta = serde_json::json!({
            "watermark": self.watermark,
            "late": self.late_rows(),
            "null_time": self.null_time,
            "state": self.state_description(),
        });
        let mut files = std::collections::BTreeMap::new();
        if let Shape::Windowed { aggregate, .. } = &mut self.planned.shape {
            meta["fired_up_to"] = aggregate.fired_up_to().into();
            if let Some(bytes) = ipc::encode(&aggregate.snapshot()?)? {
                files.insert(WINDOWS.to_string(), bytes);
            }
        }
        Ok(TaskState { meta, files })
    }

    fn restore(&mut self, state: &TaskState) -> Result<()> {
        let what = format!("the saved state of operator `{}`", self.name);
        if let Some(old) = state.meta.get("state")
            && let Compat::Incompatible(why) =
                compat::compare(&self.name, old, &self.state_description())
        {
            return Err(EngineError::Config(format!(
                "{what} does not fit this job: {why}"
            )));
        }
        if let Some(w) = state.meta.get("watermark").and_then(|w| w.as_i64()) {
            self.watermark = w;
        }
        if let Some(n) = state.meta.get("late").and_then(|w| w.as_u64()) {
            self.late.store(n, Ordering::Relaxed);
        }
        if let Some(n) = state.meta.get("null_time").and_then(|w| w.as_u64()) {
            self.null_time = n;
        }
        match &mut self.planned.shape {
            Shape::Windowed { aggregate, .. } => {
                let batches = match state.files.get(WINDOWS) {
                    Some(bytes) => ipc::decode(bytes, &what)?,
                    None => Vec::new(),
                };
                let fired = state
                    .meta
                    .get("fired_up_to")
                    .and_then(|w| w.as_i64())
                    .unwrap_or(i64::MIN);
                aggregate.restore(&batches, fired, &what)
            }
            Shape::Stateless(_) if !state.files.is_empty() => Err(EngineError::Config(format!(
                "{what} holds windows, but this query keeps none"
            ))),
            Shape::Stateless(_) => Ok(()),
        }
    }

    fn state_description(&self) -> serde_json::Value {
        let output: Vec<[String; 2]> = self
            .planned
            .schema
            .fields()
            .iter()
            .map(|f| [f.name().clone(), f.data_type().to_string()])
            .collect();
        match &self.planned.shape {
            Shape::Stateless(_) => serde_json::json!({ "shape": "stateless", "output": output }),
            Shape::Windowed { aggregate, .. } => {
                let (keys, aggregates) = aggregate.describe();
                let window = self.planned.expander.as_ref().map(|e| match &e.windowing {
                    Windowing::Fixed(spec) => compat::window_json(spec),
                    // the gap shows as the size: an upgrade that changes it is refused
                    Windowing::Session { gap, .. } => serde_json::json!({
                        "kind": "SESSION", "size_ms": gap, "step_ms": null, "offset_ms": 0
                    }),
                });
                serde_json::json!({
                    "shape": "windowed",
                    "keys": keys,
                    "aggregates": aggregates,
                    "window": window,
                    "output": output,
                })
            }
        }
    }
}

/// The file of a windowed query's open windows in a checkpoint.
const WINDOWS: &str = "windows.arrow";
