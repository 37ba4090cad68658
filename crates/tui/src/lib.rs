//! The full-screen workbench: state (`workbench`), actions (`action`), panes (`tree`,
//! `screens/`), overlays, drawing (`view`), keys, keymaps and themes, and the headless
//! driver that replays key scripts through the same path as the terminal.

pub mod action;
pub mod config;
pub mod headless;
pub mod keymap;
pub mod keymap_file;
pub mod keys;
pub mod overlay;
pub mod printable;
pub mod refused;
pub mod screens;
pub mod terminal;
pub mod theme;
pub mod theme_file;
pub mod tree;
pub mod validation;
pub mod view;
pub mod workbench;

// The job model under the short paths the screens have always used.
use weir_model::{graph, jobfile, model};
