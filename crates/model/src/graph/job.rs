//! The graph of a job: its operators as nodes and its edges by index, for checks and
//! drawing. Edges that name unknown nodes are left out (validation reports them).

use std::collections::HashMap;

use super::{Graph, GraphNode};
use crate::model::Job;

pub fn job_graph(job: &Job) -> Graph {
    let index: HashMap<&str, usize> = job
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id(), i))
        .collect();
    Graph {
        nodes: job
            .nodes
            .iter()
            .map(|n| GraphNode::new(n.id(), n.kind()))
            .collect(),
        edges: job
            .edges
            .iter()
            .filter_map(|(a, b)| Some((*index.get(a.as_str())?, *index.get(b.as_str())?)))
            .collect(),
    }
}
