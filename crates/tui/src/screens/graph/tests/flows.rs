//! Building a job from nothing, connecting, deleting, saving and reloading.

use super::*;
use crate::jobfile;
use crate::model::{Node, OPERATOR_KINDS};
use crate::workbench::Env;

#[test]
fn build_a_pipeline_from_nothing_and_save_it() {
    let mut r = Rig::new("pipeline");
    assert!(r.screen.job.nodes.is_empty());
    assert!(r.frame(60, 22).contains("an empty job"));
    r.keys("akafka<Enter>");
    assert_eq!(r.screen.mode(), "FORM");
    assert!(
        !r.row_problems("topic").is_empty(),
        "an empty topic is a problem"
    );
    r.keys("<Down><Enter>kafka_main<Enter><Down><Enter>clicks<Enter>");
    assert!(
        r.row_problems("topic").is_empty(),
        "{:?}",
        r.row_problems("topic")
    );
    r.keys("<C-s>");
    assert_eq!(r.screen.mode(), "NORMAL", "{:?}", r.last);
    r.keys("asql<Enter><Down><Enter>SELECT * FROM kafkasource_1<Enter><C-s>");
    r.keys("ajdbc<Enter><Down><Enter>mysql_main<Enter><Down><Down><Enter>orders<Enter><C-s>");
    let ids: Vec<&str> = r.screen.job.nodes.iter().map(Node::id).collect();
    assert_eq!(ids, ["kafkasource_1", "sql_1", "jdbcsink_1"]);
    r.select("kafkasource_1");
    r.keys("c");
    assert_eq!(r.screen.mode(), "CONNECT");
    r.select("sql_1");
    r.keys("<Enter>");
    r.select("sql_1");
    r.keys("c");
    r.select("jdbcsink_1");
    r.keys("<Enter>");
    assert_eq!(r.screen.job.edges.len(), 2, "{:?}", r.last);
    assert!(r.screen.dirty());
    let errors: Vec<&str> = r
        .screen
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    r.keys("<C-s>");
    assert!(!r.screen.dirty());
    assert_eq!(
        r.last.as_ref().map(|l| l.0),
        Some(Level::Ok),
        "{:?}",
        r.last
    );
    let path = r.project.path_of("orders.ron");
    let checked = jobfile::check_file(&path);
    assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, jobfile::to_ron(checked.job.as_ref().unwrap()));
    let job = checked.job.unwrap();
    let Node::KafkaSource(k) = &job.nodes[0] else {
        panic!()
    };
    assert_eq!(
        (k.datasource.as_str(), k.topic.as_str()),
        ("kafka_main", "clicks")
    );
    let Node::JdbcSink(j) = &job.nodes[2] else {
        panic!()
    };
    assert_eq!(j.table, "orders");
}

/// The key flow of the report, through the whole app (tree, keymap, overlays).
pub(super) const FLOW: &str = "akafka<Enter><Down><Enter>kafka_main<Enter><Down><Enter>clicks<Enter><C-s>\
    asql<Enter><Down><Enter>SELECT * FROM kafkasource_1<Enter><C-s>\
    <Left>c<Right><Enter>\
    ajdbc<Enter><Down><Enter>mysql_main<Enter><Down><Down><Enter>orders<Enter><C-s>\
    <Down>c<Right><Enter><C-s>";

#[test]
fn the_key_flow_works_through_the_app() {
    let (project, rel) = project("app");
    let path = project.path_of(&rel);
    let mut app = Workbench::new(
        project,
        Theme::default(),
        Keymap::defaults(),
        Env::Test,
        "tester".into(),
    );
    app.apply(Action::OpenJob(rel));
    for k in parse_keys(FLOW).unwrap() {
        app.handle_key(k);
        app_frame(&mut app, 80, 24);
    }
    let checked = jobfile::check_file(&path);
    assert!(
        checked.diagnostics.is_empty(),
        "{:?} / {:?}",
        checked.diagnostics,
        app.status
    );
    let job = checked.job.unwrap();
    assert_eq!(
        job.edges,
        [
            ("kafkasource_1".to_string(), "sql_1".to_string()),
            ("sql_1".to_string(), "jdbcsink_1".to_string())
        ]
    );
    assert!(!app.screen().dirty());
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .1
            .starts_with("saved jobs/orders.ron")
    );
    let mut frame = app_frame(&mut app, 80, 24);
    assert!(frame.contains("edge sql_1 → jdbcsink_1"), "{frame}");
    // the full check (`weir validate`'s) runs in the background after the last edit, and
    // says what `weir validate` says of this job: its source has no `fields` (offline)
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while frame.contains("checking…") && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(50));
        app.tick();
        frame = app_frame(&mut app, 80, 24);
    }
    assert!(frame.contains("✗ 1 problem"), "{frame}");
    assert!(frame.contains("declares no `fields`"), "{frame}");
    let wide = app_frame(&mut app, 160, 50);
    assert!(wide.contains("jdbcsink_1"), "{wide}");
}

#[test]
fn delete_node_removes_its_edges() {
    let mut r = Rig::with_kafka("delete");
    r.keys("<Esc>asql<Enter><Esc>aprint<Enter><Esc>");
    r.select("kafkasource_1");
    r.keys("c");
    r.select("sql_1");
    r.keys("<Enter>");
    r.select("sql_1");
    r.keys("c");
    r.select("printsink_1");
    r.keys("<Enter>");
    r.screen.job.positions.insert("sql_1".into(), (1, 2));
    assert_eq!(r.screen.job.edges.len(), 2);
    r.select("sql_1");
    r.keys("d");
    assert!(r.screen.job.edges.is_empty());
    assert!(r.screen.job.positions.is_empty());
    assert!(r.screen.job.node("sql_1").is_none());
    assert!(r.last.as_ref().unwrap().1.contains("2 edges"));
}

#[test]
fn connect_refuses_duplicates_and_self_loops() {
    let mut r = Rig::with_kafka("dup");
    r.keys("<Esc>asql<Enter><Esc>");
    r.select("kafkasource_1");
    r.keys("c");
    r.keys("<Enter>");
    assert!(r.last.as_ref().unwrap().1.contains("itself"));
    assert_eq!(r.screen.mode(), "CONNECT");
    r.select("sql_1");
    r.keys("<Enter>");
    assert_eq!(r.screen.job.edges.len(), 1);
    r.select("kafkasource_1");
    r.keys("c");
    r.select("sql_1");
    r.keys("<Enter>");
    assert!(r.last.as_ref().unwrap().1.contains("already"));
    assert_eq!(r.screen.job.edges.len(), 1);
    r.keys("<Esc>");
    assert_eq!(r.screen.mode(), "NORMAL");
    // edges are selected in file order, shown as from → to, and disconnect removes them
    r.keys("e");
    assert_eq!(r.screen.sel, Selection::Edge(0));
    assert!(r.screen.crumbs().last().unwrap().contains('→'));
    assert!(r.frame(58, 22).contains("edge kafkasource_1 → sql_1"));
    r.keys("x");
    assert!(r.screen.job.edges.is_empty());
}

#[test]
fn reload_drops_edits() {
    let mut r = Rig::with_kafka("reload");
    r.keys("<Esc>");
    assert!(r.screen.dirty());
    r.keys("<C-r>");
    assert!(!r.screen.dirty());
    assert!(r.screen.job.nodes.is_empty());
    assert!(r.last.as_ref().unwrap().1.contains("unsaved edits dropped"));
}

#[test]
fn saving_an_invalid_job_says_how_many_problems() {
    let mut r = Rig::with_kafka("invalid");
    r.keys("<Esc><C-s>");
    let (level, msg) = r.last.clone().unwrap();
    assert_eq!(level, Level::Warning);
    assert!(msg.contains("problem"), "{msg}");
    let saved = std::fs::read_to_string(r.project.path_of("orders.ron")).unwrap();
    assert_eq!(saved, jobfile::to_ron(&r.screen.job));
    r.keys("v");
    assert!(matches!(r.screen.mode, Mode::Problems { .. }));
    let screen = r.frame(58, 22);
    assert!(screen.contains("`datasource` is empty"), "{screen}");
    r.keys("<Esc>");
    assert_eq!(r.screen.mode(), "NORMAL");
}

#[test]
fn every_kind_can_be_added_and_edited_without_panic() {
    let mut r = Rig::new("kinds");
    let keys = "<Up><Down><Left><Right><Enter>x<BS><Home><End><Del><C-s><Tab><Esc><Esc>";
    for (kind, _) in OPERATOR_KINDS {
        r.perform("add-node");
        r.keys(&format!("{kind}<Enter>"));
        assert_eq!(r.screen.mode(), "FORM", "{kind}");
        let names: Vec<&str> = r.form().rows.iter().map(|row| row.name).collect();
        assert_eq!(
            Some(names.as_slice()),
            jobfile::fields::operator_fields(kind)
        );
        r.frame(58, 22);
        r.frame(126, 48);
        r.keys(keys);
        r.keys("<Esc><Esc>");
        assert_eq!(r.screen.mode(), "NORMAL", "{kind}");
    }
    assert_eq!(r.screen.job.nodes.len(), 14);
    // every key in every mode, drawn large and tiny
    let all = "abcdegsvxEjk:/?<Enter><Esc><Up><Down><Left><Right><C-s><Tab><BS>";
    for mode_keys in ["", "c", "a", "<Enter>", "g", "v", "e", "<Enter><Enter>"] {
        for k in parse_keys(all).unwrap() {
            r.keys(mode_keys);
            r.keys(&k.notation());
            r.frame(58, 22);
            r.frame(20, 5);
            r.keys("<Esc><Esc><Esc>");
        }
    }
}

#[test]
fn the_canvas_scrolls_to_the_selection() {
    let mut r = Rig::new("scroll");
    for _ in 0..8 {
        r.keys("aprint<Enter><Esc>");
    }
    assert!(r.screen.layout.width > 60);
    r.select("printsink_8");
    let frame = r.frame(60, 22);
    assert!(frame.contains("printsink_8"), "{frame}");
    assert!(!frame.contains("printsink_1 "), "{frame}");
    assert!(frame.contains('◂'), "{frame}");
    r.keys("<Left><Left><Left><Left><Left><Left><Left>");
    let frame = r.frame(60, 22);
    assert!(frame.contains("printsink_1"), "{frame}");
    assert!(frame.contains('▸'), "{frame}");
}
