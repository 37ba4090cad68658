//! The permission request form and `:grants` (authorization) through the workbench.
//! Snapshots at 100x30 on SQLite (stable names): the form for a Kafka topic (select and
//! insert only) and for a MySQL table (columns only for a person), a refusal shown on its
//! field, a submitted form's message, `:grants` as data admin with whitelist, blacklist and
//! public entries, its batch form and confirmation, and the read-only variant for a
//! developer. Flows on SQLite and PostgreSQL: a developer requests through the form (the
//! rows checked in the data admin's inbox), and a data admin whitelists a project on two
//! tables in one batch, blacklists a user on one, checks and revokes; the store's
//! `check` gives the expected decisions.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::place::{Place, rt};
use common::{run_keys, without_the_clock};
use weir::app::governance::Governance;
use weir_store::{
    Env, GrantList, GrantSpec, Grantee, Perm, RequestDetail, RequestState, TableRef, TopicField,
    TopicFormat, TopicSpec,
};

/// A topic `clicks` of project shop, published to and approved on kafka_main (test), so
/// the catalog offers it for kafka_main. The approval is the store's alone (no cluster to
/// create it on in these tests).
fn publish_clicks(place: &Place) {
    let r = rt();
    let dev = open(place, &r, "dev");
    let (url, dana) = (place.url("dana"), place.who("dana"));
    r.block_on(async {
        for name in ["clicks", "orders_cdc"] {
            dev.create_topic(&TopicSpec {
                name: name.into(),
                project: "shop".into(),
                display_name: name.into(),
                format: TopicFormat::Json,
                partitions: 1,
                lifecycle_days: 1,
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
                .publish_topic(name, Env::Test, "kafka_main")
                .await
                .unwrap();
            common::approve_in_store(&url, &dana, req.id, "ok").await;
        }
    });
}

/// The frame without whitespace and pane borders: status messages and form errors wrap.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect()
}

/// `frame` shows `text`, wherever it wraps.
fn shows(frame: &str, text: &str) -> bool {
    squash(frame).contains(&squash(text))
}

/// The app layer acting as `login`, its pool on `r` (a pool outlives no runtime).
fn open(place: &Place, r: &tokio::runtime::Runtime, login: &str) -> Governance {
    let url = place.url(login);
    r.block_on(Governance::open(&url, &place.who(login)))
        .unwrap()
}

fn check(place: &Place, user: &str, table: &str, op: Perm) -> (bool, String) {
    let r = rt();
    let dana = open(place, &r, "dana");
    let d = r
        .block_on(dana.check(
            &place.who(user),
            Some("shop"),
            &TableRef::new("mysql_orders", table),
            op,
            &[],
        ))
        .unwrap();
    (d.allowed, d.reason)
}

// ---------------------------------------------------------------- snapshots (SQLite)

#[test]
fn perm_form_snapshots() {
    let place = Place::new(false);
    place.seed();
    publish_clicks(&place);
    // request times blanked (insta filters)
    let _clock = without_the_clock().bind_to_scope();
    let mut dev = place.app("gb-form", "dev");

    // kafka_main comes first: a topic field that cycles the catalog's topics, and only
    // select and insert to tick
    let frame = run_keys(
        &mut dev,
        ":requests<Enter>\nn\nexpect \"request permission\"\n<Down><Right>",
        100,
        30,
    );
    assert!(
        frame.contains("topic") && frame.contains("clicks"),
        "{frame}"
    );
    assert!(
        frame.contains("[ ] select") && frame.contains("[ ] insert"),
        "{frame}"
    );
    assert!(
        !frame.contains("update") && !frame.contains("delete"),
        "{frame}"
    );
    insta::assert_snapshot!("perm_form_kafka", frame);
    // Right again: the next topic; Left: back
    assert!(frame.contains("› topic        clicks"), "{frame}");
    let frame = run_keys(&mut dev, "<Right>", 100, 30);
    assert!(frame.contains("› topic        orders_cdc"), "{frame}");
    let frame = run_keys(&mut dev, "<Right>", 100, 30);
    assert!(frame.contains("› topic        clicks"), "{frame}");
    let frame = run_keys(&mut dev, "<Left>", 100, 30);
    assert!(frame.contains("› topic        orders_cdc"), "{frame}");
    let frame = run_keys(&mut dev, "<Left>", 100, 30);
    assert!(frame.contains("› topic        clicks"), "{frame}");

    // mysql_orders: four operations; columns disabled while the request is for a project
    let frame = run_keys(
        &mut dev,
        "<Up><Right>\n<Down>\n<BS><BS><BS><BS><BS><BS>orders",
        100,
        30,
    );
    assert!(
        frame.contains("[ ] update") && frame.contains("[ ] delete"),
        "{frame}"
    );
    assert!(
        frame.contains("only when the request is for a person"),
        "{frame}"
    );
    insta::assert_snapshot!("perm_form_mysql_for_project", frame);

    // for a person: columns open up
    let frame = run_keys(
        &mut dev,
        "<Down><Right>\n<Down><Space>\n<Down>id, total",
        100,
        30,
    );
    assert!(!frame.contains("only when the request"), "{frame}");
    assert!(frame.contains("id, total"), "{frame}");
    insta::assert_snapshot!("perm_form_mysql_for_person", frame);

    // no reason: the store's refusal lands on the reason field
    let frame = run_keys(&mut dev, "<Enter>", 100, 30);
    assert!(
        shows(
            &frame,
            "✗ reason: no reason given; say why the permission is needed"
        ),
        "{frame}"
    );
    insta::assert_snapshot!("perm_form_refused", frame);

    // a reason, then submit: the message names the request created
    let frame = run_keys(&mut dev, "monthly audit<Enter>", 100, 30);
    assert!(
        shows(
            &frame,
            "requested select on mysql_orders.orders (id, total): request #3 (you)"
        ),
        "{frame}"
    );
    insta::assert_snapshot!("perm_form_submitted", frame);
    place.cleanup();
}

/// Grants as the data admin sees them: whitelist (a project and a user with columns),
/// blacklist and public.
fn grant_world(place: &Place) {
    publish_clicks(place);
    let r = rt();
    let dana = open(place, &r, "dana");
    let orders = TableRef::new("mysql_orders", "orders");
    r.block_on(async {
        let s = &dana;
        for spec in [
            GrantSpec {
                list: GrantList::Whitelist,
                tables: vec![orders.clone()],
                grantees: vec![Grantee::Project("shop".into())],
                perms: vec![Perm::Select, Perm::Insert],
                columns: vec![],
            },
            GrantSpec {
                list: GrantList::Whitelist,
                tables: vec![orders.clone()],
                grantees: vec![Grantee::User(place.who("dev"))],
                perms: vec![Perm::Select],
                columns: vec!["id".into(), "total".into()],
            },
            GrantSpec {
                list: GrantList::Blacklist,
                tables: vec![orders.clone()],
                grantees: vec![Grantee::User(place.who("pat"))],
                perms: vec![Perm::Delete],
                columns: vec![],
            },
            GrantSpec {
                list: GrantList::Public,
                tables: vec![orders.clone(), TableRef::new("kafka_main", "clicks")],
                grantees: vec![],
                perms: vec![Perm::Select],
                columns: vec![],
            },
        ] {
            s.set_grants(&spec).await.unwrap();
        }
    });
}

#[test]
fn grants_snapshots() {
    let place = Place::new(false);
    place.seed();
    grant_world(&place);
    let mut dana = place.app("gb-grants", "dana");
    let frame = run_keys(&mut dana, ":grants<Enter>\n<Down><Down>", 100, 30);
    assert!(frame.contains("mysql_orders.orders"), "{frame}");
    assert!(
        frame.contains("whitelist 2 · blacklist 1 · public"),
        "{frame}"
    );
    assert!(
        frame.contains("project shop") && frame.contains("user pat"),
        "{frame}"
    );
    insta::assert_snapshot!("grants_data_admin", frame);

    // the highlighted grant moves with Right
    let frame = run_keys(&mut dana, "<Right><Right>", 100, 30);
    insta::assert_snapshot!("grants_third_grant_highlighted", frame);

    // two tables selected, the whitelist form and its confirmation line
    let frame = run_keys(
        &mut dana,
        "<Up><Up><Space><Space>\nw\n<Down>shop\n<Down><Space>",
        100,
        30,
    );
    assert!(frame.contains("whitelist on 2 tables"), "{frame}");
    assert!(
        frame.contains("kafka_main.clicks, kafka_main.orders_cdc"),
        "{frame}"
    );
    assert!(
        frame.contains("[x] select") && !frame.contains("update"),
        "{frame}"
    );
    insta::assert_snapshot!("grants_batch_form", frame);
    let frame = run_keys(&mut dana, "<Enter>", 100, 30);
    assert!(
        frame.contains("whitelist project shop for select on 2 tables? y applies, n goes back"),
        "{frame}"
    );
    insta::assert_snapshot!("grants_batch_confirm", frame);
    let frame = run_keys(&mut dana, "y", 100, 30);
    assert!(
        shows(&frame, "whitelisted on 2 tables: 2 grant rows added"),
        "{frame}"
    );

    // a developer reads the same, with no way to write
    let mut dev = place.app("gb-grants-dev", "dev");
    let frame = run_keys(&mut dev, ":grants<Enter>\n<Down><Down>", 100, 30);
    assert!(frame.contains("read only"), "{frame}");
    assert!(
        !frame.contains("revoke") && !frame.contains("[ ]"),
        "{frame}"
    );
    insta::assert_snapshot!("grants_read_only_developer", frame);
    let frame = run_keys(&mut dev, "w", 100, 30);
    assert!(
        shows(
            &frame,
            "read only: only a data admin or a system admin changes grants"
        ),
        "{frame}"
    );
    place.cleanup();
}

// ---------------------------------------------------------------- flows (both backends)

fn request_through_the_form(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    publish_clicks(&place);
    let mut dev = place.app("gb-flow-dev", "dev");
    // mysql_orders.orders for project shop, select
    let frame = run_keys(
        &mut dev,
        ":requests<Enter>\nn\nexpect \"request permission\"\n\
         <Right>\n<Down>orders\n<Down>\n<Down>\n<Down><Space>\n<Down>daily report<Enter>",
        100,
        30,
    );
    assert!(
        shows(&frame, "requested select on mysql_orders.orders: request #"),
        "{frame}"
    );
    assert!(shows(&frame, "(project shop)"), "{frame}");
    // clicks on kafka_main for shop and for me: two requests, both numbers named
    let frame = run_keys(
        &mut dev,
        "n\nexpect \"request permission\"\n\
         <Down><Right>\n<Down><Right><Right>\n<Down>\n<Down><Space><Right><Space>\n\
         <Down>replay tool<Enter>",
        100,
        30,
    );
    assert!(
        shows(
            &frame,
            "requested select, insert on kafka_main.clicks: request #"
        ),
        "{frame}"
    );
    assert!(shows(&frame, "(project shop), #"), "{frame}");
    assert!(shows(&frame, "(you)"), "{frame}");

    let r = rt();
    let dana = open(&place, &r, "dana");
    let inbox = r.block_on(dana.inbox()).unwrap();
    let perms: Vec<_> = inbox
        .iter()
        .map(|req| {
            assert_eq!(req.state, RequestState::Pending);
            assert_eq!(req.requester, place.who("dev"));
            let (_, d) = r.block_on(dana.request(req.id)).unwrap();
            match d {
                RequestDetail::Permission {
                    datasource,
                    table,
                    grantee,
                    perms,
                    columns,
                    reason,
                } => (
                    datasource,
                    table,
                    grantee,
                    perms,
                    columns,
                    reason,
                    req.project.clone(),
                ),
                other => panic!("not a permission request: {other:?}"),
            }
        })
        .collect();
    let shop = Some("shop".to_string());
    assert_eq!(
        perms,
        vec![
            (
                "mysql_orders".into(),
                "orders".into(),
                Grantee::Project("shop".into()),
                vec![Perm::Select],
                vec![],
                "daily report".into(),
                shop.clone()
            ),
            (
                "kafka_main".into(),
                "clicks".into(),
                Grantee::Project("shop".into()),
                vec![Perm::Select, Perm::Insert],
                vec![],
                "replay tool".into(),
                shop.clone()
            ),
            (
                "kafka_main".into(),
                "clicks".into(),
                Grantee::User(place.who("dev")),
                vec![Perm::Select, Perm::Insert],
                vec![],
                "replay tool".into(),
                None
            ),
        ]
    );
    place.cleanup();
}

#[test]
fn request_through_the_form_sqlite() {
    request_through_the_form(false);
}

#[test]
fn request_through_the_form_postgres() {
    request_through_the_form(true);
}

fn batch_grants(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let dev = place.who("dev");
    let mut dana = place.app("gb-flow-dana", "dana");
    // two tables added by name: mysql_orders.customers, mysql_orders.orders
    let frame = run_keys(
        &mut dana,
        ":grants<Enter>\nexpect \"No tables yet\"\na\nmysql_orders.orders<Enter>",
        100,
        30,
    );
    assert!(shows(&frame, "mysql_orders.orders added"), "{frame}");
    let frame = run_keys(
        &mut dana,
        "a\nnope.orders<Enter>\nexpect \"no data source named `nope`\"\n<Esc>",
        100,
        30,
    );
    assert!(!frame.contains("nope"), "{frame}");
    let frame = run_keys(&mut dana, "a\nmysql_orders.customers<Enter>", 100, 30);
    assert!(shows(&frame, "mysql_orders.customers added"), "{frame}");
    assert!(frame.contains("no grants"), "{frame}");
    // select both (customers is highlighted, orders below), whitelist shop for select
    let frame = run_keys(
        &mut dana,
        "<Space><Space>\nexpect \"2 tables selected\"\n\
         w\n<Down>shop\n<Down><Space><Enter>\n\
         expect \"whitelist project shop for select on 2 tables?\"\ny",
        100,
        30,
    );
    assert!(
        shows(&frame, "whitelisted on 2 tables: 2 grant rows added"),
        "{frame}"
    );
    assert!(frame.contains("project shop"), "{frame}");
    // unselect both, then blacklist dev on orders only
    let frame = run_keys(
        &mut dana,
        &format!(
            "<Up><Space><Space>\nexpect \"Space selects tables\"\n\
             b\n<Right><Down>{dev}\n<Down><Space><Enter>\n\
             expect \"blacklist user {dev} for select on 1 table?\"\ny"
        ),
        100,
        30,
    );
    assert!(
        shows(&frame, "blacklisted on 1 table: 1 grant row added"),
        "{frame}"
    );
    assert!(frame.contains("blacklist user "), "{frame}");

    assert_eq!(
        check(&place, "dev", "orders", Perm::Select),
        (false, format!("blacklisted for user {dev}"))
    );
    assert_eq!(
        check(&place, "pat", "orders", Perm::Select),
        (
            true,
            "project whitelist of project shop via membership".into()
        )
    );
    assert_eq!(
        check(&place, "dev", "customers", Perm::Select),
        (
            true,
            "project whitelist of project shop via membership".into()
        )
    );
    assert_eq!(
        check(&place, "dev", "customers", Perm::Insert),
        (false, "no grant".into())
    );
    // the batch wrote one row per table, in one call, as dana
    let r = rt();
    let gov = open(&place, &r, "dana");
    for t in ["orders", "customers"] {
        let gs = r
            .block_on(gov.grants(&TableRef::new("mysql_orders", t)))
            .unwrap();
        let white: Vec<_> = gs
            .iter()
            .filter(|g| g.list == GrantList::Whitelist)
            .map(|g| (g.grantee.clone(), g.perms.clone(), g.granted_by.clone()))
            .collect();
        assert_eq!(
            white,
            vec![(
                Grantee::Project("shop".into()),
                vec![Perm::Select],
                place.who("dana")
            )]
        );
    }

    // the screen's own check agrees with the store
    let bs = "<BS>".repeat(place.who("dana").len());
    let frame = run_keys(
        &mut dana,
        &format!("c\n{bs}{dev}\n<Down>shop<Enter>"),
        100,
        30,
    );
    if pg {
        // long PostgreSQL logins wrap the line
        assert!(frame.contains("in shop select: denied"), "{frame}");
    } else {
        assert!(
            frame.contains("dev in shop select: denied — blacklisted for user dev"),
            "{frame}"
        );
    }
    // revoke the blacklist row (the second grant of orders): dev may read again
    let frame = run_keys(&mut dana, "<Right>x\nexpect \"revoke grant #\"\ny", 100, 30);
    assert!(shows(&frame, "revoked grant #"), "{frame}");
    assert!(shows(&frame, "blacklist —"), "{frame}");
    assert_eq!(
        check(&place, "dev", "orders", Perm::Select),
        (
            true,
            "project whitelist of project shop via membership".into()
        )
    );
    place.cleanup();
}

#[test]
fn batch_grants_sqlite() {
    batch_grants(false);
}

#[test]
fn batch_grants_postgres() {
    batch_grants(true);
}
