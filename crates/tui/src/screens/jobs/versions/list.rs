//! Drawing `:versions`: the lock holder and the working copy's state on top, the list
//! (newest first) and the selected version's details, the keys at the bottom.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use weir_app::jobs::{JobState, VersionInfo, Working, age};

use super::Versions;
use crate::screens::gov::listing::{draw_detail, draw_table};
use crate::screens::gov::{field_line, split, when};
use crate::theme::Theme;

/// `passed`, `FAILED` or `-` (no test ran).
pub(super) fn test_word(v: &VersionInfo) -> &'static str {
    match &v.test {
        None => "-",
        Some(t) if t.passed => "passed",
        Some(_) => "FAILED",
    }
}

/// The lock line: who holds it and the key that takes it.
fn lock_line(theme: &Theme, state: Option<&JobState>, me: &str) -> Line<'static> {
    let label = Span::styled("lock     ", theme.muted());
    match state.and_then(|s| s.lock.as_ref()) {
        None => Line::from(vec![
            label,
            Span::raw("nobody  "),
            Span::styled("l", theme.accent()),
            Span::styled(" takes it", theme.muted()),
        ]),
        Some(l) if l.holder == me => Line::from(vec![
            label,
            Span::styled(
                format!("you ({}) since {}", l.holder, when(&l.since)),
                theme.ok(),
            ),
        ]),
        Some(l) => Line::from(vec![
            label,
            Span::styled(
                format!("{} since {}  ", l.holder, when(&l.since)),
                theme.warning(),
            ),
            Span::styled("L", theme.accent()),
            Span::styled(format!(" takes it over from {}", l.holder), theme.muted()),
        ]),
    }
}

/// The working copy against the latest version.
fn working_line(theme: &Theme, state: Option<&JobState>) -> Line<'static> {
    let label = Span::styled("working  ", theme.muted());
    let Some(s) = state else {
        return Line::from(vec![label, Span::styled("not read", theme.muted())]);
    };
    let latest = s.latest.as_ref().map(|v| v.number);
    let (text, style) = match (&s.working, latest) {
        (Working::Modified, Some(n)) => (
            format!("modified: differs from version {n}  (d on a version diffs it)"),
            theme.warning(),
        ),
        (Working::Same, Some(n)) => (format!("same as version {n}"), theme.ok()),
        (Working::Unreadable(why), _) => (format!("unreadable: {why}"), theme.error()),
        (w, _) => (w.label().to_string(), theme.muted()),
    };
    Line::from(vec![label, Span::styled(text, style)])
}

impl Versions {
    pub(super) fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let title = format!(
            " versions · {} · {}{} ",
            self.job.name(),
            self.list.items().len(),
            if self.marked.is_empty() {
                String::new()
            } else {
                format!(" · {} marked", self.marked.len())
            }
        );
        let block = theme.pane(title, focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [head, body, bottom] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(3),
            Constraint::Length(2),
        ])
        .areas(inner);
        let state = self.state.as_ref();
        frame.render_widget(
            Paragraph::new(vec![
                lock_line(theme, state, &self.me),
                working_line(theme, state),
            ]),
            head,
        );
        let [list, detail] = split(body, self.list.visible().len());
        self.draw_list(frame, list, theme, focused);
        draw_detail(
            frame,
            detail,
            theme,
            self.list.current().map(|v| detail_lines(theme, v)),
        );
        frame.render_widget(
            Paragraph::new(self.bottom_lines(theme, bottom.width)),
            bottom,
        );
    }

    fn draw_list(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let rows: Vec<Vec<String>> = self
            .list
            .visible()
            .iter()
            .map(|v| {
                let mark = match self.marked.iter().position(|m| *m == v.number) {
                    Some(0) => "1",
                    Some(_) => "2",
                    None => " ",
                };
                vec![
                    mark.to_string(),
                    v.number.to_string(),
                    v.short_hash().to_string(),
                    v.author.clone(),
                    age(&v.created_at),
                    test_word(v).to_string(),
                    v.message.clone(),
                ]
            })
            .collect();
        let filter = self.list.filter();
        let empty = match &self.problem {
            Some(p) => Line::styled(p.clone(), theme.error()),
            None if filter.is_empty() => Line::styled(
                format!(
                    "{} has no versions yet: :submit in the graph editor (or weir job submit {} -m …) makes one.",
                    self.job.name(),
                    self.job.path
                ),
                theme.muted(),
            ),
            None => Line::styled(format!("Nothing matches `{filter}`."), theme.muted()),
        };
        draw_table(
            frame,
            area,
            theme,
            (
                &["", "#", "hash", "author", "age", "test", "message"],
                &[
                    Constraint::Length(1),
                    Constraint::Length(4),
                    Constraint::Length(12),
                    Constraint::Length(10),
                    Constraint::Length(4),
                    Constraint::Length(6),
                    Constraint::Min(10),
                ],
            ),
            rows,
            (self.list.selected(), focused),
            empty,
        );
    }
}

/// The selected version: number, full hash, author, time, message, validation, test.
fn detail_lines(theme: &Theme, v: &VersionInfo) -> Vec<Line<'static>> {
    let mut lines = vec![
        field_line(theme, "version", v.number.to_string()),
        field_line(theme, "hash", v.hash.clone()),
        field_line(theme, "author", v.author.clone()),
        field_line(
            theme,
            "submitted",
            format!("{} ({} ago)", when(&v.created_at), age(&v.created_at)),
        ),
        field_line(theme, "message", v.message.clone()),
        field_line(
            theme,
            "validate",
            if v.validation.passed {
                "passed"
            } else {
                "failed"
            },
        ),
    ];
    if v.validation.report.trim() != "valid" {
        for l in v
            .validation
            .report
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(6)
        {
            lines.push(Line::styled(format!("  {l}"), theme.muted()));
        }
    }
    match &v.test {
        None => lines.push(field_line(
            theme,
            "test",
            "not run (submit with the test to record one)",
        )),
        Some(t) => {
            let style = if t.passed { theme.ok() } else { theme.error() };
            lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", "test"), theme.muted()),
                Span::styled(
                    format!(
                        "{} (seed {})",
                        if t.passed { "passed" } else { "FAILED" },
                        t.seed
                    ),
                    style,
                ),
            ]));
            for l in t.report.lines().take(6) {
                lines.push(Line::styled(format!("  {l}"), theme.muted()));
            }
        }
    }
    lines
}
