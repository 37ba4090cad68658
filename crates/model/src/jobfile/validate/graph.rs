//! Graph rules: ids and table names, edges (unknown nodes, self loops, duplicates,
//! cycles), and where sources, SQL, lookups and sinks may stand.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::Checker;
use super::identifier_problem;
use crate::graph::dag;
use crate::jobfile::de::did_you_mean;
use crate::model::*;

impl Checker<'_> {
    pub(super) fn ids(&mut self) {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut tables: BTreeMap<String, usize> = BTreeMap::new();
        let lines = crate::jobfile::syntax::LineIndex::new(self.src);
        for (i, node) in self.job.nodes.iter().enumerate() {
            let id = node.id();
            if let Some(msg) = identifier_problem("operator id", id) {
                self.error(self.at(i, &["id"]), "id", msg, None);
            }
            if let Some(&first) = seen.get(id) {
                let (line, _) = lines.line_col(self.at(first, &["id"]).start);
                self.error(
                    self.at(i, &["id"]),
                    "duplicate-id",
                    format!("operator id `{id}` is used twice"),
                    format!("the first `{id}` is on line {line}; give each operator its own id"),
                );
            } else {
                seen.insert(id, i);
            }
            // the field that names the table: Lookup's `alias`, a source's `table`,
            // else the id itself
            let table_field = match node {
                Node::Lookup(_) => "alias",
                Node::KafkaSource(_) | Node::TempTableSource(_) => "table",
                _ => "id",
            };
            if let Some(t) = node.table_name() {
                let key = t.to_lowercase();
                if let Some(&first) = tables.get(&key) {
                    if first != i && self.job.nodes[first].id() != id {
                        self.error(
                            self.at(i, &[table_field]),
                            "duplicate-table",
                            format!(
                                "table `{t}` is registered by both `{}` and `{id}`",
                                self.job.nodes[first].id()
                            ),
                            "give each source its own table name".to_string(),
                        );
                    }
                } else {
                    tables.insert(key, i);
                }
                if t != id
                    && let Some(msg) = identifier_problem(table_field, t)
                {
                    self.error(self.at(i, &[table_field]), "table-name", msg, None);
                }
            }
        }
    }

    /// Edge rules; returns whether every edge names known nodes, so that the rules of
    /// where operators stand can run.
    pub(super) fn edges(&mut self) -> bool {
        let job = self.job;
        let index: BTreeMap<&str, usize> = job
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id(), i))
            .collect();
        let all_ids: Vec<&str> = job
            .nodes
            .iter()
            .map(Node::id)
            .chain(self.d.broken_ids.iter().map(String::as_str))
            .collect();
        let mut ok = !self.d.edges_broken;
        let mut seen = BTreeSet::new();
        let mut pairs = Vec::new();
        for (k, (from, to)) in job.edges.iter().enumerate() {
            let ev = self.d.edge_values[k];
            for (end, name) in [(0, from), (1, to)] {
                if !index.contains_key(name.as_str()) {
                    ok = false;
                    if self.d.broken_ids.contains(name) {
                        continue;
                    }
                    let hint = match did_you_mean(name, all_ids.iter().copied()) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => format!("node ids: {}", all_ids.join(", ")),
                    };
                    let span = ev.item(end).map_or(ev.span, |v| v.span);
                    self.error(
                        span,
                        "unknown-node",
                        format!("edge refers to unknown node `{name}`"),
                        hint,
                    );
                }
            }
            if from == to {
                self.error(
                    ev.span,
                    "self-loop",
                    format!("edge from `{from}` to itself"),
                    "remove it".to_string(),
                );
                continue;
            }
            if !seen.insert((from.as_str(), to.as_str())) {
                self.error(
                    ev.span,
                    "duplicate-edge",
                    format!("edge (`{from}`, `{to}`) is given twice"),
                    "remove one".to_string(),
                );
            }
            if let (Some(&a), Some(&b)) = (index.get(from.as_str()), index.get(to.as_str())) {
                pairs.push((a, b, k));
            }
        }
        let edges: Vec<(usize, usize)> = pairs.iter().map(|&(a, b, _)| (a, b)).collect();
        if let Some(cycle) = dag::find_cycle(job.nodes.len(), &edges) {
            let names: Vec<&str> = cycle.iter().map(|&i| job.nodes[i].id()).collect();
            let first = cycle[0];
            let second = cycle.get(1).copied().unwrap_or(first);
            let k = pairs
                .iter()
                .find(|&&(a, b, _)| a == first && b == second)
                .map_or(0, |p| p.2);
            let span = self
                .d
                .edge_values
                .get(k)
                .map_or(self.top("edges"), |v| v.span);
            self.error(
                span,
                "cycle",
                format!(
                    "the graph has a cycle: {} → {}",
                    names.join(" → "),
                    names[0]
                ),
                "a job graph flows one way, from sources to sinks; remove one of these edges"
                    .to_string(),
            );
        }
        ok
    }

    /// Where each kind of operator may stand: sources first, SQL between sources and
    /// sinks, sinks last.
    pub(super) fn shape(&mut self) {
        let job = self.job;
        // the nodes by id (the first of a duplicated id, as `Job::node`) and each node's
        // inputs and outputs, built once: per node look-ups would make a job of many
        // operators quadratic (30,000 took 86 s)
        let mut by_id: HashMap<&str, &Node> = HashMap::new();
        for n in &job.nodes {
            by_id.entry(n.id()).or_insert(n);
        }
        let mut ins: HashMap<&str, Vec<&Node>> = HashMap::new();
        let mut outs: HashMap<&str, Vec<&Node>> = HashMap::new();
        for (from, to) in &job.edges {
            if let Some(n) = by_id.get(from.as_str()) {
                ins.entry(to.as_str()).or_default().push(n);
            }
            if let Some(n) = by_id.get(to.as_str()) {
                outs.entry(from.as_str()).or_default().push(n);
            }
        }
        for (i, node) in job.nodes.iter().enumerate() {
            let id = node.id();
            let kind = node.kind();
            let inputs: &[&Node] = ins.get(id).map_or(&[], Vec::as_slice);
            let outputs: &[&Node] = outs.get(id).map_or(&[], Vec::as_slice);
            let span = self.d.node_values[i].head_span();
            match node.role() {
                Role::Source => {
                    if !inputs.is_empty() {
                        self.error(
                            span,
                            "source-input",
                            format!("{kind} `{id}` is a source and cannot have inputs"),
                            format!("remove the edge into `{id}`"),
                        );
                    }
                    if outputs.is_empty() {
                        self.error(
                            span,
                            "unconnected",
                            format!("{kind} `{id}` feeds nothing"),
                            format!("connect it: (\"{id}\", \"...\")"),
                        );
                    }
                }
                Role::Sink => {
                    if !outputs.is_empty() {
                        self.error(
                            span,
                            "sink-output",
                            format!("{kind} `{id}` is a sink and cannot have outputs"),
                            format!("remove the edge out of `{id}`"),
                        );
                    }
                    if inputs.is_empty() {
                        self.error(
                            span,
                            "unconnected",
                            format!("{kind} `{id}` receives nothing"),
                            format!("connect something to it: (\"...\", \"{id}\")"),
                        );
                    }
                }
                Role::Transform => {
                    if inputs.is_empty() {
                        self.error(
                            span,
                            "unconnected",
                            format!("{kind} `{id}` has no input"),
                            "connect a source to it".to_string(),
                        );
                    }
                    if outputs.is_empty() {
                        self.error(
                            span,
                            "unconnected",
                            format!("{kind} `{id}` feeds nothing"),
                            "connect it to a sink".to_string(),
                        );
                    }
                }
            }
            if let Node::Sql(_) = node {
                for up in inputs {
                    if let Node::Sql(_) = up {
                        self.error(
                            span,
                            "sql-placement",
                            format!("SQL `{id}` reads from SQL `{}`: a SQL operator sits between sources and sinks", up.id()),
                            "merge the two queries into one operator (CREATE VIEW name AS ...; SELECT ... FROM name)".to_string(),
                        );
                    }
                }
            }
            if let Node::Lookup(_) = node {
                for down in outputs {
                    if !matches!(down, Node::Sql(_) | Node::Etl(_)) {
                        self.error(
                            span,
                            "lookup-placement",
                            format!("Lookup `{id}` feeds {} `{}`; a dimension table is joined in a Sql or Etl operator", down.kind(), down.id()),
                            None,
                        );
                    }
                }
            }
        }
    }
}
