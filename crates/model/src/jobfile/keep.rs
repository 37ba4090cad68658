//! Writing a job over the text it came from, so that the file changes only where the job
//! did (the graph editor's save): a field the file left out that still holds its default
//! stays out (no `mode: Online` appears by itself), a field the file wrote stays even
//! when serde would skip it (`description: ""`), and fields and map entries keep the
//! file's order. A job written from nothing gets no default fields at all. Every change
//! to serde's output is checked by decoding: the text must still mean the job in memory,
//! with no problem of its own, or the change is not made.

use std::cell::RefCell;

use super::de;
use super::syntax::{Field, Kind, Value};
use crate::model::Job;

/// One step from a value to a part of it.
#[derive(Debug, Clone)]
enum Step {
    Field(String),
    Item(usize),
    Entry(usize),
}

/// What a part of the job is checked by.
struct Cx<'a> {
    /// Does the tree still mean what it must?
    same: &'a dyn Fn(&Value) -> bool,
    /// The tree is the job's head, whose `nodes` and `edges` are settled apart.
    head: bool,
}

/// Fit `new` (serde's tree of `job`, normalized) to `old` (the tree of the file it
/// replaces; `None`: written from nothing). Nodes are matched by id, and each is checked
/// on its own, so the cost grows with the size of a node, not of the job.
pub(super) fn fit(job: &Job, old: Option<&Value>, new: &mut Value) {
    let head = Job {
        nodes: Vec::new(),
        edges: Vec::new(),
        ..job.clone()
    };
    let head_same = |v: &Value| decodes_to(&head_of(v), &head);
    let cx = Cx {
        same: &head_same,
        head: true,
    };
    settle(new, &mut Vec::new(), old, &cx);
    let old_nodes = old
        .and_then(|o| o.field("nodes"))
        .and_then(|f| match &f.value.kind {
            Kind::List { items, .. } => Some(items.as_slice()),
            _ => None,
        });
    let Kind::Struct { fields, .. } = &mut new.kind else {
        return;
    };
    let Some(Kind::List { items, .. }) = fields
        .iter_mut()
        .find(|f| f.name.name == "nodes")
        .map(|f| &mut f.value.kind)
    else {
        return;
    };
    let olds = matched(old_nodes.unwrap_or_default(), items);
    for ((item, node), old) in items.iter_mut().zip(&job.nodes).zip(olds) {
        let same = |v: &Value| decodes_to(v, node);
        let cx = Cx {
            same: &same,
            head: false,
        };
        settle(item, &mut Vec::new(), old, &cx);
    }
}

/// The job's head: every top-level field but the nodes and edges, which are checked
/// node by node.
fn head_of(root: &Value) -> Value {
    match &root.kind {
        Kind::Struct {
            name,
            fields,
            closing,
        } => Value {
            kind: Kind::Struct {
                name: name.clone(),
                fields: fields
                    .iter()
                    .filter(|f| f.name.name != "nodes" && f.name.name != "edges")
                    .cloned()
                    .collect(),
                closing: closing.clone(),
            },
            span: root.span,
            comments: Default::default(),
        },
        _ => root.clone(),
    }
}

/// `v` decodes to exactly `want`, with no problem (an unknown or duplicate field).
fn decodes_to<T: serde::de::DeserializeOwned + PartialEq>(v: &Value, want: &T) -> bool {
    let problems = RefCell::new(Vec::new());
    let got = de::decode::<T>(v, &problems);
    problems.borrow().is_empty() && got.as_ref().ok() == Some(want)
}

/// Settle the value at `path` in `root` against `old`, its counterpart in the file.
fn settle(root: &mut Value, path: &mut Vec<Step>, old: Option<&Value>, cx: &Cx) {
    let Some(here) = at(root, path) else {
        return;
    };
    match &mut here.kind {
        Kind::Struct { name, .. } => {
            let old_fields = old.and_then(|o| match &o.kind {
                Kind::Struct {
                    name: on, fields, ..
                } if same_name(on.as_ref().map(|i| &i.name), name.as_ref().map(|i| &i.name)) => {
                    Some(fields.as_slice())
                }
                _ => None,
            });
            settle_struct(root, path, old_fields, cx);
        }
        Kind::List { items, .. } => {
            let olds = match old.map(|o| &o.kind) {
                Some(Kind::List { items: oi, .. }) => matched(oi, items),
                _ => vec![None; items.len()],
            };
            for (k, o) in olds.into_iter().enumerate() {
                path.push(Step::Item(k));
                settle(root, path, o, cx);
                path.pop();
            }
        }
        Kind::Tuple { name, items, .. } => {
            let n = items.len();
            let old_items = old.and_then(|o| match &o.kind {
                Kind::Tuple {
                    name: on, items, ..
                } if same_name(on.as_ref().map(|i| &i.name), name.as_ref().map(|i| &i.name))
                    && items.len() == n =>
                {
                    Some(items.as_slice())
                }
                _ => None,
            });
            for k in 0..n {
                path.push(Step::Item(k));
                settle(root, path, old_items.and_then(|i| i.get(k)), cx);
                path.pop();
            }
        }
        Kind::Map { entries, .. } => {
            let old_entries = match old.map(|o| &o.kind) {
                Some(Kind::Map { entries: oe, .. }) => oe.as_slice(),
                _ => &[],
            };
            // the file's order of keys (a map's order means nothing to the job)
            let rank = |e: &super::syntax::MapEntry| {
                old_entries
                    .iter()
                    .position(|o| super::meaning::same_meaning(&o.key, &e.key))
                    .unwrap_or(usize::MAX)
            };
            entries.sort_by_key(rank);
            let olds: Vec<Option<&Value>> = entries
                .iter()
                .map(|e| {
                    old_entries
                        .iter()
                        .find(|o| super::meaning::same_meaning(&o.key, &e.key))
                        .map(|o| &o.value)
                })
                .collect();
            for (k, o) in olds.into_iter().enumerate() {
                path.push(Step::Entry(k));
                settle(root, path, o, cx);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Two names match unless both are given and differ (serde writes plain structs without
/// a name; a file may name them).
fn same_name(a: Option<&String>, b: Option<&String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The struct at `path`: drop the fields the file did not have that hold their
/// default, bring back the fields it had that serde skipped, order the fields as the file
/// did, and settle the fields both have.
fn settle_struct(root: &mut Value, path: &mut Vec<Step>, old: Option<&[Field]>, cx: &Cx) {
    let top = cx.head && path.is_empty();
    let in_old = |n: &str| old.is_some_and(|o| o.iter().any(|f| f.name.name == n));
    // 1. fields the file did not have: out when they hold their default
    for name in names(root, path) {
        if in_old(&name) {
            continue;
        }
        // the nodes and edges are not part of the head: out only when empty
        if top && (name == "nodes" || name == "edges") {
            let empty = fields_at(root, path)
                .and_then(|fs| fs.iter().find(|f| f.name.name == name))
                .is_some_and(
                    |f| matches!(&f.value.kind, Kind::List { items, .. } if items.is_empty()),
                );
            if empty {
                remove(root, path, &name);
            }
            continue;
        }
        let Some((i, field)) = remove(root, path, &name) else {
            continue;
        };
        if (cx.same)(root) {
            continue;
        }
        if let Some(fs) = fields_at(root, path) {
            fs.insert(i.min(fs.len()), field);
        }
        // it stays: its own parts may still hold defaults
        path.push(Step::Field(name));
        settle(root, path, None, cx);
        path.pop();
    }
    let Some(old) = old else {
        return;
    };
    // 2. fields the file had that serde skipped (an empty description, `None`): back in
    for f in old {
        let present = names(root, path).contains(&f.name.name);
        if present || (top && (f.name.name == "nodes" || f.name.name == "edges")) {
            continue;
        }
        let Some(fs) = fields_at(root, path) else {
            return;
        };
        fs.push(f.clone());
        if !(cx.same)(root) {
            remove(root, path, &f.name.name);
        }
    }
    // 3. the file's order; a new field follows the field serde wrote before it
    if let Some(fs) = fields_at(root, path) {
        let mut anchor = None;
        let mut keyed: Vec<((Option<usize>, usize), Field)> = std::mem::take(fs)
            .into_iter()
            .enumerate()
            .map(
                |(k, f)| match old.iter().position(|o| o.name.name == f.name.name) {
                    Some(p) => {
                        anchor = Some(p);
                        ((Some(p), 0), f)
                    }
                    None => ((anchor, k + 1), f),
                },
            )
            .collect();
        keyed.sort_by_key(|(key, _)| *key);
        *fs = keyed.into_iter().map(|(_, f)| f).collect();
    }
    // 4. the fields both have
    for f in old {
        if top && (f.name.name == "nodes" || f.name.name == "edges") {
            continue;
        }
        if names(root, path).contains(&f.name.name) {
            path.push(Step::Field(f.name.name.clone()));
            settle(root, path, Some(&f.value), cx);
            path.pop();
        }
    }
}

/// The counterpart in `old` of each item of `new`: by `id` when every item has one (the
/// operators; a new id takes the old item at its place if that one's id is gone), else
/// by position.
fn matched<'a>(old: &'a [Value], new: &[Value]) -> Vec<Option<&'a Value>> {
    let by_id = !old.is_empty()
        && old.iter().all(|v| id_of(v).is_some())
        && new.iter().all(|v| id_of(v).is_some());
    new.iter()
        .enumerate()
        .map(|(k, n)| {
            if by_id {
                // a node renamed in place keeps its counterpart
                old.iter().find(|o| id_of(o) == id_of(n)).or_else(|| {
                    old.get(k)
                        .filter(|o| !new.iter().any(|x| id_of(x) == id_of(o)))
                })
            } else {
                old.get(k)
            }
        })
        .collect()
}

/// The `id` of an operator written `Kind(id: "...", ...)`.
fn id_of(v: &Value) -> Option<&str> {
    match &v.field("id")?.value.kind {
        Kind::Str(s) => Some(s),
        _ => None,
    }
}

/// The value at `path`.
fn at<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(v);
    };
    let next = match (first, &mut v.kind) {
        (Step::Field(n), Kind::Struct { fields, .. }) => {
            &mut fields.iter_mut().find(|f| &f.name.name == n)?.value
        }
        (Step::Item(i), Kind::List { items, .. } | Kind::Tuple { items, .. }) => {
            items.get_mut(*i)?
        }
        (Step::Entry(i), Kind::Map { entries, .. }) => &mut entries.get_mut(*i)?.value,
        _ => return None,
    };
    at(next, rest)
}

/// The fields of the struct at `path`.
fn fields_at<'a>(root: &'a mut Value, path: &[Step]) -> Option<&'a mut Vec<Field>> {
    match &mut at(root, path)?.kind {
        Kind::Struct { fields, .. } => Some(fields),
        _ => None,
    }
}

fn names(root: &mut Value, path: &[Step]) -> Vec<String> {
    fields_at(root, path)
        .map(|fs| fs.iter().map(|f| f.name.name.clone()).collect())
        .unwrap_or_default()
}

/// Take field `name` out of the struct at `path`, with where it was.
fn remove(root: &mut Value, path: &[Step], name: &str) -> Option<(usize, Field)> {
    let fs = fields_at(root, path)?;
    let i = fs.iter().position(|f| f.name.name == name)?;
    Some((i, fs.remove(i)))
}

#[cfg(test)]
mod tests;
