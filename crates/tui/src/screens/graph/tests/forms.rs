//! The parameter and config forms, and the SQL editor.

use super::*;
use crate::model::Node;
use crate::screens::graph::form::Target;

#[test]
fn form_shows_inline_errors_per_row() {
    let mut r = Rig::with_kafka("inline");
    r.set_row("topic", "\"1bad\"");
    let p = r.row_problems("topic");
    assert!(
        p.iter().any(|m| m.contains("must start with a letter")),
        "{p:?}"
    );
    // not RON at all, and the wrong type: both rows show their own problem at once
    r.set_row("datasource", "\"unclosed");
    r.set_row("watermark_ms", "lots");
    let ds = r.row_problems("datasource");
    assert!(ds.iter().any(|m| m.contains("not a RON value")), "{ds:?}");
    let wm = r.row_problems("watermark_ms");
    assert!(!wm.is_empty(), "{wm:?}");
    // the bad rows keep their text; apply refuses
    assert_eq!(r.form().rows[1].text, "\"unclosed");
    r.keys("<C-s>");
    assert_eq!(r.screen.mode(), "FORM");
    assert_eq!(r.last.as_ref().unwrap().0, Level::Error);
    let screen = r.frame(58, 22);
    assert!(screen.contains("not a RON value"), "{screen}");
    // fixing them lets it apply; the topic rule still shows in the job's problems
    r.set_row("datasource", "\"kafka_main\"");
    r.set_row("watermark_ms", "5000");
    r.keys("<C-s>");
    assert_eq!(r.screen.mode(), "NORMAL", "{:?}", r.last);
    let Node::KafkaSource(k) = &r.screen.job.nodes[0] else {
        panic!()
    };
    assert_eq!((k.topic.as_str(), k.watermark_ms), ("1bad", 5000));
    assert!(
        r.screen
            .diagnostics
            .iter()
            .any(|d| d.message.contains("1bad"))
    );
}

#[test]
fn values_show_as_weir_fmt_prints_them() {
    let mut r = Rig::new("values");
    r.keys("ajdbc<Enter>");
    let text = |r: &Rig, n: &str| {
        r.form()
            .rows
            .iter()
            .find(|row| row.name == n)
            .unwrap()
            .text
            .clone()
    };
    assert_eq!(text(&r, "on_error"), "Retry(max: 3, backoff_ms: 200)");
    assert_eq!(text(&r, "database"), "", "absent optional fields are empty");
    r.set_row("database", "\"shop\"");
    r.keys("<C-s><Enter>");
    assert_eq!(text(&r, "database"), "Some(\"shop\")");
}

#[test]
fn esc_asks_before_discarding_rows_and_cancels_an_edit() {
    let mut r = Rig::with_kafka("esc");
    r.keys("<Down><Enter>abc<Esc>");
    assert_eq!(r.form().rows[1].text, "\"\"");
    assert!(r.last.as_ref().unwrap().1.contains("cancelled"));
    r.keys("<Enter>abc<Enter><Esc>");
    assert_eq!(r.screen.mode(), "FORM", "one Esc only warns");
    r.keys("<Esc>");
    assert_eq!(r.screen.mode(), "NORMAL");
    let Node::KafkaSource(k) = &r.screen.job.nodes[0] else {
        panic!()
    };
    assert_eq!(k.datasource, "");
}

#[test]
fn renaming_a_node_moves_its_edges() {
    let mut r = Rig::with_kafka("rename");
    r.keys("<Esc>aprint<Enter><Esc>");
    r.select("kafkasource_1");
    r.keys("c");
    r.select("printsink_1");
    r.keys("<Enter>");
    r.select("kafkasource_1");
    r.keys("<Enter>");
    r.set_row("id", "\"clicks\"");
    r.keys("<C-s>");
    assert_eq!(r.screen.job.edges[0].0, "clicks");
    // an id taken by another node is refused
    r.keys("<Enter>");
    r.set_row("id", "\"printsink_1\"");
    r.keys("<C-s>");
    assert!(r.last.as_ref().unwrap().1.contains("taken"));
}

#[test]
fn config_form_edits_name_and_config() {
    let mut r = Rig::new("config");
    r.keys("g");
    assert_eq!(r.form().target, Target::Config);
    r.set_row("parallelism", "4");
    r.set_row("time", "Event");
    r.set_row("description", "\"orders per minute\"");
    r.keys("<C-s>");
    assert_eq!(r.screen.mode(), "NORMAL", "{:?}", r.last);
    assert_eq!(r.screen.job.config.parallelism, 4);
    assert_eq!(r.screen.job.description, "orders per minute");
    r.keys("g");
    r.set_row("parallelism", "-1");
    assert!(!r.row_problems("parallelism").is_empty());
    r.set_row("name", "");
    assert!(!r.row_problems("name").is_empty(), "name is required");
}

#[test]
fn sql_editor_opens_on_a_sql_node() {
    let mut r = Rig::new("sql");
    r.keys("asql<Enter><Esc>");
    r.keys("s");
    assert_eq!(r.screen.mode(), "SQL");
    assert_eq!(r.screen.context(), "sql");
    assert!(r.screen.captures_text());
    r.keys("SELECT 1");
    r.keys("<C-s>");
    assert_eq!(r.screen.mode(), "NORMAL", "{:?}", r.last);
    let Node::Sql(s) = &r.screen.job.nodes[0] else {
        panic!()
    };
    assert!(s.query.contains("SELECT 1"), "{:?}", s.query);
    assert!(r.screen.dirty());
    r.keys("s<Esc>");
    assert_eq!(r.screen.mode(), "NORMAL");
}

#[test]
fn wide_and_narrow_frames() {
    let mut r = Rig::with_kafka("frames");
    r.set_row("topic", "\"1bad\"");
    let narrow = r.frame(60, 22);
    assert!(narrow.contains("topic*"), "{narrow}");
    assert!(narrow.contains("it must start"), "{narrow}");
    r.keys("<C-s>");
    let wide = r.frame(128, 48);
    assert!(wide.contains("KafkaSource"), "{wide}");
    assert!(wide.contains("problem"), "{wide}");
}
