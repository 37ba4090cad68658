//! Interval literals of window table functions (`INTERVAL '5' MINUTE`, plural units,
//! `INTERVAL '5 minutes'`) in milliseconds.

use sqlparser::ast::{DateTimeField, Expr, Value};

use crate::error::{EngineError, Result};

/// `INTERVAL '5' MINUTE`, `INTERVAL '5' MINUTES`, `INTERVAL '5 minutes'` in milliseconds.
pub fn interval_ms(name: &str, arg: &str, e: &Expr) -> Result<i64> {
    let bad = || {
        EngineError::Plan(format!(
            "{name}: the {arg} argument must be an interval such as INTERVAL '1' MINUTE, not `{e}`"
        ))
    };
    let Expr::Interval(iv) = e else {
        return Err(bad());
    };
    if iv.last_field.is_some() {
        return Err(bad());
    }
    let text = match iv.value.as_ref() {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            Value::Number(n, _) => n.clone(),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    let mut words = text.split_whitespace();
    let amount: i64 = words.next().and_then(|w| w.parse().ok()).ok_or_else(bad)?;
    let unit_ms = match (&iv.leading_field, words.next()) {
        (Some(field), None) => field_ms(field).ok_or_else(bad)?,
        (None, Some(word)) => unit_word_ms(word).ok_or_else(bad)?,
        (None, None) => return Err(bad()),
        (Some(_), Some(_)) => return Err(bad()),
    };
    if words.next().is_some() {
        return Err(bad());
    }
    amount.checked_mul(unit_ms).ok_or_else(bad)
}

fn field_ms(f: &DateTimeField) -> Option<i64> {
    Some(match f {
        DateTimeField::Millisecond | DateTimeField::Milliseconds => 1,
        DateTimeField::Second | DateTimeField::Seconds => 1_000,
        DateTimeField::Minute | DateTimeField::Minutes => 60_000,
        DateTimeField::Hour | DateTimeField::Hours => 3_600_000,
        DateTimeField::Day | DateTimeField::Days => 86_400_000,
        _ => return None,
    })
}

fn unit_word_ms(w: &str) -> Option<i64> {
    Some(match w.to_ascii_lowercase().trim_end_matches('s') {
        "millisecond" | "m" => 1,
        "second" => 1_000,
        "minute" => 60_000,
        "hour" => 3_600_000,
        "day" => 86_400_000,
        _ => return None,
    })
}
