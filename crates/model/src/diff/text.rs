//! Line diffs of text parameters (SQL queries, scripts, any multi-line string), with the
//! `similar` crate: a unified diff for printing and the full line list for side-by-side
//! views.

use serde::Serialize;
use serde_json::Value;

use super::ParamChange;
use super::path::{self, Segment};

/// A changed text parameter of one node, line by line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextDiff {
    /// The parameter's path inside the node, as in [`ParamChange::path`].
    pub path: String,
    /// The old text; empty when the parameter was absent.
    pub old: String,
    /// The new text; empty when the parameter is absent now.
    pub new: String,
    /// `--- a/<id>.<path>` / `+++ b/<id>.<path>`, then hunks with 3 lines of context.
    pub unified: String,
    /// Every line of both texts, in diff order (equal lines included).
    pub lines: Vec<DiffLine>,
}

/// One line of a [`TextDiff`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub tag: LineTag,
    /// Line number in the old text, from 1; absent for an inserted line.
    pub old_no: Option<usize>,
    /// Line number in the new text, from 1; absent for a deleted line.
    pub new_no: Option<usize>,
    /// The line without its line break.
    pub text: String,
}

/// Whether a line is in both texts, only the old one, or only the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineTag {
    Equal,
    Delete,
    Insert,
}

/// Whether a change is to a text parameter: a `query`, an ETL `code.Script`, or any
/// string with a line break on either side.
pub fn is_text(change: &ParamChange) -> bool {
    let text_or_absent = |v: &Option<Value>| matches!(v, None | Some(Value::String(_)));
    if !text_or_absent(&change.old) || !text_or_absent(&change.new) {
        return false;
    }
    let multi_line = [&change.old, &change.new]
        .into_iter()
        .any(|v| matches!(v, Some(Value::String(s)) if s.contains('\n')));
    let named = match path::parse(&change.path).as_deref() {
        Ok([.., Segment::Key(k)]) if k == "query" => true,
        Ok([.., Segment::Key(code), Segment::Key(script)]) => code == "code" && script == "Script",
        _ => false,
    };
    multi_line || named
}

/// The line diff of a text parameter `change` of node `id` (see [`is_text`]).
pub fn text_diff(id: &str, change: &ParamChange) -> TextDiff {
    let text = |v: &Option<Value>| match v {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let old = text(&change.old);
    let new = text(&change.new);
    // Queries rarely end with a line break. When neither text does, their last lines are
    // compared as if they did, so appending a line does not show the old last line as
    // changed; "\ No newline at end of file" is kept for when that is the difference.
    let both_open = !old.ends_with('\n') && !new.ends_with('\n');
    let close = |s: &str| match both_open && !s.is_empty() {
        true => format!("{s}\n"),
        false => s.to_string(),
    };
    let (old_lines, new_lines) = (close(&old), close(&new));
    let diff = similar::TextDiff::from_lines(old_lines.as_str(), new_lines.as_str());
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(!both_open)
        .header(
            &format!("a/{id}.{}", change.path),
            &format!("b/{id}.{}", change.path),
        )
        .to_string();
    let lines = diff
        .iter_all_changes()
        .map(|c| DiffLine {
            tag: match c.tag() {
                similar::ChangeTag::Equal => LineTag::Equal,
                similar::ChangeTag::Delete => LineTag::Delete,
                similar::ChangeTag::Insert => LineTag::Insert,
            },
            old_no: c.old_index().map(|i| i + 1),
            new_no: c.new_index().map(|i| i + 1),
            text: c.value().trim_end_matches(['\n', '\r']).to_string(),
        })
        .collect();
    TextDiff {
        path: change.path.clone(),
        old,
        new,
        unified,
        lines,
    }
}
