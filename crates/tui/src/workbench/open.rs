//! Opening screens: a `:name` of the palette (`SCREENS`), the graph editor of a job of
//! the tree, and `:versions`. A governance or monitoring screen stands alone above the
//! job being edited (the one it replaces goes into the history Esc goes back along);
//! opening another job or Home first asks for unsaved edits to be saved or dropped.

use super::{Focus, TreeView, Workbench, unsaved_first};
use crate::action::{Action, Level};
use crate::screens::graph::GraphScreen;
use crate::screens::{Context, gov, jobs};

impl Workbench {
    /// Open the screen `:name` (or run the palette command of that name).
    pub(super) fn open(&mut self, name: &'static str) {
        match name {
            "home" => {
                if let Some(job) = self.unsaved_job() {
                    self.say(Level::Warning, unsaved_first(&job));
                    return;
                }
                self.close_above(1);
                self.history.clear();
                self.refresh_home();
                self.focus = Focus::Main;
            }
            "tree" => {
                self.focus = Focus::Tree;
                if self.tree_view == TreeView::Hidden {
                    self.tree_view = TreeView::Shown;
                }
            }
            "reload" => self.refresh_all(),
            "messages" => self.show_log(false),
            "notifications" => self.show_log(true),
            "cancel" => self.cancel_work(),
            "datasources" | "topics" | "requests" | "inbox" | "grants" | "releases" => {
                // the job open (or selected) now: what `:releases` offers to release
                let job = self.job_in_view();
                let cx = Context {
                    project: &self.project,
                    theme: &self.theme,
                    keymap: &self.keymap,
                    store: self.store.as_ref(),
                };
                let problem = self.store_problem.as_deref();
                let mut screen = gov::open(name, &cx, problem);
                if let (Some(rel), "releases") = (&job, name) {
                    screen.reveal(rel);
                }
                // one governance screen at a time above the job being edited
                self.replace_top();
                self.screens.push(screen);
                self.focus = Focus::Main;
            }
            "instances" | "alerts" => self.open_monitor(name),
            "run" => self.run_open_job(),
            "help" => self.apply(Action::Help),
            "quit" => self.quit_or_warn(),
            "versions" => self.open_versions(),
            // submit belongs to the graph editor of the open job
            "submit" => {
                while self.screens.len() > 1 && self.screen().job().is_none() {
                    self.close_above(self.screens.len() - 1);
                }
                if self.screens.len() == 1 {
                    self.open("graph");
                }
                if self.screens.len() > 1 {
                    self.focus = Focus::Main;
                    self.apply(Action::Perform("submit".into()));
                }
            }
            "graph" => {
                if self.screens.len() > 1 {
                    self.focus = Focus::Main;
                } else {
                    match self.tree_job() {
                        Some(rel) => self.open_job_at(&rel),
                        None => self.say(Level::Warning, "select a job in the tree first"),
                    }
                }
            }
            // the SQL editor and config form live inside the graph editor
            "sql" | "config" => {
                if self.screens.len() == 1 {
                    self.open("graph");
                }
                if self.screens.len() > 1 {
                    self.focus = Focus::Main;
                    let action = if name == "sql" {
                        "edit-sql"
                    } else {
                        "edit-config"
                    };
                    self.apply(Action::Perform(action.into()));
                }
            }
            _ => {}
        }
    }

    /// `:versions` of the open job, else of the job selected on Home or in the tree.
    pub(super) fn open_versions(&mut self) {
        let rel = self
            .open_job()
            .or_else(|| match (self.focus, self.screens.len()) {
                (Focus::Main, 1) => self.screen().selected_entry(),
                _ => None,
            })
            .or_else(|| self.tree_job());
        let unsaved = rel.is_some() && self.unsaved_job() == rel;
        let cx = Context {
            project: &self.project,
            theme: &self.theme,
            keymap: &self.keymap,
            store: self.store.as_ref(),
        };
        match jobs::versions::open(&cx, rel, self.store_problem.as_deref(), unsaved) {
            Ok(screen) => {
                // one such screen at a time above the job being edited
                self.replace_top();
                self.screens.push(screen);
                self.focus = Focus::Main;
            }
            Err(why) => self.say(Level::Warning, why),
        }
    }

    /// The graph editor of the job at `rel` (relative to `jobs/`).
    pub(super) fn open_job_at(&mut self, rel: &str) {
        if self.open_job().as_deref() == Some(rel) {
            self.focus = Focus::Main;
            return;
        }
        if let Some(job) = self.unsaved_job() {
            self.say(Level::Warning, unsaved_first(&job));
            return;
        }
        match GraphScreen::open(&self.project, rel) {
            Ok(screen) => {
                self.remember_top();
                self.close_above(1);
                self.screens.push(Box::new(screen));
                self.focus = Focus::Main;
            }
            Err(e) => self.say(Level::Error, e.to_string()),
        }
    }
}
