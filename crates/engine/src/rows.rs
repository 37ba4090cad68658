//! Arrow rows as JSON objects: what print, capture and Kafka sinks write and what
//! `weir test` compares. Timestamps are written `YYYY-MM-DD HH:MM:SS.mmm` (UTC), as in
//! Flink's JSON format and formats/testdata.md.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, TimeUnit, *};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Number, Value};

/// One JSON object per row of `batch`, keys in schema order.
pub fn batch_to_json(batch: &RecordBatch) -> Vec<Map<String, Value>> {
    let schema = batch.schema();
    let mut rows: Vec<Map<String, Value>> = (0..batch.num_rows()).map(|_| Map::new()).collect();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        for (i, row) in rows.iter_mut().enumerate() {
            row.insert(field.name().clone(), value_at(column, i));
        }
    }
    rows
}

/// Millisecond timestamp as `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
pub fn format_ts_ms(ms: i64) -> String {
    match arrow::temporal_conversions::timestamp_ms_to_datetime(ms) {
        Some(dt) => dt.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        None => ms.to_string(),
    }
}

fn float(v: f64) -> Value {
    Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The value of row `i` of `column` as JSON.
pub fn value_at(column: &ArrayRef, i: usize) -> Value {
    if column.is_null(i) {
        return Value::Null;
    }
    match column.data_type() {
        DataType::Utf8 => Value::String(column.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Value::String(column.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Value::String(column.as_string_view().value(i).to_string()),
        DataType::Boolean => Value::Bool(column.as_boolean().value(i)),
        DataType::Int8 => column.as_primitive::<Int8Type>().value(i).into(),
        DataType::Int16 => column.as_primitive::<Int16Type>().value(i).into(),
        DataType::Int32 => column.as_primitive::<Int32Type>().value(i).into(),
        DataType::Int64 => column.as_primitive::<Int64Type>().value(i).into(),
        DataType::UInt8 => column.as_primitive::<UInt8Type>().value(i).into(),
        DataType::UInt16 => column.as_primitive::<UInt16Type>().value(i).into(),
        DataType::UInt32 => column.as_primitive::<UInt32Type>().value(i).into(),
        DataType::UInt64 => column.as_primitive::<UInt64Type>().value(i).into(),
        DataType::Float32 => float(column.as_primitive::<Float32Type>().value(i) as f64),
        DataType::Float64 => float(column.as_primitive::<Float64Type>().value(i)),
        DataType::Timestamp(unit, _) => {
            let ms = match unit {
                TimeUnit::Second => column.as_primitive::<TimestampSecondType>().value(i) * 1000,
                TimeUnit::Millisecond => column.as_primitive::<TimestampMillisecondType>().value(i),
                TimeUnit::Microsecond => column
                    .as_primitive::<TimestampMicrosecondType>()
                    .value(i)
                    .div_euclid(1000),
                TimeUnit::Nanosecond => column
                    .as_primitive::<TimestampNanosecondType>()
                    .value(i)
                    .div_euclid(1_000_000),
            };
            Value::String(format_ts_ms(ms))
        }
        _ => {
            let options = FormatOptions::default();
            match ArrayFormatter::try_new(column.as_ref(), &options) {
                Ok(f) => Value::String(f.value(i).to_string()),
                Err(_) => Value::Null,
            }
        }
    }
}

/// A JSON value as plain text (strings unquoted), for keys and Redis values.
pub fn plain_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
