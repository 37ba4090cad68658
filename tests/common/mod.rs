//! Shared set-up of TUI tests: a scratch copy of the example project and an app on it.
#![allow(dead_code)]

pub mod place;

use std::path::{Path, PathBuf};

use weir::app::project::Project;
use weir::tui::app::{App, Env};
use weir::tui::headless::{Headless, parse_script};
use weir::tui::keymap::Keymap;
use weir::tui::theme::Theme;

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
pub fn test_env(name: &str, env: Env) -> App {
    let root = scratch_project(name);
    let theme = if env == Env::Prod {
        prod_theme()
    } else {
        Theme::default()
    };
    App::new(
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
pub fn run_keys(app: &mut App, script: &str, w: u16, h: u16) -> String {
    let script = parse_script(script).expect("script parses");
    let mut hl = Headless::new(w, h, None).unwrap();
    if let Err(f) = hl.run(app, &script) {
        panic!("script failed at line {}: {}", f.line, f.message);
    }
    hl.last_frame().to_string()
}
