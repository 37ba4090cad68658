//! Parameter changes between two serde trees (a node's parameters, or a job's head), and
//! applying them back.
//!
//! The trees are `serde_json::Value`s of the model types. [`diff_values`] walks both at
//! once and reports each *leaf* that differs, at its [path](super::path):
//! - objects present on both sides are compared key by key (keys in sorted order);
//! - an object present on one side only is listed leaf by leaf (`package.path: absent →
//!   "p.so"`), and an object emptied by [`apply`] is removed again: every optional or
//!   map-valued field of the model reads "absent" and "empty" alike;
//! - two one-key objects with different capitalised keys are enum variants (`Retry {…}`
//!   becoming `Fail`, `Lru {…}` becoming `All {…}`) and change as one value;
//! - arrays of records (`fields`) are compared index by index (`fields[1].type`), an
//!   element only on one side being one value (`fields[3]: absent → {…}`); arrays of
//!   scalars (`key`, `columns`, `Decimal`'s pair) change as one value;
//! - anything else that differs is one change, old → new.
//!
//! No change's path is a prefix of another's, which is what lets [`apply`] replay them:
//! removals last-first (so array tails shrink from the end), then the rest in order.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::ParamChange;
use super::path::{self, Segment};

/// The changes that turn `a` into `b`, in path order (sorted keys, ascending indices).
pub fn diff_values(a: &Value, b: &Value) -> Vec<ParamChange> {
    let mut out = Vec::new();
    let mut prefix = Vec::new();
    walk(&mut prefix, Some(a), Some(b), &mut out);
    out
}

fn walk(
    prefix: &mut Vec<Segment>,
    a: Option<&Value>,
    b: Option<&Value>,
    out: &mut Vec<ParamChange>,
) {
    if a == b {
        return;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y)))
            if prefix.is_empty() || !is_variant_switch(x, y) =>
        {
            walk_objects(prefix, Some(x), Some(y), out);
        }
        (None, Some(Value::Object(y))) if !y.is_empty() && !prefix.is_empty() => {
            walk_objects(prefix, None, Some(y), out);
        }
        (Some(Value::Object(x)), None) if !x.is_empty() && !prefix.is_empty() => {
            walk_objects(prefix, Some(x), None, out);
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if has_records(x) && has_records(y) => {
            for i in 0..x.len().max(y.len()) {
                prefix.push(Segment::Index(i));
                match (x.get(i), y.get(i)) {
                    (Some(xi), Some(yi)) => walk(prefix, Some(xi), Some(yi), out),
                    (xi, yi) => leaf(prefix, xi, yi, out),
                }
                prefix.pop();
            }
        }
        _ => leaf(prefix, a, b, out),
    }
}

fn walk_objects(
    prefix: &mut Vec<Segment>,
    x: Option<&Map<String, Value>>,
    y: Option<&Map<String, Value>>,
    out: &mut Vec<ParamChange>,
) {
    let keys: BTreeSet<&String> = x
        .into_iter()
        .flat_map(Map::keys)
        .chain(y.into_iter().flat_map(Map::keys))
        .collect();
    for key in keys {
        prefix.push(Segment::Key(key.clone()));
        walk(
            prefix,
            x.and_then(|m| m.get(key)),
            y.and_then(|m| m.get(key)),
            out,
        );
        prefix.pop();
    }
}

fn leaf(prefix: &[Segment], a: Option<&Value>, b: Option<&Value>, out: &mut Vec<ParamChange>) {
    out.push(ParamChange {
        path: path::render(prefix),
        old: a.cloned(),
        new: b.cloned(),
    });
}

/// Serde writes an enum's data-carrying variant as a one-key object named like the variant.
fn is_variant_switch(x: &Map<String, Value>, y: &Map<String, Value>) -> bool {
    match (x.keys().next(), y.keys().next()) {
        (Some(kx), Some(ky)) if x.len() == 1 && y.len() == 1 => {
            kx != ky && starts_upper(kx) && starts_upper(ky)
        }
        _ => false,
    }
}

fn starts_upper(key: &str) -> bool {
    key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

fn has_records(items: &[Value]) -> bool {
    items
        .iter()
        .any(|v| matches!(v, Value::Object(_) | Value::Array(_)))
}

/// Why a change could not be applied: the path, and what was wrong there.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyProblem {
    /// The path does not parse, or leads through a value that is not a container.
    BadPath { path: String, reason: String },
    /// The value at the path is not the change's old value.
    Conflict {
        path: String,
        expected: Option<Value>,
        found: Option<Value>,
    },
}

/// Apply `changes` (from [`diff_values`] on `root`) to `root`. Each change's old value
/// must be what `root` holds at its path.
pub fn apply(root: &mut Value, changes: &[ParamChange]) -> Result<(), ApplyProblem> {
    let parsed = changes
        .iter()
        .map(|c| {
            path::parse(&c.path).map_err(|reason| ApplyProblem::BadPath {
                path: c.path.clone(),
                reason,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (change, segments) in changes.iter().zip(&parsed).rev() {
        if change.new.is_none() {
            expect_old(root, change, segments)?;
            remove(root, &change.path, segments)?;
        }
    }
    for (change, segments) in changes.iter().zip(&parsed) {
        if let Some(new) = &change.new {
            expect_old(root, change, segments)?;
            set(root, &change.path, segments, new.clone())?;
        }
    }
    Ok(())
}

fn expect_old(
    root: &Value,
    change: &ParamChange,
    segments: &[Segment],
) -> Result<(), ApplyProblem> {
    let found = get(root, segments);
    if found == change.old.as_ref() {
        Ok(())
    } else {
        Err(ApplyProblem::Conflict {
            path: change.path.clone(),
            expected: change.old.clone(),
            found: found.cloned(),
        })
    }
}

fn get<'v>(root: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    segments
        .iter()
        .try_fold(root, |value, segment| match (segment, value) {
            (Segment::Key(k), Value::Object(m)) => m.get(k),
            (Segment::Index(i), Value::Array(a)) => a.get(*i),
            _ => None,
        })
}

fn get_mut<'v>(root: &'v mut Value, segments: &[Segment]) -> Option<&'v mut Value> {
    segments
        .iter()
        .try_fold(root, |value, segment| match (segment, value) {
            (Segment::Key(k), Value::Object(m)) => m.get_mut(k),
            (Segment::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        })
}

fn bad(path: &str, reason: impl Into<String>) -> ApplyProblem {
    ApplyProblem::BadPath {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// Remove the value at `segments`, then every object that removal left empty (up to,
/// not including, the root or an array element).
fn remove(root: &mut Value, path: &str, segments: &[Segment]) -> Result<(), ApplyProblem> {
    let Some((last, parent_path)) = segments.split_last() else {
        return Err(bad(path, "the root itself cannot be removed"));
    };
    let parent = get_mut(root, parent_path).ok_or_else(|| bad(path, "no such parent"))?;
    match (last, parent) {
        (Segment::Key(k), Value::Object(m)) => {
            m.remove(k);
        }
        (Segment::Index(i), Value::Array(a)) if *i + 1 == a.len() => {
            a.pop();
        }
        (Segment::Index(_), Value::Array(_)) => {
            return Err(bad(
                path,
                "only the last element of an array can be removed",
            ));
        }
        _ => return Err(bad(path, "the parent is not an object or array")),
    }
    for depth in (1..segments.len()).rev() {
        let prefix = &segments[..depth];
        let empty = matches!(get(root, prefix), Some(Value::Object(m)) if m.is_empty());
        let (Segment::Key(key), parent_path) = (&prefix[depth - 1], &prefix[..depth - 1]) else {
            break;
        };
        if !empty {
            break;
        }
        if let Some(Value::Object(m)) = get_mut(root, parent_path) {
            m.remove(key);
        }
    }
    Ok(())
}

/// Put `value` at `segments`, creating missing objects on the way.
fn set(
    root: &mut Value,
    path: &str,
    segments: &[Segment],
    value: Value,
) -> Result<(), ApplyProblem> {
    let mut here = root;
    let Some((last, parents)) = segments.split_last() else {
        *here = value;
        return Ok(());
    };
    for segment in parents {
        here = match (segment, here) {
            (Segment::Key(k), Value::Object(m)) => m
                .entry(k.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            (Segment::Index(i), Value::Array(a)) => a
                .get_mut(*i)
                .ok_or_else(|| bad(path, format!("no element [{i}]")))?,
            _ => {
                return Err(bad(
                    path,
                    "leads through a value that is not an object or array",
                ));
            }
        };
    }
    match (last, here) {
        (Segment::Key(k), Value::Object(m)) => {
            m.insert(k.clone(), value);
        }
        (Segment::Index(i), Value::Array(a)) if *i < a.len() => a[*i] = value,
        (Segment::Index(i), Value::Array(a)) if *i == a.len() => a.push(value),
        (Segment::Index(i), Value::Array(a)) => {
            return Err(bad(
                path,
                format!("element [{i}] is past the end of an array of {}", a.len()),
            ));
        }
        _ => return Err(bad(path, "the parent is not an object or array")),
    }
    Ok(())
}
