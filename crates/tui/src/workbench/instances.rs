//! The instance screens' share of the workbench: `:instances` and `:alerts` (opened like
//! the governance screens, one at a time above the job being edited), the live view of
//! one instance (`Action::OpenInstance`, pushed above the screen that asked), and `:run`,
//! which belongs to the graph editor of the open job.

use super::{Focus, Workbench};
use crate::action::{Action, Level};
use crate::screens::instances::alerts::Alerts;
use crate::screens::instances::list::Instances;
use crate::screens::instances::view::InstanceView;
use crate::screens::{Context, Screen, gov};

impl Workbench {
    /// `:instances` or `:alerts`; without a store, a screen that says why.
    pub(super) fn open_monitor(&mut self, name: &'static str) {
        // the job open (or selected): what the start form offers
        let job = self.job_in_view();
        let cx = Context {
            project: &self.project,
            theme: &self.theme,
            keymap: &self.keymap,
            store: self.store.as_ref(),
        };
        let mut screen: Box<dyn Screen> = match (cx.store.is_some(), name) {
            (false, _) => gov::open(name, &cx, self.store_problem.as_deref()),
            (true, "alerts") => Box::new(Alerts::new(&cx)),
            (true, _) => Box::new(Instances::new(&cx)),
        };
        if let Some(rel) = &job {
            screen.reveal(rel);
        }
        // one such screen at a time above the job being edited
        self.replace_top();
        self.screens.push(screen);
        self.focus = Focus::Main;
    }

    /// The live view of instance `id`, above the active screen (Esc returns to it).
    pub(super) fn open_instance(&mut self, id: i64) {
        if self.store.is_none() {
            let why = self
                .store_problem
                .clone()
                .unwrap_or_else(|| "no metadata store is open".into());
            self.say(
                Level::Error,
                format!("instance #{id} is kept in the metadata store: {why}"),
            );
            return;
        }
        let cx = Context {
            project: &self.project,
            theme: &self.theme,
            keymap: &self.keymap,
            store: self.store.as_ref(),
        };
        let view = InstanceView::open(id, &cx);
        // a view of another instance is replaced, not stacked
        if self.screens.len() > 1 && self.screen().name() == "instance" {
            self.close_above(self.screens.len() - 1);
        }
        self.screens.push(Box::new(view));
        self.focus = Focus::Main;
    }

    /// `:run`: the graph editor of the open (or selected) job starts a test instance.
    pub(super) fn run_open_job(&mut self) {
        while self.screens.len() > 1 && self.screen().job().is_none() {
            self.close_above(self.screens.len() - 1);
        }
        if self.screens.len() == 1 {
            self.open("graph");
        }
        if self.screens.len() > 1 {
            self.focus = Focus::Main;
            self.apply(Action::Perform("run".into()));
        }
    }
}
