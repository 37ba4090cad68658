//! The graph diff of two jobs (issue 13): what an approver reads before a version goes
//! live, and what `weir job diff` prints or emits as JSON. Pure: no store, no files.
//!
//! - **Nodes are matched by id.** A node in both jobs with the same kind is *changed*
//!   when a parameter differs; with another kind it is *removed* and *added*.
//! - **Parameters** are the leaves of a node's serde tree (without `id`), named by a
//!   path such as `start`, `on_error.Retry.max` or `fields[1].type` (see [`path`] and
//!   `params.rs` for how objects, enum variants and arrays become paths). Each change is
//!   old → new, with `None` for absent. Job-level changes (`name`, `config.env.KEY`,
//!   `datasources.*`, `positions.<id>`, …) are paths into the job without its nodes and
//!   edges.
//! - **Text parameters** (`query`, ETL scripts, any multi-line string) also get a line
//!   diff ([`TextDiff`]) for display; their [`ParamChange`] is what [`JobDiff::apply`]
//!   uses.
//! - **Renames.** A node only in A and a node only in B of the same kind and with
//!   identical parameters are one node renamed. Candidates pair in file order: each added
//!   node, in B's order, takes the first unpaired removed node of A that matches. A's
//!   edges and positions are then read under the new ids, so a rename alone changes
//!   nothing else.
//! - **Order.** Applying the changes keeps A's nodes (and edges) in A's order and
//!   appends the added ones; when that is not B's order, [`JobDiff::node_order`] (or
//!   [`JobDiff::edge_order`]) holds B's, so `apply` gives back B's canonical text exactly.
//!
//! Node ids are unique in a valid job. A job that repeats one can be diffed for display
//! (each id's first node is compared) but not applied; [`diff_texts`] refuses it.

mod apply;
mod graph;
mod params;
pub mod path;
mod render;
mod text;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

pub use apply::ApplyError;
pub use text::{DiffLine, LineTag, TextDiff};

use crate::jobfile::{Diagnostic, Severity, decode_job, syntax};
use crate::model::{Job, Node};
use graph::{Edge, Renames};

/// Everything that differs between job A and job B.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct JobDiff {
    /// Job-level parameter changes, in path order.
    pub job: Vec<ParamChange>,
    /// Added, changed and renamed nodes in B's order, then removed nodes in A's order.
    pub nodes: Vec<NodeChange>,
    /// Edges of B that A (under the renames) lacks, in B's order.
    pub edges_added: Vec<Edge>,
    /// Edges of A (under the renames) that B lacks, in A's order.
    pub edges_removed: Vec<Edge>,
    /// B's node ids in file order, when applying the changes would order them otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_order: Option<Vec<String>>,
    /// B's edges in file order, when applying the changes would order them otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_order: Option<Vec<Edge>>,
}

/// What happened to one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum NodeChange {
    /// Only in B.
    Added {
        id: String,
        kind: String,
        node: Node,
    },
    /// Only in A.
    Removed {
        id: String,
        kind: String,
        node: Node,
    },
    /// In both, with the same kind and different parameters.
    Changed {
        id: String,
        kind: String,
        params: Vec<ParamChange>,
        texts: Vec<TextDiff>,
    },
    /// A node of A under a new id in B, its parameters unchanged (so `params` and `texts`
    /// are empty: a rename is detected by identical parameters).
    Renamed {
        from: String,
        to: String,
        kind: String,
        params: Vec<ParamChange>,
        texts: Vec<TextDiff>,
    },
}

impl NodeChange {
    /// The node's id in B (in A for a removed node).
    pub fn id(&self) -> &str {
        match self {
            NodeChange::Added { id, .. }
            | NodeChange::Removed { id, .. }
            | NodeChange::Changed { id, .. } => id,
            NodeChange::Renamed { to, .. } => to,
        }
    }

    /// The operator kind, e.g. `Sql`.
    pub fn kind(&self) -> &str {
        match self {
            NodeChange::Added { kind, .. }
            | NodeChange::Removed { kind, .. }
            | NodeChange::Changed { kind, .. }
            | NodeChange::Renamed { kind, .. } => kind,
        }
    }
}

/// One parameter, old → new. `None` means absent (JSON: the key is left out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamChange {
    /// Where the value sits, e.g. `config.parallelism` or `on_error.Retry.max`.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

impl JobDiff {
    /// Whether A and B are the same job.
    pub fn is_empty(&self) -> bool {
        self.job.is_empty()
            && self.nodes.is_empty()
            && self.edges_added.is_empty()
            && self.edges_removed.is_empty()
            && self.node_order.is_none()
            && self.edge_order.is_none()
    }

    /// Old id → new id of every renamed node.
    pub fn renames(&self) -> Renames {
        self.nodes
            .iter()
            .filter_map(|c| match c {
                NodeChange::Renamed { from, to, .. } => Some((from.clone(), to.clone())),
                _ => None,
            })
            .collect()
    }
}

/// The diff that turns job `a` into job `b`.
pub fn diff(a: &Job, b: &Job) -> JobDiff {
    let a_by_id = first_by_id(&a.nodes);
    let b_by_id = first_by_id(&b.nodes);

    // A's nodes that B does not hold under the same id and kind, in A's order.
    let removed: Vec<&Node> = unique(&a.nodes)
        .filter(|n| b_by_id.get(n.id()).is_none_or(|m| m.kind() != n.kind()))
        .collect();
    // Only removed nodes whose id B does not use at all can be renamed.
    let mut rename_from: Vec<Option<&Node>> = removed
        .iter()
        .map(|n| (!b_by_id.contains_key(n.id())).then_some(*n))
        .collect();

    let mut renames = Renames::new();
    let mut nodes = Vec::new();
    let mut added_ids = Vec::new();
    for bn in unique(&b.nodes) {
        let (id, kind) = (bn.id().to_string(), bn.kind().to_string());
        match a_by_id.get(bn.id()) {
            Some(an) if an.kind() == bn.kind() => {
                let params = params::diff_values(&graph::node_params(an), &graph::node_params(bn));
                if !params.is_empty() {
                    let texts = texts(&id, &params);
                    nodes.push(NodeChange::Changed {
                        id,
                        kind,
                        params,
                        texts,
                    });
                }
            }
            Some(_) => {
                added_ids.push(id.clone());
                nodes.push(NodeChange::Added {
                    id,
                    kind,
                    node: bn.clone(),
                });
            }
            None => {
                let from = rename_from
                    .iter_mut()
                    .find(|slot| slot.is_some_and(|an| graph::same_but_id(an, bn)))
                    .and_then(Option::take);
                if let Some(an) = from {
                    renames.insert(an.id().to_string(), id.clone());
                    nodes.push(NodeChange::Renamed {
                        from: an.id().to_string(),
                        to: id,
                        kind,
                        params: Vec::new(),
                        texts: Vec::new(),
                    });
                } else {
                    added_ids.push(id.clone());
                    nodes.push(NodeChange::Added {
                        id,
                        kind,
                        node: bn.clone(),
                    });
                }
            }
        }
    }
    let gone: HashSet<&str> = removed
        .iter()
        .filter(|n| !renames.contains_key(n.id()))
        .map(|n| n.id())
        .collect();
    nodes.extend(
        removed
            .iter()
            .filter(|n| gone.contains(n.id()))
            .map(|n| NodeChange::Removed {
                id: n.id().to_string(),
                kind: n.kind().to_string(),
                node: (*n).clone(),
            }),
    );

    let default_order: Vec<&str> = a
        .nodes
        .iter()
        .filter(|n| !gone.contains(n.id()))
        .map(|n| renames.get(n.id()).map_or(n.id(), String::as_str))
        .chain(added_ids.iter().map(String::as_str))
        .collect();
    let b_order: Vec<&str> = b.nodes.iter().map(Node::id).collect();
    let node_order =
        (default_order != b_order).then(|| b_order.iter().map(|s| s.to_string()).collect());

    let a_edges = graph::rename_edges(&a.edges, &renames);
    let (edges_removed, edges_added) = graph::edge_changes(&a_edges, &b.edges);
    let default_edges = graph::default_edges(&a_edges, &edges_removed, &edges_added);
    let edge_order = (default_edges.as_ref() != Ok(&b.edges)).then(|| b.edges.clone());

    let job = params::diff_values(
        &graph::head_value(a, &renames),
        &graph::head_value(b, &Renames::new()),
    );
    JobDiff {
        job,
        nodes,
        edges_added,
        edges_removed,
        node_order,
        edge_order,
    }
}

/// Line diffs of the text parameters among `params` of node `id`.
fn texts(id: &str, params: &[ParamChange]) -> Vec<TextDiff> {
    params
        .iter()
        .filter(|c| text::is_text(c))
        .map(|c| text::text_diff(id, c))
        .collect()
}

/// The first node of each id.
fn first_by_id(nodes: &[Node]) -> HashMap<&str, &Node> {
    let mut by_id = HashMap::with_capacity(nodes.len());
    for n in nodes {
        by_id.entry(n.id()).or_insert(n);
    }
    by_id
}

/// The nodes in order, leaving out any that repeats an earlier node's id.
fn unique(nodes: &[Node]) -> impl Iterator<Item = &Node> {
    let mut seen = HashSet::new();
    nodes.iter().filter(move |n| seen.insert(n.id()))
}

/// The first node id that `job` repeats, if any.
pub fn repeated_id(job: &Job) -> Option<&str> {
    let mut seen = HashSet::new();
    job.nodes.iter().map(Node::id).find(|id| !seen.insert(*id))
}

/// The diff of two job texts (canonical or not). A text that does not decode fully, or
/// that repeats a node id, is refused with the first problem, rendered as `weir
/// validate` would (the texts are named `a` and `b`). Other validation problems do not
/// matter to a diff.
pub fn diff_texts(a_text: &str, b_text: &str) -> Result<JobDiff, String> {
    let a = decode_text("a", a_text)?;
    let b = decode_text("b", b_text)?;
    Ok(diff(&a, &b))
}

fn decode_text(file: &str, src: &str) -> Result<Job, String> {
    let index = syntax::LineIndex::new(src);
    let doc = syntax::parse(src).map_err(|e| {
        Diagnostic::new(
            file,
            &index,
            e.span,
            Severity::Error,
            "syntax",
            e.message,
            e.hint,
        )
        .render()
    })?;
    let decoded = decode_job(&doc.value);
    if let Some(p) = decoded
        .problems
        .iter()
        .min_by_key(|p| (p.span.start, p.span.end))
    {
        let d = Diagnostic::new(
            file,
            &index,
            p.span,
            Severity::Error,
            p.code,
            p.message.clone(),
            p.hint.clone(),
        );
        return Err(d.render());
    }
    let job = decoded
        .job
        .ok_or_else(|| format!("{file}: the text holds no job; a job file holds one `Job(...)`"))?;
    if let Some(id) = repeated_id(&job) {
        return Err(format!(
            "{file}: node id `{id}` is used by more than one node; a diff pairs nodes by id, so give each node its own id (`weir validate` shows where)"
        ));
    }
    Ok(job)
}
