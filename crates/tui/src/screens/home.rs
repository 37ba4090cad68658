//! `:home` — the project overview: every job with its state (valid, or how many
//! problems, as `weir validate` finds them), and the keys that get a newcomer started.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::{Context, Screen};
use crate::action::{Action, Outcome};
use crate::jobfile;
use crate::keys::Key;

struct JobRow {
    rel: String,
    name: String,
    nodes: usize,
    errors: usize,
    warnings: usize,
}

pub struct Home {
    rows: Vec<JobRow>,
    filter: String,
    selected: usize,
}

impl Home {
    pub fn new(cx: &Context) -> Home {
        let mut home = Home {
            rows: Vec::new(),
            filter: String::new(),
            selected: 0,
        };
        home.refresh(cx);
        home
    }

    pub fn refresh(&mut self, cx: &Context) {
        let entries = cx.project.tree().unwrap_or_default();
        self.rows = entries
            .into_iter()
            .filter(|e| !e.is_folder)
            .map(|e| {
                // the verdict of `weir validate` (SQL planning included), as the graph
                // editor shows it; files are checked when Home is (re)read, never per key
                let checked = crate::validation::validate_file(&cx.project.path_of(&e.rel));
                let count = |sev| {
                    checked
                        .diagnostics
                        .iter()
                        .filter(|d| d.severity == sev)
                        .count()
                };
                JobRow {
                    nodes: checked.job.as_ref().map_or(0, |j| j.nodes.len()),
                    errors: count(jobfile::Severity::Error),
                    warnings: count(jobfile::Severity::Warning),
                    name: e.name,
                    rel: e.rel,
                }
            })
            .collect();
    }

    fn visible(&self) -> Vec<&JobRow> {
        let f = self.filter.to_lowercase();
        self.rows
            .iter()
            .filter(|r| f.is_empty() || r.rel.to_lowercase().contains(&f))
            .collect()
    }
}

impl Screen for Home {
    fn name(&self) -> &'static str {
        "home"
    }

    fn crumbs(&self) -> Vec<String> {
        vec!["home".into()]
    }

    fn context(&self) -> &'static str {
        "tree"
    }

    fn handle_key(&mut self, _key: Key, _cx: &Context) -> Outcome {
        Outcome::Ignored
    }

    fn perform(&mut self, action: &str, _cx: &Context) -> Outcome {
        let n = self.visible().len();
        match action {
            "up" => self.selected = self.selected.saturating_sub(1),
            "down" => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            "open" => {
                return match self.visible().get(self.selected) {
                    Some(r) => Action::OpenJob(r.rel.clone()).into(),
                    None => Outcome::Consumed,
                };
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn selected_entry(&self) -> Option<String> {
        self.visible().get(self.selected).map(|r| r.rel.clone())
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        vec![("open", "open the selected job")]
    }

    fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.selected = 0;
    }

    fn reveal(&mut self, rel: &str) {
        if let Some(i) = self.visible().iter().position(|r| r.rel == rel) {
            self.selected = i;
        }
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let block = theme.pane(format!(" {} ", cx.project.name()), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [table_area, hints] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(inner);
        let rows: Vec<Row> = self
            .visible()
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let state = if r.errors > 0 {
                    Span::styled(
                        format!("{} error{}", r.errors, if r.errors == 1 { "" } else { "s" }),
                        theme.error(),
                    )
                } else if r.warnings > 0 {
                    Span::styled(
                        format!(
                            "{} warning{}",
                            r.warnings,
                            if r.warnings == 1 { "" } else { "s" }
                        ),
                        theme.warning(),
                    )
                } else {
                    Span::styled("valid", theme.ok())
                };
                let row = Row::new(vec![
                    Line::from(r.name.clone()),
                    Line::from(r.nodes.to_string()),
                    Line::from(state),
                ]);
                if focused && i == self.selected {
                    row.style(theme.selected())
                } else {
                    row
                }
            })
            .collect();
        let empty = rows.is_empty();
        let table = Table::new(
            rows,
            [
                Constraint::Min(16),
                Constraint::Length(9),
                Constraint::Length(12),
            ],
        )
        .header(Row::new(vec!["job", "operators", "state"]).style(theme.muted()));
        frame.render_widget(table, table_area);
        let mut lines = Vec::new();
        if empty {
            lines.push(Line::styled(
                "No jobs yet: press n in the tree to create one.",
                theme.muted(),
            ));
        }
        lines.push(crate::screens::gov::footer::footer(
            theme,
            &[
                ("Enter", "open"),
                (":", "commands"),
                ("?", "keys"),
                ("Tab", "tree"),
                ("C-q", "quit"),
            ],
            hints.width,
        ));
        frame.render_widget(Paragraph::new(lines), hints);
    }
}
