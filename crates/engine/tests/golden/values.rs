//! Values in the golden files' canonical text form (tests/sql/README.md), independent of
//! the engine: input cells → Arrow arrays, output arrays → text. NULL is `NULL`, the
//! empty string `(empty)`, timestamps `YYYY-MM-DD HH:MM:SS.mmm` (UTC, no zone), dates
//! `YYYY-MM-DD`, doubles rounded to 12 significant digits in the shortest form that
//! reads back, always with a `.`; decimals with their type's scale.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int32Array, Int64Array, StringArray, TimestampMillisecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;

use super::Table;

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn parse_date(text: &str) -> Option<i64> {
    let mut it = text.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d))
}

/// `YYYY-MM-DD HH:MM:SS.mmm` as epoch milliseconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(' ')?;
    let (hms, ms) = time.split_once('.')?;
    let parts: Vec<i64> = hms
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if parts.len() != 3 || ms.len() != 3 || parts[0] > 23 || parts[1] > 59 || parts[2] > 59 {
        return None;
    }
    let ms: i64 = ms.parse().ok()?;
    Some(
        parse_date(date)? * DAY_MS
            + parts[0] * 3_600_000
            + parts[1] * 60_000
            + parts[2] * 1000
            + ms,
    )
}

pub fn format_timestamp(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    let t = ms.rem_euclid(DAY_MS);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}",
        t / 3_600_000,
        t / 60_000 % 60,
        t / 1000 % 60,
        t % 1000
    )
}

pub fn canonical_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // 12 significant digits, then Rust's shortest round-trip form (never an exponent)
    let rounded: f64 = format!("{x:.11e}").parse().unwrap_or(x);
    let mut s = format!("{rounded}");
    if !s.contains('.') {
        s.push_str(".0");
    }
    s
}

fn parse_decimal(text: &str, scale: i8) -> Option<i128> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let scale = usize::try_from(scale).ok()?;
    if frac.len() > scale || (whole.is_empty() && frac.is_empty()) {
        return None;
    }
    let text = format!("{whole}{frac:0<scale$}");
    let v: i128 = text.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// The column `col` of `table`'s rows as an array, or an error naming the bad cell.
fn column(table: &Table, col: usize) -> Result<ArrayRef, String> {
    let field = &table.schema.fields()[col];
    let cells: Vec<Option<&str>> = table
        .rows
        .iter()
        .map(|r| Some(r[col].as_str()).filter(|c| *c != "NULL"))
        .collect();
    let bad = |row: usize, cell: &str| {
        format!(
            "table {} row {}: `{cell}` is not a {} for column `{}`",
            table.name,
            row + 1,
            field.data_type(),
            field.name()
        )
    };
    macro_rules! typed {
        ($parse:expr) => {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| match c {
                    None => Ok(None),
                    Some(c) => $parse(*c).map(Some).ok_or_else(|| bad(i, c)),
                })
                .collect::<Result<Vec<_>, String>>()
        };
    }
    Ok(match field.data_type() {
        DataType::Utf8 => Arc::new(StringArray::from(
            cells
                .iter()
                .map(|c| c.map(|c| if c == "(empty)" { "" } else { c }))
                .collect::<Vec<_>>(),
        )),
        DataType::Boolean => Arc::new(BooleanArray::from(typed!(|c: &str| match c {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })?)),
        DataType::Int32 => Arc::new(Int32Array::from(typed!(|c: &str| c.parse().ok())?)),
        DataType::Int64 => Arc::new(Int64Array::from(typed!(|c: &str| c.parse().ok())?)),
        DataType::Float32 => Arc::new(Float32Array::from(typed!(|c: &str| c.parse().ok())?)),
        DataType::Float64 => Arc::new(Float64Array::from(typed!(|c: &str| c.parse().ok())?)),
        DataType::Date32 => Arc::new(Date32Array::from(typed!(
            |c: &str| parse_date(c).and_then(|d| i32::try_from(d).ok())
        )?)),
        DataType::Timestamp(TimeUnit::Millisecond, None) => {
            Arc::new(TimestampMillisecondArray::from(typed!(parse_timestamp)?))
        }
        DataType::Decimal128(p, s) => Arc::new(
            Decimal128Array::from(typed!(|c: &str| parse_decimal(c, *s))?)
                .with_precision_and_scale(*p, *s)
                .map_err(|e| format!("table {}: {e}", table.name))?,
        ),
        other => return Err(format!("no golden input form for type {other}")),
    })
}

/// All of `table`'s rows as one batch, in file order.
pub fn table_batch(table: &Table) -> Result<RecordBatch, String> {
    let cols = (0..table.schema.fields().len())
        .map(|c| column(table, c))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(Arc::clone(&table.schema), cols).map_err(|e| e.to_string())
}

/// The value at `row` of `array` in canonical text.
fn cell(array: &ArrayRef, row: usize) -> Result<String, String> {
    if array.is_null(row) {
        return Ok("NULL".into());
    }
    let text = |a: &ArrayRef| array_value_to_string(a, row).map_err(|e| e.to_string());
    match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = text(array)?;
            Ok(if s.is_empty() { "(empty)".into() } else { s })
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let a = cast(array, &DataType::Float64).map_err(|e| e.to_string())?;
            let v = a
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or("a float column did not cast to Float64")?
                .value(row);
            Ok(canonical_double(v))
        }
        DataType::Timestamp(..) => {
            let ms = cast(array, &DataType::Timestamp(TimeUnit::Millisecond, None))
                .and_then(|a| cast(&a, &DataType::Int64))
                .map_err(|e| e.to_string())?;
            let v = ms
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or("a timestamp column did not cast to Int64")?
                .value(row);
            Ok(format_timestamp(v))
        }
        DataType::Date32 => {
            let d = array
                .as_any()
                .downcast_ref::<Date32Array>()
                .ok_or("a Date32 column is not a Date32Array")?
                .value(row);
            let (y, m, d) = civil_from_days(i64::from(d));
            Ok(format!("{y:04}-{m:02}-{d:02}"))
        }
        _ => text(array),
    }
}

/// An Arrow result type in the words golden.py writes for Flink's column types
/// (tests/sql/README.md); a type with no Flink counterpart keeps its Arrow name, so it
/// never matches.
pub fn flink_type(data_type: &DataType) -> String {
    let precision = |unit: &TimeUnit| match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    };
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Date32 => "DATE".into(),
        DataType::Timestamp(unit, None) => format!("TIMESTAMP({})", precision(unit)),
        DataType::Timestamp(unit, Some(_)) => format!("TIMESTAMP_LTZ({})", precision(unit)),
        DataType::Decimal128(p, s) => format!("DECIMAL({p}, {s})"),
        other => format!("{other} (Arrow)"),
    }
}

/// Every row of `batches` as canonical cells joined by " | ".
pub fn rows(batches: &[RecordBatch]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let cells = b
                .columns()
                .iter()
                .map(|c| cell(c, r))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(cells.join(" | "));
        }
    }
    Ok(out)
}

#[test]
fn dates_and_doubles_read_back() {
    let ms = parse_timestamp("2026-03-01 23:59:59.999").unwrap_or_default();
    assert_eq!(format_timestamp(ms), "2026-03-01 23:59:59.999");
    assert_eq!(ms, 1_772_409_599_999);
    assert_eq!(parse_timestamp("1969-12-31 23:59:59.000"), Some(-1000));
    assert_eq!(canonical_double(41.0 / 12.0), "3.41666666667");
    assert_eq!(canonical_double(2.0), "2.0");
    assert_eq!(canonical_double(0.1 + 0.2), "0.3");
    assert_eq!(canonical_double(1e20), "100000000000000000000.0");
    assert_eq!(parse_decimal("-1.5", 2), Some(-150));
    assert_eq!(parse_decimal("1.555", 2), None);
    assert_eq!(
        flink_type(&DataType::Timestamp(TimeUnit::Millisecond, None)),
        "TIMESTAMP(3)"
    );
    assert_eq!(flink_type(&DataType::Decimal128(38, 2)), "DECIMAL(38, 2)");
}
