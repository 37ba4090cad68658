//! State compatibility between two versions of a job (`weir instance upgrade`): operators
//! are matched by id, and each one's state description (`Operator::state_description`:
//! its group keys, aggregates, window and output schema) is compared.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::Manifest;
use crate::sql::window::{WindowKind, WindowSpec};

/// Whether a saved state fits an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compat {
    Same,
    Incompatible(String),
}

/// The pre-flight verdict for one operator of an upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The state is taken over.
    Kept,
    /// The operator was removed: its state is dropped.
    Dropped,
    /// A new operator: it starts with empty state.
    New,
    /// The state does not fit the new operator.
    Incompatible { reason: String },
}

/// One line of the pre-flight report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorReport {
    pub node: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// A window spec as the state description shows it.
pub fn window_json(spec: &WindowSpec) -> Value {
    let (kind, size, step) = match spec.kind {
        WindowKind::Tumble { size } => ("TUMBLE", size, None),
        WindowKind::Hop { slide, size } => ("HOP", size, Some(slide)),
        WindowKind::Cumulate { step, size } => ("CUMULATE", size, Some(step)),
    };
    serde_json::json!({ "kind": kind, "size_ms": size, "step_ms": step, "offset_ms": spec.offset })
}

/// A duration in ms as people write it: `1 min`, `30 s`, `2 h`, `250 ms`.
pub fn human_ms(ms: i64) -> String {
    match ms {
        0 => "0 s".into(),
        m if m % 3_600_000 == 0 => format!("{} h", m / 3_600_000),
        m if m % 60_000 == 0 => format!("{} min", m / 60_000),
        m if m % 1000 == 0 => format!("{} s", m / 1000),
        m => format!("{m} ms"),
    }
}

fn list(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|x| x.to_string()).collect())
        .unwrap_or_default()
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    Value::Array(pair) => pair
                        .first()
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    other => other.to_string(),
                })
                // as the user wrote them: `max(ts)`, not `max(__weir_window.ts)`
                .map(|name| crate::sql::errors::user_text(&name))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the state saved by operator `node` (description `old`) fits the operator
/// described by `new`, and if not, why, in words.
pub fn compare(node: &str, old: &Value, new: &Value) -> Compat {
    if old == new {
        return Compat::Same;
    }
    if old.is_null() && new.is_null() {
        return Compat::Same;
    }
    let shape = |v: &Value| {
        v.get("shape")
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_string()
    };
    if shape(old) != shape(new) {
        return Compat::Incompatible(format!(
            "{node} changed from a {} query to a {} one",
            shape(old),
            shape(new)
        ));
    }
    if let (Some(a), Some(b)) = (old.get("window"), new.get("window"))
        && a != b
    {
        let field = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
        for (key, word) in [
            ("kind", "window kind"),
            ("size_ms", "window size"),
            ("step_ms", "window slide/step"),
            ("offset_ms", "window offset"),
        ] {
            let (x, y) = (field(a, key), field(b, key));
            if x != y {
                let show = |v: &Value| match v.as_i64() {
                    Some(ms) if key != "kind" => human_ms(ms),
                    _ => v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                };
                return Compat::Incompatible(format!(
                    "{word} of {node} changed {} → {}",
                    show(&x),
                    show(&y)
                ));
            }
        }
    }
    let (ka, kb) = (list(old, "keys"), list(new, "keys"));
    if ka != kb {
        return Compat::Incompatible(format!(
            "group keys of {node} changed ({} → {})",
            names(old, "keys").join(", "),
            names(new, "keys").join(", ")
        ));
    }
    let (aa, ab) = (names(old, "aggregates"), names(new, "aggregates"));
    if aa != ab {
        if let Some(gone) = aa.iter().find(|a| !ab.contains(a)) {
            return Compat::Incompatible(format!("aggregate {gone} of {node} removed"));
        }
        if let Some(added) = ab.iter().find(|a| !aa.contains(a)) {
            return Compat::Incompatible(format!("aggregate {added} of {node} added"));
        }
        return Compat::Incompatible(format!("aggregates of {node} reordered"));
    }
    if old.get("output") != new.get("output") {
        return Compat::Incompatible(format!("output schema of {node} changed"));
    }
    Compat::Incompatible(format!("the state of {node} changed"))
}

/// The pre-flight report of starting the job described by `new` (operator id → state
/// description) from `saved`: per operator, kept, dropped, new or incompatible.
pub fn report(saved: &Manifest, new: &BTreeMap<String, Value>) -> Vec<OperatorReport> {
    compare_states(&saved_states(saved), new)
}

/// The state description of every operator a checkpoint or savepoint holds, by id.
pub fn saved_states(saved: &Manifest) -> BTreeMap<String, Value> {
    saved
        .tasks
        .iter()
        .filter_map(|(task, entry)| {
            let node = task.strip_prefix("operator/")?;
            Some((
                node.to_string(),
                entry.meta.get("state").cloned().unwrap_or(Value::Null),
            ))
        })
        .collect()
}

/// The pre-flight report between two jobs' state descriptions (operator id → description,
/// as `pipeline::describe_states` gives them): what a saved state of `old` becomes in `new`.
/// A release review uses it before any savepoint exists.
pub fn compare_states(
    old: &BTreeMap<String, Value>,
    new: &BTreeMap<String, Value>,
) -> Vec<OperatorReport> {
    let mut out = Vec::new();
    for (node, before) in old {
        let verdict = match new.get(node) {
            None => Verdict::Dropped,
            Some(after) => match compare(node, before, after) {
                Compat::Same => Verdict::Kept,
                Compat::Incompatible(reason) => Verdict::Incompatible { reason },
            },
        };
        out.push(OperatorReport {
            node: node.clone(),
            verdict,
        });
    }
    for node in new.keys().filter(|n| !old.contains_key(*n)) {
        out.push(OperatorReport {
            node: node.clone(),
            verdict: Verdict::New,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windowed(size: i64, aggs: &[&str], output: &[&str]) -> Value {
        serde_json::json!({
            "shape": "windowed",
            "keys": [["window_start", "Timestamp(ms)"], ["window_end", "Timestamp(ms)"], ["url", "Utf8"]],
            "aggregates": aggs,
            "window": {"kind": "TUMBLE", "size_ms": size, "step_ms": null, "offset_ms": 0},
            "output": output,
        })
    }

    #[test]
    fn differences_are_named() {
        let a = windowed(60_000, &["count(Int64(1))"], &["url", "pv"]);
        assert_eq!(compare("pv", &a, &a.clone()), Compat::Same);
        let b = windowed(300_000, &["count(Int64(1))"], &["url", "pv"]);
        assert_eq!(
            compare("pv", &a, &b),
            Compat::Incompatible("window size of pv changed 1 min → 5 min".into())
        );
        let c = windowed(60_000, &[], &["url", "pv"]);
        assert_eq!(
            compare("pv", &a, &c),
            Compat::Incompatible("aggregate count(Int64(1)) of pv removed".into())
        );
        let d = windowed(60_000, &["count(Int64(1))"], &["url", "pv", "extra"]);
        assert_eq!(
            compare("pv", &a, &d),
            Compat::Incompatible("output schema of pv changed".into())
        );
    }

    #[test]
    fn aggregates_are_named_as_the_query_writes_them() {
        let a = windowed(60_000, &["count(Int64(1))"], &["url", "pv"]);
        let b = windowed(
            60_000,
            &["count(Int64(1))", "max(__weir_window.ts)"],
            &["url", "pv"],
        );
        assert_eq!(
            compare("pv", &a, &b),
            Compat::Incompatible("aggregate max(ts) of pv added".into())
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_ms(60_000), "1 min");
        assert_eq!(human_ms(7_200_000), "2 h");
        assert_eq!(human_ms(1_500), "1500 ms");
        assert_eq!(human_ms(30_000), "30 s");
    }
}
