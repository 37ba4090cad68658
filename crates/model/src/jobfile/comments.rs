//! Keeping a file's comments when a job is written from memory (the graph editor's
//! save): the comments of the file on disk are carried over to the same places of the
//! new text — top-level fields by name, operators by id, other list items by position,
//! map entries by key.

use super::syntax::{Document, Kind, Value};

/// Copy the comments of `old` onto the matching parts of `new`.
pub fn carry_over(old: &Document, new: &mut Document) {
    new.tail = old.tail.clone();
    value(&old.value, &mut new.value);
}

fn value(old: &Value, new: &mut Value) {
    if new.comments.is_empty() {
        new.comments = old.comments.clone();
    }
    match (&old.kind, &mut new.kind) {
        (
            Kind::Struct {
                fields: of,
                closing: oc,
                ..
            },
            Kind::Struct {
                fields: nf,
                closing: nc,
                ..
            },
        ) => {
            if nc.is_empty() {
                *nc = oc.clone();
            }
            for f in nf.iter_mut() {
                if let Some(o) = of.iter().find(|o| o.name.name == f.name.name) {
                    if f.comments.is_empty() {
                        f.comments = o.comments.clone();
                    }
                    value(&o.value, &mut f.value);
                }
            }
        }
        (
            Kind::List {
                items: oi,
                closing: oc,
            },
            Kind::List {
                items: ni,
                closing: nc,
            },
        )
        | (
            Kind::Tuple {
                items: oi,
                closing: oc,
                ..
            },
            Kind::Tuple {
                items: ni,
                closing: nc,
                ..
            },
        ) => {
            if nc.is_empty() {
                *nc = oc.clone();
            }
            let by_id =
                oi.iter().all(|v| id_of(v).is_some()) && ni.iter().all(|v| id_of(v).is_some());
            for (k, n) in ni.iter_mut().enumerate() {
                let o = if by_id {
                    oi.iter().find(|o| id_of(o) == id_of(n))
                } else {
                    oi.get(k)
                };
                if let Some(o) = o {
                    value(o, n);
                }
            }
        }
        (
            Kind::Map {
                entries: oe,
                closing: oc,
            },
            Kind::Map {
                entries: ne,
                closing: nc,
            },
        ) => {
            if nc.is_empty() {
                *nc = oc.clone();
            }
            for e in ne.iter_mut() {
                if let Some(o) = oe.iter().find(|o| o.key.kind == e.key.kind) {
                    if e.comments.is_empty() {
                        e.comments = o.comments.clone();
                    }
                    value(&o.value, &mut e.value);
                }
            }
        }
        _ => {}
    }
}

/// The `id` of an operator written `Kind(id: "...", ...)` or `Kind((id: "..."))`.
fn id_of(v: &Value) -> Option<String> {
    let body = match &v.kind {
        Kind::Tuple { items, .. } if items.len() == 1 => &items[0],
        _ => v,
    };
    match &body.field("id")?.value.kind {
        Kind::Str(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::jobfile::{check_source, to_ron_keeping_comments};

    #[test]
    fn comments_follow_their_fields_and_operators() {
        let old = "// the job\nJob(\n    version: 1,\n    // who owns it\n    name: \"a\",\n    nodes: [\n        // first\n        PrintSink(id: \"p\"), // debug\n        // second\n        PrintSink(id: \"q\"),\n    ],\n)\n// end\n";
        let mut job = check_source("a.ron", old).job.unwrap();
        // reorder and edit in memory: the comments stay with their operators
        job.nodes.swap(0, 1);
        job.name = "b".into();
        let text = to_ron_keeping_comments(&job, old);
        assert!(text.starts_with("// the job\nJob("), "{text}");
        assert!(
            text.contains("    // who owns it\n    name: \"b\","),
            "{text}"
        );
        let q = text.find("// second").unwrap();
        let p = text.find("// first").unwrap();
        assert!(q < p, "comments moved with their operators:\n{text}");
        assert!(text.contains("PrintSink(id: \"p\"), // debug"), "{text}");
        assert!(text.ends_with("// end\n"), "{text}");
        assert_eq!(
            crate::jobfile::format_source("a.ron", &text).unwrap(),
            text,
            "canonical"
        );
        assert_eq!(check_source("a.ron", &text).job.unwrap(), job);
    }
}
