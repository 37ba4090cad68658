//! The live view of one instance (`:instances` opens it; SPEC R-mon, issue 14): a header
//! (job, environment, version, state, worker, uptime, start, firing alerts), the job
//! graph with each operator's rate and each edge coloured by backpressure (`graph.rs`),
//! the per-operator table, sparklines of the last minutes, and the firing alerts with the
//! warn/error log lines first (`panes.rs`). Figures are read again every second; when
//! the store cannot be reached the last figures stay and the title says so.
//!
//! Keys: `x` stops (after a question naming the instance), `r` restarts a stopped or
//! failed instance, `o` opens the job (the working file a test instance runs, or the
//! job's file of this checkout for a version), `a` opens `:alerts`, `S` takes a
//! savepoint of a running instance (`savepoints.rs`, which also lists the instance's
//! savepoints), PgDn/PgUp (C-d/C-u) scroll the alerts and log. Production instances are stopped, restarted and savepointed only by the
//! project's admin or a system admin; others see why in the status bar. Stop, restart and
//! savepoint run in the background; a stop the store accepted shows `stopping` until the
//! worker reports the instance stopped.

mod format;
mod graph;
mod panes;
mod savepoints;
mod table;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::Rect;
use weir_app::AppError;
use weir_app::governance::{GlobalRole, ProjectRole};
use weir_app::instances::{
    DesiredState, Instance, InstanceDetail, InstanceState, Savepoint, now_ms,
};
use weir_app::store_link::{Pending, StoreLink};

use crate::action::{Action, Level, Outcome};
use crate::jobfile::check_source;
use crate::keys::Key;
use crate::screens::gov::error_text;
use crate::screens::gov::scroll::DetailScroll;
use crate::screens::jobs::job_of_name;
use crate::screens::{Context, Screen};
use graph::LiveGraph;

pub use format::parse_rfc3339_ms;

/// How often the figures are read again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(1);
/// Samples of history read (one a second: 5 minutes).
pub const HISTORY_SAMPLES: i64 = 300;
/// Log lines read.
pub const LOG_LINES: i64 = 50;

/// What a background work of the view gives back.
enum Done {
    /// A stop or restart: the instance as the store has it now.
    Instance(Box<Instance>),
    /// A savepoint taken.
    Savepoint(Savepoint),
}

/// A stop, restart or savepoint running in the background.
struct Work {
    /// `stopping instance #7`.
    what: String,
    pending: Pending<Result<Done, AppError>>,
}

/// The live view of one instance.
pub struct InstanceView {
    id: i64,
    /// The instance as last read; None until the first read succeeds.
    detail: Option<InstanceDetail>,
    /// The job text the graph was drawn from, to draw again only when it changes.
    drawn_text: String,
    /// The job graph, or why the job text gives none.
    graph: Result<LiveGraph, String>,
    /// The clock of the last read: times relative to now use it.
    now_ms: i64,
    last_read: Option<Instant>,
    /// Why the last read failed (the title says "store unreachable").
    unreachable: Option<String>,
    /// The stop question is open.
    confirm: bool,
    work: Option<Work>,
    /// This instance's savepoints, oldest first, as last read.
    savepoints: Vec<Savepoint>,
    /// Where the alerts and log section is scrolled to.
    log_scroll: DetailScroll,
}

impl InstanceView {
    /// The view of instance `id`, read through the store link now.
    pub fn open(id: i64, cx: &Context) -> InstanceView {
        let mut v = InstanceView::empty(id, now_ms());
        v.refresh(cx);
        v
    }

    /// A view of fixed data drawn as at `now_ms` (tests; no store is read until `tick`
    /// has a store link).
    pub fn from_detail(detail: InstanceDetail, now_ms: i64) -> InstanceView {
        let mut v = InstanceView::empty(detail.instance.id, now_ms);
        v.set_detail(detail);
        v
    }

    fn empty(id: i64, now_ms: i64) -> InstanceView {
        InstanceView {
            id,
            detail: None,
            drawn_text: String::new(),
            graph: Err("not read yet".into()),
            now_ms,
            last_read: None,
            unreachable: None,
            confirm: false,
            work: None,
            savepoints: Vec::new(),
            log_scroll: DetailScroll::default(),
        }
    }

    /// The instance's store id.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The instance as last read.
    pub fn detail(&self) -> Option<&InstanceDetail> {
        self.detail.as_ref()
    }

    fn set_detail(&mut self, detail: InstanceDetail) {
        if self.detail.is_none() || detail.text != self.drawn_text {
            let name = format!("instance #{} ({})", detail.instance.id, detail.instance.job);
            let checked = check_source(&name, &detail.text);
            self.graph = match checked.job {
                Some(job) if !job.nodes.is_empty() => Ok(LiveGraph::of(&job)),
                Some(_) => Err("the job has no operators".into()),
                None => Err(match checked.diagnostics.first() {
                    Some(d) => format!(
                        "the job text does not read ({}:{} {}); the table still shows the figures",
                        d.line, d.column, d.message
                    ),
                    None => "the job text does not read".into(),
                }),
            };
            self.drawn_text = detail.text.clone();
        }
        self.detail = Some(detail);
    }

    /// Read the instance again (figures, log, alerts); on failure keep what was shown.
    fn refresh(&mut self, cx: &Context) {
        self.last_read = Some(Instant::now());
        let Some(link) = cx.store else {
            self.unreachable = Some("no metadata store is open".into());
            return;
        };
        let id = self.id;
        match link.call(link.gov().instance_detail(id, HISTORY_SAMPLES, LOG_LINES)) {
            Ok(d) => {
                self.now_ms = now_ms();
                self.unreachable = None;
                self.set_detail(d);
                self.read_savepoints(link);
            }
            Err(e) => self.unreachable = Some(error_text(&e)),
        }
    }

    /// The state as shown: `stopping` once a stop was accepted, until the worker reports.
    pub fn shown_state(inst: &Instance) -> &'static str {
        match inst.state {
            InstanceState::Starting | InstanceState::Running
                if inst.desired == DesiredState::Stopped =>
            {
                "stopping"
            }
            s => s.as_str(),
        }
    }

    /// `#7 shop/clickstream_pv (test, v3)`.
    fn describe(inst: &Instance) -> String {
        format!(
            "#{} {} ({}, {})",
            inst.id,
            inst.job,
            inst.env,
            weir_app::instances::version_label(inst)
        )
    }

    /// Why the acting user may not stop or restart this production instance, if so.
    fn refused_prod(inst: &Instance, link: &StoreLink, verb: &str) -> Option<String> {
        if inst.env != "prod" || link.has(GlobalRole::SystemAdmin) {
            return None;
        }
        let project = inst.job.split('/').next().unwrap_or(&inst.job);
        if link.roles().in_project(project) == Some(ProjectRole::ProjectAdmin) {
            return None;
        }
        Some(format!(
            "instance #{} runs in production: only the admin of project {project} or a system admin may {verb} it; you are {}",
            inst.id,
            link.roles().describe()
        ))
    }

    fn still_working(&self) -> Option<Outcome> {
        self.work
            .as_ref()
            .map(|w| say(Level::Warning, format!("still {}: wait for it", w.what)))
    }

    /// `x`: ask before stopping.
    fn ask_stop(&mut self, cx: &Context) -> Outcome {
        if let Some(out) = self.still_working() {
            return out;
        }
        let Some(inst) = self.detail.as_ref().map(|d| &d.instance) else {
            return say(Level::Warning, self.not_read());
        };
        if !inst.state.is_active() {
            return say(
                Level::Info,
                format!(
                    "instance #{} is {}; nothing to stop (r restarts it)",
                    inst.id, inst.state
                ),
            );
        }
        if inst.desired == DesiredState::Stopped {
            return say(
                Level::Info,
                format!(
                    "instance #{} is stopping already: its worker flushes the sinks",
                    inst.id
                ),
            );
        }
        let Some(link) = cx.store else {
            return say(Level::Error, "no metadata store is open".into());
        };
        if let Some(why) = Self::refused_prod(inst, link, "stop") {
            return say(Level::Warning, why);
        }
        self.confirm = true;
        Outcome::Consumed
    }

    /// The answer to the stop question: `y` stops.
    fn answer(&mut self, key: Key, cx: &Context) -> Outcome {
        self.confirm = false;
        let Some(inst) = self.detail.as_ref().map(|d| &d.instance) else {
            return Outcome::Consumed;
        };
        if key != Key::char('y') {
            return say(
                Level::Info,
                format!("instance {} keeps running", Self::describe(inst)),
            );
        }
        let Some(link) = cx.store else {
            return say(Level::Error, "no metadata store is open".into());
        };
        let id = inst.id;
        let what = format!("stopping instance #{id}");
        let pending = link.spawn(format!("{what}…"), move |gov, _| async move {
            gov.stop_instance(id)
                .await
                .map(|i| Done::Instance(Box::new(i)))
        });
        self.work = Some(Work { what, pending });
        Outcome::Consumed
    }

    /// `r`: restart a stopped or failed instance.
    fn restart(&mut self, cx: &Context) -> Outcome {
        if let Some(out) = self.still_working() {
            return out;
        }
        let Some(inst) = self.detail.as_ref().map(|d| &d.instance) else {
            return say(Level::Warning, self.not_read());
        };
        if inst.state.is_active() {
            return say(
                Level::Warning,
                format!(
                    "instance #{} is {}; only a stopped or failed instance restarts (x stops it first)",
                    inst.id,
                    Self::shown_state(inst)
                ),
            );
        }
        let Some(link) = cx.store else {
            return say(Level::Error, "no metadata store is open".into());
        };
        if let Some(why) = Self::refused_prod(inst, link, "restart") {
            return say(Level::Warning, why);
        }
        let id = inst.id;
        let what = format!("restarting instance #{id}");
        let pending = link.spawn(format!("{what}…"), move |gov, _| async move {
            gov.restart_instance(id)
                .await
                .map(|i| Done::Instance(Box::new(i)))
        });
        self.work = Some(Work { what, pending });
        Outcome::Consumed
    }

    /// `o`: the job in the graph editor: the working file a test instance runs, or the
    /// job's file of this checkout for a version.
    fn open_job(&self, cx: &Context) -> Outcome {
        let Some(inst) = self.detail.as_ref().map(|d| &d.instance) else {
            return say(Level::Warning, self.not_read());
        };
        let rel = match (&inst.source_path, inst.version) {
            (Some(p), _) => p.strip_prefix("jobs/").unwrap_or(p).to_string(),
            (None, Some(v)) => match job_of_name(cx.project, &inst.job) {
                Some(j) => format!("{}.ron", j.path),
                None => {
                    return say(
                        Level::Warning,
                        format!(
                            "job {} is not a job of this checkout; check it out where its project is (weir job checkout {}@{v})",
                            inst.job, inst.job
                        ),
                    );
                }
            },
            (None, None) => {
                return say(
                    Level::Warning,
                    format!("instance #{} names no file or version to open", inst.id),
                );
            }
        };
        if !cx.project.path_of(&rel).is_file() {
            let why = match inst.version {
                Some(v) => format!(
                    "jobs/{rel} is not in this checkout; `weir job checkout {}@{v}` brings version {v} here",
                    inst.job
                ),
                None => format!(
                    "jobs/{rel}, the working file instance #{} was started from, is not in this checkout",
                    inst.id
                ),
            };
            return say(Level::Warning, why);
        }
        Action::OpenJob(rel).into()
    }

    fn not_read(&self) -> String {
        match &self.unreachable {
            Some(why) => format!("instance #{} is not read yet: {why}", self.id),
            None => format!("instance #{} is not read yet", self.id),
        }
    }

    /// A finished stop, restart or savepoint: its message, and the instance as the store
    /// has it now (or the savepoint in the list).
    fn poll_work(&mut self) -> Option<Action> {
        let work = self.work.as_mut()?;
        let result = match work.pending.poll() {
            Some(r) => r,
            None if !work.pending.running() => Err(AppError::Internal(format!(
                "{} stopped without an answer",
                work.what
            ))),
            None => return None,
        };
        self.work = None;
        // read again on the next turn
        self.last_read = None;
        Some(match result {
            Ok(Done::Savepoint(sp)) => Action::StoreWritten(Level::Ok, self.taken(&sp)),
            Ok(Done::Instance(inst)) => {
                let msg = match (inst.state, inst.desired) {
                    (InstanceState::Stopped, _) => format!("instance #{} is stopped", inst.id),
                    (InstanceState::Created, DesiredState::Running) => format!(
                        "instance #{} restarts: waiting for a worker to claim it",
                        inst.id
                    ),
                    (_, DesiredState::Stopped) => format!(
                        "instance #{} is stopping: its worker flushes the sinks, then reports it stopped",
                        inst.id
                    ),
                    (s, _) => format!("instance #{} is {s}", inst.id),
                };
                if let Some(d) = self.detail.as_mut() {
                    d.instance = *inst;
                }
                Action::StoreWritten(Level::Ok, msg)
            }
            Err(e) => Action::StoreWritten(Level::Error, error_text(&e)),
        })
    }

    /// The view drawn on a `width` × `height` TestBackend with the default theme, as text
    /// (tests and snapshots; nothing is read from a store).
    pub fn render_text(&mut self, width: u16, height: u16) -> String {
        let backend = ratatui::backend::TestBackend::new(width, height);
        // a TestBackend cannot fail
        let Ok(mut terminal) = ratatui::Terminal::new(backend);
        let project = weir_app::project::Project {
            root: std::path::PathBuf::from("."),
        };
        let theme = crate::theme::Theme::default();
        let keymap = crate::keymap::Keymap::defaults();
        let cx = Context {
            project: &project,
            theme: &theme,
            keymap: &keymap,
            store: None,
        };
        if terminal
            .draw(|f| {
                let area = f.area();
                self.render(f, area, &cx, true)
            })
            .is_err()
        {
            return String::new();
        }
        crate::headless::frame_text(terminal.backend().buffer())
    }
}

fn say(level: Level, msg: String) -> Outcome {
    Action::Status(level, msg).into()
}

impl Screen for InstanceView {
    fn name(&self) -> &'static str {
        "instance"
    }

    fn crumbs(&self) -> Vec<String> {
        vec!["instances".into(), format!("#{}", self.id)]
    }

    fn context(&self) -> &'static str {
        "instance"
    }

    fn captures_text(&self) -> bool {
        self.confirm
    }

    fn mode(&self) -> &'static str {
        if self.confirm { "CONFIRM" } else { "LIVE" }
    }

    fn busy(&self) -> bool {
        self.work.is_some()
    }

    fn handle_key(&mut self, key: Key, cx: &Context) -> Outcome {
        if self.confirm {
            return self.answer(key, cx);
        }
        // the keys work without keymap entries too (a keymap may bind them instead)
        let action = match key {
            k if k == Key::char('x') => "stop",
            k if k == Key::char('r') => "restart",
            k if k == Key::char('o') => "open-job",
            k if k == Key::char('a') => "show-alerts",
            k if k == Key::char('R') => "refresh",
            k if k == Key::char('S') => "savepoint",
            _ => return Outcome::Ignored,
        };
        self.perform(action, cx)
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        if self.log_scroll.perform(action) {
            return Outcome::Consumed;
        }
        match action {
            "stop" => self.ask_stop(cx),
            "restart" => self.restart(cx),
            "open-job" => self.open_job(cx),
            "show-alerts" => Action::Open("alerts").into(),
            "savepoint" => self.take_savepoint(cx),
            "refresh" => {
                self.refresh(cx);
                match &self.unreachable {
                    Some(why) => say(Level::Error, format!("store unreachable: {why}")),
                    None => Outcome::Consumed,
                }
            }
            _ => Outcome::Ignored,
        }
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("stop", "stop the instance (x; asks first)"),
            ("restart", "restart the stopped or failed instance (r)"),
            (
                "open-job",
                "open the job the instance runs in the graph editor (o)",
            ),
            ("show-alerts", "the alerts screen (a)"),
            ("refresh", "read the instance again now (R)"),
            ("savepoint", "take a savepoint of the running instance (S)"),
            ("scroll-down", "scroll the alerts and log down (PgDn, C-d)"),
            ("scroll-up", "scroll the alerts and log up (PgUp, C-u)"),
        ]
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        if let Some(action) = self.poll_work() {
            return Some(action);
        }
        // every second; a write by someone (a stop, a worker's report) a little sooner
        let due = self.last_read.is_none_or(|t| {
            t.elapsed() >= REFRESH_EVERY || (changed && t.elapsed() >= REFRESH_EVERY / 4)
        });
        if cx.store.is_some() && due {
            self.refresh(cx);
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        panes::render(self, frame, area, cx.theme, focused);
    }
}
