//! Theme and keymap files end to end: every shipped theme loads cleanly, broken files
//! report every problem with file:line:col and fall back to defaults, keymap overrides
//! apply, and the CLI shows config errors before the workbench starts.
//!
//! Tests pass the config directory to `config::load_from` instead of setting
//! `WEIR_CONFIG_DIR`: environment variables are process-wide and tests run in parallel.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use weir::jobfile::Diagnostic;
use weir::tui::config::{self, Loaded};
use weir::tui::keymap::{DEFAULTS, Keymap};
use weir::tui::keys::Key;
use weir::tui::theme::{Color, Theme};
use weir::tui::theme_file;
use weir::tui::workbench::Env;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch directory per test, holding `files` (path relative to it, text).
fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weir-tui-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Load with `config` as the config directory and an empty project next to it.
fn load(config: &Path, env: Env, theme: Option<&str>) -> Loaded {
    let project = config.join("project");
    std::fs::create_dir_all(&project).unwrap();
    config::load_from(&project, Some(config), env, theme)
}

/// Every diagnostic rendered, with the scratch directory's path replaced by `$CONFIG`.
fn rendered(diagnostics: &[Diagnostic], config: &Path) -> String {
    diagnostics
        .iter()
        .map(Diagnostic::render)
        .collect::<Vec<_>>()
        .join("\n")
        .replace(&config.display().to_string(), "$CONFIG")
}

#[test]
fn every_shipped_theme_loads_without_diagnostics() {
    let mut on_disk = Vec::new();
    for entry in std::fs::read_dir(root().join("themes")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        let theme = theme_file::parse(&path.display().to_string(), &src, &name);
        let theme = theme.unwrap_or_else(|d| panic!("{}", rendered(&d, &root())));
        assert_eq!(theme.name, name);
        // the compiled-in copy is the file on disk
        assert_eq!(theme_file::builtin(&name), Some(theme));
        on_disk.push(name);
    }
    on_disk.sort();
    let shipped: Vec<&str> = theme_file::SHIPPED.iter().map(|(n, _)| *n).collect();
    assert_eq!(on_disk, shipped);
    assert_eq!(theme_file::builtin("default"), Some(Theme::default()));

    let high = theme_file::builtin("high-contrast").unwrap();
    assert_eq!(
        (high.fg, high.bg, high.accent),
        (Color::White, Color::Black, Color::Yellow)
    );
    let prod = theme_file::builtin("prod").unwrap();
    assert_eq!((prod.accent, prod.border), (Color::Red, Color::Red));
    assert_ne!(prod.status_bg, Theme::default().status_bg);
}

#[test]
fn the_environment_picks_the_theme() {
    let config = scratch("env", &[]);
    let test = load(&config, Env::Test, None);
    assert!(test.diagnostics.is_empty());
    assert_eq!(test.theme, Theme::default());
    assert_eq!(test.keymap, Keymap::defaults());
    let prod = load(&config, Env::Prod, None);
    assert!(prod.diagnostics.is_empty());
    assert_eq!(prod.theme.name, "prod");
    let named = load(&config, Env::Prod, Some("high-contrast"));
    assert_eq!(named.theme.name, "high-contrast");
    // no config directory at all: built-ins only
    let none = config::load_from(&config, None, Env::Test, None);
    assert!(none.diagnostics.is_empty());
    assert_eq!(none.theme, Theme::default());
}

#[test]
fn project_themes_win_over_config_themes_over_shipped_ones() {
    let config = scratch(
        "search",
        &[
            ("themes/prod.ron", "Theme(accent: \"blue\")"),
            (
                "themes/ocean.ron",
                "Theme(name: \"ocean\", bg: \"#002b36\")",
            ),
            ("project/themes/ocean.ron", "Theme(bg: \"ansi:17\")"),
        ],
    );
    let prod = load(&config, Env::Prod, None);
    assert!(prod.diagnostics.is_empty());
    // fields left out come from the default theme, not from the shipped prod theme
    assert_eq!(
        prod.theme,
        Theme {
            name: "prod".into(),
            accent: Color::Blue,
            ..Theme::default()
        }
    );
    let ocean = load(&config, Env::Test, Some("ocean"));
    assert!(ocean.diagnostics.is_empty());
    assert_eq!(ocean.theme.bg, Color::Indexed(17));
    assert_eq!(
        theme_file::available(&config.join("project"), Some(&config)),
        ["default", "high-contrast", "ocean", "prod"]
    );
}

#[test]
fn an_unknown_theme_lists_the_available_ones() {
    let config = scratch("unknown", &[("themes/ocean.ron", "Theme()")]);
    let l = load(&config, Env::Test, Some("ocaen"));
    assert_eq!(l.theme, Theme::default());
    assert_eq!(l.diagnostics.len(), 1);
    let d = &l.diagnostics[0];
    assert_eq!((d.code, d.file.as_str()), ("unknown-theme", "--theme"));
    assert_eq!(
        d.hint.as_deref(),
        Some("did you mean `ocean`? available themes: default, high-contrast, ocean, prod")
    );
    // production keeps its skin even when the named theme is missing
    let prod = load(&config, Env::Prod, Some("../etc/passwd"));
    assert_eq!(prod.theme.name, "prod");
    assert!(prod.diagnostics[0].message.contains("not a theme name"));
}

const BROKEN_THEME: &str = r##"// a theme with a mistake on every line
Theme(
    name: "broken",
    acent: "red",
    fg: "lightblu",
    bg: "#12345",
    border: "ansi:300",
    muted: darkgray,
    warning: "yellow",
    warning: "orange",
    selection: "blue",
    ok: "chartreuse",
)
"##;

#[test]
fn a_broken_theme_reports_every_error_and_the_defaults_are_used() {
    let config = scratch("broken-theme", &[("themes/broken.ron", BROKEN_THEME)]);
    let l = load(&config, Env::Test, Some("broken"));
    assert_eq!(l.theme, Theme::default());
    let at: Vec<(usize, usize)> = l.diagnostics.iter().map(|d| (d.line, d.column)).collect();
    assert_eq!(
        at,
        [
            (4, 5),
            (5, 9),
            (6, 9),
            (7, 13),
            (8, 12),
            (10, 5),
            (11, 5),
            (12, 9)
        ]
    );
    assert!(
        l.diagnostics
            .iter()
            .all(|d| d.file == config.join("themes/broken.ron").display().to_string())
    );
    insta::assert_snapshot!("broken_theme", rendered(&l.diagnostics, &config));

    // a broken override of a shipped theme falls back to the shipped theme
    let config = scratch("broken-prod", &[("themes/prod.ron", "Theme(fg: \"nope\")")]);
    let l = load(&config, Env::Prod, None);
    assert_eq!(l.theme, theme_file::builtin("prod").unwrap());
    assert_eq!(l.diagnostics.len(), 1);
}

#[test]
fn a_theme_syntax_error_points_at_it() {
    let config = scratch(
        "theme-syntax",
        &[(
            "themes/s.ron",
            "Theme(\n    fg: \"red\"\n    bg: \"blue\",\n)\n",
        )],
    );
    let l = load(&config, Env::Test, Some("s"));
    assert_eq!(l.theme, Theme::default());
    insta::assert_snapshot!("theme_syntax", rendered(&l.diagnostics, &config));
}

const BROKEN_KEYMAP: &str = r#"// overrides on top of the built-in keys
Keymap(
    global: {"<C-x>": "quit", "<C-q>": "none"},
    graph: {"A": "add-node", "a": "ad-node", "gg": "up"},
    tree: {"<Entr>": "open", "J": "dwn", "j": "none"},
    sqll: {"<C-e>": "validate"},
    form: {"<C-s>": "apply", "<c-s>": "up"},
)
"#;

#[test]
fn a_broken_keymap_reports_every_error_and_applies_the_valid_entries() {
    let config = scratch("broken-keymap", &[("keymap.ron", BROKEN_KEYMAP)]);
    let l = load(&config, Env::Test, None);
    assert_eq!(l.theme, Theme::default());
    let at: Vec<(usize, usize, &str)> = l
        .diagnostics
        .iter()
        .map(|d| (d.line, d.column, d.code))
        .collect();
    assert_eq!(
        at,
        [
            (4, 35, "unknown-action"),
            (4, 46, "bad-key"),
            (5, 12, "bad-key"),
            (5, 35, "unknown-action"),
            (6, 5, "unknown-context"),
            (7, 30, "duplicate-key"),
        ]
    );
    insta::assert_snapshot!("broken_keymap", rendered(&l.diagnostics, &config));

    let km = &l.keymap;
    // valid entries applied
    assert_eq!(km.action("graph", Key::ctrl('x')), Some("quit"));
    assert_eq!(km.action("global", Key::ctrl('q')), None);
    assert_eq!(km.action("graph", Key::char('A')), Some("add-node"));
    assert_eq!(km.action("tree", Key::char('j')), None);
    assert_eq!(km.action("form", Key::ctrl('s')), Some("apply"));
    // bad entries left out: the defaults stay
    assert_eq!(km.action("graph", Key::char('a')), Some("add-node"));
    assert_eq!(km.action("tree", Key::char('J')), None);
    assert_eq!(km.action("sql", Key::ctrl('k')), Some("validate"));
}

#[test]
fn overrides_change_bindings_and_none_unbinds() {
    let config = scratch(
        "override",
        &[(
            "keymap.ron",
            "Keymap(graph: {\"<C-n>\": \"add-node\", \"a\": \"none\"}, tree: {\"l\": \"open\"})",
        )],
    );
    let l = load(&config, Env::Test, None);
    assert!(
        l.diagnostics.is_empty(),
        "{}",
        rendered(&l.diagnostics, &config)
    );
    let km = &l.keymap;
    assert_eq!(km.action("graph", Key::ctrl('n')), Some("add-node"));
    assert_eq!(km.action("graph", Key::char('a')), None);
    assert_eq!(km.action("tree", Key::char('l')), Some("open"));
    // everything else as built in
    assert_eq!(km.action("tree", Key::char('j')), Some("down"));
    assert_eq!(km.action("graph", Key::char('x')), Some("disconnect"));
}

#[test]
fn a_keymap_syntax_error_keeps_the_defaults() {
    let config = scratch(
        "keymap-syntax",
        &[(
            "keymap.ron",
            "Keymap(\n    graph: {\"A\": \"add-node\"\n    tree: {},\n)\n",
        )],
    );
    let l = load(&config, Env::Test, None);
    assert_eq!(l.keymap, Keymap::defaults());
    assert_eq!(l.diagnostics.len(), 1);
    let d = &l.diagnostics[0];
    assert_eq!((d.line, d.column, d.code), (3, 5, "syntax"));
    assert!(d.message.contains("after a map entry"), "{}", d.message);
}

#[test]
fn the_formats_document_every_field_and_default_binding() {
    let theme_md = std::fs::read_to_string(root().join("formats/theme.md")).unwrap();
    for field in std::iter::once("name").chain(Theme::ROLES) {
        assert!(
            theme_md.contains(&format!("| `{field}` |")),
            "theme.md lacks {field}"
        );
    }
    for (name, _) in theme_file::COLOR_NAMES {
        assert!(
            theme_md.contains(&format!("`{name}`")),
            "theme.md lacks {name}"
        );
    }
    let keymap_md = std::fs::read_to_string(root().join("formats/keymap.md")).unwrap();
    for (ctx, key, action, what) in DEFAULTS {
        let row = format!("| {ctx} | `{key}` | `{action}` | {what} |");
        assert!(keymap_md.contains(&row), "keymap.md lacks the row\n{row}");
    }
    let rows = keymap_md
        .lines()
        .filter(|l| {
            weir::tui::keymap::CONTEXTS
                .iter()
                .any(|c| l.starts_with(&format!("| {c} |")))
        })
        .count();
    assert_eq!(
        rows,
        DEFAULTS.len(),
        "keymap.md has bindings that are not built in"
    );
}

#[test]
fn the_cli_shows_keymap_errors_before_the_workbench_and_in_its_status_bar() {
    let config = scratch(
        "cli",
        &[
            ("config/keymap.ron", BROKEN_KEYMAP),
            ("script.keys", "# first frame only\n"),
        ],
    );
    let project = config.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let dump = config.join("frames");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["tui", "--size", "200x24", "--script"])
        .arg(config.join("script.keys"))
        .arg("--dump")
        .arg(&dump)
        .current_dir(&project)
        .env("WEIR_CONFIG_DIR", config.join("config"))
        .env("WEIR_USER", "tester")
        .output()
        .expect("weir runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("keymap.ron:4:35"), "{stderr}");
    assert!(
        stderr.contains("unknown action `ad-node` in graph"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error[").count(), 6, "{stderr}");
    let frame = std::fs::read_to_string(dump.join("0000.txt")).unwrap();
    // the status bar, which may wrap onto a second row
    let lines: Vec<&str> = frame.lines().filter(|l| !l.trim().is_empty()).collect();
    let status = lines[lines.len().saturating_sub(2)..].join(" ");
    assert!(
        status.contains("keymap.ron:4:35: unknown action `ad-node` in graph"),
        "{frame}"
    );
}
