//! The SQL editor of a SQL operator: a multi-line editor (ratatui-textarea as the editing
//! model, drawn here with SQL highlighting, a line-number gutter and scrolling), query
//! templates (<C-t>), on-demand checks (<C-k>) against the upstream tables, and apply
//! (<C-s>). The graph editor embeds it and hands it every key while it is open.

pub mod highlight;
pub mod templates;
mod view;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

use self::templates::Template;
use crate::jobfile::sql;
use crate::keymap::Keymap;
use crate::keys::Key;
use crate::overlay::{LineInput, fuzzy_score};

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
    /// A problem at the byte range `at` of the editor text `text`.
    fn at(text: &str, at: std::ops::Range<usize>, message: String, hint: Option<String>) -> Self {
        let (line, column) = line_col(text, at.start);
        let (end_line, end_column) = line_col(text, at.end.max(at.start));
        Problem {
            line,
            column,
            end_line,
            end_column,
            message,
            hint,
        }
    }

    fn text(&self) -> String {
        match &self.hint {
            Some(h) => format!("{} — {h}", self.message),
            None => self.message.clone(),
        }
    }
}

/// A problem of the job's full check inside the query, as byte offsets of the query text.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundProblem {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub hint: Option<String>,
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
    /// The job's full check (`weir validate`'s, from the graph editor's validator) runs
    /// on a newer text than `checked`.
    pending: bool,
    /// Problems of the job the last full check found outside this query.
    elsewhere: usize,
    /// `validate` was asked for: the graph editor checks the text at once.
    check_wanted: bool,
    /// First text row and display column on screen.
    top: usize,
    left: usize,
    /// Text rows on screen at the last render, for paging.
    page: usize,
    /// `<C-k> check  ...`, from the keymap.
    /// The footer's hints (key, what it does), in priority order.
    hint: Vec<(String, String)>,
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
fn hint_for(keymap: &Keymap) -> (Vec<(String, String)>, Option<String>) {
    let bound = keymap.bindings("sql");
    let key = |action: &str| {
        bound
            .iter()
            .find(|(_, a)| a == action)
            .map(|(k, _)| k.clone())
    };
    let mut parts: Vec<(String, String)> = ACTIONS
        .iter()
        .filter_map(|(action, word)| key(action).map(|k| (k, word.to_string())))
        .collect();
    parts.push(("<Esc>".into(), "cancel".into()));
    (parts, key("validate"))
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
            pending: false,
            elsewhere: 0,
            check_wanted: false,
            top: 0,
            left: 0,
            page: 10,
            hint: Vec::new(),
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

    /// The model's own check of the query, at once; the graph editor then replaces it
    /// with the job's full check (`check_wanted`).
    fn validate(&mut self) {
        self.check_wanted = true;
        let text = self.text();
        let names: Vec<&str> = self.upstream.iter().map(|t| t.name.as_str()).collect();
        let problems = sql::check(&text, &names)
            .into_iter()
            .map(|p| Problem::at(&text, p.start..p.end, p.message, p.hint))
            .collect();
        self.checked = Some((text, problems));
    }

    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }

    /// `validate` was asked for since the last call: check the text now, not after the
    /// typing pause.
    pub fn take_check_wanted(&mut self) -> bool {
        std::mem::take(&mut self.check_wanted)
    }

    /// The full check of a newer text is on its way: the panel says "checking…".
    pub fn set_pending(&mut self) {
        self.pending = true;
    }

    /// The job's full check of the query `text`: its problems as byte ranges of `text`
    /// with message and hint, and how many problems the job has elsewhere.
    pub fn set_verdict(&mut self, text: String, found: Vec<FoundProblem>, elsewhere: usize) {
        let problems = found
            .into_iter()
            .map(|p| Problem::at(&text, p.start..p.end, p.message, p.hint))
            .collect();
        self.pending = false;
        self.elsewhere = elsewhere;
        self.checked = Some((text, problems));
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
}

#[cfg(test)]
mod tests;
