//! The rules of a job beyond its shape: ids, edges and the graph (cycles, where sources,
//! SQL and sinks may stand), parameter rules of SPEC R-job, data source references and
//! the SQL of each SQL operator. Every rule reports with the span of what it is about.

use std::collections::{BTreeMap, BTreeSet};

use super::Decoded;
use super::de::{Problem, did_you_mean};
use super::diagnostic::Severity;
use super::sql;
use super::syntax::{Span, Value, string_offset_to_source};
use crate::graph::dag;
use crate::model::*;

/// Largest parallelism a job may ask for.
pub const MAX_PARALLELISM: u32 = 1024;

/// Topic names: letters, digits, underscore; not starting with a digit or underscore;
/// 2 to 35 characters (SPEC R-topic). Returns what is wrong, if anything.
pub fn topic_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if !(2..=35).contains(&len) {
        return Some(format!(
            "topic name `{name}` has {len} characters; it must have 2 to 35"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!(
            "topic name `{name}` contains {c:?}; only letters, digits and `_` are allowed"
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit() || c == '_') {
        return Some(format!(
            "topic name `{name}` starts with {:?}; it must start with a letter",
            &name[..1]
        ));
    }
    None
}

/// Operator ids and table names are SQL identifiers: a letter or `_`, then letters,
/// digits or `_`, at most 64 characters.
pub fn identifier_problem(what: &str, name: &str) -> Option<String> {
    if name.is_empty() {
        return Some(format!("{what} is empty"));
    }
    if name.chars().count() > 64 {
        return Some(format!("{what} `{name}` is longer than 64 characters"));
    }
    let ok_start = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    if !ok_start || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some(format!(
            "{what} `{name}` is not a valid name: use letters, digits and `_`, starting with a letter or `_`"
        ));
    }
    None
}

struct Checker<'a> {
    src: &'a str,
    job: &'a Job,
    d: &'a Decoded<'a>,
    out: Vec<(Severity, Problem)>,
}

/// Run every rule over a decoded job.
pub fn validate(src: &str, job: &Job, d: &Decoded<'_>) -> Vec<(Severity, Problem)> {
    let mut c = Checker {
        src,
        job,
        d,
        out: Vec::new(),
    };
    c.job_level();
    c.ids();
    let graph_ok = c.edges();
    if graph_ok {
        c.shape();
    }
    for (i, node) in job.nodes.iter().enumerate() {
        c.operator(i, node);
    }
    c.datasources();
    c.sql();
    c.out
}

impl<'a> Checker<'a> {
    fn report(
        &mut self,
        sev: Severity,
        span: Span,
        code: &'static str,
        message: String,
        hint: Option<String>,
    ) {
        self.out.push((
            sev,
            Problem {
                span,
                code,
                message,
                hint,
            },
        ));
    }

    fn error(
        &mut self,
        span: Span,
        code: &'static str,
        message: String,
        hint: impl Into<Option<String>>,
    ) {
        self.report(Severity::Error, span, code, message, hint.into());
    }

    fn warn(
        &mut self,
        span: Span,
        code: &'static str,
        message: String,
        hint: impl Into<Option<String>>,
    ) {
        self.report(Severity::Warning, span, code, message, hint.into());
    }

    /// Span of a top-level field's value, or of the job's name when absent.
    fn top(&self, field: &str) -> Span {
        self.d
            .root
            .field(field)
            .map_or(self.d.root.head_span(), |f| f.value.head_span())
    }

    /// Span of a field of node `i` (a path such as `["on_error", "max"]`), falling back
    /// to the closest enclosing value that exists.
    fn at(&self, i: usize, path: &[&str]) -> Span {
        let mut v: &Value = self.d.node_values[i];
        for p in path {
            match v.field(p) {
                Some(f) => v = &f.value,
                None => break,
            }
        }
        // point inside `Some(...)` at the value itself
        if let super::syntax::Kind::Tuple {
            name: Some(n),
            items,
            ..
        } = &v.kind
            && n.name == "Some"
            && let [inner] = items.as_slice()
        {
            return inner.head_span();
        }
        v.head_span()
    }

    /// Span of item `k` of list field `field` of node `i`.
    fn at_item(&self, i: usize, field: &str, k: usize) -> Span {
        let v = self.d.node_values[i];
        match v.field(field).map(|f| &f.value) {
            Some(list) => {
                let list = list.item(0).filter(|_| matches!(&list.kind, super::syntax::Kind::Tuple { name: Some(n), .. } if n.name == "Some")).unwrap_or(list);
                list.item(k).map_or(list.head_span(), |x| x.span)
            }
            None => v.head_span(),
        }
    }

    fn job_level(&mut self) {
        let job = self.job;
        if job.version != FORMAT_VERSION {
            self.error(
                self.top("version"),
                "version",
                format!("job format version {} is not supported", job.version),
                format!("this weir reads and writes version {FORMAT_VERSION}"),
            );
        }
        if job.name.trim().is_empty() {
            self.error(
                self.top("name"),
                "job-name",
                "the job has an empty name".into(),
                "give it a name, e.g. name: \"clickstream_pv\"".to_string(),
            );
        } else if job.name.chars().any(char::is_control) {
            self.error(
                self.top("name"),
                "job-name",
                "the job name contains control characters".into(),
                None,
            );
        }
        let cfg = &job.config;
        let cfg_span = |c: &Self, f: &str| {
            c.d.root
                .field("config")
                .and_then(|v| v.value.field(f))
                .map_or(c.top("config"), |f| f.value.head_span())
        };
        if cfg.parallelism == 0 || cfg.parallelism > MAX_PARALLELISM {
            self.error(
                cfg_span(self, "parallelism"),
                "parallelism",
                format!("parallelism {} is out of range", cfg.parallelism),
                format!("use 1 to {MAX_PARALLELISM}"),
            );
        }
        if cfg.checkpoint_interval_ms != 0 && cfg.checkpoint_interval_ms < 100 {
            self.error(
                cfg_span(self, "checkpoint_interval_ms"),
                "checkpoint-interval",
                format!(
                    "checkpoint interval {} ms is too short",
                    cfg.checkpoint_interval_ms
                ),
                "use 0 (off) or at least 100 ms".to_string(),
            );
        }
        for k in cfg.env.keys() {
            if k.trim().is_empty() {
                self.error(
                    cfg_span(self, "env"),
                    "env",
                    "an environment parameter has an empty name".into(),
                    None,
                );
            }
        }
        match (job.mode, &job.package) {
            (JobMode::Package, None) => self.error(
                self.top("mode"),
                "package",
                "a Package job needs `package: (path: ..., entry: ...)`".into(),
                "or use mode: Online with nodes and edges".to_string(),
            ),
            (JobMode::Package, Some(p)) => {
                if p.path.trim().is_empty() || p.entry.trim().is_empty() {
                    self.error(
                        self.top("package"),
                        "package",
                        "the package needs a path and an entry".into(),
                        None,
                    );
                }
                if !job.nodes.is_empty() {
                    self.error(
                        self.top("nodes"),
                        "package",
                        "a Package job is its plugin: it has no nodes".into(),
                        "remove nodes and edges, or set mode: Online".to_string(),
                    );
                }
            }
            (JobMode::Online, Some(_)) => self.error(
                self.top("package"),
                "package",
                "`package` is only for mode: Package".into(),
                "remove it, or set mode: Package".to_string(),
            ),
            (JobMode::Online, None) => {
                if job.nodes.is_empty()
                    && self.d.broken_ids.is_empty()
                    && !self.d.problems.iter().any(|p| p.code != "unknown-field")
                {
                    self.error(
                        self.top("nodes"),
                        "no-operators",
                        "the job has no operators".into(),
                        "add nodes, e.g. a KafkaSource, a Sql operator and a sink".to_string(),
                    );
                }
            }
        }
        let known: BTreeSet<&str> = job
            .nodes
            .iter()
            .map(Operator::id)
            .chain(self.d.broken_ids.iter().map(String::as_str))
            .collect();
        for id in job.positions.keys() {
            if !known.contains(id.as_str()) {
                let hint =
                    did_you_mean(id, known.iter().copied()).map(|m| format!("did you mean `{m}`?"));
                self.error(
                    self.top("positions"),
                    "unknown-node",
                    format!("position given for unknown node `{id}`"),
                    hint,
                );
            }
        }
    }

    fn ids(&mut self) {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut tables: BTreeMap<String, usize> = BTreeMap::new();
        for (i, node) in self.job.nodes.iter().enumerate() {
            let id = node.id();
            if let Some(msg) = identifier_problem("operator id", id) {
                self.error(self.at(i, &["id"]), "id", msg, None);
            }
            if let Some(&first) = seen.get(id) {
                let (line, _) =
                    super::syntax::LineIndex::new(self.src).line_col(self.at(first, &["id"]).start);
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
                Operator::Lookup(_) => "alias",
                Operator::KafkaSource(_) | Operator::TempTableSource(_) => "table",
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
    fn edges(&mut self) -> bool {
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
            .map(Operator::id)
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
    fn shape(&mut self) {
        let job = self.job;
        for (i, node) in job.nodes.iter().enumerate() {
            let id = node.id();
            let kind = node.kind();
            let inputs: Vec<&Operator> = job.inputs(id).filter_map(|n| job.node(n)).collect();
            let outputs: Vec<&Operator> = job.outputs(id).filter_map(|n| job.node(n)).collect();
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
            if let Operator::Sql(_) = node {
                for up in &inputs {
                    if let Operator::Sql(_) = up {
                        self.error(
                            span,
                            "sql-placement",
                            format!("SQL `{id}` reads from SQL `{}`: a SQL operator sits between sources and sinks", up.id()),
                            "merge the two queries into one operator (CREATE VIEW name AS ...; SELECT ... FROM name)".to_string(),
                        );
                    }
                }
            }
            if let Operator::Lookup(_) = node {
                for down in &outputs {
                    if !matches!(down, Operator::Sql(_) | Operator::Etl(_)) {
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

    fn parallelism(&mut self, i: usize, p: Option<u32>) {
        if let Some(p) = p
            && (p == 0 || p > MAX_PARALLELISM)
        {
            self.error(
                self.at(i, &["parallelism"]),
                "parallelism",
                format!("parallelism {p} is out of range"),
                format!("use 1 to {MAX_PARALLELISM}, or leave it out for the job default"),
            );
        }
    }

    fn non_empty(&mut self, i: usize, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.error(
                self.at(i, &[field]),
                "empty",
                format!("`{field}` is empty"),
                None,
            );
        }
    }

    fn columns(&mut self, i: usize, field: &str, cols: &[String]) {
        if cols.is_empty() {
            self.error(
                self.at(i, &[field]),
                "empty-columns",
                format!("the column list `{field}` is empty"),
                "name at least one column".to_string(),
            );
        }
        let mut seen = BTreeSet::new();
        for (k, c) in cols.iter().enumerate() {
            if c.trim().is_empty() {
                self.error(
                    self.at_item(i, field, k),
                    "empty",
                    format!("`{field}` holds an empty column name"),
                    None,
                );
            } else if !seen.insert(c.as_str()) {
                self.error(
                    self.at_item(i, field, k),
                    "duplicate-column",
                    format!("column `{c}` appears twice in `{field}`"),
                    None,
                );
            }
        }
    }

    fn fields(&mut self, i: usize, field: &str, fields: &[Field]) {
        for (k, f) in fields.iter().enumerate() {
            if let FieldType::Decimal(p, sc) = f.ty
                && (p == 0 || p > 38 || sc > p)
            {
                self.error(
                    self.at_item(i, field, k),
                    "decimal",
                    format!(
                        "Decimal({p}, {sc}) of field `{}` is not a valid type",
                        f.name
                    ),
                    "precision is 1 to 38 and scale at most the precision, e.g. Decimal(10, 2)"
                        .to_string(),
                );
            }
        }
        if fields.is_empty() {
            self.error(
                self.at(i, &[field]),
                "empty-columns",
                format!("the field list `{field}` is empty"),
                "declare at least one field: (name: \"id\", type: String)".to_string(),
            );
        }
        let mut seen = BTreeSet::new();
        for (k, f) in fields.iter().enumerate() {
            if let Some(msg) = identifier_problem("field name", &f.name) {
                self.error(self.at_item(i, field, k), "field-name", msg, None);
            } else if !seen.insert(f.name.to_lowercase()) {
                self.error(
                    self.at_item(i, field, k),
                    "duplicate-column",
                    format!("field `{}` is declared twice in `{field}`", f.name),
                    None,
                );
            }
        }
    }

    fn event_time(
        &mut self,
        i: usize,
        event_time: &Option<String>,
        watermark_ms: u64,
        fields: Option<&[Field]>,
    ) {
        let id = self.job.nodes[i].id().to_string();
        let kind = self.job.nodes[i].kind();
        match (self.job.config.time, event_time) {
            (TimeCharacteristic::Event, None) => self.error(
                self.d.node_values[i].head_span(),
                "event-time",
                format!("{kind} `{id}` has no `event_time`, but the job uses event time"),
                "name the record's time field: event_time: Some(\"ts\")".to_string(),
            ),
            (TimeCharacteristic::Processing, Some(_)) => self.warn(
                self.at(i, &["event_time"]),
                "event-time",
                format!("{kind} `{id}` sets `event_time`, but the job uses processing time, so it is ignored"),
                "set config: (time: Event, ...) to use it".to_string(),
            ),
            _ => {}
        }
        if event_time.is_none() && watermark_ms > 0 {
            self.warn(
                self.at(i, &["watermark_ms"]),
                "watermark",
                format!("`watermark_ms` of `{id}` has no effect without `event_time`"),
                None,
            );
        }
        if let (Some(et), Some(fields)) = (event_time, fields) {
            match fields.iter().find(|f| f.name == *et) {
                None => {
                    let hint = did_you_mean(et, fields.iter().map(|f| f.name.as_str()))
                        .map(|m| format!("did you mean `{m}`?"));
                    self.error(
                        self.at(i, &["event_time"]),
                        "event-time",
                        format!("event-time field `{et}` is not among the fields of `{id}`"),
                        hint,
                    );
                }
                Some(f) if !matches!(f.ty, FieldType::Timestamp | FieldType::BigInt) => self.error(
                    self.at(i, &["event_time"]),
                    "event-time",
                    format!("event-time field `{et}` has type {:?}", f.ty),
                    "an event-time field is a Timestamp or epoch milliseconds (BigInt)".to_string(),
                ),
                _ => {}
            }
        }
    }

    fn topic(&mut self, i: usize, topic: &str) {
        if let Some(msg) = topic_name_problem(topic) {
            self.error(
                self.at(i, &["topic"]),
                "topic-name",
                msg,
                "letters, digits and `_`, starting with a letter, 2 to 35 characters".to_string(),
            );
        }
    }

    fn batch(&mut self, i: usize, batch: u32) {
        if batch == 0 {
            self.error(
                self.at(i, &["batch_size"]),
                "batch-size",
                "`batch_size` is 0".into(),
                "use 1 or more rows per batch".to_string(),
            );
        }
    }

    fn operator(&mut self, i: usize, node: &Operator) {
        self.parallelism(i, node.parallelism());
        if let Some(ds) = node.datasource() {
            self.non_empty(i, "datasource", ds);
        }
        match node {
            Operator::KafkaSource(k) => {
                self.topic(i, &k.topic);
                if let Some(f) = &k.fields {
                    self.fields(i, "fields", f);
                }
                self.event_time(i, &k.event_time, k.watermark_ms, k.fields.as_deref());
                if let Some(g) = &k.group {
                    self.non_empty(i, "group", g);
                }
                if k.properties.keys().any(|p| p.trim().is_empty()) {
                    self.error(
                        self.at(i, &["properties"]),
                        "empty",
                        "a client property has an empty name".into(),
                        None,
                    );
                }
            }
            Operator::TempTableSource(t) => {
                if let Some(msg) = identifier_problem("temp table name", &t.name) {
                    self.error(self.at(i, &["name"]), "table-name", msg, None);
                }
                self.fields(i, "fields", &t.fields);
                self.event_time(i, &t.event_time, t.watermark_ms, Some(&t.fields));
            }
            Operator::Sql(_) => {}
            Operator::Etl(e) => {
                self.code(i, &e.code);
                self.fields(i, "output", &e.output);
            }
            Operator::Custom(c) => {
                self.non_empty(i, "package", &c.package);
                self.non_empty(i, "entry", &c.entry);
                match (&c.output, c.role) {
                    (None, Role::Source | Role::Transform) => self.error(
                        self.d.node_values[i].head_span(),
                        "custom-output",
                        format!(
                            "Custom `{}` acts as a {:?} and needs its `output` schema",
                            c.id, c.role
                        ),
                        "add output: Some([(name: \"...\", type: String)])".to_string(),
                    ),
                    (Some(f), _) => self.fields(i, "output", f),
                    _ => {}
                }
            }
            Operator::Lookup(l) => {
                self.non_empty(i, "table", &l.table);
                self.fields(i, "fields", &l.fields);
                self.columns(i, "key", &l.key);
                for (k, key) in l.key.iter().enumerate() {
                    if !l.fields.iter().any(|f| f.name == *key) && !key.trim().is_empty() {
                        self.error(
                            self.at_item(i, "key", k),
                            "unknown-column",
                            format!("lookup key `{key}` is not among the fields of `{}`", l.id),
                            None,
                        );
                    }
                }
                match l.cache {
                    Cache::Lru { size: 0, .. } => self.error(
                        self.at(i, &["cache", "size"]),
                        "cache",
                        "LRU cache size is 0".into(),
                        "use at least 1 entry".to_string(),
                    ),
                    Cache::All { ttl_ms: 0 } | Cache::Lru { ttl_ms: 0, .. } => self.warn(
                        self.at(i, &["cache", "ttl_ms"]),
                        "cache",
                        "cache `ttl_ms` is 0: entries never expire".into(),
                        None,
                    ),
                    _ => {}
                }
            }
            Operator::JdbcSink(j) => {
                self.non_empty(i, "table", &j.table);
                if let Some(cols) = &j.columns {
                    self.columns(i, "columns", cols);
                }
                if let JdbcOperation::Upsert { key } = &j.operation {
                    if key.is_empty() {
                        self.error(
                            self.at(i, &["operation"]),
                            "empty-columns",
                            "an upsert needs a non-empty `key`".into(),
                            "Upsert(key: [\"id\"])".to_string(),
                        );
                    }
                    if let Some(cols) = &j.columns {
                        for k in key.iter().filter(|k| !cols.contains(k)) {
                            self.error(
                                self.at(i, &["operation"]),
                                "unknown-column",
                                format!("upsert key `{k}` is not among `columns`"),
                                None,
                            );
                        }
                    }
                }
                self.batch(i, j.batch_size);
                if let ErrorPolicy::Retry { max, .. } = j.on_error
                    && !(1..=100).contains(&max)
                {
                    self.error(
                        self.at(i, &["on_error", "max"]),
                        "retry",
                        format!("retry count {max} is out of range"),
                        "use 1 to 100, or Skip / Fail".to_string(),
                    );
                }
            }
            Operator::HbaseSink(h) => {
                self.non_empty(i, "table", &h.table);
                self.non_empty(i, "family", &h.family);
                self.non_empty(i, "rowkey", &h.rowkey);
                self.batch(i, h.batch_size);
            }
            Operator::KafkaSink(k) => {
                self.topic(i, &k.topic);
                if k.properties.keys().any(|p| p.trim().is_empty()) {
                    self.error(
                        self.at(i, &["properties"]),
                        "empty",
                        "a client property has an empty name".into(),
                        None,
                    );
                }
                if let Some(key) = &k.key {
                    self.columns(i, "key", key);
                }
            }
            Operator::RedisSink(r) => {
                self.columns(i, "key", &r.key);
                self.columns(i, "value", &r.value);
                if r.separator.is_empty() {
                    self.error(
                        self.at(i, &["separator"]),
                        "empty",
                        "the key separator is empty".into(),
                        "use e.g. \":\"".to_string(),
                    );
                }
                if r.value.len() > 1 && r.command != RedisCommand::Hset {
                    self.error(
                        self.at(i, &["value"]),
                        "redis-value",
                        format!(
                            "{:?} takes one value field, found {}",
                            r.command,
                            r.value.len()
                        ),
                        "only Hset writes several fields".to_string(),
                    );
                }
                match (r.command, &r.score) {
                    (RedisCommand::Zadd, None) => self.error(
                        self.at(i, &["command"]),
                        "redis-score",
                        "Zadd needs a score field".into(),
                        "add score: Some(\"weight\")".to_string(),
                    ),
                    (RedisCommand::Zadd, Some(s)) if s.trim().is_empty() => self.error(
                        self.at(i, &["score"]),
                        "redis-score",
                        "the score field is empty".into(),
                        None,
                    ),
                    (cmd, Some(_)) if cmd != RedisCommand::Zadd => self.error(
                        self.at(i, &["score"]),
                        "redis-score",
                        format!("`score` is only used by Zadd, not {cmd:?}"),
                        "remove it".to_string(),
                    ),
                    _ => {}
                }
                if r.ttl_ms == Some(0) {
                    self.error(
                        self.at(i, &["ttl_ms"]),
                        "redis-ttl",
                        "ttl_ms 0 would expire keys at once".into(),
                        "leave ttl_ms out for keys that never expire".to_string(),
                    );
                }
            }
            Operator::EsSink(e) => {
                self.non_empty(i, "index", &e.index);
                if e.index.chars().any(|c| c.is_ascii_uppercase()) {
                    self.error(
                        self.at(i, &["index"]),
                        "es-index",
                        format!("Elasticsearch index `{}` has capital letters", e.index),
                        format!("index names are lowercase: \"{}\"", e.index.to_lowercase()),
                    );
                }
                if e.batch_size == 0 || e.batch_size > ES_MAX_BATCH {
                    self.error(
                        self.at(i, &["batch_size"]),
                        "batch-size",
                        format!("Elasticsearch batch size {} is out of range", e.batch_size),
                        format!("use 1 to {ES_MAX_BATCH}"),
                    );
                }
                if e.flush_interval_ms > ES_MAX_FLUSH_MS {
                    self.error(
                        self.at(i, &["flush_interval_ms"]),
                        "flush-interval",
                        format!(
                            "Elasticsearch flush interval {} ms is too long",
                            e.flush_interval_ms
                        ),
                        format!("use 0 (off) to {ES_MAX_FLUSH_MS} ms"),
                    );
                }
            }
            Operator::HiveSink(h) => {
                self.non_empty(i, "database", &h.database);
                self.non_empty(i, "table", &h.table);
                let mut seen = BTreeSet::new();
                for (k, p) in h.partition_by.iter().enumerate() {
                    if !seen.insert(p) {
                        self.error(
                            self.at_item(i, "partition_by", k),
                            "duplicate-column",
                            format!("partition column `{p}` appears twice"),
                            None,
                        );
                    }
                }
                if h.rollover_ms == 0 {
                    self.error(
                        self.at(i, &["rollover_ms"]),
                        "rollover",
                        "`rollover_ms` is 0".into(),
                        "use e.g. 300000 (five minutes)".to_string(),
                    );
                }
            }
            Operator::TempTableSink(t) => {
                if let Some(msg) = identifier_problem("temp table name", &t.name) {
                    self.error(self.at(i, &["name"]), "table-name", msg, None);
                }
            }
            Operator::PrintSink(p) => {
                if let Some(path) = &p.path {
                    self.non_empty(i, "path", path);
                }
            }
        }
    }

    fn code(&mut self, i: usize, code: &Code) {
        match code {
            Code::Script(s) if s.trim().is_empty() => self.error(
                self.at(i, &["code"]),
                "empty",
                "the ETL script is empty".into(),
                None,
            ),
            Code::Package { path, entry } if path.trim().is_empty() || entry.trim().is_empty() => {
                self.error(
                    self.at(i, &["code"]),
                    "empty",
                    "the ETL package needs a path and an entry".into(),
                    None,
                )
            }
            _ => {}
        }
    }

    /// Span of job-local data source `name` (or one of its fields).
    fn ds_span(&self, name: &str, field: Option<&str>) -> Span {
        let Some(f) = self.d.root.field("datasources") else {
            return self.d.root.head_span();
        };
        let super::syntax::Kind::Map { entries, .. } = &f.value.kind else {
            return f.value.head_span();
        };
        let Some(e) = entries
            .iter()
            .find(|e| matches!(&e.key.kind, super::syntax::Kind::Str(k) if k == name))
        else {
            return f.value.head_span();
        };
        match field.and_then(|n| e.value.field(n)) {
            Some(fv) => fv.value.span,
            None => e.key.span,
        }
    }

    fn datasources(&mut self) {
        let decl = &self.job.datasources;
        for (name, ds) in decl {
            if name.trim().is_empty() {
                self.error(
                    self.ds_span(name, None),
                    "empty",
                    "a data source has an empty name".into(),
                    None,
                );
            }
            if ds.address.trim().is_empty() {
                self.error(
                    self.ds_span(name, Some("address")),
                    "empty",
                    format!("data source `{name}` has an empty address"),
                    None,
                );
            }
            if let Some(p) = &ds.password
                && !(p.starts_with("env:") || p.starts_with("file:"))
            {
                self.error(
                    self.ds_span(name, Some("password")),
                    "credential",
                    format!("data source `{name}` holds a password in plain text"),
                    "refer to it instead: password: Some(\"env:NAME\") or Some(\"file:PATH\")"
                        .to_string(),
                );
            }
        }
        if decl.is_empty() {
            return;
        }
        for (i, node) in self.job.nodes.iter().enumerate() {
            let Some(ds) = node.datasource() else {
                continue;
            };
            let Some(d) = decl.get(ds) else {
                let hint = match did_you_mean(ds, decl.keys().map(String::as_str)) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!(
                        "declared data sources: {}",
                        decl.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                };
                self.error(
                    self.at(i, &["datasource"]),
                    "unknown-datasource",
                    format!("no data source named `{ds}`"),
                    hint,
                );
                continue;
            };
            use DataSourceKind as K;
            let allowed: &[K] = match node {
                Operator::KafkaSource(_) | Operator::KafkaSink(_) => &[K::Kafka],
                Operator::JdbcSink(_) => &[K::Mysql, K::Oracle, K::Postgres],
                Operator::Lookup(_) => &[K::Mysql, K::Oracle, K::Postgres, K::Redis],
                Operator::HbaseSink(_) => &[K::Hbase],
                Operator::RedisSink(_) => &[K::Redis],
                Operator::EsSink(_) => &[K::Elasticsearch],
                Operator::HiveSink(_) => &[K::Hive],
                _ => continue,
            };
            if !allowed.contains(&d.kind) {
                let names: Vec<&str> = allowed.iter().map(|k| k.name()).collect();
                self.error(
                    self.at(i, &["datasource"]),
                    "datasource-kind",
                    format!(
                        "{} `{}` cannot use {} data source `{ds}`",
                        node.kind(),
                        node.id(),
                        d.kind.name()
                    ),
                    format!("it needs a data source of kind {}", names.join(" or ")),
                );
            }
        }
    }

    fn sql(&mut self) {
        let job = self.job;
        for (i, node) in job.nodes.iter().enumerate() {
            let Operator::Sql(s) = node else { continue };
            let upstream: Vec<&str> = job
                .inputs(&s.id)
                .filter_map(|n| job.node(n))
                .filter_map(Operator::table_name)
                .collect();
            let unknown_upstream = job.inputs(&s.id).any(|n| self.d.broken_ids.contains(n));
            let Some(field) = self.d.node_values[i].field("query") else {
                continue;
            };
            let lit = field.value.span;
            for p in sql::check(&s.query, &upstream) {
                if p.code == "sql-unknown-table" && unknown_upstream {
                    continue;
                }
                let start = string_offset_to_source(self.src, lit, p.start);
                let end = string_offset_to_source(self.src, lit, p.end).max(start);
                let message = format!("{} (in SQL `{}`)", p.message, s.id);
                self.error(Span::new(start, end), p.code, message, p.hint);
            }
        }
    }
}
