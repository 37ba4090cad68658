//! Headless key scripts (tests/scripts/*.txt) run through the same event path as the
//! terminal, each on its own copy of the example project. A script with a
//! `NAME.expected.ron` beside it saves `jobs/NAME.ron`, which must equal that file and
//! validate.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;

use common::scratch_project;
use weir::app::project::Project;
use weir::jobfile;
use weir::tui::headless::{Headless, parse_script};
use weir::tui::keymap::Keymap;
use weir::tui::theme::Theme;
use weir::tui::workbench::{Env, Workbench};

#[test]
fn every_script_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    for path in scripts {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let root = scratch_project(&format!("script-{stem}"));
        let mut app = Workbench::new(
            Project { root: root.clone() },
            Theme::default(),
            Keymap::defaults(),
            Env::Test,
            "tester".into(),
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let script = parse_script(&text).unwrap_or_else(|e| panic!("{stem}: {e:?}"));
        let mut hl = Headless::new(80, 24, None).unwrap();
        if let Err(f) = hl.run(&mut app, &script) {
            panic!("{stem}.txt:{}: {}", f.line, f.message);
        }
        let expected = dir.join(format!("{stem}.expected.ron"));
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
    assert!(err.contains("s.txt:3: expected \"no such text\""), "{err}");
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
    assert!(
        err.contains("s.txt:line 1:") && err.contains("s.txt:line 2:"),
        "{err}"
    );
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
