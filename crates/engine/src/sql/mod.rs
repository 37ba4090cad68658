//! The SQL operator: Flink streaming SQL run on DataFusion. Stateless queries
//! (projection, filter, scalar functions) run per batch; window table functions
//! (TUMBLE, HOP, CUMULATE) with GROUP BY window_start, window_end keep partial
//! aggregates per window and emit when the watermark passes the window end; a
//! `ROW_NUMBER() OVER (PARTITION BY window_start, window_end ...)` over that gives
//! per-window TopN. Everything else is refused with [`EngineError::Unsupported`].
//!
//! - `rewrite.rs`: the SQL text → DataFusion statements (window TVF → plain table) and
//!   refusals found in the syntax; `interval.rs`: interval literals;
//! - `planner.rs`: DataFusion planning and the cut of the plan into stages;
//! - `window.rs`: window assignment and batch expansion;
//! - `stage.rs`, `feed.rs`: running plan fragments per batch / per firing;
//! - `aggregate.rs`: the per-window group state;
//! - `operator.rs`: [`SqlOperator`], the [`crate::Operator`].

mod aggregate;
mod feed;
mod interval;
mod operator;
mod planner;
mod rewrite;
mod stage;
pub mod window;

use arrow::datatypes::SchemaRef;

/// The tables a query reads (defined with the operator trait; re-exported here for callers
/// that plan SQL directly).
pub use crate::operator::InputTable;
pub use operator::SqlOperator;
pub use window::{WINDOW_COLUMNS, WindowKind, WindowSpec};

#[cfg(doc)]
use crate::error::EngineError;
use crate::error::Result;
use crate::operator::Operator;

/// Plan the node's query once; returns a ready operator (input index i = inputs[i]).
pub fn plan(node_id: &str, query: &str, inputs: &[InputTable]) -> Result<Box<dyn Operator>> {
    Ok(Box::new(SqlOperator::new(node_id, query, inputs)?))
}

/// Validation without running: the output schema, or an error naming the unsupported construct.
pub fn check(query: &str, inputs: &[InputTable]) -> Result<SchemaRef> {
    Ok(planner::plan_query(query, inputs)?.schema)
}
