//! Bids as Arrow batches: the in-memory source of `weir bench`, with the schema a
//! `KafkaSource` with [`bid_fields`] decodes to, so that the same query plans on both.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use weir_model::model::{Field, FieldType};

use super::generator::{EventKind, Generator, event_kind};
use super::model::Bid;
use crate::error::Result;

/// The bid table's fields as a job declares them (`dateTime` is the event time).
pub fn bid_fields() -> Vec<Field> {
    let f = |name: &str, ty| Field {
        name: name.into(),
        ty,
        comment: String::new(),
    };
    vec![
        f("auction", FieldType::BigInt),
        f("bidder", FieldType::BigInt),
        f("price", FieldType::BigInt),
        f("channel", FieldType::String),
        f("url", FieldType::String),
        f("dateTime", FieldType::Timestamp),
        f("extra", FieldType::String),
    ]
}

/// The Arrow schema of bids (as [`crate::schema::source_schema`] gives for [`bid_fields`]).
pub fn bid_schema() -> SchemaRef {
    crate::schema::source_schema(&bid_fields())
}

struct Builders {
    auction: Int64Builder,
    bidder: Int64Builder,
    price: Int64Builder,
    channel: StringBuilder,
    url: StringBuilder,
    date_time: TimestampMillisecondBuilder,
    extra: StringBuilder,
}

impl Builders {
    fn new(rows: usize) -> Self {
        Builders {
            auction: Int64Builder::with_capacity(rows),
            bidder: Int64Builder::with_capacity(rows),
            price: Int64Builder::with_capacity(rows),
            channel: StringBuilder::with_capacity(rows, rows * 8),
            url: StringBuilder::with_capacity(rows, rows * 80),
            date_time: TimestampMillisecondBuilder::with_capacity(rows),
            extra: StringBuilder::with_capacity(rows, rows * 72),
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn push(&mut self, a: i64, b: i64, p: i64, c: &str, u: &str, t: i64, e: &str) {
        self.auction.append_value(a);
        self.bidder.append_value(b);
        self.price.append_value(p);
        self.channel.append_value(c);
        self.url.append_value(u);
        self.date_time.append_value(t);
        self.extra.append_value(e);
    }
    fn finish(mut self) -> Result<RecordBatch> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.auction.finish()),
            Arc::new(self.bidder.finish()),
            Arc::new(self.price.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.url.finish()),
            Arc::new(self.date_time.finish()),
            Arc::new(self.extra.finish()),
        ];
        Ok(RecordBatch::try_new(bid_schema(), cols)?)
    }
}

/// A batch of the given bids.
pub fn bids_batch(bids: &[Bid]) -> Result<RecordBatch> {
    let mut b = Builders::new(bids.len());
    for x in bids {
        b.push(
            x.auction,
            x.bidder,
            x.price,
            &x.channel,
            &x.url,
            x.date_time,
            &x.extra,
        );
    }
    b.finish()
}

/// The bids among events `next..end`, `rows` bids per batch (the last may be shorter).
pub struct BidBatches<'g> {
    generator: &'g Generator,
    next: u64,
    end: u64,
    rows: usize,
}

impl<'g> BidBatches<'g> {
    pub fn new(generator: &'g Generator, range: std::ops::Range<u64>, rows: usize) -> Self {
        BidBatches {
            generator,
            next: range.start,
            end: range.end,
            rows: rows.max(1),
        }
    }

    /// The next event number to generate.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// The bids among the next events up to (excluding) `until`, at most `rows` of them:
    /// the batch and the largest event time in it (None when there was no bid).
    pub fn next_until(&mut self, until: u64) -> Result<Option<(RecordBatch, i64)>> {
        let until = until.min(self.end);
        let mut b = Builders::new(self.rows);
        let mut count = 0;
        let mut max_ts = i64::MIN;
        while self.next < until && count < self.rows {
            let n = self.next;
            self.next += 1;
            if event_kind(n) != EventKind::Bid {
                continue;
            }
            let x = self.generator.bid_ref(n);
            max_ts = max_ts.max(x.date_time);
            b.push(
                x.auction,
                x.bidder,
                x.price,
                x.channel,
                x.url,
                x.date_time,
                x.extra,
            );
            count += 1;
        }
        if count == 0 {
            return Ok(None);
        }
        Ok(Some((b.finish()?, max_ts)))
    }
}

impl Iterator for BidBatches<'_> {
    type Item = Result<(RecordBatch, i64)>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_until(self.end).transpose()
    }
}
