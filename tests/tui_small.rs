//! Every screen at 60x15 as well as at 80x24 and 160x50 (issue 17): insta snapshots of
//! Home, the tree, the graph editor, the SQL editor, the config form, versions, submit,
//! data sources, the catalog, my requests, the inbox, grants, releases, instances,
//! alerts, help and the palette, on a seeded SQLite store; a sweep that draws every one
//! of them at every size from 20x5 to 60x15 without a panic; and what a small terminal
//! needs to stay usable: key columns that stay, footers cut by whole hints ending with
//! `? more`, detail panes (and an instance's log) that scroll with a position marker, a
//! topic publication whose reason says what is asked, and a permission form that reports
//! every problem at once.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::fixtures::instance;
use common::place::Place;
use common::{run_keys, shows, test_env, without_the_clock};
use weir::app::instances::{Alert, AlertKind, InstanceDetail, LogLevel, LogLine};
use weir::app::instances::{InstanceRow, InstanceState, Trend};
use weir::tui::screens::instances::alerts::Alerts;
use weir::tui::screens::instances::clock::epoch_ms;
use weir::tui::screens::instances::list::Instances;
use weir::tui::screens::instances::view::InstanceView;
use weir::tui::workbench::{Env as WorkbenchEnv, Focus, Workbench};
use weir_store::{
    AlertState, DataSourceSpec, Env, Perm, PermissionRequestSpec, ProjectRole, RequestFor,
    TableRef, TopicField, TopicFormat, TopicSpec,
};

const SIZES: [(u16, u16); 3] = [(60, 15), (80, 24), (160, 50)];

/// Who looks at each screen, and the keys that open it.
const SCREENS: [(&str, &str, &str); 17] = [
    ("home", "dev", "<Tab>"),
    ("tree", "dev", ""),
    ("graph", "dev", "<Enter>"),
    ("sql", "dev", "<Enter><Down>s"),
    ("config", "dev", "<Enter>g"),
    ("versions", "dev", ":versions<Enter>"),
    ("submit", "dev", "<Enter>:submit<Enter>"),
    ("datasources", "dana", ":datasources<Enter>"),
    ("topics", "dev", ":topics<Enter>"),
    ("requests", "dev", ":requests<Enter>"),
    ("inbox", "dana", ":inbox<Enter>"),
    ("grants", "dana", ":grants<Enter>"),
    ("releases", "root", ":releases<Enter>"),
    ("instances", "dev", ""),
    ("alerts", "dev", ""),
    ("help", "dev", "?"),
    ("palette", "dev", ":gr"),
];

/// The seeded world with something in every list: dev asks for select and insert on
/// `mysql_orders.orders` for shop with a long reason, and for `customers` columns for
/// himself; he designs topic `orders_v2` and asks to publish it to test.
fn world() -> Place {
    let place = Place::new(false);
    place.seed();
    let (root, dana, dev) = (place.gov("root"), place.gov("dana"), place.gov("dev"));
    place.block_on(async {
        // the checkouts' project, so that :versions and :submit have one
        root.create_project("demo", "the demo project")
            .await
            .unwrap();
        root.add_member("demo", "dev", ProjectRole::Developer)
            .await
            .unwrap();
        root.closer().close().await;
        // mysql_orders at a port where nothing listens: the catalog says so at once
        // instead of listing whatever the machine's database holds
        let mut ds = dana.data_source("mysql_orders").await.unwrap();
        let spec = DataSourceSpec {
            name: ds.name.clone(),
            kind: ds.kind,
            env: ds.env,
            test: ds.test.take().map(|mut e| {
                e.address = "127.0.0.1:1".into();
                e
            }),
            prod: ds.prod.take(),
            user: ds.user.clone(),
            password: None,
            managed: ds.managed,
            owner_project: None,
            description: ds.description.clone(),
        };
        dana.update_data_source("mysql_orders", &spec)
            .await
            .unwrap();
        dana.closer().close().await;
        for (table, columns) in [("orders", vec![]), ("customers", vec!["id", "city"])] {
            dev.request_permission(&PermissionRequestSpec {
                target: TableRef::new("mysql_orders", table),
                for_whom: if columns.is_empty() {
                    RequestFor::Project("shop".into())
                } else {
                    RequestFor::Person
                },
                perms: vec![Perm::Select, Perm::Insert],
                columns: columns.iter().map(|c| c.to_string()).collect(),
                reason: format!(
                    "the weekly report on {table} for the finance team needs it, and the \
                     dashboard of the shop reads it every hour"
                ),
            })
            .await
            .unwrap();
        }
        dev.create_topic(&TopicSpec {
            name: "orders_v2".into(),
            project: "shop".into(),
            display_name: "orders_v2".into(),
            format: TopicFormat::Json,
            partitions: 3,
            lifecycle_days: 7,
            description: String::new(),
            fields: vec![TopicField {
                name: "order_id".into(),
                data_type: "bigint".into(),
                comment: "key".into(),
            }],
        })
        .await
        .unwrap();
        dev.publish_topic("orders_v2", Env::Test, "kafka_main")
            .await
            .unwrap();
        dev.closer().close().await;
    });
    place
}

/// The fixed clock of the monitoring screens.
fn now() -> i64 {
    epoch_ms("2026-12-07T12:10:00Z").unwrap()
}

/// Fixed instances for `:instances`: a running one with an alert, a failed one with a
/// long error.
fn instances_screen() -> Instances {
    let mut failed = instance(5, "shop/pv_hourly_with_a_long_name", InstanceState::Failed);
    failed.error = Some(
        "kafka_main at 127.0.0.1:1: connection refused; the broker did not answer in 30 s, \
         check that it runs and that the address is right, then restart the instance"
            .into(),
    );
    failed.stopped_at = Some("2026-12-07T11:58:00Z".into());
    let rows = vec![
        InstanceRow {
            instance: instance(7, "shop/clickstream_pv", InstanceState::Running),
            figures: None,
            trend: Trend::default(),
            firing: 1,
        },
        InstanceRow {
            instance: failed,
            figures: None,
            trend: Trend::default(),
            firing: 0,
        },
    ];
    Instances::from_rows(rows, now())
}

/// Fixed alerts for `:alerts`: one firing, one cleared.
fn alerts_screen() -> Alerts {
    let alert = |id: i64, state: AlertState, cleared: Option<&str>| Alert {
        id,
        instance: 7,
        job: "shop/clickstream_pv".into(),
        env: "test".into(),
        rule_id: Some(1),
        rule: "lag > 1000 records for 30s".into(),
        kind: AlertKind::Lag,
        state,
        value: Some(5200.0),
        message: "the lag of source clicks is 5200 records, above 1000 for 30 s; the \
                  consumers fall behind the producers"
            .into(),
        fired_at: "2026-12-07T12:09:00Z".into(),
        cleared_at: cleared.map(str::to_string),
    };
    Alerts::from_alerts(
        vec![
            alert(2, AlertState::Firing, None),
            alert(1, AlertState::Cleared, Some("2026-12-07T12:05:00Z")),
        ],
        now(),
    )
}

/// `login`'s workbench on the place (in a checkout named after `name`), showing
/// `screen` after `keys` drawn at `w`x`h`. The monitoring screens show fixed rows at a
/// fixed clock on a workbench without a store (which would read them again).
fn open(
    place: &Place,
    name: &str,
    (screen, login, keys): (&str, &str, &str),
    w: u16,
    h: u16,
) -> (Workbench, String) {
    let mut app = match screen {
        "instances" | "alerts" => {
            let mut app = test_env(&format!("small-{name}"), WorkbenchEnv::Test);
            if screen == "instances" {
                app.screens.push(Box::new(instances_screen()));
            } else {
                app.screens.push(Box::new(alerts_screen()));
            }
            app.focus = Focus::Main;
            app
        }
        _ => place.app(&format!("small-{name}"), login),
    };
    let mut frame = run_keys(&mut app, keys, w, h);
    // the catalog reads the tables of mysql_orders (refused at once) and those named in
    // grants and requests in the background: wait for both
    let end = Instant::now() + Duration::from_secs(20);
    while frame.contains("reading") && Instant::now() < end {
        frame = run_keys(&mut app, "wait 100", w, h);
    }
    (app, frame)
}

#[test]
fn every_screen_at_three_sizes() {
    let place = world();
    let _clock = without_the_clock().bind_to_scope();
    for s in SCREENS {
        for (w, h) in SIZES {
            let (_, frame) = open(&place, &format!("{}-{w}", s.0), s, w, h);
            insta::assert_snapshot!(format!("{}_{w}x{h}", s.0), frame);
        }
    }
}

#[test]
fn no_screen_panics_from_20x5_to_60x15() {
    let place = world();
    for s in SCREENS {
        let screen = s.0;
        let (mut app, _) = open(&place, &format!("sweep-{screen}"), s, 80, 24);
        for w in (20..=60).step_by(4) {
            for h in 5..=15 {
                let frame = run_keys(&mut app, "", w, h);
                assert_eq!(frame.lines().count(), h as usize, "{screen} at {w}x{h}");
            }
        }
    }
}

#[test]
fn the_inbox_keeps_its_key_columns_and_cuts_its_footer_by_whole_hints() {
    let place = world();
    let mut dana = place.app("small-inbox-keys", "dana");
    let frame = run_keys(&mut dana, ":inbox<Enter>", 60, 15);
    for text in ["#1", "#2", "requester", "dev"] {
        assert!(frame.contains(text), "{text} missing at 60x15:\n{frame}");
    }
    // the list scrolls to the third request, the detail follows it
    let frame = run_keys(&mut dana, "<Down><Down>", 60, 15);
    assert!(frame.contains("#3    dev"), "{frame}");
    assert!(frame.contains("#3 topic publication"), "{frame}");
    // the footer ends with `? more` and no hint is cut
    assert!(frame.contains("? more"), "{frame}");
    for cut in ["reques ", "filte ", "approve marke"] {
        assert!(!frame.contains(cut), "{cut} cut:\n{frame}");
    }
    let frame = run_keys(&mut dana, "", 160, 50);
    assert!(!frame.contains("? more"), "{frame}");
}

#[test]
fn detail_panes_scroll_with_a_marker() {
    let place = world();
    let mut dana = place.app("small-inbox-scroll", "dana");
    let mut frame = run_keys(&mut dana, ":inbox<Enter>", 60, 15);
    assert!(frame.contains("↓ 1-"), "no marker:\n{frame}");
    assert!(!shows(&frame, "approving will:"), "{frame}");
    for _ in 0..12 {
        if shows(&frame, "approving will:") {
            break;
        }
        frame = run_keys(&mut dana, "<PageDown>", 60, 15);
    }
    assert!(shows(&frame, "approving will:"), "{frame}");
    assert!(frame.contains("↑ ") || frame.contains("↕ "), "{frame}");
    let frame = run_keys(&mut dana, &"<C-u>".repeat(8), 60, 15);
    assert!(frame.contains("↓ 1-"), "back at the top:\n{frame}");
    // another request starts at the top of its detail
    let frame = run_keys(&mut dana, "<C-d><Down>", 60, 15);
    assert!(frame.contains("↓ 1-"), "{frame}");

    // my requests: the history is a page or two down
    let mut dev = place.app("small-requests-scroll", "dev");
    let mut frame = run_keys(&mut dev, ":requests<Enter>", 60, 15);
    for _ in 0..12 {
        if shows(&frame, "requested") && frame.contains("history") {
            break;
        }
        frame = run_keys(&mut dev, "<C-d>", 60, 15);
    }
    assert!(frame.contains("history"), "{frame}");
}

#[test]
fn a_topic_publication_says_what_is_asked_as_its_reason() {
    let place = world();
    let mut dana = place.app("small-publication", "dana");
    let frame = run_keys(&mut dana, ":inbox<Enter><Down><Down>", 160, 50);
    assert!(
        shows(&frame, "reason      publish topic orders_v2 to test"),
        "{frame}"
    );
}

#[test]
fn the_permission_form_reports_every_problem_at_once() {
    let place = world();
    let mut dev = place.app("small-perm-form", "dev");
    // the form opened from my requests on kafka_main, sent empty: every problem at once,
    // and a topic is offered select and insert only
    let frame = run_keys(&mut dev, ":requests<Enter>n<Enter>", 100, 30);
    for text in [
        "no topic given",
        "no permission chosen; a topic takes select, insert:",
        "no reason given",
        "3 problems",
    ] {
        assert!(shows(&frame, text), "{text} missing:\n{frame}");
    }
    assert!(!frame.contains("update"), "{frame}");
    // on the MySQL data source a table takes all four, and a reason alone is missing
    let frame = run_keys(
        &mut dev,
        "<Up><Right><Down>orders<Down><Down><Down><Space><Down>for the report<Enter>",
        100,
        30,
    );
    assert!(
        shows(&frame, "requested select on mysql_orders.orders"),
        "{frame}"
    );
}

#[test]
fn the_log_of_an_instance_scrolls() {
    let detail = InstanceDetail {
        instance: instance(7, "shop/clickstream_pv", InstanceState::Running),
        text: include_str!("../jobs/clickstream_pv.ron").into(),
        history: Vec::new(),
        log: (0..30)
            .map(|i| LogLine {
                id: i,
                instance: 7,
                at: format!("2026-12-07T12:08:{i:02}Z"),
                level: LogLevel::Info,
                message: format!("checkpoint {i} done"),
            })
            .collect(),
        alerts: Vec::new(),
    };
    let mut app = test_env("small-instance-log", WorkbenchEnv::Test);
    app.screens
        .push(Box::new(InstanceView::from_detail(detail, now())));
    app.focus = Focus::Main;
    let frame = run_keys(&mut app, "", 80, 24);
    assert!(frame.contains("log · ↓ 1-"), "{frame}");
    let frame = run_keys(&mut app, "<PageDown><C-d>", 80, 24);
    assert!(
        frame.contains("log · ↕ ") || frame.contains("log · ↑ "),
        "{frame}"
    );
    let frame = run_keys(&mut app, &"<PageUp>".repeat(10), 80, 24);
    assert!(frame.contains("log · ↓ 1-"), "{frame}");
}
