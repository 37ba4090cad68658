//! Main-pane screens. Each has a `:name` (the command palette opens it), a keymap
//! context, named actions (offered in the palette and bindable in keymap files), and
//! separate input handling and rendering.

pub mod gov;
pub mod graph;
pub mod home;
pub mod instances;
pub mod jobs;
pub mod sql;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::Outcome;
use super::keymap::Keymap;
use super::keys::Key;
use super::theme::Theme;
use weir_app::project::Project;
use weir_app::store_link::StoreLink;

/// What a screen may read while it handles input or draws.
pub struct Context<'a> {
    pub project: &'a Project,
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    /// The metadata store, when it could be opened (governance screens need it).
    pub store: Option<&'a StoreLink>,
}

pub trait Screen {
    /// The `:name` of this kind of screen, e.g. `graph`.
    fn name(&self) -> &'static str;
    /// Breadcrumb segments after the project, e.g. `["team", "orders"]`.
    fn crumbs(&self) -> Vec<String>;
    /// Keymap context of the screen's current mode, e.g. `graph`, `form`, `sql`.
    fn context(&self) -> &'static str;
    /// While true, printable keys go to the screen before any binding (text editing).
    fn captures_text(&self) -> bool {
        false
    }
    /// The project-relative path of the job this screen edits.
    fn job(&self) -> Option<String> {
        None
    }
    /// Unsaved changes.
    fn dirty(&self) -> bool {
        false
    }
    /// Edits not on disk: unsaved changes, or an open form or editor not applied yet.
    fn unsaved(&self) -> bool {
        self.dirty()
    }
    /// The project-relative path of the tree entry selected in the screen's list, if any.
    fn selected_entry(&self) -> Option<String> {
        None
    }
    /// A short mode word for the status bar (`EDIT`, `CONNECT`, ...).
    fn mode(&self) -> &'static str {
        "NORMAL"
    }
    /// A raw key that no binding took (or every key while `captures_text`).
    fn handle_key(&mut self, key: Key, cx: &Context) -> Outcome;
    /// Run a named action; `Ignored` if the screen has no such action now.
    fn perform(&mut self, action: &str, cx: &Context) -> Outcome;
    /// (action, description) pairs the palette offers while this screen is active.
    fn actions(&self) -> Vec<(&'static str, &'static str)>;
    /// Narrow the screen's list to rows matching `text` (`/`); empty clears.
    fn set_filter(&mut self, _text: &str) {}
    /// Select the row of this project-relative path, if the screen lists it (after a
    /// tree change such as a new job).
    fn reveal(&mut self, _rel: &str) {}
    /// Every turn of the event loop: collect background results (a connectivity test)
    /// and, when `changed` (someone wrote to the store), re-read what the screen shows.
    fn tick(&mut self, _cx: &Context, _changed: bool) -> Option<super::action::Action> {
        None
    }
    /// Work of this screen still runs in the background whose result the user must see
    /// (a decision in the inbox): a screen that is closed meanwhile keeps being ticked
    /// until it is done.
    fn busy(&self) -> bool {
        false
    }
    /// Draw the screen. `&mut` only for the scroll offsets that follow the drawn area
    /// (graph canvas, SQL editor, forms); nothing else changes here, and nothing is read
    /// from the store (that happens in `perform`, `handle_key` and `tick`).
    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool);
}
