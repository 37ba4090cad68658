//! The workbench's verdict is `weir validate`'s (issue 17, bug 1): a query naming a column
//! its input lacks (`urlx` in clickstream_pv's GROUP BY) is a problem in the SQL editor,
//! in the graph editor and on Home, not "SQL ok", "the job is valid" and "valid"; the
//! full check runs in the background and shows "checking…" until it is back.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{run_keys, shows, test_env, wait_for};
use weir::tui::workbench::Env;

const W: u16 = 160;
const H: u16 = 50;

#[test]
fn typing_an_unknown_column_in_the_sql_editor_shows_the_problem() {
    let mut app = test_env("validation-sql", Env::Test);
    // clickstream_pv, its Sql node, the SQL editor; to the end of the last line, `x`
    let frame = run_keys(&mut app, "<Enter><Down>s", W, H);
    assert!(shows(&frame, "SQL pv"), "{frame}");
    let frame = run_keys(&mut app, "<Down><Down><Down><Down><Down><End>x", W, H);
    assert!(shows(&frame, "checking…"), "the check is pending: {frame}");
    let frame = wait_for(
        &mut app,
        "No field named urlx",
        Duration::from_secs(20),
        W,
        H,
    );
    assert!(shows(&frame, "No field named urlx"), "{frame}");
    // at `urlx`: line 6 of the query, column 36
    assert!(shows(&frame, "6:36"), "{frame}");
    assert!(!shows(&frame, "SQL ok"), "{frame}");
    assert!(!frame.contains("__weir"), "{frame}");

    // applied to the job: the graph editor's verdict is the same
    let frame = run_keys(&mut app, "<C-s>", W, H);
    assert!(!shows(&frame, "the job is valid"), "{frame}");
    let frame = wait_for(&mut app, "✗ 1 problem", Duration::from_secs(20), W, H);
    assert!(shows(&frame, "✗ 1 problem"), "{frame}");
    assert!(shows(&frame, "urlx"), "{frame}");
}

#[test]
fn checking_in_the_sql_editor_asks_weir_validate_at_once() {
    let mut app = test_env("validation-check", Env::Test);
    let frame = run_keys(
        &mut app,
        "<Enter><Down>s<Down><Down><Down><Down><Down><End>x<C-k>",
        W,
        H,
    );
    assert!(shows(&frame, "No field named urlx"), "{frame}");
    assert!(!shows(&frame, "SQL ok"), "{frame}");
}

#[test]
fn home_shows_the_verdict_of_weir_validate() {
    let root = common::scratch_project("validation-home");
    let path = root.join("jobs/clickstream_pv.ron");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text.replace(
        "GROUP BY window_start, window_end, url\"#",
        "GROUP BY window_start, window_end, urlx\"#",
    );
    assert_ne!(text, broken);
    std::fs::write(&path, broken).unwrap();
    let mut app = weir::tui::workbench::Workbench::new(
        weir::app::project::Project { root },
        weir::tui::theme::Theme::default(),
        weir::tui::keymap::Keymap::defaults(),
        Env::Test,
        "tester".into(),
    );
    let frame = run_keys(&mut app, "", W, H);
    let row = frame
        .lines()
        .find(|l| l.contains("clickstream_pv") && l.contains("error"))
        .unwrap_or_else(|| panic!("clickstream_pv is not shown with an error: {frame}"));
    assert!(row.contains("1 error"), "{row}");
    // the graph editor opens with the same verdict, no "checking…" first
    let frame = run_keys(&mut app, "<Enter>", W, H);
    assert!(shows(&frame, "✗ 1 problem"), "{frame}");
}
