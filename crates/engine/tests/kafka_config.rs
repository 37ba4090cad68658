//! A Kafka data source's user and password reach every librdkafka client weir builds:
//! the source's consumer and the sink's producer start from the same `client_config` as
//! the app's connectivity check, so what `weir datasource test` checked is what `weir run`
//! connects with.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use rdkafka::ClientConfig;
use weir_engine::kafka_client::client_config;
use weir_engine::resolve::{Connection, Resolver};
use weir_engine::sink::kafka::producer_config;
use weir_engine::source::kafka::consumer_config;
use weir_model::model::{DataSourceKind, Job, KafkaSink, KafkaSource, Node};

/// A `file:NAME` reference to a fresh file holding `value` in this test binary's secrets
/// directory (each test its own file).
fn secret_in_file(test: &str, value: &str) -> String {
    let dir = std::env::temp_dir().join(format!("weir-kcfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    weir_engine::resolve::set_secrets_dir(&dir);
    std::fs::write(dir.join(test), format!("{value}\n")).expect("a secret file");
    format!("file:{test}")
}

fn iot_job() -> Job {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../jobs/iot_alerts.ron");
    weir_model::jobfile::check_file(&path)
        .job
        .expect("the example job reads")
}

fn kafka_nodes(job: &Job) -> (KafkaSource, KafkaSink) {
    let source = job.nodes.iter().find_map(|n| match n {
        Node::KafkaSource(s) => Some(s.clone()),
        _ => None,
    });
    let sink = job.nodes.iter().find_map(|n| match n {
        Node::KafkaSink(s) => Some(s.clone()),
        _ => None,
    });
    (source.expect("a Kafka source"), sink.expect("a Kafka sink"))
}

fn value<'a>(config: &'a ClientConfig, key: &str) -> Option<&'a str> {
    config.get(key)
}

#[test]
fn credentials_of_a_data_source_reach_the_consumer_and_the_producer() {
    let job = iot_job();
    let (source, sink) = kafka_nodes(&job);
    let password = secret_in_file("pw1", "pa55-consumer");
    let mut resolver = Resolver::from_job(&job);
    for set in [
        format!("{}=broker-1:9092,broker-2:9092", source.datasource),
        format!("{}.user=svc_weir", source.datasource),
        format!("{}.password={password}", source.datasource),
    ] {
        resolver.set(&job, &set).expect("the override applies");
    }
    let ds = resolver.get(&source.id, &source.datasource).unwrap();
    assert_eq!(ds.kind, DataSourceKind::Kafka);

    let consumer = consumer_config(&source, &job.name, ds).unwrap();
    let producer = producer_config(&sink, ds).unwrap();
    for config in [&consumer, &producer] {
        assert_eq!(
            value(config, "bootstrap.servers"),
            Some("broker-1:9092,broker-2:9092")
        );
        assert_eq!(value(config, "security.protocol"), Some("SASL_PLAINTEXT"));
        assert_eq!(value(config, "sasl.mechanism"), Some("PLAIN"));
        assert_eq!(value(config, "sasl.username"), Some("svc_weir"));
        assert_eq!(value(config, "sasl.password"), Some("pa55-consumer"));
        // what is printed of a config never shows the password
        assert!(!format!("{config:?}").contains("pa55"), "{config:?}");
    }
    // the consumer's and producer's own settings come on top
    assert!(value(&consumer, "group.id").is_some());
    assert_eq!(value(&consumer, "fetch.wait.max.ms"), Some("10"));
    assert_eq!(value(&producer, "linger.ms"), Some("5"));
    // the connection itself still holds only the reference
    assert_eq!(ds.password.as_deref(), Some(password.as_str()));
    assert!(!format!("{ds:?}").contains("weir-kcfg"), "{ds:?}");
}

#[test]
fn consumer_and_producer_extend_the_config_the_connectivity_check_uses() {
    let job = iot_job();
    let (mut source, mut sink) = kafka_nodes(&job);
    let mut ds = Connection::new(DataSourceKind::Kafka, "k:9093");
    ds.user = Some("svc".into());
    ds.password = Some(secret_in_file("pw2", "tls-pw"));
    ds.options
        .insert("ssl.ca.location".into(), "/etc/ca.pem".into());
    ds.options
        .insert("sasl.mechanism".into(), "SCRAM-SHA-512".into());
    ds.options.insert("fetch.wait.max.ms".into(), "50".into());
    ds.options.insert("linger.ms".into(), "20".into());
    source.properties.clear();
    sink.properties.clear();

    let base = client_config(&source.datasource, &ds).unwrap();
    assert_eq!(value(&base, "security.protocol"), Some("SASL_SSL"));
    assert_eq!(value(&base, "sasl.mechanism"), Some("SCRAM-SHA-512"));
    assert_eq!(value(&base, "ssl.ca.location"), Some("/etc/ca.pem"));
    assert_eq!(value(&base, "sasl.password"), Some("tls-pw"));
    let consumer = consumer_config(&source, &job.name, &ds).unwrap();
    let producer = producer_config(&sink, &ds).unwrap();
    for (name, config) in [("consumer", &consumer), ("producer", &producer)] {
        for (key, expected) in base.config_map() {
            assert_eq!(
                config.get(key),
                base.get(key),
                "{name}: {key} differs from the connectivity check's ({expected})"
            );
        }
    }
    // the data source's options win over weir's defaults; the node's properties over both
    assert_eq!(value(&consumer, "fetch.wait.max.ms"), Some("50"));
    assert_eq!(value(&producer, "linger.ms"), Some("20"));
    source
        .properties
        .insert("fetch.wait.max.ms".into(), "5".into());
    let consumer = consumer_config(&source, &job.name, &ds).unwrap();
    assert_eq!(value(&consumer, "fetch.wait.max.ms"), Some("5"));
}

#[test]
fn settings_that_would_lose_or_leak_credentials_are_refused() {
    let job = iot_job();
    let (source, sink) = kafka_nodes(&job);
    let name = source.datasource.clone();
    let mut ds = Connection::new(DataSourceKind::Kafka, "k:9092");
    ds.user = Some("svc".into());
    ds.password = Some(secret_in_file("pw3", "pw3"));

    ds.options
        .insert("security.protocol".into(), "PLAINTEXT".into());
    let e = consumer_config(&source, &job.name, &ds).unwrap_err();
    assert_eq!(e.fault(), weir_model::Fault::User);
    let text = e.to_string();
    assert!(
        text.contains(&format!("Kafka data source `{name}`")),
        "{text}"
    );
    assert!(text.contains("sends no credentials"), "{text}");
    assert_eq!(
        producer_config(&sink, &ds).unwrap_err().to_string(),
        text,
        "the producer refuses what the consumer refuses"
    );
    ds.options.clear();

    ds.options
        .insert("sasl.password".into(), "plain-in-options".into());
    let text = client_config(&name, &ds).unwrap_err().to_string();
    assert!(text.contains("env:WEIR_SECRET_NAME or file:NAME"), "{text}");
    assert!(!text.contains("plain-in-options"), "{text}");
    ds.options.clear();

    ds.password = Some("env:WEIR_SECRET_KCFG_SURELY_UNSET".into());
    let e = producer_config(&sink, &ds).unwrap_err();
    assert_eq!(e.fault(), weir_model::Fault::User);
    let text = e.to_string();
    assert!(text.contains(&format!("data source `{name}`")), "{text}");
    assert!(text.contains("WEIR_SECRET_KCFG_SURELY_UNSET"), "{text}");

    ds.password = None;
    let text = client_config(&name, &ds).unwrap_err().to_string();
    assert!(text.contains("no password"), "{text}");
    ds.user = None;
    ds.password = Some(secret_in_file("pw3", "pw3"));
    let text = client_config(&name, &ds).unwrap_err().to_string();
    assert!(text.contains("no user"), "{text}");
}

#[test]
fn without_credentials_options_pass_through_and_tls_options_mean_tls() {
    let mut ds = Connection::new(DataSourceKind::Kafka, "k:9092");
    ds.options.insert("client.id".into(), "weir-test".into());
    ds.options
        .insert("bootstrap.servers".into(), "elsewhere:1".into());
    let c = client_config("k", &ds).unwrap();
    assert_eq!(value(&c, "client.id"), Some("weir-test"));
    assert_eq!(value(&c, "bootstrap.servers"), Some("k:9092"));
    assert_eq!(value(&c, "security.protocol"), None);
    assert_eq!(value(&c, "sasl.username"), None);
    ds.options
        .insert("ssl.ca.location".into(), "/etc/ca.pem".into());
    let c = client_config("k", &ds).unwrap();
    assert_eq!(value(&c, "security.protocol"), Some("SSL"));
    ds.options
        .insert("security.protocol".into(), "PLAINTEXT".into());
    let c = client_config("k", &ds).unwrap();
    assert_eq!(value(&c, "security.protocol"), Some("PLAINTEXT"));
}

#[test]
fn creating_a_topic_twice_succeeds_in_process_and_over_the_control_endpoint() {
    let project = std::env::temp_dir().join(format!("weir-kcfg-broker-{}", std::process::id()));
    std::fs::create_dir_all(&project).unwrap();
    let mut broker = weir_engine::broker::Broker::start().unwrap();
    broker.create_topic("twice", 2).unwrap();
    broker
        .create_topic("twice", 2)
        .expect("an existing topic counts as created");
    broker.serve_control(&project).unwrap();
    weir_engine::broker::create_topic_remote(&project, "twice", 2)
        .expect("over the control endpoint too");
    weir_engine::broker::create_topic_remote(&project, "fresh", 1).unwrap();
    weir_engine::broker::create_topic_remote(&project, "fresh", 1).unwrap();
    drop(broker);
    let e = weir_engine::broker::create_topic_remote(&project, "x", 1).unwrap_err();
    assert_eq!(e.fault(), weir_model::Fault::User, "{e}");
    assert!(e.to_string().contains("weir broker"), "{e}");
    std::fs::remove_dir_all(&project).unwrap();
}
