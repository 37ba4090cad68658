//! Theme files: `Theme(accent: "cyan", border: "#5f87af", ...)` (formats/theme.md).
//! Finding a theme by name, reading colours and checking every field live here; the
//! colour roles themselves are in `theme.rs`. A theme file may leave fields out: they
//! come from the built-in default theme. A file with any error is not used at all.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use ratatui::style::Color;

use super::config::{self, FileKind};
use super::theme::Theme;
use crate::jobfile::Diagnostic;
use crate::jobfile::de::{self, Problem};
use crate::jobfile::syntax::{self, Kind, LineIndex};

/// The themes compiled into the binary, so that it works anywhere.
pub const SHIPPED: [(&str, &str); 3] = [
    ("default", include_str!("../../../themes/default.ron")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.ron"),
    ),
    ("prod", include_str!("../../../themes/prod.ron")),
];

/// Colour names as theme files write them.
pub const COLOR_NAMES: [(&str, Color); 17] = [
    ("reset", Color::Reset),
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("darkgray", Color::DarkGray),
    ("lightred", Color::LightRed),
    ("lightgreen", Color::LightGreen),
    ("lightyellow", Color::LightYellow),
    ("lightblue", Color::LightBlue),
    ("lightmagenta", Color::LightMagenta),
    ("lightcyan", Color::LightCyan),
    ("white", Color::White),
];

const KIND: FileKind = FileKind {
    what: "theme",
    head: "Theme",
    doc: "formats/theme.md",
};

/// Why a colour text is not a colour.
#[derive(Debug, Clone, PartialEq)]
pub struct ColorError {
    pub message: String,
    pub hint: String,
}

const COLOR_FORMS: &str = "a colour is a name (reset, black, red, green, yellow, blue, magenta, \
cyan, gray, darkgray, lightred, lightgreen, lightyellow, lightblue, lightmagenta, lightcyan, \
white), \"#rrggbb\", or an ANSI index \"ansi:0\" to \"ansi:255\"";

/// Read a colour: a name (any case; `-`, `_` and spaces ignored; `grey` for `gray`),
/// `#rrggbb`, or `ansi:N` with N from 0 to 255.
pub fn parse_color(text: &str) -> Result<Color, ColorError> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix('#') {
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
            return Ok(Color::Rgb(byte(0), byte(2), byte(4)));
        }
        return Err(ColorError {
            message: format!("`{text}` is not a `#rrggbb` colour"),
            hint: "write `#` and six hex digits, e.g. \"#ff8700\"".into(),
        });
    }
    let lower = t.to_ascii_lowercase();
    if let Some(n) = lower.strip_prefix("ansi:") {
        return match n.trim().parse::<u8>() {
            Ok(i) => Ok(Color::Indexed(i)),
            Err(_) => Err(ColorError {
                message: format!("`{text}` is not an ANSI colour index"),
                hint: "write \"ansi:N\" with N from 0 to 255, e.g. \"ansi:208\"".into(),
            }),
        };
    }
    let name = lower.replace(['-', '_', ' '], "").replace("grey", "gray");
    if let Some((_, c)) = COLOR_NAMES.iter().find(|(n, _)| *n == name) {
        return Ok(*c);
    }
    let hint = match de::did_you_mean(&name, COLOR_NAMES.iter().map(|(n, _)| *n)) {
        Some(m) => format!("did you mean \"{m}\"?"),
        None => COLOR_FORMS.to_string(),
    };
    Err(ColorError {
        message: format!("unknown colour `{text}`"),
        hint,
    })
}

/// How a theme file writes a colour; `parse_color` reads it back.
pub fn color_text(color: Color) -> String {
    match color {
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => format!("ansi:{i}"),
        named => COLOR_NAMES.iter().find(|(_, c)| *c == named).map_or_else(
            || format!("{named:?}").to_lowercase(),
            |(n, _)| n.to_string(),
        ),
    }
}

/// A theme name can be a file name: letters, digits, `-` and `_`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Folders that may hold theme files, in the order they are searched.
fn theme_dirs(project_root: &Path, config_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = vec![project_root.join("themes")];
    dirs.extend(config_dir.map(|d| d.join("themes")));
    dirs
}

/// Every theme name that can be loaded: shipped ones and `*.ron` files in the project's
/// and the config directory's `themes/`, sorted.
pub fn available(project_root: &Path, config_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
    for dir in theme_dirs(project_root, config_dir) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "ron")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && is_valid_name(stem)
            {
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// A shipped theme, as compiled in (shipped files are tested to have no errors).
pub fn builtin(name: &str) -> Option<Theme> {
    let (_, src) = SHIPPED.iter().find(|(n, _)| *n == name)?;
    parse(&format!("themes/{name}.ron"), src, name).ok()
}

/// Load theme `name`: `<project>/themes/NAME.ron`, else `<config dir>/themes/NAME.ron`,
/// else the shipped one. `Err` holds every problem; the caller picks a fallback.
pub fn load(
    project_root: &Path,
    config_dir: Option<&Path>,
    name: &str,
) -> Result<Theme, Vec<Diagnostic>> {
    if is_valid_name(name) {
        for dir in theme_dirs(project_root, config_dir) {
            let path = dir.join(format!("{name}.ron"));
            match config::read(&path) {
                Ok(None) => {}
                Ok(Some(src)) => return parse(&path.display().to_string(), &src, name),
                Err(d) => return Err(vec![*d]),
            }
        }
        if let Some((_, src)) = SHIPPED.iter().find(|(n, _)| *n == name) {
            return parse(&format!("themes/{name}.ron"), src, name);
        }
    }
    let names = available(project_root, config_dir);
    let list = names.join(", ");
    let hint = match de::did_you_mean(name, names.iter().map(String::as_str)) {
        Some(m) => format!("did you mean `{m}`? available themes: {list}"),
        None => format!(
            "available themes: {list}; add one as <project>/themes/NAME.ron or <config dir>/themes/NAME.ron"
        ),
    };
    let message = if is_valid_name(name) {
        format!("no theme named `{name}`")
    } else {
        format!("`{name}` is not a theme name (letters, digits, `-` and `_`)")
    };
    Err(vec![Diagnostic::whole_file(
        "--theme",
        "unknown-theme",
        message,
        Some(hint),
    )])
}

/// Read theme `name` from the text of its file (`file` is how diagnostics name it).
pub fn parse(file: &str, src: &str, name: &str) -> Result<Theme, Vec<Diagnostic>> {
    let doc = syntax::parse(src).map_err(|e| {
        vec![config::syntax_diagnostic(
            file,
            &LineIndex::new(src),
            e,
            &KIND,
        )]
    })?;
    let mut theme = Theme {
        name: name.to_string(),
        ..Theme::default()
    };
    let mut problems = Vec::new();
    let root = &doc.value;
    let fields = match &root.kind {
        Kind::Struct {
            name: Some(n),
            fields,
            ..
        } if n.name != "Theme" => {
            problems.push(Problem {
                span: n.span,
                code: "not-a-theme",
                message: format!("expected `Theme(...)`, found `{}(...)`", n.name),
                hint: Some("a theme file holds one `Theme(field: \"colour\", ...)`".into()),
            });
            fields.as_slice()
        }
        Kind::Struct { fields, .. } => fields.as_slice(),
        Kind::Unit => &[],
        other => {
            problems.push(Problem {
                span: root.head_span(),
                code: "not-a-theme",
                message: format!("expected `Theme(...)`, found {}", other.describe()),
                hint: Some("a theme file holds one `Theme(field: \"colour\", ...)`".into()),
            });
            &[]
        }
    };
    let known: Vec<&str> = std::iter::once("name").chain(Theme::ROLES).collect();
    let mut seen: Vec<&str> = Vec::new();
    for f in fields {
        let field = f.name.name.as_str();
        if !known.contains(&field) {
            let hint = match de::did_you_mean(field, known.iter().copied()) {
                Some(m) => format!("did you mean `{m}`?"),
                None => format!("the fields of a theme are {}", known.join(", ")),
            };
            problems.push(Problem {
                span: f.name.span,
                code: "unknown-field",
                message: format!("unknown field `{field}` in Theme"),
                hint: Some(hint),
            });
            continue;
        }
        if seen.contains(&field) {
            problems.push(Problem {
                span: f.name.span,
                code: "duplicate-field",
                message: format!("field `{field}` is given twice in Theme"),
                hint: Some("remove one of them".into()),
            });
            continue;
        }
        seen.push(field);
        let inner = RefCell::new(Vec::new());
        let text = de::decode::<String>(&f.value, &inner);
        problems.extend(inner.into_inner());
        let text = match text {
            Ok(t) => t,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        if field == "name" {
            if text != name {
                problems.push(Problem {
                    span: f.value.span,
                    code: "theme-name",
                    message: format!(
                        "this file is theme `{name}` but its `name` says \"{text}\""
                    ),
                    hint: Some(format!(
                        "a theme is named by its file: write name: \"{name}\", or rename the file to {text}.ron"
                    )),
                });
            }
            continue;
        }
        match parse_color(&text) {
            Ok(c) => {
                if let Some(slot) = theme.role_mut(field) {
                    *slot = c;
                }
            }
            Err(e) => problems.push(Problem {
                span: f.value.span,
                code: "invalid-colour",
                message: format!("`{field}`: {}", e.message),
                hint: Some(e.hint),
            }),
        }
    }
    if problems.is_empty() {
        Ok(theme)
    } else {
        Err(config::diagnostics(file, src, problems))
    }
}

/// A theme as theme-file text, every field written (`parse` reads it back).
pub fn to_ron(theme: &Theme) -> String {
    let mut out = format!("Theme(\n    name: {:?},\n", theme.name);
    for (role, color) in Theme::ROLES.iter().zip(theme.colors()) {
        out.push_str(&format!("    {role}: \"{}\",\n", color_text(color)));
    }
    out.push_str(")\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_in_every_form() {
        assert_eq!(parse_color("cyan"), Ok(Color::Cyan));
        assert_eq!(parse_color("Dark-Grey"), Ok(Color::DarkGray));
        assert_eq!(parse_color("light_blue"), Ok(Color::LightBlue));
        assert_eq!(parse_color("#FF8700"), Ok(Color::Rgb(255, 135, 0)));
        assert_eq!(parse_color("ansi:208"), Ok(Color::Indexed(208)));
        let e = parse_color("#12345").unwrap_err();
        assert!(e.message.contains("#rrggbb"), "{e:?}");
        assert!(
            parse_color("ansi:256")
                .unwrap_err()
                .hint
                .contains("0 to 255")
        );
        let e = parse_color("lightblu").unwrap_err();
        assert_eq!(e.hint, "did you mean \"lightblue\"?");
        let e = parse_color("chartreuse").unwrap_err();
        assert!(e.hint.starts_with("a colour is a name"), "{e:?}");
        for (_, c) in COLOR_NAMES {
            assert_eq!(parse_color(&color_text(c)), Ok(c));
        }
        for c in [Color::Rgb(1, 2, 255), Color::Indexed(7)] {
            assert_eq!(parse_color(&color_text(c)), Ok(c));
        }
    }

    #[test]
    fn missing_fields_come_from_the_default_theme() {
        let t = parse("t.ron", "Theme(accent: \"red\")", "mine").unwrap();
        assert_eq!(t.accent, Color::Red);
        assert_eq!(
            Theme {
                name: "default".into(),
                accent: Color::Cyan,
                ..t
            },
            Theme::default()
        );
        assert_eq!(parse("t.ron", "()", "x").unwrap().fg, Color::Reset);
    }

    #[test]
    fn to_ron_reads_back() {
        let mut t = builtin("prod").unwrap();
        t.muted = Color::Rgb(10, 20, 30);
        assert_eq!(parse("t.ron", &to_ron(&t), "prod"), Ok(t));
    }

    #[test]
    fn every_problem_is_reported() {
        let src = "Theme(\n  acent: \"red\",\n  fg: cyan,\n  bg: \"#12\",\n  bg: \"red\",\n  name: \"other\",\n)\n";
        let d = parse("t.ron", src, "mine").unwrap_err();
        let got: Vec<(usize, usize, &str)> = d.iter().map(|d| (d.line, d.column, d.code)).collect();
        assert_eq!(
            got,
            vec![
                (2, 3, "unknown-field"),
                (3, 7, "wrong-type"),
                (4, 7, "invalid-colour"),
                (5, 3, "duplicate-field"),
                (6, 9, "theme-name"),
            ]
        );
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `accent`?"));
        let d = parse("t.ron", "Thme(fg: \"red\")", "x").unwrap_err();
        assert_eq!(d[0].code, "not-a-theme");
        let d = parse("t.ron", "[1]", "x").unwrap_err();
        assert_eq!(d[0].code, "not-a-theme");
        let d = parse("t.ron", "Theme(fg: \"red\"", "x").unwrap_err();
        assert_eq!(d[0].code, "syntax");
    }
}
