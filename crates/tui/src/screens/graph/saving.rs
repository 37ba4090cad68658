//! The graph editor and its file: load, save, reload, and a file that changed on disk.
//! A save writes only what the file had plus what was edited
//! (`jobfile::to_ron_keeping_comments` over the text the editor read), and only while the
//! file on disk is still that text (its sha256); otherwise the conflict prompt
//! (`conflict.rs`) asks first. A file changed on disk while the editor holds no edits is
//! reloaded; with edits, the editor says so and C-r shows what changed.

use std::path::Path;

use super::conflict::{Answer, Conflict, Disk, Now, Why};
use super::{GraphScreen, Mode, plural, status};
use crate::action::{Action, Level, Outcome};
use crate::jobfile;
use crate::keys::Key;
use crate::model::Job;
use crate::refused::Refused;
use crate::screens::Screen;

/// The job in the file at `path`, and the file's text.
pub(super) fn load(path: &Path) -> Result<(Job, String), Refused> {
    let bytes = jobfile::read_job_file(path).map_err(|d| Refused(d.message))?;
    let checked = jobfile::check_bytes(&path.display().to_string(), &bytes);
    match checked.job {
        Some(job) => Ok((job, String::from_utf8_lossy(&bytes).into_owned())),
        None => Err(checked.diagnostics.first().map_or("not a job".into(), |d| {
            Refused(format!("{}:{}: {}", d.line, d.column, d.message))
        })),
    }
}

impl GraphScreen {
    /// The text a save would write now: the file as the editor read it, changed only
    /// where the job was edited. Diagnostics are located in it, so they point where
    /// `weir validate` points once the job is saved.
    pub(super) fn text(&self) -> String {
        jobfile::to_ron_keeping_comments(&self.job, &self.disk.text)
    }

    /// C-s: write the job, unless the file changed on disk since the editor read it.
    pub(super) fn save(&mut self) -> Outcome {
        match self.disk.check(&self.path) {
            Ok(None) => self.write(),
            Ok(Some(now)) => self.ask(Why::Save, now),
            Err(e) => status(
                Level::Error,
                format!(
                    "cannot save {}: cannot read it to check that nobody changed it ({e}); nothing saved",
                    self.shown_path()
                ),
            ),
        }
    }

    /// Open the conflict prompt.
    fn ask(&mut self, why: Why, now: Now) -> Outcome {
        let c = Conflict::new(&self.shown_path(), why, &self.job, now);
        let msg = c.say();
        self.conflict = Some(c);
        status(Level::Warning, msg)
    }

    /// Write the job over the file, whatever is on disk now.
    fn write(&mut self) -> Outcome {
        let text = self.text();
        if let Err(e) = weir_model::fsutil::write_atomic(&self.path, &text) {
            return status(
                Level::Error,
                format!("cannot save {}: {e}", self.shown_path()),
            );
        }
        self.disk = Disk::of(text);
        self.dirty = false;
        self.side.saved();
        self.refresh();
        let pending = match &self.mode {
            Mode::Form(f) if f.changed() => " (the open form is not applied)",
            Mode::Sql { .. } => " (the SQL in the editor is not applied)",
            _ => "",
        };
        match self.errors() {
            0 => status(Level::Ok, format!("saved {}{pending}", self.shown_path())),
            n => status(
                Level::Warning,
                format!(
                    "saved {} with {n} problem{}{pending}: v lists them",
                    self.shown_path(),
                    plural(n)
                ),
            ),
        }
    }

    /// C-r: read the file again. With unsaved edits and a file that changed on disk, the
    /// conflict prompt shows what a reload changes first.
    pub(super) fn reload(&mut self) -> Outcome {
        if self.unsaved()
            && let Ok(Some(now)) = self.disk.check(&self.path)
        {
            return self.ask(Why::Reload, now);
        }
        match load(&self.path) {
            Ok((job, text)) => self.reloaded(job, text),
            Err(e) => status(
                Level::Error,
                format!(
                    "cannot reload {}: {e}; the edits stay in memory",
                    self.shown_path()
                ),
            ),
        }
    }

    /// Show `job`, read from the file as `text`.
    fn reloaded(&mut self, job: Job, text: String) -> Outcome {
        let had = self.dirty || !matches!(self.mode, Mode::Normal | Mode::Problems { .. });
        self.job = job;
        self.disk = Disk::of(text);
        self.dirty = false;
        self.mode = Mode::Normal;
        self.side.on_disk();
        self.refresh();
        let what = if had {
            "unsaved edits dropped"
        } else {
            "no unsaved edits"
        };
        status(
            Level::Info,
            format!(
                "reloaded {} from disk: {what} · {}",
                self.shown_path(),
                self.summary()
            ),
        )
    }

    /// A key while the conflict prompt is open.
    pub(super) fn conflict_key(&mut self, key: Key) -> Outcome {
        let Some(c) = self.conflict.as_mut() else {
            return Outcome::Ignored;
        };
        let why = c.why;
        match c.key(key) {
            Answer::Open => Outcome::Consumed,
            Answer::Reload(job, text) => {
                self.conflict = None;
                self.reloaded(*job, text)
            }
            Answer::Overwrite => {
                self.conflict = None;
                self.write()
            }
            Answer::Cancel => {
                self.conflict = None;
                let msg = match why {
                    Why::Save => format!(
                        "nothing saved: {} stays as it is on disk; your edits stay in the editor",
                        self.shown_path()
                    ),
                    Why::Reload => format!(
                        "kept your edits; C-s asks before it overwrites {}",
                        self.shown_path()
                    ),
                };
                status(Level::Info, msg)
            }
        }
    }

    /// Someone else changed the file (a checkout, a `git pull`) while the editor held no
    /// edits: show what is on disk now.
    pub(super) fn changed_on_disk(&mut self) -> Option<Action> {
        match self.disk.check(&self.path) {
            // touched, or written back as it was
            Ok(None) => None,
            Ok(Some(Now::Gone)) => Some(Action::Status(
                Level::Warning,
                format!(
                    "{} was deleted or moved on disk; the editor keeps the job: C-s writes it again",
                    self.shown_path()
                ),
            )),
            Ok(Some(Now::Changed(_))) | Err(_) => Some(match load(&self.path) {
                Ok((job, text)) => {
                    self.job = job;
                    self.disk = Disk::of(text);
                    self.mode = Mode::Normal;
                    self.refresh();
                    Action::Status(
                        Level::Info,
                        format!(
                            "{} changed on disk: reloaded · {}",
                            self.shown_path(),
                            self.summary()
                        ),
                    )
                }
                Err(e) => Action::Status(
                    Level::Warning,
                    format!(
                        "{} changed on disk and cannot be read ({e}); the editor keeps what it showed",
                        self.shown_path()
                    ),
                ),
            }),
        }
    }

    /// The file changed on disk while the editor holds unsaved edits: say so once, unless
    /// it holds what the editor read after all.
    pub(super) fn changed_under_edits(&mut self) -> Option<Action> {
        match self.disk.check(&self.path) {
            Ok(None) => None,
            _ => Some(Action::Status(
                Level::Warning,
                format!(
                    "{} changed on disk while you have unsaved edits: C-r shows the changes",
                    self.shown_path()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Rig, project};
    use super::*;
    use crate::keymap::Keymap;
    use crate::theme::Theme;

    /// Where each problem of the model's rules points, as `weir validate` gives it.
    fn located(diags: &[jobfile::Diagnostic]) -> Vec<(String, usize, usize)> {
        let mut out: Vec<_> = diags
            .iter()
            .filter(|d| d.code == "batch-size")
            .map(|d| (d.message.clone(), d.line, d.column))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn problems_point_where_weir_validate_points_before_and_after_a_save() {
        let (p, rel) = project("locations");
        let src = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/invalid/batch_size_zero.ron"
        ));
        std::fs::write(p.path_of(&rel), src).unwrap();
        let screen = GraphScreen::open(&p, &rel).unwrap();
        let mut r = Rig {
            project: p,
            theme: Theme::default(),
            keymap: Keymap::defaults(),
            screen,
            last: None,
        };
        let file = format!("jobs/{rel}");
        let want = located(&jobfile::check_source(&file, src).diagnostics);
        assert_eq!(want.len(), 1, "{want:?}");
        assert_eq!(located(&r.screen.diagnostics), want);
        // an edit that adds a line above the problem: after the save, the problem is
        // where `weir validate` finds it in the saved file
        r.screen.job.description = "PV per minute".into();
        r.screen.dirty = true;
        r.perform("save");
        let saved = std::fs::read_to_string(r.project.path_of(&rel)).unwrap();
        assert_eq!(saved.lines().count(), src.lines().count() + 1, "{saved}");
        let want = located(&jobfile::check_source(&file, &saved).diagnostics);
        assert_eq!(want.len(), 1);
        assert_eq!(located(&r.screen.diagnostics), want);
    }
}
