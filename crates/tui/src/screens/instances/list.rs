//! `:instances` (SPEC R-mon): every instance the store lists — only the active ones, or
//! also the stopped and failed ones after `A` — with state, env, version, uptime, in/out
//! rates, lag, a sparkline of the last minutes and firing alerts, re-read every second
//! (`rows.rs` draws them). Keys: `/` filters, `s` opens the start form (`start.rs`), `x`
//! stops the selected instance after a y/n question naming it, `R` restarts a stopped or
//! failed one, Enter opens its live view (`Action::OpenInstance`), PgDn/PgUp (C-d/C-u)
//! scroll the detail. When the store does not answer, the last figures stay and the title
//! says "store unreachable".

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use weir_app::instances::{InstanceFilter, InstanceRow, InstanceState, now_ms, version_label};

use super::rows::{detail_lines, draw_lines, draw_rows};
use super::start::{Launch, StartForm, Step, launch};
use super::trend::Trends;
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::gov::footer::footer;
use crate::screens::gov::listing::{Listing, draw_detail_scrolled};
use crate::screens::gov::scroll::DetailScroll;
use crate::screens::gov::{error_text, split};
use crate::screens::jobs::work::Work;
use crate::screens::{Context, Screen};

/// How often the figures are read again.
pub const REFRESH: Duration = Duration::from_secs(1);

/// What takes the keys over the list.
enum Modal {
    /// "stop instance #3 of shop/clickstream_pv? y/n".
    Stop {
        id: i64,
        what: String,
    },
    Start(StartForm),
}

pub struct Instances {
    list: Listing<InstanceRow>,
    /// Also stopped and failed instances (`A`).
    all: bool,
    /// The clock every time shown is relative to (set at each read).
    now_ms: i64,
    /// When the rows were last read (None: never, or a read is due).
    read_at: Option<Instant>,
    /// The last read failed: why (the last rows stay).
    problem: Option<String>,
    modal: Option<Modal>,
    /// A stop or restart running in the background.
    work: Option<Work>,
    /// A start running in the background.
    launch: Option<Launch>,
    /// The job the start form offers: the open or selected job (`jobs/…`).
    job: Option<String>,
    /// The sparklines' history, kept between reads.
    trends: Trends,
    /// Where the detail pane is scrolled to.
    scroll: DetailScroll,
}

/// The texts the `/` filter looks in.
fn haystack(r: &InstanceRow) -> Vec<String> {
    vec![
        format!("#{}", r.instance.id),
        r.instance.job.clone(),
        r.instance.env.clone(),
        version_label(&r.instance),
        r.instance.state.as_str().to_string(),
        r.instance.worker.clone().unwrap_or_default(),
    ]
}

fn say(level: Level, msg: String) -> Outcome {
    Action::Status(level, msg).into()
}

impl Instances {
    /// The screen over the store's instances, read now.
    pub fn new(cx: &Context) -> Instances {
        let mut s = Instances::from_rows(Vec::new(), now_ms());
        s.reload(cx);
        s
    }

    /// The screen over fixed rows at a fixed clock (tests, snapshots): nothing is read
    /// from a store until the first refresh with one.
    pub fn from_rows(rows: Vec<InstanceRow>, now_ms: i64) -> Instances {
        let mut list = Listing::new(haystack);
        list.replace(rows, |a, b| a.instance.id == b.instance.id);
        Instances {
            list,
            all: false,
            now_ms,
            read_at: None,
            problem: None,
            modal: None,
            work: None,
            launch: None,
            job: None,
            trends: Trends::default(),
            scroll: DetailScroll::default(),
        }
    }

    /// Read the rows again; on failure keep the last ones and say the store is unreachable.
    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else { return };
        self.read_at = Some(Instant::now());
        let filter = InstanceFilter {
            all: self.all,
            ..InstanceFilter::default()
        };
        let span = self.trends.span();
        match link.call(link.gov().instance_rows(&filter, span)) {
            Ok(mut rows) => {
                self.now_ms = now_ms();
                self.trends.merge(&mut rows, span, self.now_ms);
                self.problem = None;
                self.list
                    .replace(rows, |a, b| a.instance.id == b.instance.id);
            }
            Err(e) => self.problem = Some(error_text(&e)),
        }
    }

    fn current(&self) -> Option<&InstanceRow> {
        self.list.current()
    }

    /// `x`: ask before stopping the selected instance.
    fn ask_stop(&mut self) -> Outcome {
        let Some(r) = self.current() else {
            return say(Level::Info, "no instance selected".into());
        };
        let (id, job, state) = (r.instance.id, r.instance.job.clone(), r.instance.state);
        if !state.is_active() || state == InstanceState::Stopping {
            let already = if state == InstanceState::Stopping {
                "stopping already"
            } else {
                state.as_str()
            };
            return say(
                Level::Warning,
                format!(
                    "instance #{id} of {job} is {already}; R starts a stopped or failed one again"
                ),
            );
        }
        self.modal = Some(Modal::Stop {
            id,
            what: format!("#{id} of {job}"),
        });
        Outcome::Consumed
    }

    /// `R`: start the selected stopped or failed instance again.
    fn restart(&mut self, cx: &Context) -> Outcome {
        let Some(r) = self.current() else {
            return say(Level::Info, "no instance selected".into());
        };
        let (id, job, state) = (r.instance.id, r.instance.job.clone(), r.instance.state);
        if state.is_active() {
            return say(
                Level::Warning,
                format!("instance #{id} of {job} is {state}; x stops it first"),
            );
        }
        let Some(link) = cx.store else {
            return say(Level::Error, "no metadata store is open".into());
        };
        self.work = Some(Work::start(
            link,
            format!("restarting instance #{id}"),
            move |gov| async move {
                let i = gov.restart_instance(id).await?;
                Ok((
                    Level::Ok,
                    format!(
                        "instance #{} of {} starts again (waiting for a worker)",
                        i.id, i.job
                    ),
                ))
            },
        ));
        Outcome::Consumed
    }

    /// `s`: the start form, offering the open or selected job.
    fn open_start(&mut self, cx: &Context) -> Outcome {
        if cx.store.is_none() {
            return say(
                Level::Error,
                "starting an instance needs the metadata store".into(),
            );
        }
        if self.launch.is_some() {
            return say(Level::Warning, "a start runs: wait for it".into());
        }
        let mut form = StartForm::new(self.job.as_deref());
        read_savepoints(&mut form, cx);
        self.modal = Some(Modal::Start(form));
        Outcome::Consumed
    }

    fn modal_key(&mut self, key: Key, cx: &Context) -> Outcome {
        match self.modal.take() {
            None => Outcome::Ignored,
            Some(Modal::Stop { id, what }) => {
                if key != Key::char('y') {
                    return say(Level::Info, format!("instance {what} keeps running"));
                }
                let Some(link) = cx.store else {
                    return say(Level::Error, "no metadata store is open".into());
                };
                self.work = Some(Work::start(
                    link,
                    format!("stopping instance #{id}"),
                    move |gov| async move {
                        gov.stop_instance(id).await?;
                        Ok((
                            Level::Ok,
                            format!("instance {what} is stopping (its sinks flush)"),
                        ))
                    },
                ));
                Outcome::Consumed
            }
            Some(Modal::Start(mut form)) => {
                // a start from a savepoint is checked against the savepoints of now
                if key == Key::plain(crossterm::event::KeyCode::Enter) && form.wants_savepoints() {
                    read_savepoints(&mut form, cx);
                }
                self.start_key(form, key, cx)
            }
        }
    }

    /// A key in the start form.
    fn start_key(&mut self, mut form: StartForm, key: Key, cx: &Context) -> Outcome {
        match form.key(key) {
            Step::Typing => {
                self.modal = Some(Modal::Start(form));
                Outcome::Consumed
            }
            Step::Cancel => say(Level::Info, "nothing started".into()),
            Step::Submit(mut req) => {
                let Some(link) = cx.store else {
                    return say(Level::Error, "no metadata store is open".into());
                };
                req.cwd = cx.project.root.clone();
                self.launch = Some(launch(link, &cx.project.root, *req));
                self.modal = Some(Modal::Start(form));
                Outcome::Consumed
            }
        }
    }

    /// The result of a start: the form closes and the new instance is selected, or the
    /// form shows why the app refused it.
    fn launched(&mut self, cx: &Context) -> Option<Action> {
        let result = self.launch.as_mut()?.poll();
        let result = match result {
            Some(r) => r,
            None if self.launch.as_ref().is_some_and(|l| l.running()) => return None,
            None => Err(weir_app::AppError::Internal(
                "the start stopped without an answer".into(),
            )),
        };
        self.launch = None;
        match result {
            Ok(l) => {
                self.modal = None;
                self.reload(cx);
                let id = l.started.instance.id;
                self.list.select_where(|r| r.instance.id == id);
                let level = if l.worker.is_ok() {
                    Level::Ok
                } else {
                    Level::Warning
                };
                Some(Action::StoreWritten(level, l.said()))
            }
            Err(e) => {
                let why = error_text(&e);
                let first = why.lines().last().unwrap_or_default().to_string();
                if let Some(Modal::Start(form)) = self.modal.as_mut() {
                    form.refused(&why);
                }
                Some(Action::Status(Level::Error, first))
            }
        }
    }

    /// The question or the keys that fit in `width`, under the store's trouble if any.
    fn bottom(&self, cx: &Context, width: u16) -> Vec<Line<'static>> {
        let theme = cx.theme;
        if let Some(Modal::Stop { what, .. }) = &self.modal {
            return vec![Line::styled(
                format!("stop instance {what}? y stops it, any other key keeps it running"),
                theme.warning(),
            )];
        }
        let mut lines = Vec::new();
        if let Some(p) = &self.problem {
            lines.push(Line::styled(
                format!("store unreachable, showing the last figures: {p}"),
                theme.error(),
            ));
        }
        let all = if self.all { "active only" } else { "all" };
        lines.push(footer(
            theme,
            &[
                ("Enter", "view"),
                ("s", "start"),
                ("x", "stop"),
                ("R", "restart"),
                ("A", all),
                ("PgDn/PgUp", "scroll"),
                ("/", "filter"),
            ],
            width,
        ));
        lines
    }

    fn empty_line(&self, cx: &Context) -> Line<'static> {
        let theme = cx.theme;
        let filter = self.list.filter();
        if !filter.is_empty() {
            return Line::styled(format!("Nothing matches `{filter}`."), theme.muted());
        }
        let what = if self.all {
            "No instances yet."
        } else {
            "No active instances."
        };
        let more = if self.all {
            ""
        } else {
            " A shows stopped and failed ones too."
        };
        Line::styled(
            format!(
                "{what} s starts one of a job (the selected one, or type its path), or :run in the graph editor starts the open job.{more}"
            ),
            theme.muted(),
        )
    }
}

impl Screen for Instances {
    fn name(&self) -> &'static str {
        "instances"
    }

    fn crumbs(&self) -> Vec<String> {
        let which = if self.all { "all" } else { "active" };
        vec!["instances".into(), which.into()]
    }

    fn context(&self) -> &'static str {
        "instances"
    }

    fn captures_text(&self) -> bool {
        self.modal.is_some()
    }

    fn mode(&self) -> &'static str {
        match &self.modal {
            Some(Modal::Stop { .. }) => "CONFIRM",
            Some(Modal::Start(_)) => "EDIT",
            None => "NORMAL",
        }
    }

    fn busy(&self) -> bool {
        self.work.is_some() || self.launch.is_some()
    }

    fn handle_key(&mut self, key: Key, cx: &Context) -> Outcome {
        if self.modal.is_some() {
            return self.modal_key(key, cx);
        }
        Outcome::Ignored
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        if self.scroll.perform(action) {
            return Outcome::Consumed;
        }
        if matches!(action, "stop" | "restart")
            && let Some(w) = &self.work
        {
            return say(Level::Warning, format!("still {}: wait for it", w.what()));
        }
        match action {
            "up" => self.list.up(),
            "down" => self.list.down(),
            "open" => {
                return match self.current() {
                    Some(r) => Action::OpenInstance(r.instance.id).into(),
                    None => say(Level::Info, "no instance selected".into()),
                };
            }
            "start" => return self.open_start(cx),
            "stop" => return self.ask_stop(),
            "restart" => return self.restart(cx),
            "toggle-all" => {
                self.all = !self.all;
                self.reload(cx);
            }
            "refresh" => self.reload(cx),
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("open", "the live view of the selected instance"),
            ("start", "start an instance of a job (form)"),
            ("stop", "stop the selected instance (after a y)"),
            (
                "restart",
                "start the selected stopped or failed instance again",
            ),
            (
                "toggle-all",
                "also list stopped and failed instances, or not",
            ),
            ("refresh", "read the instances again"),
            ("scroll-down", "scroll the detail down"),
            ("scroll-up", "scroll the detail up"),
        ]
    }

    fn set_filter(&mut self, text: &str) {
        self.list.set_filter(text);
    }

    /// The job open in the workbench (or selected in the tree): what `s` offers.
    fn reveal(&mut self, rel: &str) {
        let rel = rel.trim_matches('/');
        self.job = (!rel.is_empty()).then(|| format!("jobs/{rel}"));
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        if let Some(a) = self.launched(cx) {
            return Some(a);
        }
        if let Some(action) = self.work.as_mut().and_then(Work::poll) {
            self.work = None;
            self.reload(cx);
            return Some(action);
        }
        if changed || self.read_at.is_none_or(|t| t.elapsed() >= REFRESH) {
            self.reload(cx);
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let mut title = self.list.title("instances");
        if self.problem.is_some() {
            title = format!("{title}· store unreachable ");
        }
        let block = theme.pane(title, focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let bottom = self.bottom(cx, inner.width);
        let [body, hint] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(bottom.len() as u16)])
                .areas(inner);
        let rows = self.list.visible();
        if rows.is_empty() {
            draw_lines(frame, body, vec![self.empty_line(cx)]);
        } else {
            let [list, detail] = split(body, rows.len());
            draw_rows(
                frame,
                list,
                theme,
                &rows,
                (self.list.selected(), focused),
                self.now_ms,
            );
            let lines = self.current().map(|r| detail_lines(theme, r, self.now_ms));
            let item = self.current().map(|r| r.instance.id);
            draw_detail_scrolled(frame, detail, theme, lines, (&mut self.scroll, item));
        }
        frame.render_widget(Paragraph::new(bottom), hint);
        if let Some(Modal::Start(form)) = &self.modal {
            form.render(frame, area, theme);
        }
    }
}

/// The store's savepoints for the start form's hint and check; on failure the form
/// leaves the check to the app.
fn read_savepoints(form: &mut StartForm, cx: &Context) {
    if let Some(link) = cx.store
        && let Ok(all) = link.call(link.gov().savepoints(None))
    {
        form.set_savepoints(all);
    }
}
