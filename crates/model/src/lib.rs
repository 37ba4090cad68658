//! weir-model: what a job is and how its file is read, checked, printed and drawn.
//! Pure code: no I/O beyond reading a job file and replacing a file atomically
//! ([`fsutil`], the one file writer every crate shares), no async, no store or engine.
//! The engine, the store and the workbench all depend on it; it depends on none of them.

pub mod connect_error;
pub mod diff;
pub mod fault;
pub mod fsutil;
pub mod graph;
pub mod jobfile;
pub mod model;
pub mod text;
pub mod values;

pub use fault::Fault;
