//! The workbench's configuration at start: theme and keymap, with every problem found in
//! their files. Broken files never stop weir: their errors are shown and defaults used.
//! Where the config directory is and the helpers both file kinds share live here; the
//! formats themselves are in `theme_file.rs` and `keymap_file.rs`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::keymap::Keymap;
use super::theme::Theme;
use super::workbench::Env;
use super::{keymap_file, theme_file};
use crate::jobfile::de::Problem;
use crate::jobfile::syntax::{LineIndex, SyntaxError};
use crate::jobfile::{Diagnostic, Severity};

pub struct Loaded {
    pub theme: Theme,
    pub keymap: Keymap,
    /// Problems in theme and keymap files, with file:line:column.
    pub diagnostics: Vec<Diagnostic>,
}

/// Load the theme (`name`, or `prod` when the environment is production) and the user's
/// keymap overrides.
pub fn load(project_root: &Path, env: Env, name: Option<&str>) -> Loaded {
    load_from(project_root, config_dir().as_deref(), env, name)
}

/// `load` with the config directory given rather than read from the environment, so
/// that tests running in parallel need not set process-wide variables.
pub fn load_from(
    project_root: &Path,
    config_dir: Option<&Path>,
    env: Env,
    name: Option<&str>,
) -> Loaded {
    let env_theme = match env {
        Env::Prod => "prod",
        Env::Test => "default",
    };
    let name = name.unwrap_or(env_theme);
    let (theme, mut diagnostics) = match theme_file::load(project_root, config_dir, name) {
        Ok(theme) => (theme, Vec::new()),
        // a broken override of a shipped theme falls back to the shipped one, anything
        // else to the environment's skin, so production never looks like test
        Err(diagnostics) => {
            let theme = theme_file::builtin(name)
                .or_else(|| theme_file::builtin(env_theme))
                .unwrap_or_default();
            (theme, diagnostics)
        }
    };
    let (keymap, keymap_diagnostics) = keymap_file::load(config_dir);
    diagnostics.extend(keymap_diagnostics);
    Loaded {
        theme,
        keymap,
        diagnostics,
    }
}

/// The user's config directory: `$WEIR_CONFIG_DIR`, else `$XDG_CONFIG_HOME/weir`, else
/// `$HOME/.config/weir`; `None` when none of them is set.
pub fn config_dir() -> Option<PathBuf> {
    config_dir_with(|name| std::env::var_os(name))
}

/// `config_dir` reading variables through `var` (empty values count as unset).
pub fn config_dir_with(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let get = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = get("WEIR_CONFIG_DIR") {
        return Some(dir);
    }
    // the XDG spec ignores relative values
    if let Some(xdg) = get("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
        return Some(xdg.join("weir"));
    }
    get("HOME").map(|home| home.join(".config").join("weir"))
}

/// The text of a config file; `Ok(None)` when there is no such file (not an error).
pub(crate) fn read(path: &Path) -> Result<Option<String>, Box<Diagnostic>> {
    let file = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(Some(text)),
            Err(e) => {
                let bytes = e.as_bytes();
                let valid = e.utf8_error().valid_up_to();
                let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
                let index = LineIndex::new(prefix);
                let (line, column) = index.line_col(prefix.len());
                Err(Box::new(Diagnostic::whole_file(
                    &file,
                    "not-text",
                    format!(
                        "the file is not UTF-8 text: byte 0x{:02x} at line {line}, column {column}",
                        bytes[valid]
                    ),
                    Some("config files are UTF-8 RON text; is this the right file?".into()),
                )))
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Box::new(Diagnostic::whole_file(
            &file,
            "unreadable",
            format!("cannot read the file: {e}"),
            Some("check the path and its permissions".into()),
        ))),
    }
}

/// What kind of config file is being read, for wording syntax errors.
pub(crate) struct FileKind {
    /// `theme`, `keymap`
    pub what: &'static str,
    /// The top-level struct name: `Theme`, `Keymap`.
    pub head: &'static str,
    /// The format's documentation.
    pub doc: &'static str,
}

/// A syntax error of a config file. The parser is shared with job files, so its job
/// wording is replaced by the file kind's.
pub(crate) fn syntax_diagnostic(
    file: &str,
    index: &LineIndex<'_>,
    e: SyntaxError,
    kind: &FileKind,
) -> Diagnostic {
    let reword = |text: &str| {
        text.replace("`Job(...)`", &format!("`{}(...)`", kind.head))
            .replace("`Job(`", &format!("`{}(`", kind.head))
            .replace("formats/job-v1.md", kind.doc)
            .replace("job file", &format!("{} file", kind.what))
            .replace("the job", &format!("the {}", kind.what))
            .replace("no job", &format!("no {}", kind.what))
    };
    Diagnostic::new(
        file,
        index,
        e.span,
        Severity::Error,
        "syntax",
        reword(&e.message),
        e.hint.as_deref().map(reword),
    )
}

/// Problems as error diagnostics, in the order they appear in the file.
pub(crate) fn diagnostics(file: &str, src: &str, mut problems: Vec<Problem>) -> Vec<Diagnostic> {
    let index = LineIndex::new(src);
    problems.sort_by_key(|p| (p.span.start, p.span.end));
    problems
        .into_iter()
        .map(|p| {
            Diagnostic::new(
                file,
                &index,
                p.span,
                Severity::Error,
                p.code,
                p.message,
                p.hint,
            )
        })
        .collect()
}

/// The text holds nothing but blanks and comments.
pub(crate) fn is_blank(src: &str) -> bool {
    let mut rest = src.trim_start();
    loop {
        if rest.is_empty() {
            return true;
        }
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.find('\n').map_or("", |i| &r[i..]).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            match r.find("*/") {
                Some(i) => rest = r[i + 2..].trim_start(),
                None => return false,
            }
        } else {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(set: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            set.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn config_dir_prefers_weir_then_xdg_then_home() {
        let all = [
            ("WEIR_CONFIG_DIR", "/w"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(config_dir_with(vars(&all)), Some(PathBuf::from("/w")));
        assert_eq!(
            config_dir_with(vars(&all[1..])),
            Some(PathBuf::from("/x/weir"))
        );
        assert_eq!(
            config_dir_with(vars(&all[2..])),
            Some(PathBuf::from("/h/.config/weir"))
        );
        let odd = [
            ("WEIR_CONFIG_DIR", ""),
            ("XDG_CONFIG_HOME", "relative"),
            ("HOME", "/h"),
        ];
        assert_eq!(
            config_dir_with(vars(&odd)),
            Some(PathBuf::from("/h/.config/weir"))
        );
        assert_eq!(config_dir_with(vars(&[])), None);
    }

    #[test]
    fn blank_means_only_comments() {
        assert!(is_blank(""));
        assert!(is_blank("  // a\n/* b\n c */\n// d"));
        assert!(!is_blank("// a\nKeymap()"));
        assert!(!is_blank("/* open"));
    }

    #[test]
    fn syntax_errors_speak_of_the_file_kind() {
        let kind = FileKind {
            what: "theme",
            head: "Theme",
            doc: "formats/theme.md",
        };
        let src = "";
        let e = crate::jobfile::syntax::parse(src).unwrap_err();
        let d = syntax_diagnostic("t.ron", &LineIndex::new(src), e, &kind);
        assert_eq!(d.message, "the file holds no theme");
        assert_eq!(
            d.hint.as_deref(),
            Some("a theme file starts with `Theme(` (see formats/theme.md)")
        );
    }

    #[test]
    fn missing_files_are_not_errors() {
        let dir = std::env::temp_dir().join(format!("weir-config-read-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(read(&dir.join("nope.ron")), Ok(None));
        std::fs::write(dir.join("bin.ron"), b"ab\n\xffc").unwrap();
        let d = read(&dir.join("bin.ron")).unwrap_err();
        assert_eq!(d.code, "not-text");
        assert!(d.message.contains("line 2, column 1"), "{}", d.message);
        assert_eq!(read(&dir).unwrap_err().code, "unreadable");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
