//! `:datasources` and `:topics` (the catalog) in the workbench: snapshots at 100x30 on
//! SQLite, and headless flows on SQLite and PostgreSQL that check the store afterwards.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::place::{Place, rt};
use common::{run_keys, shows, without_the_clock};
use weir::tui::workbench::Workbench;
use weir_store::{
    DataSourceSpec, Endpoint, Env, RequestState, TopicField, TopicFormat, TopicSpec, TopicState,
};
use weir_testsupport::mariadb::MariaDatabase;

const W: u16 = 100;
const H: u16 = 30;

/// Let the event loop turn until the frame shows `text` (at most `limit`).
fn wait_for(app: &mut Workbench, text: &str, limit: Duration) -> String {
    common::wait_for(app, text, limit, W, H)
}

/// A MariaDB database of its own on 127.0.0.1:3306 with two tables; dropped by `drop_db`
/// (or when it drops, if the test fails first).
fn mariadb_db() -> MariaDatabase {
    rt().block_on(async {
        let db = MariaDatabase::create("weir_cat").await;
        db.execute(
            "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL, total DECIMAL(10,2))",
        )
        .await;
        db.execute("CREATE TABLE customers (id BIGINT PRIMARY KEY, name TEXT)")
            .await;
        db
    })
}

fn drop_db(db: &MariaDatabase) {
    rt().block_on(db.remove());
}

/// Point the seeded mysql_orders at `db` (as dana, the data admin).
fn orders_in(place: &Place, db: &MariaDatabase) {
    let gov = place.gov("dana");
    rt().block_on(async {
        let mut ds = gov.data_source("mysql_orders").await.unwrap();
        let spec = DataSourceSpec {
            name: ds.name.clone(),
            kind: ds.kind,
            env: ds.env,
            test: ds.test.take().map(|mut e| {
                e.options = serde_json::json!({ "database": db.name() });
                e
            }),
            prod: ds.prod.take(),
            user: ds.user.clone(),
            password: None,
            managed: ds.managed,
            owner_project: None,
            description: ds.description.clone(),
        };
        gov.update_data_source("mysql_orders", &spec).await.unwrap();
        gov.closer().close().await;
    });
}

/// Topics as dev designs them: `clicks` in design, `orders_v2` published to test on
/// kafka_main (approved by dana straight in the store: the seeded cluster does not
/// exist), `payments` waiting for its publication to test.
fn topics(place: &Place) {
    let dev = place.gov("dev");
    let (url, dana) = (place.url("dana"), place.who("dana"));
    let spec = |name: &str, fields: &[(&str, &str, &str)]| TopicSpec {
        name: name.into(),
        project: "shop".into(),
        display_name: name.replace('_', " "),
        format: TopicFormat::Json,
        partitions: 3,
        lifecycle_days: 7,
        description: format!("{name} of the shop"),
        fields: fields
            .iter()
            .map(|(n, t, c)| TopicField {
                name: n.to_string(),
                data_type: t.to_string(),
                comment: c.to_string(),
            })
            .collect(),
    };
    rt().block_on(async {
        let s = &dev;
        s.create_topic(&spec(
            "clicks",
            &[("user_id", "string", ""), ("ts", "timestamp", "event time")],
        ))
        .await
        .unwrap();
        s.create_topic(&spec(
            "orders_v2",
            &[("order_id", "bigint", "key"), ("total", "double", "")],
        ))
        .await
        .unwrap();
        s.create_topic(&spec("payments", &[("id", "bigint", "")]))
            .await
            .unwrap();
        let r = s
            .publish_topic("orders_v2", Env::Test, "kafka_main")
            .await
            .unwrap();
        common::approve_in_store(&url, &dana, r.id, "fine").await;
        s.publish_topic("payments", Env::Test, "kafka_main")
            .await
            .unwrap();
        dev.closer().close().await;
    });
}

// ---------------------------------------------------------------- snapshots (SQLite)

#[test]
fn snapshots_of_data_sources() {
    let place = Place::new(false);
    place.seed();
    // times and latencies change from run to run (insta filters)
    let _clock = without_the_clock().bind_to_scope();
    let mut app = place.app("ds-snap", "dana");
    let list = run_keys(&mut app, ":datasources<Enter>", W, H);
    insta::assert_snapshot!("ds_list", list);
    let detail = run_keys(&mut app, "<Down>", W, H);
    assert!(detail.contains("127.0.0.1:3306"), "{detail}");
    insta::assert_snapshot!("ds_detail", detail);

    // store refusals land on their field, one after the other
    let form = run_keys(
        &mut app,
        "n9orders<Down><Down><Down>127.0.0.1:3306<Down><Down><Down>secret<Enter>",
        W,
        H,
    );
    assert!(
        shows(
            &form,
            "✗ data source name: `9orders` does not start with a letter"
        ),
        "{form}"
    );
    insta::assert_snapshot!("ds_form_name_error", form);
    let form = run_keys(&mut app, "<Home><Del><Enter>", W, H);
    assert!(shows(&form, "✗ password: the value is neither"), "{form}");
    insta::assert_snapshot!("ds_form_password_error", form);
    let confirm = run_keys(&mut app, "<Esc>d", W, H);
    assert!(
        confirm.contains("delete data source mysql_orders?"),
        "{confirm}"
    );
    insta::assert_snapshot!("ds_delete_confirm", confirm);
    let kept = run_keys(&mut app, "n", W, H);
    assert!(shows(&kept, "mysql_orders not deleted"), "{kept}");

    // testing: the row says so at once, the UI answers meanwhile, then the result
    let testing = run_keys(&mut app, "<Up>t", W, H);
    assert!(testing.contains("testing…"), "{testing}");
    insta::assert_snapshot!("ds_testing", testing);
    let moved = run_keys(&mut app, "<Down>", W, H);
    assert!(
        moved.contains("orders database"),
        "the UI answers while testing: {moved}"
    );
    let done = wait_for(&mut app, "✗ failed", Duration::from_secs(20));
    assert!(done.contains("✗ failed"), "{done}");
    let ok = run_keys(&mut app, "t", W, H);
    assert!(ok.contains("testing…"), "{ok}");
    let ok = wait_for(&mut app, "ok in", Duration::from_secs(20));
    assert!(ok.contains("test: ok in"), "{ok}");
    insta::assert_snapshot!("ds_tested", ok);
    let failed = run_keys(&mut app, "<Up>", W, H);
    assert!(
        shows(&failed, "no metadata from kafka at 127.0.0.1:1"),
        "{failed}"
    );
    insta::assert_snapshot!("ds_test_failed", failed);

    // a developer reads, tests, and is not offered n/e/d
    let mut dev = place.app("ds-snap-dev", "dev");
    let ro = run_keys(&mut dev, ":datasources<Enter>", W, H);
    assert!(
        shows(&ro, "read-only: data admins and system admins"),
        "{ro}"
    );
    assert!(!ro.contains("n new"), "{ro}");
    insta::assert_snapshot!("ds_read_only_developer", ro);
    let refused = run_keys(&mut dev, "n", W, H);
    assert!(shows(&refused, "read-only"), "{refused}");
    assert!(!refused.contains("new data source"), "{refused}");
    place.cleanup();
}

#[test]
fn snapshots_of_the_catalog() {
    let db = mariadb_db();
    let place = Place::new(false);
    place.seed();
    orders_in(&place, &db);
    topics(&place);
    let _clock = without_the_clock().bind_to_scope();
    let mut app = place.app("cat-snap", "dev");
    run_keys(&mut app, ":topics<Enter>", W, H);
    let tree = wait_for(&mut app, "customers", Duration::from_secs(15));
    assert!(tree.contains("orders_v2"), "{tree}");
    assert!(tree.contains("payments"), "{tree}");
    assert!(tree.contains("design · shop"), "{tree}");
    insta::assert_snapshot!("catalog_tree", tree);
    // kafka_main, orders_v2, payments, mysql_orders, customers, orders
    let topic = run_keys(&mut app, "<Down>", W, H);
    assert!(topic.contains("order_id"), "{topic}");
    insta::assert_snapshot!("catalog_topic", topic);
    let table = run_keys(&mut app, "<Down><Down><Down><Down>", W, H);
    assert!(table.contains("decimal(10,2)"), "{table}");
    insta::assert_snapshot!("catalog_table_columns", table);
    // the name rule as you type
    let typed = run_keys(&mut app, "n9x", W, H);
    assert!(
        typed.contains("✗ topic name: `9x` starts with a digit"),
        "{typed}"
    );
    insta::assert_snapshot!("catalog_topic_form_name_error", typed);
    let fixed = run_keys(&mut app, "<BS><BS>views", W, H);
    assert!(!fixed.contains("✗"), "{fixed}");
    // publishing asks for the cluster
    let prompt = run_keys(&mut app, "<Esc>/clicks<Enter><Down>p", W, H);
    assert!(prompt.contains("publish clicks to test"), "{prompt}");
    insta::assert_snapshot!("catalog_publish_prompt", prompt);
    run_keys(&mut app, "<Esc>", W, H);
    // dana: read-only catalog, grants offered, no request
    let mut dana = place.app("cat-snap-dana", "dana");
    run_keys(&mut dana, ":topics<Enter>", W, H);
    let ro = wait_for(&mut dana, "customers", Duration::from_secs(15));
    assert!(
        shows(&ro, "read-only: project admins and developers"),
        "{ro}"
    );
    assert!(ro.contains("g grants") && !ro.contains("r request"), "{ro}");
    insta::assert_snapshot!("catalog_read_only_data_admin", ro);
    place.cleanup();
    drop_db(&db);
}

// ---------------------------------------------------------------- flows (both stores)

fn data_source_flow(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let mut app = place.app(&format!("ds-flow-{pg}"), "dana");
    run_keys(&mut app, ":datasources<Enter>", W, H);
    // name, kind (mysql), env (test), test address, test options, user (prod is off)
    let created = run_keys(
        &mut app,
        "norders_copy<Down><Down><Down>127.0.0.1:3306<Down>{\"database\": \"test\"}<Down>root<Down><Down><Down><Down>a copy<Enter>",
        W,
        H,
    );
    assert!(
        shows(&created, "added data source orders_copy"),
        "{created}"
    );
    let root = place.gov("root");
    let ds = rt().block_on(root.data_source("orders_copy")).unwrap();
    assert_eq!(ds.kind, weir_store::parse_kind("mysql").unwrap());
    assert_eq!(ds.env, Env::Test);
    assert_eq!(
        ds.test,
        Some(Endpoint {
            address: "127.0.0.1:3306".into(),
            options: serde_json::json!({"database": "test"})
        })
    );
    assert_eq!(ds.prod, None);
    assert_eq!(ds.user.as_deref(), Some("root"));
    assert_eq!(ds.description, "a copy");
    assert_eq!(ds.created_by, place.who("dana"));

    // the new one is selected: reachable, ok with a latency
    run_keys(&mut app, "t", W, H);
    let ok = wait_for(&mut app, "ok in", Duration::from_secs(20));
    assert!(ok.contains("test: ok in") && ok.contains(" ms"), "{ok}");
    assert!(shows(&ok, "logged in to 127.0.0.1:3306 as root"), "{ok}");
    // kafka_main's test address is unreachable: the error is shown
    run_keys(&mut app, "<Up><Up>t", W, H);
    let bad = wait_for(&mut app, "✗ failed", Duration::from_secs(20));
    assert!(
        shows(&bad, "no metadata from kafka at 127.0.0.1:1"),
        "{bad}"
    );

    // edit orders_copy: serve both, with a prod address, and a new description
    let edited = run_keys(
        &mut app,
        "<Down><Down>e<Down><Down><Left><Down><Down><Down>127.0.0.1:3307<Down><Down><Down><Down><Down><Down>, both envs<Enter>",
        W,
        H,
    );
    assert!(
        shows(&edited, "updated data source orders_copy"),
        "{edited}"
    );
    let ds = rt().block_on(root.data_source("orders_copy")).unwrap();
    assert_eq!(ds.env, Env::Both);
    assert_eq!(
        ds.prod.as_ref().map(|e| e.address.as_str()),
        Some("127.0.0.1:3307")
    );
    assert!(ds.description.ends_with("both envs"), "{}", ds.description);

    // delete after y
    run_keys(&mut app, "dy", W, H);
    assert!(rt().block_on(root.data_source("orders_copy")).is_err());
    rt().block_on(root.closer().close());
    place.cleanup();
}

#[test]
fn data_source_flow_sqlite() {
    data_source_flow(false);
}

#[test]
fn data_source_flow_postgres() {
    data_source_flow(true);
}

fn topic_flow(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let mut app = place.app(&format!("topic-flow-{pg}"), "dev");
    run_keys(&mut app, ":topics<Enter>", W, H);
    // a bad name is refused as it is typed, before any submit
    let bad = run_keys(&mut app, "n9clicks", W, H);
    assert!(bad.contains("starts with a digit"), "{bad}");
    let bad = run_keys(&mut app, "<Home><Del>cl-", W, H);
    assert!(bad.contains("has `-` at position 3"), "{bad}");
    let created = run_keys(
        &mut app,
        "<BS><Down><Down>Clicks<Down><Down><BS>4<Down><BS>30<Down>page views<Down>user_id:string, ts:timestamp:event time<Enter>",
        W,
        H,
    );
    assert!(
        shows(&created, "created topic clclicks in shop"),
        "{created}"
    );
    let dana = place.gov("dana");
    let t = rt().block_on(dana.topic("clclicks")).unwrap();
    assert_eq!(t.state, TopicState::Design);
    assert_eq!((t.partitions, t.lifecycle_days), (4, 30));
    assert_eq!(t.display_name, "Clicks");
    assert_eq!(
        t.fields,
        vec![
            TopicField {
                name: "user_id".into(),
                data_type: "string".into(),
                comment: String::new()
            },
            TopicField {
                name: "ts".into(),
                data_type: "timestamp".into(),
                comment: "event time".into()
            },
        ]
    );
    // publish to test on kafka_main
    let prompt = run_keys(&mut app, "p", W, H);
    assert!(prompt.contains("kafka_main"), "{prompt}");
    // the request is sent in the background; its number shows when the store answers
    run_keys(&mut app, "<Enter>", W, H);
    let sent = wait_for(&mut app, "sent to data admins", Duration::from_secs(20));
    assert!(shows(&sent, "sent to data admins"), "{sent}");
    let inbox = rt().block_on(dana.inbox()).unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0].state, RequestState::Pending);
    assert_eq!(inbox[0].requester, place.who("dev"));
    assert_eq!(
        inbox[0].summary,
        "publish topic clclicks to test on kafka_main"
    );
    assert!(
        shows(
            &sent,
            &format!("request #{} sent to data admins", inbox[0].id)
        ),
        "{sent}"
    );
    let t = rt().block_on(dana.topic("clclicks")).unwrap();
    assert_eq!(t.state, TopicState::PendingTest);
    // the catalog shows it on kafka_main, pending
    assert!(sent.contains("pending_test"), "{sent}");
    assert!(
        sent.contains(&format!("request #{}: publish to", inbox[0].id)),
        "{sent}"
    );
    // publishing again is refused with the reason
    let again = run_keys(&mut app, "p", W, H);
    assert!(
        shows(
            &again,
            "is pending_test; publishing to test needs it in design"
        ),
        "{again}"
    );
    rt().block_on(dana.closer().close());
    place.cleanup();
}

#[test]
fn topic_flow_sqlite() {
    topic_flow(false);
}

#[test]
fn topic_flow_postgres() {
    topic_flow(true);
}

#[test]
fn mariadb_tables_are_listed_with_their_columns() {
    let db = mariadb_db();
    let mut ep =
        weir::model::Connection::new(weir_store::parse_kind("mysql").unwrap(), "127.0.0.1:3306");
    ep.user = Some("root".into());
    ep.options
        .insert("database".to_string(), db.name().to_string());
    let got = rt().block_on(weir::app::catalog::tables("mysql_orders", &ep));
    drop_db(&db);
    let got = got.unwrap();
    let names: Vec<&str> = got.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["customers", "orders"]);
    assert_eq!(
        got[1].columns,
        vec![
            ("id".to_string(), "bigint(20)".to_string()),
            ("customer".to_string(), "varchar(64)".to_string()),
            ("total".to_string(), "decimal(10,2)".to_string()),
        ]
    );
    // a database that does not exist: the server's refusal, in words
    let mut missing = ep.clone();
    missing
        .options
        .insert("database".into(), format!("{}_gone", db.name()));
    let e = rt()
        .block_on(weir::app::catalog::tables("mysql_orders", &missing))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot log in to mysql at 127.0.0.1:3306 as root"),
        "{e}"
    );
}
