//! The job side of the workbench, on SQLite and on PostgreSQL: a developer submits
//! version 1 on the command line, edits the job file (the tree marks it modified), opens
//! it in the graph editor, submits version 2 with `:submit` (the CLI's `weir job
//! versions` lists it), opens `:versions` and diffs: the selected version against the
//! working file ("no changes"), then the two marked versions, whose diff view shows the
//! changed query, the added node and edge and the job-level change, at 80x24 and
//! 160x50 (snapshots, SQLite). A job locked by someone else opens read-only, names the
//! holder in the tree and the editor, and `L` `y` takes the lock over. `c` in `:versions`
//! checks a version out (the editor below reloads it); over edits that no version holds
//! it is refused and `C` `y` overwrites them.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::place::Place;
use common::{run_keys, shows, without_the_clock};
use weir::tui::action::Action;
use weir::tui::workbench::Workbench;

/// `weir ARGS` in the checkout at `root`, as `login` of the place's store.
fn weir(place: &Place, root: &Path, login: &str, args: &[&str]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weir"));
    cmd.current_dir(root)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("WEIR_PROJECT");
    match (&place.pg, &place.sqlite) {
        (Some(_), _) => {
            cmd.env("WEIR_DATABASE_URL", place.url(login))
                .env_remove("WEIR_STORE")
                .env_remove("WEIR_USER");
        }
        (None, Some(path)) => {
            cmd.env_remove("WEIR_DATABASE_URL")
                .env("WEIR_STORE", path)
                .env("WEIR_USER", login);
        }
        _ => unreachable!(),
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "weir {args:?} as {login}:\n{text}");
    text
}

/// A workbench as `login` on a checkout of store project `shop` (the seeded project).
fn app_of_shop(place: &Place, name: &str, login: &str) -> Workbench {
    let mut app = place.app(name, login);
    let root = app.project.root.clone();
    std::fs::create_dir_all(root.join(".weir")).unwrap();
    std::fs::write(root.join(".weir/project"), "shop\n").unwrap();
    // the tree's markers are read for the store project just named
    app.apply(Action::TreeChanged(None));
    // clickstream_pv reads topic clicks of the registered kafka_main: a submit checks
    // that the project may (mysql_report is not registered, so its sink is not governed)
    weir(
        place,
        &root,
        "root",
        &[
            "perm",
            "grant",
            "--table",
            "kafka_main.clicks",
            "--project",
            "shop",
            "--perms",
            "select",
        ],
    );
    app
}

/// A login as the tree shows it: at most 12 characters.
fn tag(login: &str) -> String {
    if login.chars().count() <= 12 {
        login.to_string()
    } else {
        format!("{}…", login.chars().take(11).collect::<String>())
    }
}

fn edit(root: &Path, job: &str, from: &str, to: &str) {
    let p = root.join("jobs").join(job);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{from} not in {job}");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

/// Let the event loop turn until the frame shows `text`: submits run in the background.
fn wait_for(app: &mut Workbench, text: &str, w: u16, h: u16) -> String {
    common::wait_for(app, text, Duration::from_secs(60), w, h)
}

/// The clock-free settings of the snapshots, also without the versions' ages (`3s`).
fn settings() -> insta::Settings {
    let mut s = without_the_clock();
    s.add_filter(r"\b\d{1,3}[smhd]\b", "<age>");
    s
}

fn submit_in_the_workbench_then_diff(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let mut app = app_of_shop(&place, &format!("versions-{pg}"), "dev");
    let root = app.project.root.clone();
    let out = weir(
        &place,
        &root,
        "dev",
        &["job", "submit", "clickstream_pv", "-m", "first"],
    );
    assert!(out.contains("version 1 ("), "{out}");
    // a new query column, more parallelism, a debug sink
    edit(
        &root,
        "clickstream_pv.ron",
        "COUNT(*) AS pv",
        "COUNT(*) AS page_views",
    );
    edit(
        &root,
        "clickstream_pv.ron",
        "parallelism: 2",
        "parallelism: 4",
    );
    edit(
        &root,
        "clickstream_pv.ron",
        "    ],\n    edges: [(\"clicks\", \"pv\"), (\"pv\", \"out\")],",
        "        PrintSink(id: \"debug\"),\n    ],\n    edges: [(\"clicks\", \"pv\"), (\"pv\", \"out\"), (\"pv\", \"debug\")],",
    );
    app.apply(Action::TreeChanged(None));
    let frame = run_keys(&mut app, "", 160, 50);
    assert!(frame.contains("clickstream_pv *"), "modified: {frame}");

    // open it, submit: the prompt wants a message, then version 2 in the status bar
    let frame = run_keys(&mut app, "<Enter>\n:submit<Enter>", 100, 30);
    assert!(frame.contains("submit shop/clickstream_pv"), "{frame}");
    let frame = run_keys(&mut app, "<Enter>", 100, 30);
    assert!(frame.contains("a submit needs a message"), "{frame}");
    run_keys(&mut app, "count page views<Enter>", 100, 30);
    let frame = wait_for(&mut app, "submitted version 2", 100, 30);
    assert!(
        shows(&frame, "submitted version 2 (") && shows(&frame, "of shop/clickstream_pv"),
        "{frame}"
    );
    let frame = run_keys(&mut app, "", 160, 50);
    assert!(frame.contains("clickstream_pv"), "{frame}");
    assert!(!frame.contains("clickstream_pv *"), "same as v2: {frame}");
    let listed: serde_json::Value = serde_json::from_str(&weir(
        &place,
        &root,
        "dev",
        &["job", "versions", "clickstream_pv", "--json"],
    ))
    .unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[1]["number"], 2);
    assert_eq!(listed[1]["message"], "count page views");
    assert_eq!(listed[1]["author"], place.who("dev").as_str());

    // submitting the same text again makes no new version and says so
    run_keys(&mut app, ":submit<Enter>again<Enter>", 100, 30);
    let frame = wait_for(&mut app, "no new version", 100, 30);
    assert!(
        shows(&frame, "no new version: the working file equals version 2"),
        "{frame}"
    );

    // :versions, newest first; d diffs the selected one against the working file
    let frame = run_keys(&mut app, ":versions<Enter>", 100, 30);
    assert!(
        frame.contains("versions · shop/clickstream_pv · 2"),
        "{frame}"
    );
    assert!(frame.contains("same as version 2"), "{frame}");
    assert!(
        frame.contains(&format!("you ({})", place.who("dev"))),
        "{frame}"
    );
    let first_row = frame.lines().position(|l| l.contains("count page views"));
    let second_row = frame.lines().position(|l| l.contains("first"));
    assert!(first_row < second_row, "newest first: {frame}");
    if !pg {
        let _clock = settings().bind_to_scope();
        insta::assert_snapshot!("versions_100x30", frame);
    }
    let frame = run_keys(&mut app, "d", 100, 30);
    assert!(
        frame.contains("no changes: both sides hold the same job"),
        "{frame}"
    );
    assert!(frame.contains("→ working file"), "{frame}");

    // mark both, d: version 1 → version 2
    let frame = run_keys(&mut app, "q<Space><Space>", 100, 30);
    assert!(frame.contains("2 marked"), "{frame}");
    let frame = run_keys(&mut app, "d", 80, 24);
    assert!(frame.contains("version 1 ("), "{frame}");
    assert!(frame.contains("→ version 2 ("), "{frame}");
    assert!(
        frame.contains("job 1"),
        "the job-level change is counted: {frame}"
    );
    let frame = run_keys(&mut app, "", 80, 24);
    if !pg {
        let _clock = settings().bind_to_scope();
        insta::assert_snapshot!("diff_80x24", frame);
    }
    // n walks the changes: the job first, then the query of pv, old and new lines
    assert!(frame.contains("config.parallelism: 2 → 4"), "{frame}");
    let frame = run_keys(&mut app, "n", 80, 24);
    assert!(frame.contains("~ pv  Sql  changed"), "{frame}");
    assert!(frame.contains("COUNT(*) AS page_views"), "{frame}");
    let frame = run_keys(&mut app, "n", 80, 24);
    assert!(frame.contains("+ debug  PrintSink  added"), "{frame}");
    let frame = run_keys(&mut app, "N", 160, 50);
    if !pg {
        let _clock = settings().bind_to_scope();
        insta::assert_snapshot!("diff_160x50", frame);
    }
    // side by side: the old line left, the new one right, on one row
    let row = frame
        .lines()
        .find(|l| l.contains("COUNT(*) AS page_views"))
        .unwrap();
    assert!(row.contains("COUNT(*) AS pv,"), "{frame}");
    // Esc closes the diff, then the versions
    let frame = run_keys(&mut app, "<Esc>", 100, 30);
    assert!(frame.contains("versions · shop/clickstream_pv"), "{frame}");
    let frame = run_keys(&mut app, "<Esc>", 100, 30);
    assert!(frame.contains("clickstream_pv"), "{frame}");
    assert!(!frame.contains("versions ·"), "{frame}");
    place.cleanup();
}

/// `c` checks a version out (the graph editor below reloads it, the tree marks the job
/// modified); over edits that no version holds `c` is refused and `C` `y` overwrites.
fn checkout_from_versions(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let mut app = app_of_shop(&place, &format!("checkout-{pg}"), "dev");
    let root = app.project.root.clone();
    let file = root.join("jobs/clickstream_pv.ron");
    weir(
        &place,
        &root,
        "dev",
        &["job", "submit", "clickstream_pv", "-m", "first"],
    );
    edit(
        &root,
        "clickstream_pv.ron",
        "COUNT(*) AS pv",
        "COUNT(*) AS page_views",
    );
    edit(
        &root,
        "clickstream_pv.ron",
        "    ],\n    edges: [(\"clicks\", \"pv\"), (\"pv\", \"out\")],",
        "        PrintSink(id: \"debug\"),\n    ],\n    edges: [(\"clicks\", \"pv\"), (\"pv\", \"out\"), (\"pv\", \"debug\")],",
    );
    weir(
        &place,
        &root,
        "dev",
        &["job", "submit", "clickstream_pv", "-m", "debug sink"],
    );

    // the editor shows version 2; c on version 1 writes it and the editor follows
    let frame = run_keys(&mut app, "<Enter>", 160, 50);
    assert!(frame.contains("debug"), "{frame}");
    run_keys(&mut app, ":versions<Enter>j", 160, 50);
    run_keys(&mut app, "c", 160, 50);
    let frame = wait_for(&mut app, "wrote version 1", 160, 50);
    assert!(shows(&frame, "wrote version 1 ("), "{frame}");
    assert!(frame.contains("clickstream_pv *"), "modified: {frame}");
    assert!(
        frame.contains("modified: differs from version 2"),
        "{frame}"
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("COUNT(*) AS pv,")
    );
    let frame = run_keys(&mut app, "<Esc>", 160, 50);
    assert!(frame.contains("KafkaSource"), "{frame}");
    assert!(
        !frame.contains("debug"),
        "the editor reloaded version 1: {frame}"
    );

    // edits no version holds: c is refused, C asks, y overwrites
    edit(
        &root,
        "clickstream_pv.ron",
        "parallelism: 2",
        "parallelism: 3",
    );
    run_keys(&mut app, ":versions<Enter>c", 160, 50);
    let frame = wait_for(&mut app, "C overwrites them", 160, 50);
    assert!(
        shows(
            &frame,
            "has edits that no version of shop/clickstream_pv holds"
        ),
        "{frame}"
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("parallelism: 3")
    );
    let frame = run_keys(&mut app, "C", 160, 50);
    assert!(
        frame.contains("overwrite jobs/clickstream_pv.ron with version 2"),
        "{frame}"
    );
    let frame = run_keys(&mut app, "n", 160, 50);
    assert!(shows(&frame, "nothing checked out"), "{frame}");
    run_keys(&mut app, "Cy", 160, 50);
    let frame = wait_for(&mut app, "wrote version 2", 160, 50);
    assert!(shows(&frame, "wrote version 2 ("), "{frame}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("page_views") && text.contains("parallelism: 2"),
        "{text}"
    );
    let frame = run_keys(&mut app, "<Esc>", 160, 50);
    assert!(frame.contains("debug"), "{frame}");
    place.cleanup();
}

fn a_job_locked_by_someone_else_is_read_only(pg: bool) {
    let place = Place::new(pg);
    place.seed();
    let mut app = app_of_shop(&place, &format!("locked-{pg}"), "dev");
    let root = app.project.root.clone();
    // pat (project admin of shop) submits first and so holds the lock
    weir(
        &place,
        &root,
        "pat",
        &["job", "submit", "clickstream_pv", "-m", "pat's"],
    );
    app.apply(Action::TreeChanged(None));
    let pat = place.who("pat");
    let frame = run_keys(&mut app, "", 160, 50);
    assert!(frame.contains(&format!(" [{}]", tag(&pat))), "{frame}");

    let frame = run_keys(&mut app, "<Enter>", 100, 30);
    assert!(frame.contains("READ-ONLY"), "{frame}");
    assert!(
        frame.contains(&format!("read-only · locked by {pat}")),
        "{frame}"
    );
    assert!(shows(&frame, "L take over lock from"), "{frame}");
    let frame = run_keys(&mut app, "a", 100, 30);
    assert!(
        shows(
            &frame,
            &format!("is locked by {pat}; L takes the lock over from {pat}")
        ),
        "{frame}"
    );
    let frame = run_keys(&mut app, ":submit<Enter>", 100, 30);
    assert!(shows(&frame, &format!("is locked by {pat}")), "{frame}");
    assert!(!frame.contains("message:"), "no prompt: {frame}");

    // L asks, anything but y keeps it; L y takes it over
    let frame = run_keys(&mut app, "L", 100, 30);
    assert!(shows(&frame, &format!("from {pat}? y takes it")), "{frame}");
    let frame = run_keys(&mut app, "n", 100, 30);
    assert!(
        shows(&frame, &format!("the edit lock stays with {pat}")),
        "{frame}"
    );
    run_keys(&mut app, "Ly", 100, 30);
    let frame = wait_for(&mut app, "took the edit lock", 100, 30);
    assert!(
        shows(
            &frame,
            &format!("took the edit lock of shop/clickstream_pv from {pat}")
        ),
        "{frame}"
    );
    // the editor reads the lock again on the next turn
    let frame = run_keys(&mut app, "wait 300", 100, 30);
    assert!(!frame.contains("READ-ONLY"), "{frame}");
    let frame = run_keys(&mut app, "", 160, 50);
    assert!(!frame.contains(&format!(" [{}]", tag(&pat))), "{frame}");
    // editable again: a opens the operator palette
    let frame = run_keys(&mut app, "a", 100, 30);
    assert!(frame.contains("ADD"), "{frame}");
    let status = weir(
        &place,
        &root,
        "dev",
        &["job", "status", "clickstream_pv", "--json"],
    );
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["lock"]["holder"], place.who("dev").as_str());
    place.cleanup();
}

macro_rules! both {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[test]
                fn sqlite() {
                    super::$case(false);
                }
                #[test]
                fn postgres() {
                    super::$case(true);
                }
            }
        )*
    };
}

both!(
    submit_in_the_workbench_then_diff,
    a_job_locked_by_someone_else_is_read_only,
    checkout_from_versions,
);
