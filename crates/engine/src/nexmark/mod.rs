//! Nexmark: the auction benchmark's events (persons, auctions, bids), generated
//! deterministically from a seed with the proportions and field distributions of the
//! reference generator (github.com/nexmark/nexmark, `NexmarkGenerator`), and written to
//! json-lines or csv files, to a Kafka topic, or straight to Arrow batches.
//!
//! - `model.rs`: the three event kinds and their text forms (JSON, CSV);
//! - `generator.rs`: event `n` of a stream, a pure function of (config, n);
//! - `arrow.rs`: bids as Arrow batches (the in-memory source) and the bid schema;
//! - `write.rs`: files and Kafka.

mod arrow;
mod generator;
mod model;
mod write;

pub use self::arrow::{BidBatches, bid_fields, bid_schema, bids_batch};
pub use generator::{BidRef, Config, EventKind, Generator, event_kind};
pub use model::{Auction, Bid, Event, Person, format_datetime};
pub use write::{FileFormat, Written, produce_bids, write_files};
