//! Checks of a SQL operator's query as users write it in Flink streaming SQL: it must
//! parse (window table functions TUMBLE/HOP/CUMULATE/SESSION included), hold only
//! `CREATE VIEW` statements and one final query, and read only tables registered upstream.
//! Positions are byte offsets into the query text; the caller maps them into the file.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, Query, Spanned, Statement,
    TableFactor, Visit, Visitor,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Tokenizer};

pub mod depth;

use super::de::did_you_mean;

/// The window table functions of Flink SQL.
pub const WINDOW_FUNCTIONS: [&str; 4] = ["TUMBLE", "HOP", "CUMULATE", "SESSION"];

#[derive(Debug, Clone, PartialEq)]
pub struct SqlProblem {
    /// Byte range in the query text.
    pub start: usize,
    pub end: usize,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

/// Rewrite Flink-only syntax into what the SQL parser reads, keeping every byte offset:
/// the `TABLE` keyword of a table argument (`TUMBLE(TABLE clicks, ...)`) and a SESSION
/// window's `PARTITION BY key` are blanked out with spaces.
pub fn prepare(query: &str) -> String {
    let bytes = query.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut prev_sig: u8 = b' ';
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' | b'"' | b'`' => {
                let q = c;
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == q {
                        if bytes.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                prev_sig = q;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &query[start..i];
                if word.eq_ignore_ascii_case("FOR")
                    && let Some(end) = system_time_clause(query, i)
                {
                    out[start..end].fill(b' ');
                    i = end;
                    prev_sig = b'a';
                    continue;
                }
                let next = bytes[i..]
                    .iter()
                    .copied()
                    .find(|b| !b.is_ascii_whitespace());
                let table_arg = word.eq_ignore_ascii_case("TABLE")
                    && matches!(prev_sig, b'(' | b',' | b'>')
                    && next.is_some_and(|n| {
                        n.is_ascii_alphabetic() || n == b'_' || n == b'`' || n == b'"'
                    });
                // Flink's map constructor `MAP['a', 1]` reads as the call `MAP('a', 1)`;
                // the types `MAP<K, V>` and `ROW<name TYPE, ...>` (MAP and ROW are reserved
                // words in Flink, so this is always a type) as `MAP(K, V)` and `ROW`
                let after = i + (bytes[i..].len() - query[i..].trim_start().len());
                if word.eq_ignore_ascii_case("MAP") && next == Some(b'[') {
                    if let Some(close) = matching(bytes, after, b'[', b']') {
                        out[after] = b'(';
                        out[close] = b')';
                    }
                } else if (word.eq_ignore_ascii_case("MAP") || word.eq_ignore_ascii_case("ROW"))
                    && next == Some(b'<')
                    && let Some(close) = matching(bytes, after, b'<', b'>')
                {
                    if word.eq_ignore_ascii_case("MAP") {
                        out[after] = b'(';
                        out[close] = b')';
                    } else {
                        out[after..=close].fill(b' ');
                    }
                }
                if table_arg {
                    out[start..i].fill(b' ');
                    // blank a following `PARTITION BY ...` up to the next `,` or `)`
                    if let Some(end) = partition_clause(query, i) {
                        out[end.0..end.1].fill(b' ');
                        i = end.1;
                    }
                }
                prev_sig = b'a';
            }
            c if c.is_ascii_whitespace() => i += 1,
            c => {
                prev_sig = c;
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| query.to_string())
}

/// The index of the bracket `close` that matches the `open` at `from`, skipping quoted
/// text; None when a `;` or an unbalanced `)` comes first, or when brackets nest deeper
/// than the depth check lets through (which then refuses the query): without that
/// bound, `MAP[MAP[MAP[...` would scan to the end once per `MAP` (20,000 took 13 s).
fn matching(bytes: &[u8], from: usize, open: u8, close: u8) -> Option<usize> {
    let mut depth = 0usize;
    let mut parens = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
            }
            c if c == open => {
                depth += 1;
                if depth > depth::MAX_GROUP_DEPTH {
                    return None;
                }
            }
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'(' => parens += 1,
            b')' if parens == 0 => return None,
            b')' => parens -= 1,
            b';' => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// How far the Flink clauses below are looked for: each is a few words, and an unbounded
/// scan per `TABLE` or `FOR` would make a hostile query quadratic.
const CLAUSE_SCAN: usize = 1024;

/// After the word `FOR` (ending at `from`): the end of a lookup join's
/// `FOR SYSTEM_TIME AS OF expr`, where expr is a column (`o.proc_time`) or a call
/// (`PROCTIME()`). The parser does not read this Flink clause, so it is blanked.
fn system_time_clause(query: &str, from: usize) -> Option<usize> {
    let mut pos = from;
    for kw in ["SYSTEM_TIME", "AS", "OF"] {
        let rest = &query[pos..];
        let trimmed = rest.trim_start();
        if trimmed.len() == rest.len() || !trimmed.get(..kw.len())?.eq_ignore_ascii_case(kw) {
            return None;
        }
        pos += rest.len() - trimmed.len() + kw.len();
        if trimmed[kw.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            return None;
        }
    }
    let rest = &query[pos..];
    pos += rest.len() - rest.trim_start().len();
    let bytes = query.as_bytes();
    while pos < bytes.len()
        && (bytes[pos].is_ascii_alphanumeric() || matches!(bytes[pos], b'_' | b'.' | b'`'))
    {
        pos += 1;
    }
    if bytes.get(pos) == Some(&b'(') {
        let mut depth = 0;
        let mut limit = (pos + CLAUSE_SCAN).min(bytes.len());
        while !query.is_char_boundary(limit) {
            limit -= 1;
        }
        while pos < limit {
            match bytes[pos] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        pos += 1;
                        break;
                    }
                }
                _ => {}
            }
            pos += 1;
        }
    }
    Some(pos)
}

/// After `TABLE name` at `from`: the byte range of a `PARTITION BY ...` clause.
fn partition_clause(query: &str, from: usize) -> Option<(usize, usize)> {
    let rest = &query[from..];
    let name = rest.trim_start();
    // a quoted name (`raw-events`) runs to its closing quote
    let name_len = match name.chars().next() {
        Some(q @ ('`' | '"')) => name[1..].find(q)? + 2,
        _ => name.find(|c: char| !(c.is_alphanumeric() || c == '_'))?,
    };
    let after_name = from + (rest.len() - rest.trim_start().len()) + name_len;
    let tail = &query[after_name..];
    let trimmed = tail.trim_start();
    let upper: String = trimmed
        .chars()
        .take(12)
        .collect::<String>()
        .to_ascii_uppercase();
    if !upper.starts_with("PARTITION") {
        return None;
    }
    let start = after_name + (tail.len() - trimmed.len());
    let mut depth = 0i32;
    for (k, ch) in query[start..]
        .char_indices()
        .take_while(|(k, _)| *k < CLAUSE_SCAN)
    {
        match ch {
            '(' => depth += 1,
            ')' if depth == 0 => return Some((start, start + k)),
            ')' => depth -= 1,
            ',' if depth == 0 => return Some((start, start + k)),
            _ => {}
        }
    }
    None
}

/// Byte offset of a parser location (1-based line and character column) in `text`; the
/// engine maps DataFusion's locations in a query with it too.
pub fn offset_of(text: &str, loc: Location) -> usize {
    if loc.line == 0 {
        return 0;
    }
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if n + 1 == loc.line as usize {
            return offset
                + line
                    .char_indices()
                    .nth(loc.column.saturating_sub(1) as usize)
                    .map_or(line.len(), |(i, _)| i);
        }
        offset += line.len();
    }
    text.len()
}

/// Parse the query into statements, or say where it stops making sense.
pub fn parse(query: &str) -> Result<Vec<Statement>, SqlProblem> {
    let prepared = prepare(query);
    let dialect = GenericDialect {};
    let parsed = match Tokenizer::new(&dialect, &prepared).tokenize_with_location() {
        Ok(tokens) => {
            // bound the tree's depth before building it (sql/depth.rs)
            if let Some(deep) = depth::too_deep(&tokens) {
                return Err(depth::problem(query, &deep));
            }
            Parser::new(&dialect)
                .with_recursion_limit(PARSER_RECURSION_LIMIT)
                .with_tokens_with_locations(tokens)
                .parse_statements()
        }
        Err(e) => Err(ParserError::from(e)),
    };
    parsed.map_err(|e| {
        let text = e.to_string();
        let (message, loc) = match text.rfind(" at Line: ") {
            Some(at) => {
                let nums: Vec<u64> = text[at..]
                    .split(|c: char| !c.is_ascii_digit())
                    .filter_map(|s| s.parse().ok())
                    .collect();
                let loc = Location {
                    line: nums.first().copied().unwrap_or(1),
                    column: nums.get(1).copied().unwrap_or(1),
                };
                (text[..at].to_string(), loc)
            }
            // errors at the end of the text carry no location: point at the last word
            None => {
                let end = query.trim_end();
                let before = &end[..end.rfind(char::is_whitespace).map_or(0, |i| i + 1)];
                let line = before.matches('\n').count() as u64 + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
                (text.clone(), Location { line, column })
            }
        };
        let message = message
            .trim_start_matches("sql parser error: ")
            .trim_start_matches("SQL parser error: ")
            .to_string();
        let start = offset_of(query, loc);
        let end = query[start..]
            .find(|c: char| c.is_whitespace())
            .map_or(query.len(), |e| start + e)
            .max(start + 1)
            .min(query.len());
        SqlProblem {
            start,
            end,
            code: "sql-syntax",
            message: format!("SQL does not parse: {message}"),
            hint: Some("weir reads Flink streaming SQL; see formats/job-v1.md#sql".into()),
        }
    })
}

/// The SQL parser's recursion limit: above [`depth::MAX_GROUP_DEPTH`], which refuses
/// deeper brackets first with a located message (the parser's own error has no place).
const PARSER_RECURSION_LIMIT: usize = 4 * depth::MAX_GROUP_DEPTH;

/// Check a SQL operator's query against the tables its upstream operators register.
pub fn check(query: &str, tables: &[&str]) -> Vec<SqlProblem> {
    if query.trim().is_empty() {
        return vec![SqlProblem {
            start: 0,
            end: 0,
            code: "sql-empty",
            message: "the SQL operator has no query".into(),
            hint: Some("write a SELECT over the upstream tables".into()),
        }];
    }
    let statements = match parse(query) {
        Ok(s) => s,
        Err(p) => return vec![p],
    };
    let mut problems = Vec::new();
    let mut known: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
    let span_of = |s: &dyn Spanned| {
        let sp = s.span();
        let start = offset_of(query, sp.start);
        let end = offset_of(query, sp.end).max(start + 1).min(query.len());
        (start, end)
    };
    if statements.is_empty() {
        problems.push(SqlProblem {
            start: 0,
            end: query.len(),
            code: "sql-empty",
            message: "the SQL operator has no query".into(),
            hint: Some("write a SELECT over the upstream tables".into()),
        });
    }
    let last = statements.len().saturating_sub(1);
    for (n, st) in statements.iter().enumerate() {
        let (start, end) = span_of(st);
        match st {
            Statement::Query(q) => {
                if n != last {
                    problems.push(SqlProblem {
                        start,
                        end,
                        code: "sql-statement",
                        message: "only the last statement of a SQL operator may be a query".into(),
                        hint: Some("name earlier queries with CREATE VIEW name AS ...".into()),
                    });
                }
                check_refs(query, q.as_ref(), &known, &mut problems);
            }
            Statement::CreateView(v) => {
                check_refs(query, v.query.as_ref(), &known, &mut problems);
                known.push(
                    v.name
                        .to_string()
                        .trim_matches(|c| c == '`' || c == '"')
                        .to_string(),
                );
                if n == last {
                    problems.push(SqlProblem {
                        start,
                        end,
                        code: "sql-statement",
                        message: format!(
                            "the SQL operator ends with CREATE VIEW {}; its rows would go nowhere",
                            v.name
                        ),
                        hint: Some(format!("end with a query, e.g. SELECT * FROM {}", v.name)),
                    });
                }
            }
            Statement::Insert(_) => problems.push(SqlProblem {
                start,
                end,
                code: "sql-statement",
                message: "INSERT INTO is not used in a SQL operator".into(),
                hint: Some(
                    "write only the SELECT: its rows go to the operators downstream in the graph"
                        .into(),
                ),
            }),
            other => {
                let text = other.to_string();
                let words: Vec<&str> = text.split_whitespace().take(2).collect();
                problems.push(SqlProblem {
                    start,
                    end,
                    code: "sql-statement",
                    message: format!("`{}` statements are not supported in a SQL operator", words.join(" ")),
                    hint: Some(
                        "a SQL operator holds CREATE VIEW statements and one query; sources and sinks are operators of the graph".into(),
                    ),
                });
            }
        }
    }
    problems
}

/// Table names a query reads: relations, and the table argument of window functions.
#[derive(Default)]
struct Refs {
    ctes: Vec<String>,
    refs: Vec<(String, sqlparser::tokenizer::Span)>,
}

impl Visitor for Refs {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if let Some(with) = &q.with {
            self.ctes
                .extend(with.cte_tables.iter().map(|c| c.alias.name.value.clone()));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, rel: &ObjectName) -> ControlFlow<()> {
        self.refs.push((rel.to_string(), rel.span()));
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, tf: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::TableFunction {
            expr: Expr::Function(f),
            ..
        } = tf
        {
            let name = f.name.to_string().to_ascii_uppercase();
            if WINDOW_FUNCTIONS.contains(&name.as_str())
                && let FunctionArguments::List(list) = &f.args
                && let Some(first) = list.args.first()
            {
                let arg = match first {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                    FunctionArg::Named {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } => Some(e),
                    _ => None,
                };
                match arg {
                    Some(Expr::Identifier(id)) => self.refs.push((id.value.clone(), id.span)),
                    Some(Expr::CompoundIdentifier(ids)) => {
                        let name = ids
                            .iter()
                            .map(|i| i.value.as_str())
                            .collect::<Vec<_>>()
                            .join(".");
                        self.refs.push((name, e_span(ids)));
                    }
                    _ => {}
                }
            }
        }
        ControlFlow::Continue(())
    }
}

fn e_span(ids: &[sqlparser::ast::Ident]) -> sqlparser::tokenizer::Span {
    match (ids.first(), ids.last()) {
        (Some(a), Some(b)) => a.span.union(&b.span),
        _ => sqlparser::tokenizer::Span::empty(),
    }
}

fn check_refs(query: &str, q: &Query, known: &[String], problems: &mut Vec<SqlProblem>) {
    let mut refs = Refs::default();
    let _ = q.visit(&mut refs);
    for (name, span) in refs.refs {
        let bare = name.trim_matches(|c| c == '`' || c == '"');
        let found = known.iter().chain(refs.ctes.iter()).any(|k| {
            k.trim_matches(|c| c == '`' || c == '"')
                .eq_ignore_ascii_case(bare)
        });
        if found {
            continue;
        }
        let start = offset_of(query, span.start);
        let end = offset_of(query, span.end).max(start + 1).min(query.len());
        let hint = match did_you_mean(bare, known.iter().map(String::as_str)) {
            Some(m) => format!("did you mean `{m}`?"),
            None if known.is_empty() => {
                "connect a source to this SQL operator; its table becomes visible here".into()
            }
            None => format!("tables registered upstream: {}", known.join(", ")),
        };
        problems.push(SqlProblem {
            start,
            end,
            code: "sql-unknown-table",
            message: format!("SQL reads table `{bare}`, which no upstream operator registers"),
            hint: Some(hint),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_table_functions_parse() {
        for q in [
            "SELECT window_start, url, COUNT(*) AS pv FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, url",
            "SELECT * FROM TABLE(HOP(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '1' MINUTE))",
            "SELECT * FROM TABLE(CUMULATE(DATA => TABLE clicks, TIMECOL => DESCRIPTOR(ts), STEP => INTERVAL '1' MINUTE, SIZE => INTERVAL '1' HOUR))",
            "SELECT * FROM TABLE(SESSION(TABLE clicks PARTITION BY user_id, DESCRIPTOR(ts), INTERVAL '5' MINUTE))",
            "SELECT url, TUMBLE_START(ts, INTERVAL '1' MINUTE) FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), url",
            "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY pv DESC) AS rn FROM v) WHERE rn <= 3",
            "SELECT CAST(a AS STRING), CASE WHEN b > 1 THEN 'x' ELSE 'y' END FROM `clicks`",
            "SELECT c.url, u.city FROM clicks AS c JOIN v FOR SYSTEM_TIME AS OF c.proc_time AS u ON c.user_id = u.id",
            "SELECT * FROM clicks c LEFT JOIN v for system_time as of PROCTIME() u ON c.k = u.k",
            "SELECT * FROM TABLE(SESSION(TABLE `clicks` PARTITION BY user_id, DESCRIPTOR(ts), INTERVAL '5' MINUTES))",
            "CREATE VIEW `per-minute` AS SELECT * FROM clicks; SELECT * FROM `per-minute`",
            "SELECT MAP['a', 1, 'b]', MAP[k, ARRAY[1, 2]]] AS m, m['a'] FROM clicks",
            "SELECT CAST(x AS MAP<STRING, ARRAY<INT>>), CAST(y AS ROW<a INT, b MAP<STRING, INT>>) FROM clicks",
            "SELECT CAST(x AS ARRAY<ROW<a INT>>) FROM clicks WHERE a < 3 AND b > 2",
        ] {
            let tables = ["clicks", "v"];
            assert_eq!(check(q, &tables), vec![], "{q}");
        }
    }

    #[test]
    fn unknown_tables_and_positions() {
        let q = "SELECT *\nFROM TABLE(TUMBLE(TABLE clikcs, DESCRIPTOR(ts), INTERVAL '1' MINUTE))";
        let p = check(q, &["clicks"]);
        assert_eq!(p.len(), 1);
        assert_eq!(&q[p[0].start..p[0].end], "clikcs");
        assert_eq!(p[0].hint.as_deref(), Some("did you mean `clicks`?"));
        let p = check("SELECT * FROM a JOIN b ON a.x = b.x", &["a"]);
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("`b`"));
    }

    #[test]
    fn views_ctes_and_statements() {
        let q =
            "CREATE VIEW v AS SELECT * FROM clicks; WITH w AS (SELECT * FROM v) SELECT * FROM w";
        assert_eq!(check(q, &["clicks"]), vec![]);
        assert_eq!(
            check("INSERT INTO out SELECT * FROM clicks", &["clicks"])[0].code,
            "sql-statement"
        );
        assert_eq!(
            check("CREATE TABLE t (a INT)", &[])[0].code,
            "sql-statement"
        );
        let bad = check("SELECT a FROM t WHERE", &["t"]);
        assert_eq!(bad[0].code, "sql-syntax");
        assert!(bad[0].start > 0);
    }
}
