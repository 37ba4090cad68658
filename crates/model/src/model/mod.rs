//! weir's domain types, pure data with serde: jobs and their operators. Parsing, printing
//! and validation of job files live in `jobfile`; drawing in `graph`.

pub mod alert;
pub mod connection;
pub mod job;
pub mod operator;
pub mod secret;

pub use alert::{AlertKind, AlertRule};
pub use connection::Connection;
pub use job::*;
pub use operator::*;
