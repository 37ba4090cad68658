//! Snapshots of the approval inbox and my requests (100x30 and 80x24), and of a
//! governance screen when the store cannot be opened. Request times are replaced by a
//! fixed stamp (insta filters, `common::without_the_clock`) so that the snapshots do not
//! depend on the clock.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::place::Place;
use common::{run_keys, test_env, wait_for, without_the_clock};
use weir::tui::workbench::Env;
use weir_store::{Perm, PermissionRequestSpec, RequestFor, TableRef};

fn ask(place: &Place, table: &str, columns: &[&str]) {
    let dev = place.gov("dev");
    place
        .block_on(dev.request_permission(&PermissionRequestSpec {
            target: TableRef::new("mysql_orders", table),
            for_whom: if columns.is_empty() {
                RequestFor::Project("shop".into())
            } else {
                RequestFor::Person
            },
            perms: vec![Perm::Select, Perm::Insert],
            columns: columns.iter().map(|c| c.to_string()).collect(),
            reason: format!("report on {table}"),
        }))
        .unwrap();
}

#[test]
fn inbox_and_requests_screens() {
    let place = Place::new(false);
    place.seed();
    ask(&place, "orders", &[]);
    ask(&place, "customers", &["id", "city"]);
    let _clock = without_the_clock().bind_to_scope();
    let mut dana = place.app("snap-dana", "dana");
    let frame = run_keys(&mut dana, ":inbox<Enter>", 100, 30);
    insta::assert_snapshot!("inbox_100x30", frame);
    let frame = run_keys(&mut dana, "<Space>", 100, 30);
    insta::assert_snapshot!("inbox_marked_second_selected", frame);
    let frame = run_keys(&mut dana, "r\nplease narrow it", 100, 30);
    insta::assert_snapshot!("inbox_reject_opinion", frame);
    let frame = run_keys(&mut dana, "<Esc>A", 80, 24);
    insta::assert_snapshot!("inbox_bulk_confirm_80x24", frame);
    run_keys(&mut dana, "y", 100, 30);
    // the approvals run in the background; the developer's screens show them done
    let done = wait_for(&mut dana, "approved #1", Duration::from_secs(20), 100, 30);
    assert!(done.contains("inbox 1"), "{done}");

    let mut dev = place.app("snap-dev", "dev");
    let frame = run_keys(&mut dev, ":requests<Enter>", 100, 30);
    insta::assert_snapshot!("requests_in_progress", frame);
    let frame = run_keys(&mut dev, "2", 100, 30);
    insta::assert_snapshot!("requests_finished", frame);
    let frame = run_keys(&mut dev, ":inbox<Enter>", 100, 30);
    insta::assert_snapshot!("inbox_as_developer", frame);
    place.cleanup();
}

#[test]
fn without_a_store_the_screens_say_why() {
    let mut app = test_env("gov-nostore", Env::Test);
    let frame = run_keys(&mut app, ":inbox<Enter>", 80, 24);
    insta::assert_snapshot!("inbox_without_store", frame);
}
