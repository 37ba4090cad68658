//! The parts of a job that [`diff`](super::diff) and [`apply`](super::JobDiff::apply)
//! must compute the same way, so that applying a diff gives back exactly the second job:
//! a node's parameter tree, the job's head tree, renaming A's edges and positions, and
//! the default order of nodes and edges after a change.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::model::{Job, Node};

/// Old id → new id of the renamed nodes.
pub type Renames = BTreeMap<String, String>;

/// An edge, `(from, to)` as in the job file.
pub type Edge = (String, String);

/// A node's parameters: its serde tree without the kind wrapper and without `id`.
pub fn node_params(node: &Node) -> Value {
    // A node always serialises (every map key is a string); an unexpected failure would
    // show as every parameter changed rather than as a panic.
    match serde_json::to_value(node) {
        Ok(Value::Object(wrapper)) => match wrapper.into_iter().next() {
            Some((_, Value::Object(mut fields))) => {
                fields.remove("id");
                Value::Object(fields)
            }
            Some((_, other)) => other,
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

/// The node of `kind` with `id` and these parameters (the inverse of [`node_params`]).
pub fn node_from_params(kind: &str, id: &str, params: Value) -> Result<Node, String> {
    let Value::Object(mut fields) = params else {
        return Err("the parameters are not a record".into());
    };
    fields.insert("id".into(), Value::String(id.into()));
    let mut wrapper = Map::new();
    wrapper.insert(kind.into(), Value::Object(fields));
    serde_json::from_value(Value::Object(wrapper)).map_err(|e| e.to_string())
}

/// Whether two nodes are the same operator apart from their ids.
pub fn same_but_id(a: &Node, b: &Node) -> bool {
    if a.kind() != b.kind() {
        return false;
    }
    let mut renamed = a.clone();
    renamed.set_id(b.id().to_string());
    renamed == *b
}

/// Everything of a job but its nodes and edges, with A's positions following the renames:
/// the tree that job-level changes (`name`, `config.env.KEY`, `positions.<id>`, …) are
/// paths into.
pub fn head_value(job: &Job, renames: &Renames) -> Value {
    let head = Job {
        version: job.version,
        name: job.name.clone(),
        description: job.description.clone(),
        mode: job.mode,
        config: job.config.clone(),
        package: job.package.clone(),
        datasources: job.datasources.clone(),
        nodes: Vec::new(),
        edges: Vec::new(),
        positions: rename_positions(&job.positions, renames),
    };
    match serde_json::to_value(&head) {
        Ok(Value::Object(mut fields)) => {
            fields.remove("nodes");
            fields.remove("edges");
            Value::Object(fields)
        }
        _ => Value::Null,
    }
}

/// A's positions under the new ids. A renamed node's position wins over a stale entry
/// that already had the new id.
pub fn rename_positions(
    positions: &BTreeMap<String, (u32, u32)>,
    renames: &Renames,
) -> BTreeMap<String, (u32, u32)> {
    let mut out: BTreeMap<String, (u32, u32)> = positions
        .iter()
        .filter(|(id, _)| !renames.contains_key(*id))
        .map(|(id, p)| (id.clone(), *p))
        .collect();
    for (from, to) in renames {
        if let Some(p) = positions.get(from) {
            out.insert(to.clone(), *p);
        }
    }
    out
}

/// A's edges under the new ids.
pub fn rename_edges(edges: &[Edge], renames: &Renames) -> Vec<Edge> {
    let rename = |id: &String| renames.get(id).unwrap_or(id).clone();
    edges
        .iter()
        .map(|(from, to)| (rename(from), rename(to)))
        .collect()
}

/// Edges of `a` that `b` lacks and edges of `b` that `a` lacks, counting repeats: removed
/// in `a`'s order, added in `b`'s.
pub fn edge_changes(a: &[Edge], b: &[Edge]) -> (Vec<Edge>, Vec<Edge>) {
    (missing_from(a, b), missing_from(b, a))
}

/// The edges of `xs` that `ys` does not hold (as many times as `xs` repeats them).
fn missing_from(xs: &[Edge], ys: &[Edge]) -> Vec<Edge> {
    let mut left: HashMap<&Edge, usize> = HashMap::new();
    for y in ys {
        *left.entry(y).or_default() += 1;
    }
    xs.iter()
        .filter(|x| match left.get_mut(x) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

/// `edges` without the first occurrence of each removed edge, then the added ones. `Err`
/// names a removed edge that `edges` does not hold.
pub fn default_edges(edges: &[Edge], removed: &[Edge], added: &[Edge]) -> Result<Vec<Edge>, Edge> {
    let mut drop: HashMap<&Edge, usize> = HashMap::new();
    for e in removed {
        *drop.entry(e).or_default() += 1;
    }
    let mut out: Vec<Edge> = Vec::with_capacity(edges.len() + added.len());
    for e in edges {
        match drop.get_mut(e) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(e.clone()),
        }
    }
    if let Some((e, _)) = drop.into_iter().find(|(_, n)| *n > 0) {
        return Err(e.clone());
    }
    out.extend(added.iter().cloned());
    Ok(out)
}
