//! The graph the diff view draws: the union of both sides — the new side's job with the
//! old side's removed nodes and edges put back — each node and edge marked added,
//! removed, changed, renamed or unchanged, laid out once with the graph editor's layout.
//! Without the new side's job (its text could not be found) only the nodes the diff
//! names are drawn, with the edges it adds and removes.

use std::collections::HashMap;

use weir_model::diff::{JobDiff, NodeChange};
use weir_model::graph::layout::{self, Layout};
use weir_model::graph::{Graph, GraphNode};
use weir_model::model::Job;

/// What happened to a node or an edge between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    Same,
    Added,
    Removed,
    Changed,
    Renamed,
}

impl Mark {
    /// The sign before a node's kind in its box and in lists: readable without colour.
    pub fn sign(self) -> &'static str {
        match self {
            Mark::Same => "",
            Mark::Added => "+",
            Mark::Removed => "-",
            Mark::Changed => "~",
            Mark::Renamed => ">",
        }
    }

    /// The word for people.
    pub fn word(self) -> &'static str {
        match self {
            Mark::Same => "unchanged",
            Mark::Added => "added",
            Mark::Removed => "removed",
            Mark::Changed => "changed",
            Mark::Renamed => "renamed",
        }
    }
}

/// A node of the union.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionNode {
    /// Its id on the new side (on the old side for a removed node).
    pub id: String,
    /// Its kind; empty when unknown (an edge's end the diff does not describe).
    pub kind: String,
    pub mark: Mark,
    /// Its entry in `JobDiff::nodes`, if it changed.
    pub change: Option<usize>,
}

/// Both sides as one graph.
#[derive(Debug, Clone, Default)]
pub struct Union {
    pub nodes: Vec<UnionNode>,
    /// `(from, to, mark)` as indices into `nodes`.
    pub edges: Vec<(usize, usize, Mark)>,
    /// Whether unchanged nodes are in (the new side's job was known).
    pub complete: bool,
    pub layout: Layout,
}

impl Union {
    /// The union of `new` (the new side's job, if known) and what `diff` removed.
    pub fn build(new: Option<&Job>, diff: &JobDiff) -> Union {
        let changes: HashMap<&str, usize> = diff
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, c)| !matches!(c, NodeChange::Removed { .. }))
            .map(|(i, c)| (c.id(), i))
            .collect();
        let mut nodes: Vec<UnionNode> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut push = |nodes: &mut Vec<UnionNode>, node: UnionNode| {
            if !index.contains_key(&node.id) {
                index.insert(node.id.clone(), nodes.len());
                nodes.push(node);
            }
        };
        match new {
            Some(job) => {
                for n in &job.nodes {
                    let change = changes.get(n.id()).copied();
                    let mark = change.map_or(Mark::Same, |i| mark_of(&diff.nodes[i]));
                    push(
                        &mut nodes,
                        UnionNode {
                            id: n.id().to_string(),
                            kind: n.kind().to_string(),
                            mark,
                            change,
                        },
                    );
                }
            }
            None => {
                for (i, c) in diff.nodes.iter().enumerate() {
                    if !matches!(c, NodeChange::Removed { .. }) {
                        push(&mut nodes, node_of(i, c));
                    }
                }
            }
        }
        for (i, c) in diff.nodes.iter().enumerate() {
            if matches!(c, NodeChange::Removed { .. }) {
                push(&mut nodes, node_of(i, c));
            }
        }
        // the ends of changed edges the diff does not otherwise name
        for (a, b) in diff.edges_added.iter().chain(&diff.edges_removed) {
            for id in [a, b] {
                push(
                    &mut nodes,
                    UnionNode {
                        id: id.clone(),
                        kind: String::new(),
                        mark: Mark::Same,
                        change: None,
                    },
                );
            }
        }
        let at = |id: &str| nodes.iter().position(|n| n.id == id);
        let mut edges = Vec::new();
        let mut added_left: HashMap<(&str, &str), usize> = HashMap::new();
        for (a, b) in &diff.edges_added {
            *added_left.entry((a.as_str(), b.as_str())).or_default() += 1;
        }
        let mut put = |a: &str, b: &str, mark: Mark| {
            if let (Some(x), Some(y)) = (at(a), at(b)) {
                edges.push((x, y, mark));
            }
        };
        match new {
            Some(job) => {
                for (a, b) in &job.edges {
                    let mark = match added_left.get_mut(&(a.as_str(), b.as_str())) {
                        Some(n) if *n > 0 => {
                            *n -= 1;
                            Mark::Added
                        }
                        _ => Mark::Same,
                    };
                    put(a, b, mark);
                }
            }
            None => {
                for (a, b) in &diff.edges_added {
                    put(a, b, Mark::Added);
                }
            }
        }
        for (a, b) in &diff.edges_removed {
            put(a, b, Mark::Removed);
        }
        let graph = Graph {
            nodes: nodes
                .iter()
                .map(|n| {
                    let kind = match (n.mark, n.kind.as_str()) {
                        (Mark::Same, "") => "·".to_string(),
                        (Mark::Same, k) => k.to_string(),
                        (m, k) => format!("{} {k}", m.sign()),
                    };
                    GraphNode::new(n.id.clone(), kind)
                })
                .collect(),
            edges: edges.iter().map(|&(a, b, _)| (a, b)).collect(),
        };
        Union {
            layout: layout::layout(&graph),
            nodes,
            edges,
            complete: new.is_some(),
        }
    }

    /// The mark of a drawn edge `from → to`: unchanged when any edge between them stays,
    /// else added when one was added, else removed.
    pub fn edge_mark(&self, from: usize, to: usize) -> Mark {
        let mut marks = self
            .edges
            .iter()
            .filter(|(a, b, _)| *a == from && *b == to)
            .map(|(_, _, m)| *m);
        let first = marks.next().unwrap_or(Mark::Same);
        marks.fold(first, |acc, m| match (acc, m) {
            (Mark::Same, _) | (_, Mark::Same) => Mark::Same,
            (Mark::Added, _) | (_, Mark::Added) => Mark::Added,
            _ => acc,
        })
    }

    /// Node indices in reading order: row by row, left to right.
    pub fn reading_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        order.sort_by_key(|&i| {
            self.layout
                .boxes
                .get(i)
                .map_or((usize::MAX, usize::MAX), |b| (b.y, b.x))
        });
        order
    }
}

fn mark_of(change: &NodeChange) -> Mark {
    match change {
        NodeChange::Added { .. } => Mark::Added,
        NodeChange::Removed { .. } => Mark::Removed,
        NodeChange::Changed { .. } => Mark::Changed,
        NodeChange::Renamed { .. } => Mark::Renamed,
    }
}

fn node_of(i: usize, c: &NodeChange) -> UnionNode {
    UnionNode {
        id: c.id().to_string(),
        kind: c.kind().to_string(),
        mark: mark_of(c),
        change: Some(i),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use weir_model::diff::diff_texts;
    use weir_model::jobfile::{decode_job, syntax};

    pub(crate) fn job(text: &str) -> Job {
        decode_job(&syntax::parse(text).unwrap().value).job.unwrap()
    }

    pub(crate) const OLD: &str = r#"Job(version: 1, name: "pv", nodes: [
        KafkaSource(id: "src", datasource: "kafka", topic: "clicks", fields: Some([(name: "k", type: String)])),
        Sql(id: "agg", query: "SELECT k\nFROM src\nWHERE k <> ''"),
        PrintSink(id: "old_out"),
        PrintSink(id: "keep", parallelism: Some(3)),
    ], edges: [("src", "agg"), ("agg", "old_out"), ("agg", "keep")])"#;

    pub(crate) const NEW: &str = r#"Job(version: 1, name: "pv", nodes: [
        KafkaSource(id: "src", datasource: "kafka", topic: "clicks", fields: Some([(name: "k", type: String)])),
        Sql(id: "agg", query: "SELECT k, 1 AS n\nFROM src\nWHERE k <> ''"),
        PrintSink(id: "new_out", parallelism: Some(2)),
        PrintSink(id: "kept", parallelism: Some(3)),
    ], edges: [("src", "agg"), ("agg", "new_out"), ("agg", "kept")])"#;

    #[test]
    fn the_union_holds_both_sides_marked() {
        let d = diff_texts(OLD, NEW).unwrap();
        let u = Union::build(Some(&job(NEW)), &d);
        let marks: Vec<(&str, Mark)> = u.nodes.iter().map(|n| (n.id.as_str(), n.mark)).collect();
        assert_eq!(
            marks,
            [
                ("src", Mark::Same),
                ("agg", Mark::Changed),
                ("new_out", Mark::Added),
                ("kept", Mark::Renamed),
                ("old_out", Mark::Removed),
            ]
        );
        assert!(u.complete);
        let edge = |a: &str, b: &str| {
            let i = u.nodes.iter().position(|n| n.id == a).unwrap();
            let j = u.nodes.iter().position(|n| n.id == b).unwrap();
            u.edge_mark(i, j)
        };
        assert_eq!(edge("src", "agg"), Mark::Same);
        assert_eq!(edge("agg", "new_out"), Mark::Added);
        assert_eq!(edge("agg", "old_out"), Mark::Removed);
        assert_eq!(edge("agg", "kept"), Mark::Same);
        // every node is drawn, the changed ones with their sign
        assert_eq!(u.layout.boxes.len(), 5);
        assert_eq!(u.layout.boxes[4].kind, "- PrintSink");
        assert_eq!(u.layout.boxes[0].kind, "KafkaSource");
        let order = u.reading_order();
        assert_eq!(order[0], 0);
        assert_eq!(order[1], 1);
    }

    #[test]
    fn without_the_new_job_only_changes_are_drawn() {
        let d = diff_texts(OLD, NEW).unwrap();
        let u = Union::build(None, &d);
        assert!(!u.complete);
        let ids: Vec<&str> = u.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["agg", "new_out", "kept", "old_out"]);
        assert_eq!(u.edges.len(), 2);
        let same = Union::build(None, &diff_texts(OLD, OLD).unwrap());
        assert!(same.nodes.is_empty());
        assert!(same.layout.boxes.is_empty());
    }
}
