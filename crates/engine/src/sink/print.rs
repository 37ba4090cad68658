//! PrintSink: rows as JSON lines on standard output or appended to a file.

use std::io::Write;

use arrow::record_batch::RecordBatch;
use futures::future::BoxFuture;

use super::Sink;
use crate::error::{EngineError, Result};
use crate::rows::batch_to_json;

/// Writes each row as one JSON line.
pub struct PrintSink {
    out: Box<dyn Write + Send>,
    path: String,
}

impl PrintSink {
    /// Standard output, or `path` (appended, created if missing).
    pub fn open(path: Option<&str>) -> Result<Self> {
        match path {
            None => Ok(PrintSink {
                out: Box::new(std::io::stdout()),
                path: "stdout".into(),
            }),
            Some(p) => {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|source| EngineError::Io {
                        path: p.to_string(),
                        source,
                    })?;
                Ok(PrintSink {
                    out: Box::new(std::io::BufWriter::new(f)),
                    path: p.to_string(),
                })
            }
        }
    }
}

impl Sink for PrintSink {
    fn write<'a>(&'a mut self, batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for row in batch_to_json(batch) {
                writeln!(self.out, "{}", serde_json::Value::Object(row)).map_err(|source| {
                    EngineError::Io {
                        path: self.path.clone(),
                        source,
                    }
                })?;
            }
            Ok(())
        })
    }
    /// A file written by a long-running instance shows its rows within a fifth of a
    /// second (it is the sink people watch while debugging).
    fn flush_interval(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_millis(200))
    }
    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.out.flush().map_err(|source| EngineError::Io {
                path: self.path.clone(),
                source,
            })
        })
    }
}
