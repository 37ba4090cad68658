//! What a job file means: its value tree without positions, comments and layout. `weir
//! fmt` must keep it (`format_source` checks its own output against it), and the fuzz
//! target and the mutation campaign check the same. Decoding into a job lives in `de.rs`.

use super::syntax::{Kind, Value};

/// The two trees hold the same values: the same kinds, names, numbers (bit for bit),
/// strings and items in the same order. Spans and comments are not compared.
pub fn same_meaning(a: &Value, b: &Value) -> bool {
    same_kind(&a.kind, &b.kind)
}

fn all_same(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_meaning(x, y))
}

fn same_name(a: Option<&super::syntax::Ident>, b: Option<&super::syntax::Ident>) -> bool {
    a.map(|i| &i.name) == b.map(|i| &i.name)
}

fn same_kind(a: &Kind, b: &Kind) -> bool {
    match (a, b) {
        (Kind::Unit, Kind::Unit) => true,
        (Kind::Bool(x), Kind::Bool(y)) => x == y,
        (Kind::Int(x), Kind::Int(y)) => x == y,
        (Kind::Float(x), Kind::Float(y)) => x.to_bits() == y.to_bits(),
        (Kind::Str(x), Kind::Str(y)) => x == y,
        (Kind::Char(x), Kind::Char(y)) => x == y,
        (Kind::Ident(x), Kind::Ident(y)) => x.name == y.name,
        (Kind::List { items: x, .. }, Kind::List { items: y, .. }) => all_same(x, y),
        (Kind::Map { entries: x, .. }, Kind::Map { entries: y, .. }) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| same_meaning(&p.key, &q.key) && same_meaning(&p.value, &q.value))
        }
        (
            Kind::Tuple {
                name: n1, items: x, ..
            },
            Kind::Tuple {
                name: n2, items: y, ..
            },
        ) => same_name(n1.as_ref(), n2.as_ref()) && all_same(x, y),
        (
            Kind::Struct {
                name: n1,
                fields: x,
                ..
            },
            Kind::Struct {
                name: n2,
                fields: y,
                ..
            },
        ) => {
            same_name(n1.as_ref(), n2.as_ref())
                && x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(f, g)| f.name.name == g.name.name && same_meaning(&f.value, &g.value))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobfile::syntax::parse;

    fn meaning_of(src: &str) -> Value {
        parse(src).unwrap().value
    }

    #[test]
    fn layout_and_comments_do_not_count() {
        let a = meaning_of("Job(a: 1, // one\n b: [\"x\"])");
        let b = meaning_of("Job(\n    a: 1,\n    b: [\"x\"],\n)");
        assert!(same_meaning(&a, &b));
    }

    #[test]
    fn values_names_and_wrappers_count() {
        for (x, y) in [
            ("Job(a: 1)", "Job(a: 1.0)"),
            ("Job(a: 1)", "Job(b: 1)"),
            ("Job(a: 1)", "Jab(a: 1)"),
            ("Job(Job(a: 1))", "Job(a: 1)"),
            ("Job(a: [1, 2])", "Job(a: [2, 1])"),
            ("Job(a: 0.0)", "Job(a: -0.0)"),
            ("Job(a: x)", "Job(a: \"x\")"),
        ] {
            assert!(!same_meaning(&meaning_of(x), &meaning_of(y)), "{x} vs {y}");
        }
    }
}
