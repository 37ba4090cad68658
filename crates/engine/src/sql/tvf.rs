//! The arguments of a window table function (`TUMBLE(TABLE t, DESCRIPTOR(ts), ...)`, HOP,
//! CUMULATE, SESSION), positional or named, read into a [`WindowCall`]. Where the call
//! sits in the query and what replaces it is `rewrite.rs`'s business.

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments};
use sqlparser::tokenizer::Location;

use super::interval::interval_ms;
use super::window::{WindowKind, WindowSpec, Windowing};
use crate::error::{EngineError, Result};

/// A window table function found in the query.
#[derive(Debug, Clone)]
pub struct WindowCall {
    /// The input table it reads (`TABLE t`).
    pub table: String,
    /// The event-time column (`DESCRIPTOR(ts)`).
    pub time_column: String,
    pub windowing: Windowing,
}

/// Reads the arguments of the window table function `name` (upper case); `query` is the
/// text as the user wrote it, where a SESSION's `PARTITION BY` is read (the parser never
/// sees that clause).
pub fn window_call(name: &str, args: &FunctionArguments, query: &str) -> Result<WindowCall> {
    let FunctionArguments::List(list) = args else {
        return Err(EngineError::Plan(format!(
            "{name} needs arguments: {name}(TABLE t, DESCRIPTOR(ts), ...)"
        )));
    };
    let positional: &[&str] = match name {
        "TUMBLE" => &["DATA", "TIMECOL", "SIZE", "OFFSET"],
        "HOP" => &["DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"],
        "SESSION" => &["DATA", "TIMECOL", "GAP"],
        _ => &["DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"],
    };
    let mut named: Vec<(String, &Expr)> = Vec::new();
    for (i, arg) in list.args.iter().enumerate() {
        let (key, value) = match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => match positional.get(i) {
                Some(k) => (k.to_string(), e),
                None => {
                    return Err(EngineError::Plan(format!(
                        "{name} takes at most {} arguments",
                        positional.len()
                    )));
                }
            },
            FunctionArg::Named {
                name: n,
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (n.value.to_ascii_uppercase(), e),
            FunctionArg::ExprNamed {
                name: Expr::Identifier(n),
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (n.value.to_ascii_uppercase(), e),
            other => {
                return Err(EngineError::Plan(format!(
                    "{name}: cannot read the argument `{other}`"
                )));
            }
        };
        if !positional.contains(&key.as_str()) {
            return Err(EngineError::Plan(format!(
                "{name} has no argument {key}; its arguments are {}",
                positional.join(", ")
            )));
        }
        named.push((key, value));
    }
    let get = |k: &str| named.iter().find(|(n, _)| n == k).map(|(_, e)| *e);
    let need = |k: &str| {
        get(k).ok_or_else(|| {
            EngineError::Plan(format!(
                "{name} is missing its {k} argument ({})",
                positional.join(", ")
            ))
        })
    };
    let data = need("DATA")?;
    let table = match data {
        Expr::Identifier(id) => id.value.clone(),
        Expr::CompoundIdentifier(ids) => ids
            .iter()
            .map(|i| i.value.as_str())
            .collect::<Vec<_>>()
            .join("."),
        other => {
            return Err(EngineError::Plan(format!(
                "{name}: the DATA argument must be TABLE <name>, not `{other}`"
            )));
        }
    };
    let time_column = descriptor(name, need("TIMECOL")?)?;
    let interval = |k: &str| need(k).and_then(|e| interval_ms(name, k, e));
    if name == "SESSION" {
        let gap = interval("GAP")?;
        if gap <= 0 {
            return Err(EngineError::Plan(
                "window table function: SESSION gap must be positive".into(),
            ));
        }
        return Ok(WindowCall {
            table,
            time_column,
            windowing: Windowing::Session {
                gap,
                partition: partition_keys(query, data)?,
            },
        });
    }
    let kind = match name {
        "TUMBLE" => WindowKind::Tumble {
            size: interval("SIZE")?,
        },
        "HOP" => WindowKind::Hop {
            slide: interval("SLIDE")?,
            size: interval("SIZE")?,
        },
        _ => WindowKind::Cumulate {
            step: interval("STEP")?,
            size: interval("SIZE")?,
        },
    };
    let offset = match get("OFFSET") {
        Some(e) => interval_ms(name, "OFFSET", e)?,
        None => 0,
    };
    Ok(WindowCall {
        table,
        time_column,
        windowing: Windowing::Fixed(WindowSpec::new(kind, offset)?),
    })
}

fn descriptor(name: &str, e: &Expr) -> Result<String> {
    if let Expr::Function(f) = e
        && f.name.to_string().eq_ignore_ascii_case("DESCRIPTOR")
        && let FunctionArguments::List(list) = &f.args
        && let [FunctionArg::Unnamed(FunctionArgExpr::Expr(col))] = list.args.as_slice()
    {
        match col {
            Expr::Identifier(id) => return Ok(id.value.clone()),
            Expr::CompoundIdentifier(ids) if !ids.is_empty() => {
                return Ok(ids[ids.len() - 1].value.clone());
            }
            _ => {}
        }
    }
    Err(EngineError::Plan(format!(
        "{name}: the time column is given as DESCRIPTOR(column), not `{e}`"
    )))
}

/// The columns of `TABLE t PARTITION BY k` / `PARTITION BY (k1, k2)` after the table
/// argument `data`, read from the query text (the parser is given that clause blanked).
fn partition_keys(query: &str, data: &Expr) -> Result<Vec<String>> {
    let last = match data {
        Expr::Identifier(id) => id,
        Expr::CompoundIdentifier(ids) => match ids.last() {
            Some(id) => id,
            None => return Ok(Vec::new()),
        },
        _ => return Ok(Vec::new()),
    };
    let start = last.span.start;
    if start.line == 0 {
        return Ok(Vec::new());
    }
    let at = weir_model::jobfile::sql::offset_of(
        query,
        Location {
            line: start.line,
            column: start.column,
        },
    );
    let rest = query.get(at..).unwrap_or("");
    // past the name, quoted or not
    let after = match rest.chars().next() {
        Some(q @ ('`' | '"')) => rest[1..].find(q).map_or("", |e| &rest[e + 2..]),
        _ => rest.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_'),
    };
    let mut words = after.trim_start();
    for kw in ["PARTITION", "BY"] {
        match words.get(..kw.len()) {
            Some(w) if w.eq_ignore_ascii_case(kw) => words = words[kw.len()..].trim_start(),
            _ => return Ok(Vec::new()),
        }
    }
    // the clause runs to the `,` or `)` that ends the argument
    let mut depth = 0i32;
    let mut end = words.len();
    for (i, c) in words.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                end = i;
                break;
            }
            ')' => depth -= 1,
            ',' if depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let clause = words[..end].trim();
    let inner = clause
        .strip_prefix('(')
        .and_then(|c| c.strip_suffix(')'))
        .unwrap_or(clause);
    let keys: Vec<String> = inner
        .split(',')
        .map(|k| k.trim().trim_matches(|c| c == '`' || c == '"').to_string())
        .collect();
    if keys
        .iter()
        .any(|k| k.is_empty() || !k.chars().all(|c| c.is_alphanumeric() || c == '_'))
    {
        return Err(EngineError::Plan(format!(
            "SESSION: PARTITION BY takes column names (PARTITION BY user_id or PARTITION BY (a, b)), not `{clause}`"
        )));
    }
    Ok(keys)
}
