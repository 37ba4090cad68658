//! Governance flows through the workbench, as the right people, on SQLite and on
//! PostgreSQL: a developer's request lands in a data admin's `:inbox` (and in the status
//! bar's counter, without a key press), is approved there with one or two keys, and the
//! developer's `:requests` shows it finished with the right now in effect. A topic
//! publication approved in the inbox creates the topic on its (mock) Kafka cluster. Two
//! sessions on the same request: the second is told who approved it first and nothing is
//! written twice — TUI against TUI, and TUI against the `weir approve` command line.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::place::Place;
use common::run_keys;
use weir::app::kafka_topics;
use weir_engine::broker::Broker;
use weir_store::{
    Env, GlobalRole, Perm, PermissionRequestSpec, RequestFilter, RequestFor, RequestState,
    TableRef, TopicField, TopicFormat, TopicSpec,
};

fn ask(place: &Place, table: &str) -> i64 {
    let dev = place.gov("dev");
    let made = place
        .block_on(dev.session.request_permission(&PermissionRequestSpec {
            target: TableRef::new("mysql_orders", table),
            for_whom: RequestFor::Project("shop".into()),
            perms: vec![Perm::Select],
            columns: Vec::new(),
            reason: format!("daily report on {table}"),
        }))
        .unwrap();
    made[0].id
}

/// The frame as one line: a long status message wraps onto a second row.
fn flat(frame: &str) -> String {
    frame.lines().collect::<Vec<_>>().join(" ")
}

fn approvals_of(place: &Place, id: i64) -> usize {
    let root = place.gov("root");
    place
        .block_on(root.session.audit(0))
        .unwrap()
        .iter()
        .filter(|e| e.action == "request.approve" && e.object_id == id.to_string())
        .count()
}

fn request_then_approve_then_in_effect(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let mut dev = place.app("flow-dev", "dev");
    let id = ask(&place, "orders");

    // the developer sees it in progress, with its history
    let frame = run_keys(
        &mut dev,
        "wait 1200\n:requests<Enter>\nexpect \"1 in progress (1)\"\nexpect \"requested\"",
        100,
        30,
    );
    assert!(frame.contains("mine 1"), "{frame}");
    assert!(
        frame.contains(&format!("#{id}")) && frame.contains("select on mysql_orders.orders"),
        "{frame}"
    );

    // the data admin's inbox: the request, what approving changes, approve in two keys
    let mut dana = place.app("flow-dana", "dana");
    let frame = run_keys(&mut dana, ":inbox<Enter>", 100, 30);
    assert!(frame.contains("inbox 1"), "{frame}");
    assert!(frame.contains("daily report on orders"), "{frame}");
    assert!(
        frame.contains("whitelist project shop for select on mysql_orders.orders"),
        "{frame}"
    );
    let frame = run_keys(&mut dana, "a\nlooks fine<Enter>", 100, 30);
    assert!(frame.contains(&format!("approved #{id}")), "{frame}");
    assert!(frame.contains("Nothing waiting for you."), "{frame}");
    assert!(frame.contains("inbox 0"), "{frame}");

    // the store has the decision and the grant
    let gov = place.gov("dana");
    let (r, _) = place.block_on(gov.session.request(id)).unwrap();
    assert_eq!(r.state, RequestState::Approved);
    assert_eq!(r.opinion.as_deref(), Some("looks fine"));
    let d = place
        .block_on(gov.session.check(
            &place.who("dev"),
            Some("shop"),
            &TableRef::new("mysql_orders", "orders"),
            Perm::Select,
            &[],
        ))
        .unwrap();
    assert!(d.allowed, "{}", d.reason);

    // the developer's screen follows without a key (change feed), finished tab shows it
    let frame = run_keys(&mut dev, "wait 1500\n2", 100, 30);
    assert!(frame.contains("mine 0"), "{frame}");
    assert!(frame.contains("2 finished (1)"), "{frame}");
    assert!(frame.contains("approved: “looks fine”"), "{frame}");
    assert!(frame.contains("✓ select"), "{frame}");
    place.cleanup();
}

fn reject_needs_an_opinion_and_bulk_approves_a_selection(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let ids: Vec<i64> = ["a", "b", "c"].iter().map(|t| ask(&place, t)).collect();
    let mut dana = place.app("bulk-dana", "dana");
    // reject without an opinion is refused in place; with one it goes through
    let frame = run_keys(&mut dana, ":inbox<Enter>\nr<Enter>", 100, 30);
    assert!(frame.contains("a rejection needs a reason"), "{frame}");
    let frame = run_keys(&mut dana, "name the columns<Enter>", 100, 30);
    assert!(frame.contains(&format!("rejected #{}", ids[0])), "{frame}");
    // mark the other two, confirm, both approved
    let frame = run_keys(&mut dana, "<Space><Space>A", 100, 30);
    assert!(frame.contains("approve 2 requests"), "{frame}");
    let frame = run_keys(&mut dana, "y", 100, 30);
    assert!(
        frame.contains(&format!("approved #{} #{}", ids[1], ids[2])),
        "{frame}"
    );
    let dev = place.gov("dev");
    let done = place
        .block_on(dev.session.my_requests(RequestFilter::Finished))
        .unwrap();
    let states: Vec<RequestState> = done.iter().map(|r| r.state).collect();
    assert_eq!(
        states,
        vec![
            RequestState::Rejected,
            RequestState::Approved,
            RequestState::Approved
        ]
    );
    // a developer is offered no decisions
    let mut devtui = place.app("bulk-dev", "dev");
    let frame = run_keys(&mut devtui, ":inbox<Enter>", 100, 30);
    assert!(
        frame.contains("Only data admins decide requests"),
        "{frame}"
    );
    let frame = run_keys(&mut devtui, "a", 100, 30);
    assert!(
        flat(&frame).contains("only data admins decide requests"),
        "{frame}"
    );
    place.cleanup();
}

fn two_sessions_on_one_request(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let root = place.gov("root");
    place
        .block_on(
            root.session
                .add_user(&place.who("erin"), "Erin", &[GlobalRole::DataAdmin]),
        )
        .unwrap();
    let first = ask(&place, "orders");
    let second = ask(&place, "items");

    // TUI against TUI: both have #first open, erin is typing her opinion
    let mut dana = place.app("two-dana", "dana");
    let mut erin = place.app("two-erin", "erin");
    run_keys(&mut erin, ":inbox<Enter>\na\nok by me", 100, 30);
    let frame = run_keys(&mut dana, ":inbox<Enter>\na<Enter>", 100, 30);
    assert!(frame.contains(&format!("approved #{first}")), "{frame}");
    let frame = run_keys(&mut erin, "<Enter>", 100, 30);
    assert!(
        flat(&frame).contains(&format!(
            "request #{first} was already approved by {}",
            place.who("dana")
        )),
        "{frame}"
    );
    assert_eq!(approvals_of(&place, first), 1);

    // TUI against the command line: erin's inbox shows #second, dana approves it with
    // `weir approve`, erin's approval is refused with who and when
    let frame = run_keys(&mut erin, "a\nsure", 100, 30);
    assert!(frame.contains(&format!("approve #{second}")), "{frame}");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weir"));
    cmd.current_dir(&dana.project.root).args([
        "approve",
        &second.to_string(),
        "--opinion",
        "from the shell",
    ]);
    match (&place.pg, &place.sqlite) {
        (Some(_), _) => {
            cmd.env("WEIR_DATABASE_URL", place.url("dana"));
        }
        (None, Some(path)) => {
            cmd.env_remove("WEIR_DATABASE_URL")
                .env("WEIR_STORE", path)
                .env("WEIR_USER", "dana");
        }
        _ => unreachable!(),
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frame = run_keys(&mut erin, "<Enter>", 100, 30);
    assert!(
        flat(&frame).contains(&format!(
            "request #{second} was already approved by {}",
            place.who("dana")
        )),
        "{frame}"
    );
    assert_eq!(approvals_of(&place, second), 1);
    let gov = place.gov("dana");
    let grants = place
        .block_on(gov.session.grants(&TableRef::new("mysql_orders", "items")))
        .unwrap();
    assert_eq!(grants.len(), 1, "{grants:?}");
    place.cleanup();
}

fn topic_publication_approved_in_the_inbox_creates_the_topic(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let cluster = Arc::new(Broker::start().unwrap());
    let c2 = Arc::clone(&cluster);
    kafka_topics::register_embedded(
        &cluster.bootstrap_servers(),
        Arc::new(move |name, parts| c2.create_topic(name, parts).map_err(|e| e.to_string())),
    );
    let dana = place.gov("dana");
    let mut spec = place
        .block_on(dana.session.data_source("kafka_main"))
        .unwrap();
    if let Some(t) = spec.test.as_mut() {
        t.address = cluster.bootstrap_servers();
    }
    place
        .block_on(dana.session.update_data_source(
            "kafka_main",
            &weir_store::DataSourceSpec {
                name: spec.name.clone(),
                kind: spec.kind,
                env: spec.env,
                test: spec.test.clone(),
                prod: spec.prod.clone(),
                user: spec.user.clone(),
                password: spec.password.as_ref().map(|p| p.as_reference()),
                managed: spec.managed,
                owner_project: spec.owner_project.clone(),
                description: spec.description.clone(),
            },
        ))
        .unwrap();
    let dev = place.gov("dev");
    place
        .block_on(dev.session.create_topic(&TopicSpec {
            name: "shop_clicks".into(),
            project: "shop".into(),
            display_name: "Clicks".into(),
            format: TopicFormat::Json,
            partitions: 3,
            lifecycle_days: 2,
            description: "clicks of the shop".into(),
            fields: vec![TopicField {
                name: "user_id".into(),
                data_type: "string".into(),
                comment: String::new(),
            }],
        }))
        .unwrap();
    let req = place
        .block_on(
            dev.session
                .publish_topic("shop_clicks", Env::Test, "kafka_main"),
        )
        .unwrap();
    let mut tui = place.app("topic-dana", "dana");
    let frame = run_keys(&mut tui, ":inbox<Enter>", 100, 30);
    assert!(
        frame.contains("create topic `shop_clicks` with 3 partitions"),
        "{frame}"
    );
    let frame = run_keys(&mut tui, "a<Enter>", 100, 30);
    assert!(frame.contains(&format!("approved #{}", req.id)), "{frame}");
    let topic = place.block_on(dev.session.topic("shop_clicks")).unwrap();
    assert_eq!(topic.state, weir_store::TopicState::Test);
    // the topic exists on the cluster with its partitions
    let md = {
        use rdkafka::consumer::{BaseConsumer, Consumer};
        let c: BaseConsumer = rdkafka::config::ClientConfig::new()
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .create()
            .unwrap();
        c.fetch_metadata(Some("shop_clicks"), Duration::from_secs(5))
            .unwrap()
            .topics()
            .iter()
            .find(|t| t.name() == "shop_clicks" && t.error().is_none())
            .map_or(0, |t| t.partitions().len())
    };
    assert_eq!(md, 3);
    kafka_topics::unregister_embedded(&cluster.bootstrap_servers());
    place.cleanup();
}

macro_rules! both {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[test]
                fn sqlite() {
                    super::$case(false);
                }
                #[test]
                fn postgres() {
                    super::$case(true);
                }
            }
        )*
    };
}

both!(
    request_then_approve_then_in_effect,
    reject_needs_an_opinion_and_bulk_approves_a_selection,
    two_sessions_on_one_request,
    topic_publication_approved_in_the_inbox_creates_the_topic,
);
