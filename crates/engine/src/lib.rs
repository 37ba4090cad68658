//! weir-engine: the embedded streaming engine. A validated job becomes a pipeline of
//! sources, operators and sinks that exchange Arrow `RecordBatch`es over bounded channels.
//! The engine knows nothing of the store or the UI: it reports through `metrics`.

pub mod error;
pub mod operator;

pub use error::EngineError;
pub use operator::{Operator, Watermark};
