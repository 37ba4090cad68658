//! `weir validate` with or without the store's catalog: the model's rules plus
//! [`problems`], and (with the catalog) every [`Difference`](super::Difference) as a
//! warning at its place in the file.

use std::path::Path;

use super::{Differs, differences, problems};
use crate::AppError;
use crate::governance::Topic;
use crate::jobfile::syntax::{self, Kind, LineIndex, Span, Value};
use crate::jobfile::{self, Checked, Diagnostic, Severity};

/// `weir validate` of one file: offline (`topics` = `None`) the model's rules, sources
/// without fields and the engine's SQL checks; with the store's catalog, sources take
/// their schema from it and every difference from it is a warning.
pub fn check_file(path: &Path, topics: Option<&[Topic]>) -> Checked {
    let name = path.display().to_string();
    // the model's reader: regular files only, at most jobfile::MAX_JOB_FILE_BYTES
    match jobfile::read_job_file(path) {
        Ok(bytes) => match std::str::from_utf8(&bytes) {
            Ok(src) => check_source(&name, src, topics),
            // not text: the model's own report says where
            Err(_) => jobfile::check_bytes(&name, &bytes),
        },
        Err(d) => Checked {
            job: None,
            diagnostics: vec![*d],
        },
    }
}

/// [`check_file`] on text.
pub fn check_source(file: &str, src: &str, topics: Option<&[Topic]>) -> Checked {
    let mut checked = jobfile::check_source_with(file, src, &|job| problems(job, topics));
    let (Some(topics), Some(job)) = (topics, &checked.job) else {
        return checked;
    };
    let diffs = differences(job, topics);
    if diffs.is_empty() {
        return checked;
    }
    let Ok(doc) = syntax::parse(src) else {
        return checked;
    };
    let decoded = jobfile::decode_job(&doc.value);
    let index = LineIndex::new(src);
    for d in diffs {
        let span = decoded
            .job
            .as_ref()
            .and_then(|j| j.nodes.iter().position(|n| n.id() == d.node))
            .and_then(|i| decoded.node_values.get(i))
            .map_or(Span::default(), |v| place(body(v), &d.what));
        let hint = format!(
            "the catalog is the topic's contract (weir topic show {}); change the job to match, or drop `fields` to take the catalog's",
            d.topic
        );
        checked.diagnostics.push(Diagnostic::new(
            file,
            &index,
            span,
            Severity::Warning,
            d.code(),
            d.message.clone(),
            Some(hint),
        ));
    }
    checked.diagnostics.sort_by_key(|d| (d.line, d.column));
    checked
}

/// A node's struct: `KafkaSource(id: ...)` or `KafkaSource((id: ...))`.
fn body(v: &Value) -> &Value {
    match &v.kind {
        Kind::Tuple { items, .. } if items.len() == 1 => &items[0],
        _ => v,
    }
}

/// Where in a source node a difference is: the field's entry (its type, for a type), the
/// `format` value, or the `fields` list; the node's name when those are not found.
fn place(node: &Value, what: &Differs) -> Span {
    let fields = node.field("fields").map(|f| &f.value);
    let list = fields.map(|v| match &v.kind {
        Kind::Tuple { items, .. } if items.len() == 1 => &items[0],
        _ => v,
    });
    let entry = |name: &str| -> Option<&Value> {
        let Kind::List { items, .. } = &list?.kind else {
            return None;
        };
        items.iter().find(|item| {
            item.field("name")
                .is_some_and(|n| matches!(&n.value.kind, Kind::Str(s) if s == name))
        })
    };
    let found = match what {
        Differs::Type(name) => entry(name)
            .and_then(|e| e.field("type"))
            .map(|t| t.value.span),
        Differs::Extra(name) => entry(name)
            .and_then(|e| e.field("name"))
            .map(|n| n.value.span),
        Differs::Format => node.field("format").map(|f| f.value.span),
        Differs::Missing(_) | Differs::Order => fields.map(Value::head_span),
    };
    found.unwrap_or_else(|| node.head_span())
}

/// The catalog of the store the command line names (`--store`, `WEIR_STORE`, or
/// `WEIR_DATABASE_URL`), for `weir validate --store`: every topic. A plain path that
/// holds no store is refused rather than created.
pub fn catalog(store_flag: Option<&Path>) -> Result<Vec<Topic>, AppError> {
    let url_set = std::env::var("WEIR_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty());
    if let Some(p) = store_flag
        && !url_set
        && !p.to_string_lossy().contains("://")
        && !p.to_string_lossy().starts_with("sqlite:")
        && !p.exists()
    {
        return Err(AppError::User(format!(
            "no metadata store at {}; name an existing store with --store (or create one: weir whoami --create --store {})",
            p.display(),
            p.display()
        )));
    }
    let cwd = std::env::current_dir().map_err(|e| AppError::io("no current directory", e))?;
    let url = crate::governance::store_url(store_flag, &cwd)?;
    crate::engine::on_store(&url, |gov| async move { gov.topics(None).await })
}
