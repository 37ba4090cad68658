//! The diff view's selection, keys and layouts, drawn on a TestBackend.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use weir_app::jobs::Side;
use weir_model::diff::diff_texts;

use super::union::tests::{NEW, OLD, job};
use super::*;
use crate::keymap::Keymap;
use weir_app::project::Project;

fn report(a: &str, b: &str) -> JobDiffReport {
    JobDiffReport {
        job: "shop/pv".into(),
        a: Side {
            label: "version 1 (aaaaaaaaaaaa)".into(),
            hash: "a".repeat(64),
        },
        b: Side {
            label: "working file".into(),
            hash: "b".repeat(64),
        },
        diff: diff_texts(a, b).unwrap(),
        new_job: None,
    }
}

fn draw(s: &mut DiffScreen, w: u16, h: u16) -> String {
    let theme = Theme::default();
    let keymap = Keymap::defaults();
    let project = Project {
        root: std::env::temp_dir(),
    };
    let cx = Context {
        project: &project,
        theme: &theme,
        keymap: &keymap,
        store: None,
    };
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| s.render(f, f.area(), &cx, true)).unwrap();
    crate::headless::frame_text(term.backend().buffer())
}

fn act(s: &mut DiffScreen, action: &str) -> Outcome {
    let theme = Theme::default();
    let keymap = Keymap::defaults();
    let project = Project {
        root: std::env::temp_dir(),
    };
    let cx = Context {
        project: &project,
        theme: &theme,
        keymap: &keymap,
        store: None,
    };
    s.perform(action, &cx)
}

#[test]
fn n_and_n_step_through_the_changes_in_reading_order() {
    let mut s = DiffScreen::with_new_job(report(OLD, NEW), Some(&job(NEW)));
    assert_eq!(s.selected_node(), Some("agg"));
    let mut seen = vec![s.selected_node().unwrap_or("edges").to_string()];
    for _ in 0..4 {
        act(&mut s, "next-change");
        seen.push(s.selected_node().unwrap_or("edges").to_string());
    }
    assert_eq!(seen[0], "agg");
    assert!(seen.contains(&"old_out".to_string()), "{seen:?}");
    assert_eq!(seen[4], "edges");
    act(&mut s, "next-change");
    assert_eq!(s.selected_node(), Some("agg"), "wraps around");
    act(&mut s, "prev-change");
    assert_eq!(s.selected(), Some(Stop::Edges));
    // j/k walk every node, unchanged ones too: from the edges j starts at the top
    act(&mut s, "next-node");
    assert_eq!(s.selected_node(), Some("src"));
    act(&mut s, "prev-node");
    assert_eq!(s.selected_node(), Some("src"));
    act(&mut s, "down");
    assert_eq!(s.selected_node(), Some("agg"));
    assert_eq!(act(&mut s, "close"), Outcome::Action(Action::Back));
    assert_eq!(act(&mut s, "nope"), Outcome::Ignored);
}

#[test]
fn narrow_panes_stack_wide_ones_put_texts_side_by_side() {
    let mut s = DiffScreen::with_new_job(report(OLD, NEW), Some(&job(NEW)));
    let narrow = draw(&mut s, 60, 40);
    assert!(
        narrow.contains("version 1 (aaaaaaaaaaaa) → working file"),
        "{narrow}"
    );
    assert!(narrow.contains("~1 changed"), "{narrow}");
    assert!(narrow.contains("-   1 SELECT k"), "{narrow}");
    assert!(narrow.contains("+   1 SELECT k, 1 AS n"), "{narrow}");
    assert!(narrow.contains("change 1 of 5  n/N change"), "{narrow}");
    let wide = draw(&mut s, 130, 40);
    let row = wide
        .lines()
        .find(|l| l.contains("SELECT k, 1 AS n"))
        .unwrap();
    assert!(
        row.contains("   1-SELECT k ") && row.contains(" │    1+SELECT k, 1 AS n"),
        "{wide}"
    );
}

#[test]
fn an_empty_diff_says_no_changes() {
    let mut s = DiffScreen::with_new_job(report(OLD, OLD), Some(&job(OLD)));
    let text = draw(&mut s, 60, 30);
    assert!(
        text.contains("no changes: both sides hold the same job"),
        "{text}"
    );
    assert!(text.contains("no changes  n/N change"), "{text}");
    assert!(text.contains("KafkaSource"), "the job is drawn: {text}");
    assert!(matches!(
        act(&mut s, "next-change"),
        Outcome::Action(Action::Status(Level::Info, m)) if m.contains("no changes")
    ));
}

#[test]
fn job_level_changes_are_a_stop() {
    let new = NEW.replace("name: \"pv\"", "name: \"pv2\"");
    let mut s = DiffScreen::with_new_job(report(OLD, &new), decode(&new).as_ref());
    assert_eq!(s.selected(), Some(Stop::Job));
    let text = draw(&mut s, 60, 30);
    assert!(text.contains("job-level changes"), "{text}");
    assert!(text.contains("name: \"pv\" → \"pv2\""), "{text}");
}
