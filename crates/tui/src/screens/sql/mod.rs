//! The SQL editor of a SQL operator: a multi-line editor (ratatui-textarea as the editing
//! model, drawn here with SQL highlighting, a line-number gutter and scrolling), query
//! templates (<C-t>), on-demand checks (<C-k>) against the upstream tables, and apply
//! (<C-s>). The graph editor embeds it and hands it every key while it is open.

pub mod highlight;
pub mod templates;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui_textarea::{CursorMove, TextArea};

use self::highlight::{RowLook, classify, display_col, row_line};
use self::templates::Template;
use crate::jobfile::sql;
use crate::tui::keymap::Keymap;
use crate::tui::keys::Key;
use crate::tui::overlay::{LineInput, centered, fuzzy_score};
use crate::tui::theme::Theme;

/// A table registered upstream of the SQL operator, as the query sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpstreamTable {
    pub name: String,
    /// (field name, type name); empty when unknown.
    pub fields: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlOutcome {
    Continue,
    /// Apply this text as the node's query.
    Apply(String),
    Cancel,
    /// Nothing happened but this wants saying (e.g. Esc with edits not applied).
    Say(String),
}

/// One problem of the last check, positioned in the editor text (1-based; columns in
/// characters).
#[derive(Debug, Clone, PartialEq)]
struct Problem {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: String,
    hint: Option<String>,
}

impl Problem {
    fn text(&self) -> String {
        match &self.hint {
            Some(h) => format!("{} — {h}", self.message),
            None => self.message.clone(),
        }
    }
}

/// The template list while it is open.
#[derive(Debug, Clone, Default)]
struct Picker {
    filter: LineInput,
    selected: usize,
}

/// Actions of the `sql` keymap context and how the key hint names them.
const ACTIONS: [(&str, &str); 3] = [
    ("validate", "check"),
    ("template", "templates"),
    ("apply", "apply"),
];

pub struct SqlEditor {
    node_id: String,
    /// The query when the editor opened.
    original: String,
    /// Esc was pressed once with edits not applied: the next Esc drops them.
    confirm_cancel: bool,
    upstream: Vec<UpstreamTable>,
    textarea: TextArea<'static>,
    templates: Vec<Template>,
    picker: Option<Picker>,
    /// The text of the last check and what it found.
    checked: Option<(String, Vec<Problem>)>,
    /// First text row and display column on screen.
    top: usize,
    left: usize,
    /// Text rows on screen at the last render, for paging.
    page: usize,
    /// `<C-k> check  ...`, from the keymap.
    hint: String,
    /// The key of `validate`, if one is bound.
    check_key: Option<String>,
}

/// 1-based line and character column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The key hint (`<C-k> check  ...`) and the key of `validate`, from the keymap.
fn hint_for(keymap: &Keymap) -> (String, Option<String>) {
    let bound = keymap.bindings("sql");
    let key = |action: &str| {
        bound
            .iter()
            .find(|(_, a)| a == action)
            .map(|(k, _)| k.clone())
    };
    let mut parts: Vec<String> = ACTIONS
        .iter()
        .filter_map(|(action, word)| key(action).map(|k| format!("{k} {word}")))
        .collect();
    parts.push("<Esc> cancel".into());
    (parts.join("  "), key("validate"))
}

impl SqlEditor {
    pub fn new(node_id: &str, query: &str, upstream: Vec<UpstreamTable>) -> SqlEditor {
        let lines = query
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect();
        let original = query
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        SqlEditor {
            node_id: node_id.to_string(),
            original,
            confirm_cancel: false,
            templates: templates::all(&upstream),
            upstream,
            textarea: TextArea::new(lines),
            picker: None,
            checked: None,
            top: 0,
            left: 0,
            page: 10,
            hint: String::new(),
            check_key: None,
        }
        .with_keys(&Keymap::defaults())
    }

    fn with_keys(mut self, keymap: &Keymap) -> SqlEditor {
        (self.hint, self.check_key) = hint_for(keymap);
        self
    }

    /// Gets every key while the editor is open: keys bound in the `sql` context run
    /// their action, <Esc> closes the template list or cancels, the rest edits.
    pub fn handle_key(&mut self, key: Key, keymap: &Keymap) -> SqlOutcome {
        (self.hint, self.check_key) = hint_for(keymap);
        let confirmed = std::mem::take(&mut self.confirm_cancel);
        let action = keymap.local_action("sql", key);
        if self.picker.is_some() {
            return self.picker_key(key, action);
        }
        if let Some(action) = action {
            return self.perform(action);
        }
        match key.code {
            KeyCode::Esc if self.changed() && !confirmed => {
                self.confirm_cancel = true;
                return SqlOutcome::Say(
                    "the SQL has edits not applied: C-s applies them, Esc again drops them".into(),
                );
            }
            KeyCode::Esc => return SqlOutcome::Cancel,
            KeyCode::PageUp => self.page_move(false),
            KeyCode::PageDown => self.page_move(true),
            // the textarea pages by a viewport it never draws; page by ours instead
            KeyCode::Char('v') if key.mods == KeyModifiers::CONTROL => self.page_move(true),
            KeyCode::Char('v') if key.mods == KeyModifiers::ALT => self.page_move(false),
            _ => {
                self.textarea.input(key.to_event());
            }
        }
        SqlOutcome::Continue
    }

    fn page_move(&mut self, down: bool) {
        let step = self.page.max(1);
        let (row, col) = (self.textarea.cursor().0, self.textarea.cursor().1);
        let last = self.textarea.lines().len().saturating_sub(1);
        let target = if down {
            (row + step).min(last)
        } else {
            row.saturating_sub(step)
        };
        if target > u16::MAX as usize || col > u16::MAX as usize {
            let m = if down {
                CursorMove::Down
            } else {
                CursorMove::Up
            };
            for _ in 0..step {
                self.textarea.move_cursor(m);
            }
        } else {
            // Jump clamps the column to the target line
            self.textarea
                .move_cursor(CursorMove::Jump(target as u16, col as u16));
        }
        if down {
            self.top = self.top.saturating_add(step);
        } else {
            self.top = self.top.saturating_sub(step);
        }
    }

    fn picker_key(&mut self, key: Key, action: Option<&str>) -> SqlOutcome {
        let Some(picker) = self.picker.as_mut() else {
            return SqlOutcome::Continue;
        };
        match key.code {
            KeyCode::Esc => self.picker = None,
            KeyCode::Enter => {
                let selected = picker.selected;
                if let Some(&i) = self.filtered().get(selected) {
                    let text = self.templates[i].text.clone();
                    self.insert_template(&text);
                    self.picker = None;
                }
            }
            KeyCode::Up => picker.selected = picker.selected.saturating_sub(1),
            KeyCode::Down => picker.selected += 1,
            KeyCode::Char('p') if key.mods == KeyModifiers::CONTROL => {
                picker.selected = picker.selected.saturating_sub(1)
            }
            KeyCode::Char('n') if key.mods == KeyModifiers::CONTROL => picker.selected += 1,
            _ if key.typed().is_none() && action.is_some() => {
                return match action {
                    Some("template") => {
                        self.picker = None;
                        SqlOutcome::Continue
                    }
                    Some(a) => {
                        let a = a.to_string();
                        self.picker = None;
                        self.perform(&a)
                    }
                    None => SqlOutcome::Continue,
                };
            }
            _ => {
                if picker.filter.handle(key) {
                    picker.selected = 0;
                }
            }
        }
        let n = self.filtered().len();
        if let Some(p) = self.picker.as_mut() {
            p.selected = p.selected.min(n.saturating_sub(1));
        }
        SqlOutcome::Continue
    }

    /// Indices of the templates matching the picker's filter, best first.
    fn filtered(&self) -> Vec<usize> {
        let q = self
            .picker
            .as_ref()
            .map_or("", |p| p.filter.text.as_str())
            .trim();
        let mut scored: Vec<(i64, usize)> = self
            .templates
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                fuzzy_score(q, t.name)
                    .or_else(|| fuzzy_score(q, t.about).map(|s| s - 100))
                    .map(|s| (s, i))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, i)| i).collect()
    }

    /// Insert a template at the cursor, on a line of its own if the cursor is after text.
    fn insert_template(&mut self, text: &str) {
        let (row, col) = (self.textarea.cursor().0, self.textarea.cursor().1);
        let line = self.textarea.lines().get(row).cloned().unwrap_or_default();
        let before: String = line.chars().take(col).collect();
        if !before.trim().is_empty() {
            self.textarea.insert_newline();
        }
        self.textarea.insert_str(text);
    }

    /// Run a named action: `validate`, `template` or `apply` (which checks, then applies).
    pub fn perform(&mut self, action: &str) -> SqlOutcome {
        match action {
            "validate" => self.validate(),
            "template" => {
                self.picker = match self.picker {
                    Some(_) => None,
                    None => Some(Picker::default()),
                }
            }
            "apply" => {
                self.validate();
                return SqlOutcome::Apply(self.text());
            }
            _ => {}
        }
        SqlOutcome::Continue
    }

    fn validate(&mut self) {
        let text = self.text();
        let names: Vec<&str> = self.upstream.iter().map(|t| t.name.as_str()).collect();
        let problems = sql::check(&text, &names)
            .into_iter()
            .map(|p| {
                let (line, column) = line_col(&text, p.start);
                let (end_line, end_column) = line_col(&text, p.end.max(p.start));
                Problem {
                    line,
                    column,
                    end_line,
                    end_column,
                    message: p.message,
                    hint: p.hint,
                }
            })
            .collect();
        self.checked = Some((text, problems));
    }

    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }

    /// A key went elsewhere: the next Esc asks again before dropping edits.
    pub fn disarm(&mut self) {
        self.confirm_cancel = false;
    }

    /// The text differs from the query the editor opened with.
    pub fn changed(&self) -> bool {
        self.text() != self.original
    }

    /// (line, column, message) of every problem of the last check, 1-based.
    pub fn problems(&self) -> Vec<(usize, usize, String)> {
        self.checked.as_ref().map_or(Vec::new(), |(_, ps)| {
            ps.iter().map(|p| (p.line, p.column, p.text())).collect()
        })
    }

    /// Problems of the last check, if the text has not changed since.
    fn current_problems(&self) -> Option<&[Problem]> {
        match &self.checked {
            Some((text, ps)) if *text == self.text() => Some(ps),
            _ => None,
        }
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        frame.render_widget(Clear, area);
        let title = Line::from(vec![
            Span::styled(" SQL ", theme.accent()),
            Span::raw(format!("{} ", self.node_id)),
        ]);
        let block = Block::bordered()
            .border_style(theme.border(focused))
            .style(theme.base())
            .title(title)
            .title_bottom(Line::styled(format!(" {} ", self.hint), theme.muted()));
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
            let how = match &self.check_key {
                Some(k) => format!("{k} checks the SQL against the upstream tables"),
                None => "not checked yet".into(),
            };
            return vec![Line::styled(how, theme.muted())];
        };
        let stale = *text != self.text();
        let mut lines: Vec<Line> = if problems.is_empty() {
            vec![Line::styled("SQL ok", theme.ok())]
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
        if stale {
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
            lines.extend(highlight::highlight(&t.text, theme));
            let block = Block::default()
                .borders(Borders::LEFT)
                .border_style(theme.border(false));
            frame.render_widget(Paragraph::new(lines).block(block), p);
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::tui::headless::frame_text;
    use crate::tui::keys::parse_keys;

    fn clicks() -> Vec<UpstreamTable> {
        vec![UpstreamTable {
            name: "clicks".into(),
            fields: vec![
                ("user_id".into(), "String".into()),
                ("url".into(), "String".into()),
                ("ts".into(), "Timestamp".into()),
            ],
        }]
    }

    fn keys(ed: &mut SqlEditor, script: &str) -> SqlOutcome {
        let km = Keymap::defaults();
        let mut last = SqlOutcome::Continue;
        for k in parse_keys(script).unwrap() {
            last = ed.handle_key(k, &km);
        }
        last
    }

    fn draw(ed: &mut SqlEditor, w: u16, h: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| ed.render(f, f.area(), &Theme::default(), true))
            .unwrap();
        frame_text(term.backend().buffer())
    }

    #[test]
    fn typing_enter_and_backspace_edit() {
        let mut ed = SqlEditor::new("pv", "", clicks());
        assert_eq!(
            keys(&mut ed, "SELECT 1<Enter>FROM cl<BS>licks"),
            SqlOutcome::Continue
        );
        assert_eq!(ed.text(), "SELECT 1\nFROM clicks");
        keys(&mut ed, "<Up><End><Tab>x<Down><Home>y");
        assert_eq!(ed.text(), "SELECT 1    x\nyFROM clicks");
        keys(&mut ed, "<C-u><C-u><C-u>");
        assert_eq!(ed.text(), "SELECT 1\nFROM clicks");
        assert_eq!(
            keys(&mut ed, "<C-s>"),
            SqlOutcome::Apply("SELECT 1\nFROM clicks".into())
        );
        // apply also checked the text
        assert_eq!(ed.problems(), vec![]);
        // edits not applied: the first Esc warns, a second one right after cancels
        assert!(matches!(keys(&mut ed, "<Esc>"), SqlOutcome::Say(m) if m.contains("Esc again")));
        assert_eq!(keys(&mut ed, "<Esc>"), SqlOutcome::Cancel);
        // any other key in between asks again
        assert!(matches!(
            keys(&mut ed, "<Esc><Left><Esc>"),
            SqlOutcome::Say(_)
        ));
        // no edits: Esc cancels at once
        let mut ed = SqlEditor::new("pv", "SELECT 1\r\nFROM clicks", clicks());
        assert_eq!(keys(&mut ed, "<Esc>"), SqlOutcome::Cancel);
        keys(&mut ed, "x<BS>");
        assert_eq!(keys(&mut ed, "<Esc>"), SqlOutcome::Cancel);
        // the text round-trips, leading newline included
        let q = "\nSELECT *\r\nFROM clicks\n";
        assert_eq!(
            SqlEditor::new("pv", q, clicks()).text(),
            "\nSELECT *\nFROM clicks\n"
        );
    }

    #[test]
    fn validation_positions() {
        let mut ed = SqlEditor::new(
            "pv",
            "SELECT url,\n  COUNT(*) FROM clikcs GROUP BY url",
            clicks(),
        );
        assert_eq!(ed.problems(), vec![]);
        assert_eq!(keys(&mut ed, "<C-k>"), SqlOutcome::Continue);
        let p = ed.problems();
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].0, p[0].1), (2, 17));
        assert!(p[0].2.contains("`clikcs`") && p[0].2.contains("did you mean `clicks`?"));
        let screen = draw(&mut ed, 58, 20);
        assert!(screen.contains("2:17 SQL reads table `clikcs`"), "{screen}");
        assert!(screen.contains(" 2● "), "{screen}");
        // fixing it and checking again
        let mut ed = SqlEditor::new("pv", "SELECT * FROM clicks", clicks());
        ed.perform("validate");
        assert!(draw(&mut ed, 58, 20).contains("SQL ok"));
        assert_eq!(line_col("a\nbé c", 6), (2, 4));
        assert_eq!(line_col("é", 1), (1, 1));
        assert_eq!(line_col("", 9), (1, 1));
    }

    #[test]
    fn apply_is_never_blocked() {
        let mut ed = SqlEditor::new("pv", "SELECT FROM WHERE", vec![]);
        match ed.perform("apply") {
            SqlOutcome::Apply(t) => assert_eq!(t, "SELECT FROM WHERE"),
            other => panic!("{other:?}"),
        }
        assert!(!ed.problems().is_empty());
    }

    #[test]
    fn templates_from_the_list() {
        let mut ed = SqlEditor::new("pv", "", clicks());
        keys(&mut ed, "<C-t>");
        assert!(draw(&mut ed, 58, 20).contains("tumbling window count"));
        // typing filters, Enter inserts at the cursor
        keys(&mut ed, "topn<Enter>");
        assert!(ed.picker.is_none());
        assert!(ed.text().contains("ROW_NUMBER() OVER"), "{}", ed.text());
        assert!(ed.text().contains("TABLE clicks"));
        ed.perform("validate");
        assert_eq!(ed.problems(), vec![]);
        // Esc closes the list without cancelling the editor
        let before = ed.text();
        assert_eq!(keys(&mut ed, "<C-t>ses<Esc>"), SqlOutcome::Continue);
        assert_eq!(ed.text(), before);
        assert_eq!(
            keys(&mut ed, "<C-t><Down><Down><Up>zzzz<Enter><Esc>"),
            SqlOutcome::Continue
        );
        assert_eq!(ed.text(), before);
        // after text on the line, a template starts on a new line
        let mut ed = SqlEditor::new("pv", "-- mine", clicks());
        keys(&mut ed, "<End><C-t>projection<Enter>");
        assert!(
            ed.text()
                .starts_with("-- mine\nSELECT user_id, url, ts\nFROM clicks"),
            "{}",
            ed.text()
        );
    }

    #[test]
    fn renders_small_and_large() {
        let q = "\nSELECT window_start, window_end, url,\n       COUNT(*) AS pv\nFROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))\nGROUP BY window_start, window_end, url";
        let mut ed = SqlEditor::new("pv", q, clicks());
        let small = draw(&mut ed, 58, 20);
        assert!(small.contains("clicks(user_id, url, ts)"), "{small}");
        assert!(
            small.contains(" 1  ") && small.contains(" 5  GROUP BY"),
            "{small}"
        );
        let big = draw(&mut ed, 140, 46);
        assert!(big.contains("│clicks"), "{big}");
        assert!(big.contains("  user_id String"), "{big}");
        assert!(big.contains(" 4  FROM TABLE(TUMBLE"), "{big}");
        assert!(big.contains("<C-k> check"), "{big}");
        ed.perform("template");
        let big = draw(&mut ed, 140, 46);
        assert!(
            big.contains("pick columns and keep the rows that match"),
            "{big}"
        );
        assert!(big.contains("WHERE user_id IS NOT NULL"), "{big}");
    }

    #[test]
    fn scrolls_to_the_cursor() {
        let long = format!("SELECT '{}' AS tail_marker", "x".repeat(200));
        let text: Vec<String> = (0..60)
            .map(|i| format!("-- line {i}"))
            .chain([long])
            .collect();
        let mut ed = SqlEditor::new("pv", &text.join("\n"), clicks());
        keys(&mut ed, "<C-v><C-v><C-v><C-v><C-v><C-v><C-v><C-v><End>");
        assert_eq!(ed.textarea.cursor().0, 60);
        let screen = draw(&mut ed, 58, 20);
        assert!(
            screen.contains("61  ") && screen.contains("tail_marker"),
            "{screen}"
        );
        keys(&mut ed, "<PageUp><PageUp><Home>");
        let screen = draw(&mut ed, 58, 20);
        assert!(!screen.contains("tail_marker"), "{screen}");
        assert!(screen.contains("-- line"), "{screen}");
    }

    #[test]
    fn odd_text_and_keys_do_not_panic() {
        let texts = [
            "",
            "\t\tSELECT\t*\n\u{1b}[31m\r\n名前 ̈é 🦀🦀🦀",
            &"é".repeat(5000),
            "'unterminated\n/* open",
        ];
        let script = "<C-k><Tab>x名<Left><Left><Left><Right><End><Home><Up><Down><PageDown><PageUp>\
                      <S-Right><S-Right><C-x><C-y><C-u><C-r><Del><BS><C-w><A-d><F5><C-t>a<BS><BS>\
                      <Down><Down><Down><Down><Down><Down><Down><Down><Down><Down><Down><Enter>\
                      <C-t><Up><Up><Enter><C-k><C-v><A-v><S-Tab><A-x><C-a><C-e><C-j>";
        for t in texts {
            let mut ed = SqlEditor::new("n", t, clicks());
            for k in parse_keys(script).unwrap() {
                ed.handle_key(k, &Keymap::defaults());
                for (w, h) in [(58, 20), (140, 46), (20, 5), (3, 2)] {
                    draw(&mut ed, w, h);
                }
            }
            let mut ed = SqlEditor::new("n", t, vec![]);
            ed.perform("nonsense");
            ed.perform("validate");
            draw(&mut ed, 80, 24);
            draw(&mut ed, 1, 1);
        }
    }
}
