//! Data source connectivity checks against the real services of the machine
//! (MariaDB, PostgreSQL, Redis), librdkafka's mock cluster, and local HTTP servers.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weir::app::connectivity::{Connectivity, test as check};
use weir_model::model::{Connection, DataSourceKind};

fn ep(kind: DataSourceKind, address: &str) -> Connection {
    Connection::new(kind, address)
}

/// The connectivity check of data source `ds` at `e`.
async fn test(e: &Connection) -> Connectivity {
    check("ds", e).await
}

/// A `file:NAME` reference to a fresh file holding `value` in this test binary's secrets
/// directory.
fn secret_file(name: &str, value: &str) -> String {
    let dir = std::env::temp_dir().join(format!("weir-conn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    weir_engine::resolve::set_secrets_dir(&dir);
    std::fs::write(dir.join(name), value).expect("a secret file");
    format!("file:{name}")
}

/// A one-shot-per-connection HTTP server answering every request with `body`.
async fn http_server(status: &'static str, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a local port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes()).await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn mysql_logs_in_and_reports_the_version() {
    let mut e = ep(DataSourceKind::Mysql, "127.0.0.1:3306");
    e.user = Some("root".into());
    e.options.insert("database".into(), "test".into());
    let r = test(&e).await;
    assert!(r.ok, "{r:?}");
    assert!(r.checked.contains("SELECT VERSION()"), "{}", r.checked);
    assert!(
        r.checked.to_lowercase().contains("mariadb"),
        "{}",
        r.checked
    );
    assert!(r.latency_ms > 0.0 && r.not_checked.is_none());
}

#[tokio::test]
async fn mysql_with_an_unknown_user_fails_and_masks_the_password() {
    let mut e = ep(DataSourceKind::Mysql, "127.0.0.1:3306");
    e.user = Some("nobody_weir".into());
    e.password = Some(secret_file("mysql_pw", "s3cret-value"));
    let r = test(&e).await;
    assert!(!r.ok);
    let err = r.error.unwrap();
    assert!(err.contains("cannot log in to mysql"), "{err}");
    assert!(!err.contains("s3cret-value"), "{err}");
}

#[tokio::test]
async fn postgres_logs_in() {
    let mut e = ep(DataSourceKind::Postgres, "127.0.0.1:5432/test");
    e.user = Some("postgres".into());
    let r = test(&e).await;
    assert!(r.ok, "{r:?}");
    assert!(r.checked.contains("server version"), "{}", r.checked);
}

#[tokio::test]
async fn postgres_unknown_database_is_a_clear_failure() {
    let e = ep(DataSourceKind::Postgres, "127.0.0.1:5432/weir_no_such_db");
    let r = test(&e).await;
    assert!(!r.ok);
    assert!(r.error.unwrap().contains("weir_no_such_db"));
}

#[tokio::test]
async fn redis_answers_ping() {
    let r = test(&ep(DataSourceKind::Redis, "127.0.0.1:6379")).await;
    assert!(r.ok, "{r:?}");
    assert!(r.checked.contains("PONG"), "{}", r.checked);
}

#[tokio::test]
async fn a_closed_port_fails_with_the_address() {
    let r = test(&ep(DataSourceKind::Redis, "127.0.0.1:1")).await;
    assert!(!r.ok);
    assert!(r.error.unwrap().contains("127.0.0.1:1"));
}

#[tokio::test]
async fn kafka_fetches_metadata_from_the_mock_cluster() {
    let cluster = rdkafka::mocking::MockCluster::new(1).unwrap();
    cluster.create_topic("conn_check", 2, 1).unwrap();
    let r = test(&ep(DataSourceKind::Kafka, &cluster.bootstrap_servers())).await;
    assert!(r.ok, "{r:?}");
    assert!(r.checked.contains("1 broker(s)"), "{}", r.checked);
}

#[tokio::test]
async fn kafka_without_a_broker_times_out_clearly() {
    let r = test(&ep(DataSourceKind::Kafka, "127.0.0.1:1")).await;
    assert!(!r.ok);
    assert!(r.error.unwrap().contains("127.0.0.1:1"));
}

#[tokio::test]
async fn http_reports_the_status() {
    let url = http_server("204 No Content", "").await;
    let r = test(&ep(DataSourceKind::Http, &url)).await;
    assert!(r.ok, "{r:?}");
    assert!(r.checked.contains("HTTP 204"));
    let bad = http_server("503 Service Unavailable", "").await;
    let r = test(&ep(DataSourceKind::Http, &bad)).await;
    assert!(!r.ok && r.error.unwrap().contains("HTTP 503"));
}

#[tokio::test]
async fn elasticsearch_must_answer_like_a_cluster() {
    let url = http_server(
        "200 OK",
        r#"{"cluster_name":"logs","version":{"number":"8.15.0"},"tagline":"You Know, for Search"}"#,
    )
    .await;
    let r = test(&ep(DataSourceKind::Elasticsearch, &url)).await;
    assert!(r.ok, "{r:?}");
    assert!(
        r.checked.contains("cluster logs, Elasticsearch 8.15.0"),
        "{}",
        r.checked
    );
    let not_es = http_server("200 OK", "<html>hello</html>").await;
    let r = test(&ep(DataSourceKind::Elasticsearch, &not_es)).await;
    assert!(!r.ok && r.error.unwrap().contains("is this Elasticsearch"));
    let denied = http_server("401 Unauthorized", "{}").await;
    let r = test(&ep(DataSourceKind::Elasticsearch, &denied)).await;
    assert!(!r.ok && r.error.unwrap().contains("not accepted"));
}

#[tokio::test]
async fn kinds_without_a_client_say_what_was_not_checked() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let r = test(&ep(DataSourceKind::Hive, &addr)).await;
    assert!(r.ok, "{r:?}");
    assert!(r.checked.contains("over TCP"));
    assert!(r.not_checked.unwrap().contains("did not log in"));
}

#[tokio::test]
async fn a_missing_credential_is_named() {
    let mut e = ep(DataSourceKind::Postgres, "127.0.0.1:5432");
    e.password = Some("env:WEIR_SECRET_SURELY_UNSET_PASSWORD".into());
    let r = test(&e).await;
    assert!(!r.ok);
    let err = r.error.unwrap();
    assert!(err.contains("WEIR_SECRET_SURELY_UNSET_PASSWORD"), "{err}");
    assert!(err.contains("data source `ds`"), "{err}");
    e.password = Some("env:9_not_a_name".into());
    let err = test(&e).await.error.unwrap();
    assert!(err.contains("not an environment variable name"), "{err}");
    assert!(!err.contains("9_not_a_name"), "{err}");
}

/// The connectivity check and the engine's consumer and producer build their Kafka
/// settings in one function: what the check refuses, `weir run` refuses in the same words,
/// and the credentials the check would send are the ones the engine sends.
#[tokio::test]
async fn kafka_is_checked_with_the_settings_the_engine_runs_with() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/iot_alerts.ron");
    let job = weir::jobfile::check_file(&path)
        .job
        .expect("the example job");
    let source = job
        .nodes
        .iter()
        .find_map(|n| match n {
            weir::model::Node::KafkaSource(s) => Some(s.clone()),
            _ => None,
        })
        .expect("a Kafka source");
    let mut e = ep(DataSourceKind::Kafka, "127.0.0.1:1");
    e.user = Some("svc".into());
    e.password = Some(secret_file("kafka_pw", "k-s3cret"));
    e.options
        .insert("security.protocol".into(), "PLAINTEXT".into());
    let r = check(&source.datasource, &e).await;
    let engine = weir_engine::source::kafka::consumer_config(&source, &job.name, &e)
        .unwrap_err()
        .to_string();
    assert!(!r.ok);
    assert_eq!(r.error.as_deref(), Some(engine.as_str()));
    assert!(engine.contains("sends no credentials"), "{engine}");

    e.options.clear();
    let checked = weir_engine::kafka_client::client_config(&source.datasource, &e).unwrap();
    let consumer = weir_engine::source::kafka::consumer_config(&source, &job.name, &e).unwrap();
    for key in [
        "bootstrap.servers",
        "security.protocol",
        "sasl.mechanism",
        "sasl.username",
        "sasl.password",
    ] {
        assert!(checked.get(key).is_some(), "{key}");
        assert_eq!(checked.get(key), consumer.get(key), "{key}");
    }
    assert_eq!(consumer.get("sasl.password"), Some("k-s3cret"));
}
