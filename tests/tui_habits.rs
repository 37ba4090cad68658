//! The workbench's terminal habits and its memory (issue 17): C-c and C-q quit from
//! anywhere with the unsaved-changes guard, the readline keys in the palette and in
//! form fields, a string field edited without its quotes, Esc back along the screens
//! opened, `:reload` and `R` read the tree again, C-w hides or widens the tree, help
//! lists only keys that work, every message is kept whole in `:messages` (with the time
//! of the workbench's clock) while the status bar cuts it with a marker, and a decision
//! on my request reaches me as a notification on whatever screen is open; C-c cancels
//! an approval that waits on a broker.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::place::Place;
use common::{run_keys, shows, test_env};
use weir::tui::action::{Action, Level};
use weir::tui::workbench::{Env, TreeView, Workbench};
use weir_store::{
    Env as StoreEnv, GrantList, GrantSpec, Grantee, Perm, PermissionRequestSpec, RequestFor,
    RequestState, TableRef, TopicFormat, TopicSpec,
};

fn app(name: &str) -> Workbench {
    test_env(name, Env::Test)
}

/// 2026-01-01T12:34:56Z.
fn pinned() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_270_896)
}

#[test]
fn ctrl_c_quits_with_the_unsaved_guard_also_over_the_palette() {
    let mut a = app("habits-cc");
    // an edit not saved: the first C-c only warns, even with the palette open
    run_keys(&mut a, "<Enter>\n/jdbc<Enter>\nd", 100, 30);
    let frame = run_keys(&mut a, ":<C-c>", 100, 30);
    assert!(!a.quit);
    assert!(shows(&frame, "C-c again quits without saving"), "{frame}");
    assert!(!frame.contains("commands"), "the palette closed: {frame}");
    run_keys(&mut a, "<C-c>", 100, 30);
    assert!(a.quit, "a second C-c right after the first quits");

    // C-q while the palette is open, nothing unsaved: quits at once
    let mut b = app("habits-cq");
    run_keys(&mut b, ":", 100, 30);
    run_keys(&mut b, "<C-q>", 100, 30);
    assert!(b.quit);
}

#[test]
fn readline_keys_edit_the_palette() {
    let mut a = app("habits-readline");
    let frame = run_keys(&mut a, ":no such thing<C-w><C-w>", 100, 30);
    assert!(frame.contains(":no "), "{frame}");
    run_keys(&mut a, "<C-u>inbox<C-a><C-k>:<C-e>inbox<Enter>", 100, 30);
    assert_eq!(a.screen().name(), "inbox");
}

#[test]
fn a_string_field_is_edited_without_its_quotes() {
    let mut a = app("habits-string");
    // the config form's first row is the job's name, a string
    let frame = run_keys(&mut a, "<Enter>\ng\n<Enter><C-u>debug<Enter>", 100, 30);
    assert!(frame.contains("\"debug\""), "{frame}");
    assert!(!frame.contains("\"debug\"\""), "{frame}");
    // typed with its quotes, it is taken as it is
    let frame = run_keys(&mut a, "<Enter><C-u>\"debug2\"<Enter>", 100, 30);
    assert!(frame.contains("\"debug2\""), "{frame}");
    assert!(!frame.contains("\"\\\"debug2"), "{frame}");
    // editing again starts from the text, not from inside the quotes
    let frame = run_keys(&mut a, "<Enter>x<Enter>", 100, 30);
    assert!(frame.contains("\"debug2x\""), "{frame}");
}

#[test]
fn esc_goes_back_along_the_screens_opened() {
    let mut a = app("habits-back");
    run_keys(&mut a, "<Enter>", 100, 30);
    assert_eq!(a.screen().name(), "graph");
    run_keys(
        &mut a,
        ":inbox<Enter>\n:requests<Enter>\n:topics<Enter>",
        100,
        30,
    );
    assert_eq!(a.screen().name(), "topics");
    run_keys(&mut a, "<Esc>", 100, 30);
    assert_eq!(a.screen().name(), "requests");
    run_keys(&mut a, "<Esc>", 100, 30);
    assert_eq!(a.screen().name(), "inbox");
    run_keys(&mut a, "<Esc>", 100, 30);
    assert_eq!(a.screen().name(), "graph");
    run_keys(&mut a, "<Esc>", 100, 30);
    assert_eq!(a.screen().name(), "home");
}

#[test]
fn reload_and_r_read_the_tree_again() {
    let mut a = app("habits-reload");
    // a first frame: the tree's own poll has just looked
    run_keys(&mut a, "", 100, 30);
    let jobs = a.project.root.join("jobs");
    std::fs::copy(jobs.join("iot_alerts.ron"), jobs.join("copied_one.ron")).unwrap();
    run_keys(&mut a, ":reload<Enter>", 100, 30);
    assert!(
        a.tree.entries.iter().any(|e| e.rel.contains("copied_one")),
        "{:?}",
        a.tree.entries
    );
    std::fs::remove_file(jobs.join("copied_one.ron")).unwrap();
    run_keys(&mut a, "R", 100, 30);
    assert!(!a.tree.entries.iter().any(|e| e.rel.contains("copied_one")));
}

/// How many boxes start on the first row below the breadcrumbs, and the column of the
/// second one.
fn boxes(frame: &str) -> (usize, Option<usize>) {
    let row: Vec<char> = frame.lines().nth(1).unwrap_or("").chars().collect();
    let starts: Vec<usize> = (0..row.len()).filter(|&i| row[i] == '┌').collect();
    (starts.len(), starts.get(1).copied())
}

#[test]
fn ctrl_w_hides_widens_and_shows_the_tree() {
    let mut a = app("habits-tree");
    let frame = run_keys(&mut a, "", 100, 30);
    assert_eq!(boxes(&frame), (2, Some(25)), "{frame}");
    let frame = run_keys(&mut a, "<C-w>", 100, 30);
    assert_eq!(a.tree_view, TreeView::Hidden);
    assert_eq!(boxes(&frame).0, 1, "{frame}");
    let frame = run_keys(&mut a, "<C-w>", 100, 30);
    assert_eq!(boxes(&frame), (2, Some(50)), "{frame}");
    let frame = run_keys(&mut a, "<C-w>", 100, 30);
    assert_eq!(boxes(&frame), (2, Some(25)), "{frame}");
    // Tab to a hidden tree shows it
    run_keys(&mut a, "<C-w>", 100, 30);
    run_keys(&mut a, "<Tab>", 100, 30);
    assert_eq!(a.tree_view, TreeView::Shown);
}

#[test]
fn help_lists_only_the_keys_that_work_here() {
    let mut a = app("habits-help");
    let frame = run_keys(&mut a, ":inbox<Enter>\n?", 120, 50);
    // without a store the inbox says why, with the tree's keys
    assert!(frame.contains("keys: "), "{frame}");
    assert!(!frame.contains("save the job"), "{frame}");
    assert!(!frame.contains("reload the job"), "{frame}");
    assert!(frame.contains("quit weir"), "{frame}");
    let frame = run_keys(&mut a, "<Esc><Esc>\n<Enter>\n?", 120, 50);
    assert!(frame.contains("save the job"), "{frame}");
}

#[test]
fn every_message_is_kept_whole_and_the_status_bar_says_so() {
    let mut a = app("habits-messages");
    a.set_clock(Some(pinned()));
    let long = "a".repeat(30) + " " + &"b".repeat(30) + " " + &"c".repeat(30);
    // an unknown command names what was typed: too long for one row at 60 columns
    let frame = run_keys(&mut a, &format!(":{long}<Enter>"), 60, 11);
    let status = frame.lines().last().unwrap_or_default().to_string();
    assert!(status.ends_with("… :messages"), "{frame}");
    assert!(!status.contains("cccc"), "{frame}");
    let frame = run_keys(&mut a, ":messages<Enter>", 100, 30);
    assert!(shows(&frame, &format!("no command `{long}`")), "{frame}");
    assert!(frame.contains("12:34:56 ✗ no command"), "{frame}");
    assert_eq!(a.messages().len(), 1);
    // two messages before a key: the bar shows the last and counts the other
    run_keys(&mut a, "<Esc>", 100, 30);
    a.apply(Action::Status(Level::Error, "first".into()));
    a.apply(Action::Status(Level::Info, "second".into()));
    let frame = run_keys(&mut a, "", 100, 30);
    assert!(frame.contains("second [+1 :messages]"), "{frame}");
    assert_eq!(a.messages().len(), 3);
    let frame = run_keys(&mut a, ":messages<Enter>", 100, 30);
    let second = frame.find("· second").unwrap();
    let first = frame.find("✗ first").unwrap();
    assert!(second < first, "newest first: {frame}");
}

#[test]
fn the_messages_overlay() {
    let mut a = app("habits-messages-snap");
    a.set_clock(Some(pinned()));
    a.apply(Action::Status(
        Level::Info,
        "saved jobs/iot_alerts.ron".into(),
    ));
    a.apply(Action::Status(
        Level::Error,
        "request #7 stays pending: cannot create topic 'orders' on kafka_main (127.0.0.1:19092): the broker did not answer within 5 s; check that it runs, then approve again".into(),
    ));
    let frame = run_keys(&mut a, ":messages<Enter>", 80, 24);
    insta::assert_snapshot!(frame);
}

fn ask(place: &Place) -> i64 {
    let dev = place.gov("dev");
    let made = place
        .block_on(dev.request_permission(&PermissionRequestSpec {
            target: TableRef::new("mysql_orders", "orders"),
            for_whom: RequestFor::Project("shop".into()),
            perms: vec![Perm::Select],
            columns: Vec::new(),
            reason: "daily report".into(),
        }))
        .unwrap();
    made[0].id
}

/// On SQLite (polled) and PostgreSQL (LISTEN/NOTIFY); the overlay's snapshot on SQLite.
fn a_decision_on_my_request_reaches_me(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let mut dev = place.app("habits-notice-dev", "dev");
    dev.set_clock(Some(pinned()));
    let id = ask(&place);
    // the change feed brings the request in (no notice: it is mine and pending)
    let frame = common::wait_for(&mut dev, "mine 1", Duration::from_secs(20), 120, 30);
    assert!(frame.contains("mine 1"), "{frame}");
    assert!(dev.notifications().is_empty());
    run_keys(&mut dev, "<Enter>", 120, 30);
    assert_eq!(dev.screen().name(), "graph");

    let dana = place.gov("dana");
    place.block_on(dana.approve(id, "looks fine")).unwrap();
    let text = format!("your request #{id} was approved by {}", place.who("dana"));
    let frame = common::wait_for(&mut dev, &text, Duration::from_secs(20), 120, 30);
    assert!(shows(&frame, &text), "{frame}");
    assert!(frame.contains("✉ 1"), "{frame}");
    assert_eq!(dev.screen().name(), "graph", "the screen stays");
    let frame = run_keys(&mut dev, ":notifications<Enter>", 120, 30);
    assert!(shows(&frame, "“looks fine”"), "{frame}");
    assert!(frame.contains("12:34:56 ✓ your request"), "{frame}");
    assert!(!frame.contains("✉ 1"), "read now: {frame}");
    assert_eq!(dev.notifications().len(), 1);
    if !pg {
        let frame = run_keys(&mut dev, "", 80, 24);
        insta::assert_snapshot!("a_decision_on_my_request_reaches_me_on_any_screen", frame);
    }
    // a data admin puts me on a whitelist directly: that reaches me too
    run_keys(&mut dev, "<Esc>", 120, 30);
    place
        .block_on(dana.set_grants(&GrantSpec {
            list: GrantList::Whitelist,
            tables: vec![TableRef::new("mysql_orders", "items")],
            grantees: vec![Grantee::User(place.who("dev"))],
            perms: vec![Perm::Select],
            columns: Vec::new(),
        }))
        .unwrap();
    let text = format!(
        "{} granted you select on mysql_orders.items",
        place.who("dana")
    );
    let frame = common::wait_for(&mut dev, &text, Duration::from_secs(20), 120, 30);
    assert!(shows(&frame, &text), "{frame}");
    assert!(frame.contains("✉ 1"), "{frame}");
    assert_eq!(dev.notifications().len(), 2);
    place.cleanup();
}

#[test]
fn a_decision_on_my_request_reaches_me_on_any_screen() {
    a_decision_on_my_request_reaches_me(false);
}

#[test]
fn a_decision_on_my_request_reaches_me_on_postgres_too() {
    a_decision_on_my_request_reaches_me(true);
}

/// C-c while an approval waits on a broker that does not answer: the approval stops at
/// once, the workbench stays open and says what became of the request, which is still
/// pending in the store.
#[test]
fn ctrl_c_cancels_an_approval_that_waits_on_a_broker() {
    let place = Place::new(false);
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
    // kafka_main's test address is a port nothing listens on
    let id = place
        .block_on(dev.publish_topic("shop_views", StoreEnv::Test, "kafka_main"))
        .unwrap()
        .id;
    let mut dana = place.app("habits-cancel", "dana");
    run_keys(&mut dana, ":inbox<Enter>", 120, 30);
    let frame = run_keys(&mut dana, "a<Enter>", 120, 30);
    assert!(
        frame.contains(&format!("approving #{id}… (C-c cancels)")),
        "{frame}"
    );
    let started = std::time::Instant::now();
    run_keys(&mut dana, "<C-c>", 120, 30);
    assert!(!dana.quit, "C-c cancelled the work instead of quitting");
    let text = format!("#{id} was running when you cancelled (C-c)");
    let frame = common::wait_for(&mut dana, &text, Duration::from_secs(10), 120, 30);
    assert!(shows(&frame, &text), "{frame}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the cancel waited for the broker"
    );
    assert!(!frame.contains("C-c cancels"), "{frame}");
    let (r, _) = place.block_on(dev.request(id)).unwrap();
    assert_eq!(r.state, RequestState::Pending);
    // nothing runs now: C-c quits again
    run_keys(&mut dana, "<C-c>", 120, 30);
    assert!(dana.quit);
    place.cleanup();
}

/// The status bar's rows of a frame.
fn status_rows(frame: &str, rows: usize) -> String {
    let lines: Vec<&str> = frame.lines().collect();
    lines[lines.len().saturating_sub(rows)..].join("\n")
}

#[test]
fn the_status_bar_cuts_a_long_message_and_counts_replaced_ones() {
    let mut a = app("habits-status-bar");
    let long = "request #7 stays pending: cannot create topic 'orders' on kafka_main (127.0.0.1:19092): the broker did not answer within 5 s; check that it runs, then approve again";
    a.apply(Action::Status(Level::Error, long.into()));
    // 60x15: two rows, cut at a blank with the way to the whole message
    let frame = run_keys(&mut a, "", 60, 15);
    insta::assert_snapshot!("status_cut_60x15", status_rows(&frame, 2));
    // 80x24: room for all of it; no key since the first: two earlier messages counted
    a.apply(Action::Status(
        Level::Info,
        "saved jobs/iot_alerts.ron".into(),
    ));
    a.apply(Action::Status(Level::Error, long.into()));
    let frame = run_keys(&mut a, "", 80, 24);
    insta::assert_snapshot!("status_whole_80x24", status_rows(&frame, 3));
}
