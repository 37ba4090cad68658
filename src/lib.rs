//! weir: a terminal workbench for real-time stream jobs. The binary (`src/main.rs`) only
//! parses arguments and dispatches; everything else is a library so that tests, the CLI
//! and the TUI share one code path.

pub mod app;
pub mod cli;
pub mod graph;
pub mod jobfile;
pub mod logging;
pub mod model;
pub mod tui;
