//! The graph editor driven through its actions and keys, on temp copies of jobs:
//! `flows.rs` (building, connecting, deleting, saving), `forms.rs` (the forms and the
//! SQL editor).

mod flows;
mod forms;

use std::path::PathBuf;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::form::Form;
use super::select::Selection;
use super::{GraphScreen, Mode};
use crate::action::{Action, Level, Outcome};
use crate::headless::frame_text;
use crate::keymap::Keymap;
use crate::keys::parse_keys;
use crate::screens::{Context, Screen};
use crate::theme::Theme;
use crate::workbench::Workbench;
use weir_app::project::Project;

/// A project of its own with one empty job `orders` (as the tree's "new job" makes it).
pub(super) fn project(tag: &str) -> (Project, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // the last component is the project's name on screen
    let root: PathBuf = std::env::temp_dir()
        .join(format!("weir-graph-{tag}-{}-{nanos}", std::process::id()))
        .join("demo");
    std::fs::create_dir_all(root.join("jobs")).unwrap();
    let p = Project { root };
    let rel = p.create_job("", "orders").unwrap();
    (p, rel)
}

/// A graph screen on a fresh job, with what it needs to run.
pub(super) struct Rig {
    pub(super) project: Project,
    pub(super) theme: Theme,
    pub(super) keymap: Keymap,
    pub(super) screen: GraphScreen,
    /// The last status message.
    pub(super) last: Option<(Level, String)>,
}

impl Rig {
    pub(super) fn new(tag: &str) -> Rig {
        let (project, rel) = project(tag);
        let screen = GraphScreen::open(&project, &rel).unwrap();
        Rig {
            project,
            theme: Theme::default(),
            keymap: Keymap::defaults(),
            screen,
            last: None,
        }
    }

    fn note(&mut self, out: &Outcome) {
        if let Outcome::Action(Action::Status(l, m)) = out {
            self.last = Some((*l, m.clone()));
        }
    }

    pub(super) fn perform(&mut self, action: &str) -> Outcome {
        let cx = Context {
            project: &self.project,
            theme: &self.theme,
            keymap: &self.keymap,
            store: None,
        };
        let out = self.screen.perform(action, &cx);
        self.note(&out);
        out
    }

    /// Keys routed as `Workbench::pane_key` routes them.
    pub(super) fn keys(&mut self, keys: &str) {
        for key in parse_keys(keys).unwrap() {
            let cx = Context {
                project: &self.project,
                theme: &self.theme,
                keymap: &self.keymap,
                store: None,
            };
            let mut out = Outcome::Ignored;
            if self.screen.captures_text() {
                out = self.screen.handle_key(key, &cx);
            }
            if out == Outcome::Ignored
                && let Some(a) = self.keymap.local_action(self.screen.context(), key)
            {
                out = self.screen.perform(a, &cx);
            }
            if out == Outcome::Ignored
                && let Some(a @ ("save" | "reload")) = self.keymap.local_action("global", key)
            {
                out = self.screen.perform(a, &cx);
            }
            if out == Outcome::Ignored && !self.screen.captures_text() {
                out = self.screen.handle_key(key, &cx);
            }
            self.note(&out);
        }
    }

    /// The screen drawn alone in a `w` x `h` area.
    pub(super) fn frame(&mut self, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        let cx = Context {
            project: &self.project,
            theme: &self.theme,
            keymap: &self.keymap,
            store: None,
        };
        t.draw(|f| self.screen.render(f, f.area(), &cx, true))
            .unwrap();
        frame_text(t.backend().buffer())
    }

    pub(super) fn form(&self) -> &Form {
        match &self.screen.mode {
            Mode::Form(f) => f,
            _ => panic!("no form open (mode {})", self.screen.mode()),
        }
    }

    /// Problems under row `name` of the open form.
    pub(super) fn row_problems(&self, name: &str) -> Vec<String> {
        let f = self.form();
        let row = f.rows.iter().find(|r| r.name == name).unwrap();
        row.problems.iter().map(|p| p.message.clone()).collect()
    }

    pub(super) fn select(&mut self, id: &str) {
        let i = self
            .screen
            .job
            .nodes
            .iter()
            .position(|n| n.id() == id)
            .unwrap();
        self.screen.sel = Selection::Node(i);
    }

    /// Set row `name` of the open form to `text` through the keys.
    pub(super) fn set_row(&mut self, name: &str, text: &str) {
        let k = self
            .form()
            .rows
            .iter()
            .position(|r| r.name == name)
            .unwrap();
        while self.form().selected > k {
            self.keys("<Up>");
        }
        while self.form().selected < k {
            self.keys("<Down>");
        }
        // clear the row, then type
        self.keys("<Enter><End>");
        let n = self.form().editing.as_ref().unwrap().text.chars().count();
        for _ in 0..n {
            self.keys("<BS>");
        }
        self.keys(&text.replace('<', "<lt>"));
        self.keys("<Enter>");
    }

    /// The rig with a KafkaSource added (its form open).
    pub(super) fn with_kafka(tag: &str) -> Rig {
        let mut r = Rig::new(tag);
        r.perform("add-node");
        r.keys("KafkaSource<Enter>");
        r
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(dir) = self.project.root.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The whole workbench drawn at `w` x `h`.
pub(super) fn app_frame(app: &mut Workbench, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| crate::view::draw(app, f)).unwrap();
    frame_text(t.backend().buffer())
}
