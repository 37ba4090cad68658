//! Applying a diff to the job it was computed from: `diff(a, b).apply(a)` is `b`. Like a
//! patch, every change states what it expects to find (the removed node, a parameter's
//! old value, the removed edge), and applying it to another job fails on the first
//! mismatch instead of guessing.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use thiserror::Error;

use super::graph::{self, Edge};
use super::params::{self, ApplyProblem};
use super::{JobDiff, NodeChange, ParamChange};
use crate::Fault;
use crate::model::{Job, Node};

/// Why a diff does not apply to a job.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ApplyError {
    #[error(
        "node `{id}` is not in the job; apply a diff to the job it was computed from (its A side)"
    )]
    MissingNode { id: String },
    #[error(
        "node `{id}` is a {found} in the job but a {expected} in the diff; apply a diff to the job it was computed from"
    )]
    KindMismatch {
        id: String,
        expected: String,
        found: String,
    },
    #[error(
        "the diff adds node `{id}`, but the job already has a node with that id; apply a diff to the job it was computed from"
    )]
    NodeExists { id: String },
    #[error(
        "the diff removes node `{id}`, but the job's node `{id}` differs from it; apply a diff to the job it was computed from"
    )]
    RemovedNodeDiffers { id: String },
    #[error(
        "the job repeats node id `{id}`; a diff pairs nodes by id, so give each node its own id (`weir validate` shows where)"
    )]
    DuplicateId { id: String },
    #[error(
        "{at}: `{path}` is {found} but the diff expects {expected}; apply a diff to the job it was computed from"
    )]
    Conflict {
        at: String,
        path: String,
        expected: String,
        found: String,
    },
    #[error("{at}: cannot apply the change at `{path}`: {reason}")]
    BadPath {
        at: String,
        path: String,
        reason: String,
    },
    #[error("{at}: the changed parameters no longer make a valid {what}: {message}")]
    Decode {
        at: String,
        what: &'static str,
        message: String,
    },
    #[error(
        "the diff removes edge ({from}, {to}), which the job does not have; apply a diff to the job it was computed from"
    )]
    MissingEdge { from: String, to: String },
    #[error("the diff's {what} order does not list the resulting {what}s exactly: {detail}")]
    Order { what: &'static str, detail: String },
}

impl ApplyError {
    /// A diff applied to a job other than its A side is the caller's mistake; a change
    /// that cannot be replayed on its own A side, or that yields an invalid node, is a bug.
    pub fn fault(&self) -> Fault {
        match self {
            ApplyError::BadPath { .. } | ApplyError::Decode { .. } | ApplyError::Order { .. } => {
                Fault::Internal
            }
            _ => Fault::User,
        }
    }
}

impl JobDiff {
    /// Apply this diff to `a`, the job it was computed from: nodes, edges, job-level
    /// parameters and (when recorded) order, giving the diff's B side.
    pub fn apply(&self, a: &Job) -> Result<Job, ApplyError> {
        if let Some(id) = super::repeated_id(a) {
            return Err(ApplyError::DuplicateId { id: id.to_string() });
        }
        let renames = self.renames();
        let nodes = self.apply_nodes(a)?;
        let edges = self.apply_edges(a, &renames)?;
        let mut head = graph::head_value(a, &renames);
        params::apply(&mut head, &self.job).map_err(|p| problem("job", p))?;
        let mut job: Job = serde_json::from_value(head).map_err(|e| ApplyError::Decode {
            at: "job".into(),
            what: "job",
            message: e.to_string(),
        })?;
        job.nodes = nodes;
        job.edges = edges;
        Ok(job)
    }

    fn apply_nodes(&self, a: &Job) -> Result<Vec<Node>, ApplyError> {
        // What happens to each of A's nodes, by A's id.
        let mut plan: HashMap<&str, &NodeChange> = HashMap::new();
        let mut added = Vec::new();
        for change in &self.nodes {
            match change {
                NodeChange::Added { node, .. } => added.push(node),
                NodeChange::Removed { id, .. } | NodeChange::Changed { id, .. } => {
                    plan.insert(id, change);
                }
                NodeChange::Renamed { from, .. } => {
                    plan.insert(from, change);
                }
            }
        }
        let mut nodes = Vec::with_capacity(a.nodes.len() + added.len());
        for node in &a.nodes {
            match plan.remove(node.id()) {
                None => nodes.push(node.clone()),
                Some(NodeChange::Removed { id, node: gone, .. }) => {
                    if gone != node {
                        return Err(ApplyError::RemovedNodeDiffers { id: id.clone() });
                    }
                }
                Some(NodeChange::Changed {
                    id, kind, params, ..
                }) => {
                    nodes.push(patch(node, kind, id, params)?);
                }
                Some(NodeChange::Renamed {
                    to, kind, params, ..
                }) => nodes.push(patch(node, kind, to, params)?),
                Some(NodeChange::Added { .. }) => {}
            }
        }
        if let Some(id) = plan.into_keys().min() {
            return Err(ApplyError::MissingNode { id: id.to_string() });
        }
        let mut ids: HashSet<String> = nodes.iter().map(|n| n.id().to_string()).collect();
        for node in added {
            if !ids.insert(node.id().to_string()) {
                return Err(ApplyError::NodeExists {
                    id: node.id().to_string(),
                });
            }
            nodes.push(node.clone());
        }
        match &self.node_order {
            None => Ok(nodes),
            Some(order) => reorder_nodes(nodes, order),
        }
    }

    fn apply_edges(&self, a: &Job, renames: &graph::Renames) -> Result<Vec<Edge>, ApplyError> {
        let renamed = graph::rename_edges(&a.edges, renames);
        let edges = graph::default_edges(&renamed, &self.edges_removed, &self.edges_added)
            .map_err(|(from, to)| ApplyError::MissingEdge { from, to })?;
        let Some(order) = &self.edge_order else {
            return Ok(edges);
        };
        let (missing, extra) = graph::edge_changes(&edges, order);
        if let Some((from, to)) = missing.first().or(extra.first()) {
            return Err(ApplyError::Order {
                what: "edge",
                detail: format!("({from}, {to}) is in one but not the other"),
            });
        }
        Ok(order.clone())
    }
}

/// `node` (of A) with `params` applied, under `id`.
fn patch(node: &Node, kind: &str, id: &str, params: &[ParamChange]) -> Result<Node, ApplyError> {
    let at = format!("node `{id}`");
    if node.kind() != kind {
        return Err(ApplyError::KindMismatch {
            id: node.id().to_string(),
            expected: kind.to_string(),
            found: node.kind().to_string(),
        });
    }
    let mut tree = graph::node_params(node);
    params::apply(&mut tree, params).map_err(|p| problem(&at, p))?;
    graph::node_from_params(kind, id, tree).map_err(|message| ApplyError::Decode {
        at,
        what: "node",
        message,
    })
}

fn reorder_nodes(nodes: Vec<Node>, order: &[String]) -> Result<Vec<Node>, ApplyError> {
    let bad = |detail: String| ApplyError::Order {
        what: "node",
        detail,
    };
    if order.len() != nodes.len() {
        return Err(bad(format!(
            "it lists {} nodes, the result has {}",
            order.len(),
            nodes.len()
        )));
    }
    let mut by_id: HashMap<String, Node> =
        nodes.into_iter().map(|n| (n.id().to_string(), n)).collect();
    order
        .iter()
        .map(|id| {
            by_id.remove(id).ok_or_else(|| {
                bad(format!(
                    "`{id}` is not a node of the result, or listed twice"
                ))
            })
        })
        .collect()
}

fn problem(at: &str, p: ApplyProblem) -> ApplyError {
    let show = |v: Option<Value>| v.map_or_else(|| "absent".to_string(), |v| v.to_string());
    match p {
        ApplyProblem::BadPath { path, reason } => ApplyError::BadPath {
            at: at.to_string(),
            path,
            reason,
        },
        ApplyProblem::Conflict {
            path,
            expected,
            found,
        } => ApplyError::Conflict {
            at: at.to_string(),
            path,
            expected: show(expected),
            found: show(found),
        },
    }
}
