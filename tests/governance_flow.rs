//! Governance use cases end to end through the app layer (what the CLI and TUI call):
//! a topic goes design → test → prod and is really created on the Kafka cluster (the
//! mock cluster) when approved; permission requests become effective rights. Runs on
//! SQLite and on the PostgreSQL at 127.0.0.1:5432 (own database and roles per test).
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use weir::app::governance::Governance;
use weir::app::kafka_topics;
use weir_engine::broker::Broker;
use weir_store::{
    DataSourceSpec, Endpoint, Env, GlobalRole, Perm, PermissionRequestSpec, ProjectRole,
    RequestFor, TableRef, TopicField, TopicFormat, TopicSpec, TopicState,
};
use weir_testsupport::postgres::PgDatabase;

/// One isolated store; `open(login)` acts as that user.
struct Place {
    pg: Option<PgDatabase>,
    sqlite: Option<std::path::PathBuf>,
}

impl Place {
    async fn new(postgres: bool) -> Place {
        if postgres {
            let db = PgDatabase::create("weir_g").await;
            let owner = weir_store::Store::open(&db.url()).await.unwrap();
            owner.close().await;
            Place {
                pg: Some(db),
                sqlite: None,
            }
        } else {
            let name = format!("{}.db", weir_testsupport::unique("weir_g"));
            Place {
                pg: None,
                sqlite: Some(std::env::temp_dir().join(name)),
            }
        }
    }

    fn who(&self, login: &str) -> String {
        match &self.pg {
            Some(db) => db.role(login),
            None => login.to_string(),
        }
    }

    async fn open(&self, login: &str) -> Governance {
        match (&self.pg, &self.sqlite) {
            (Some(db), _) => {
                let role = db.role(login);
                let grants = weir_store::login_statements("public", &role).unwrap().grant;
                let url = db.login(&role, &grants).await;
                // The login passed is ignored on PostgreSQL: the session user is the actor.
                Governance::open(&url, "spoofed_login").await.unwrap()
            }
            (None, Some(path)) => Governance::open(&format!("sqlite://{}", path.display()), login)
                .await
                .unwrap(),
            _ => unreachable!(),
        }
    }

    async fn cleanup(self) {
        if let Some(db) = &self.pg {
            db.remove().await;
        }
        if let Some(p) = &self.sqlite {
            for s in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{s}", p.display()));
            }
        }
    }
}

fn partitions_on(bootstrap: &str, topic: &str) -> usize {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .unwrap();
    md.topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map_or(0, |t| t.partitions().len())
}

async fn topic_lifecycle_creates_the_topic_on_approval(postgres: bool) {
    let place = Place::new(postgres).await;
    let test_cluster = Arc::new(Broker::start().unwrap());
    let prod_cluster = Arc::new(Broker::start().unwrap());
    for c in [&test_cluster, &prod_cluster] {
        kafka_topics::register_embedded(&c.bootstrap_servers(), c);
    }
    let alice = place.open("alice").await; // first actor: system admin
    alice.add_user(&place.who("bob"), "Bob", &[]).await.unwrap();
    alice
        .add_user(&place.who("dora"), "Dora", &[GlobalRole::DataAdmin])
        .await
        .unwrap();
    alice.create_project("shop", "").await.unwrap();
    alice
        .add_member("shop", &place.who("bob"), ProjectRole::Developer)
        .await
        .unwrap();
    alice
        .add_data_source(&DataSourceSpec {
            name: "kmain".into(),
            kind: weir_model::model::DataSourceKind::Kafka,
            env: Env::Both,
            test: Some(Endpoint {
                address: test_cluster.bootstrap_servers(),
                options: serde_json::json!({}),
            }),
            prod: Some(Endpoint {
                address: prod_cluster.bootstrap_servers(),
                options: serde_json::json!({}),
            }),
            user: None,
            password: None,
            managed: true,
            owner_project: None,
            description: String::new(),
        })
        .await
        .unwrap();

    let bob = place.open("bob").await;
    bob.create_topic(&TopicSpec {
        name: "clicks".into(),
        project: "shop".into(),
        display_name: "Clicks".into(),
        format: TopicFormat::Json,
        partitions: 3,
        lifecycle_days: 3,
        description: String::new(),
        fields: vec![TopicField {
            name: "user_id".into(),
            data_type: "string".into(),
            comment: String::new(),
        }],
    })
    .await
    .unwrap();
    let req = bob
        .publish_topic("clicks", Env::Test, "kmain")
        .await
        .unwrap();
    assert_eq!(
        partitions_on(&test_cluster.bootstrap_servers(), "clicks"),
        0
    );

    // The requester cannot approve; a developer is told who can.
    let err = bob.approve(req.id, "ok").await.unwrap_err().to_string();
    assert!(err.contains("only a data admin can approve"), "{err}");

    let dora = place.open("dora").await;
    let inbox = dora.inbox().await.unwrap();
    assert_eq!(inbox.iter().map(|r| r.id).collect::<Vec<_>>(), vec![req.id]);
    dora.approve(req.id, "fine for test").await.unwrap();
    assert_eq!(
        partitions_on(&test_cluster.bootstrap_servers(), "clicks"),
        3
    );
    assert_eq!(bob.topic("clicks").await.unwrap().state, TopicState::Test);
    // Approving again: told who approved it, nothing written twice.
    let again = dora.approve(req.id, "again").await.unwrap_err().to_string();
    assert!(
        again.contains("already approved by") && again.contains(&place.who("dora")),
        "{again}"
    );

    // Production: rejected first (back to test, with the opinion), then approved.
    let prod = bob
        .publish_topic("clicks", Env::Prod, "kmain")
        .await
        .unwrap();
    dora.reject(prod.id, "add a description first")
        .await
        .unwrap();
    let t = bob.topic("clicks").await.unwrap();
    assert_eq!(t.state, TopicState::Test);
    assert_eq!(t.last_opinion.as_deref(), Some("add a description first"));
    assert_eq!(
        partitions_on(&prod_cluster.bootstrap_servers(), "clicks"),
        0
    );
    let prod = bob
        .publish_topic("clicks", Env::Prod, "kmain")
        .await
        .unwrap();
    dora.approve(prod.id, "").await.unwrap();
    assert_eq!(
        partitions_on(&prod_cluster.bootstrap_servers(), "clicks"),
        3
    );
    assert_eq!(bob.topic("clicks").await.unwrap().state, TopicState::Prod);

    // Permissions on the topic: Kafka takes select/insert at table level only.
    let table = TableRef::new("kmain", "clicks");
    let bad = bob
        .request_permission(&PermissionRequestSpec {
            target: table.clone(),
            for_whom: RequestFor::Person,
            perms: vec![Perm::Update],
            columns: vec![],
            reason: "x".into(),
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(bad.contains("select and insert only"), "{bad}");
    let two = bob
        .request_permission(&PermissionRequestSpec {
            target: table.clone(),
            for_whom: RequestFor::Both("shop".into()),
            perms: vec![Perm::Select],
            columns: vec![],
            reason: "dashboards".into(),
        })
        .await
        .unwrap();
    assert_eq!(two.len(), 2, "project + person makes two requests");
    let before = dora
        .check(&place.who("bob"), None, &table, Perm::Select, &[])
        .await
        .unwrap();
    assert!(!before.allowed);
    for r in &two {
        dora.approve(r.id, "ok").await.unwrap();
    }
    let after = dora
        .check(&place.who("bob"), None, &table, Perm::Select, &[])
        .await
        .unwrap();
    assert!(after.allowed, "{after:?}");
    let insert = dora
        .check(&place.who("bob"), None, &table, Perm::Insert, &[])
        .await
        .unwrap();
    assert!(!insert.allowed);

    for c in [&test_cluster, &prod_cluster] {
        kafka_topics::unregister_embedded(&c.bootstrap_servers());
    }
    for g in [alice, bob, dora] {
        g.closer().close().await;
    }
    place.cleanup().await;
}

#[tokio::test]
async fn topic_lifecycle_sqlite() {
    topic_lifecycle_creates_the_topic_on_approval(false).await;
}

#[tokio::test]
async fn topic_lifecycle_postgres() {
    topic_lifecycle_creates_the_topic_on_approval(true).await;
}

#[tokio::test]
async fn an_unreachable_cluster_leaves_the_request_pending() {
    let place = Place::new(false).await;
    let alice = place.open("alice").await;
    alice.add_user("bob", "Bob", &[]).await.unwrap();
    alice
        .add_user("dora", "Dora", &[GlobalRole::DataAdmin])
        .await
        .unwrap();
    alice.create_project("shop", "").await.unwrap();
    alice
        .add_member("shop", "bob", ProjectRole::Developer)
        .await
        .unwrap();
    alice
        .add_data_source(&DataSourceSpec {
            name: "kdead".into(),
            kind: weir_model::model::DataSourceKind::Kafka,
            env: Env::Test,
            test: Some(Endpoint {
                address: "127.0.0.1:1".into(),
                options: serde_json::json!({"socket.timeout.ms": "2000"}),
            }),
            prod: None,
            user: None,
            password: None,
            managed: true,
            owner_project: None,
            description: String::new(),
        })
        .await
        .unwrap();
    let bob = place.open("bob").await;
    bob.create_topic(&TopicSpec {
        name: "orders".into(),
        project: "shop".into(),
        display_name: "Orders".into(),
        format: TopicFormat::Csv,
        partitions: 2,
        lifecycle_days: 1,
        description: String::new(),
        fields: vec![],
    })
    .await
    .unwrap();
    let req = bob
        .publish_topic("orders", Env::Test, "kdead")
        .await
        .unwrap();
    let dora = place.open("dora").await;
    let err = dora.approve(req.id, "ok").await.unwrap_err().to_string();
    assert!(
        err.contains("stays pending") && err.contains("orders"),
        "{err}"
    );
    assert_eq!(dora.inbox().await.unwrap().len(), 1);
    assert_eq!(
        bob.topic("orders").await.unwrap().state,
        TopicState::PendingTest
    );
    place.cleanup().await;
}
