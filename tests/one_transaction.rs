//! A failed command leaves nothing behind (issue 15 items 7 and 16), on SQLite and on the
//! PostgreSQL at 127.0.0.1:5432: `weir user add` with a project that does not exist (or
//! is archived, or an actor who may not register users) registers nobody and writes no
//! audit row, because registering and the role are one store transaction; approving a
//! topic publication of an archived project is refused before the topic is created on
//! the cluster.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::cli::Checkout;
use common::place::Place;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use weir::app::governance::{Governance, RoleToAdd};
use weir::app::kafka_topics;
use weir_engine::broker::Broker;
use weir_store::{
    DataSourceSpec, Endpoint, Env, GlobalRole, ProjectRole, RequestState, TopicField, TopicFormat,
    TopicSpec, TopicState,
};

/// Every audit row, and whether any names `login`.
async fn audit_of(gov: &Governance, login: &str) -> (usize, bool) {
    let rows = gov.audit(0).await.unwrap();
    let named = rows.iter().any(|r| {
        r.object_id.contains(login) || r.after_json.as_deref().is_some_and(|j| j.contains(login))
    });
    (rows.len(), named)
}

async fn registered(gov: &Governance, login: &str) -> bool {
    gov.users().await.unwrap().iter().any(|u| u.login == login)
}

fn a_failed_user_add_leaves_no_user_and_no_audit_row(postgres: bool) {
    let place = Place::new(postgres);
    place.seed();
    let root = place.gov("root");
    let pat = place.gov("pat"); // project admin of shop, not a system admin
    let ghost = place.who("ghost");
    let developer = |project| RoleToAdd::Project {
        project,
        role: ProjectRole::Developer,
    };
    place.block_on(async {
        root.create_project("old", "").await.unwrap();
        root.archive_project("old").await.unwrap();
        let (rows, named) = audit_of(&root, &ghost).await;
        assert!(!named);

        // a project that does not exist
        let e = root
            .add_user_role(&ghost, "Ghost", developer("nope"))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("no project named `nope`"), "{e}");
        // an archived project
        let e = root
            .add_user_role(&ghost, "Ghost", developer("old"))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("project old is archived"), "{e}");
        // a project admin may add members, not register users
        let e = pat
            .add_user_role(&ghost, "Ghost", developer("shop"))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("only a system admin can add users"), "{e}");
        assert!(!registered(&root, &ghost).await);
        assert!(
            root.members("shop")
                .await
                .unwrap()
                .iter()
                .all(|m| m.login != ghost)
        );
        assert_eq!(audit_of(&root, &ghost).await, (rows, false));

        // done right: registered and a member at once, two audit rows
        let added = root
            .add_user_role(&ghost, "Ghost", developer("shop"))
            .await
            .unwrap();
        assert!(added.registered);
        assert_eq!(added.user.display_name, "Ghost");
        let member = added.member.unwrap();
        assert_eq!(
            (member.login.as_str(), member.role),
            (ghost.as_str(), ProjectRole::Developer)
        );
        let audit = root.audit(0).await.unwrap();
        let actions: Vec<&str> = audit[rows..].iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["user.add", "member.add"]);

        // a global role for a registered user: added once; asked again, nothing is written
        let added = root
            .add_user_role(&ghost, "", RoleToAdd::Global(GlobalRole::Ops))
            .await
            .unwrap();
        assert!(!added.registered);
        assert_eq!(added.user.roles, [GlobalRole::Ops]);
        assert_eq!(added.user.display_name, "Ghost", "kept");
        let n = root.audit(0).await.unwrap().len();
        assert_eq!(n, rows + 3);
        root.add_user_role(&ghost, "", RoleToAdd::Global(GlobalRole::Ops))
            .await
            .unwrap();
        assert_eq!(root.audit(0).await.unwrap().len(), n);

        // a project admin adds a registered user to their project
        let dana = place.who("dana");
        let added = pat
            .add_user_role(&dana, "", developer("shop"))
            .await
            .unwrap();
        assert!(!added.registered);
        for g in [root, pat] {
            g.closer().close().await;
        }
    });
}

#[test]
fn user_add_is_one_transaction_on_sqlite() {
    a_failed_user_add_leaves_no_user_and_no_audit_row(false);
}

#[test]
fn user_add_is_one_transaction_on_postgres() {
    a_failed_user_add_leaves_no_user_and_no_audit_row(true);
}

/// The probe of issue 15 item 7, through the binary.
#[test]
fn weir_user_add_with_an_unknown_project_registers_nobody() {
    let c = Checkout::new("user-add-nope");
    let before = c.json("root", &["audit"]).as_array().unwrap().len();
    let out = c.expect(
        "root",
        &[
            "user",
            "add",
            "ghost",
            "--role",
            "developer",
            "--project",
            "nope",
        ],
        2,
    );
    assert!(out.contains("no project named `nope`"), "{out}");
    let users = c.json("root", &["user", "list"]);
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["login"] != "ghost"),
        "{users}"
    );
    let audit = c.json("root", &["audit"]);
    assert_eq!(audit.as_array().unwrap().len(), before, "{audit}");
    assert!(!audit.to_string().contains("ghost"), "{audit}");

    // the same command with the right project: registered and a developer of shop
    let out = c.expect(
        "root",
        &[
            "user",
            "add",
            "ghost",
            "--role",
            "developer",
            "--project",
            "shop",
        ],
        0,
    );
    assert_eq!(out, "ghost is now developer of shop\n");
    let members = c.json("root", &["project", "members", "shop"]);
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["login"] == "ghost" && m["role"] == "developer"),
        "{members}"
    );
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

fn approving_a_topic_of_an_archived_project_creates_nothing(postgres: bool) {
    let place = Place::new(postgres);
    place.seed();
    let broker = Arc::new(Broker::start().unwrap());
    let bootstrap = broker.bootstrap_servers();
    kafka_topics::register_embedded(&bootstrap, &broker);
    let (root, dana, dev) = (place.gov("root"), place.gov("dana"), place.gov("dev"));
    place.block_on(async {
        dana.add_data_source(&DataSourceSpec {
            name: "kembedded".into(),
            kind: weir_store::parse_kind("kafka").unwrap(),
            env: Env::Test,
            test: Some(Endpoint {
                address: bootstrap.clone(),
                options: serde_json::json!({}),
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
        dev.create_topic(&TopicSpec {
            name: "orders".into(),
            project: "shop".into(),
            display_name: "Orders".into(),
            format: TopicFormat::Json,
            partitions: 3,
            lifecycle_days: 3,
            description: String::new(),
            fields: vec![TopicField {
                name: "id".into(),
                data_type: "string".into(),
                comment: String::new(),
            }],
        })
        .await
        .unwrap();
        let req = dev
            .publish_topic("orders", Env::Test, "kembedded")
            .await
            .unwrap();
        root.archive_project("shop").await.unwrap();
        let audit_rows = root.audit(0).await.unwrap().len();

        let e = dana.approve(req.id, "ok").await.unwrap_err().to_string();
        assert!(e.contains("project shop is archived"), "{e}");
        assert_eq!(
            partitions_on(&bootstrap, "orders"),
            0,
            "no topic on the cluster"
        );
        assert_eq!(
            dana.request(req.id).await.unwrap().0.state,
            RequestState::Pending
        );
        assert_eq!(
            dev.topic("orders").await.unwrap().state,
            TopicState::PendingTest
        );
        assert_eq!(root.audit(0).await.unwrap().len(), audit_rows);

        // restored, the same approval creates it: the refusal above was the archive's
        root.restore_project("shop").await.unwrap();
        dana.approve(req.id, "ok").await.unwrap();
        assert_eq!(partitions_on(&bootstrap, "orders"), 3);
        assert_eq!(dev.topic("orders").await.unwrap().state, TopicState::Test);
        for g in [root, dana, dev] {
            g.closer().close().await;
        }
    });
    kafka_topics::unregister_embedded(&bootstrap);
}

#[test]
fn an_archived_projects_topic_is_not_created_on_sqlite() {
    approving_a_topic_of_an_archived_project_creates_nothing(false);
}

#[test]
fn an_archived_projects_topic_is_not_created_on_postgres() {
    approving_a_topic_of_an_archived_project_creates_nothing(true);
}
