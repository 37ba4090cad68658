//! `:graph` — the job graph editor: the job drawn with the same layout as `weir graph`,
//! a selection that moves across nodes and edges, and the job's diagnostics.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::project::Project;
use crate::graph::{self, layout, render};
use crate::jobfile::{self, Diagnostic};
use crate::model::Job;
use crate::tui::action::Outcome;
use crate::tui::keys::Key;
use crate::tui::screens::{Context, Screen};

pub struct GraphScreen {
    rel: String,
    job: Job,
    diagnostics: Vec<Diagnostic>,
    layout: layout::Layout,
    selected: usize,
}

impl GraphScreen {
    pub fn open(project: &Project, rel: &str) -> Result<GraphScreen, String> {
        let path = project.path_of(rel);
        let checked = jobfile::check_file(&path);
        let Some(job) = checked.job else {
            let first = checked
                .diagnostics
                .first()
                .map(|d| format!("{}:{}: {}", d.line, d.column, d.message));
            return Err(format!(
                "cannot open {rel}: {}",
                first.unwrap_or_else(|| "not a job".into())
            ));
        };
        let layout = layout::layout(&graph::job_graph(&job));
        Ok(GraphScreen {
            rel: rel.to_string(),
            job,
            diagnostics: checked.diagnostics,
            layout,
            selected: 0,
        })
    }
}

impl Screen for GraphScreen {
    fn name(&self) -> &'static str {
        "graph"
    }

    fn crumbs(&self) -> Vec<String> {
        let mut c: Vec<String> = self
            .rel
            .trim_end_matches(".ron")
            .split('/')
            .map(str::to_string)
            .collect();
        if let Some(n) = self.job.nodes.get(self.selected) {
            c.push(n.id().to_string());
        }
        c
    }

    fn context(&self) -> &'static str {
        "graph"
    }

    fn job(&self) -> Option<String> {
        Some(self.rel.clone())
    }

    fn handle_key(&mut self, _key: Key, _cx: &Context) -> Outcome {
        Outcome::Ignored
    }

    fn perform(&mut self, action: &str, _cx: &Context) -> Outcome {
        let n = self.job.nodes.len();
        match action {
            "up" | "left" => self.selected = self.selected.saturating_sub(1),
            "down" | "right" => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .title(Span::styled(format!(" {} ", self.job.name), theme.accent()));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let problems = self.diagnostics.len().min(4) as u16;
        let [canvas, list] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(problems + 1)]).areas(inner);
        let rows = render::render_lines(&self.layout, render::Charset::Unicode);
        let sel = self.layout.boxes.get(self.selected);
        let lines: Vec<Line> = rows
            .iter()
            .enumerate()
            .take(canvas.height as usize)
            .map(|(y, row)| {
                let Some(b) = sel.filter(|b| y >= b.y && y < b.y + b.h) else {
                    return Line::raw(row.clone());
                };
                let chars: Vec<char> = row.chars().collect();
                let pre: String = chars.iter().take(b.x).collect();
                let mid: String = chars.iter().skip(b.x).take(b.w).collect();
                let post: String = chars.iter().skip(b.x + b.w).collect();
                Line::from(vec![
                    Span::raw(pre),
                    Span::styled(mid, theme.accent().add_modifier(Modifier::BOLD)),
                    Span::raw(post),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), canvas);
        let mut out = vec![Line::styled(
            if self.diagnostics.is_empty() {
                "valid".to_string()
            } else {
                format!("{} problem(s)", self.diagnostics.len())
            },
            if self.diagnostics.is_empty() {
                theme.ok()
            } else {
                theme.error()
            },
        )];
        out.extend(self.diagnostics.iter().take(problems as usize).map(|d| {
            Line::styled(
                format!("{}:{} {}", d.line, d.column, d.message),
                theme.error(),
            )
        }));
        frame.render_widget(Paragraph::new(out), list);
    }
}
