//! Arrow schemas of sources, built from the field lists of the job model.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use weir_model::model::{Field as ModelField, FieldType};

/// The Arrow type a job field is decoded into. Every column is nullable: a missing JSON
/// key becomes null, not a decode error.
pub fn arrow_type(ty: FieldType) -> DataType {
    match ty {
        FieldType::String => DataType::Utf8,
        FieldType::Boolean => DataType::Boolean,
        FieldType::Int => DataType::Int32,
        FieldType::BigInt => DataType::Int64,
        FieldType::Float => DataType::Float32,
        FieldType::Double => DataType::Float64,
        FieldType::Decimal(p, s) => DataType::Decimal128(p.clamp(1, 38), s.min(p) as i8),
        FieldType::Date => DataType::Date32,
        FieldType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
    }
}

/// The schema of a source whose records have `fields`.
pub fn source_schema(fields: &[ModelField]) -> SchemaRef {
    Arc::new(Schema::new(
        fields
            .iter()
            .map(|f| Field::new(&f.name, arrow_type(f.ty), true))
            .collect::<Vec<_>>(),
    ))
}

/// The position of the event-time column in `schema`, checked to be a timestamp or an
/// epoch-millisecond integer.
pub fn event_time_index(schema: &Schema, node: &str, column: &str) -> crate::error::Result<usize> {
    let (index, field) = schema.column_with_name(column).ok_or_else(|| {
        crate::EngineError::Plan(format!(
            "{node}: event_time `{column}` is not one of the source's fields; add it to `fields` or fix the name"
        ))
    })?;
    match field.data_type() {
        DataType::Timestamp(_, _) | DataType::Int64 => Ok(index),
        other => Err(crate::EngineError::Plan(format!(
            "{node}: event_time `{column}` has type {other}; it must be a Timestamp or a BigInt of epoch milliseconds"
        ))),
    }
}
