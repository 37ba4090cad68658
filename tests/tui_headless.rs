//! Headless key scripts (tests/scripts/*.txt) run through the same event path as the
//! terminal, each on its own copy of the example project. A script with a
//! `NAME.expected.ron` beside it saves `jobs/NAME.ron`, which must equal that file and
//! validate.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::scratch_project;
use weir::app::project::Project;
use weir::app::store_link::StoreLink;
use weir::jobfile;
use weir::tui::headless::{Headless, parse_script};
use weir::tui::keymap::Keymap;
use weir::tui::theme::Theme;
use weir::tui::workbench::{Env, Workbench};

/// The shipped scripts, sorted.
fn shipped_scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    scripts
}

/// Run the shipped script at `path` on `app` (on the project at `root`) at `w`x`h`; a
/// script with a `NAME.expected.ron` beside it must have saved that text, valid.
fn check_script(path: &Path, app: &mut Workbench, root: &Path, (w, h): (u16, u16), who: &str) {
    let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
    let text = std::fs::read_to_string(path).unwrap();
    let script = parse_script(&text).unwrap_or_else(|e| panic!("{stem}: {e:?}"));
    let mut hl = Headless::new(w, h, None).unwrap();
    if let Err(f) = hl.run(app, &script) {
        panic!("{stem}.txt:{}: (as {who} at {w}x{h}) {}", f.line, f.message);
    }
    let expected = path.with_file_name(format!("{stem}.expected.ron"));
    if expected.exists() {
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("# saves: "))
            .expect("a `# saves: jobs/X.ron` line");
        let saved = std::fs::read_to_string(root.join(name.trim()))
            .unwrap_or_else(|e| panic!("{stem}: {name}: {e}"));
        assert_eq!(
            saved,
            std::fs::read_to_string(&expected).unwrap(),
            "{stem}: saved job differs"
        );
        let checked = jobfile::check_source(name, &saved);
        let report: Vec<String> = checked.diagnostics.iter().map(|d| d.render()).collect();
        assert!(
            !checked.has_errors(),
            "{stem}: saved job is invalid:\n{}",
            report.join("\n")
        );
    }
}

#[test]
fn every_script_passes() {
    for path in shipped_scripts() {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let root = scratch_project(&format!("script-{stem}"));
        let mut app = Workbench::new(
            Project { root: root.clone() },
            Theme::default(),
            Keymap::defaults(),
            Env::Test,
            "tester".into(),
        );
        check_script(&path, &mut app, &root, (80, 24), "tester");
    }
}

/// Issue 17, bug 6: at 80x24 the status bar wraps a message after the user's name, so a
/// script passed or failed by the length of the name of whoever ran it. Every shipped
/// script runs as two users whose names differ in length, each on a store of the
/// project's own (the status bar then also shows the role and the counters), as `weir
/// tui --script` runs them.
#[test]
fn every_script_passes_for_any_user_at_80x24() {
    for user in ["al", "bartholomew-longname"] {
        for path in shipped_scripts() {
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            let root = scratch_project(&format!("{user}-{stem}"));
            let url = format!("sqlite://{}", root.join(".weir/weir.db").display());
            let mut app = Workbench::new(
                Project { root: root.clone() },
                Theme::default(),
                Keymap::defaults(),
                Env::Test,
                user.into(),
            );
            app.attach_store(StoreLink::open(&url, user).unwrap());
            assert!(app.user.starts_with(user), "{}", app.user);
            check_script(&path, &mut app, &root, (80, 24), user);
        }
    }
}

/// `user NAME` opens the store link again as NAME before the first frame, so the
/// workbench acts as the script says, whoever runs it.
#[test]
fn a_user_line_acts_as_that_user() {
    let root = scratch_project("user-line");
    let url = format!("sqlite://{}", root.join(".weir/weir.db").display());
    let mut app = Workbench::new(
        Project { root: root.clone() },
        Theme::default(),
        Keymap::defaults(),
        Env::Test,
        "tester".into(),
    );
    app.attach_store(StoreLink::open(&url, "tester").unwrap());
    let script = parse_script("user dora\nexpect-line 1 \"demo\"\n").unwrap();
    let mut hl = Headless::new(80, 24, None).unwrap();
    let report = hl.run_report(&mut app, &script);
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.met, 1);
    assert_eq!(app.store.as_ref().unwrap().login(), "dora");
    assert!(app.user.starts_with("dora"), "{}", app.user);
    // without a store the name is only shown
    let mut bare = common::test_env("user-line-bare", Env::Test);
    let report = hl.run_report(&mut bare, &script);
    assert!(report.passed(), "{report:?}");
    assert_eq!(bare.user, "dora");
}

/// `clock TIME` pins the workbench's clock before the first frame: the message log
/// stamps what was said with it, whenever the script runs.
#[test]
fn a_clock_line_pins_the_time_of_messages() {
    let mut app = common::test_env("clock-line", Env::Test);
    let script = parse_script(
        "clock 2026-01-01T13:01:02Z\nnfresh<Enter>\nexpect \"created jobs/fresh.ron\"\n:messages<Enter>\nexpect \"13:01:02\"\n",
    )
    .unwrap();
    let mut hl = Headless::new(80, 24, None).unwrap();
    let report = hl.run_report(&mut app, &script);
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.met, 2);
}

/// A report goes on after a failed expectation and counts them all; `run` stops at the
/// first.
#[test]
fn a_report_counts_every_expectation() {
    let mut app = common::test_env("report", Env::Test);
    let script = parse_script(
        "expect \"clickstream_pv\"\nexpect \"no such text\"\nexpect-line 99 \"x\"\n<Down>\nexpect \"demo\"\n",
    )
    .unwrap();
    let mut hl = Headless::new(80, 24, None).unwrap();
    let report = hl.run_report(&mut app, &script);
    assert_eq!(report.met, 2, "{report:?}");
    assert_eq!(
        report.failed.iter().map(|f| f.line).collect::<Vec<_>>(),
        [2, 3]
    );
    assert!(
        report.failed[1]
            .message
            .starts_with("\"x\" is not on row 99: the screen has 24 rows"),
        "{}",
        report.failed[1].message
    );
    assert_eq!(report.frames, 2, "the first frame and one after <Down>");
    let mut app = common::test_env("report-stop", Env::Test);
    let mut hl = Headless::new(80, 24, None).unwrap();
    assert_eq!(hl.run(&mut app, &script).unwrap_err().line, 2);
}

#[test]
fn cli_headless_dumps_frames_and_fails_on_expect() {
    let root = scratch_project("cli-headless");
    let script = root.join("s.txt");
    std::fs::write(
        &script,
        "expect \"clickstream_pv\"\n<Down>\nexpect \"no such text\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "tui", "--script", "s.txt", "--dump", "frames", "--size", "100x30",
        ])
        .current_dir(&root)
        .env("WEIR_CONFIG_DIR", root.join("no-config"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a failed expect exits 1");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "s.txt:3: \"no such text\" is not on screen (frame 0001, 100x30); the screen shows:"
        ),
        "{err}"
    );
    let frames: Vec<_> = std::fs::read_dir(root.join("frames")).unwrap().collect();
    assert_eq!(frames.len(), 2, "the first frame and one after <Down>");
    let first = std::fs::read_to_string(root.join("frames/0000.txt")).unwrap();
    assert_eq!(first.lines().count(), 30);
    assert!(first.lines().all(|l| l.chars().count() <= 100));

    std::fs::write(&script, "wait x\n<Nope>\n").unwrap();
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["tui", "--script", "s.txt"])
        .current_dir(&root)
        .env("WEIR_CONFIG_DIR", root.join("no-config"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    // one wording for every script error: FILE:LINE: what is wrong; what to do
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("s.txt:1: wait's `x` is not milliseconds; "),
        "{err}"
    );
    assert!(
        lines[1].starts_with("s.txt:2: unknown key `<Nope>`; "),
        "{err}"
    );
}

/// `weir tui` with a store in the scratch project, as `user` (WEIR_USER), in `root`.
fn weir_tui(root: &Path, user: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(root)
        .env("WEIR_CONFIG_DIR", root.join("no-config"))
        .env("WEIR_USER", user)
        .env_remove("WEIR_DATABASE_URL")
        .env_remove("WEIR_STORE")
        .output()
        .unwrap()
}

/// `--json` prints a summary of a headless run: frames, expectations met and failed,
/// each failure with its script line; it goes on after a failed expectation.
#[test]
fn cli_json_summary_lists_every_failed_expectation() {
    let root = scratch_project("cli-json");
    std::fs::write(
        root.join("s.txt"),
        "# a comment\nexpect \"clickstream_pv\"\nexpect \"no such text\"\n<Down>\nexpect-line 1 \"demo\"\nexpect-line 2 \"nowhere\"\n",
    )
    .unwrap();
    let out = weir_tui(&root, "dora", &["tui", "--script", "s.txt", "--json"]);
    assert_eq!(out.status.code(), Some(1), "failed expectations exit 1");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["script"], "s.txt");
    assert_eq!(v["size"], "80x24");
    assert_eq!(v["frames"], 2);
    assert_eq!(v["expectations"]["met"], 2, "{v}");
    assert_eq!(v["expectations"]["failed"], 2, "{v}");
    assert_eq!(v["failures"][0]["line"], 3);
    assert_eq!(v["failures"][0]["text"], "expect \"no such text\"");
    assert_eq!(v["failures"][1]["line"], 6);
    assert!(
        v["failures"][1]["message"]
            .as_str()
            .unwrap()
            .starts_with("\"nowhere\" is not on row 2: row 2 is"),
        "{v}"
    );
    // passing: exit 0, nothing failed
    std::fs::write(root.join("ok.txt"), "expect \"clickstream_pv\"\n").unwrap();
    let out = weir_tui(&root, "dora", &["--json", "tui", "--script", "ok.txt"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], true);
    assert_eq!(v["expectations"]["met"], 1);
    assert_eq!(v["failures"], serde_json::json!([]));
    // a script that does not parse: its errors, exit 2
    std::fs::write(root.join("bad.txt"), "<Down>\nuser dora\n").unwrap();
    let out = weir_tui(&root, "dora", &["tui", "--script", "bad.txt", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"][0]["line"], 2);
    assert_eq!(v["errors"][0]["text"], "user dora");
    // interactive: refused, not ignored
    let out = weir_tui(&root, "dora", &["tui", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("--json needs a script"),
        "{v}"
    );
}

/// A script's `user` line opens the store as that user, whoever runs it: the first user
/// of a new store becomes its system admin, so it is the script's user, not the OS's.
#[test]
fn cli_script_user_opens_the_store() {
    let root = scratch_project("cli-user");
    std::fs::write(root.join("s.txt"), "user dora\nexpect \"clickstream_pv\"\n").unwrap();
    let out = weir_tui(&root, "someone-else", &["tui", "--script", "s.txt"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = weir_tui(&root, "dora", &["--json", "user", "list"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["login"], "dora", "{v}");
    assert_eq!(v[0]["roles"], serde_json::json!(["system_admin"]), "{v}");
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
}

#[test]
fn quit_with_unsaved_edits_asks_once() {
    use weir::tui::keys::parse_keys;
    let mut app = common::test_env("quit-guard", Env::Test);
    let press = |app: &mut Workbench, keys: &str| {
        for k in parse_keys(keys).unwrap() {
            app.handle_key(k);
        }
    };
    // nothing unsaved: C-q quits at once
    press(&mut app, "<Enter><C-q>");
    assert!(app.quit);
    let mut app = common::test_env("quit-guard-2", Env::Test);
    press(&mut app, "<Enter>d<C-q>");
    assert!(!app.quit, "the first C-q with unsaved edits only warns");
    // a key in between disarms it
    press(&mut app, "<Down><C-q>");
    assert!(!app.quit);
    press(&mut app, "<C-q>");
    assert!(app.quit, "a second C-q right after the first quits");
    // :quit from the palette asks too
    let mut app = common::test_env("quit-guard-3", Env::Test);
    press(&mut app, "<Enter>d:quit<Enter>");
    assert!(!app.quit);
}
