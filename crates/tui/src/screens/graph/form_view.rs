//! Drawing a form: one line per row (name, value as RON), the row's problems under it
//! (wrapped), the problems of the node as a whole on top, a footer with the form's state
//! and keys. The selected row is highlighted; the row being edited shows its input with
//! a cursor, scrolled sideways to keep the cursor in view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::form::{Form, Problem};
use crate::graph::layout::fit;
use crate::jobfile::Severity;
use crate::model::Job;
use crate::overlay::LineInput;
use crate::theme::Theme;

/// Cut `text` into lines of at most `width` characters, at spaces where possible.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let (lw, ww) = (line.chars().count(), word.chars().count());
        if lw > 0 && lw + 1 + ww > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > width {
            let head: String = line.chars().take(width).collect();
            line = line.chars().skip(width).collect();
            out.push(head);
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

fn problem_style(theme: &Theme, p: &Problem) -> Style {
    match p.severity {
        Severity::Error => theme.error(),
        Severity::Warning => theme.warning(),
    }
}

/// The input as spans in `width` columns, scrolled so the cursor shows.
fn input_spans(input: &LineInput, width: usize, theme: &Theme) -> Vec<Span<'static>> {
    let chars: Vec<char> = input.text.chars().collect();
    let width = width.max(2);
    let start = (input.cursor + 1).saturating_sub(width);
    let before: String = chars[start.min(chars.len())..input.cursor.min(chars.len())]
        .iter()
        .collect();
    let at: String = chars
        .get(input.cursor)
        .map_or(" ".into(), |c| c.to_string());
    let after: String = chars
        .iter()
        .skip(input.cursor + 1)
        .take(width.saturating_sub(input.cursor - start + 1))
        .collect();
    vec![
        Span::raw(before),
        Span::styled(at, theme.selected()),
        Span::raw(after),
    ]
}

impl Form {
    pub fn render(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        job: &Job,
        focused: bool,
    ) {
        let block = theme.pane(format!(" {} ", self.title(job)), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [body, footer] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(inner);
        let width = body.width as usize;
        let label_w = self
            .rows
            .iter()
            .map(|r| r.name.chars().count() + usize::from(r.required))
            .max()
            .unwrap_or(4)
            .min(width * 2 / 5)
            .max(4);
        let value_w = width.saturating_sub(label_w + 3);
        let mut lines: Vec<Line> = Vec::new();
        for p in &self.unit_problems {
            for (k, l) in wrap(&p.message, width.saturating_sub(2))
                .into_iter()
                .enumerate()
            {
                let mark = if k == 0 { "✗ " } else { "  " };
                lines.push(Line::styled(format!("{mark}{l}"), problem_style(theme, p)));
            }
        }
        let mut sel_range = (0, 0);
        for (k, row) in self.rows.iter().enumerate() {
            let selected = k == self.selected;
            let start = lines.len();
            let name = format!("{}{}", row.name, if row.required { "*" } else { "" });
            let label = format!(
                "{} {:<label_w$} ",
                if selected { "▸" } else { " " },
                fit(&name, label_w)
            );
            let label_style = if selected {
                theme.accent()
            } else if row.problems.iter().any(Problem::is_error) {
                theme.error()
            } else {
                Style::default()
            };
            let mut spans = vec![Span::styled(label, label_style)];
            match (&self.editing, selected) {
                // a string is edited without its quotes: they are drawn around it
                (Some(input), true) if self.editing_string => {
                    spans.push(Span::styled("\"", theme.muted()));
                    spans.extend(input_spans(input, value_w.saturating_sub(2), theme));
                    spans.push(Span::styled("\"", theme.muted()));
                }
                (Some(input), true) => spans.extend(input_spans(input, value_w, theme)),
                _ if row.text.is_empty() => {
                    let st = if selected {
                        theme.selected()
                    } else {
                        theme.muted()
                    };
                    spans.push(Span::styled("(default)", st));
                }
                _ => {
                    let st = if selected {
                        theme.selected()
                    } else if row.text != row.original {
                        Style::default().add_modifier(Modifier::BOLD)
                    } else {
                        Style::default()
                    };
                    spans.push(Span::styled(fit(&row.text, value_w), st));
                }
            }
            lines.push(Line::from(spans));
            for p in &row.problems {
                let indent = " ".repeat(label_w.min(6) + 2);
                for (j, l) in wrap(&p.message, width.saturating_sub(indent.len() + 2))
                    .into_iter()
                    .enumerate()
                {
                    let mark = match (j, p.severity) {
                        (0, Severity::Error) => "✗ ",
                        (0, Severity::Warning) => "! ",
                        _ => "  ",
                    };
                    lines.push(Line::styled(
                        format!("{indent}{mark}{l}"),
                        problem_style(theme, p),
                    ));
                }
                if selected && let Some(h) = &p.hint {
                    for l in wrap(
                        &format!("hint: {h}"),
                        width.saturating_sub(indent.len() + 2),
                    ) {
                        lines.push(Line::styled(format!("{indent}  {l}"), theme.muted()));
                    }
                }
            }
            if selected {
                sel_range = (start, lines.len());
            }
        }
        let h = body.height as usize;
        if sel_range.1 > self.top + h {
            self.top = sel_range.1 - h;
        }
        if sel_range.0 < self.top {
            self.top = sel_range.0;
        }
        // with the first row selected, show the node's problems above it too
        if self.selected == 0 {
            self.top = 0;
        }
        let shown: Vec<Line> = lines.into_iter().skip(self.top).take(h).collect();
        frame.render_widget(Paragraph::new(shown), body);
        self.render_footer(frame, footer, theme);
    }

    fn render_footer(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let bad = self.bad_rows();
        let unit_errors = self.unit_problems.iter().filter(|p| p.is_error()).count();
        let mut state = vec![if bad > 0 || !self.decodes() {
            Span::styled(
                format!(
                    "✗ {} row{} with problems",
                    bad,
                    if bad == 1 { "" } else { "s" }
                ),
                theme.error(),
            )
        } else if unit_errors > 0 {
            Span::styled(
                format!("✓ rows decode · {unit_errors} problem(s) of the node"),
                theme.warning(),
            )
        } else {
            Span::styled("✓ rows decode", theme.ok())
        }];
        if self.changed() {
            state.push(Span::styled(" · changed, not applied", theme.warning()));
        }
        let others = self.other_problems.iter().filter(|p| p.is_error()).count();
        if others > 0 {
            state.push(Span::styled(
                format!(" · {others} elsewhere in the job"),
                theme.muted(),
            ));
        }
        let keys: &[(&str, &str)] = match (self.editing.is_some(), self.confirm_discard) {
            (true, _) => &[
                ("Enter", "commits the row"),
                ("Esc", "cancels the edit"),
                ("↑↓", "commit and move"),
            ],
            (false, true) => &[
                ("Esc", "again discards the changes"),
                ("C-s", "applies them"),
            ],
            (false, false) => &[
                ("↑↓", "row"),
                ("Enter", "edit"),
                ("C-s", "apply"),
                ("Esc", "close"),
                ("values", "are RON: \"text\", Some(..), [..]"),
            ],
        };
        let keys = crate::screens::gov::footer::footer(theme, keys, area.width);
        frame.render_widget(Paragraph::new(vec![Line::from(state), keys]), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap("aaa bbb ccc", 8), ["aaa bbb", "ccc"]);
        assert_eq!(wrap("", 8), [""]);
        assert_eq!(wrap("abcdefghijk", 8), ["abcdefgh", "ijk"]);
    }
}
