//! The workbench state and the one place actions are carried out. Input is turned into
//! actions by the panes (`handle_key`), actions change state here (`apply`), and the
//! view draws the state (`view.rs`) without changing it.

use crossterm::event::KeyCode;

use super::action::{Action, Level, Outcome};
use super::keymap::Keymap;
use super::keys::Key;
use super::overlay::{Command, LineInput, Overlay, PromptKind};
use super::screens::graph::GraphScreen;
use super::screens::home::Home;
use super::screens::{Context, Screen, gov};
use super::store_link::StoreLink;
use super::theme::Theme;
use super::tree::TreePane;
use crate::app::project::Project;

/// Screens the palette can open by `:name`, with what they are.
pub const SCREENS: &[(&str, &str)] = &[
    ("home", "project overview: every job and its state"),
    ("graph", "graph editor of the selected job"),
    ("sql", "SQL editor of the selected node"),
    ("config", "job config form of the open job"),
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
    ("tree", "the project tree"),
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

pub struct App {
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
    pub quit: bool,
    /// Quit was asked for once with unsaved edits: a quit by the next key leaves.
    quit_armed: bool,
    /// The key being handled directly follows such a first quit.
    quit_confirmed: bool,
}

impl App {
    pub fn new(project: Project, theme: Theme, keymap: Keymap, env: Env, user: String) -> App {
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
        App {
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
            quit: false,
            quit_armed: false,
            quit_confirmed: false,
        }
    }

    /// Use this store: governance screens read it, the status bar shows the role and the
    /// counters.
    pub fn attach_store(&mut self, link: StoreLink) {
        self.user = link.who();
        self.store = Some(link);
        self.store_problem = None;
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
                    self.status = Some((Level::Error, p));
                }
                changed
            }
            None => false,
        };
        let mut actions = Vec::new();
        for i in 0..self.screens.len() {
            let cx = Context {
                project: &self.project,
                theme: &self.theme,
                keymap: &self.keymap,
                store: self.store.as_ref(),
            };
            if let Some(a) = self.screens[i].tick(&cx, changed) {
                actions.push(a);
            }
        }
        for a in actions {
            self.apply(a);
        }
    }

    /// After an action of our own that wrote to the store: fresh counters and role now.
    fn store_written(&mut self) {
        if let Some(link) = self.store.as_mut() {
            link.refresh();
            self.user = link.who();
        }
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
            None if self.focus == Focus::Main => self.screen().mode(),
            None => "NORMAL",
        }
    }

    /// The relative path of the job open in the main pane, if any.
    pub fn open_job(&self) -> Option<String> {
        self.screens.iter().rev().find_map(|s| s.job())
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

    /// Feed one key press through overlays, bindings and panes.
    pub fn handle_key(&mut self, key: Key) {
        // a second quit must follow the first directly
        self.quit_confirmed = std::mem::take(&mut self.quit_armed);
        if self.overlay.is_some() {
            let action = self.overlay_key(key);
            if let Some(a) = action {
                self.apply(a);
            }
            return;
        }
        let outcome = self.pane_key(key);
        if let Outcome::Action(a) = outcome {
            self.apply(a);
        }
    }

    fn pane_key(&mut self, key: Key) -> Outcome {
        let context = self.context();
        // a screen that edits text sees keys before any binding
        if self.focus == Focus::Main && self.screen().captures_text() {
            let out = self.with_screen(|s, cx| s.handle_key(key, cx));
            if out != Outcome::Ignored {
                return out;
            }
        }
        if let Some(action) = self.keymap.local_action(context, key).map(str::to_string) {
            // a pane's binding may name a global action too (`tree: {"q": "quit"}`)
            let out = self.global(&action);
            if out != Outcome::Ignored {
                return out;
            }
        }
        if let Some(action) = self.keymap.local_action("global", key).map(str::to_string) {
            return self.global(&action);
        }
        if self.focus == Focus::Main && !self.screen().captures_text() {
            return self.with_screen(|s, cx| s.handle_key(key, cx));
        }
        Outcome::Ignored
    }

    fn with_screen<T>(&mut self, f: impl FnOnce(&mut dyn Screen, &Context) -> T) -> T {
        let cx = Context {
            project: &self.project,
            theme: &self.theme,
            keymap: &self.keymap,
            store: self.store.as_ref(),
        };
        let screen = self.screens.last_mut().expect("home is always there");
        f(screen.as_mut(), &cx)
    }

    /// A named action for the focused pane.
    fn perform_focused(&mut self, action: &str) -> Outcome {
        match self.focus {
            Focus::Tree => self.tree_perform(action),
            Focus::Main => {
                let out = self.with_screen(|s, cx| s.perform(action, cx));
                // Home lists the tree's jobs and takes the tree's keys: n, r, d, m, ...
                if out == Outcome::Ignored
                    && self.screens.len() == 1
                    && TREE_EDITS.contains(&action)
                {
                    if let Some(rel) = self.screen().selected_entry() {
                        self.tree.select(&rel);
                    }
                    return self.tree_perform(action);
                }
                out
            }
        }
    }

    /// A tree action; renaming or moving an open job with unsaved edits is refused.
    fn tree_perform(&mut self, action: &str) -> Outcome {
        let out = self.tree.perform(action, &mut self.overlay);
        if let Some(Overlay::Prompt {
            kind: PromptKind::Rename { rel } | PromptKind::Move { rel },
            ..
        }) = &self.overlay
            && let Some(job) = self.unsaved_under(rel)
        {
            self.overlay = None;
            return Action::Status(Level::Warning, unsaved_first(&job)).into();
        }
        out
    }

    /// Global actions by name (keymap `global` context and palette).
    fn global(&mut self, action: &str) -> Outcome {
        let a = match action {
            "palette" => Action::Palette,
            "help" => Action::Help,
            "filter" => Action::Filter,
            "back" => Action::Back,
            "focus-next" => Action::FocusNext,
            "quit" => Action::Quit,
            // saving and reloading belong to the open job, wherever focus is
            "save" | "reload" => {
                let out = self.with_screen(|s, cx| s.perform(action, cx));
                return if out == Outcome::Ignored {
                    Action::Status(
                        Level::Warning,
                        format!("nothing to {action}: open a job first"),
                    )
                    .into()
                } else {
                    out
                };
            }
            other => return self.perform_focused(other),
        };
        a.into()
    }

    fn overlay_key(&mut self, key: Key) -> Option<Action> {
        let overlay = self.overlay.as_mut()?;
        match overlay {
            Overlay::Help { lines, top, .. } => {
                let n = lines.len();
                match key.code {
                    KeyCode::Up | KeyCode::Char('k') => *top = top.saturating_sub(1),
                    KeyCode::Down | KeyCode::Char('j') => *top = (*top + 1).min(n),
                    KeyCode::PageUp => *top = top.saturating_sub(10),
                    KeyCode::PageDown => *top = (*top + 10).min(n),
                    _ => self.overlay = None,
                }
                None
            }
            Overlay::ConfirmDelete { rel } => {
                let rel = rel.clone();
                self.overlay = None;
                if key == Key::char('y') {
                    Some(match self.project.delete(&rel) {
                        Ok(()) => {
                            self.status = Some((Level::Ok, format!("deleted {rel}")));
                            self.screens
                                .retain(|s| s.job().as_deref() != Some(rel.as_str()));
                            Action::TreeChanged(None)
                        }
                        Err(e) => Action::Status(Level::Error, e.to_string()),
                    })
                } else {
                    Some(Action::Status(Level::Info, "not deleted".into()))
                }
            }
            Overlay::Filter { input } => match key.code {
                KeyCode::Esc => {
                    self.overlay = None;
                    self.set_filter("");
                    None
                }
                KeyCode::Enter => {
                    self.overlay = None;
                    None
                }
                _ => {
                    input.handle(key);
                    let text = input.text.clone();
                    self.set_filter(&text);
                    None
                }
            },
            Overlay::Prompt { kind, input } => match key.code {
                KeyCode::Esc => {
                    self.overlay = None;
                    None
                }
                KeyCode::Enter => {
                    let (kind, text) = (kind.clone(), input.text.trim().to_string());
                    self.overlay = None;
                    Some(self.prompt_done(kind, &text))
                }
                _ => {
                    input.handle(key);
                    None
                }
            },
            Overlay::Palette {
                input,
                commands,
                selected,
            } => match key.code {
                KeyCode::Esc => {
                    self.overlay = None;
                    None
                }
                KeyCode::Up => {
                    *selected = selected.saturating_sub(1);
                    None
                }
                KeyCode::Down | KeyCode::Tab => {
                    let n = Overlay::matches(input, commands).len();
                    *selected = (*selected + 1).min(n.saturating_sub(1));
                    None
                }
                KeyCode::Enter => {
                    let found = Overlay::matches(input, commands)
                        .get(*selected)
                        .map(|c| c.run.clone());
                    let typed = input.text.clone();
                    self.overlay = None;
                    Some(match found {
                        Some(run) => self.run_command(&run),
                        None => Action::Status(
                            Level::Error,
                            format!("no command `{typed}`: : lists them all"),
                        ),
                    })
                }
                _ => {
                    input.handle(key);
                    *selected = 0;
                    None
                }
            },
        }
    }

    fn set_filter(&mut self, text: &str) {
        match self.focus {
            Focus::Tree => self.tree.set_filter(text),
            Focus::Main => self.with_screen(|s, _| s.set_filter(text)),
        }
    }

    fn prompt_done(&mut self, kind: PromptKind, text: &str) -> Action {
        let result = match &kind {
            PromptKind::NewJob { folder } => self.project.create_job(folder, text).map(|rel| {
                self.status = Some((Level::Ok, format!("created jobs/{rel}")));
                rel
            }),
            PromptKind::NewFolder { parent } => {
                self.project.create_folder(parent, text).map(|rel| {
                    self.status = Some((Level::Ok, format!("created folder jobs/{rel}")));
                    rel
                })
            }
            PromptKind::Rename { rel } | PromptKind::Move { rel }
                if let Some(job) = self.unsaved_under(rel) =>
            {
                return Action::Status(Level::Warning, unsaved_first(&job));
            }
            PromptKind::Rename { rel } => self.project.rename(rel, text),
            PromptKind::Move { rel } => self.project.move_to(rel, text.trim_matches('/')),
        };
        match result {
            Ok(rel) => {
                if let PromptKind::Rename { rel: old } | PromptKind::Move { rel: old } = &kind {
                    self.status = Some((Level::Ok, format!("{old} → {rel}")));
                    self.follow_move(old, &rel);
                }
                Action::TreeChanged(Some(rel))
            }
            Err(e) => Action::Status(Level::Error, e.to_string()),
        }
    }

    /// A job open at `old` (or inside folder `old`) moved to `new`: open it again at its
    /// new path (it has no unsaved edits, `prompt_done` made sure).
    fn follow_move(&mut self, old: &str, new: &str) {
        let inside = format!("{old}/");
        for i in 1..self.screens.len() {
            let Some(job) = self.screens[i].job() else {
                continue;
            };
            let moved = if job == old {
                new.to_string()
            } else if let Some(rest) = job.strip_prefix(&inside) {
                format!("{new}/{rest}")
            } else {
                continue;
            };
            match GraphScreen::open(&self.project, &moved) {
                Ok(screen) => self.screens[i] = Box::new(screen),
                Err(e) => {
                    self.screens.truncate(i);
                    self.status = Some((Level::Error, e));
                    break;
                }
            }
        }
        if self.screens.len() == 1 && self.focus == Focus::Main {
            self.focus = Focus::Tree;
        }
    }

    /// Every command the palette offers right now.
    pub fn commands(&self) -> Vec<Command> {
        let mut out: Vec<Command> = SCREENS
            .iter()
            .map(|(n, d)| Command {
                name: format!(":{n}"),
                description: d.to_string(),
                run: format!(":{n}"),
            })
            .collect();
        for (action, desc) in self.screen().actions() {
            out.push(Command {
                name: action.to_string(),
                description: desc.to_string(),
                run: format!("main:{action}"),
            });
        }
        for (ctx, _, action, desc) in super::keymap::DEFAULTS {
            if *ctx == "tree" && !matches!(*action, "up" | "down") {
                out.push(Command {
                    name: format!("tree {action}"),
                    description: desc.to_string(),
                    run: format!("tree:{action}"),
                });
            }
        }
        out.dedup_by(|a, b| a.name == b.name);
        out
    }

    fn run_command(&mut self, run: &str) -> Action {
        if let Some(screen) = run.strip_prefix(':') {
            let name = SCREENS
                .iter()
                .map(|(n, _)| *n)
                .find(|n| *n == screen)
                .unwrap_or("home");
            return Action::Open(name);
        }
        if let Some(action) = run.strip_prefix("tree:") {
            self.focus = Focus::Tree;
            return match self.tree_perform(action) {
                Outcome::Action(a) => a,
                _ => Action::Status(Level::Info, String::new()),
            };
        }
        let action = run.strip_prefix("main:").unwrap_or(run);
        self.focus = Focus::Main;
        match self.with_screen(|s, cx| s.perform(action, cx)) {
            Outcome::Action(a) => a,
            Outcome::Consumed => Action::Status(Level::Info, String::new()),
            Outcome::Ignored => {
                Action::Status(Level::Warning, format!("`{action}` does nothing here"))
            }
        }
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit_or_warn(),
            Action::Back => {
                if self.focus == Focus::Main && self.screens.len() > 1 {
                    if self.screen().dirty() {
                        self.status = Some((
                            Level::Warning,
                            "unsaved changes: C-s saves, C-r reloads from disk, then Esc closes"
                                .into(),
                        ));
                    } else {
                        self.screens.pop();
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
            Action::Status(level, msg) => {
                self.status = if msg.is_empty() {
                    None
                } else {
                    Some((level, msg))
                };
            }
            Action::TreeChanged(select) => {
                if let Some(e) = self.tree.reload(&self.project, select.as_deref()) {
                    self.status = Some((Level::Error, e));
                }
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
                self.status = Some((
                    Level::Warning,
                    format!(
                        "unsaved changes in jobs/{job}: C-s saves, C-q again quits without saving"
                    ),
                ));
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

    fn open(&mut self, name: &'static str) {
        match name {
            "home" => {
                if let Some(job) = self.unsaved_job() {
                    self.status = Some((Level::Warning, unsaved_first(&job)));
                    return;
                }
                self.screens.truncate(1);
                self.refresh_home();
                self.focus = Focus::Main;
            }
            "tree" => self.focus = Focus::Tree,
            "datasources" | "topics" | "requests" | "inbox" | "grants" => {
                let cx = Context {
                    project: &self.project,
                    theme: &self.theme,
                    keymap: &self.keymap,
                    store: self.store.as_ref(),
                };
                let problem = self.store_problem.as_deref();
                let screen = gov::open(name, &cx, problem);
                // one governance screen at a time above the job being edited
                if self.screens.len() > 1 && self.screens.last().is_some_and(|s| s.job().is_none())
                {
                    self.screens.pop();
                }
                self.screens.push(screen);
                self.focus = Focus::Main;
            }
            "help" => self.apply(Action::Help),
            "quit" => self.quit_or_warn(),
            "graph" => {
                if self.screens.len() > 1 {
                    self.focus = Focus::Main;
                } else {
                    match self
                        .tree
                        .current()
                        .filter(|e| !e.is_folder)
                        .map(|e| e.rel.clone())
                    {
                        Some(rel) => self.open_job_at(&rel),
                        None => {
                            self.status =
                                Some((Level::Warning, "select a job in the tree first".into()))
                        }
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

    fn open_job_at(&mut self, rel: &str) {
        if self.open_job().as_deref() == Some(rel) {
            self.focus = Focus::Main;
            return;
        }
        if let Some(job) = self.unsaved_job() {
            self.status = Some((Level::Warning, unsaved_first(&job)));
            return;
        }
        match GraphScreen::open(&self.project, rel) {
            Ok(screen) => {
                self.screens.truncate(1);
                self.screens.push(Box::new(screen));
                self.focus = Focus::Main;
            }
            Err(e) => self.status = Some((Level::Error, e)),
        }
    }
}

/// Tree actions that Home runs on its selected job too.
const TREE_EDITS: [&str; 5] = ["new-job", "new-folder", "rename", "delete", "move"];

fn unsaved_first(job: &str) -> String {
    format!("unsaved changes in jobs/{job}: save (C-s) or reload (C-r) first")
}
