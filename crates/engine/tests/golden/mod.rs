//! The SQL golden file format (tests/sql/README.md): tables with their schema and
//! watermark, rows in arrival order, and cases (a query with its expected rows or its
//! expected error). Also the canonical text form of values, on both sides: input cells
//! into Arrow arrays, and output arrays into text. The runner is `sql_golden.rs`.

pub mod values;

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// One `table` of a golden file.
pub struct Table {
    pub name: String,
    pub schema: SchemaRef,
    /// The event-time column and the out-of-orderness bound in ms, from `watermark`.
    pub watermark: Option<(String, i64)>,
    /// Cell texts, in arrival order.
    pub rows: Vec<Vec<String>>,
}

/// What a case expects.
pub enum Expect {
    /// Canonical rows (cells joined by " | "); `recorded` when the Flink provenance line
    /// is there; `columns` the result's column names and Flink types, from the two
    /// comment lines under it.
    Rows {
        rows: Vec<String>,
        recorded: bool,
        columns: Vec<(String, String)>,
    },
    /// Planning fails with an error containing this text.
    Error(String),
}

/// One `case`: its options, its query and what it expects.
pub struct Case {
    pub name: String,
    /// The 1-based line of `case NAME`.
    pub line: usize,
    pub ordered: bool,
    pub known_difference: Option<String>,
    /// Only the result's column types differ from Flink's; the rows are still asserted.
    pub known_type_difference: Option<String>,
    pub query: String,
    pub expect: Expect,
}

/// A parsed golden file: its tables (with rows) and cases, in file order.
pub struct GoldenFile {
    pub tables: Vec<Table>,
    pub cases: Vec<Case>,
}

/// The provenance line golden.py writes above Flink's rows.
pub const PROVENANCE: &str = "# expected rows from Apache Flink";

/// Cells of a row line, trimmed and joined by " | " (the form rows are compared in).
pub fn normalize_row(line: &str) -> String {
    cells(line).join(" | ")
}

/// The trimmed cells of a `|`-separated line.
fn cells(line: &str) -> Vec<String> {
    line.split('|').map(|c| c.trim().to_string()).collect()
}

fn column_type(text: &str) -> Option<DataType> {
    let t = text.trim().to_ascii_uppercase().replace(' ', "");
    Some(match t.as_str() {
        "STRING" => DataType::Utf8,
        "BOOLEAN" => DataType::Boolean,
        "INT" => DataType::Int32,
        "BIGINT" => DataType::Int64,
        "FLOAT" => DataType::Float32,
        "DOUBLE" => DataType::Float64,
        "DATE" => DataType::Date32,
        "TIMESTAMP(3)" => DataType::Timestamp(arrow::datatypes::TimeUnit::Millisecond, None),
        _ => {
            let inner = t.strip_prefix("DECIMAL(")?.strip_suffix(')')?;
            let (p, s) = inner.split_once(',')?;
            DataType::Decimal128(p.parse().ok()?, s.parse().ok()?)
        }
    })
}

/// Split at commas outside parentheses (`DECIMAL(10,2)` stays whole).
fn split_top(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_table(line: &str) -> Result<Table, String> {
    let bad = || "expected `table NAME (column TYPE, ...)`".to_string();
    let rest = line.strip_prefix("table ").ok_or_else(bad)?;
    let (name, cols) = rest.split_once('(').ok_or_else(bad)?;
    let cols = cols.trim_end().strip_suffix(')').ok_or_else(bad)?;
    let mut fields = Vec::new();
    for part in split_top(cols) {
        let (col, ty) = part
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("bad column `{}`: expected `name TYPE`", part.trim()))?;
        let ty = column_type(ty).ok_or_else(|| {
            format!(
                "bad type `{}` of column `{col}`: expected STRING, BOOLEAN, INT, BIGINT, FLOAT, DOUBLE, DATE, TIMESTAMP(3) or DECIMAL(p,s)",
                ty.trim()
            )
        })?;
        fields.push(Field::new(col, ty, true));
    }
    Ok(Table {
        name: name.trim().to_string(),
        schema: Arc::new(Schema::new(fields)),
        watermark: None,
        rows: Vec::new(),
    })
}

fn parse_watermark(line: &str) -> Result<(String, i64), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["watermark", col, "-", n, "ms"] => n
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| (col.to_string(), n))
            .ok_or_else(|| format!("bad bound `{n}`: expected milliseconds, 0 or more")),
        _ => Err("expected `watermark COLUMN - N ms`".into()),
    }
}

/// Parse one golden file; errors say `line N: what`.
pub fn parse(text: &str) -> Result<GoldenFile, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut file = GoldenFile {
        tables: Vec::new(),
        cases: Vec::new(),
    };
    let at = |i: usize, m: String| format!("line {}: {m}", i + 1);
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            i += 1;
        } else if line.starts_with("table ") {
            file.tables.push(parse_table(line).map_err(|m| at(i, m))?);
            i += 1;
        } else if line.starts_with("watermark ") {
            let wm = parse_watermark(line).map_err(|m| at(i, m))?;
            let table = file
                .tables
                .last_mut()
                .ok_or_else(|| at(i, "`watermark` before any `table`".into()))?;
            if table.schema.field_with_name(&wm.0).is_err() {
                return Err(at(
                    i,
                    format!("table {} has no column `{}`", table.name, wm.0),
                ));
            }
            table.watermark = Some(wm);
            i += 1;
        } else if let Some(name) = line.strip_prefix("rows ") {
            let name = name.trim();
            let table = file
                .tables
                .iter_mut()
                .find(|t| t.name == name)
                .ok_or_else(|| at(i, format!("rows for unknown table `{name}`")))?;
            i += 1;
            while i < lines.len() && !lines[i].trim().is_empty() {
                if !lines[i].starts_with('#') {
                    let cells: Vec<String> =
                        lines[i].split('|').map(|c| c.trim().to_string()).collect();
                    if cells.len() != table.schema.fields().len() {
                        return Err(at(
                            i,
                            format!(
                                "{} values for the {} columns of {name}",
                                cells.len(),
                                table.schema.fields().len()
                            ),
                        ));
                    }
                    table.rows.push(cells);
                }
                i += 1;
            }
        } else if let Some(name) = line.strip_prefix("case ") {
            i = parse_case(&lines, i, name.trim(), &mut file.cases).map_err(|m| at(i, m))?;
        } else {
            return Err(at(i, format!("unexpected line `{line}`")));
        }
    }
    Ok(file)
}

/// Parse the case starting at `start`; returns the index after it.
fn parse_case(
    lines: &[&str],
    start: usize,
    name: &str,
    cases: &mut Vec<Case>,
) -> Result<usize, String> {
    let mut case = Case {
        name: name.to_string(),
        line: start + 1,
        ordered: false,
        known_difference: None,
        known_type_difference: None,
        query: String::new(),
        expect: Expect::Error(String::new()),
    };
    let mut error = None;
    let mut i = start + 1;
    while i < lines.len() && lines[i].trim() != "query" {
        let opt = lines[i].trim();
        if opt == "ordered" {
            case.ordered = true;
        } else if let Some(e) = opt.strip_prefix("error:") {
            error = Some(e.trim().to_string());
        } else if let Some(r) = opt.strip_prefix("known-difference:") {
            case.known_difference = Some(r.trim().to_string());
        } else if let Some(r) = opt.strip_prefix("known-type-difference:") {
            case.known_type_difference = Some(r.trim().to_string());
        } else if !opt.is_empty() && !opt.starts_with('#') {
            return Err(format!(
                "case {name}: unknown option `{opt}` (line {})",
                i + 1
            ));
        }
        i += 1;
    }
    i += 1;
    let mut query = Vec::new();
    while i < lines.len() && !lines[i].trim().is_empty() && lines[i].trim() != "----" {
        if !lines[i].starts_with('#') {
            query.push(lines[i]);
        }
        i += 1;
    }
    if query.is_empty() {
        return Err(format!("case {name} has no query after `query`"));
    }
    case.query = query.join("\n");
    case.expect = match error {
        Some(e) => Expect::Error(e),
        None => {
            if i >= lines.len() || lines[i].trim() != "----" {
                return Err(format!(
                    "case {name}: the query must be followed by `----` and the expected rows (or the case needs `error: ...`)"
                ));
            }
            i += 1;
            let (mut rows, mut recorded, mut header) = (Vec::new(), false, Vec::new());
            while i < lines.len() && !lines[i].trim().is_empty() {
                let l = lines[i].trim();
                if l.starts_with(PROVENANCE) {
                    recorded = true;
                } else if let Some(comment) = l.strip_prefix('#') {
                    header.push(cells(comment));
                } else {
                    rows.push(normalize_row(l));
                }
                i += 1;
            }
            let columns = match (recorded, header.as_slice()) {
                (false, _) => Vec::new(),
                (true, [names, types]) if names.len() == types.len() => {
                    names.iter().cloned().zip(types.iter().cloned()).collect()
                }
                (true, _) => {
                    return Err(format!(
                        "case {name}: under the provenance line golden.py writes two comment lines, the column names and their types; found {} comment line(s) (line {}); re-run bench/flink/golden.py",
                        header.len(),
                        i + 1
                    ));
                }
            };
            Expect::Rows {
                rows,
                recorded,
                columns,
            }
        }
    };
    cases.push(case);
    Ok(i)
}
