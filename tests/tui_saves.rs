//! Safe saves (issue 17): a save never overwrites a change made on disk without asking
//! (reload with the diff shown first, overwrite, or cancel), a save writes only what the
//! file had plus what was edited (an untouched job saves byte for byte, no default lines
//! appear), an open job and the tree notice changes on disk.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{run_keys, shows, test_env};
use weir::tui::action::Action;
use weir::tui::workbench::{Env, Workbench};

const W: u16 = 120;
const H: u16 = 36;

const JOB: &str = "clickstream_pv.ron";

fn file(app: &Workbench, rel: &str) -> String {
    std::fs::read_to_string(app.project.path_of(rel)).unwrap()
}

/// What another shell does: `sed -i 's/from/to/'` on the job file.
fn sed(app: &Workbench, rel: &str, from: &str, to: &str) {
    let text = file(app, rel);
    assert!(text.contains(from), "{from} in {text}");
    std::fs::write(app.project.path_of(rel), text.replacen(from, to, 1)).unwrap();
}

/// clickstream_pv open in the graph editor, its parallelism set to 4 and not saved.
fn edited(name: &str) -> Workbench {
    let mut app = test_env(name, Env::Test);
    app.apply(Action::OpenJob(JOB.into()));
    // the config form: parallelism 2 → 4, applied
    run_keys(
        &mut app,
        "g\n<Down><Down><Down><Down><Enter><BS>4<Enter>\n<C-s>\n",
        W,
        H,
    );
    assert!(app.screen().dirty(), "the edit is not saved yet");
    app
}

#[test]
fn a_save_after_a_change_on_disk_asks_and_cancel_keeps_both() {
    let mut app = edited("saves-cancel");
    sed(&app, JOB, "\"pv_minute\"", "\"pv_minute_v2\"");
    let theirs = file(&app, JOB);
    let frame = run_keys(&mut app, "<C-s>", W, H);
    assert_eq!(
        file(&app, JOB),
        theirs,
        "the other change is not overwritten"
    );
    assert!(shows(&frame, "changed on disk"), "{frame}");
    assert!(shows(&frame, "nothing saved"), "{frame}");
    // the diff: what a reload would change in the editor
    assert!(
        shows(&frame, "table: \"pv_minute\" → \"pv_minute_v2\""),
        "{frame}"
    );
    assert!(shows(&frame, "config.parallelism: 4 → 2"), "{frame}");
    assert!(shows(&frame, "r reload (drops your edits)"), "{frame}");
    assert_eq!(app.mode(), "CONFIRM");
    // Esc: nothing written, the edits stay
    let frame = run_keys(&mut app, "<Esc>", W, H);
    assert!(shows(&frame, "nothing saved"), "{frame}");
    assert_eq!(file(&app, JOB), theirs);
    assert!(app.screen().dirty());
    // and the next save asks again
    let frame = run_keys(&mut app, "<C-s>", W, H);
    assert!(shows(&frame, "changed on disk"), "{frame}");
    assert_eq!(file(&app, JOB), theirs);
}

#[test]
fn overwrite_writes_the_editors_job() {
    let mut app = edited("saves-overwrite");
    let before = file(&app, JOB);
    sed(&app, JOB, "\"pv_minute\"", "\"pv_minute_v2\"");
    let frame = run_keys(&mut app, "<C-s>o", W, H);
    assert!(shows(&frame, "saved jobs/clickstream_pv.ron"), "{frame}");
    assert!(!app.screen().dirty());
    assert_eq!(
        file(&app, JOB),
        before.replace("parallelism: 2", "parallelism: 4"),
        "the editor's job, over the file it read"
    );
    // the file is the editor's again: the next save needs no answer
    run_keys(&mut app, "<C-s>", W, H);
    assert_eq!(app.mode(), "NORMAL");
}

#[test]
fn reload_takes_the_change_on_disk_and_drops_the_edits() {
    let mut app = edited("saves-reload");
    sed(&app, JOB, "\"pv_minute\"", "\"pv_minute_v2\"");
    let theirs = file(&app, JOB);
    let frame = run_keys(&mut app, "<C-s>r", W, H);
    assert!(shows(&frame, "unsaved edits dropped"), "{frame}");
    assert!(!app.screen().dirty());
    // what the editor holds is the file: saving it changes nothing
    run_keys(&mut app, "<C-s>", W, H);
    assert_eq!(file(&app, JOB), theirs);
}

#[test]
fn a_change_on_disk_under_edits_is_said_and_reload_shows_it_first() {
    let mut app = edited("saves-noticed");
    sed(&app, JOB, "\"pv_minute\"", "\"pv_minute_v2\"");
    let theirs = file(&app, JOB);
    // a turn of the event loop notices it, and says so without touching anything
    let frame = run_keys(&mut app, "wait 150", W, H);
    assert!(
        shows(&frame, "changed on disk while you have unsaved edits"),
        "{frame}"
    );
    assert!(app.screen().dirty());
    // C-r shows what a reload changes before dropping anything; Esc keeps editing
    let frame = run_keys(&mut app, "<C-r>", W, H);
    assert!(shows(&frame, "config.parallelism: 4 → 2"), "{frame}");
    assert!(shows(&frame, "keep editing"), "{frame}");
    run_keys(&mut app, "<Esc>", W, H);
    assert!(app.screen().dirty());
    assert_eq!(file(&app, JOB), theirs);
    // the same again, and r reloads
    let frame = run_keys(&mut app, "<C-r>r", W, H);
    assert!(shows(&frame, "unsaved edits dropped"), "{frame}");
    assert!(!app.screen().dirty());
}

#[test]
fn a_change_on_disk_without_edits_is_reloaded_and_saved_as_is() {
    let mut app = test_env("saves-clean", Env::Test);
    app.apply(Action::OpenJob(JOB.into()));
    sed(&app, JOB, "\"pv_minute\"", "\"pv_minute_v2\"");
    let theirs = file(&app, JOB);
    let frame = run_keys(&mut app, "wait 150", W, H);
    assert!(
        shows(&frame, "jobs/clickstream_pv.ron changed on disk: reloaded"),
        "{frame}"
    );
    let frame = run_keys(&mut app, "<C-s>", W, H);
    assert!(shows(&frame, "saved jobs/clickstream_pv.ron"), "{frame}");
    assert_eq!(file(&app, JOB), theirs);
}

#[test]
fn a_job_deleted_on_disk_is_written_again_only_when_asked() {
    let mut app = edited("saves-deleted");
    std::fs::remove_file(app.project.path_of(JOB)).unwrap();
    let frame = run_keys(&mut app, "<C-s>", W, H);
    assert!(shows(&frame, "deleted or moved"), "{frame}");
    assert!(!app.project.path_of(JOB).exists());
    // nothing to reload: r does nothing, o writes the job again
    run_keys(&mut app, "r", W, H);
    assert!(!app.project.path_of(JOB).exists());
    run_keys(&mut app, "o", W, H);
    assert!(file(&app, JOB).contains("parallelism: 4"));
}

/// Every example job opened in the workbench and saved without an edit is the same file,
/// byte for byte; a save with one edit changes one line and adds no default.
#[test]
fn saves_change_only_what_was_edited() {
    let mut app = test_env("saves-examples", Env::Test);
    let jobs: Vec<String> = app
        .tree
        .entries
        .iter()
        .filter(|e| !e.is_folder)
        .map(|e| e.rel.clone())
        .collect();
    assert!(jobs.len() >= 4, "{jobs:?}");
    for rel in &jobs {
        let before = file(&app, rel);
        app.apply(Action::OpenJob(rel.clone()));
        let frame = run_keys(&mut app, "<C-s>", W, H);
        assert!(
            shows(&frame, &format!("saved jobs/{rel}")),
            "{rel}: {frame}"
        );
        assert_eq!(
            file(&app, rel),
            before,
            "{rel} changed by a save without edits"
        );
    }
    let mut app = edited("saves-one-line");
    let before = file(&app, JOB);
    run_keys(&mut app, "<C-s>", W, H);
    let after = file(&app, JOB);
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count(), "{after}");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(!after.contains("mode: Online"), "{after}");
    assert!(!after.contains("operation: Insert"), "{after}");
}

#[test]
fn the_tree_sees_a_job_copied_into_jobs() {
    let mut app = test_env("saves-tree", Env::Test);
    app.tree.select("iot_alerts.ron");
    let frame = run_keys(&mut app, "wait 150", W, H);
    assert!(!shows(&frame, "copied_pv"), "{frame}");
    std::fs::copy(
        app.project.path_of(JOB),
        app.project.path_of("copied_pv.ron"),
    )
    .unwrap();
    // the tree lists jobs/ again at most every 1.5 s
    let frame = run_keys(&mut app, "wait 1700", W, H);
    assert!(
        app.tree.entries.iter().any(|e| e.rel == "copied_pv.ron"),
        "{frame}"
    );
    assert!(frame.contains("copied_pv"), "{frame}");
    assert!(
        shows(&frame, "jobs/ changed on disk: new copied_pv.ron"),
        "{frame}"
    );
    assert_eq!(
        app.tree.current().map(|e| e.rel.as_str()),
        Some("iot_alerts.ron"),
        "the cursor stays on its entry"
    );
}
