//! `:versions` — the versions of the open job (or the job selected in the tree), newest
//! first: number, hash, author, age, test result and message, with the lock holder and
//! the working copy's state above them and the selected version's details beside them.
//!
//! `Space` marks up to two versions; `d` diffs the two marked ones (older → newer), or
//! the selected one against the working file, in the diff view shown in this screen's
//! place (`q` returns). `c` checks the selected version out into the working file — the
//! app refuses when the file holds edits no version holds, and `C` then overwrites them
//! after a `y`; `l` takes the free edit lock, `L` takes it over from its holder after a
//! `y`. Writes run in the background (`work.rs`); reads are quick store calls.
//!
//! `list.rs` draws the header, the list and the detail; `modal.rs` the confirmations.

mod list;
mod modal;

use ratatui::Frame;
use ratatui::layout::Rect;
use weir_app::jobs::{JobId, JobState, VersionInfo, Which};

use super::diff::DiffScreen;
use super::work::Work;
use super::{job_of, lock_changed};
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::gov::error_text;
use crate::screens::gov::listing::Listing;
use crate::screens::{Context, Screen};
use modal::Modal;

/// The most versions that can be marked for a diff.
const MARKS: usize = 2;

pub struct Versions {
    job: JobId,
    rel: String,
    list: Listing<VersionInfo>,
    state: Option<JobState>,
    /// Marked version numbers, in the order they were marked.
    marked: Vec<i64>,
    modal: Option<Modal>,
    work: Option<Work>,
    /// The diff view, shown in this screen's place while open.
    diff: Option<Box<DiffScreen>>,
    problem: Option<String>,
    /// The graph editor holds unsaved edits of this job: no checkout over them.
    unsaved: bool,
    me: String,
}

/// `:versions` of tree entry `rel`. `unsaved`: the graph editor holds unsaved edits of
/// it. Refused (with what to do) without a job or a store.
pub fn open(
    cx: &Context,
    rel: Option<String>,
    store_problem: Option<&str>,
    unsaved: bool,
) -> Result<Box<dyn Screen>, String> {
    let Some(rel) = rel else {
        return Err(
            "select a job in the tree (or open one) first: :versions lists its versions".into(),
        );
    };
    if cx.store.is_none() {
        return Err(format!(
            "versions are kept in the metadata store: {}",
            store_problem.unwrap_or("no metadata store is open")
        ));
    }
    Ok(Box::new(Versions::new(cx, &rel, unsaved)))
}

fn haystack(v: &VersionInfo) -> Vec<String> {
    vec![
        v.number.to_string(),
        v.hash.clone(),
        v.author.clone(),
        v.message.clone(),
    ]
}

impl Versions {
    /// The versions of tree entry `rel`.
    pub fn new(cx: &Context, rel: &str, unsaved: bool) -> Versions {
        let mut v = Versions {
            job: job_of(cx.project, rel),
            rel: rel.to_string(),
            list: Listing::new(haystack),
            state: None,
            marked: Vec::new(),
            modal: None,
            work: None,
            diff: None,
            problem: None,
            unsaved,
            me: String::new(),
        };
        v.reload(cx);
        v
    }

    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else { return };
        self.me = link.login().to_string();
        let gov = link.gov();
        let read = link.call(async {
            let state = gov.job_state(&self.job).await?;
            let versions = gov.job_versions(&self.job.name()).await?;
            Ok::<_, weir_app::AppError>((state, versions))
        });
        match read {
            Ok((state, mut versions)) => {
                versions.reverse();
                self.list.replace(versions, |a, b| a.number == b.number);
                let numbers: Vec<i64> = self.list.items().iter().map(|v| v.number).collect();
                self.marked.retain(|n| numbers.contains(n));
                self.state = Some(state);
                self.problem = None;
            }
            Err(e) => self.problem = Some(error_text(&e)),
        }
    }

    /// Someone other than me holds the lock.
    fn holder(&self) -> Option<&str> {
        self.state
            .as_ref()
            .and_then(|s| s.lock.as_ref())
            .map(|l| l.holder.as_str())
            .filter(|h| *h != self.me)
    }

    fn toggle_mark(&mut self) -> Outcome {
        let Some(n) = self.list.current().map(|v| v.number) else {
            return say(
                Level::Info,
                "no versions yet: :submit in the graph editor makes one".into(),
            );
        };
        if let Some(at) = self.marked.iter().position(|m| *m == n) {
            self.marked.remove(at);
        } else if self.marked.len() >= MARKS {
            return say(
                Level::Warning,
                "two versions are marked already: Space on one of them unmarks it, d diffs them"
                    .into(),
            );
        } else {
            self.marked.push(n);
        }
        self.list.down();
        Outcome::Consumed
    }

    /// `d`: the two marked versions, older → newer, or the selected one against the
    /// working file.
    fn open_diff(&mut self, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let (a, b) = match self.marked.as_slice() {
            [x, y] => (Which::Version(*x.min(y)), Which::Version(*x.max(y))),
            _ => match self.list.current() {
                Some(v) => (Which::Version(v.number), Which::Working),
                None => {
                    return say(
                        Level::Info,
                        "no versions yet: :submit in the graph editor makes one".into(),
                    );
                }
            },
        };
        match link.call(link.gov().job_diff(&self.job, a, b)) {
            Ok(report) => {
                self.diff = Some(Box::new(DiffScreen::new(report, cx)));
                say(Level::Info, String::new())
            }
            Err(e) => say(Level::Error, error_text(&e)),
        }
    }

    fn checkout(&mut self, cx: &Context, force: bool) -> Outcome {
        let Some(v) = self.list.current() else {
            return say(Level::Info, "no versions yet: nothing to check out".into());
        };
        if self.unsaved {
            return say(
                Level::Warning,
                format!(
                    "jobs/{} has unsaved edits in the graph editor: save (C-s) or reload (C-r) them first",
                    self.rel
                ),
            );
        }
        let n = v.number;
        if force {
            self.modal = Some(Modal::ConfirmForce { number: n });
            return Outcome::Consumed;
        }
        self.start_checkout(cx, n, false)
    }

    fn start_checkout(&mut self, cx: &Context, number: i64, force: bool) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let job = self.job.clone();
        self.work = Some(Work::start(
            link,
            format!("checking out version {number}"),
            |gov| async move {
                match gov.checkout(&job, Which::Version(number), force).await {
                    Ok(out) if out.unchanged => Ok((
                        Level::Info,
                        format!(
                            "{} already holds version {} of {}",
                            out.file, out.version.number, out.job
                        ),
                    )),
                    Ok(out) => Ok((
                        Level::Ok,
                        format!(
                            "wrote version {} ({}) of {} to {}",
                            out.version.number,
                            out.version.short_hash(),
                            out.job,
                            out.file
                        ),
                    )),
                    Err(e) => {
                        let text = error_text(&e);
                        if text.contains("--force") {
                            Ok((
                                Level::Warning,
                                format!("{text}; here C overwrites them (after a y)"),
                            ))
                        } else {
                            Err(e)
                        }
                    }
                }
            },
        ));
        Outcome::Consumed
    }

    fn lock(&mut self, cx: &Context, take_over: bool) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        if take_over && let Some(h) = self.holder() {
            self.modal = Some(Modal::ConfirmTakeOver {
                holder: h.to_string(),
            });
            return Outcome::Consumed;
        }
        let job = self.job.clone();
        let name = job.name();
        self.work = Some(Work::start(
            link,
            format!("taking the lock of {name}"),
            |gov| async move {
                let lock = gov.lock_job(&job).await?;
                Ok((Level::Ok, format!("you hold the edit lock of {}", lock.job)))
            },
        ));
        Outcome::Consumed
    }

    fn take_over(&mut self, cx: &Context, holder: &str) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let job = self.job.clone();
        let name = job.name();
        self.work = Some(Work::start(
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
        Outcome::Consumed
    }
}

fn say(level: Level, msg: String) -> Outcome {
    Action::Status(level, msg).into()
}

impl Screen for Versions {
    fn name(&self) -> &'static str {
        "versions"
    }

    fn crumbs(&self) -> Vec<String> {
        match &self.diff {
            Some(d) => d.crumbs(),
            None => {
                let mut c: Vec<String> = self
                    .rel
                    .trim_end_matches(".ron")
                    .split('/')
                    .map(str::to_string)
                    .collect();
                c.push("versions".into());
                c
            }
        }
    }

    fn context(&self) -> &'static str {
        match &self.diff {
            Some(d) => d.context(),
            None => "versions",
        }
    }

    fn captures_text(&self) -> bool {
        self.modal.is_some()
    }

    fn mode(&self) -> &'static str {
        match (&self.modal, &self.diff) {
            (Some(_), _) => "CONFIRM",
            (None, Some(_)) => "DIFF",
            _ => "NORMAL",
        }
    }

    fn busy(&self) -> bool {
        self.work.is_some()
    }

    fn handle_key(&mut self, key: Key, cx: &Context) -> Outcome {
        if self.modal.is_some() {
            return self.modal_key(key, cx);
        }
        match self.diff.as_mut() {
            Some(d) => d.handle_key(key, cx),
            None => Outcome::Ignored,
        }
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        if let Some(d) = self.diff.as_mut() {
            return match d.perform(action, cx) {
                Outcome::Action(Action::Back) => {
                    self.diff = None;
                    Outcome::Consumed
                }
                other => other,
            };
        }
        if let Some(w) = &self.work
            && matches!(action, "checkout" | "checkout-force" | "lock" | "take-lock")
        {
            return say(Level::Warning, format!("still {}: wait for it", w.what()));
        }
        match action {
            "up" => self.list.up(),
            "down" => self.list.down(),
            "refresh" => {
                self.reload(cx);
                return say(Level::Info, format!("{} versions", self.list.items().len()));
            }
            "mark" => return self.toggle_mark(),
            "diff" => return self.open_diff(cx),
            "checkout" => return self.checkout(cx, false),
            "checkout-force" => return self.checkout(cx, true),
            "lock" => return self.lock(cx, false),
            "take-lock" => return self.lock(cx, true),
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        match &self.diff {
            Some(d) => d.actions(),
            None => vec![
                ("mark", "mark / unmark the version (up to two) for a diff"),
                (
                    "diff",
                    "diff the marked versions, or the selected one against the working file",
                ),
                ("checkout", "write the selected version to the working file"),
                (
                    "checkout-force",
                    "check out over edits that no version holds (asks first)",
                ),
                ("lock", "take the job's free edit lock"),
                (
                    "take-lock",
                    "take the edit lock over from its holder (asks first)",
                ),
                ("refresh", "read the versions again"),
            ],
        }
    }

    fn set_filter(&mut self, text: &str) {
        match self.diff.as_mut() {
            Some(d) => d.set_filter(text),
            None => self.list.set_filter(text),
        }
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        if let Some(action) = self.work.as_mut().and_then(Work::poll) {
            self.work = None;
            lock_changed();
            self.reload(cx);
            return Some(action);
        }
        if changed && self.modal.is_none() {
            self.reload(cx);
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        match self.diff.as_mut() {
            Some(d) => d.render(frame, area, cx, focused),
            None => self.draw(frame, area, cx.theme, focused),
        }
    }
}
