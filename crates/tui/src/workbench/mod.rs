//! The workbench state and the one place actions are carried out. Input is turned into
//! actions by the panes (`keys.rs`: overlays, bindings, the palette), actions change
//! state here (`apply`), and the view draws the state (`view.rs`) without changing it.
//! Background work of the store link (approvals, connectivity tests) is collected on
//! every turn of the event loop (`tick`), also for a screen closed while its work runs.
//! Every message goes through `say` into the message log (`messages.rs`); screen
//! history, refreshing, the tree's width and interrupting live in `nav.rs`.

mod instances;
mod keys;
pub mod messages;
mod nav;
mod open;

pub use nav::TreeView;

use super::action::{Action, Level, Outcome};
use super::keymap::Keymap;
use super::overlay::{LineInput, Overlay};
use super::screens::home::Home;
use super::screens::{Context, Screen, jobs};
use super::theme::Theme;
use super::tree::TreePane;
use weir_app::project::Project;
use weir_app::store_link::StoreLink;

/// Screens the palette can open by `:name`, with what they are.
pub const SCREENS: &[(&str, &str)] = &[
    ("home", "project overview: every job and its state"),
    ("graph", "graph editor of the selected job"),
    ("sql", "SQL editor of the selected node"),
    ("config", "job config form of the open job"),
    (
        "versions",
        "versions of the open job: diff, checkout, edit lock",
    ),
    ("submit", "submit the open job as a new version"),
    (
        "datasources",
        "data sources: list, create, edit, test connectivity",
    ),
    (
        "topics",
        "the catalog: data sources, their topics and tables, topic lifecycle",
    ),
    (
        "requests",
        "my requests: in progress and finished, with their history",
    ),
    (
        "inbox",
        "approval inbox: everything waiting for my decision",
    ),
    (
        "grants",
        "authorization: whitelists, blacklist and public per table",
    ),
    (
        "releases",
        "releases: their states, diffs, go-live and offline",
    ),
    (
        "instances",
        "running instances: live rates, start, stop, restart",
    ),
    ("alerts", "firing and recent alerts of the instances"),
    ("run", "start a test instance of the open job and watch it"),
    ("tree", "the project tree"),
    (
        "reload",
        "read the tree, the active screen and the store's counters again",
    ),
    (
        "messages",
        "every message of this session, whole, with its time",
    ),
    (
        "notifications",
        "decisions on my requests and alerts that fired",
    ),
    ("cancel", "cancel the background work that allows it"),
    ("help", "keys of the active screen"),
    ("quit", "leave weir"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Tree,
    Main,
}

/// Test or production: production uses the prod skin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Env {
    Test,
    Prod,
}

impl Env {
    pub fn name(self) -> &'static str {
        match self {
            Env::Test => "test",
            Env::Prod => "prod",
        }
    }
}

pub struct Workbench {
    pub project: Project,
    pub tree: TreePane,
    /// Main-pane screens, the active one last; the bottom one is always Home.
    pub screens: Vec<Box<dyn Screen>>,
    pub focus: Focus,
    pub overlay: Option<Overlay>,
    pub status: Option<(Level, String)>,
    pub theme: Theme,
    pub keymap: Keymap,
    pub env: Env,
    pub user: String,
    /// The metadata store; None when it is not open (then `store_problem` says why).
    pub store: Option<StoreLink>,
    pub store_problem: Option<String>,
    /// Screens closed while their background work ran: ticked until it is done, so its
    /// result still reaches the status bar.
    retired: Vec<Box<dyn Screen>>,
    /// Turns of the event loop while background work runs: the spinner's frame.
    pub spin: usize,
    pub quit: bool,
    /// Quit was asked for once with unsaved edits: a quit by the next key leaves.
    quit_armed: bool,
    /// The key being handled directly follows such a first quit.
    quit_confirmed: bool,
    /// The key that quits, as the last quit was asked for (`C-q`, `C-c`).
    quit_key: String,
    /// The time the log and the notifications read.
    clock: messages::Clock,
    /// Every message said, for `:messages`.
    log: messages::Log,
    /// Every notification, for `:notifications`.
    notes: messages::Log,
    /// Notifications since `:notifications` was last opened.
    unread_notes: usize,
    /// Messages said since the last key press.
    said_since_key: usize,
    /// Screens replaced by another at the same depth of the stack, to go back to:
    /// (depth, `:name`).
    history: Vec<(usize, &'static str)>,
    /// Shown, hidden or wide (C-w).
    pub tree_view: TreeView,
}

impl Workbench {
    pub fn new(
        project: Project,
        theme: Theme,
        keymap: Keymap,
        env: Env,
        user: String,
    ) -> Workbench {
        let (tree, err) = TreePane::load(&project);
        let home = {
            let cx = Context {
                project: &project,
                theme: &theme,
                keymap: &keymap,
                store: None,
            };
            Home::new(&cx)
        };
        Workbench {
            project,
            tree,
            screens: vec![Box::new(home)],
            focus: Focus::Tree,
            overlay: None,
            status: err.map(|e| (Level::Error, e)),
            theme,
            keymap,
            env,
            user,
            store: None,
            store_problem: Some("no metadata store is open".into()),
            retired: Vec::new(),
            spin: 0,
            quit: false,
            quit_armed: false,
            quit_confirmed: false,
            quit_key: "C-q".into(),
            clock: messages::Clock::default(),
            log: messages::Log::default(),
            notes: messages::Log::default(),
            unread_notes: 0,
            said_since_key: 0,
            history: Vec::new(),
            tree_view: TreeView::Shown,
        }
    }

    /// Use this store: governance screens read it, the status bar shows the role and the
    /// counters.
    pub fn attach_store(&mut self, link: StoreLink) {
        self.user = link.who();
        self.store = Some(link);
        self.store_problem = None;
        self.refresh_marks();
    }

    /// Read the tree's job markers again (lock holders, modified working copies): when
    /// the tree or the store changed, never while drawing.
    fn refresh_marks(&mut self) {
        if let Some(link) = self.store.as_ref() {
            self.tree.marks = jobs::marks::read(link, &self.project, &self.tree.entries);
        }
    }

    /// The store could not be opened: governance screens say why.
    pub fn store_failed(&mut self, why: String) {
        self.store = None;
        self.store_problem = Some(why);
    }

    /// One turn of the event loop without a key: background results, changes by others.
    pub fn tick(&mut self) {
        let changed = match self.store.as_mut() {
            Some(link) => {
                let changed = link.tick();
                if changed {
                    self.user = link.who();
                }
                if let Some(p) = link.problem.take() {
                    self.say(Level::Error, p);
                }
                changed
            }
            None => false,
        };
        if changed {
            self.refresh_marks();
        }
        self.catch_status();
        self.take_notices();
        // files added or removed on disk (the tree lists jobs/ at most every 1.5 s)
        if let Some(msg) = self.tree.poll(&self.project) {
            self.refresh_marks();
            self.refresh_home();
            self.say(Level::Info, msg);
        }
        if self.store.as_ref().is_some_and(|l| !l.running().is_empty()) {
            self.spin = self.spin.wrapping_add(1);
        }
        let mut actions = Vec::new();
        let cx = Context {
            project: &self.project,
            theme: &self.theme,
            keymap: &self.keymap,
            store: self.store.as_ref(),
        };
        for screen in self.screens.iter_mut().chain(self.retired.iter_mut()) {
            if let Some(a) = screen.tick(&cx, changed) {
                actions.push(a);
            }
        }
        self.retired.retain(|s| s.busy());
        for a in actions {
            self.apply(a);
        }
    }

    /// Close the screens above the first `keep` (Home is the first); those whose
    /// background work still runs are kept ticking until it is done. History deeper
    /// than the screens kept is forgotten.
    fn close_above(&mut self, keep: usize) {
        let keep_depth = keep.max(1);
        self.history.retain(|(depth, _)| *depth <= keep_depth);
        while self.screens.len() > keep.max(1) {
            if let Some(screen) = self.screens.pop()
                && screen.busy()
            {
                self.retired.push(screen);
            }
        }
    }

    /// After an action of our own that wrote to the store: fresh counters and role now.
    fn store_written(&mut self) {
        if let Some(link) = self.store.as_mut() {
            link.refresh();
            self.user = link.who();
        }
        self.refresh_marks();
    }

    pub fn screen(&self) -> &dyn Screen {
        self.screens
            .last()
            .map(|s| s.as_ref())
            .expect("home is always there")
    }

    /// The keymap context of what has focus.
    pub fn context(&self) -> &'static str {
        match self.focus {
            Focus::Tree => "tree",
            Focus::Main => self.screen().context(),
        }
    }

    pub fn mode(&self) -> &'static str {
        match &self.overlay {
            Some(Overlay::Palette { .. }) => "COMMAND",
            Some(Overlay::Filter { .. }) => "FILTER",
            Some(Overlay::Prompt { .. }) => "INPUT",
            Some(Overlay::ConfirmDelete { .. }) => "CONFIRM",
            Some(Overlay::Help { .. }) => "HELP",
            Some(Overlay::Log { .. }) => "LOG",
            None if self.focus == Focus::Main => self.screen().mode(),
            None => "NORMAL",
        }
    }

    /// The relative path of the job open in the main pane, if any.
    pub fn open_job(&self) -> Option<String> {
        self.screens.iter().rev().find_map(|s| s.job())
    }

    /// The job (not a folder) selected in the tree, if any.
    fn tree_job(&self) -> Option<String> {
        self.tree
            .current()
            .filter(|e| !e.is_folder)
            .map(|e| e.rel.clone())
    }

    /// The job open in the main pane, else the one selected in the tree: what `:releases`
    /// offers to release and the start form to start.
    fn job_in_view(&self) -> Option<String> {
        self.open_job().or_else(|| self.tree_job())
    }

    /// The open job with edits not written to disk (unsaved, or an unapplied form or
    /// SQL editor), if any.
    fn unsaved_job(&self) -> Option<String> {
        self.screens
            .iter()
            .skip(1)
            .find(|s| s.unsaved())
            .and_then(|s| s.job())
    }

    /// An open job at `rel` or inside folder `rel` that has unsaved edits.
    fn unsaved_under(&self, rel: &str) -> Option<String> {
        self.screens
            .iter()
            .skip(1)
            .filter(|s| s.unsaved())
            .filter_map(|s| s.job())
            .find(|j| j == rel || j.starts_with(&format!("{rel}/")))
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit_or_warn(),
            Action::Back => {
                if self.focus == Focus::Main && self.screens.len() > 1 {
                    if self.screen().dirty() {
                        self.say(
                            Level::Warning,
                            "unsaved changes: C-s saves, C-r reloads from disk, then Esc closes",
                        );
                    } else {
                        self.close_above(self.screens.len() - 1);
                        self.back_in_history();
                        self.refresh_home();
                    }
                } else if self.focus == Focus::Main {
                    self.focus = Focus::Tree;
                } else if !self.tree.filter.is_empty() {
                    self.tree.set_filter("");
                }
            }
            Action::FocusNext => {
                self.focus = match self.focus {
                    Focus::Tree => Focus::Main,
                    Focus::Main => Focus::Tree,
                };
                // the hidden tree shows again when it gets the focus
                if self.focus == Focus::Tree && self.tree_view == TreeView::Hidden {
                    self.tree_view = TreeView::Shown;
                }
            }
            Action::Palette => {
                let commands = self.commands();
                self.overlay = Some(Overlay::Palette {
                    input: LineInput::default(),
                    commands,
                    selected: 0,
                })
            }
            Action::Filter => {
                self.overlay = Some(Overlay::Filter {
                    input: LineInput::default(),
                })
            }
            Action::Help => {
                let context = self.context();
                let lines = self
                    .keymap
                    .bindings(context)
                    .into_iter()
                    .filter(|(_, a)| self.global_works_here(context, a))
                    .map(|(k, a)| {
                        let d = Keymap::describe(context, &a).to_string();
                        (k, a, d)
                    })
                    .collect();
                self.overlay = Some(Overlay::Help {
                    context,
                    lines,
                    top: 0,
                });
            }
            Action::Open(name) => self.open(name),
            Action::OpenJob(rel) => self.open_job_at(&rel),
            Action::OpenInstance(id) => self.open_instance(id),
            Action::Perform(a) => {
                if let Outcome::Action(next) = self.perform_focused(&a) {
                    self.apply(next);
                }
            }
            Action::StoreWritten(level, msg) => {
                self.store_written();
                self.apply(Action::Status(level, msg));
                self.tick();
            }
            Action::Status(level, msg) => self.say(level, msg),
            Action::TreeChanged(select) => {
                if let Some(e) = self.tree.reload(&self.project, select.as_deref()) {
                    self.say(Level::Error, e);
                }
                self.refresh_marks();
                self.refresh_home();
                if let (Some(rel), [home]) = (&select, self.screens.as_mut_slice()) {
                    home.reveal(rel);
                }
            }
        }
    }

    /// Quit, unless a job has unsaved edits and this is the first quit in a row.
    fn quit_or_warn(&mut self) {
        match self.unsaved_job() {
            Some(job) if !self.quit_confirmed => {
                self.quit_armed = true;
                let key = self.quit_key.clone();
                self.say(
                    Level::Warning,
                    format!(
                        "unsaved changes in jobs/{job}: C-s saves, {key} again quits without saving"
                    ),
                );
            }
            _ => self.quit = true,
        }
    }

    fn refresh_home(&mut self) {
        if self.screens.len() == 1 {
            let cx = Context {
                project: &self.project,
                theme: &self.theme,
                keymap: &self.keymap,
                store: self.store.as_ref(),
            };
            self.screens[0] = Box::new(Home::new(&cx));
        }
    }
}

/// Tree actions that Home runs on its selected job too.
const TREE_EDITS: [&str; 5] = ["new-job", "new-folder", "rename", "delete", "move"];

fn unsaved_first(job: &str) -> String {
    format!("unsaved changes in jobs/{job}: save (C-s) or reload (C-r) first")
}
