//! Operator and sink state as Arrow IPC streams (one file per state, `formats/checkpoint-v1.md`).

use std::io::Cursor;

use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;

use crate::error::{EngineError, Result};

/// The batches (one schema) as an IPC stream; None when there are none.
pub fn encode(batches: &[RecordBatch]) -> Result<Option<Vec<u8>>> {
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    let mut out = Vec::new();
    {
        let mut w = StreamWriter::try_new(&mut out, &first.schema())?;
        for b in batches {
            w.write(b)?;
        }
        w.finish()?;
    }
    Ok(Some(out))
}

/// The batches of an IPC stream written by [`encode`]; `what` names it in errors.
pub fn decode(bytes: &[u8], what: &str) -> Result<Vec<RecordBatch>> {
    let reader = StreamReader::try_new(Cursor::new(bytes), None)
        .map_err(|e| EngineError::Config(format!("{what} does not read as Arrow IPC: {e}")))?;
    reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| EngineError::Config(format!("{what} does not read as Arrow IPC: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn batches_survive_the_round_trip() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Int64, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("a"), None])),
                Arc::new(Int64Array::from(vec![1, 2])),
            ],
        )
        .expect("batch");
        let bytes = encode(&[b.clone(), b.clone()])
            .expect("encode")
            .expect("some");
        assert_eq!(decode(&bytes, "t").expect("decode"), vec![b.clone(), b]);
        assert!(decode(&bytes[..bytes.len() / 2], "t").is_err(), "torn");
        assert!(encode(&[]).expect("empty").is_none());
    }
}
