//! Parameter paths: where a value sits inside a node's or a job's serde tree, written the
//! way people read them: `start`, `on_error.Retry.max`, `fields[1].type`,
//! `properties."auto.offset.reset"`. A key made only of ASCII letters, digits, `_` and
//! `-` is written bare; any other key (a Kafka property with dots, an env name with a
//! space, an empty key) is written as a JSON string, so every path reads back to the same
//! segments ([`parse`] ∘ [`render`] is the identity).

/// One step into a value: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Whether a key can be written without quotes.
fn is_bare(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The text of a path: keys joined by `.`, indices as `[n]`.
pub fn render(segments: &[Segment]) -> String {
    let mut out = String::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Key(key) => {
                if i > 0 {
                    out.push('.');
                }
                if is_bare(key) {
                    out.push_str(key);
                } else {
                    out.push_str(&quote(key));
                }
            }
            Segment::Index(n) => {
                out.push('[');
                out.push_str(&n.to_string());
                out.push(']');
            }
        }
    }
    out
}

fn quote(key: &str) -> String {
    // Serialising a string to JSON cannot fail; the fallback keeps the code panic-free.
    serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""))
}

/// Read a path written by [`render`]. The error says what is wrong and where.
pub fn parse(path: &str) -> Result<Vec<Segment>, String> {
    let bytes = path.as_bytes();
    let mut segments = Vec::new();
    let mut i = 0;
    // A key is expected at the start and after every `.`.
    let mut want_key = true;
    while i < bytes.len() {
        match bytes[i] {
            b'[' => {
                let close = path[i..]
                    .find(']')
                    .map(|n| i + n)
                    .ok_or_else(|| format!("`[` at byte {i} is never closed"))?;
                let digits = &path[i + 1..close];
                let n = digits
                    .parse::<usize>()
                    .map_err(|_| format!("`[{digits}]` at byte {i} is not an array index"))?;
                segments.push(Segment::Index(n));
                i = close + 1;
                want_key = false;
            }
            b'.' if !want_key => {
                i += 1;
                want_key = true;
                if i == bytes.len() {
                    return Err("the path ends with `.`".into());
                }
            }
            b'"' if want_key => {
                let end = closing_quote(path, i)?;
                let key: String = serde_json::from_str(&path[i..=end])
                    .map_err(|e| format!("bad quoted key at byte {i}: {e}"))?;
                segments.push(Segment::Key(key));
                i = end + 1;
                want_key = false;
            }
            _ if want_key => {
                let len = path[i..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(path.len() - i);
                if len == 0 {
                    return Err(format!(
                        "unexpected `{}` at byte {i}: a key is bare letters, digits, `_` and `-`, or a quoted string",
                        &path[i..]
                            .chars()
                            .next()
                            .map(String::from)
                            .unwrap_or_default()
                    ));
                }
                segments.push(Segment::Key(path[i..i + len].to_string()));
                i += len;
                want_key = false;
            }
            _ => {
                return Err(format!(
                    "unexpected `{}` at byte {i}: expected `.` or `[`",
                    &path[i..]
                        .chars()
                        .next()
                        .map(String::from)
                        .unwrap_or_default()
                ));
            }
        }
    }
    if segments.is_empty() {
        return Err("the path is empty".into());
    }
    Ok(segments)
}

/// The byte offset of the `"` that closes the quoted key opening at `start`.
fn closing_quote(path: &str, start: usize) -> Result<usize, String> {
    let mut escaped = false;
    for (offset, c) in path[start + 1..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Ok(start + 1 + offset),
            _ => {}
        }
    }
    Err(format!("the quoted key at byte {start} is never closed"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key(s: &str) -> Segment {
        Segment::Key(s.into())
    }

    #[test]
    fn renders_bare_and_quoted_keys_and_indices() {
        assert_eq!(
            render(&[key("on_error"), key("Retry"), key("max")]),
            "on_error.Retry.max"
        );
        assert_eq!(
            render(&[key("fields"), Segment::Index(1), key("type")]),
            "fields[1].type"
        );
        assert_eq!(
            render(&[key("properties"), key("auto.offset.reset")]),
            "properties.\"auto.offset.reset\""
        );
        assert_eq!(render(&[key("env"), key("")]), "env.\"\"");
    }

    #[test]
    fn parse_reports_what_is_wrong() {
        assert_eq!(parse("").unwrap_err(), "the path is empty");
        assert!(parse("a.").unwrap_err().contains("ends with `.`"));
        assert!(parse("a[x]").unwrap_err().contains("not an array index"));
        assert!(parse("a[1").unwrap_err().contains("never closed"));
        assert!(parse("a.\"b").unwrap_err().contains("never closed"));
        assert!(parse("a b").unwrap_err().contains("expected `.` or `[`"));
        assert!(parse(".a").unwrap_err().contains("unexpected `.`"));
    }

    fn segment() -> impl Strategy<Value = Segment> {
        prop_oneof![
            any::<String>().prop_map(Segment::Key),
            "[a-z_]{1,8}".prop_map(Segment::Key),
            (0usize..20).prop_map(Segment::Index),
        ]
    }

    proptest! {
        #[test]
        fn parse_reads_back_what_render_writes(segments in prop::collection::vec(segment(), 1..5)) {
            prop_assert_eq!(parse(&render(&segments)).unwrap(), segments);
        }
    }
}
