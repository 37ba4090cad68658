//! Creating Kafka topics when a publication is approved (SPEC R-topic).
//!
//! Three kinds of cluster, tried in this order for a bootstrap address:
//! 1. an embedded broker of this process (librdkafka's mock cluster, registered with
//!    [`register_embedded`]): created directly, since the mock does not answer the
//!    CreateTopics admin API;
//! 2. a `weir broker` of another process on this machine: asked over its control port;
//! 3. a real cluster: the CreateTopics admin API, with `retention.ms` from the topic's
//!    lifecycle days. A topic that already exists counts as created.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use weir_model::model::secret::SecretRef;

use super::connectivity::Endpoint;

/// Creates a topic with a partition count on an embedded cluster.
pub type EmbeddedCreate = Arc<dyn Fn(&str, i32) -> Result<(), String> + Send + Sync>;

fn registry() -> &'static Mutex<HashMap<String, EmbeddedCreate>> {
    static REG: OnceLock<Mutex<HashMap<String, EmbeddedCreate>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Make an in-process embedded broker known under its bootstrap address.
pub fn register_embedded(bootstrap: &str, create: EmbeddedCreate) {
    if let Ok(mut reg) = registry().lock() {
        reg.insert(bootstrap.to_string(), create);
    }
}

/// Forget an embedded broker (when it stops).
pub fn unregister_embedded(bootstrap: &str) {
    if let Ok(mut reg) = registry().lock() {
        reg.remove(bootstrap);
    }
}

/// Create `name` with `partitions` on the cluster at `ep`. Succeeds when the topic exists
/// afterwards; the error says what the cluster answered.
pub async fn create(
    ep: &Endpoint,
    name: &str,
    partitions: i64,
    lifecycle_days: i64,
) -> Result<(), String> {
    let partitions = i32::try_from(partitions)
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| format!("{partitions} is not a partition count Kafka accepts"))?;
    let embedded = registry()
        .lock()
        .ok()
        .and_then(|r| r.get(&ep.address).cloned());
    if let Some(create) = embedded {
        return create(name, partitions);
    }
    if let Ok(cwd) = std::env::current_dir() {
        let project = crate::logging::project_root(&cwd);
        if let Ok((bootstrap, _)) = weir_engine::broker::running(&project)
            && same_brokers(&bootstrap, &ep.address)
        {
            return weir_engine::broker::create_topic_remote(&project, name, partitions)
                .map_err(|e| e.to_string());
        }
    }
    admin_create(ep, name, partitions, lifecycle_days).await
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
    ep: &Endpoint,
    name: &str,
    partitions: i32,
    lifecycle_days: i64,
) -> Result<(), String> {
    let secret = match &ep.password {
        Some(p) => Some(
            SecretRef::parse(p)
                .and_then(|r| r.resolve())
                .map_err(|e| format!("password: {e}"))?,
        ),
        None => None,
    };
    let config = super::connectivity::kafka_config(ep, secret.as_deref());
    let admin: AdminClient<DefaultClientContext> = config
        .create()
        .map_err(|e| format!("kafka client settings: {e}"))?;
    let retention = (lifecycle_days.max(1) * 86_400_000).to_string();
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(-1))
        .set("retention.ms", &retention);
    let opts = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(10)))
        .request_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .create_topics(&[topic], &opts)
        .await
        .map_err(|e| format!("the cluster did not create it: {e}"))?;
    for r in results {
        match r {
            Ok(_) => {}
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => return Err(format!("creating `{t}` failed: {code}")),
        }
    }
    Ok(())
}
