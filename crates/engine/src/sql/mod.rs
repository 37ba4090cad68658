//! The SQL operator: Flink streaming SQL run on DataFusion. Stateless queries
//! (projection, filter, scalar functions) run per batch; window table functions
//! (TUMBLE, HOP, CUMULATE, SESSION) with GROUP BY window_start, window_end keep partial
//! aggregates per window and emit when the watermark passes the window end; a
//! `ROW_NUMBER() OVER (PARTITION BY window_start, window_end ...)` over fixed windows
//! gives per-window TopN. The legacy `GROUP BY TUMBLE(ts, ...)` group windows run as
//! their table function form. Everything else is refused with [`EngineError::Unsupported`].
//!
//! - `rewrite.rs`: the SQL text → DataFusion statements (window TVF → plain table) and
//!   refusals found in the syntax; `tvf.rs`: a window TVF's arguments; `legacy.rs`: the
//!   legacy group windows; `interval.rs`: interval literals;
//! - `planner.rs`: DataFusion planning and the cut of the plan into stages;
//! - `window.rs`: window assignment and batch expansion;
//! - `stage.rs`, `feed.rs`: running plan fragments per batch / per firing;
//! - `aggregate.rs`: the per-window group state; `session.rs`: the session state;
//! - `operator.rs`: [`SqlOperator`], the [`crate::Operator`];
//! - `errors.rs`: refusals in the user's words (no internal names) and where in the
//!   query they point.

mod aggregate;
pub(crate) mod errors;
mod feed;
mod interval;
mod legacy;
mod operator;
mod planner;
mod rewrite;
mod session;
mod stage;
mod tvf;
pub mod window;

use arrow::datatypes::SchemaRef;

/// The tables a query reads (defined with the operator trait; re-exported here for callers
/// that plan SQL directly).
pub use crate::operator::InputTable;
pub use operator::SqlOperator;
pub use window::{WINDOW_COLUMNS, WindowKind, WindowSpec};

use std::ops::Range;

use crate::error::{EngineError, Result};
use crate::operator::Operator;

/// Plan the node's query once; returns a ready operator (input index i = inputs[i]).
pub fn plan(node_id: &str, query: &str, inputs: &[InputTable]) -> Result<Box<dyn Operator>> {
    Ok(Box::new(
        SqlOperator::new(node_id, query, inputs).map_err(errors::in_user_words)?,
    ))
}

/// Validation without running: the output schema, or an error naming the unsupported construct.
pub fn check(query: &str, inputs: &[InputTable]) -> Result<SchemaRef> {
    check_located(query, inputs).map_err(|r| r.error)
}

/// A query the engine refuses: the error in the user's words, and the byte range of the
/// query it is about when that can be told.
#[derive(Debug)]
pub struct Refusal {
    pub error: EngineError,
    pub at: Option<Range<usize>>,
}

/// [`check`], with where in `query` the refusal points.
pub fn check_located(
    query: &str,
    inputs: &[InputTable],
) -> std::result::Result<SchemaRef, Refusal> {
    match planner::plan_query(query, inputs) {
        Ok(planned) => Ok(planned.schema),
        Err(e) => {
            let at = errors::locate(query, &e);
            Err(Refusal {
                error: errors::in_user_words(e),
                at,
            })
        }
    }
}
