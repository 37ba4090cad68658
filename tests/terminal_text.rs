//! Terminal escape injection (issue 15, item 4): names and free text with control
//! characters are refused at input with a clear message, and text planted in the store
//! behind weir's back (as a hostile peer with SQL access to a SQLite file could) is shown
//! escaped by `weir inbox`, `weir perm requests` and the workbench's inbox: no escape
//! sequence, carriage return, line break or bidirectional override reaches the terminal,
//! and no forged line appears.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::cli::Checkout;
use common::place::{Place, rt};
use common::{run_keys, shows, wait_for};
use weir_store::{Perm, PermissionRequestSpec, RequestFor, TableRef};

/// What a hostile peer plants: clear the screen, set the window title, forge a line,
/// reverse the text.
const CLEAR: &str = "\x1b[2J";
const TITLE: &str = "\x1b]0;title\x07";
const FORGED: &str = "\r\n#99  root  approved everything";
const REVERSE: &str = "\u{202e}";

/// No character in `text` that a terminal would obey, but the line breaks of its lines.
fn assert_inert(text: &str) {
    for (i, c) in text.chars().enumerate() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!bad, "raw {c:?} at character {i} of:\n{text}");
    }
}

fn sql(db: &std::path::Path, statement: &'static str, binds: &[&str]) {
    rt().block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let mut q = sqlx::query(statement);
        for b in binds {
            q = q.bind(b.to_string());
        }
        q.execute(&pool).await.unwrap();
        pool.close().await;
    });
}

/// A checkout with data admin dora and a MySQL data source `mysql_main`.
fn checkout(name: &str) -> Checkout {
    let c = Checkout::new(name);
    c.expect("root", &["user", "add", "dora", "--role", "data_admin"], 0);
    c.expect(
        "dora",
        &[
            "datasource",
            "add",
            "mysql_main",
            "--kind",
            "mysql",
            "--env",
            "test",
            "--test-address",
            "127.0.0.1:3306",
        ],
        0,
    );
    c
}

fn request(c: &Checkout, table: &str, reason: &str, code: i32) -> String {
    c.expect(
        "bob",
        &[
            "perm",
            "request",
            "--table",
            &format!("mysql_main.{table}"),
            "--for",
            "project:shop",
            "--perms",
            "select",
            "--reason",
            reason,
        ],
        code,
    )
}

#[test]
fn control_characters_are_refused_at_input_and_the_error_shows_them_escaped() {
    let c = checkout("ctl-input");
    let e = request(&c, &format!("ord{CLEAR}ers"), "reporting", 2);
    assert!(
        e.contains("table: `ord\\e[2Jers` holds an escape character (\\e) at character 4"),
        "{e}"
    );
    assert_inert(&e);
    let e = request(&c, "orders", TITLE, 2);
    assert!(
        e.contains("reason: the text holds an escape character (\\e) at character 1"),
        "{e}"
    );
    let e = request(&c, "orders", &format!("ok{FORGED}"), 2);
    assert!(
        e.contains("reason: the text holds a carriage return (\\r) at character 3"),
        "{e}"
    );
    let e = request(&c, "orders", &format!("abc{REVERSE}fed"), 2);
    assert!(
        e.contains("a bidirectional text control (\\u{202e})"),
        "{e}"
    );
    assert_inert(&e);
    // a reason may run over lines; an opinion too, but not with escapes
    let out = request(&c, "orders", "for the\nmonthly report", 0);
    assert_inert(&out);
    let id = c.json("bob", &["perm", "requests"])[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let e = c.expect("dora", &["reject", &id, "--opinion", CLEAR], 2);
    assert!(
        e.contains("opinion: the text holds an escape character"),
        "{e}"
    );
    let e = c.expect(
        "root",
        &["project", "create", "p2", "--description", TITLE],
        2,
    );
    assert!(e.contains("description: the text holds"), "{e}");
    let e = c.expect("root", &["project", "create", &format!("p{CLEAR}")], 2);
    assert!(e.contains("`p\\e[2J` contains `\\e`"), "{e}");
    assert_inert(&e);
    // the acting login itself (WEIR_USER on SQLite)
    let e = c.expect(&format!("mallory{CLEAR}"), &["whoami"], 2);
    assert!(
        e.contains("login: `mallory\\e[2J` holds an escape character"),
        "{e}"
    );
    assert_inert(&e);
}

#[test]
fn inbox_and_my_requests_show_planted_text_escaped_on_one_line() {
    let c = checkout("ctl-output");
    request(&c, "orders", "for the\nmonthly report", 0);
    let id = c.json("bob", &["perm", "requests"])[0]["id"]
        .as_i64()
        .unwrap();
    // what input refuses, planted behind weir's back
    let db = c.path(".weir/weir.db");
    let table = format!("ord{CLEAR}ers{TITLE}{FORGED}{REVERSE}");
    sql(
        &db,
        "UPDATE permission_requests SET table_name = ?1 WHERE request_id = ?2",
        &[&table, &id.to_string()],
    );
    let inbox = c.expect("dora", &["inbox"], 0);
    assert_inert(&inbox);
    assert!(
        inbox.contains(
            "select on mysql_main.ord\\e[2Jers\\e]0;title\\u{7}\\r\\n#99  root  approved everything\\u{202e} for project shop"
        ),
        "{inbox}"
    );
    assert_eq!(
        inbox.lines().count(),
        2,
        "a header and one request:\n{inbox}"
    );
    // --json is exact (serde escapes it) and keeps what was stored
    let json = c.json("dora", &["inbox"]);
    assert!(json[0]["summary"].as_str().unwrap().contains(&table));

    c.expect(
        "dora",
        &["reject", &id.to_string(), "--opinion", "not\nnow"],
        0,
    );
    sql(
        &db,
        "UPDATE requests SET opinion = ?1 WHERE id = ?2",
        &[&format!("no{CLEAR}{FORGED}"), &id.to_string()],
    );
    let mine = c.expect("bob", &["perm", "requests", "--all"], 0);
    assert_inert(&mine);
    assert!(
        mine.contains("no\\e[2J\\r\\n#99  root  approved everything"),
        "{mine}"
    );
    assert_eq!(mine.lines().count(), 2, "a header and one request:\n{mine}");
    assert!(!mine.lines().any(|l| l.starts_with("#99")), "{mine}");
}

#[test]
fn the_workbench_inbox_shows_planted_text_escaped() {
    let place = Place::new(false);
    place.seed();
    let dev = place.gov("dev");
    let made = place
        .block_on(dev.request_permission(&PermissionRequestSpec {
            target: TableRef::new("mysql_orders", "orders"),
            for_whom: RequestFor::Project("shop".into()),
            perms: vec![Perm::Select],
            columns: vec![],
            reason: "report".into(),
        }))
        .unwrap();
    let id = made[0].id.to_string();
    let db = place.sqlite.clone().unwrap();
    sql(
        &db,
        "UPDATE permission_requests SET table_name = ?1, reason = ?2 WHERE request_id = ?3",
        &[
            &format!("ord{CLEAR}ers{REVERSE}"),
            &format!("why{TITLE}{FORGED}"),
            &id,
        ],
    );
    let mut dana = place.app("ctl-dana", "dana");
    run_keys(&mut dana, ":inbox<Enter>", 160, 40);
    // the detail pane reads what approving would do in the background
    let frame = wait_for(
        &mut dana,
        "approving will",
        Duration::from_secs(20),
        160,
        40,
    );
    assert_inert(&frame);
    // the list row and the detail pane both show the escapes as text
    assert!(shows(&frame, "ord\\e[2Jers\\u{202e}"), "{frame}");
    assert!(
        shows(
            &frame,
            "why\\e]0;title\\u{7}\\r\\n#99  root  approved everything"
        ),
        "{frame}"
    );
    assert!(
        !frame
            .lines()
            .any(|l| l.contains("│#99") || l.contains("│ #99")),
        "{frame}"
    );

    // the requester reads the opinion of the rejection
    let dana_gov = place.gov("dana");
    place
        .block_on(dana_gov.reject(made[0].id, "not now"))
        .unwrap();
    sql(
        &db,
        "UPDATE requests SET opinion = ?1 WHERE id = ?2",
        &[&format!("no{CLEAR}{FORGED}"), &id],
    );
    let mut dev_app = place.app("ctl-dev", "dev");
    run_keys(&mut dev_app, ":requests<Enter>2", 160, 40);
    let frame = wait_for(
        &mut dev_app,
        "approved everything",
        Duration::from_secs(20),
        160,
        40,
    );
    assert_inert(&frame);
    assert!(
        shows(&frame, "no\\e[2J\\r\\n#99  root  approved everything"),
        "{frame}"
    );
}
