//! Exactly once, end to end (issue 16): the transactional sinks' commits on the real
//! services, and a Kafka → SQL → JDBC job crashed and restored from its checkpoints.
//! - `direct.rs`: `Sink::commit_epoch` / `committed_epoch` of the JDBC sink (PostgreSQL
//!   and MariaDB), the Redis sink (INCR) and the Kafka sink (embedded broker).
//! - `restart.rs`: a job killed three times after a checkpoint and restored; the table
//!   holds every record exactly once.
//!
//! What the Kafka test proves, and what it cannot: librdkafka's mock cluster runs the
//! transactional calls (InitProducerId, AddPartitionsToTxn, TxnOffsetCommit, EndTxn) but
//! shows aborted rows to every reader and keeps no transactional offsets, so it checks
//! the calls and the marker, not read_committed isolation.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "exactly_once/direct.rs"]
mod direct;
#[path = "exactly_once/restart.rs"]
mod restart;
#[path = "exactly_once/support.rs"]
mod support;
