//! Job-graph checks and drawing.
//!
//! - [`dag`]: cycle detection, topological order and longest-path layers on plain
//!   `(node_count, edges)` input;
//! - [`layout`]: a layered top-to-bottom layout of a [`Graph`] as plain data (boxes and
//!   orthogonal edge polylines in character cells), shared by the CLI and the TUI editor;
//! - [`render`]: turns a [`layout::Layout`] into text, Unicode box drawing or ASCII.
//!
//! Typical use: `render::render(&layout::layout(&graph), render::Charset::Unicode)`.

pub mod dag;
pub mod job;
pub use job::job_graph;
pub mod layout;
pub mod render;
#[cfg(test)]
mod testutil;

/// A graph to check or draw: nodes in file order, edges as (from, to) indices into `nodes`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<(usize, usize)>,
}

/// One operator of a job: its unique id and its kind (`KafkaSource`, `Sql`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphNode {
    pub id: String,
    pub kind: String,
}

impl GraphNode {
    /// Convenience constructor.
    pub fn new(id: impl Into<String>, kind: impl Into<String>) -> Self {
        GraphNode {
            id: id.into(),
            kind: kind.into(),
        }
    }
}
