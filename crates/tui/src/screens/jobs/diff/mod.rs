//! The diff view: what changes between two texts of a job (two versions, a version and
//! the working file, the live version and a release), as an approver reads it.
//!
//! The job graph of both sides in one drawing (`union.rs`, `canvas.rs`): added nodes
//! green, removed ones red and struck through, changed ones yellow, renamed ones cyan,
//! each box's kind signed `+ - ~ >` so it reads without colour too. Selecting a node
//! (arrows move in the drawing, `j`/`k` in reading order, `n`/`N` jump between changes,
//! job-level and edge changes included) shows its parameter changes old → new and its
//! text diffs (`detail.rs`, `text.rs`): beside the graph with the texts side by side on a
//! wide pane, under it with unified texts on a narrow one. `PgDn`/`PgUp` scroll them,
//! `q`/`Esc` close the view.
//!
//! [`DiffScreen`] is a [`Screen`]: `:versions` shows it in its place (as the inbox and
//! `:releases` may): a host delegates keys, actions and drawing to it and closes it on
//! its `close` action, which a standalone diff turns into `back`.

mod canvas;
mod detail;
mod sides;
mod text;
mod union;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use weir_app::jobs::JobDiffReport;
use weir_model::model::Job;

use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::gov::footer::footer;
use crate::screens::graph::select::{Dir, nearest};
use crate::screens::{Context, Screen};
use crate::theme::Theme;
use canvas::{Canvas, mark_style};
use union::{Mark, Union};

pub use sides::decode;

/// Pane width from which the detail stands beside the graph and texts are side by side.
pub const WIDE: u16 = 120;

/// Rows a page of the detail scrolls.
const PAGE: usize = 10;

/// What can be selected: a node of the union, the job-level changes, the edge changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Job,
    Node(usize),
    Edges,
}

/// The diff view of one report.
pub struct DiffScreen {
    report: JobDiffReport,
    union: Union,
    canvas: Canvas,
    /// The changes `n`/`N` step through, in reading order.
    stops: Vec<Stop>,
    /// Node indices in reading order.
    reading: Vec<usize>,
    sel: Option<Stop>,
    scroll: (usize, usize),
    /// First row of the detail (narrow) or of the text diffs (wide) in view.
    detail_top: usize,
    /// The last frame's detail had more rows than it showed: the keys say how to scroll.
    overflow: bool,
}

/// The actions of the diff view, for the palette.
const ACTIONS: &[(&str, &str)] = &[
    ("next-change", "jump to the next change"),
    ("prev-change", "jump to the previous change"),
    ("next-node", "select the next node"),
    ("prev-node", "select the previous node"),
    ("scroll-down", "scroll the detail down"),
    ("scroll-up", "scroll the detail up"),
    ("close", "close the diff"),
];

impl DiffScreen {
    /// The view of `report`, drawn on the new side's job it carries.
    pub fn new(report: JobDiffReport, _cx: &Context) -> DiffScreen {
        let new = sides::new_side(&report);
        DiffScreen::with_new_job(report, new.as_ref())
    }

    /// The view of `report` whose new side is `new` (`None`: only the changed nodes are
    /// drawn).
    pub fn with_new_job(report: JobDiffReport, new: Option<&Job>) -> DiffScreen {
        let union = Union::build(new, &report.diff);
        let canvas = Canvas::new(&union);
        let reading = union.reading_order();
        let mut stops = Vec::new();
        let d = &report.diff;
        if !d.job.is_empty() || detail::nodes_reordered(d) || detail::edges_reordered(d) {
            stops.push(Stop::Job);
        }
        stops.extend(
            reading
                .iter()
                .filter(|&&i| union.nodes[i].mark != Mark::Same)
                .map(|&i| Stop::Node(i)),
        );
        if !d.edges_added.is_empty() || !d.edges_removed.is_empty() {
            stops.push(Stop::Edges);
        }
        let sel = stops
            .first()
            .copied()
            .or_else(|| reading.first().map(|&i| Stop::Node(i)));
        DiffScreen {
            report,
            union,
            canvas,
            stops,
            reading,
            sel,
            scroll: (0, 0),
            detail_top: 0,
            overflow: false,
        }
    }

    /// The report shown.
    pub fn report(&self) -> &JobDiffReport {
        &self.report
    }

    /// What is selected.
    pub fn selected(&self) -> Option<Stop> {
        self.sel
    }

    /// The id of the selected node, if a node is selected.
    pub fn selected_node(&self) -> Option<&str> {
        match self.sel {
            Some(Stop::Node(i)) => self.union.nodes.get(i).map(|n| n.id.as_str()),
            _ => None,
        }
    }

    fn select(&mut self, stop: Stop) {
        if self.sel != Some(stop) {
            self.detail_top = 0;
        }
        self.sel = Some(stop);
    }

    /// Where a selection stands in reading order: the job first, the edges last.
    fn rank(&self, stop: Stop) -> i64 {
        match stop {
            Stop::Job => -1,
            Stop::Node(i) => self
                .reading
                .iter()
                .position(|&r| r == i)
                .map_or(i64::MAX - 1, |p| p as i64),
            Stop::Edges => i64::MAX,
        }
    }

    fn step_change(&mut self, forward: bool) -> Outcome {
        if self.stops.is_empty() {
            return status(Level::Info, "no changes between the two sides".into());
        }
        let here = self
            .sel
            .map_or(if forward { -2 } else { i64::MAX }, |s| self.rank(s));
        let next = if forward {
            self.stops
                .iter()
                .find(|s| self.rank(**s) > here)
                .or(self.stops.first())
        } else {
            self.stops
                .iter()
                .rev()
                .find(|s| self.rank(**s) < here)
                .or(self.stops.last())
        };
        if let Some(&s) = next {
            self.select(s);
        }
        Outcome::Consumed
    }

    fn step_node(&mut self, forward: bool) {
        let at = match self.sel {
            Some(Stop::Node(i)) => self.reading.iter().position(|&r| r == i),
            _ => None,
        };
        let next = match (at, forward) {
            (Some(p), true) => self.reading.get(p + 1).or(self.reading.get(p)),
            (Some(p), false) => self.reading.get(p.saturating_sub(1)),
            (None, true) => self.reading.first(),
            (None, false) => self.reading.last(),
        };
        if let Some(&i) = next {
            self.select(Stop::Node(i));
        }
    }

    fn move_to(&mut self, dir: Dir) {
        match self.sel {
            Some(Stop::Node(i)) => {
                if let Some(j) = nearest(&self.union.layout, i, dir) {
                    self.select(Stop::Node(j));
                }
            }
            _ => self.step_node(true),
        }
    }

    /// The two header lines: the sides, then the counts of each kind of change.
    fn header(&self, theme: &Theme) -> Vec<Line<'static>> {
        let r = &self.report;
        let sides = Line::from(vec![
            Span::styled(r.a.label.clone(), theme.accent()),
            Span::styled(" → ", theme.muted()),
            Span::styled(r.b.label.clone(), theme.accent()),
        ]);
        let d = &r.diff;
        if d.is_empty() {
            return vec![
                sides,
                Line::styled(
                    "no changes: both sides hold the same job",
                    theme.ok().add_modifier(Modifier::BOLD),
                ),
            ];
        }
        let count = |m: Mark| self.union.nodes.iter().filter(|n| n.mark == m).count();
        let mut spans = Vec::new();
        for m in [Mark::Changed, Mark::Added, Mark::Removed, Mark::Renamed] {
            let n = count(m);
            if n > 0 {
                spans.push(Span::styled(
                    format!("{}{n} {}  ", m.sign(), m.word()),
                    mark_style(theme, m),
                ));
            }
        }
        if !d.edges_added.is_empty() || !d.edges_removed.is_empty() {
            spans.push(Span::raw(format!(
                "edges +{} -{}  ",
                d.edges_added.len(),
                d.edges_removed.len()
            )));
        }
        if !d.job.is_empty() {
            spans.push(Span::raw(format!("job {}  ", d.job.len())));
        }
        if !self.union.complete {
            spans.push(Span::styled(
                "(unchanged nodes not drawn: the new side's text was not found)",
                theme.muted(),
            ));
        }
        vec![sides, Line::from(spans)]
    }

    /// The lines about the selection; with the texts as unified diffs unless they are
    /// drawn side by side elsewhere (`wide_texts`).
    fn detail(&self, theme: &Theme, width: usize, wide_texts: bool) -> Vec<Line<'static>> {
        let d = &self.report.diff;
        match self.sel {
            Some(Stop::Job) => detail::job_lines(d, theme, width),
            Some(Stop::Edges) => detail::edge_lines(d, theme),
            Some(Stop::Node(i)) => {
                let mut lines = detail::node_lines(&self.union, d, i, theme, width);
                if !wide_texts {
                    lines.extend(detail::unified_lines(self.texts(), theme, width));
                }
                lines.extend(detail::node_edge_lines(&self.union, d, i, theme));
                lines
            }
            None if d.is_empty() => vec![Line::styled(
                "no changes: both sides hold the same job",
                theme.ok(),
            )],
            None => Vec::new(),
        }
    }

    fn texts(&self) -> &[weir_model::diff::TextDiff] {
        match self.sel {
            Some(Stop::Node(i)) => detail::texts_of(&self.union, &self.report.diff, i),
            _ => &[],
        }
    }

    fn selected_index(&self) -> Option<usize> {
        match self.sel {
            Some(Stop::Node(i)) => Some(i),
            _ => None,
        }
    }

    fn draw_canvas(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if self.union.nodes.is_empty() {
            let msg = if self.report.diff.is_empty() {
                "both sides hold the same job"
            } else {
                "no node changed"
            };
            frame.render_widget(Paragraph::new(Line::styled(msg, theme.muted())), area);
            return;
        }
        let selected = self.selected_index();
        self.scroll = self
            .canvas
            .draw(frame, area, (&self.union, theme), selected, self.scroll);
    }

    /// Lines from `detail_top`, kept inside the lines.
    fn scrolled(&mut self, lines: Vec<Line<'static>>, height: usize) -> Vec<Line<'static>> {
        self.overflow = lines.len() > height;
        self.detail_top = self
            .detail_top
            .min(lines.len().saturating_sub(height.max(1)));
        lines.into_iter().skip(self.detail_top).collect()
    }

    fn render_wide(&mut self, frame: &mut Frame, body: Rect, theme: &Theme) {
        let texts = self.texts().to_vec();
        self.overflow = false;
        let sides = (self.report.a.label.clone(), self.report.b.label.clone());
        let text_lines =
            detail::side_lines(&texts, theme, body.width as usize, (&sides.0, &sides.1));
        // the drawing as tall as it is, leaving the texts the rows they need (up to 11
        // in 20); the texts right under it
        let (top, bottom) = if text_lines.is_empty() {
            (body, None)
        } else {
            let texts_h = (text_lines.len() as u16).min(body.height.saturating_mul(11) / 20);
            let top_h = (self.union.layout.height as u16)
                .min(body.height.saturating_sub(texts_h))
                .max(8);
            let [t, b] =
                Layout::vertical([Constraint::Length(top_h), Constraint::Min(3)]).areas(body);
            (t, Some(b))
        };
        let cw = (self.union.layout.width as u16 + 1).clamp(20, top.width * 11 / 20);
        let [canvas, detail] =
            Layout::horizontal([Constraint::Length(cw), Constraint::Min(20)]).areas(top);
        self.draw_canvas(frame, canvas, theme);
        let block = Block::default()
            .borders(Borders::LEFT)
            .border_style(theme.border(false));
        let inner = block.inner(detail);
        frame.render_widget(block, detail);
        let inner = Rect {
            x: inner.x + 1,
            width: inner.width.saturating_sub(1),
            ..inner
        };
        let lines = self.detail(theme, inner.width as usize, true);
        frame.render_widget(Paragraph::new(lines), inner);
        if let Some(area) = bottom {
            let lines = self.scrolled(text_lines, area.height as usize);
            frame.render_widget(Paragraph::new(lines), area);
        }
    }

    fn render_narrow(&mut self, frame: &mut Frame, body: Rect, theme: &Theme) {
        let lines = self.detail(theme, body.width as usize, false);
        // the drawing gets what a short detail leaves, and at least 9 rows in 20
        let rest = body
            .height
            .saturating_sub(1)
            .saturating_sub(lines.len() as u16);
        let want = (self.union.layout.height as u16)
            .min(rest.max(body.height.saturating_mul(9) / 20))
            .max(4);
        let [canvas, rule, detail] = Layout::vertical([
            Constraint::Length(want),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(body);
        self.draw_canvas(frame, canvas, theme);
        frame.render_widget(
            Paragraph::new(Line::styled(
                "─".repeat(rule.width as usize),
                theme.border(false),
            )),
            rule,
        );
        let lines = self.scrolled(lines, detail.height as usize);
        frame.render_widget(Paragraph::new(lines), detail);
    }
}

fn status(level: Level, msg: String) -> Outcome {
    Action::Status(level, msg).into()
}

impl Screen for DiffScreen {
    fn name(&self) -> &'static str {
        "diff"
    }

    fn crumbs(&self) -> Vec<String> {
        vec![self.report.job.clone(), "diff".into()]
    }

    fn context(&self) -> &'static str {
        "diff"
    }

    fn handle_key(&mut self, _key: Key, _cx: &Context) -> Outcome {
        Outcome::Ignored
    }

    fn perform(&mut self, action: &str, _cx: &Context) -> Outcome {
        match action {
            "close" => return Action::Back.into(),
            "next-change" => return self.step_change(true),
            "prev-change" => return self.step_change(false),
            "next-node" => self.step_node(true),
            "prev-node" => self.step_node(false),
            "scroll-down" => self.detail_top += PAGE,
            "scroll-up" => self.detail_top = self.detail_top.saturating_sub(PAGE),
            a => match Dir::of(a) {
                Some(dir) => self.move_to(dir),
                None => return Outcome::Ignored,
            },
        }
        Outcome::Consumed
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        ACTIONS.to_vec()
    }

    /// `/` selects the first node whose id or kind holds the text.
    fn set_filter(&mut self, text: &str) {
        let t = text.trim().to_lowercase();
        if t.is_empty() {
            return;
        }
        let found = self.reading.iter().copied().find(|&i| {
            let n = &self.union.nodes[i];
            n.id.to_lowercase().contains(&t) || n.kind.to_lowercase().contains(&t)
        });
        if let Some(i) = found {
            self.select(Stop::Node(i));
        }
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let block = theme.pane(format!(" diff · {} ", self.report.job), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [head, body, keys] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(self.header(theme)), head);
        if inner.width >= WIDE {
            self.render_wide(frame, body, theme);
        } else {
            self.render_narrow(frame, body, theme);
        }
        let at = self
            .sel
            .and_then(|s| self.stops.iter().position(|x| *x == s));
        let changes = match (self.stops.len(), at) {
            (0, _) => "no changes".to_string(),
            (1, None) => "1 change".to_string(),
            (n, None) => format!("{n} changes"),
            (n, Some(p)) => format!("change {} of {n}", p + 1),
        };
        let mut keys_shown = vec![("n/N", "change"), ("j/k", "node"), ("q", "back")];
        if self.overflow || self.detail_top > 0 {
            keys_shown.push(("PgDn/PgUp", "scroll"));
        }
        // the keys that fit after the count, then `? more`
        let prefix = format!("{changes}  ");
        let room = keys
            .width
            .saturating_sub(Span::raw(prefix.as_str()).width() as u16);
        let mut line = footer(theme, &keys_shown, room);
        line.spans.insert(0, Span::styled(prefix, theme.muted()));
        frame.render_widget(Paragraph::new(line), keys);
    }
}

#[cfg(test)]
mod tests;
