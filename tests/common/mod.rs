//! Shared set-up of TUI tests: a scratch copy of the example project and an app on it,
//! key scripts, waiting for background work to show its result, and snapshots without
//! the clock.
#![allow(dead_code)]

pub mod cli;
pub mod fixtures;
pub mod http;
pub mod kafka;
pub mod place;
pub mod seeded;
pub mod windowed;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use weir::app::project::Project;
use weir::tui::headless::{Headless, parse_script};
use weir::tui::keymap::Keymap;
use weir::tui::theme::Theme;
use weir::tui::workbench::{Env, Workbench};

/// A fresh copy of jobs/ in a directory of its own.
pub fn scratch_project(name: &str) -> PathBuf {
    // the last component is the project's name on screen: keep it fixed for snapshots
    let root = std::env::temp_dir()
        .join(format!("weir-tui-{name}-{}", std::process::id()))
        .join("demo");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("jobs")).unwrap();
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, root.join("jobs").join(p.file_name().unwrap())).unwrap();
    }
    root
}

/// An app on a scratch project with built-in theme and keymap, as user `tester`.
pub fn test_env(name: &str, env: Env) -> Workbench {
    let root = scratch_project(name);
    let theme = if env == Env::Prod {
        prod_theme()
    } else {
        Theme::default()
    };
    Workbench::new(
        Project { root },
        theme,
        Keymap::defaults(),
        env,
        "tester".into(),
    )
}

/// The prod skin, as weir loads it.
pub fn prod_theme() -> Theme {
    weir::tui::config::load_from(Path::new("."), None, Env::Prod, None).theme
}

/// Run key-script text on an app and return the last frame.
pub fn run_keys(app: &mut Workbench, script: &str, w: u16, h: u16) -> String {
    let script = parse_script(script).expect("script parses");
    let mut hl = Headless::new(w, h, None).unwrap();
    if let Err(f) = hl.run(app, &script) {
        panic!("script failed at line {}: {}", f.line, f.message);
    }
    hl.last_frame().to_string()
}

/// Whether the frame shows `text` in the main pane or the status bar, also when it wraps
/// over lines (blanks and pane borders are ignored on both sides).
pub fn shows(frame: &str, text: &str) -> bool {
    let squash = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '│')
            .collect::<String>()
    };
    let main: String = frame
        .lines()
        .map(|l| l.split_once("││").map_or(l, |(_, m)| m))
        .collect();
    squash(&main).contains(&squash(text))
}

/// Let the event loop turn (background work finishes, others' changes arrive) until the
/// frame shows `text` (see [`shows`]), at most `limit`; the last frame either way.
pub fn wait_for(app: &mut Workbench, text: &str, limit: Duration, w: u16, h: u16) -> String {
    let end = Instant::now() + limit;
    loop {
        let frame = run_keys(app, "wait 100", w, h);
        if shows(&frame, text) || Instant::now() > end {
            return frame;
        }
    }
}

/// Snapshots without the clock, as insta filters: stored times (`2026-12-02 01:23:45`,
/// the list's `2026-12-02 01:23`, RFC 3339 `2026-12-02T00:59:28…`), latencies (`12 ms`),
/// ages of recorded tests (`3s ago by dana`) and the spinner's frame. Bind them for a
/// test with `let _clock = without_the_clock().bind_to_scope();`.
pub fn without_the_clock() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in [
        (r"\d{4}-\d{2}-\d{2}T\S*", "<time>"),
        (
            r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
            "YYYY-MM-DD hh:mm:ss",
        ),
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "YYYY-MM-DD hh:mm"),
        (r"\b\d+ ms", "N ms"),
        // a data source's last test: `ok 3s ago by dana`
        (r"\b\d+[smhd] ago by", "N ago by"),
        ("[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", "⠿"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings
}

/// Approve request `id` in the metadata store alone, as `login` at store `url` (with
/// `opinion`), without
/// carrying out its effect. For set-ups whose seeded Kafka cluster does not exist: the
/// app's approval creates the topic on the cluster first, and would fail there.
pub async fn approve_in_store(url: &str, login: &str, id: i64, opinion: &str) {
    let store = weir_store::Store::open(url).await.unwrap();
    store
        .session(login)
        .await
        .unwrap()
        .approve(id, opinion)
        .await
        .unwrap();
    store.close().await;
}
