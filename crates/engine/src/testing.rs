//! `weir test` support: run a job on its test-data package with capture sinks, and
//! compare what each sink received with `expected.jsonl` (formats/testdata.md): a
//! multiset per sink, order-insensitive, floats within a relative tolerance of 1e-9.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{EngineError, Result};

/// Rows per sink.
pub type SinkRows = BTreeMap<String, Vec<Map<String, Value>>>;

/// Reads an expected file: one `{"sink": .., "row": {..}}` per line.
pub fn read_expected(path: &Path) -> Result<SinkRows> {
    let text = std::fs::read_to_string(path).map_err(|source| EngineError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut out = SinkRows::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| EngineError::Config(format!("{}:{}: {e}", path.display(), n + 1)))?;
        let (Some(sink), Some(row)) = (
            v.get("sink").and_then(Value::as_str),
            v.get("row").and_then(Value::as_object),
        ) else {
            return Err(EngineError::Config(format!(
                "{}:{}: expected {{\"sink\": ID, \"row\": {{...}}}}",
                path.display(),
                n + 1
            )));
        };
        out.entry(sink.to_string()).or_default().push(row.clone());
    }
    Ok(out)
}

/// Two JSON values equal, numbers within relative tolerance 1e-9.
pub fn values_match(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                return i == j;
            }
            match (x.as_f64(), y.as_f64()) {
                (Some(p), Some(q)) => p == q || (p - q).abs() <= 1e-9 * p.abs().max(q.abs()),
                _ => false,
            }
        }
        (Value::Object(x), Value::Object(y)) => rows_match(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_match(p, q))
        }
        _ => a == b,
    }
}

/// Two rows have the same keys and matching values.
pub fn rows_match(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| values_match(v, w)))
}

/// The differences of one sink.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SinkDiff {
    pub sink: String,
    pub expected: usize,
    pub received: usize,
    pub missing: Vec<Map<String, Value>>,
    pub unexpected: Vec<Map<String, Value>>,
}

impl SinkDiff {
    /// No difference.
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

/// Compares every sink named in either map.
pub fn compare(expected: &SinkRows, actual: &SinkRows) -> Vec<SinkDiff> {
    let mut sinks: Vec<&String> = expected.keys().chain(actual.keys()).collect();
    sinks.sort();
    sinks.dedup();
    let empty = Vec::new();
    sinks
        .into_iter()
        .map(|sink| {
            let exp = expected.get(sink).unwrap_or(&empty);
            let act = actual.get(sink).unwrap_or(&empty);
            let mut used = vec![false; act.len()];
            let mut missing = Vec::new();
            for e in exp {
                match (0..act.len()).find(|&i| !used[i] && rows_match(e, &act[i])) {
                    Some(i) => used[i] = true,
                    None => missing.push(e.clone()),
                }
            }
            let unexpected = act
                .iter()
                .zip(&used)
                .filter(|(_, u)| !**u)
                .map(|(r, _)| r.clone())
                .collect();
            SinkDiff {
                sink: sink.clone(),
                expected: exp.len(),
                received: act.len(),
                missing,
                unexpected,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn multiset_with_float_tolerance() {
        let mut e = SinkRows::new();
        e.insert(
            "s".into(),
            vec![
                row(json!({"a": 1, "f": 16303.050000000001})),
                row(json!({"a": 1, "f": 2.0})),
            ],
        );
        let mut a = SinkRows::new();
        a.insert(
            "s".into(),
            vec![
                row(json!({"a": 1, "f": 2})),
                row(json!({"a": 1, "f": 16303.05})),
            ],
        );
        assert!(compare(&e, &a).iter().all(SinkDiff::ok));
        a.get_mut("s").unwrap().push(row(json!({"a": 2, "f": 2})));
        let d = compare(&e, &a);
        assert_eq!(d[0].unexpected.len(), 1);
        assert!(d[0].missing.is_empty());
    }
}
