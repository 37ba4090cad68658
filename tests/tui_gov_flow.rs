//! Governance flows through the workbench, as the right people, on SQLite and on
//! PostgreSQL: a developer's request lands in a data admin's `:inbox` (and in the status
//! bar's counter, without a key press), is approved there with one or two keys, and the
//! developer's `:requests` shows it finished with the right now in effect. A topic
//! publication approved in the inbox creates the topic on its (mock) Kafka cluster. Two
//! sessions on the same request: the second is told who approved it first and nothing is
//! written twice — TUI against TUI, and TUI against the `weir approve` command line.
//! Decisions run in the background: approving a publication against a broker that does
//! not answer leaves the workbench responsive (keys handled, frames drawn, a spinner says
//! what runs), then shows the external error, and nothing is recorded.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::place::Place;
use common::{run_keys, shows};
use weir::app::kafka_topics;
use weir::tui::workbench::Workbench;
use weir_engine::broker::Broker;
use weir_store::{
    Env, GlobalRole, Perm, PermissionRequestSpec, RequestFilter, RequestFor, RequestState,
    TableRef, TopicField, TopicFormat, TopicSpec,
};

fn ask(place: &Place, table: &str) -> i64 {
    let dev = place.gov("dev");
    let made = place
        .block_on(dev.request_permission(&PermissionRequestSpec {
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

/// Let the event loop turn until the frame shows `text`: decisions run in the background.
fn wait_for(app: &mut Workbench, text: &str) -> String {
    common::wait_for(app, text, Duration::from_secs(30), 100, 30)
}

fn approvals_of(place: &Place, id: i64) -> usize {
    let root = place.gov("root");
    place
        .block_on(root.audit(0))
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
    run_keys(&mut dana, "a\nlooks fine<Enter>", 100, 30);
    let frame = wait_for(&mut dana, &format!("approved #{id}"));
    assert!(shows(&frame, &format!("approved #{id}")), "{frame}");
    assert!(frame.contains("Nothing waiting for you."), "{frame}");
    assert!(frame.contains("inbox 0"), "{frame}");

    // the store has the decision and the grant
    let gov = place.gov("dana");
    let (r, _) = place.block_on(gov.request(id)).unwrap();
    assert_eq!(r.state, RequestState::Approved);
    assert_eq!(r.opinion.as_deref(), Some("looks fine"));
    let d = place
        .block_on(gov.check(
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
    run_keys(&mut dana, "name the columns<Enter>", 100, 30);
    let frame = wait_for(&mut dana, &format!("rejected #{}", ids[0]));
    assert!(shows(&frame, &format!("rejected #{}", ids[0])), "{frame}");
    // mark the other two, confirm, both approved
    let frame = run_keys(&mut dana, "<Space><Space>A", 100, 30);
    assert!(frame.contains("approve 2 requests"), "{frame}");
    run_keys(&mut dana, "y", 100, 30);
    let both = format!("approved #{} #{}", ids[1], ids[2]);
    let frame = wait_for(&mut dana, &both);
    assert!(shows(&frame, &both), "{frame}");
    // each approval's effect, as `weir approve` prints it
    assert!(
        shows(
            &frame,
            &format!(
                "#{} granted select on mysql_orders.b to project shop",
                ids[1]
            )
        ),
        "{frame}"
    );
    let dev = place.gov("dev");
    let done = place
        .block_on(dev.my_requests(RequestFilter::Finished))
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
        frame.contains("Data admins decide topic and permission requests"),
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
        .block_on(root.add_user(&place.who("erin"), "Erin", &[GlobalRole::DataAdmin]))
        .unwrap();
    let first = ask(&place, "orders");
    let second = ask(&place, "items");

    // TUI against TUI: both have #first open, erin is typing her opinion
    let mut dana = place.app("two-dana", "dana");
    let mut erin = place.app("two-erin", "erin");
    run_keys(&mut erin, ":inbox<Enter>\na\nok by me", 100, 30);
    run_keys(&mut dana, ":inbox<Enter>\na<Enter>", 100, 30);
    let frame = wait_for(&mut dana, &format!("approved #{first}"));
    assert!(shows(&frame, &format!("approved #{first}")), "{frame}");
    run_keys(&mut erin, "<Enter>", 100, 30);
    let refused = format!(
        "request #{first} was already approved by {}",
        place.who("dana")
    );
    let frame = wait_for(&mut erin, &refused);
    assert!(shows(&frame, &refused), "{frame}");
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
    run_keys(&mut erin, "<Enter>", 100, 30);
    let refused = format!(
        "request #{second} was already approved by {}",
        place.who("dana")
    );
    let frame = wait_for(&mut erin, &refused);
    assert!(shows(&frame, &refused), "{frame}");
    assert_eq!(approvals_of(&place, second), 1);
    let gov = place.gov("dana");
    let grants = place
        .block_on(gov.grants(&TableRef::new("mysql_orders", "items")))
        .unwrap();
    assert_eq!(grants.len(), 1, "{grants:?}");
    place.cleanup();
}

fn topic_publication_approved_in_the_inbox_creates_the_topic(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let cluster = Arc::new(Broker::start().unwrap());
    kafka_topics::register_embedded(&cluster.bootstrap_servers(), &cluster);
    let dana = place.gov("dana");
    let mut spec = place.block_on(dana.data_source("kafka_main")).unwrap();
    if let Some(t) = spec.test.as_mut() {
        t.address = cluster.bootstrap_servers();
    }
    place
        .block_on(dana.update_data_source(
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
        .block_on(dev.create_topic(&TopicSpec {
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
        .block_on(dev.publish_topic("shop_clicks", Env::Test, "kafka_main"))
        .unwrap();
    let mut tui = place.app("topic-dana", "dana");
    let frame = run_keys(&mut tui, ":inbox<Enter>", 100, 30);
    assert!(
        frame.contains("create topic `shop_clicks` with 3 partitions"),
        "{frame}"
    );
    run_keys(&mut tui, "a<Enter>", 100, 30);
    let frame = wait_for(&mut tui, &format!("approved #{}", req.id));
    // the effect, as `weir approve` prints it
    assert!(
        shows(
            &frame,
            &format!(
                "approved #{}: created topic shop_clicks with 3 partition(s) on kafka_main (test)",
                req.id
            )
        ),
        "{frame}"
    );
    let topic = place.block_on(dev.topic("shop_clicks")).unwrap();
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

/// The done-when of issue 12: kafka_main's test address is a local port nothing listens
/// on, so creating the topic fails after the admin client's timeout. Meanwhile the inbox
/// answers keys and draws frames, the spinner turns; then the external error is shown, the
/// request is still pending and the audit log has no approval of it.
fn approving_against_a_broker_that_does_not_answer(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let dev = place.gov("dev");
    place
        .block_on(dev.create_topic(&TopicSpec {
            name: "shop_views".into(),
            project: "shop".into(),
            display_name: "Views".into(),
            format: TopicFormat::Json,
            partitions: 2,
            lifecycle_days: 1,
            description: "page views of the shop".into(),
            fields: Vec::new(),
        }))
        .unwrap();
    let publication = place
        .block_on(dev.publish_topic("shop_views", Env::Test, "kafka_main"))
        .unwrap()
        .id;
    let other = ask(&place, "orders");
    let mut tui = place.app(&format!("dead-broker-{pg}"), "dana");
    let frame = run_keys(&mut tui, ":inbox<Enter>", 100, 30);
    assert!(frame.contains("create topic `shop_views`"), "{frame}");
    assert!(frame.contains("127.0.0.1:1"), "{frame}");

    // approve: the frame right after the key says what runs, the row is marked as such
    let started = std::time::Instant::now();
    let frame = run_keys(&mut tui, "a<Enter>", 100, 30);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the key waited for the broker"
    );
    assert!(
        frame.contains(&format!("approving #{publication}…")),
        "{frame}"
    );
    assert!(frame.contains(&format!("… #{publication}")), "{frame}");
    // keys are handled and frames drawn while it runs: the selection moves to the other
    // request and back, the spinner turns
    let spin = tui.spin;
    let moved = run_keys(&mut tui, "<Down>", 100, 30);
    assert!(moved.contains(&format!("#{other} permission")), "{moved}");
    assert!(moved.contains("daily report on orders"), "{moved}");
    assert!(
        moved.contains(&format!("approving #{publication}…")),
        "{moved}"
    );
    let back = run_keys(&mut tui, "wait 300\n<Up>", 100, 30);
    assert!(back.contains("create topic `shop_views`"), "{back}");
    assert_ne!(moved, back);
    assert!(tui.spin > spin, "the spinner did not turn");
    // a second decision waits for the first
    let refused = run_keys(&mut tui, "a", 100, 30);
    assert!(shows(&refused, "still approving"), "{refused}");

    // then the external error, with the data source and its address
    let frame = wait_for(&mut tui, "stays pending");
    assert!(
        shows(&frame, &format!("request #{publication} stays pending")),
        "{frame}"
    );
    assert!(
        shows(&frame, "kafka_main") && shows(&frame, "retry"),
        "{frame}"
    );
    assert!(!frame.contains("approving #"), "{frame}");
    assert!(frame.contains(&format!("  #{publication}")), "{frame}");

    // nothing recorded: still pending, no approval in the audit log, topic not moved
    let gov = place.gov("dana");
    let (r, _) = place.block_on(gov.request(publication)).unwrap();
    assert_eq!(r.state, RequestState::Pending);
    assert_eq!(approvals_of(&place, publication), 0);
    let topic = place.block_on(gov.topic("shop_views")).unwrap();
    assert_eq!(topic.state, weir_store::TopicState::PendingTest);
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
    approving_against_a_broker_that_does_not_answer,
);
