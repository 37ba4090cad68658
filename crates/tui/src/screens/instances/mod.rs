pub mod alerts;
pub mod clock;
pub mod list;
pub mod rows;
pub mod start;
pub mod trend;
pub mod view;
