//! Creating Kafka topics when a publication is approved (SPEC R-topic).
//!
//! Three kinds of cluster, tried in this order for a data source's address:
//! 1. an embedded broker of this process (librdkafka's mock cluster, registered with
//!    [`register_embedded`]): created directly, since the mock does not answer the
//!    CreateTopics admin API;
//! 2. a `weir broker` of another process for this project: asked over its control port;
//! 3. a real cluster: the CreateTopics admin API with the engine's client settings of the
//!    data source (credentials included), and `retention.ms` from the lifecycle days.
//!
//! A topic that exists already counts as created on all three (formats/governance.md), so
//! approving twice, or in prod on the cluster test uses too, succeeds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use weir_engine::EngineError;
use weir_engine::broker::Broker;
use weir_engine::kafka_client::client_config;
use weir_model::model::Connection;

/// How long the cluster may take to answer a CreateTopics request.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Embedded brokers of this process by bootstrap address; weak, so that a dropped broker
/// stops even if nobody unregisters it.
fn registry() -> &'static Mutex<HashMap<String, Weak<Broker>>> {
    static REG: OnceLock<Mutex<HashMap<String, Weak<Broker>>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Make an in-process embedded broker known under its bootstrap address.
pub fn register_embedded(bootstrap: &str, broker: &Arc<Broker>) {
    if let Ok(mut reg) = registry().lock() {
        reg.insert(bootstrap.to_string(), Arc::downgrade(broker));
    }
}

/// Forget an embedded broker (when it stops).
pub fn unregister_embedded(bootstrap: &str) {
    if let Ok(mut reg) = registry().lock() {
        reg.remove(bootstrap);
    }
}

fn embedded(bootstrap: &str) -> Option<Arc<Broker>> {
    registry().lock().ok()?.get(bootstrap)?.upgrade()
}

/// Create `topic` with `partitions` on the cluster of Kafka data source `datasource` at
/// `connection`. Succeeds when the topic exists afterwards, also when it existed before.
/// Errors say whose fault: [`EngineError::Unavailable`] when the cluster (or the project's
/// `weir broker`) does not answer, [`EngineError::Config`] when it refuses the request or
/// the data source's settings are wrong.
pub async fn create(
    datasource: &str,
    connection: &Connection,
    topic: &str,
    partitions: i64,
    lifecycle_days: i64,
) -> Result<(), EngineError> {
    let project = std::env::current_dir()
        .ok()
        .map(|cwd| crate::project_root(&cwd));
    create_in(
        project.as_deref(),
        datasource,
        connection,
        topic,
        partitions,
        lifecycle_days,
    )
    .await
}

/// [`create`], with the project whose `weir broker` counts given (tests use their own).
async fn create_in(
    project: Option<&Path>,
    datasource: &str,
    connection: &Connection,
    topic: &str,
    partitions: i64,
    lifecycle_days: i64,
) -> Result<(), EngineError> {
    let partitions = i32::try_from(partitions)
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| {
            EngineError::Config(format!(
                "{partitions} is not a partition count Kafka accepts; use 1 or more"
            ))
        })?;
    if let Some(broker) = embedded(&connection.address) {
        return broker.create_topic(topic, partitions);
    }
    if let Some(project) = project
        && let Ok((bootstrap, _)) = weir_engine::broker::running(project)
        && same_brokers(&bootstrap, &connection.address)
    {
        let (project, topic) = (PathBuf::from(project), topic.to_string());
        return tokio::task::spawn_blocking(move || {
            weir_engine::broker::create_topic_remote(&project, &topic, partitions)
        })
        .await
        .map_err(|e| EngineError::Internal(format!("asking the weir broker: {e}")))?;
    }
    // the approver's own secret goes to the cluster only where they confirmed it
    if let Some(secret_use) = crate::secrets::SecretUse::of(datasource, connection) {
        crate::secrets::require_confirmed(&[secret_use])
            .map_err(|e| EngineError::Config(e.to_string()))?;
    }
    admin_create(datasource, connection, topic, partitions, lifecycle_days).await
}

/// Whether two broker lists name the same brokers (order and spaces aside).
fn same_brokers(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let mut v: Vec<String> = s
            .split(',')
            .map(|p| p.trim().replace("localhost", "127.0.0.1"))
            .filter(|p| !p.is_empty())
            .collect();
        v.sort();
        v
    };
    norm(a) == norm(b)
}

async fn admin_create(
    datasource: &str,
    connection: &Connection,
    topic: &str,
    partitions: i32,
    lifecycle_days: i64,
) -> Result<(), EngineError> {
    let what = format!("Kafka data source `{datasource}`");
    let at = |e: rdkafka::error::KafkaError| EngineError::at(&what, &connection.address, e);
    let admin: AdminClient<DefaultClientContext> = client_config(datasource, connection)?
        .create()
        .map_err(at)?;
    // the store keeps days within `MAX_LIFECYCLE_DAYS`; a row from before that rule
    // must not overflow either
    let retention = lifecycle_days
        .max(1)
        .saturating_mul(weir_model::values::DAY_MS)
        .to_string();
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1))
        .set("retention.ms", &retention);
    let opts = AdminOptions::new()
        .operation_timeout(Some(ADMIN_TIMEOUT))
        .request_timeout(Some(ADMIN_TIMEOUT));
    let results = admin.create_topics(&[new], &opts).await.map_err(at)?;
    for r in results {
        if let Err((t, code)) = r {
            topic_result(&what, &connection.address, &t, code)?;
        }
    }
    Ok(())
}

/// What the cluster's answer `code` for topic `topic` means: "exists already" counts as
/// created; a cluster that is not ready or does not answer in time is unavailable (a retry
/// may help); anything else is a refusal of the request (the user's to fix).
fn topic_result(
    what: &str,
    address: &str,
    topic: &str,
    code: RDKafkaErrorCode,
) -> Result<(), EngineError> {
    use RDKafkaErrorCode as C;
    match code {
        C::NoError | C::TopicAlreadyExists => Ok(()),
        C::RequestTimedOut
        | C::OperationTimedOut
        | C::TimedOutQueue
        | C::BrokerNotAvailable
        | C::LeaderNotAvailable
        | C::NotController
        | C::NetworkException
        | C::AllBrokersDown
        | C::BrokerTransportFailure
        | C::Resolve
        | C::CoordinatorNotAvailable
        | C::NotEnoughReplicas
        | C::KafkaStorageError
        | C::ThrottlingQuotaExceeded => Err(EngineError::Unavailable {
            what: what.to_string(),
            address: address.to_string(),
            reason: format!("creating topic `{topic}`: {code}"),
        }),
        refused => Err(EngineError::Config(format!(
            "{what} at {address} refused to create topic `{topic}`: {refused}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use weir_model::Fault;
    use weir_model::model::DataSourceKind;

    use super::*;

    fn kafka(address: &str) -> Connection {
        Connection::new(DataSourceKind::Kafka, address)
    }

    fn temp_project(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weir-topics-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn an_embedded_broker_creates_a_topic_twice() {
        let broker = Arc::new(Broker::start().unwrap());
        let address = broker.bootstrap_servers();
        register_embedded(&address, &broker);
        let project = temp_project("embedded");
        for _ in 0..2 {
            create_in(Some(&project), "k", &kafka(&address), "twice", 3, 7)
                .await
                .expect("an existing topic counts as created");
        }
        unregister_embedded(&address);
        std::fs::remove_dir_all(&project).unwrap();
    }

    #[tokio::test]
    async fn a_weir_broker_of_the_project_creates_a_topic_twice() {
        let project = temp_project("control");
        let mut broker = Broker::start().unwrap();
        broker.serve_control(&project).unwrap();
        let address = broker.bootstrap_servers();
        for _ in 0..2 {
            create_in(Some(&project), "k", &kafka(&address), "clicks", 2, 7)
                .await
                .expect("over the control endpoint, an existing topic counts as created");
        }
        drop(broker);
        std::fs::remove_dir_all(&project).unwrap();
    }

    #[tokio::test]
    async fn a_cluster_that_does_not_answer_is_external_and_a_bad_count_the_users() {
        let project = temp_project("down");
        let e = create_in(
            Some(&project),
            "kafka_main",
            &kafka("127.0.0.1:1"),
            "t",
            1,
            7,
        )
        .await
        .unwrap_err();
        assert_eq!(e.fault(), Fault::External, "{e}");
        let text = e.to_string();
        assert!(text.contains("Kafka data source `kafka_main`"), "{text}");
        assert!(text.contains("127.0.0.1:1"), "{text}");
        let e = create_in(Some(&project), "k", &kafka("127.0.0.1:1"), "t", 0, 7)
            .await
            .unwrap_err();
        assert_eq!(e.fault(), Fault::User, "{e}");
        std::fs::remove_dir_all(&project).unwrap();
    }

    #[test]
    fn the_clusters_answers_mean_created_unavailable_or_refused() {
        let answer = |code| topic_result("Kafka data source `k`", "h:9092", "t", code);
        assert!(answer(RDKafkaErrorCode::TopicAlreadyExists).is_ok());
        let e = answer(RDKafkaErrorCode::RequestTimedOut).unwrap_err();
        assert_eq!(e.fault(), Fault::External);
        let e = answer(RDKafkaErrorCode::PolicyViolation).unwrap_err();
        assert_eq!(e.fault(), Fault::User);
        assert!(e.to_string().contains("refused to create topic `t`"), "{e}");
    }

    #[test]
    fn broker_lists_compare_as_sets() {
        assert!(same_brokers("localhost:9092, b:1", "b:1,127.0.0.1:9092"));
        assert!(!same_brokers("a:1", "a:2"));
    }
}
