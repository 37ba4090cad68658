//! Errors of the engine. Each says what is wrong and, where it can, what to do.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum EngineError {
    /// The job uses something the engine does not run (yet); names the construct.
    #[error("unsupported: {construct}{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Unsupported {
        construct: String,
        hint: Option<String>,
    },
    /// A query or operator is wrong in a way validation did not catch.
    #[error("{0}")]
    Plan(String),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("datafusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl EngineError {
    pub fn unsupported(construct: impl Into<String>, hint: Option<&str>) -> Self {
        EngineError::Unsupported {
            construct: construct.into(),
            hint: hint.map(str::to_string),
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
