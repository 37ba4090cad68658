//! A form of labelled fields for the governance screens: text, secret references, one of
//! several choices, a toggle, and check boxes. Up/Down (Tab/S-Tab) move between fields,
//! typing edits a text field, Left/Right or Space change a choice, Space toggles, and
//! Left/Right pick the check box that Space flips. Enter (or C-s) submits, Esc cancels.
//! Errors are shown under the field they belong to.

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::action::Level;
use crate::keys::Key;
use crate::overlay::LineInput;
use crate::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Text(LineInput),
    /// A credential reference (`env:NAME`, `file:PATH`): shown masked unless focused.
    Secret(LineInput),
    /// One of the options; the index of the chosen one.
    Choice(Vec<String>, usize),
    Toggle(bool),
    /// Check boxes: (option, checked); the index of the focused box.
    Checks(Vec<(String, bool)>, usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Stable name used by the screen (`name`, `test_address`, ...).
    pub key: &'static str,
    pub label: String,
    pub kind: FieldKind,
    /// Greyed out and skipped while false (e.g. columns unless the request is for a person).
    pub enabled: bool,
    /// A line of help under the field when focused.
    pub hint: String,
    /// A problem with the value, shown under the field.
    pub error: Option<String>,
}

impl Field {
    pub fn text(key: &'static str, label: &str, value: &str) -> Field {
        Field::new(key, label, FieldKind::Text(LineInput::with(value)))
    }
    pub fn secret(key: &'static str, label: &str, value: &str) -> Field {
        Field::new(key, label, FieldKind::Secret(LineInput::with(value)))
    }
    pub fn choice(key: &'static str, label: &str, options: &[&str], chosen: &str) -> Field {
        let options: Vec<String> = options.iter().map(|s| s.to_string()).collect();
        let at = options.iter().position(|o| o == chosen).unwrap_or(0);
        Field::new(key, label, FieldKind::Choice(options, at))
    }
    pub fn toggle(key: &'static str, label: &str, on: bool) -> Field {
        Field::new(key, label, FieldKind::Toggle(on))
    }
    pub fn checks(key: &'static str, label: &str, options: &[(&str, bool)]) -> Field {
        let options = options.iter().map(|(o, c)| (o.to_string(), *c)).collect();
        Field::new(key, label, FieldKind::Checks(options, 0))
    }
    fn new(key: &'static str, label: &str, kind: FieldKind) -> Field {
        Field {
            key,
            label: label.to_string(),
            kind,
            enabled: true,
            hint: String::new(),
            error: None,
        }
    }
    pub fn hint(mut self, hint: &str) -> Field {
        self.hint = hint.to_string();
        self
    }
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormEvent {
    /// The value of this field changed (validate as you type).
    Changed(&'static str),
    /// Moved between fields or nothing happened.
    Consumed,
    Submit,
    Cancel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    pub selected: usize,
    /// A message for the whole form (e.g. the store's refusal).
    pub message: Option<(Level, String)>,
}

impl Form {
    pub fn new(title: &str, fields: Vec<Field>) -> Form {
        let mut f = Form {
            title: title.to_string(),
            fields,
            selected: 0,
            message: None,
        };
        if !f.fields.first().is_some_and(|x| x.enabled) {
            f.step(1);
        }
        f
    }

    fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    pub fn field_mut(&mut self, key: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.key == key)
    }

    /// The key of the focused field.
    pub fn focused(&self) -> Option<&'static str> {
        self.fields.get(self.selected).map(|f| f.key)
    }

    /// Text of a text or secret field, trimmed ("" for other kinds).
    pub fn text(&self, key: &str) -> String {
        match self.field(key).map(|f| &f.kind) {
            Some(FieldKind::Text(i) | FieldKind::Secret(i)) => i.text.trim().to_string(),
            _ => String::new(),
        }
    }

    /// The chosen option of a choice field.
    pub fn choice(&self, key: &str) -> String {
        match self.field(key).map(|f| &f.kind) {
            Some(FieldKind::Choice(o, at)) => o.get(*at).cloned().unwrap_or_default(),
            _ => String::new(),
        }
    }

    pub fn toggled(&self, key: &str) -> bool {
        matches!(
            self.field(key).map(|f| &f.kind),
            Some(FieldKind::Toggle(true))
        )
    }

    /// The checked options of a check-box field.
    pub fn checked(&self, key: &str) -> Vec<String> {
        match self.field(key).map(|f| &f.kind) {
            Some(FieldKind::Checks(o, _)) => o
                .iter()
                .filter(|(_, c)| *c)
                .map(|(n, _)| n.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn is_enabled(&self, key: &str) -> bool {
        self.field(key).is_some_and(|f| f.enabled)
    }

    pub fn set_enabled(&mut self, key: &str, on: bool) {
        if let Some(f) = self.field_mut(key) {
            f.enabled = on;
        }
    }

    /// Replace the options of a check-box field, keeping the checks of options that stay.
    pub fn set_check_options(&mut self, key: &str, options: &[&str]) {
        if let Some(Field {
            kind: FieldKind::Checks(old, at),
            ..
        }) = self.field_mut(key)
        {
            let new: Vec<(String, bool)> = options
                .iter()
                .map(|o| {
                    let was = old.iter().any(|(n, c)| n == o && *c);
                    (o.to_string(), was)
                })
                .collect();
            *at = (*at).min(new.len().saturating_sub(1));
            *old = new;
        }
    }

    pub fn set_error(&mut self, key: &str, error: Option<String>) {
        if let Some(f) = self.field_mut(key) {
            f.error = error;
        }
    }

    pub fn clear_errors(&mut self) {
        for f in &mut self.fields {
            f.error = None;
        }
        self.message = None;
    }

    /// Show a store error at the field it names (`name: …`), else for the whole form.
    pub fn show_error(&mut self, message: &str) {
        let at = message
            .split_once(':')
            .map(|(k, _)| k.trim())
            .and_then(|k| self.fields.iter().position(|f| f.key == k));
        match at {
            Some(i) => {
                self.fields[i].error = Some(message.to_string());
                self.selected = i;
            }
            None => self.message = Some((Level::Error, message.to_string())),
        }
    }

    pub fn has_errors(&self) -> bool {
        self.fields.iter().any(|f| f.enabled && f.error.is_some())
    }

    fn step(&mut self, dir: isize) {
        let n = self.fields.len();
        if n == 0 {
            return;
        }
        let mut i = self.selected;
        for _ in 0..n {
            i = (i as isize + dir).rem_euclid(n as isize) as usize;
            if self.fields[i].enabled {
                self.selected = i;
                return;
            }
        }
    }

    pub fn handle_key(&mut self, key: Key) -> FormEvent {
        let ctrl = key.mods.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return FormEvent::Cancel,
            KeyCode::Enter => return FormEvent::Submit,
            KeyCode::Char('s') if ctrl => return FormEvent::Submit,
            KeyCode::Up | KeyCode::BackTab => {
                self.step(-1);
                return FormEvent::Consumed;
            }
            KeyCode::Down | KeyCode::Tab => {
                self.step(1);
                return FormEvent::Consumed;
            }
            _ => {}
        }
        let Some(field) = self.fields.get_mut(self.selected) else {
            return FormEvent::Consumed;
        };
        if !field.enabled {
            return FormEvent::Consumed;
        }
        let changed = match &mut field.kind {
            FieldKind::Text(input) | FieldKind::Secret(input) => {
                let before = input.text.clone();
                input.handle(key);
                input.text != before
            }
            FieldKind::Choice(options, at) => {
                let n = options.len().max(1);
                match key.code {
                    KeyCode::Left => *at = (*at + n - 1) % n,
                    KeyCode::Right | KeyCode::Char(' ') => *at = (*at + 1) % n,
                    _ => return FormEvent::Consumed,
                }
                true
            }
            FieldKind::Toggle(on) => match key.code {
                KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right => {
                    *on = !*on;
                    true
                }
                _ => false,
            },
            FieldKind::Checks(options, at) => match key.code {
                KeyCode::Left => {
                    *at = at.saturating_sub(1);
                    false
                }
                KeyCode::Right => {
                    *at = (*at + 1).min(options.len().saturating_sub(1));
                    false
                }
                KeyCode::Char(' ') => match options.get_mut(*at) {
                    Some((_, c)) => {
                        *c = !*c;
                        true
                    }
                    None => false,
                },
                _ => false,
            },
        };
        if changed {
            field.error = None;
            self.message = None;
            FormEvent::Changed(field.key)
        } else {
            FormEvent::Consumed
        }
    }

    /// Lines of the form: label, value, then the field's error or (focused) hint.
    pub fn lines(&self, theme: &Theme, focused: bool) -> Vec<Line<'static>> {
        let width = self
            .fields
            .iter()
            .map(|f| f.label.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = Vec::new();
        for (i, f) in self.fields.iter().enumerate() {
            let here = focused && i == self.selected;
            let label_style = if !f.enabled {
                theme.muted()
            } else if here {
                theme.accent()
            } else {
                theme.base()
            };
            let mut spans = vec![
                Span::styled(if here { "› " } else { "  " }, theme.accent()),
                Span::styled(format!("{:<width$}  ", f.label), label_style),
            ];
            match &f.kind {
                FieldKind::Text(input) if here => spans.extend(input.spans(theme)),
                FieldKind::Text(input) => spans.push(Span::raw(input.text.clone())),
                // a reference is not secret, but whatever else is typed here may be one
                FieldKind::Secret(input) if here && looks_like_reference(&input.text) => {
                    spans.extend(input.spans(theme))
                }
                FieldKind::Secret(input) if here => {
                    spans.push(Span::raw("•".repeat(input.text.chars().count())));
                    spans.push(Span::styled(" ", theme.selected()));
                }
                FieldKind::Secret(input) => {
                    spans.push(Span::raw(if input.text.trim().is_empty() {
                        String::new()
                    } else {
                        weir_model::model::secret::masked(Some(input.text.trim()))
                    }))
                }
                FieldKind::Choice(options, at) => {
                    let v = options.get(*at).cloned().unwrap_or_default();
                    let style = if here { theme.selected() } else { theme.base() };
                    spans.push(Span::styled(format!("‹ {v} ›"), style));
                }
                FieldKind::Toggle(on) => {
                    let style = if here { theme.selected() } else { theme.base() };
                    spans.push(Span::styled(if *on { "[x]" } else { "[ ]" }, style));
                }
                FieldKind::Checks(options, at) => {
                    for (j, (name, c)) in options.iter().enumerate() {
                        let style = if here && j == *at {
                            theme.selected()
                        } else {
                            theme.base()
                        };
                        let mark = if *c { "[x] " } else { "[ ] " };
                        spans.push(Span::styled(format!("{mark}{name}"), style));
                        spans.push(Span::raw("  "));
                    }
                }
            }
            out.push(Line::from(spans));
            let pad = " ".repeat(width + 4);
            if let Some(e) = f.error.as_ref().filter(|_| f.enabled) {
                out.push(Line::styled(format!("{pad}✗ {e}"), theme.error()));
            } else if here && !f.hint.is_empty() {
                out.push(Line::styled(format!("{pad}{}", f.hint), theme.muted()));
            }
        }
        if let Some((level, msg)) = &self.message {
            let style = match level {
                Level::Error => theme.error(),
                Level::Warning => theme.warning(),
                Level::Ok => theme.ok(),
                Level::Info => theme.base(),
            };
            out.push(Line::raw(""));
            out.push(Line::styled(msg.clone(), style));
        }
        out.push(Line::raw(""));
        out.push(Line::from(vec![
            Span::styled("Enter", theme.accent()),
            Span::raw(" submit  "),
            Span::styled("↑↓", theme.accent()),
            Span::raw(" field  "),
            Span::styled("←→/Space", theme.accent()),
            Span::raw(" change  "),
            Span::styled("Esc", theme.accent()),
            Span::raw(" cancel"),
        ]));
        out
    }

    /// Draw the form in a pane of its own.
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        draw_pane(
            frame,
            area,
            theme,
            &self.title,
            self.lines(theme, focused),
            focused,
        );
    }
}

/// Form lines in a pane of their own over `area` (what is under it is cleared).
pub fn draw_pane(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    title: &str,
    lines: Vec<Line<'static>>,
    focused: bool,
) {
    let block = theme.pane(format!(" {title} "), focused);
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// `env:NAME`, `file:PATH`, or the start of one of them while typing.
fn looks_like_reference(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("env:")
        || t.starts_with("file:")
        || "env:".starts_with(t)
        || "file:".starts_with(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Form {
        let mut cols = Field::text("columns", "columns", "");
        cols.enabled = false;
        Form::new(
            "t",
            vec![
                Field::text("name", "name", ""),
                Field::choice("for", "for", &["project", "person"], "project"),
                cols,
                Field::checks("perms", "perms", &[("select", false), ("insert", true)]),
            ],
        )
    }

    #[test]
    fn typing_moving_and_values() {
        let mut f = form();
        for c in "ab".chars() {
            assert_eq!(f.handle_key(Key::char(c)), FormEvent::Changed("name"));
        }
        assert_eq!(f.text("name"), "ab");
        f.handle_key(Key::plain(KeyCode::Down));
        assert_eq!(f.focused(), Some("for"));
        f.handle_key(Key::plain(KeyCode::Right));
        assert_eq!(f.choice("for"), "person");
        // disabled fields are skipped
        f.handle_key(Key::plain(KeyCode::Down));
        assert_eq!(f.focused(), Some("perms"));
        f.handle_key(Key::char(' '));
        assert_eq!(f.checked("perms"), vec!["select", "insert"]);
        f.handle_key(Key::plain(KeyCode::Right));
        f.handle_key(Key::char(' '));
        assert_eq!(f.checked("perms"), vec!["select"]);
        assert_eq!(f.handle_key(Key::plain(KeyCode::Enter)), FormEvent::Submit);
        assert_eq!(f.handle_key(Key::plain(KeyCode::Esc)), FormEvent::Cancel);
    }

    #[test]
    fn store_errors_land_on_their_field() {
        let mut f = form();
        f.show_error("perms: kafka topics allow select and insert only; untick update");
        assert_eq!(f.focused(), Some("perms"));
        assert!(f.has_errors());
        f.show_error("only a data admin can do that; you are developer of p");
        assert!(f.message.is_some());
        f.set_check_options("perms", &["insert", "update"]);
        assert_eq!(f.checked("perms"), vec!["insert"]);
    }
}
