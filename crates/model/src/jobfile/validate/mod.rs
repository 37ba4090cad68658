//! The rules of a job beyond its shape: ids, edges and the graph (cycles, where sources,
//! SQL and sinks may stand), parameter rules of SPEC R-job, data source references, the
//! job's alert rules (`config.alerts`) and the SQL of each SQL operator. Every rule
//! reports with the span of what it is about.

mod alerts;
mod graph;
mod job;
mod params;
mod query;

use super::Decoded;
use super::de::Problem;
use super::diagnostic::Severity;
use super::syntax::{Span, Value};
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

/// Node ids and table names are SQL identifiers: a letter or `_`, then letters,
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
    c.alerts();
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
    pub(super) fn report(
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

    pub(super) fn error(
        &mut self,
        span: Span,
        code: &'static str,
        message: String,
        hint: impl Into<Option<String>>,
    ) {
        self.report(Severity::Error, span, code, message, hint.into());
    }

    pub(super) fn warn(
        &mut self,
        span: Span,
        code: &'static str,
        message: String,
        hint: impl Into<Option<String>>,
    ) {
        self.report(Severity::Warning, span, code, message, hint.into());
    }

    /// Span of a top-level field's value, or of the job's name when absent.
    pub(super) fn top(&self, field: &str) -> Span {
        self.d
            .root
            .field(field)
            .map_or(self.d.root.head_span(), |f| f.value.head_span())
    }

    /// Span of a field of node `i` (a path such as `["on_error", "max"]`), falling back
    /// to the closest enclosing value that exists.
    pub(super) fn at(&self, i: usize, path: &[&str]) -> Span {
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
    pub(super) fn at_item(&self, i: usize, field: &str, k: usize) -> Span {
        let v = self.d.node_values[i];
        match v.field(field).map(|f| &f.value) {
            Some(list) => {
                let list = list.item(0).filter(|_| matches!(&list.kind, super::syntax::Kind::Tuple { name: Some(n), .. } if n.name == "Some")).unwrap_or(list);
                list.item(k).map_or(list.head_span(), |x| x.span)
            }
            None => v.head_span(),
        }
    }
}
