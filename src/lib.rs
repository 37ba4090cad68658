//! weir: a terminal workbench for real-time stream jobs. The binary (`src/main.rs`) only
//! parses arguments and dispatches; everything else is a library so that tests, the CLI
//! and the TUI share one code path.
//!
//! The job model lives in its own crate (`crates/model`) so that the engine can depend on
//! it; it is re-exported here under the paths the rest of weir has always used.

pub use weir_model::{graph, jobfile, model};

pub mod app;
pub mod cli;
pub mod logging;
pub mod tui;
