//! weir: a terminal workbench for real-time stream jobs. The binary (`src/main.rs`) only
//! parses arguments and dispatches; this library holds the command line (`cli`) so that
//! tests can drive it, and re-exports the crates it stands on under the paths weir has
//! always used.
//!
//! The crate graph keeps the layers (ARCHITECTURE.md): `weir` (cli) and `weir-tui` reach
//! the metadata store and the engine only through `weir-app`.

pub use weir_app as app;
pub use weir_model::{graph, jobfile, model};
pub use weir_tui as tui;

pub mod cli;
pub mod logging;
