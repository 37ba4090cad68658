//! Capture sink of `weir test`: every row, as JSON, sent to the caller as it arrives.

use arrow::record_batch::RecordBatch;
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::Sink;
use crate::error::Result;
use crate::rows::batch_to_json;

/// One row a sink received.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedRow {
    pub sink: String,
    pub row: Map<String, Value>,
}

/// Sends rows to a channel instead of writing them anywhere.
pub struct CaptureSink {
    pub sink: String,
    pub tx: mpsc::UnboundedSender<CapturedRow>,
}

impl Sink for CaptureSink {
    fn write<'a>(&'a mut self, batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for row in batch_to_json(batch) {
                // the receiver may have gone (caller stopped listening): rows are dropped
                let _ = self.tx.send(CapturedRow {
                    sink: self.sink.clone(),
                    row,
                });
            }
            Ok(())
        })
    }
    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// Drops every row (benchmarks: the pipeline without a sink's cost).
pub struct DiscardSink;

impl Sink for DiscardSink {
    fn write<'a>(&'a mut self, _batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}
