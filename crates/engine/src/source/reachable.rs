//! The start-up check that every Kafka data source a job reads answers: one bounded
//! metadata fetch per data source, so that `weir run` against a stopped broker fails at
//! once with the data source and its address named, instead of source threads waiting
//! on a cluster that is not there.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use weir_model::model::{Job, KafkaSource, Node};

use crate::error::{EngineError, Result};
use crate::resolve::{Connection, Resolver};

/// How long a data source may take to answer the metadata request.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Fetches the cluster metadata of every Kafka data source that `job`'s sources read,
/// all at once; the first that fails is returned: [`EngineError::Unavailable`] when the
/// cluster did not answer, [`EngineError::Config`] when it refused the client.
pub async fn check_kafka_sources(job: &Job, resolver: &Resolver) -> Result<()> {
    // one check per data source, made with the first source that reads it
    let mut first: BTreeMap<&str, &KafkaSource> = BTreeMap::new();
    for node in &job.nodes {
        if let Node::KafkaSource(src) = node {
            first.entry(src.datasource.as_str()).or_insert(src);
        }
    }
    let mut checks = tokio::task::JoinSet::new();
    for src in first.into_values() {
        let ds = resolver.get(&src.id, &src.datasource)?.clone();
        let (src, job) = (src.clone(), job.name.clone());
        checks.spawn_blocking(move || answers(&src, &job, &ds));
    }
    while let Some(r) = checks.join_next().await {
        r.map_err(|e| EngineError::Internal(format!("the Kafka reachability check: {e}")))??;
    }
    Ok(())
}

/// Whether the data source of `src` answers a metadata request within [`TIMEOUT`].
fn answers(src: &KafkaSource, job: &str, ds: &Connection) -> Result<()> {
    let what = format!(
        "Kafka data source `{}` of source `{}`",
        src.datasource, src.id
    );
    let consumer: BaseConsumer = crate::source::kafka::consumer_config(src, job, ds)?
        .create()
        .map_err(|e| EngineError::at(what.clone(), &ds.address, e))?;
    consumer
        .fetch_metadata(None, TIMEOUT)
        .map_err(|e| EngineError::at(what, &ds.address, e))?;
    Ok(())
}
