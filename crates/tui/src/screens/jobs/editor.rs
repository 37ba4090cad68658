//! What the graph editor adds for its job (SPEC R-life):
//! - **the edit lock:** read when the editor opens and whenever the store or a lock of
//!   this workbench changes; while someone else holds it the editor is read-only (every
//!   edit refused, naming the holder) and `L` takes the lock over after a `y`;
//! - **`:submit`:** refused while the editor holds unsaved edits ("save first"), else a
//!   message prompt and the submit in the background (`submit.rs`);
//! - **`:run`:** refused while the editor holds unsaved edits ("save first"), else a test
//!   instance of the job file as it is on disk, started in the background with a worker
//!   for it (`screens::instances::start::launch`), whose live view then opens;
//! - **the file on disk:** a checkout (or any other writer) that replaces the job file is
//!   noticed by its modification time and length (a stat per turn of the event loop, no
//!   reading); the editor reloads it when it holds no edits of its own, and warns
//!   otherwise (`screens::graph::saving`, which also compares the content's sha256).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use weir_app::jobs::JobId;

use super::submit::{Prompted, SubmitPrompt, Submitting};
use super::work::Work;
use super::{job_of, lock_changed, lock_epoch};
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::overlay::centered;
use crate::screens::Context;
use crate::screens::instances::start::{Launch, launch};
use crate::theme::Theme;

/// The editor's actions that change the job, refused while the job is read-only.
pub const EDITS: &[&str] = &[
    "add-node",
    "connect",
    "disconnect",
    "delete-node",
    "edit-node",
    "edit-sql",
    "edit-config",
    "save",
];

/// The job file's modification time and length.
type Stamp = (Option<SystemTime>, u64);

fn stamp_of(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok(), m.len()))
}

/// What a turn of the event loop brought.
#[derive(Debug, PartialEq)]
pub enum Tick {
    Idle,
    /// Say this.
    Say(Action),
    /// The file changed on disk and the editor holds no edits: reload it.
    FileChanged,
    /// The file changed on disk while the editor holds edits (said once per change).
    ChangedUnderEdits,
}

/// The job side of one graph editor.
pub struct EditorJob {
    rel: String,
    path: PathBuf,
    /// Someone else who holds the edit lock.
    holder: Option<String>,
    /// The lock epoch the holder was read at; `None` before the first read.
    read_at: Option<u64>,
    prompt: Option<SubmitPrompt>,
    /// Confirming that the lock be taken from this holder.
    confirm_take: Option<String>,
    submitting: Option<Submitting>,
    locking: Option<Work>,
    /// `:run` starting a test instance.
    running: Option<Launch>,
    /// What the finished `:run` says, once its view is open.
    ran: Option<(Level, String)>,
    stamp: Option<Stamp>,
    /// The changed file a warning was given for (not repeated every turn).
    warned: Option<Option<Stamp>>,
    /// Saved since the last turn: the tree's markers are read again.
    saved: bool,
}

impl EditorJob {
    /// The side of the editor of tree entry `rel`, whose file is `path`.
    pub fn new(rel: &str, path: &Path) -> EditorJob {
        EditorJob {
            rel: rel.to_string(),
            path: path.to_path_buf(),
            holder: None,
            read_at: None,
            prompt: None,
            confirm_take: None,
            submitting: None,
            locking: None,
            running: None,
            ran: None,
            stamp: stamp_of(path),
            warned: None,
            saved: false,
        }
    }

    /// Who else holds the edit lock: the editor is read-only.
    pub fn read_only_by(&self) -> Option<&str> {
        self.holder.as_deref()
    }

    /// A prompt or confirmation is open and takes every key.
    pub fn captures(&self) -> bool {
        self.prompt.is_some() || self.confirm_take.is_some()
    }

    /// The status bar's mode word while a prompt is open.
    pub fn mode(&self) -> Option<&'static str> {
        if self.prompt.is_some() {
            Some("INPUT")
        } else if self.confirm_take.is_some() {
            Some("CONFIRM")
        } else if self.holder.is_some() {
            Some("READ-ONLY")
        } else {
            None
        }
    }

    /// A submit or a lock change runs in the background.
    pub fn busy(&self) -> bool {
        self.submitting.is_some() || self.locking.is_some() || self.running.is_some()
    }

    /// The editor wrote the file (save): not a change by someone else.
    pub fn saved(&mut self) {
        self.on_disk();
        self.saved = true;
    }

    /// The editor read the file again (reload): what is on disk now is what it shows.
    pub fn on_disk(&mut self) {
        self.stamp = stamp_of(&self.path);
        self.warned = None;
    }

    fn job(&self, cx: &Context) -> JobId {
        job_of(cx.project, &self.rel)
    }

    fn refused(&self, cx: &Context, holder: &str) -> String {
        format!(
            "read-only: {} is locked by {holder}; L takes the lock over from {holder}",
            self.job(cx).name()
        )
    }

    /// The job side's share of the editor's named actions: `submit`, `take-lock`, and
    /// refusing edits while read-only. `None`: not ours, the editor carries it out.
    /// `unsaved`: the editor holds edits not on disk.
    pub fn perform(&mut self, action: &str, cx: &Context, unsaved: bool) -> Option<Outcome> {
        match action {
            "submit" => Some(self.start_prompt(cx, unsaved)),
            "run" => Some(self.run(cx, unsaved)),
            "take-lock" => Some(self.take_lock(cx)),
            a if EDITS.contains(&a) => {
                let holder = self.holder.clone()?;
                Some(Action::Status(Level::Warning, self.refused(cx, &holder)).into())
            }
            _ => None,
        }
    }

    fn start_prompt(&mut self, cx: &Context, unsaved: bool) -> Outcome {
        let say = |level, msg: String| Outcome::Action(Action::Status(level, msg));
        if self.submitting.is_some() {
            return say(
                Level::Warning,
                "a submit of this job runs: wait for its result".into(),
            );
        }
        if cx.store.is_none() {
            return say(
                Level::Error,
                "submitting needs the metadata store: the project's .weir/weir.db, --store PATH or WEIR_DATABASE_URL".into(),
            );
        }
        let name = self.job(cx).name();
        if let Some(h) = &self.holder {
            return say(
                Level::Warning,
                format!(
                    "{name} is locked by {h}: submitting needs its edit lock; L takes it over from {h}"
                ),
            );
        }
        if unsaved {
            return say(
                Level::Warning,
                format!(
                    "save first (C-s): a submit takes jobs/{} as it is on disk",
                    self.rel
                ),
            );
        }
        self.prompt = Some(SubmitPrompt::default());
        say(Level::Info, String::new())
    }

    /// `:run`: a test instance of the job file as it is on disk, and a worker for it.
    fn run(&mut self, cx: &Context, unsaved: bool) -> Outcome {
        let say = |level, msg: String| Outcome::Action(Action::Status(level, msg));
        if self.running.is_some() {
            return say(
                Level::Warning,
                "a :run of this job starts: wait for it".into(),
            );
        }
        let Some(link) = cx.store else {
            return say(
                Level::Error,
                "running needs the metadata store: the project's .weir/weir.db, --store PATH or WEIR_DATABASE_URL".into(),
            );
        };
        if unsaved {
            return say(
                Level::Warning,
                format!(
                    "save first (C-s): :run starts jobs/{} as it is on disk",
                    self.rel
                ),
            );
        }
        let req = weir_app::instances::StartRequest {
            job: self.path.display().to_string(),
            env: Some("test".into()),
            cwd: cx.project.root.clone(),
            ..Default::default()
        };
        self.running = Some(launch(link, &cx.project.root, req));
        // the spinner says what runs
        say(Level::Info, String::new())
    }

    /// The end of a `:run`: open the new instance's view, or say why it did not start.
    fn ran(&mut self) -> Option<Action> {
        let out = self.running.as_mut()?.poll();
        let out = match out {
            Some(out) => out,
            None if self.running.as_ref().is_some_and(|r| r.running()) => return None,
            None => Err(weir_app::AppError::Internal(
                "the :run stopped without an answer".into(),
            )),
        };
        self.running = None;
        Some(match out {
            Ok(l) => {
                let level = if l.worker.is_ok() {
                    Level::Ok
                } else {
                    Level::Warning
                };
                self.ran = Some((level, l.said()));
                Action::OpenInstance(l.started.instance.id)
            }
            Err(e) => Action::Status(Level::Error, crate::screens::gov::error_text(&e)),
        })
    }

    fn take_lock(&mut self, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Action::Status(
                Level::Error,
                "the edit lock is kept in the metadata store, and none is open".into(),
            )
            .into();
        };
        if let Some(w) = &self.locking {
            return Action::Status(Level::Warning, format!("still {}: wait for it", w.what()))
                .into();
        }
        match self.holder.clone() {
            Some(h) => {
                self.confirm_take = Some(h);
                Outcome::Consumed
            }
            None => {
                let job = self.job(cx);
                let name = job.name();
                self.locking = Some(Work::start(
                    link,
                    format!("taking the lock of {name}"),
                    |gov| async move {
                        let lock = gov.lock_job(&job).await?;
                        Ok((Level::Ok, format!("you hold the edit lock of {}", lock.job)))
                    },
                ));
                Outcome::Consumed
            }
        }
    }

    /// A key while a prompt or confirmation is open.
    pub fn key(&mut self, key: Key, cx: &Context) -> Outcome {
        if let Some(holder) = self.confirm_take.take() {
            let (Some(link), true) = (cx.store, key == Key::char('y')) else {
                return Action::Status(Level::Info, format!("the edit lock stays with {holder}"))
                    .into();
            };
            let job = self.job(cx);
            let name = job.name();
            self.locking = Some(Work::start(
                link,
                format!("taking the lock of {name} from {holder}"),
                |gov| async move {
                    let taken = gov.take_over_lock(&job).await?;
                    let msg = match &taken.previous {
                        Some(p) if p.holder != taken.lock.holder => format!(
                            "took the edit lock of {} from {} (they will see it in their inbox)",
                            taken.lock.job, p.holder
                        ),
                        _ => format!("you hold the edit lock of {}", taken.lock.job),
                    };
                    Ok((Level::Ok, msg))
                },
            ));
            return Outcome::Consumed;
        }
        let Some(prompt) = self.prompt.as_mut() else {
            return Outcome::Ignored;
        };
        match prompt.key(key) {
            Prompted::Typing => Outcome::Consumed,
            Prompted::Cancelled => {
                self.prompt = None;
                Action::Status(Level::Info, "nothing submitted".into()).into()
            }
            Prompted::Submit(opts) => {
                self.prompt = None;
                let Some(link) = cx.store else {
                    return Outcome::Consumed;
                };
                self.submitting = Some(Submitting::start(link, self.job(cx), opts));
                // the spinner says what runs
                Action::Status(Level::Info, String::new()).into()
            }
        }
    }

    /// A turn of the event loop: results of background work, the lock when it may have
    /// changed (`changed`: someone wrote to the store), the file on disk. `unsaved`: the
    /// editor holds edits not on disk.
    pub fn tick(&mut self, cx: &Context, changed: bool, unsaved: bool) -> Tick {
        if let Some((level, msg)) = self.ran.take() {
            return Tick::Say(Action::StoreWritten(level, msg));
        }
        if let Some(action) = self.ran() {
            return Tick::Say(action);
        }
        if let Some(action) = self.submitting.as_mut().and_then(Submitting::poll) {
            self.submitting = None;
            // the first submit of a job takes its lock
            lock_changed();
            return Tick::Say(action);
        }
        if let Some(action) = self.locking.as_mut().and_then(Work::poll) {
            self.locking = None;
            lock_changed();
            return Tick::Say(action);
        }
        if let Some(link) = cx.store
            && (changed || self.read_at != Some(lock_epoch()))
        {
            self.read_at = Some(lock_epoch());
            let me = link.login().to_string();
            self.holder = link
                .call(link.gov().job_state(&self.job(cx)))
                .ok()
                .and_then(|s| s.lock)
                .map(|l| l.holder)
                .filter(|h| *h != me);
        }
        let now = stamp_of(&self.path);
        if now != self.stamp {
            if !unsaved {
                self.stamp = now;
                return Tick::FileChanged;
            }
            if self.warned != Some(now) {
                self.warned = Some(now);
                return Tick::ChangedUnderEdits;
            }
        }
        if std::mem::take(&mut self.saved) {
            return Tick::Say(Action::TreeChanged(None));
        }
        Tick::Idle
    }

    /// The open prompt or confirmation, over `area`.
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme, cx: &Context) {
        if let Some(p) = &self.prompt {
            p.render(frame, area, theme, &self.job(cx).name());
        }
        if let Some(holder) = &self.confirm_take {
            let area = centered(area, 64, 4);
            frame.render_widget(Clear, area);
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.warning())
                .title(" take over the edit lock ");
            let inner = block.inner(area);
            frame.render_widget(block, area);
            let text = Line::from(vec![
                Span::raw(format!(
                    "take the edit lock of {} from {holder}? ",
                    self.job(cx).name()
                )),
                Span::styled("y", theme.accent()),
                Span::raw(" takes it, any other key keeps it with them"),
            ]);
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
        }
    }

    /// The line the editor's panel shows while the job is read-only.
    pub fn read_only_line(&self, theme: &Theme) -> Option<Line<'static>> {
        let h = self.holder.as_ref()?;
        Some(Line::from(vec![
            Span::styled(format!("read-only · locked by {h}  "), theme.warning()),
            Span::styled("L", theme.accent()),
            Span::styled(format!(" take over lock from {h}"), theme.muted()),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use super::*;
    use crate::keymap::Keymap;
    use weir_app::project::Project;

    fn with_cx<T>(root: &Path, f: impl FnOnce(&Context) -> T) -> T {
        let theme = Theme::default();
        let keymap = Keymap::defaults();
        let project = Project {
            root: root.to_path_buf(),
        };
        let cx = Context {
            project: &project,
            theme: &theme,
            keymap: &keymap,
            store: None,
        };
        f(&cx)
    }

    fn said(o: Option<Outcome>) -> String {
        match o {
            Some(Outcome::Action(Action::Status(_, m))) => m,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn a_job_locked_by_someone_else_refuses_edits_and_names_them() {
        let root = std::env::temp_dir().join(format!("weir-editor-ro-{}", std::process::id()));
        std::fs::create_dir_all(root.join("jobs")).unwrap();
        let path = root.join("jobs/pv.ron");
        std::fs::write(&path, "Job()").unwrap();
        let mut side = EditorJob::new("pv.ron", &path);
        with_cx(&root, |cx| {
            assert_eq!(side.perform("add-node", cx, false), None);
            side.holder = Some("bob".into());
            let msg = said(side.perform("delete-node", cx, false));
            assert!(msg.starts_with("read-only: "), "{msg}");
            assert!(
                msg.ends_with("is locked by bob; L takes the lock over from bob"),
                "{msg}"
            );
            assert_eq!(side.perform("up", cx, false), None);
            assert_eq!(side.mode(), Some("READ-ONLY"));
            // without a store, submit says what it needs
            let msg = said(side.perform("submit", cx, false));
            assert!(msg.contains("needs the metadata store"), "{msg}");
            assert!(side.read_only_line(&Theme::default()).is_some());
        });
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_file_changed_on_disk_is_reloaded_or_warned_about() {
        let root = std::env::temp_dir().join(format!("weir-editor-disk-{}", std::process::id()));
        std::fs::create_dir_all(root.join("jobs")).unwrap();
        let path = root.join("jobs/pv.ron");
        std::fs::write(&path, "Job()").unwrap();
        let mut side = EditorJob::new("pv.ron", &path);
        with_cx(&root, |cx| {
            assert_eq!(side.tick(cx, false, false), Tick::Idle);
            std::fs::write(&path, "Job(version: 1)").unwrap();
            assert_eq!(side.tick(cx, false, false), Tick::FileChanged);
            assert_eq!(side.tick(cx, false, false), Tick::Idle);
            std::fs::write(&path, "Job(version: 1, name: \"x\")").unwrap();
            assert_eq!(side.tick(cx, false, true), Tick::ChangedUnderEdits);
            // warned once
            assert_eq!(side.tick(cx, false, true), Tick::Idle);
            // our own save is no change by someone else, but the tree hears of it
            side.saved();
            assert_eq!(
                side.tick(cx, false, false),
                Tick::Say(Action::TreeChanged(None))
            );
            assert_eq!(side.tick(cx, false, false), Tick::Idle);
        });
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_prompt_and_the_confirmation_take_keys() {
        let root = std::env::temp_dir();
        let mut side = EditorJob::new("pv.ron", &root.join("no-such-job.ron"));
        with_cx(&root, |cx| {
            side.prompt = Some(SubmitPrompt::default());
            assert!(side.captures());
            assert_eq!(side.mode(), Some("INPUT"));
            assert_eq!(side.key(Key::char('x'), cx), Outcome::Consumed);
            assert!(matches!(
                side.key(Key::plain(KeyCode::Esc), cx),
                Outcome::Action(Action::Status(Level::Info, m)) if m == "nothing submitted"
            ));
            side.confirm_take = Some("bob".into());
            assert!(matches!(
                side.key(Key::char('n'), cx),
                Outcome::Action(Action::Status(_, m)) if m == "the edit lock stays with bob"
            ));
            assert!(!side.captures());
        });
    }
}
