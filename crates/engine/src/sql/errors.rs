//! A refused query said in the user's words and placed in the user's text: the names the
//! rewrite introduces (the window table [`WINDOW_TABLE`] that stands for
//! `TABLE(TUMBLE(...))`) are taken out of DataFusion's messages, and the token a message
//! is about (`urlx` in "No field named urlx") is found in the query as the user wrote it,
//! so `weir validate` and the workbench point at it rather than at the start of the query.
//!
//! Where the token is: DataFusion's own diagnostic span when it has one (the planner
//! collects the spans of the parsed query, whose byte offsets are the user's: the model's
//! parser only blanks Flink-only words with spaces), else the name the message quotes,
//! looked up as a whole word outside string literals and comments.

use std::ops::Range;

use datafusion::error::DataFusionError;
use sqlparser::tokenizer::Location;
use weir_model::Fault;

use super::rewrite::WINDOW_TABLE;
use crate::error::EngineError;

/// `text` without the engine's internal names: `'__weir_window.url'` reads `'url'`, and
/// the window table itself is called what the user wrote. DataFusion's lines become one
/// (a status bar and a problem list show one line per problem).
pub fn user_text(text: &str) -> String {
    let qualified = [format!("\"{WINDOW_TABLE}\"."), format!("{WINDOW_TABLE}.")];
    let mut out = text.to_string();
    for q in &qualified {
        out = out.replace(q.as_str(), "");
    }
    let out = out.replace(WINDOW_TABLE, "the window table function TABLE(...)");
    let mut previous = "";
    out.lines()
        .filter(|line| {
            // DataFusion's guess at a misspelt function picks among ties by hash order:
            // a different name each run is no help, and snapshots could not pin it
            let guess = previous.contains("Invalid function") && line.starts_with("Did you mean");
            previous = *line;
            !guess
        })
        .map(|line| {
            // DataFusion's advice names a session setting no job can change
            if line.starts_with("Column names are case sensitive") {
                "Column names are case sensitive: write the name as the input declares it, in double quotes if it has capitals.".to_string()
            } else if let Some(list) = line.strip_prefix("Valid fields are ") {
                // without their tables' names, the window table's and the query's own
                // fields repeat: name each once
                let mut names: Vec<&str> = Vec::new();
                for name in list.trim_end_matches('.').split(", ") {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
                format!("Valid fields are {}.", names.join(", "))
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The error with its message in the user's words (see [`user_text`]). DataFusion's
/// planning errors are the user's and become [`EngineError::Plan`]; the others keep their
/// kind, since whose fault they are depends on it.
pub fn in_user_words(e: EngineError) -> EngineError {
    let users = e.fault() == Fault::User;
    match e {
        EngineError::Plan(m) => EngineError::Plan(user_text(&m)),
        EngineError::DataFusion(df) if users => EngineError::Plan(user_text(&df.to_string())),
        EngineError::Unsupported { construct, hint } => EngineError::Unsupported {
            construct: user_text(&construct),
            hint,
        },
        other => other,
    }
}

/// The byte range in `query` of the token `e` is about, when it can be found.
pub fn locate(query: &str, e: &EngineError) -> Option<Range<usize>> {
    if let EngineError::DataFusion(df) = e
        && let Some(r) = diagnostic_range(query, df)
    {
        return Some(r);
    }
    let message = match e {
        EngineError::Unsupported { construct, .. } => construct.clone(),
        other => other.to_string(),
    };
    if let Some(at) = byte_marker(&message)
        && at < query.len()
    {
        return Some(at..word_end(query, at));
    }
    if let Some(r) = named(&message)
        .iter()
        .find_map(|name| find_word(query, name))
    {
        return Some(r);
    }
    // a construct the engine does not run, named by its keyword: `JOIN`, `ORDER BY ...`,
    // `GROUP BY without a window table function`
    match e {
        EngineError::Unsupported { construct, .. } => construct
            .split_whitespace()
            .next()
            .filter(|w| w.len() > 1 && w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .and_then(|keyword| find_word(query, keyword)),
        _ => None,
    }
}

/// DataFusion's diagnostic span of the error, as a byte range of `query`.
fn diagnostic_range(query: &str, df: &DataFusionError) -> Option<Range<usize>> {
    let span = df.diagnostic()?.span?;
    if span.start.line == 0 {
        return None;
    }
    let at = |l: datafusion::common::Location| {
        weir_model::jobfile::sql::offset_of(
            query,
            Location {
                line: l.line,
                column: l.column,
            },
        )
    };
    let (start, end) = (at(span.start), at(span.end));
    (start < end && end <= query.len()).then_some(start..end)
}

/// `(at byte N of the query)`, as the rewrite reports a parse error.
fn byte_marker(message: &str) -> Option<usize> {
    let rest = &message[message.find("(at byte ")? + "(at byte ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The names a message is about, most telling first: `No field named X`, `DESCRIPTOR(X)`,
/// then names in backticks or quotes.
fn named(message: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(i) = message.find("No field named ") {
        let rest = &message[i + "No field named ".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect::<String>()
            .trim_end_matches(['.', ',', ';'])
            .to_string();
        out.push(name);
    }
    if let Some(i) = message.find("DESCRIPTOR(") {
        let rest = &message[i + "DESCRIPTOR(".len()..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_string());
        }
    }
    for quote in ['`', '\''] {
        let mut parts = message.split(quote);
        parts.next();
        while let (Some(inside), Some(_)) = (parts.next(), parts.next()) {
            out.push(inside.to_string());
        }
    }
    out.into_iter()
        .map(|n| n.trim_matches('"').to_string())
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || "_.\"".contains(c)))
        .collect()
}

/// The first whole-word occurrence of `name` in `query` outside strings and comments; a
/// qualified name (`t.col`) is looked for whole, then by its last part.
fn find_word(query: &str, name: &str) -> Option<Range<usize>> {
    let last = name.rsplit('.').next().unwrap_or(name);
    let words = words(query);
    for want in [name, last] {
        if let Some(r) = words
            .iter()
            .find(|r| query[r.start..r.end].trim_matches('"') == want)
        {
            return Some(r.clone());
        }
        if let Some(r) = words.iter().find(|r| {
            query[r.start..r.end]
                .trim_matches('"')
                .eq_ignore_ascii_case(want)
        }) {
            return Some(r.clone());
        }
    }
    None
}

/// The byte ranges of the identifiers of `query` (dotted names as one, `"quoted"` ones with
/// their quotes), skipping string literals and comments.
fn words(query: &str) -> Vec<Range<usize>> {
    let b = query.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                i += 1;
                while i < b.len() && !(b[i] == b'\'' && b.get(i + 1) != Some(&b'\'')) {
                    i += if b[i] == b'\'' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'"' | b'`' => {
                let q = b[i];
                let start = i;
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i = (i + 1).min(b.len());
                out.push(start..i);
            }
            c if ident(c) && !c.is_ascii_digit() => {
                let start = i;
                while i < b.len() && ident(b[i]) {
                    i += 1;
                }
                out.push(start..i);
            }
            _ => i += 1,
        }
    }
    // dotted names (`t.col`) as one word as well, after their parts
    let mut dotted = Vec::new();
    for pair in out.windows(2) {
        if pair[0].end + 1 == pair[1].start && b.get(pair[0].end) == Some(&b'.') {
            dotted.push(pair[0].start..pair[1].end);
        }
    }
    dotted.extend(out);
    dotted
}

/// The end of the word that starts at `at`: at least one byte, at most to the next blank.
fn word_end(query: &str, at: usize) -> usize {
    query[at..]
        .find(char::is_whitespace)
        .map_or(query.len(), |e| at + e)
        .max(at + 1)
        .min(query.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_table_never_reaches_a_message() {
        assert_eq!(
            user_text("No field named urlx. Did you mean '__weir_window.url'?"),
            "No field named urlx. Did you mean 'url'?"
        );
        assert_eq!(
            user_text("Valid fields are \"__weir_window\".url, __weir_window.ts, url."),
            "Valid fields are url, ts."
        );
        assert!(!user_text("table '__weir_window' not found").contains("__weir"));
    }

    #[test]
    fn a_named_column_is_found_as_a_whole_word_outside_strings() {
        let q = "SELECT url, 'urlx' AS s -- urlx\nFROM t GROUP BY urlx";
        let r = find_word(q, "urlx").unwrap_or_else(|| panic!("not found"));
        assert_eq!(&q[r.clone()], "urlx");
        assert_eq!(r.start, q.rfind("urlx").unwrap_or(0));
        let r = find_word(q, "t.url").unwrap_or_else(|| panic!("not found"));
        assert_eq!(&q[r], "url");
    }

    #[test]
    fn names_are_read_from_messages() {
        assert_eq!(
            named("Schema error: No field named urlx. Did you mean 'url'?")[0],
            "urlx"
        );
        assert_eq!(
            named("the query reads table `clickz`, which is not an input")[0],
            "clickz"
        );
        assert_eq!(byte_marker("bad (at byte 17 of the query)"), Some(17));
    }

    /// What `weir run` and `weir validate` say of the bug of issue 17: the unknown column,
    /// at its place, in the user's names.
    #[test]
    fn plan_and_check_speak_of_the_query_as_written() {
        use std::sync::Arc;

        use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

        let clicks = crate::sql::InputTable {
            name: "clicks".into(),
            schema: Arc::new(Schema::new(vec![
                Field::new("url", DataType::Utf8, true),
                Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
            ])),
            event_time: Some("ts".into()),
        };
        let q = "SELECT window_start, url, COUNT(*) AS pv\nFROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))\nGROUP BY window_start, window_end, urlx";
        let refusal = match crate::sql::check_located(q, std::slice::from_ref(&clicks)) {
            Ok(_) => panic!("urlx is no column"),
            Err(r) => r,
        };
        let message = refusal.error.to_string();
        assert!(message.contains("Did you mean 'url'?"), "{message}");
        assert!(!message.contains("__weir"), "{message}");
        let at = refusal
            .at
            .unwrap_or_else(|| panic!("not located: {message}"));
        assert_eq!(&q[at.clone()], "urlx");
        assert_eq!(at.start, q.rfind("urlx").unwrap_or(0));
        match crate::sql::plan("pv", q, &[clicks]) {
            Ok(_) => panic!("urlx is no column"),
            Err(e) => {
                let message = e.to_string();
                assert!(!message.contains("__weir"), "{message}");
                assert_eq!(e.fault(), Fault::User);
            }
        }
    }

    #[test]
    fn a_construct_is_found_by_its_keyword() {
        let q = "SELECT url FROM clicks\n ORDER BY ts";
        let e = EngineError::unsupported("ORDER BY on a stream without a window", None);
        let r = locate(q, &e).unwrap_or_else(|| panic!("not found"));
        assert_eq!(&q[r], "ORDER");
        let e = EngineError::unsupported("subqueries in expressions", None);
        assert_eq!(locate(q, &e), None);
    }
}
