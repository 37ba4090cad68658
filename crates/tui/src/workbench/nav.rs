//! Terminal habits of the workbench: Esc goes back along a screen history (a `:` screen
//! that replaced another is left for the one it replaced), `:reload` and `R` read the
//! tree, the store's counters and the active screen again, C-w hides the tree or makes
//! it wide, C-c cancels the background work that allows it (else quits, as C-q does,
//! with the unsaved-changes guard, also over the palette and other overlays), and help
//! lists only the global keys that do something on the active screen.

use super::{Focus, SCREENS, Workbench};
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;

/// How the project tree is drawn (C-w cycles: shown → hidden → wide → shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeView {
    /// A quarter of the width (18 to 32 columns).
    Shown,
    /// Not drawn: the main pane takes the whole width.
    Hidden,
    /// Half the width, for long paths.
    Wide,
}

/// How many screens the history keeps.
const HISTORY: usize = 32;

impl Workbench {
    /// The `:name` of the active screen if `:name` opens it again (not a job editor, not
    /// the live view of an instance).
    fn reopenable_top(&self) -> Option<&'static str> {
        if self.screens.len() < 2 || self.screen().job().is_some() {
            return None;
        }
        let name = self.screen().name();
        SCREENS.iter().map(|(n, _)| *n).find(|n| *n == name)
    }

    /// Keep the active screen in the history, to come back to with Esc.
    pub(super) fn remember_top(&mut self) {
        if let Some(name) = self.reopenable_top() {
            let depth = self.screens.len() - 1;
            self.history.push((depth, name));
            if self.history.len() > HISTORY {
                self.history.remove(0);
            }
        }
    }

    /// A `:` screen is opened where another one is (one at a time above the job being
    /// edited): the one it replaces goes into the history.
    pub(super) fn replace_top(&mut self) {
        if self.screens.len() > 1 && self.screen().job().is_none() {
            self.remember_top();
            self.close_above(self.screens.len() - 1);
        }
    }

    /// After Esc closed a screen: open the screen it had replaced, if any.
    pub(super) fn back_in_history(&mut self) {
        let depth = self.screens.len();
        self.history.retain(|(d, _)| *d <= depth);
        if let Some(&(d, name)) = self.history.last()
            && d == depth
        {
            self.history.pop();
            // opening it must not record the screen below as replaced
            let kept = std::mem::take(&mut self.history);
            self.open(name);
            self.history = kept;
        }
    }

    /// `:reload` and `R`: the tree (new and removed files), the store's role and
    /// counters, and the active screen's data where it has a `refresh`.
    pub(super) fn refresh_all(&mut self) {
        if let Some(e) = self.tree.reload(&self.project, None) {
            self.say(Level::Error, e);
            return;
        }
        self.store_written();
        match self.with_screen(|s, cx| s.perform("refresh", cx)) {
            Outcome::Action(a) => self.apply(a),
            // the screen read its data again, as its own `R` always did
            Outcome::Consumed => {}
            Outcome::Ignored => {
                self.refresh_home();
                let what = if self.store.is_some() {
                    "the tree and the store's counters"
                } else {
                    "the tree"
                };
                self.say(Level::Info, format!("read again: {what}"));
            }
        }
    }

    /// C-w: shown → hidden → wide → shown. A hidden tree gives the focus to the main
    /// pane.
    pub(super) fn cycle_tree(&mut self) {
        self.tree_view = match self.tree_view {
            TreeView::Shown => TreeView::Hidden,
            TreeView::Hidden => TreeView::Wide,
            TreeView::Wide => TreeView::Shown,
        };
        if self.tree_view == TreeView::Hidden && self.focus == Focus::Tree {
            self.focus = Focus::Main;
        }
    }

    /// `:cancel` (and C-c while such work runs): cancel the newest background work that
    /// allows it.
    pub(super) fn cancel_work(&mut self) {
        match self.store.as_ref().and_then(|l| l.cancel()) {
            Some(label) => self.say(
                Level::Info,
                format!("cancelled {}", label.trim_end_matches('…')),
            ),
            None => self.say(
                Level::Info,
                "nothing to cancel: connectivity tests, table listings and inbox decisions can be cancelled while they run",
            ),
        }
    }

    /// A key bound to `quit` in `global` that types nothing (C-q, C-c): it works
    /// everywhere, before overlays and text editors see it. C-c first cancels the
    /// background work that allows it. False for other keys.
    pub(super) fn interrupt(&mut self, key: Key) -> bool {
        if key.typed().is_some() || self.keymap.local_action("global", key) != Some("quit") {
            return false;
        }
        if key == Key::ctrl('c') && self.store.as_ref().is_some_and(|l| l.cancellable()) {
            self.cancel_work();
            return true;
        }
        self.overlay = None;
        let notation = key.notation();
        self.quit_key = notation
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string();
        self.apply(Action::Quit);
        true
    }

    /// Whether the global `action` does something in `context` now (help lists only
    /// those): saving and reloading need a job open in the active screen, cancelling
    /// needs work that allows it.
    pub(super) fn global_works_here(&self, context: &str, action: &str) -> bool {
        // a context's own binding of the name (the SQL editor's `apply`) always works
        let own = context != "global"
            && crate::keymap::DEFAULTS
                .iter()
                .any(|(c, _, a, _)| *c == context && *a == action);
        match action {
            "save" | "reload" if !own => self.screen().job().is_some(),
            "cancel" if !own => self.store.as_ref().is_some_and(|l| l.cancellable()),
            _ => true,
        }
    }
}
