//! Job files: read RON (`syntax`), decode into the model (`de`), check every rule
//! (`validate`, `sql`), report diagnostics (`diagnostic`) and write the canonical form
//! (`print`). Nothing here runs a job or touches the store.

pub mod comments;
pub mod de;
pub mod diagnostic;
pub mod fields;
mod keep;
pub mod meaning;
pub mod print;
pub mod read;
pub mod sql;
pub mod syntax;
pub mod validate;

#[cfg(test)]
mod proptests;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;

pub use diagnostic::{Diagnostic, Severity};
pub use read::{MAX_JOB_FILE_BYTES, read_job_file};

use crate::model::{Job, Node};
use de::Problem;
use syntax::{Document, Kind, LineIndex, Value};

/// The outcome of reading one job file: the job when it decoded, and every diagnostic.
#[derive(Debug, Clone)]
pub struct Checked {
    pub job: Option<Job>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The job if it is valid (warnings allowed).
    pub fn valid_job(&self) -> Option<&Job> {
        if self.has_errors() {
            None
        } else {
            self.job.as_ref()
        }
    }
}

/// Read and check a job file from disk.
pub fn check_file(path: &Path) -> Checked {
    check_file_with(path, &|_| Vec::new())
}

/// [`check_file`] with checks from other crates (see [`check_source_with`]). The file is
/// read by [`read_job_file`]: a regular file of at most [`MAX_JOB_FILE_BYTES`].
pub fn check_file_with(path: &Path, extra: &dyn Fn(&Job) -> Vec<NodeProblem>) -> Checked {
    match read_job_file(path) {
        Ok(bytes) => check_bytes_with(&path.display().to_string(), &bytes, extra),
        Err(d) => Checked {
            job: None,
            diagnostics: vec![*d],
        },
    }
}

/// Check raw bytes: they must be UTF-8 text before anything else.
pub fn check_bytes(file: &str, bytes: &[u8]) -> Checked {
    check_bytes_with(file, bytes, &|_| Vec::new())
}

/// [`check_bytes`] with checks from other crates (see [`check_source_with`]).
pub fn check_bytes_with(
    file: &str,
    bytes: &[u8],
    extra: &dyn Fn(&Job) -> Vec<NodeProblem>,
) -> Checked {
    match std::str::from_utf8(bytes) {
        Ok(src) => check_source_with(file, src, extra),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let prefix = std::str::from_utf8(valid).unwrap_or_default();
            let index = LineIndex::new(prefix);
            let (line, column) = index.line_col(prefix.len());
            let byte = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
            let mut d = Diagnostic::whole_file(
                file,
                "not-text",
                format!(
                    "the file is not UTF-8 text: byte 0x{byte:02x} at line {line}, column {column}"
                ),
                Some("job files are UTF-8 RON text; is this the right file?".into()),
            );
            d.line = line;
            d.column = column;
            d.end_line = line;
            d.end_column = column + 1;
            d.source_line = index.line_text(line).to_string();
            Checked {
                job: None,
                diagnostics: vec![d],
            }
        }
    }
}

/// A problem found by a check that lives outside the model (e.g. the engine's "does it
/// run this SQL?"), pointed at a field of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeProblem {
    pub node: String,
    /// The field to point at (e.g. `query`); the node's name when absent.
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    /// A byte range inside the field's string value as decoded (e.g. the unknown column
    /// in a query): the diagnostic points there, mapped through the string literal's
    /// escapes, instead of at the start of the string. `None`, or a field that is not a
    /// string, points at the whole field value.
    pub within: Option<std::ops::Range<usize>>,
}

/// Where a [`NodeProblem`] points in the file: the range inside its field's string
/// literal when it names one, else the field's value, else the node's name.
fn node_problem_span(src: &str, node: &Value, p: &NodeProblem) -> syntax::Span {
    let Some(field) = node.field(p.field) else {
        return node.head_span();
    };
    let lit = field.value.span;
    match (&p.within, &field.value.kind) {
        (Some(r), Kind::Str(decoded)) if r.start <= r.end && r.end <= decoded.len() => {
            let start = syntax::string_offset_to_source(src, lit, r.start);
            let end = syntax::string_offset_to_source(src, lit, r.end).max(start);
            syntax::Span::new(start, end)
        }
        _ => lit,
    }
}

/// Parse, decode and validate job file text.
pub fn check_source(file: &str, src: &str) -> Checked {
    check_source_with(file, src, &|_| Vec::new())
}

/// [`check_source`], then — for a job with no errors — `extra` checks from other crates,
/// reported with the same file:line:column as the model's own.
pub fn check_source_with(
    file: &str,
    src: &str,
    extra: &dyn Fn(&Job) -> Vec<NodeProblem>,
) -> Checked {
    let index = LineIndex::new(src);
    let doc = match syntax::parse(src) {
        Ok(d) => d,
        Err(e) => {
            return Checked {
                job: None,
                diagnostics: vec![Diagnostic::new(
                    file,
                    &index,
                    e.span,
                    Severity::Error,
                    "syntax",
                    e.message,
                    e.hint,
                )],
            };
        }
    };
    let decoded = decode_job(&doc.value);
    let mut findings: Vec<(Severity, Problem)> = decoded
        .problems
        .iter()
        .cloned()
        .map(|p| (Severity::Error, p))
        .collect();
    if let Some(job) = &decoded.job {
        findings.extend(validate::validate(src, job, &decoded));
        if !findings.iter().any(|(sev, _)| *sev == Severity::Error) {
            for p in extra(job) {
                let Some(i) = job.nodes.iter().position(|n| n.id() == p.node) else {
                    continue;
                };
                let Some(value) = decoded.node_values.get(i) else {
                    continue;
                };
                let span = node_problem_span(src, value, &p);
                findings.push((
                    Severity::Error,
                    Problem {
                        span,
                        code: p.code,
                        message: p.message,
                        hint: p.hint,
                    },
                ));
            }
        }
    }
    findings.sort_by_key(|(_, p)| (p.span.start, p.span.end));
    let diagnostics = findings
        .into_iter()
        .map(|(sev, p)| Diagnostic::new(file, &index, p.span, sev, p.code, p.message, p.hint))
        .collect();
    Checked {
        job: decoded.job,
        diagnostics,
    }
}

/// A job decoded from a tree, with the tree values each node and edge came from.
pub struct Decoded<'a> {
    pub job: Option<Job>,
    pub problems: Vec<Problem>,
    pub root: &'a Value,
    /// The tree value of each of `job.nodes`, in order.
    pub node_values: Vec<&'a Value>,
    /// The tree value of each of `job.edges`, in order.
    pub edge_values: Vec<&'a Value>,
    /// Ids of nodes that failed to decode: rules about them are skipped rather than
    /// reported twice.
    pub broken_ids: BTreeSet<String>,
    /// Some edge failed to decode: graph-shape rules would be guesses.
    pub edges_broken: bool,
    /// Top-level fields left out because their values were broken (the job decoded
    /// with their defaults): rules that depend on them are skipped.
    pub head_dropped: BTreeSet<String>,
}

/// Decode the top-level value into a job, node by node and edge by edge, so that one bad
/// operator does not hide the problems of the others.
pub fn decode_job(root: &Value) -> Decoded<'_> {
    let problems = RefCell::new(Vec::new());
    let mut fatal = Vec::new();
    let mut d = Decoded {
        job: None,
        problems: Vec::new(),
        root,
        node_values: Vec::new(),
        edge_values: Vec::new(),
        broken_ids: BTreeSet::new(),
        edges_broken: false,
        head_dropped: BTreeSet::new(),
    };
    let Kind::Struct {
        name,
        fields,
        closing,
    } = &root.kind
    else {
        let (message, hint) = match &root.kind {
            // `Job(Job(...))` or `Job((...))`: a job inside a wrapper
            Kind::Tuple {
                name: Some(n),
                items,
                ..
            } if n.name == "Job"
                && matches!(items.as_slice(), [i] if matches!(i.kind, Kind::Struct { .. })) =>
            {
                (
                    "the job is wrapped in a second `Job(...)`".to_string(),
                    "write the job once: `Job(version: 1, name: ..., nodes: [...])`, without the outer `Job(` and its `)`",
                )
            }
            _ => (
                format!("expected `Job(...)`, found {}", root.kind.describe()),
                "a job file holds one `Job(version: 1, name: ..., nodes: [...], edges: [...])`",
            ),
        };
        d.problems.push(Problem {
            span: root.head_span(),
            code: "not-a-job",
            message,
            hint: Some(hint.into()),
        });
        return d;
    };
    if let Some(n) = name
        && n.name != "Job"
    {
        let hint = match de::did_you_mean(&n.name, ["Job"]) {
            Some(_) => "did you mean `Job`?".to_string(),
            None => "a job file starts with `Job(`".to_string(),
        };
        d.problems.push(Problem {
            span: n.span,
            code: "not-a-job",
            message: format!("expected `Job(...)`, found `{}(...)`", n.name),
            hint: Some(hint),
        });
        return d;
    }
    // the head: every field but nodes and edges
    let head_fields = fields
        .iter()
        .filter(|f| f.name.name != "nodes" && f.name.name != "edges")
        .cloned()
        .collect();
    let head = Value {
        kind: Kind::Struct {
            name: name.clone(),
            fields: head_fields,
            closing: closing.clone(),
        },
        span: root.span,
        comments: Default::default(),
    };
    let (job, dropped) = decode_dropping::<Job>(&head, &problems, &mut fatal);
    d.head_dropped = dropped.into_iter().collect();
    let mut nodes = Vec::new();
    let list_of = |name: &str, fatal: &mut Vec<Problem>| -> Option<&Vec<Value>> {
        let f = root.field(name)?;
        match &f.value.kind {
            Kind::List { items, .. } => Some(items),
            other => {
                fatal.push(Problem {
                    span: f.value.head_span(),
                    code: "wrong-type",
                    message: format!(
                        "`{name}` must be a list `[...]`, found {}",
                        other.describe()
                    ),
                    hint: None,
                });
                None
            }
        }
    };
    if let Some(items) = list_of("nodes", &mut fatal) {
        for item in items {
            match decode_dropping::<Node>(item, &problems, &mut fatal) {
                (Some(op), dropped) if dropped.is_empty() => {
                    nodes.push(op);
                    d.node_values.push(item);
                }
                // every broken field of the node is reported; its rules are skipped
                _ => {
                    // `Kind(id: ...)` or `Kind((id: ...))`
                    let body = match &item.kind {
                        Kind::Tuple { items, .. } if items.len() == 1 => &items[0],
                        _ => item,
                    };
                    if let Some(f) = body.field("id")
                        && let Kind::Str(id) = &f.value.kind
                    {
                        d.broken_ids.insert(id.clone());
                    }
                }
            }
        }
    }
    let mut edges = Vec::new();
    if let Some(items) = list_of("edges", &mut fatal) {
        for item in items {
            match de::decode::<(String, String)>(item, &problems) {
                Ok(e) => {
                    edges.push(e);
                    d.edge_values.push(item);
                }
                Err(mut p) => {
                    if p.code == "wrong-type" || p.code == "wrong-length" {
                        p.hint.get_or_insert_with(|| {
                            "an edge is a pair of node ids: (\"from\", \"to\")".into()
                        });
                    }
                    d.edges_broken = true;
                    fatal.push(p);
                }
            }
        }
    }
    d.problems = problems.into_inner();
    d.problems.extend(fatal);
    d.job = job.map(|mut j| {
        j.nodes = nodes;
        j.edges = edges;
        j
    });
    d
}

/// Decode `value`; when a field's value is at fault, report it, leave the field out and
/// try again, so that every broken field is reported. A dropped optional field takes its
/// default; a dropped required one ends the attempt with its `missing-field` problem
/// (which points at the struct, not a field). Returns the value and the dropped fields.
fn decode_dropping<T: serde::de::DeserializeOwned>(
    value: &Value,
    problems: &RefCell<Vec<Problem>>,
    fatal: &mut Vec<Problem>,
) -> (Option<T>, Vec<String>) {
    let mut current = value.clone();
    let mut dropped = Vec::new();
    loop {
        // non-fatal problems repeat on every attempt: keep each once
        let attempt = RefCell::new(Vec::new());
        let result = de::decode::<T>(&current, &attempt);
        {
            let mut all = problems.borrow_mut();
            for p in attempt.into_inner() {
                if !all.contains(&p) {
                    all.push(p);
                }
            }
        }
        let p = match result {
            Ok(v) => return (Some(v), dropped),
            Err(p) => p,
        };
        // a required field we left out is missing now: its own problem is reported
        if p.code == "missing-field"
            && dropped
                .iter()
                .any(|d| p.message.starts_with(&format!("missing field `{d}`")))
        {
            return (None, dropped);
        }
        let span = p.span;
        fatal.push(p);
        let body = match &mut current.kind {
            Kind::Tuple { items, .. } if items.len() == 1 => &mut items[0].kind,
            other => other,
        };
        let Kind::Struct { fields, .. } = body else {
            return (None, dropped);
        };
        let holder = fields.iter().position(|f| {
            f.name.span == span
                || (f.value.span.start <= span.start
                    && span.start < f.value.span.end.max(f.value.span.start + 1))
        });
        match holder {
            Some(i) => dropped.push(fields.remove(i).name.name),
            None => return (None, dropped),
        }
    }
}

/// The canonical text of a job written from nothing (a new job), as the graph editor
/// writes it: no field that holds its default is written (`keep`).
pub fn to_ron(job: &Job) -> String {
    written(job, None)
}

/// The canonical text of a job that replaces `previous` (the file as it is on disk): the
/// file changes only where the job did. A field `previous` left out that still holds its
/// default stays out, a field it wrote stays, fields and map entries keep its order, and
/// its comments stay where their fields and operators still are. Saving a job without
/// edits over its canonical file gives that file back byte for byte.
pub fn to_ron_keeping_comments(job: &Job, previous: &str) -> String {
    match syntax::parse(previous) {
        Ok(old) => written(job, Some(&old)),
        Err(_) => to_ron(job),
    }
}

/// `job` printed canonically, fitted to `previous`'s tree when there is one.
fn written(job: &Job, previous: Option<&Document>) -> String {
    // ron's own writer gives a correct tree; our printer gives it the canonical layout.
    let text = ron::to_string(job).unwrap_or_default();
    let Ok(mut new) = syntax::parse(&text) else {
        return text;
    };
    print::normalize(&mut new.value);
    let old = previous.map(|p| {
        let mut v = p.value.clone();
        print::normalize(&mut v);
        v
    });
    keep::fit(job, old.as_ref(), &mut new.value);
    if let Some(p) = previous {
        comments::carry_over(p, &mut new);
    }
    print::print_document(&new, Some("Job"))
}

/// Rewrite a job file's text canonically, keeping its comments. Fails only on syntax
/// errors (a file with other problems is still formatted), with the diagnostic `weir
/// validate` gives. The result is checked before it is returned: it must mean what `src`
/// means ([`meaning::same_meaning`]) and be canonical itself; if it is not (a bug in the
/// printer), the file is refused with code `fmt-bug` rather than changed.
pub fn format_source(file: &str, src: &str) -> Result<String, Box<Diagnostic>> {
    let index = LineIndex::new(src);
    let doc: Document = syntax::parse(src).map_err(|e| {
        Box::new(Diagnostic::new(
            file,
            &index,
            e.span,
            Severity::Error,
            "syntax",
            e.message,
            e.hint,
        ))
    })?;
    let formatted = print::print_as_written(&doc);
    let kept = syntax::parse(&formatted).is_ok_and(|again| {
        meaning::same_meaning(&again.value, &doc.value)
            && print::print_as_written(&again) == formatted
    });
    if !kept {
        return Err(Box::new(Diagnostic::whole_file(
            file,
            "fmt-bug",
            "weir fmt cannot rewrite this file without changing what it means; the file is left as it is".into(),
            Some("this is a bug in weir fmt: please report it with the file".into()),
        )));
    }
    Ok(formatted)
}
