//! The canonical layout of RON job files, as `weir fmt` writes them: four-space indents,
//! one field per line for anything that does not fit on one line, trailing commas,
//! multi-line strings (SQL) as raw strings, comments kept where they were.

use super::syntax::{Comments, Document, Field, Ident, Kind, MapEntry, Value};

/// Lines longer than this are broken up.
const WIDTH: usize = 100;
const INDENT: &str = "    ";

/// Print a job serialized by ron canonically: newtype variants written `X((a: 1))` are
/// unwrapped to `X(a: 1)`, and an unnamed top-level struct gets `top_name`. Only for
/// trees weir made from a [`Job`](crate::model::Job), whose meaning these rewrites keep;
/// a user's file goes through [`print_as_written`], which changes nothing but layout.
pub fn print_document(doc: &Document, top_name: Option<&str>) -> String {
    let mut doc = doc.clone();
    normalize(&mut doc.value);
    if let (Kind::Struct { name, .. }, Some(top)) = (&mut doc.value.kind, top_name)
        && name.is_none()
    {
        *name = Some(Ident {
            name: top.to_string(),
            span: Default::default(),
        });
    }
    print_as_written(&doc)
}

/// Print a parsed document in the canonical layout, value for value as it was written:
/// `weir fmt` never changes what a file means (`Job(Job(...))` stays what it is, and
/// `validate` says what is wrong with it).
pub fn print_as_written(doc: &Document) -> String {
    let value = &doc.value;
    let mut out = String::new();
    leading(&mut out, &value.comments, 0);
    broken(&mut out, value, 0);
    if let Some(t) = &value.comments.trailing {
        out.push_str(&format!(" //{}", t.replace(['\n', '\r'], " ").trim_end()));
    }
    out.push('\n');
    for c in &doc.tail {
        comment_lines(&mut out, c, 0);
    }
    out
}

/// `X((a: 1))` and `X(X(a: 1))` mean the same as `X(a: 1)`; canonical form is the last.
pub(super) fn normalize(v: &mut Value) {
    let unwrap = match &mut v.kind {
        Kind::Tuple {
            name: Some(n),
            items,
            closing,
        } if n.name != "Some" && items.len() == 1 && closing.is_empty() => match &items[0].kind {
            Kind::Struct {
                name: inner,
                fields,
                ..
            } if !fields.is_empty()
                && inner.as_ref().is_none_or(|i| i.name == n.name)
                && items[0].comments.is_empty() =>
            {
                Some(n.clone())
            }
            _ => None,
        },
        _ => None,
    };
    if let Some(n) = unwrap
        && let Kind::Tuple { items, .. } = &mut v.kind
    {
        let inner = items.remove(0);
        if let Kind::Struct {
            fields, closing, ..
        } = inner.kind
        {
            v.kind = Kind::Struct {
                name: Some(n),
                fields,
                closing,
            };
        }
    }
    match &mut v.kind {
        Kind::List { items, .. } | Kind::Tuple { items, .. } => {
            items.iter_mut().for_each(normalize)
        }
        Kind::Struct { fields, .. } => fields.iter_mut().for_each(|f| normalize(&mut f.value)),
        Kind::Map { entries, .. } => entries.iter_mut().for_each(|e| {
            normalize(&mut e.key);
            normalize(&mut e.value)
        }),
        _ => {}
    }
}

fn comment_lines(out: &mut String, text: &str, depth: usize) {
    for line in text.lines().chain(text.is_empty().then_some("")) {
        out.push_str(&INDENT.repeat(depth));
        out.push_str("//");
        if !line.is_empty() && !line.starts_with(' ') && !text.contains('\n') {
            out.push_str(line);
        } else if text.contains('\n') {
            let t = line.trim();
            if !t.is_empty() {
                out.push(' ');
                out.push_str(t.trim_start_matches('*').trim_start());
            }
        } else {
            out.push_str(line);
        }
        // trailing blanks would not survive a second `weir fmt`
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
    }
}

fn leading(out: &mut String, c: &Comments, depth: usize) {
    for l in &c.leading {
        comment_lines(out, l, depth);
    }
}

/// The value on one line, or None when it cannot be (comments, multi-line strings).
fn flat(v: &Value) -> Option<String> {
    if !v.comments.is_empty() {
        return None;
    }
    Some(match &v.kind {
        Kind::Str(s) if s.contains('\n') => return None,
        Kind::List { items, closing } => {
            if !closing.is_empty() {
                return None;
            }
            format!(
                "[{}]",
                items
                    .iter()
                    .map(flat)
                    .collect::<Option<Vec<_>>>()?
                    .join(", ")
            )
        }
        Kind::Tuple {
            name,
            items,
            closing,
        } => {
            if !closing.is_empty() {
                return None;
            }
            let body = items
                .iter()
                .map(flat)
                .collect::<Option<Vec<_>>>()?
                .join(", ");
            format!("{}({body})", name.as_ref().map_or("", |n| n.name.as_str()))
        }
        Kind::Struct {
            name,
            fields,
            closing,
        } => {
            if !closing.is_empty() || fields.iter().any(|f| !f.comments.is_empty()) {
                return None;
            }
            let body = fields
                .iter()
                .map(|f| flat(&f.value).map(|v| format!("{}: {v}", f.name.name)))
                .collect::<Option<Vec<_>>>()?
                .join(", ");
            format!("{}({body})", name.as_ref().map_or("", |n| n.name.as_str()))
        }
        Kind::Map { entries, closing } => {
            if !closing.is_empty() || entries.iter().any(|e| !e.comments.is_empty()) {
                return None;
            }
            let body = entries
                .iter()
                .map(|e| Some(format!("{}: {}", flat(&e.key)?, flat(&e.value)?)))
                .collect::<Option<Vec<_>>>()?
                .join(", ");
            format!("{{{body}}}")
        }
        other => scalar(other),
    })
}

/// A scalar value as the canonical form writes it (containers give "").
pub fn scalar(k: &Kind) -> String {
    match k {
        Kind::Unit => "()".into(),
        Kind::Bool(b) => b.to_string(),
        Kind::Int(i) => i.to_string(),
        Kind::Float(f) => {
            let s = format!("{f:?}");
            if f.is_finite() && !s.contains(['.', 'e']) {
                format!("{s}.0")
            } else {
                s
            }
        }
        Kind::Str(s) => string(s),
        Kind::Char(c) => match c {
            '\'' => "'\\''".into(),
            '\\' => "'\\\\'".into(),
            c if c.is_control() => format!("'\\u{{{:x}}}'", *c as u32),
            c => format!("'{c}'"),
        },
        Kind::Ident(i) => ident(&i.name),
        _ => String::new(),
    }
}

const KEYWORDS: [&str; 4] = ["true", "false", "inf", "NaN"];

/// A name, written raw (`r#name`) where it would otherwise read as something else.
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_alphabetic())
        && name.chars().all(|c| c == '_' || c.is_alphanumeric());
    if plain && !KEYWORDS.contains(&name) {
        name.to_string()
    } else {
        format!("r#{name}")
    }
}

/// A string literal: raw when it spans lines, escaped otherwise.
pub fn string(s: &str) -> String {
    if s.contains('\n') && !s.contains('\r') {
        let mut hashes = 1;
        while s.contains(&format!("\"{}", "#".repeat(hashes))) {
            hashes += 1;
        }
        let h = "#".repeat(hashes);
        return format!("r{h}\"{s}\"{h}");
    }
    escaped(s)
}

/// A string literal with escapes, never raw.
pub fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value on one line as `weir fmt` writes short values (comments dropped); strings
/// with line breaks are escaped (`"a\nb"`) rather than raw, so the text fits one line.
pub fn one_line(v: &Value) -> String {
    let join = |items: &[Value]| items.iter().map(one_line).collect::<Vec<_>>().join(", ");
    match &v.kind {
        Kind::Str(s) => escaped(s),
        Kind::Unit
        | Kind::Bool(_)
        | Kind::Int(_)
        | Kind::Float(_)
        | Kind::Char(_)
        | Kind::Ident(_) => scalar(&v.kind),
        Kind::List { items, .. } => format!("[{}]", join(items)),
        Kind::Tuple { name, items, .. } => {
            format!(
                "{}({})",
                name.as_ref().map_or("", |n| n.name.as_str()),
                join(items)
            )
        }
        Kind::Struct { name, fields, .. } => {
            let body: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", ident(&f.name.name), one_line(&f.value)))
                .collect();
            format!(
                "{}({})",
                name.as_ref().map_or("", |n| n.name.as_str()),
                body.join(", ")
            )
        }
        Kind::Map { entries, .. } => {
            let body: Vec<String> = entries
                .iter()
                .map(|e| format!("{}: {}", one_line(&e.key), one_line(&e.value)))
                .collect();
            format!("{{{}}}", body.join(", "))
        }
    }
}

/// Lists of structs (like `nodes` and `fields`) always put one item per line.
fn force_break(v: &Value) -> bool {
    match &v.kind {
        Kind::Tuple {
            name: Some(_),
            items,
            ..
        } if items.len() == 1 => force_break(&items[0]),
        Kind::List { items, .. } => items
            .iter()
            .any(|i| matches!(&i.kind, Kind::Struct { fields, .. } if !fields.is_empty())),
        _ => false,
    }
}

/// A job-level setting (a field of `Job`, printed at depth 1) that holds a list of
/// structs, like `config` with `alerts`, is broken up so that the list puts one item per
/// line too. Deeper structs (an operator's parameters) keep fitting on one line.
fn holds_record_list(v: &Value, depth: usize) -> bool {
    depth == 1
        && matches!(&v.kind, Kind::Struct { fields, .. }
            if fields.iter().any(|f| force_break(&f.value)))
}

/// Print `v` at the cursor (after `prefix_len` characters on a line indented `depth`).
fn value(out: &mut String, v: &Value, depth: usize, prefix_len: usize) {
    if !force_break(v)
        && !holds_record_list(v, depth)
        && let Some(f) = flat(v)
        && depth * INDENT.len() + prefix_len + f.chars().count() < WIDTH
    {
        out.push_str(&f);
        return;
    }
    broken(out, v, depth);
}

fn item_end(out: &mut String, c: &Comments) {
    out.push(',');
    if let Some(t) = &c.trailing {
        out.push_str(" //");
        // a block comment spanning lines still has to end on this line
        out.push_str(t.replace(['\n', '\r'], " ").trim_end());
    }
    out.push('\n');
}

fn closing_comments(out: &mut String, closing: &[String], depth: usize) {
    for c in closing {
        comment_lines(out, c, depth);
    }
}

/// Print `v` over several lines; the cursor is where the value starts.
fn broken(out: &mut String, v: &Value, depth: usize) {
    let pad = INDENT.repeat(depth + 1);
    match &v.kind {
        Kind::List { items, closing } => {
            if items.is_empty() && closing.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[\n");
            items_body(out, items, depth);
            closing_comments(out, closing, depth + 1);
            out.push_str(&INDENT.repeat(depth));
            out.push(']');
        }
        // `Some([` ... `])`: a named wrapper of one value hugs it
        Kind::Tuple {
            name: Some(n),
            items,
            closing,
        } if items.len() == 1 && closing.is_empty() && items[0].comments.is_empty() => {
            out.push_str(&n.name);
            out.push('(');
            broken(out, &items[0], depth);
            out.push(')');
        }
        Kind::Tuple {
            name,
            items,
            closing,
        } => {
            out.push_str(name.as_ref().map_or("", |n| n.name.as_str()));
            out.push_str("(\n");
            items_body(out, items, depth);
            closing_comments(out, closing, depth + 1);
            out.push_str(&INDENT.repeat(depth));
            out.push(')');
        }
        Kind::Struct {
            name,
            fields,
            closing,
        } => {
            out.push_str(name.as_ref().map_or("", |n| n.name.as_str()));
            if fields.is_empty() && closing.is_empty() {
                out.push_str("()");
                return;
            }
            out.push_str("(\n");
            for f in fields {
                field(out, f, depth + 1);
            }
            closing_comments(out, closing, depth + 1);
            out.push_str(&INDENT.repeat(depth));
            out.push(')');
        }
        Kind::Map { entries, closing } => {
            if entries.is_empty() && closing.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{\n");
            for e in entries {
                entry(out, e, depth + 1, &pad);
            }
            closing_comments(out, closing, depth + 1);
            out.push_str(&INDENT.repeat(depth));
            out.push('}');
        }
        other => out.push_str(&scalar(other)),
    }
}

fn items_body(out: &mut String, items: &[Value], depth: usize) {
    let pad = INDENT.repeat(depth + 1);
    for item in items {
        leading(out, &item.comments, depth + 1);
        out.push_str(&pad);
        let mut bare = item.clone();
        bare.comments = Comments::default();
        value(out, &bare, depth + 1, 0);
        item_end(out, &item.comments);
    }
}

fn field(out: &mut String, f: &Field, depth: usize) {
    leading(out, &f.comments, depth);
    out.push_str(&INDENT.repeat(depth));
    let name = ident(&f.name.name);
    out.push_str(&name);
    out.push_str(": ");
    value(out, &f.value, depth, name.len() + 2);
    item_end(out, &f.comments);
}

fn entry(out: &mut String, e: &MapEntry, depth: usize, pad: &str) {
    leading(out, &e.comments, depth);
    out.push_str(pad);
    // a key is always one line: a multi-line string key is written escaped
    let key = one_line(&e.key);
    out.push_str(&key);
    out.push_str(": ");
    value(out, &e.value, depth, key.chars().count() + 2);
    item_end(out, &e.comments);
}
