//! `EngineError`: every way the engine can refuse or fail a job, phrased for the person
//! who runs it, and whose fault it is ([`EngineError::fault`]).
//!
//! Who is at fault: `Unsupported`, `Plan`, `Config` and `BadRecord` are the user's (fix
//! the job, its SQL, the data source or the data); `Unavailable` is external (a system
//! outside weir did not answer; a retry may help once it is back); `Internal`,
//! `DownstreamStopped` and `Arrow` are bugs. The errors of the libraries underneath
//! depend on their kind: DataFusion's planning and SQL errors are the user's, its I/O and
//! resource errors external; Kafka's configuration and authorization errors are the
//! user's, transport, broker and timeout errors external; a database's own refusal
//! (unknown table, bad column) is the user's, a lost connection or pool timeout external,
//! a row that does not decode a bug; Redis' connection and I/O errors are external, its
//! refusals the user's; a file that is missing or forbidden is the user's, other I/O
//! failures external. [`EngineError::at`] wraps a library error met while talking to a
//! named system, so that the message says which one and where.

use std::io::ErrorKind;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use thiserror::Error;
use weir_model::Fault;

/// One error type for the whole engine.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The job uses something the engine does not run (yet); names the construct.
    #[error("unsupported: {construct}{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Unsupported {
        construct: String,
        hint: Option<String>,
    },
    /// A query or operator is wrong in a way validation did not catch (user's fault).
    #[error("{0}")]
    Plan(String),
    /// Arrow refused a batch the engine built (a bug).
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// DataFusion refused or failed a query; the fault depends on its kind.
    #[error("datafusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// librdkafka failed; the fault depends on its kind.
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// A JDBC sink's database refused or failed; the fault depends on its kind.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// A Redis sink's server refused or failed; the fault depends on its kind.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A file could not be read or written; the fault depends on its kind.
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// What the user gave (the job, a data source, a test-data or expected file) is wrong in
    /// a way only running it shows (user's fault); the message names the thing and the fix.
    #[error("{0}")]
    Config(String),
    /// A record does not fit its source's declared fields (the user's data). The decoder
    /// sends such records to the dead-letter file with this as the reason.
    #[error("{0}")]
    BadRecord(String),
    /// A system outside weir did not answer or refused (external; a retry may help once it
    /// is back): `what` names it ("Kafka data source `kafka_main`"), `address` where.
    #[error(
        "cannot reach {what} at {address}: {reason}; check that it is running and reachable, then retry"
    )]
    Unavailable {
        what: String,
        address: String,
        reason: String,
    },
    /// A bug in weir: an invariant of the engine broke.
    #[error("internal error: {0} (this is a bug in weir; please report it)")]
    Internal(String),
    /// A task found its downstream gone: the downstream failed (and reports its own error,
    /// which [`crate::pipeline::Pipeline::wait`] prefers) or stopped early (a bug).
    #[error(
        "internal error: a downstream operator stopped (this is a bug in weir; please report it)"
    )]
    DownstreamStopped,
}

impl EngineError {
    /// Whose fault this error is (see the module comment for the rules).
    pub fn fault(&self) -> Fault {
        match self {
            EngineError::Unsupported { .. }
            | EngineError::Plan(_)
            | EngineError::Config(_)
            | EngineError::BadRecord(_) => Fault::User,
            EngineError::Unavailable { .. } => Fault::External,
            EngineError::Internal(_) | EngineError::DownstreamStopped | EngineError::Arrow(_) => {
                Fault::Internal
            }
            EngineError::DataFusion(e) => datafusion_fault(e),
            EngineError::Kafka(e) => kafka_fault(e),
            EngineError::Sql(e) => sql_fault(e),
            EngineError::Redis(e) => redis_fault(e),
            EngineError::Io { source, .. } => io_fault(source.kind()),
        }
    }
}

fn datafusion_fault(e: &datafusion::error::DataFusionError) -> Fault {
    use datafusion::error::DataFusionError as D;
    match e {
        D::SQL(..)
        | D::Plan(_)
        | D::SchemaError(..)
        | D::NotImplemented(_)
        | D::Configuration(_) => Fault::User,
        D::IoError(_) | D::ObjectStore(_) | D::ResourcesExhausted(_) | D::External(_) => {
            Fault::External
        }
        D::Context(_, inner) | D::Diagnostic(_, inner) => datafusion_fault(inner),
        D::Shared(inner) => datafusion_fault(inner),
        D::Collection(all) => all.first().map_or(Fault::Internal, datafusion_fault),
        _ => Fault::Internal,
    }
}

fn kafka_fault(e: &KafkaError) -> Fault {
    use RDKafkaErrorCode as C;
    match e {
        KafkaError::ClientConfig(..) | KafkaError::Nul(_) | KafkaError::Subscription(_) => {
            Fault::User
        }
        KafkaError::Canceled => Fault::Internal,
        _ => match e.rdkafka_error_code() {
            Some(
                C::UnknownTopic
                | C::UnknownTopicOrPartition
                | C::UnknownPartition
                | C::TopicAuthorizationFailed
                | C::GroupAuthorizationFailed
                | C::ClusterAuthorizationFailed
                | C::SaslAuthenticationFailed
                | C::Authentication
                | C::InvalidConfig
                | C::InvalidArgument,
            ) => Fault::User,
            _ => Fault::External,
        },
    }
}

fn sql_fault(e: &sqlx::Error) -> Fault {
    use sqlx::Error as S;
    match e {
        S::Configuration(_) | S::InvalidArgument(_) | S::Database(_) | S::ConfigFile(_) => {
            Fault::User
        }
        S::Io(_) | S::Tls(_) | S::PoolTimedOut | S::PoolClosed | S::WorkerCrashed => {
            Fault::External
        }
        _ => Fault::Internal,
    }
}

fn redis_fault(e: &redis::RedisError) -> Fault {
    if e.is_io_error()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || e.is_timeout()
        || e.is_cluster_error()
    {
        Fault::External
    } else {
        Fault::User
    }
}

fn io_fault(kind: ErrorKind) -> Fault {
    match kind {
        ErrorKind::NotFound
        | ErrorKind::PermissionDenied
        | ErrorKind::AlreadyExists
        | ErrorKind::InvalidInput
        | ErrorKind::InvalidData
        | ErrorKind::IsADirectory
        | ErrorKind::NotADirectory => Fault::User,
        _ => Fault::External,
    }
}

impl EngineError {
    /// `err`, met while talking to `what` at `address`, said so that the user sees which
    /// system failed: an external failure becomes [`EngineError::Unavailable`], the user's
    /// (a refused login, an unknown table) a [`EngineError::Config`] naming `what` and
    /// `address`; a bug stays as it is.
    pub fn at(
        what: impl Into<String>,
        address: impl Into<String>,
        err: impl Into<EngineError>,
    ) -> Self {
        let err = err.into();
        // a driver may echo a connection string: credentials are masked here, once
        let scrub = |s: String| weir_model::model::secret::scrub(&s, "");
        match err.fault() {
            Fault::External => EngineError::Unavailable {
                what: what.into(),
                address: scrub(address.into()),
                reason: scrub(err.to_string()),
            },
            Fault::User => EngineError::Config(scrub(format!(
                "{} at {}: {err}",
                what.into(),
                address.into()
            ))),
            Fault::Internal => err,
        }
    }

    /// An [`EngineError::Unsupported`] naming `construct`, with an optional hint.
    pub fn unsupported(construct: impl Into<String>, hint: Option<&str>) -> Self {
        EngineError::Unsupported {
            construct: construct.into(),
            hint: hint.map(str::to_string),
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::io;

    use datafusion::error::DataFusionError;

    use super::*;

    fn df(e: DataFusionError) -> Fault {
        EngineError::DataFusion(e).fault()
    }

    #[test]
    fn the_engine_own_variants_say_whose_fault() {
        assert_eq!(
            EngineError::unsupported("MATCH_RECOGNIZE", None).fault(),
            Fault::User
        );
        assert_eq!(EngineError::Plan("no fields".into()).fault(), Fault::User);
        assert_eq!(EngineError::Config("bad --set".into()).fault(), Fault::User);
        assert_eq!(
            EngineError::BadRecord("id: not a number".into()).fault(),
            Fault::User
        );
        let down = EngineError::Unavailable {
            what: "Kafka data source `k`".into(),
            address: "127.0.0.1:1".into(),
            reason: "timed out".into(),
        };
        assert_eq!(down.fault(), Fault::External);
        assert!(down.to_string().contains("then retry"), "{down}");
        assert_eq!(EngineError::Internal("x".into()).fault(), Fault::Internal);
        assert_eq!(EngineError::DownstreamStopped.fault(), Fault::Internal);
        let arrow = arrow::error::ArrowError::ComputeError("x".into());
        assert_eq!(EngineError::Arrow(arrow).fault(), Fault::Internal);
    }

    #[test]
    fn datafusion_planning_is_the_user_and_resources_are_external() {
        assert_eq!(df(DataFusionError::Plan("no column x".into())), Fault::User);
        assert_eq!(df(DataFusionError::NotImplemented("x".into())), Fault::User);
        let parse = sqlparser::parser::ParserError::ParserError("expected FROM".into());
        assert_eq!(df(DataFusionError::SQL(Box::new(parse), None)), Fault::User);
        assert_eq!(
            df(DataFusionError::ResourcesExhausted("memory".into())),
            Fault::External
        );
        let disk = io::Error::new(io::ErrorKind::StorageFull, "disk full");
        assert_eq!(df(DataFusionError::IoError(disk)), Fault::External);
        assert_eq!(df(DataFusionError::Internal("x".into())), Fault::Internal);
        let wrapped = DataFusionError::Context(
            "planning".into(),
            Box::new(DataFusionError::Plan("x".into())),
        );
        assert_eq!(df(wrapped), Fault::User);
    }

    #[test]
    fn kafka_transport_is_external_and_its_configuration_the_user() {
        let down = KafkaError::MetadataFetch(RDKafkaErrorCode::BrokerTransportFailure);
        assert_eq!(EngineError::Kafka(down).fault(), Fault::External);
        let timeout = KafkaError::MetadataFetch(RDKafkaErrorCode::OperationTimedOut);
        assert_eq!(EngineError::Kafka(timeout).fault(), Fault::External);
        let config = rdkafka::ClientConfig::new()
            .set("no.such.property", "1")
            .create::<rdkafka::consumer::BaseConsumer>()
            .err()
            .expect("an unknown property is refused");
        assert!(matches!(config, KafkaError::ClientConfig(..)), "{config:?}");
        assert_eq!(EngineError::Kafka(config).fault(), Fault::User);
        let denied = KafkaError::MessageProduction(RDKafkaErrorCode::TopicAuthorizationFailed);
        assert_eq!(EngineError::Kafka(denied).fault(), Fault::User);
    }

    #[test]
    fn a_database_that_does_not_answer_is_external() {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(
            EngineError::Sql(sqlx::Error::Io(refused)).fault(),
            Fault::External
        );
        assert_eq!(
            EngineError::Sql(sqlx::Error::PoolTimedOut).fault(),
            Fault::External
        );
        let config = sqlx::Error::Configuration("bad url".into());
        assert_eq!(EngineError::Sql(config).fault(), Fault::User);
        let decode = sqlx::Error::Decode("not an int".into());
        assert_eq!(EngineError::Sql(decode).fault(), Fault::Internal);
    }

    #[test]
    fn redis_connection_is_external_and_its_refusals_the_user() {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(EngineError::Redis(refused.into()).fault(), Fault::External);
        let auth = redis::RedisError::from((redis::ErrorKind::AuthenticationFailed, "denied"));
        assert_eq!(EngineError::Redis(auth).fault(), Fault::User);
    }

    #[test]
    fn files_missing_are_the_user_and_failing_disks_external() {
        let io = |kind| EngineError::Io {
            path: "x".into(),
            source: io::Error::new(kind, "x"),
        };
        assert_eq!(io(io::ErrorKind::NotFound).fault(), Fault::User);
        assert_eq!(io(io::ErrorKind::PermissionDenied).fault(), Fault::User);
        assert_eq!(io(io::ErrorKind::StorageFull).fault(), Fault::External);
    }

    #[test]
    fn at_names_the_system_and_keeps_the_fault() {
        let down = KafkaError::MetadataFetch(RDKafkaErrorCode::BrokerTransportFailure);
        let e = EngineError::at("Kafka data source `k`", "127.0.0.1:1", down);
        assert!(matches!(e, EngineError::Unavailable { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.contains("`k`") && text.contains("127.0.0.1:1"),
            "{text}"
        );

        let auth = redis::RedisError::from((redis::ErrorKind::AuthenticationFailed, "denied"));
        let e = EngineError::at("Redis data source `r`", "127.0.0.1:6379", auth);
        assert!(matches!(e, EngineError::Config(_)), "{e:?}");
        assert!(e.to_string().contains("`r` at 127.0.0.1:6379"), "{e}");

        let bug = EngineError::at("x", "y", EngineError::Internal("z".into()));
        assert!(matches!(bug, EngineError::Internal(_)), "{bug:?}");
    }

    #[test]
    fn at_masks_credentials_in_the_address_and_the_reason() {
        let down = io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "redis://svc:Zq7Leak@127.0.0.1:1 refused",
        );
        let e = EngineError::at(
            "Redis data source `r`",
            "mysql://u:Zq7Leak@h:1/db",
            EngineError::Redis(down.into()),
        );
        let text = e.to_string();
        assert!(!text.contains("Zq7Leak"), "{text}");
        assert!(text.contains("mysql://u:••••@h:1/db"), "{text}");
        let auth = redis::RedisError::from((redis::ErrorKind::AuthenticationFailed, "denied"));
        let e = EngineError::at("r", "redis://:Zq7Leak@h:1", auth);
        assert!(!e.to_string().contains("Zq7Leak"), "{e}");
    }
}
