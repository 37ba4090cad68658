//! weir-engine: the embedded streaming engine. A validated job becomes a pipeline of
//! sources, operators and sinks that exchange Arrow `RecordBatch`es over bounded channels.
//! The engine knows nothing of the store or the UI: it reports through `metrics`.

pub mod error;
pub mod operator;

pub mod broker;
pub mod channel;
pub mod check;
pub mod checkpoint;
pub mod deadletter;
pub mod decode;
pub mod kafka_client;
pub mod metrics;
pub mod nexmark;
pub mod pipeline;
pub mod resolve;
pub mod rows;
pub mod runtime;
pub mod schema;
pub mod sink;
pub mod source;
pub mod sql;
pub mod testing;
pub mod transform;
pub mod watermark;

pub use error::EngineError;
pub use operator::{InputTable, Operator, Watermark};
