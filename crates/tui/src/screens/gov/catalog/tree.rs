//! What the catalog shows, as data: data sources with their topics (Kafka) or tables
//! (relational, read live), topics still in design per project, flattened into the rows
//! of the tree (`detail.rs` describes a row).

use std::collections::{BTreeMap, BTreeSet};

use weir_app::catalog::TableInfo;
use weir_app::governance::{DataSource, DataSourceKind, Env, Topic};

/// Where the tables of a relational data source stand.
pub enum Tables {
    /// Being read in the background.
    Loading,
    Loaded(Vec<TableInfo>),
    /// Could not be read: why.
    Failed(String),
    /// Not read for this kind or environment: why.
    NotListed(String),
}

/// A publication that awaits approval.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingPublication {
    pub request: i64,
    pub env: Env,
    pub datasource: String,
}

/// Everything the tree is built from.
#[derive(Default)]
pub struct World {
    pub sources: Vec<DataSource>,
    pub topics: Vec<Topic>,
    /// Topic name → its pending publication.
    pub pending: BTreeMap<String, PendingPublication>,
    /// Data source name → its tables.
    pub tables: BTreeMap<String, Tables>,
    /// Data source name → tables (or topics) named in grants or requests.
    pub named: BTreeMap<String, BTreeSet<String>>,
}

/// What a row of the tree is; also the key that keeps the selection across reloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Source(String),
    /// A topic, under the data source it is on (None: in the design group).
    Topic(String, Option<String>),
    /// (data source, table); `live` when introspection listed it.
    Table(String, String, bool),
    /// The design group of a project.
    Group(String),
    /// A line of text under a data source (loading, not listed, error).
    Note(String, String, bool),
}

pub struct Row {
    pub depth: usize,
    pub node: Node,
}

/// Whether a data source's tables are read by introspection.
pub fn relational(kind: DataSourceKind) -> bool {
    matches!(kind, DataSourceKind::Mysql | DataSourceKind::Postgres)
}

pub(super) fn kind_name(k: DataSourceKind) -> String {
    k.name().to_ascii_lowercase()
}

impl World {
    pub fn source(&self, name: &str) -> Option<&DataSource> {
        self.sources.iter().find(|d| d.name == name)
    }

    pub fn topic(&self, name: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.name == name)
    }

    pub fn table(&self, ds: &str, name: &str) -> Option<&TableInfo> {
        match self.tables.get(ds) {
            Some(Tables::Loaded(ts)) => ts.iter().find(|t| t.name == name),
            _ => None,
        }
    }

    /// The topics on kafka data source `ds`: published there, or waiting to be.
    pub(super) fn topics_on(&self, ds: &str) -> Vec<&Topic> {
        self.topics
            .iter()
            .filter(|t| {
                t.test_datasource.as_deref() == Some(ds)
                    || t.prod_datasource.as_deref() == Some(ds)
                    || self
                        .pending
                        .get(&t.name)
                        .is_some_and(|p| p.datasource == ds)
            })
            .collect()
    }

    /// Topics that live on no cluster yet, by project.
    fn in_design(&self) -> BTreeMap<&str, Vec<&Topic>> {
        let mut out: BTreeMap<&str, Vec<&Topic>> = BTreeMap::new();
        for t in &self.topics {
            let placed = t.test_datasource.is_some()
                || t.prod_datasource.is_some()
                || self.pending.contains_key(&t.name);
            if !placed {
                out.entry(t.project.as_str()).or_default().push(t);
            }
        }
        out
    }

    /// The rows of the tree; `folded` data sources and groups show their head only;
    /// rows not matching `filter` (and heads without a matching child) are left out.
    pub fn rows(&self, folded: &BTreeSet<String>, filter: &str) -> Vec<Row> {
        let f = filter.trim().to_lowercase();
        let hit = |s: &str| f.is_empty() || s.to_lowercase().contains(&f);
        let mut out = Vec::new();
        for ds in &self.sources {
            let mut children = Vec::new();
            let named = self.named.get(&ds.name);
            if ds.kind == DataSourceKind::Kafka {
                let topics = self.topics_on(&ds.name);
                for t in &topics {
                    children.push(Node::Topic(t.name.clone(), Some(ds.name.clone())));
                }
                for n in named.into_iter().flatten() {
                    if !topics.iter().any(|t| t.name == *n) {
                        children.push(Node::Table(ds.name.clone(), n.clone(), false));
                    }
                }
                if children.is_empty() {
                    children.push(Node::Note(
                        ds.name.clone(),
                        "no catalog topics here yet".into(),
                        false,
                    ));
                }
            } else {
                let listed: Vec<&TableInfo> = match self.tables.get(&ds.name) {
                    Some(Tables::Loaded(ts)) => ts.iter().collect(),
                    _ => Vec::new(),
                };
                match self.tables.get(&ds.name) {
                    Some(Tables::Loading) => {
                        children.push(Node::Note(ds.name.clone(), "reading tables…".into(), false))
                    }
                    Some(Tables::Failed(e)) => {
                        children.push(Node::Note(ds.name.clone(), e.clone(), true))
                    }
                    Some(Tables::NotListed(why)) => {
                        children.push(Node::Note(ds.name.clone(), why.clone(), false))
                    }
                    Some(Tables::Loaded(ts)) if ts.is_empty() => {
                        children.push(Node::Note(ds.name.clone(), "no tables".into(), false))
                    }
                    _ => {}
                }
                for t in &listed {
                    children.push(Node::Table(ds.name.clone(), t.name.clone(), true));
                }
                for n in named.into_iter().flatten() {
                    if !listed.iter().any(|t| t.name == *n) {
                        children.push(Node::Table(ds.name.clone(), n.clone(), false));
                    }
                }
            }
            let head_hit = hit(&ds.name) || hit(&kind_name(ds.kind));
            let children: Vec<Node> = children
                .into_iter()
                .filter(|c| {
                    head_hit
                        || match c {
                            Node::Topic(t, _) => hit(t),
                            Node::Table(_, t, _) => hit(t),
                            _ => false,
                        }
                })
                .collect();
            if !head_hit && children.is_empty() {
                continue;
            }
            out.push(Row {
                depth: 0,
                node: Node::Source(ds.name.clone()),
            });
            if !folded.contains(&ds.name) || !f.is_empty() {
                out.extend(children.into_iter().map(|node| Row { depth: 1, node }));
            }
        }
        for (project, topics) in self.in_design() {
            let key = format!("design:{project}");
            let head_hit = hit(project) || hit("design");
            let topics: Vec<&&Topic> = topics.iter().filter(|t| head_hit || hit(&t.name)).collect();
            if topics.is_empty() {
                continue;
            }
            out.push(Row {
                depth: 0,
                node: Node::Group(project.to_string()),
            });
            if !folded.contains(&key) || !f.is_empty() {
                for t in topics {
                    out.push(Row {
                        depth: 1,
                        node: Node::Topic(t.name.clone(), None),
                    });
                }
            }
        }
        out
    }

    /// The text of a tree row, and whether it is an error.
    pub fn label(&self, row: &Row, folded: &BTreeSet<String>, width: usize) -> (String, bool) {
        let indent = "  ".repeat(row.depth);
        let fold = |key: &str| if folded.contains(key) { "▸" } else { "▾" };
        match &row.node {
            Node::Source(name) => {
                let kind = self
                    .source(name)
                    .map_or(String::new(), |d| kind_name(d.kind));
                (format!("{} {name}  {kind}", fold(name)), false)
            }
            Node::Group(p) => (
                format!("{} design · {p}", fold(&format!("design:{p}"))),
                false,
            ),
            Node::Topic(name, _) => {
                let state = self.topic(name).map_or("", |t| t.state.as_str());
                let left = format!("{indent}{name}");
                let pad = width
                    .saturating_sub(left.chars().count() + state.len())
                    .max(1);
                (format!("{left}{}{state}", " ".repeat(pad)), false)
            }
            Node::Table(ds, name, live) => {
                let right = match self.table(ds, name) {
                    Some(t) => format!("{} col", t.columns.len()),
                    None if !live => "named".to_string(),
                    None => String::new(),
                };
                let left = format!("{indent}{name}");
                let pad = width
                    .saturating_sub(left.chars().count() + right.len())
                    .max(1);
                (format!("{left}{}{right}", " ".repeat(pad)), false)
            }
            Node::Note(_, text, err) => (format!("{indent}{text}"), *err),
        }
    }
}
