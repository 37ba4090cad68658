//! Transform operators of a pipeline: the SQL operator (crate::sql) for `Sql` nodes, and a
//! passthrough used by benchmarks and by tests that do not exercise SQL.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use weir_model::model::Node;

use crate::error::{EngineError, Result};
use crate::operator::{InputTable, Operator, Watermark};
use crate::pipeline::Planner;

/// Forwards every batch of its first input unchanged.
pub struct Passthrough {
    name: String,
    schema: SchemaRef,
}

impl Passthrough {
    /// A passthrough named `name` emitting `schema`.
    pub fn new(name: &str, schema: SchemaRef) -> Self {
        Passthrough {
            name: name.to_string(),
            schema,
        }
    }
}

impl Operator for Passthrough {
    fn name(&self) -> &str {
        &self.name
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn on_batch(
        &mut self,
        _input: usize,
        batch: RecordBatch,
        out: &mut Vec<RecordBatch>,
    ) -> Result<()> {
        out.push(batch);
        Ok(())
    }
    fn on_watermark(&mut self, _w: Watermark, _out: &mut Vec<RecordBatch>) -> Result<()> {
        Ok(())
    }
    fn close(&mut self, _out: &mut Vec<RecordBatch>) -> Result<()> {
        Ok(())
    }
}

/// Every transform becomes a passthrough of its first input.
pub fn passthrough_planner() -> Planner {
    Arc::new(
        |node: &Node, inputs: &[InputTable]| -> Result<Box<dyn Operator>> {
            let first = inputs
                .first()
                .ok_or_else(|| EngineError::Plan(format!("{}: no input", node.id())))?;
            Ok(Box::new(Passthrough::new(node.id(), first.schema.clone())))
        },
    )
}

/// The planner of real runs: `Sql` nodes by the SQL operator, other kinds unsupported.
pub fn default_planner() -> Planner {
    Arc::new(
        |node: &Node, inputs: &[InputTable]| -> Result<Box<dyn Operator>> {
            match node {
                Node::Sql(s) => crate::sql::plan(&s.id, &s.query, inputs),
                other => Err(EngineError::unsupported(
                    format!("{} operator `{}`", other.kind(), other.id()),
                    Some("the engine runs Sql transforms so far"),
                )),
            }
        },
    )
}
