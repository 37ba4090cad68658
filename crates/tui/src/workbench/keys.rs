//! Input: a key goes to the overlay if one is open (palette, filter, prompts, help,
//! confirmations), else to a screen that edits text, else to the focused context's
//! bindings, the global ones and finally the screen's raw handler. The palette's commands
//! and the tree's prompts are carried out here too.

use crossterm::event::KeyCode;

use super::{Focus, SCREENS, TREE_EDITS, Workbench, unsaved_first};
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::overlay::{Command, Overlay, PromptKind};
use crate::screens::graph::GraphScreen;
use crate::screens::{Context, Screen};

impl Workbench {
    /// Feed one key press through overlays, bindings and panes.
    pub fn handle_key(&mut self, key: Key) {
        // a second quit must follow the first directly
        self.quit_confirmed = std::mem::take(&mut self.quit_armed);
        // the user looks at the screen: later messages count from here
        self.said_since_key = 0;
        if self.interrupt(key) {
            return;
        }
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

    pub(super) fn pane_key(&mut self, key: Key) -> Outcome {
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

    pub(super) fn with_screen<T>(&mut self, f: impl FnOnce(&mut dyn Screen, &Context) -> T) -> T {
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
    pub(super) fn perform_focused(&mut self, action: &str) -> Outcome {
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
    pub(super) fn tree_perform(&mut self, action: &str) -> Outcome {
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
    pub(super) fn global(&mut self, action: &str) -> Outcome {
        let a = match action {
            "palette" => Action::Palette,
            "help" => Action::Help,
            "filter" => Action::Filter,
            "back" => Action::Back,
            "focus-next" => Action::FocusNext,
            "quit" => Action::Quit,
            "toggle-tree" => {
                self.cycle_tree();
                return Outcome::Consumed;
            }
            "refresh" => {
                self.refresh_all();
                return Outcome::Consumed;
            }

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

    pub(super) fn overlay_key(&mut self, key: Key) -> Option<Action> {
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
            Overlay::Log { top, .. } => {
                match key.code {
                    KeyCode::Up | KeyCode::Char('k') => *top = top.saturating_sub(1),
                    // drawing keeps `top` within the rows
                    KeyCode::Down | KeyCode::Char('j') => *top = top.saturating_add(1),
                    KeyCode::PageUp => *top = top.saturating_sub(10),
                    KeyCode::PageDown => *top = top.saturating_add(10),
                    KeyCode::Home | KeyCode::Char('g') => *top = 0,
                    KeyCode::End | KeyCode::Char('G') => *top = usize::MAX,
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
                            self.say(Level::Ok, format!("deleted {rel}"));
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

    pub(super) fn set_filter(&mut self, text: &str) {
        match self.focus {
            Focus::Tree => self.tree.set_filter(text),
            Focus::Main => self.with_screen(|s, _| s.set_filter(text)),
        }
    }

    pub(super) fn prompt_done(&mut self, kind: PromptKind, text: &str) -> Action {
        let result = match &kind {
            PromptKind::NewJob { folder } => self.project.create_job(folder, text).map(|rel| {
                self.say(Level::Ok, format!("created jobs/{rel}"));
                rel
            }),
            PromptKind::NewFolder { parent } => {
                self.project.create_folder(parent, text).map(|rel| {
                    self.say(Level::Ok, format!("created folder jobs/{rel}"));
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
                    self.say(Level::Ok, format!("{old} → {rel}"));
                    self.follow_move(old, &rel);
                }
                Action::TreeChanged(Some(rel))
            }
            Err(e) => Action::Status(Level::Error, e.to_string()),
        }
    }

    /// A job open at `old` (or inside folder `old`) moved to `new`: open it again at its
    /// new path (it has no unsaved edits, `prompt_done` made sure).
    pub(super) fn follow_move(&mut self, old: &str, new: &str) {
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
                    self.close_above(i);
                    self.say(Level::Error, e.to_string());
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
        for (ctx, _, action, desc) in crate::keymap::DEFAULTS {
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

    pub(super) fn run_command(&mut self, run: &str) -> Action {
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
}
