//! Drawing the SQL editor: the highlighted text with its gutter and cursor (scrolled so
//! that the cursor stays in view, the one thing drawing changes), the upstream tables, the
//! problems panel and the template picker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::SqlEditor;
use super::highlight::{RowLook, classify, display_col, row_line};
use crate::overlay::centered;
use crate::theme::Theme;

impl SqlEditor {
    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        frame.render_widget(Clear, area);
        let title = Line::from(vec![
            Span::styled(" SQL ", theme.accent()),
            Span::raw(format!("{} ", self.node_id)),
        ]);
        let hints: Vec<(&str, &str)> = self
            .hint
            .iter()
            .map(|(k, w)| (k.as_str(), w.as_str()))
            .collect();
        let mut footer =
            crate::screens::gov::footer::footer(theme, &hints, area.width.saturating_sub(4));
        // a space on each side, apart from the border
        footer.spans.insert(0, Span::raw(" "));
        footer.spans.push(Span::raw(" "));
        let block = Block::bordered()
            .border_style(theme.border(focused))
            .style(theme.base())
            .title(title)
            .title_bottom(footer);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        let panel = self.panel_lines(theme);
        let panel_w = inner.width.max(1) as usize;
        let wrapped: usize = panel
            .iter()
            .map(|l| l.width().div_ceil(panel_w).max(1))
            .sum();
        let max_panel = (inner.height / 4).max(1) as usize;
        let panel_h = if inner.height >= 6 {
            wrapped.clamp(1, max_panel) as u16 + 1
        } else {
            0
        };
        let [main, panel_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(panel_h)]).areas(inner);
        let editor = if area.width >= 70 {
            let [editor, side] =
                Layout::horizontal([Constraint::Min(10), Constraint::Length(22)]).areas(main);
            self.render_tables(frame, side, theme);
            editor
        } else if main.height >= 4 {
            let [line, editor] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(main);
            frame.render_widget(Paragraph::new(self.tables_line(theme)), line);
            editor
        } else {
            main
        };
        self.render_text(frame, editor, theme, focused);
        if panel_h > 0 {
            let title = match self.current_problems() {
                Some([]) => Line::styled(" check ", theme.ok()),
                Some(ps) => Line::styled(format!(" problems ({}) ", ps.len()), theme.error()),
                None => Line::styled(" check ", theme.muted()),
            };
            let block = Block::default()
                .borders(Borders::TOP)
                .border_style(theme.border(false))
                .title(title);
            frame.render_widget(
                Paragraph::new(panel)
                    .block(block)
                    .wrap(Wrap { trim: false }),
                panel_area,
            );
        }
        if self.picker.is_some() {
            self.render_picker(frame, area, theme);
        }
    }

    /// The lines of the panel under the editor: problems, "SQL ok", or how to check.
    fn panel_lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let Some((text, problems)) = &self.checked else {
            if self.pending {
                return vec![Line::styled("checking…", theme.muted())];
            }
            let how = match &self.check_key {
                Some(k) => format!("{k} checks the SQL against the upstream tables"),
                None => "not checked yet".into(),
            };
            return vec![Line::styled(how, theme.muted())];
        };
        let stale = *text != self.text();
        let mut lines: Vec<Line> = if problems.is_empty() {
            let mut ok = vec![Span::styled("SQL ok", theme.ok())];
            if self.elsewhere > 0 {
                ok.push(Span::styled(
                    format!(
                        " · the job has {} other problem{} (v in the graph lists them)",
                        self.elsewhere,
                        if self.elsewhere == 1 { "" } else { "s" }
                    ),
                    theme.warning(),
                ));
            }
            vec![Line::from(ok)]
        } else {
            problems
                .iter()
                .map(|p| {
                    let mut spans = vec![
                        Span::styled(
                            format!("{}:{} ", p.line, p.column),
                            theme.error().add_modifier(Modifier::BOLD),
                        ),
                        Span::styled(p.message.clone(), theme.error()),
                    ];
                    if let Some(h) = &p.hint {
                        spans.push(Span::styled(format!(" — {h}"), theme.muted()));
                    }
                    Line::from(spans)
                })
                .collect()
        };
        if stale && self.pending {
            lines.insert(0, Line::styled("checking…", theme.muted()));
        } else if stale {
            lines.insert(
                0,
                Line::styled("(edited since the last check)", theme.muted()),
            );
        }
        lines
    }

    fn tables_line(&self, theme: &Theme) -> Line<'static> {
        if self.upstream.is_empty() {
            return Line::styled("no upstream tables: connect a source", theme.warning());
        }
        let mut spans = vec![Span::styled("tables ", theme.muted())];
        for (i, t) in self.upstream.iter().enumerate() {
            if i > 0 {
                spans.push(Span::raw("  "));
            }
            spans.push(Span::styled(t.name.clone(), theme.accent()));
            if !t.fields.is_empty() {
                let fields: Vec<&str> = t.fields.iter().map(|(n, _)| n.as_str()).collect();
                spans.push(Span::styled(
                    format!("({})", fields.join(", ")),
                    theme.muted(),
                ));
            }
        }
        Line::from(spans)
    }

    fn render_tables(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut lines = Vec::new();
        for t in &self.upstream {
            lines.push(Line::styled(t.name.clone(), theme.accent()));
            if t.fields.is_empty() {
                lines.push(Line::styled("  (columns unknown)", theme.muted()));
            }
            for (name, ty) in &t.fields {
                lines.push(Line::from(vec![
                    Span::raw(format!("  {name} ")),
                    Span::styled(ty.clone(), theme.muted()),
                ]));
            }
        }
        if lines.is_empty() {
            lines.push(Line::styled("no upstream tables", theme.warning()));
            lines.push(Line::styled("connect a source", theme.muted()));
        }
        let block = Block::default()
            .borders(Borders::LEFT)
            .border_style(theme.border(false));
        frame.render_widget(Paragraph::new(lines).block(block), area);
    }

    /// The gutter and the highlighted, scrolled text with its cursor.
    fn render_text(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let lines = self.textarea.lines();
        let digits = lines.len().to_string().len().max(2);
        let gutter_w = (digits + 2).min(area.width as usize / 2) as u16;
        let [gutter, text_area] =
            Layout::horizontal([Constraint::Length(gutter_w), Constraint::Min(1)]).areas(area);
        let (height, width) = (text_area.height as usize, text_area.width as usize);
        self.page = height.max(1);
        if height == 0 || width == 0 {
            return;
        }
        let (crow, ccol) = (self.textarea.cursor().0, self.textarea.cursor().1);
        let crow = crow.min(lines.len().saturating_sub(1));
        // no empty rows below the text while it fills the screen; the cursor on screen
        self.top = self.top.min(lines.len().saturating_sub(height));
        self.top = self.top.min(crow).max((crow + 1).saturating_sub(height));
        let cursor_x = display_col(&lines[crow], ccol);
        self.left = self
            .left
            .min(cursor_x)
            .max((cursor_x + 1).saturating_sub(width));
        let (top, left) = (self.top, self.left);

        let problems = self.current_problems().unwrap_or(&[]).to_vec();
        let lines = self.textarea.lines();
        let selection = self.textarea.selection_range();
        let runs = classify(lines);
        let mut gutter_lines = Vec::new();
        let mut text_lines = Vec::new();
        for (row, line_runs) in runs.iter().enumerate().skip(top).take(height) {
            let no = row + 1;
            let bad = problems.iter().any(|p| p.line <= no && no <= p.end_line);
            let num_style = if bad {
                theme.error().add_modifier(Modifier::BOLD)
            } else if row == crow {
                theme.accent()
            } else {
                theme.muted()
            };
            gutter_lines.push(Line::from(vec![
                Span::styled(format!("{no:>digits$}"), num_style),
                Span::styled(if bad { "●" } else { " " }, theme.error()),
                Span::raw(" "),
            ]));
            // character ranges on this row: selected, and marked by a problem
            let span_on = |(sr, sc): (usize, usize), (er, ec): (usize, usize)| {
                if row < sr || row > er {
                    None
                } else {
                    let from = if row == sr { sc } else { 0 };
                    let to = if row == er { ec } else { usize::MAX };
                    Some((from, to))
                }
            };
            let selected = selection.and_then(|(s, e)| span_on(s, e));
            let marks: Vec<(usize, usize)> = problems
                .iter()
                .filter_map(|p| {
                    // at least one character when the problem's range is empty
                    let end = if p.end_line == p.line {
                        (p.end_column - 1).max(p.column)
                    } else {
                        p.end_column - 1
                    };
                    span_on((p.line - 1, p.column - 1), (p.end_line - 1, end))
                })
                .collect();
            let cursor = (focused && row == crow).then_some(ccol);
            let ctx = RowLook {
                theme,
                selected,
                marks: &marks,
                cursor,
            };
            text_lines.push(row_line(line_runs, left, width, &ctx));
        }
        frame.render_widget(Paragraph::new(gutter_lines), gutter);
        frame.render_widget(Paragraph::new(text_lines), text_area);
    }

    fn render_picker(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let Some(picker) = &self.picker else { return };
        let found = self.filtered();
        let wide = area.width >= 90 && area.height >= 16;
        let width = if wide { 100 } else { 72 }.min(area.width.saturating_sub(2));
        let list_h = found.len().max(1) as u16 + 3;
        let height = if wide { list_h.max(16) } else { list_h };
        let height = height.min(area.height.saturating_sub(2));
        let rect = centered(area, width, height);
        frame.render_widget(Clear, rect);
        let block = Block::bordered()
            .border_style(theme.border(true))
            .style(theme.base())
            .title(Line::styled(" templates ", theme.accent()))
            .title_bottom(Line::styled(" <Enter> insert  <Esc> close ", theme.muted()));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        if inner.height == 0 {
            return;
        }
        let [input, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        let mut spans = vec![Span::styled("> ", theme.accent())];
        spans.extend(picker.filter.spans(theme));
        frame.render_widget(Paragraph::new(Line::from(spans)), input);
        let (list, preview) = if wide {
            let [l, p] =
                Layout::horizontal([Constraint::Length(34), Constraint::Min(1)]).areas(body);
            (l, Some(p))
        } else {
            (body, None)
        };
        let selected = picker.selected.min(found.len().saturating_sub(1));
        let skip = (selected + 1).saturating_sub(list.height.max(1) as usize);
        let rows: Vec<Line> = if found.is_empty() {
            vec![Line::styled("no template matches", theme.error())]
        } else {
            found
                .iter()
                .enumerate()
                .skip(skip)
                .take(list.height as usize)
                .map(|(n, &i)| {
                    let t = &self.templates[i];
                    if n == selected {
                        Line::styled(format!("{:<22}", t.name), theme.selected())
                    } else if wide {
                        Line::raw(t.name)
                    } else {
                        Line::from(vec![
                            Span::raw(format!("{:<22}", t.name)),
                            Span::styled(t.about, theme.muted()),
                        ])
                    }
                })
                .collect()
        };
        let rows = if !wide && !found.is_empty() {
            // show the selected template's description beside its name
            rows.into_iter()
                .enumerate()
                .map(|(n, l)| {
                    if n + skip == selected {
                        let t = &self.templates[found[selected]];
                        let mut spans = l.spans;
                        spans.push(Span::styled(t.about, theme.muted()));
                        Line::from(spans)
                    } else {
                        l
                    }
                })
                .collect()
        } else {
            rows
        };
        frame.render_widget(Paragraph::new(rows), list);
        if let (Some(p), Some(&i)) = (preview, found.get(selected)) {
            let t = &self.templates[i];
            let mut lines = vec![Line::styled(t.about, theme.muted()), Line::raw("")];
            lines.extend(super::highlight::highlight(&t.text, theme));
            let block = Block::default()
                .borders(Borders::LEFT)
                .border_style(theme.border(false));
            frame.render_widget(Paragraph::new(lines).block(block), p);
        }
    }
}
