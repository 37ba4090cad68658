//! PrintSink: rows as JSON lines on standard output or appended to a file. Rows are
//! gathered as text and written as whole lines, one `write_all` per batch; a file whose
//! last line was torn by a killed run is repaired when the sink opens it
//! ([`super::lines`]).

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
    /// Whole lines not written yet.
    pending: String,
}

impl PrintSink {
    /// Standard output, or `path` (appended, created if missing; a torn last line is cut
    /// off first, and said so on stderr and in the log).
    pub fn open(path: Option<&str>) -> Result<Self> {
        match path {
            None => Ok(PrintSink {
                out: Box::new(std::io::stdout()),
                path: "stdout".into(),
                pending: String::new(),
            }),
            Some(p) => {
                let opened = super::lines::open(std::path::Path::new(p)).map_err(|source| {
                    EngineError::Io {
                        path: p.to_string(),
                        source,
                    }
                })?;
                super::lines::report_torn("PrintSink file", std::path::Path::new(p), opened.torn);
                Ok(PrintSink {
                    out: Box::new(opened.file),
                    path: p.to_string(),
                    pending: String::new(),
                })
            }
        }
    }

    fn write_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let io = |source| EngineError::Io {
            path: self.path.clone(),
            source,
        };
        self.out.write_all(self.pending.as_bytes()).map_err(io)?;
        self.pending.clear();
        self.out.flush().map_err(|source| EngineError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

impl Sink for PrintSink {
    fn write<'a>(&'a mut self, batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for row in batch_to_json(batch) {
                self.pending
                    .push_str(&serde_json::Value::Object(row).to_string());
                self.pending.push('\n');
            }
            // Each batch is written at once, as whole lines: a file shows its rows as soon
            // as they arrive (it is the sink people watch while debugging), and an idle
            // sink needs no flush timer (20 idle instances on a worker woke 100 times a
            // second for it; bench/results/instances.txt).
            self.write_pending()
        })
    }
    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.write_pending() })
    }
}
