//! Strict JSON decoding: the values Arrow's JSON reader would coerce silently (`1.7` → 1
//! for an integer, `"12"` → 12, `1.5` → 1 ms for a timestamp) are found before it runs,
//! by a small scanner over the record's top-level fields, and reported with the field and
//! the reason. A payload that is not a JSON object is left to Arrow's reader, which
//! rejects it with its own message.

use std::borrow::Cow;
use std::ops::RangeInclusive;

use arrow::datatypes::{DataType, Schema};

/// Epoch milliseconds of 0001-01-01T00:00:00 to 9999-12-31T23:59:59.999: the timestamps
/// every sink can print and store.
pub const TS_RANGE: RangeInclusive<i64> = -62_135_596_800_000..=253_402_300_799_999;

/// A top-level JSON value, as written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value<'a> {
    /// The text between the quotes (escapes left as written).
    String(&'a [u8]),
    Number(&'a [u8]),
    Bool,
    Null,
    /// An object or an array.
    Nested,
}

/// Why `payload` is refused for `schema`, if a field holds a value of the wrong type.
pub fn json_problem(schema: &Schema, payload: &[u8]) -> Option<String> {
    let fields = top_level(payload)?;
    for (key, value) in fields {
        let Some((_, field)) = schema.column_with_name(&key) else {
            continue;
        };
        if let Some(reason) = problem(field.data_type(), value) {
            return Some(format!("`{key}`: {reason}"));
        }
    }
    None
}

/// The name weir's job files give an Arrow type.
fn type_name(ty: &DataType) -> &'static str {
    match ty {
        DataType::Int32 => "Int",
        DataType::Int64 => "BigInt",
        DataType::Float32 => "Float",
        DataType::Float64 => "Double",
        DataType::Utf8 => "String",
        DataType::Boolean => "Boolean",
        DataType::Timestamp(_, _) => "Timestamp",
        DataType::Date32 => "Date",
        DataType::Decimal128(_, _) => "Decimal",
        _ => "this type",
    }
}

/// A value as it reads in a message (shortened).
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text.into_owned()
    }
}

fn is_integer(n: &[u8]) -> bool {
    let digits = n.strip_prefix(b"-").unwrap_or(n);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

fn problem(ty: &DataType, value: Value<'_>) -> Option<String> {
    let name = type_name(ty);
    let kind = |v: Value<'_>| match v {
        Value::String(s) => format!("the string \"{}\"", shown(s)),
        Value::Number(n) => format!("the number {}", shown(n)),
        Value::Bool => "a boolean".to_string(),
        Value::Null => "null".to_string(),
        Value::Nested => "an object or array".to_string(),
    };
    let integer = |n: &[u8], min: i128, max: i128, what: &str| -> Option<String> {
        if !is_integer(n) {
            return Some(format!(
                "{} is not a whole number written in digits ({what})",
                shown(n)
            ));
        }
        let v: Option<i128> = std::str::from_utf8(n).ok().and_then(|s| s.parse().ok());
        match v {
            Some(v) if (min..=max).contains(&v) => None,
            _ => Some(format!("{} is out of range for {name}", shown(n))),
        }
    };
    match (ty, value) {
        (_, Value::Null) => None,
        (
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64,
            Value::Number(n),
        ) => {
            let (min, max) = match ty {
                DataType::Int8 => (i8::MIN as i128, i8::MAX as i128),
                DataType::Int16 => (i16::MIN as i128, i16::MAX as i128),
                DataType::Int32 => (i32::MIN as i128, i32::MAX as i128),
                _ => (i64::MIN as i128, i64::MAX as i128),
            };
            integer(n, min, max, name)
        }
        (DataType::Float32 | DataType::Float64, Value::Number(_)) => None,
        (DataType::Decimal128(_, _), Value::Number(_) | Value::String(_)) => None,
        (DataType::Boolean, Value::Bool) => None,
        (DataType::Utf8, Value::String(_)) => None,
        (DataType::Date32, Value::String(_)) => None,
        (DataType::Date32, Value::Number(n)) => integer(
            n,
            i32::MIN as i128,
            i32::MAX as i128,
            "Date: days since the epoch",
        ),
        (DataType::Timestamp(_, _), Value::String(_)) => None,
        (DataType::Timestamp(_, _), Value::Number(n)) => {
            if let Some(problem) = integer(
                n,
                i64::MIN as i128,
                i64::MAX as i128,
                "Timestamp: epoch milliseconds",
            ) {
                return Some(problem);
            }
            let ms: i64 = std::str::from_utf8(n).ok()?.parse().ok()?;
            (!TS_RANGE.contains(&ms))
                .then(|| format!("{ms} ms since the epoch is outside the years 0001 to 9999"))
        }
        (
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(_, _)
            | DataType::Boolean
            | DataType::Utf8
            | DataType::Date32
            | DataType::Timestamp(_, _),
            v,
        ) => Some(format!("{} where {name} is expected", kind(v))),
        _ => None,
    }
}

/// The top-level fields of a JSON object, or None if `bytes` is not one.
fn top_level(bytes: &[u8]) -> Option<Vec<(Cow<'_, str>, Value<'_>)>> {
    let mut s = Scanner { bytes, at: 0 };
    s.ws();
    s.eat(b'{')?;
    let mut out = Vec::new();
    s.ws();
    if s.peek() == Some(b'}') {
        s.at += 1;
        return s.end().then_some(out);
    }
    loop {
        s.ws();
        let key = s.string()?;
        let key = if key.contains(&b'\\') {
            let quoted = &bytes[s.at - key.len() - 2..s.at];
            Cow::Owned(serde_json::from_slice::<String>(quoted).ok()?)
        } else {
            Cow::Borrowed(std::str::from_utf8(key).ok()?)
        };
        s.ws();
        s.eat(b':')?;
        s.ws();
        let value = s.value()?;
        out.push((key, value));
        s.ws();
        match s.next()? {
            b',' => continue,
            b'}' => return s.end().then_some(out),
            _ => return None,
        }
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }
    fn eat(&mut self, b: u8) -> Option<()> {
        (self.next()? == b).then_some(())
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }
    fn end(&mut self) -> bool {
        self.ws();
        self.at == self.bytes.len()
    }
    /// A string; returns the text between the quotes.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.at;
        loop {
            match self.next()? {
                b'"' => return Some(&self.bytes[start..self.at - 1]),
                b'\\' => {
                    self.next()?;
                }
                _ => {}
            }
        }
    }
    fn value(&mut self) -> Option<Value<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Value::String),
            b'{' | b'[' => {
                self.nested()?;
                Some(Value::Nested)
            }
            b't' => self.word(b"true").map(|_| Value::Bool),
            b'f' => self.word(b"false").map(|_| Value::Bool),
            b'n' => self.word(b"null").map(|_| Value::Null),
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                while self.peek().is_some_and(|b| {
                    b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                }) {
                    self.at += 1;
                }
                Some(Value::Number(&self.bytes[start..self.at]))
            }
            _ => None,
        }
    }
    fn word(&mut self, w: &[u8]) -> Option<()> {
        let end = self.at + w.len();
        (self.bytes.get(self.at..end)? == w).then(|| self.at = end)
    }
    /// Skips an object or array, strings included.
    fn nested(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => {
                    self.string()?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        self.at += 1;
                        return Some(());
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{Field, TimeUnit};

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("seq", DataType::Int64, true),
            Field::new("n", DataType::Int32, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
            Field::new("name", DataType::Utf8, true),
            Field::new("v", DataType::Float64, true),
            Field::new("ok", DataType::Boolean, true),
        ])
    }

    fn check(json: &str) -> Option<String> {
        json_problem(&schema(), json.as_bytes())
    }

    #[test]
    fn well_typed_records_pass() {
        assert_eq!(
            check(r#"{"seq": 1, "ts": 1000, "name": "a", "v": 1.5, "ok": true}"#),
            None
        );
        assert_eq!(
            check(r#"{"seq": -7, "ts": "2026-03-01T10:00:00", "v": 2, "x": [1, {"a": "}"}]}"#),
            None
        );
        assert_eq!(check(r#"{"seq": null, "name": null, "o\"dd": 1.5}"#), None);
        assert_eq!(check(r#"{}"#), None);
        assert_eq!(check("not json"), None, "left to Arrow's reader");
    }

    #[test]
    fn values_arrow_would_coerce_are_named_with_their_field() {
        let p = |j: &str| check(j).unwrap_or_default();
        assert_eq!(
            p(r#"{"seq": 1.7}"#),
            "`seq`: 1.7 is not a whole number written in digits (BigInt)"
        );
        assert!(
            p(r#"{"seq": "12"}"#).starts_with("`seq`: the string \"12\" where BigInt is expected")
        );
        assert!(p(r#"{"n": 3000000000}"#).contains("out of range for Int"));
        assert!(p(r#"{"ts": 1.5}"#).contains("`ts`: 1.5 is not a whole number"));
        assert!(p(r#"{"ts": 1e17}"#).contains("`ts`: 1e17 is not a whole number"));
        assert!(p(r#"{"ts": 100000000000000000}"#).contains("outside the years 0001 to 9999"));
        assert!(p(r#"{"name": 12}"#).contains("`name`: the number 12 where String is expected"));
        assert!(p(r#"{"v": "1.5"}"#).contains("`v`: the string \"1.5\" where Double is expected"));
        assert!(p(r#"{"ok": "true"}"#).contains("where Boolean is expected"));
        assert!(p(r#"{"name": {"a": 1}}"#).contains("an object or array where String"));
    }
}
