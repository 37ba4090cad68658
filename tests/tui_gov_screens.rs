//! Snapshots of the approval inbox and my requests (100x30 and 80x24), and of a
//! governance screen when the store cannot be opened. Request times are replaced by a
//! fixed stamp so that the snapshots do not depend on the clock.

mod common;

use common::place::Place;
use common::{run_keys, test_env};
use weir::tui::app::Env;
use weir_store::{Perm, PermissionRequestSpec, RequestFor, TableRef};

/// Frames with the clock taken out: `2026-12-02 01:23` / `…:45` → `YYYY-MM-DD hh:mm`.
fn stable(frame: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = frame.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 19)].iter().collect();
        let b = rest.as_bytes();
        let is_stamp = b.len() >= 16
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b' '
            && b[13] == b':';
        if is_stamp {
            let long = b.len() == 19 && b[16] == b':';
            out.push_str(if long {
                "YYYY-MM-DD hh:mm:ss"
            } else {
                "YYYY-MM-DD hh:mm"
            });
            i += if long { 19 } else { 16 };
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn ask(place: &Place, table: &str, columns: &[&str]) {
    let dev = place.gov("dev");
    place
        .block_on(dev.session.request_permission(&PermissionRequestSpec {
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
    let mut dana = place.app("snap-dana", "dana");
    let frame = run_keys(&mut dana, ":inbox<Enter>", 100, 30);
    insta::assert_snapshot!("inbox_100x30", stable(&frame));
    let frame = run_keys(&mut dana, "<Space>", 100, 30);
    insta::assert_snapshot!("inbox_marked_second_selected", stable(&frame));
    let frame = run_keys(&mut dana, "r\nplease narrow it", 100, 30);
    insta::assert_snapshot!("inbox_reject_opinion", stable(&frame));
    let frame = run_keys(&mut dana, "<Esc>A", 80, 24);
    insta::assert_snapshot!("inbox_bulk_confirm_80x24", stable(&frame));
    run_keys(&mut dana, "y", 100, 30);

    let mut dev = place.app("snap-dev", "dev");
    let frame = run_keys(&mut dev, ":requests<Enter>", 100, 30);
    insta::assert_snapshot!("requests_in_progress", stable(&frame));
    let frame = run_keys(&mut dev, "2", 100, 30);
    insta::assert_snapshot!("requests_finished", stable(&frame));
    let frame = run_keys(&mut dev, ":inbox<Enter>", 100, 30);
    insta::assert_snapshot!("inbox_as_developer", stable(&frame));
    place.cleanup();
}

#[test]
fn without_a_store_the_screens_say_why() {
    let mut app = test_env("gov-nostore", Env::Test);
    let frame = run_keys(&mut app, ":inbox<Enter>", 80, 24);
    insta::assert_snapshot!("inbox_without_store", frame);
}
