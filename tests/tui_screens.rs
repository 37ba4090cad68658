//! Snapshots of every screen and overlay of the workbench at 80x24 and 160x50, drawn on
//! ratatui's TestBackend through the same view code as the terminal.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{run_keys, test_env};
use weir::tui::workbench::Env;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 50)];

/// Snapshot the frame after `keys` at both sizes.
fn snap(name: &str, keys: &str) {
    for (w, h) in SIZES {
        let mut app = test_env(&format!("{name}-{w}"), Env::Test);
        let frame = run_keys(&mut app, keys, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), frame);
    }
}

#[test]
fn home() {
    snap("home", "<Tab>");
}

#[test]
fn tree_filter() {
    snap("tree_filter", "/risk");
}

#[test]
fn palette() {
    snap("palette", ":gr");
}

#[test]
fn help() {
    snap("help", "?");
}

#[test]
fn new_job_prompt() {
    snap("new_job_prompt", "norders");
}

#[test]
fn confirm_delete() {
    snap("confirm_delete", "<Down>d");
}

#[test]
fn graph_of_each_example() {
    for (i, job) in [
        "clickstream_pv",
        "ecommerce_features",
        "iot_alerts",
        "risk_control",
    ]
    .iter()
    .enumerate()
    {
        let keys = format!("{}<Enter>", "<Down>".repeat(i));
        snap(&format!("graph_{job}"), &keys);
    }
}

#[test]
fn prod_skin() {
    for (w, h) in SIZES {
        let mut app = test_env(&format!("prod-{w}"), Env::Prod);
        let frame = run_keys(&mut app, "<Enter>", w, h);
        assert!(frame.contains("PRODUCTION"), "{frame}");
        assert!(frame.contains("env prod"));
        insta::assert_snapshot!(format!("prod_{w}x{h}"), frame);
    }
}

#[test]
fn node_form() {
    snap("node_form", "<Enter><Enter>");
}

#[test]
fn node_form_with_inline_errors() {
    // topic "1bad" breaks the topic name rule; `0ms` is not a RON value (eight rows
    // down from the topic: table … lenient, event_time, watermark_ms)
    snap(
        "node_form_errors",
        "<Enter><Enter><Down><Down><Enter><BS><BS><BS><BS><BS><BS>1bad<Enter><Down><Down><Down><Down><Down><Down><Down><Down><Enter><BS>ms<Enter>",
    );
}

#[test]
fn config_form() {
    snap("config_form", "<Enter>g");
}

#[test]
fn add_node_palette() {
    snap("add_node", "<Enter>asi");
}

#[test]
fn connect_mode() {
    snap("connect", "<Enter>c");
}

#[test]
fn sql_editor() {
    snap("sql_editor", "<Enter><Down>s<C-k>");
}

#[test]
fn sql_templates() {
    snap("sql_templates", "<Enter><Down>s<C-t>");
}

#[test]
fn problems_panel() {
    snap("problems", "<Enter>d");
}
