//! `:alerts` (SPEC R-mon): firing and recent alerts (`alerts(false, None, 200)`), firing
//! first, each with its instance, job, rule, figure and when it fired or cleared (relative
//! to the screen's `now_ms`), filterable with `/` and re-read every second. Enter opens
//! the live view of the alert's instance; PgDn/PgUp (C-d/C-u) scroll the detail.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use weir_app::instances::{Alert, now_ms};

use super::clock::{ago, compact};
use super::list::REFRESH;
use super::rows::draw_lines;
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::gov::footer::footer;
use crate::screens::gov::listing::{Col, Listing, draw_detail_scrolled, draw_styled_columns};
use crate::screens::gov::scroll::DetailScroll;
use crate::screens::gov::{error_text, field_line, split};
use crate::screens::{Context, Screen};
use crate::theme::Theme;

/// State, instance and rule stay on a narrow pane; the job shrinks first, then the
/// cleared time, the value and the fired time go.
const COLUMNS: [Col; 7] = [
    Col::key("STATE", 8),
    Col::key("INST", 5),
    Col::text("JOB", 8),
    Col::text("RULE", 10),
    Col::optional("VALUE", 6, 2),
    Col::optional("FIRED", 5, 1),
    Col::optional("CLEARED", 7, 3),
];

/// How many alerts are read.
const LIMIT: i64 = 200;

pub struct Alerts {
    list: Listing<Alert>,
    now_ms: i64,
    read_at: Option<Instant>,
    problem: Option<String>,
    /// Where the detail pane is scrolled to.
    scroll: DetailScroll,
}

fn firing(a: &Alert) -> bool {
    a.state.as_str() == "firing"
}

/// The texts the `/` filter looks in.
fn haystack(a: &Alert) -> Vec<String> {
    vec![
        format!("#{}", a.instance),
        a.job.clone(),
        a.env.clone(),
        a.rule.clone(),
        a.state.as_str().to_string(),
        a.message.clone(),
    ]
}

/// Firing first, each group in the store's order (newest first).
fn ordered(mut alerts: Vec<Alert>) -> Vec<Alert> {
    alerts.sort_by_key(|a| !firing(a));
    alerts
}

impl Alerts {
    /// The screen over the store's alerts, read now.
    pub fn new(cx: &Context) -> Alerts {
        let mut s = Alerts::from_alerts(Vec::new(), now_ms());
        s.reload(cx);
        s
    }

    /// The screen over fixed alerts at a fixed clock (tests).
    pub fn from_alerts(alerts: Vec<Alert>, now_ms: i64) -> Alerts {
        let mut list = Listing::new(haystack);
        list.replace(ordered(alerts), |a, b| a.id == b.id);
        Alerts {
            list,
            now_ms,
            read_at: None,
            problem: None,
            scroll: DetailScroll::default(),
        }
    }

    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else { return };
        self.read_at = Some(Instant::now());
        match link.call(link.gov().alerts(false, None, LIMIT)) {
            Ok(alerts) => {
                self.now_ms = now_ms();
                self.problem = None;
                self.list.replace(ordered(alerts), |a, b| a.id == b.id);
            }
            Err(e) => self.problem = Some(error_text(&e)),
        }
    }

    fn draw_rows(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let rows: Vec<Vec<Span<'static>>> = self
            .list
            .visible()
            .iter()
            .map(|a| {
                let style = if firing(a) {
                    theme.error()
                } else {
                    theme.muted()
                };
                vec![
                    Span::styled(a.state.as_str().to_string(), style),
                    Span::raw(format!("#{}", a.instance)),
                    Span::raw(a.job.clone()),
                    Span::raw(a.rule.clone()),
                    Span::raw(a.value.map_or("-".into(), compact)),
                    Span::raw(ago(Some(a.fired_at.as_str()), self.now_ms)),
                    Span::raw(ago(a.cleared_at.as_deref(), self.now_ms)),
                ]
            })
            .collect();
        draw_styled_columns(
            frame,
            area,
            theme,
            &COLUMNS,
            rows,
            (self.list.selected(), focused),
            Line::raw(""),
        );
    }

    fn detail(&self, theme: &Theme) -> Option<Vec<Line<'static>>> {
        let a = self.list.current()?;
        let style = if firing(a) { theme.error() } else { theme.ok() };
        let mut lines = vec![
            Line::from(vec![
                Span::styled(a.state.as_str(), style),
                Span::raw(format!(
                    " · instance #{} of {} ({})",
                    a.instance, a.job, a.env
                )),
            ]),
            field_line(theme, "rule", a.rule.clone()),
            field_line(theme, "what", a.message.clone()),
            field_line(
                theme,
                "fired",
                format!(
                    "{} ago ({})",
                    ago(Some(a.fired_at.as_str()), self.now_ms),
                    a.fired_at
                ),
            ),
        ];
        if let Some(v) = a.value {
            lines.push(field_line(theme, "value", compact(v)));
        }
        if let Some(c) = &a.cleared_at {
            lines.push(field_line(
                theme,
                "cleared",
                format!("{} ago ({c})", ago(Some(c.as_str()), self.now_ms)),
            ));
        }
        Some(lines)
    }
}

impl Screen for Alerts {
    fn name(&self) -> &'static str {
        "alerts"
    }

    fn crumbs(&self) -> Vec<String> {
        vec!["alerts".into()]
    }

    fn context(&self) -> &'static str {
        "alerts"
    }

    fn handle_key(&mut self, _key: Key, _cx: &Context) -> Outcome {
        Outcome::Ignored
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        if self.scroll.perform(action) {
            return Outcome::Consumed;
        }
        match action {
            "up" => self.list.up(),
            "down" => self.list.down(),
            "open" => {
                return match self.list.current() {
                    Some(a) => Action::OpenInstance(a.instance).into(),
                    None => Action::Status(Level::Info, "no alert selected".into()).into(),
                };
            }
            "refresh" => self.reload(cx),
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("open", "the live view of the alert's instance"),
            ("refresh", "read the alerts again"),
            ("scroll-down", "scroll the detail down"),
            ("scroll-up", "scroll the detail up"),
        ]
    }

    fn set_filter(&mut self, text: &str) {
        self.list.set_filter(text);
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        if changed || self.read_at.is_none_or(|t| t.elapsed() >= REFRESH) {
            self.reload(cx);
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let n = self.list.items().iter().filter(|a| firing(a)).count();
        let mut title = self.list.title(&format!("alerts · {n} firing"));
        if self.problem.is_some() {
            title = format!("{title}· store unreachable ");
        }
        let block = theme.pane(title, focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut bottom = Vec::new();
        if let Some(p) = &self.problem {
            bottom.push(Line::styled(
                format!("store unreachable, showing the last alerts: {p}"),
                theme.error(),
            ));
        }
        bottom.push(footer(
            theme,
            &[
                ("Enter", "instance view"),
                ("PgDn/PgUp", "scroll"),
                ("/", "filter"),
            ],
            inner.width,
        ));
        let [body, hint] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(bottom.len() as u16)])
                .areas(inner);
        let visible = self.list.visible().len();
        if visible == 0 {
            let filter = self.list.filter();
            let line = if filter.is_empty() {
                "No alerts. Alert rules (config.alerts in a job file, or weir alert add) fire here when their condition holds.".to_string()
            } else {
                format!("Nothing matches `{filter}`.")
            };
            draw_lines(frame, body, vec![Line::styled(line, theme.muted())]);
        } else {
            let [list, detail] = split(body, visible);
            self.draw_rows(frame, list, theme, focused);
            let lines = self.detail(theme);
            let item = self.list.current().map(|a| a.id);
            draw_detail_scrolled(frame, detail, theme, lines, (&mut self.scroll, item));
        }
        frame.render_widget(Paragraph::new(bottom), hint);
    }
}
