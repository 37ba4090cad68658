//! Record payloads (JSON or CSV) decoded in batches straight to Arrow. A batch that fails
//! is decoded again record by record, so that only the bad records are rejected.
//!
//! Decoding is strict by default: a JSON value of the wrong type (`1.7` or `"12"` for an
//! integer, `1.5` or `1e17` for a timestamp, a number for a string) rejects the record,
//! with the field and the reason, where Arrow's reader would coerce it (`strict.rs`). A
//! source marked `lenient` keeps Arrow's coercions (like Flink's
//! `json.ignore-parse-errors`, records that cannot be read at all are still rejected).

mod strict;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use weir_model::model::Format;

use crate::error::Result;

/// Raw records gathered from a source: payloads back to back in one buffer.
#[derive(Debug, Default, Clone)]
pub struct RawBatch {
    buf: Vec<u8>,
    spans: Vec<(usize, usize)>,
    /// (partition, offset) of each record; the partition is the tracker's local index.
    pub meta: Vec<(i32, i64)>,
}

impl RawBatch {
    /// Adds one record.
    pub fn push(&mut self, partition: i32, offset: i64, payload: &[u8]) {
        let start = self.buf.len();
        self.buf.extend_from_slice(payload);
        self.spans.push((start, self.buf.len()));
        self.buf.push(b'\n');
        self.meta.push((partition, offset));
    }
    /// Number of records.
    pub fn len(&self) -> usize {
        self.spans.len()
    }
    /// No records.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
    /// Bytes of payload.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }
    /// The payload of record `i`.
    pub fn payload(&self, i: usize) -> &[u8] {
        let (s, e) = self.spans[i];
        &self.buf[s..e]
    }
    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.spans.clear();
        self.meta.clear();
    }
}

/// What decoding a raw batch gave: the good rows and the rejected records.
#[derive(Debug)]
pub struct Decoded {
    pub batch: RecordBatch,
    /// For each row of `batch`, the index of its record in the raw batch.
    pub rows: Vec<usize>,
    /// (record index, reason) of every record that was rejected.
    pub bad: Vec<(usize, String)>,
}

/// Decodes payloads of one format into batches of one schema.
#[derive(Debug, Clone)]
pub struct RecordDecoder {
    schema: SchemaRef,
    /// The schema the CSV reader parses (timestamps as text, converted afterwards).
    csv_schema: SchemaRef,
    format: Format,
    event_time: Option<usize>,
    /// Keep Arrow's coercions instead of rejecting values of the wrong type.
    lenient: bool,
}

impl RecordDecoder {
    /// A decoder for `schema`; rows whose `event_time` column is null are rejected.
    pub fn new(schema: SchemaRef, format: Format, event_time: Option<usize>) -> Self {
        let csv_schema = Arc::new(Schema::new(
            schema
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    DataType::Timestamp(_, _) => Field::new(f.name(), DataType::Utf8, true),
                    _ => f.as_ref().clone(),
                })
                .collect::<Vec<_>>(),
        ));
        RecordDecoder {
            schema,
            csv_schema,
            format,
            event_time,
            lenient: false,
        }
    }

    /// Lenient decoding (the source's `lenient`): values Arrow can coerce are coerced.
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    /// Why record `payload` is refused by strict decoding, if it is.
    fn strict_problem(&self, payload: &[u8]) -> Option<String> {
        if self.lenient {
            return None;
        }
        match self.format {
            Format::Json => strict::json_problem(&self.schema, payload),
            Format::Csv => None,
        }
    }

    /// The schema of decoded batches.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Decodes all records; never fails because of a bad record.
    pub fn decode(&self, raw: &RawBatch) -> Result<Decoded> {
        let n = raw.len();
        if n == 0 {
            return Ok(Decoded {
                batch: RecordBatch::new_empty(self.schema.clone()),
                rows: vec![],
                bad: vec![],
            });
        }
        let has_empty = raw.spans.iter().any(|(s, e)| s == e);
        let problems: Vec<Option<String>> = (0..n)
            .map(|i| self.strict_problem(raw.payload(i)))
            .collect();
        let any_problem = problems.iter().any(Option::is_some);
        if !has_empty
            && !any_problem
            && let Ok(batch) = self.decode_bytes(&raw.buf, n)
            && batch.num_rows() == n
            && self.event_time_nulls(&batch) == 0
            && self.timestamp_problem(&batch).is_none()
        {
            return Ok(Decoded {
                batch,
                rows: (0..n).collect(),
                bad: vec![],
            });
        }
        // Slow path: one record at a time, to isolate the bad ones.
        let mut good = Vec::new();
        let mut rows = Vec::new();
        let mut bad = Vec::new();
        for i in 0..n {
            let payload = raw.payload(i);
            if payload.iter().all(u8::is_ascii_whitespace) {
                bad.push((i, "empty payload".to_string()));
                continue;
            }
            if let Some(Some(problem)) = problems.get(i) {
                bad.push((i, problem.clone()));
                continue;
            }
            match self.decode_bytes(payload, 1) {
                Ok(b) if b.num_rows() == 1 => {
                    if self.event_time_nulls(&b) > 0 {
                        bad.push((i, "event time field is missing or null".to_string()));
                    } else if let Some(problem) = self.timestamp_problem(&b) {
                        bad.push((i, problem));
                    } else {
                        good.push(b);
                        rows.push(i);
                    }
                }
                Ok(b) => bad.push((i, format!("expected one record, found {}", b.num_rows()))),
                Err(e) => bad.push((i, e.to_string())),
            }
        }
        let batch = concat_batches(&self.schema, &good)?;
        Ok(Decoded { batch, rows, bad })
    }

    /// A timestamp outside the years 0001 to 9999 (`ts: 1e17` as epoch milliseconds),
    /// which nothing downstream could print or store; lenient decoding keeps it.
    fn timestamp_problem(&self, batch: &RecordBatch) -> Option<String> {
        if self.lenient {
            return None;
        }
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            if let DataType::Timestamp(TimeUnit::Millisecond, _) = field.data_type() {
                let ts = column.as_primitive::<arrow::datatypes::TimestampMillisecondType>();
                if let Some(v) = ts.iter().flatten().find(|v| !strict::TS_RANGE.contains(v)) {
                    return Some(format!(
                        "`{}`: {v} ms since the epoch is outside the years 0001 to 9999",
                        field.name()
                    ));
                }
            }
        }
        None
    }

    fn event_time_nulls(&self, batch: &RecordBatch) -> usize {
        self.event_time
            .map(|i| batch.column(i).null_count())
            .unwrap_or(0)
    }

    fn decode_bytes(&self, bytes: &[u8], expected: usize) -> Result<RecordBatch> {
        let capacity = expected.max(1) + 1;
        match self.format {
            Format::Json => {
                let mut decoder = arrow::json::ReaderBuilder::new(self.schema.clone())
                    .with_batch_size(capacity)
                    .with_coerce_primitive(self.lenient)
                    .build_decoder()?;
                let used = decoder.decode(bytes)?;
                if used < bytes.len() {
                    return Err(crate::EngineError::BadRecord(format!(
                        "more than {expected} records in the payload"
                    )));
                }
                Ok(decoder
                    .flush()?
                    .unwrap_or_else(|| RecordBatch::new_empty(self.schema.clone())))
            }
            Format::Csv => {
                let mut decoder = arrow::csv::ReaderBuilder::new(self.csv_schema.clone())
                    .with_header(false)
                    .with_batch_size(capacity)
                    .build_decoder();
                let mut rest = bytes;
                while !rest.is_empty() {
                    let used = decoder.decode(rest)?;
                    if used == 0 {
                        break;
                    }
                    rest = &rest[used..];
                }
                decoder.decode(&[])?;
                let batch = decoder
                    .flush()?
                    .unwrap_or_else(|| RecordBatch::new_empty(self.csv_schema.clone()));
                self.csv_timestamps(batch)
            }
        }
    }

    /// CSV timestamps are epoch milliseconds or ISO-8601 text.
    fn csv_timestamps(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            match field.data_type() {
                DataType::Timestamp(TimeUnit::Millisecond, None) => {
                    let text = column.as_string::<i32>();
                    let all_digits = text.iter().flatten().all(|s| {
                        let s = s.strip_prefix('-').unwrap_or(s);
                        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
                    });
                    if all_digits {
                        let mut ints = Vec::with_capacity(text.len());
                        for v in text.iter() {
                            ints.push(match v {
                                Some(s) => Some(s.parse::<i64>().map_err(|e| {
                                    crate::EngineError::BadRecord(format!("{}: {e}", field.name()))
                                })?),
                                None => None,
                            });
                        }
                        let ints: ArrayRef = Arc::new(Int64Array::from(ints));
                        columns.push(cast(&ints, field.data_type())?);
                    } else {
                        let options = arrow::compute::CastOptions {
                            safe: false,
                            ..Default::default()
                        };
                        columns.push(arrow::compute::cast_with_options(
                            column,
                            field.data_type(),
                            &options,
                        )?);
                    }
                }
                _ => columns.push(column.clone()),
            }
        }
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::source_schema;
    use weir_model::model::{Field as MF, FieldType};

    fn fields() -> Vec<MF> {
        vec![
            MF {
                name: "id".into(),
                ty: FieldType::String,
                comment: String::new(),
            },
            MF {
                name: "v".into(),
                ty: FieldType::Double,
                comment: String::new(),
            },
            MF {
                name: "ts".into(),
                ty: FieldType::Timestamp,
                comment: String::new(),
            },
        ]
    }

    #[test]
    fn bad_json_records_are_isolated() {
        let d = RecordDecoder::new(source_schema(&fields()), Format::Json, Some(2));
        let mut raw = RawBatch::default();
        raw.push(0, 0, br#"{"id":"a","v":1.5,"ts":1000}"#);
        raw.push(0, 1, b"not json");
        raw.push(0, 2, br#"{"id":"b","v":"x","ts":2000}"#);
        raw.push(0, 3, br#"{"id":"c","v":2.0,"ts":"2026-03-01T10:00:00"}"#);
        raw.push(0, 4, br#"{"id":"d","v":2.0}"#);
        raw.push(0, 5, b"");
        let out = d.decode(&raw).unwrap();
        assert_eq!(out.rows, vec![0, 3]);
        assert_eq!(
            out.bad.iter().map(|b| b.0).collect::<Vec<_>>(),
            vec![1, 2, 4, 5]
        );
        let ts = out
            .batch
            .column(2)
            .as_primitive::<arrow::datatypes::TimestampMillisecondType>();
        assert_eq!(ts.value(1), 1_772_359_200_000);
    }

    #[test]
    fn csv_with_epoch_and_iso_timestamps() {
        let d = RecordDecoder::new(source_schema(&fields()), Format::Csv, Some(2));
        let mut raw = RawBatch::default();
        raw.push(0, 0, b"a,1.5,1000");
        raw.push(0, 1, b"b,2.5,2000");
        let out = d.decode(&raw).unwrap();
        assert_eq!(out.batch.num_rows(), 2);
        let mut raw = RawBatch::default();
        raw.push(0, 0, b"a,1.5,2026-03-01T10:00:00");
        raw.push(0, 1, b"b,oops,2000");
        let out = d.decode(&raw).unwrap();
        assert_eq!(out.rows, vec![0]);
        assert_eq!(out.bad.len(), 1);
    }
}
