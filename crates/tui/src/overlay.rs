//! Overlays above the panes: the `:` command palette (fuzzy), `/` filter, `?` help,
//! one-line prompts (new job, rename, move), confirmations, and the kept messages and
//! notifications (`:messages`, `:notifications`). [`LineInput`] is the one-line editor
//! of the palette, the prompts and the forms' text fields, with the readline keys.

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::action::Level;
use super::keys::Key;
use super::theme::Theme;

/// A one-line text input. Besides typing, Backspace, Delete, the arrows, Home and End it
/// takes the readline keys: C-a start, C-e end, C-u kill to the start, C-k kill to the
/// end, C-w kill the word before the cursor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineInput {
    pub text: String,
    /// Cursor position in characters.
    pub cursor: usize,
}

impl LineInput {
    pub fn with(text: &str) -> LineInput {
        LineInput {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    /// Edit by key; returns false for keys that are not editing keys.
    pub fn handle(&mut self, key: Key) -> bool {
        let byte = |s: &str, c: usize| s.char_indices().nth(c).map_or(s.len(), |(i, _)| i);
        if key.mods == KeyModifiers::CONTROL
            && let KeyCode::Char(c) = key.code
        {
            return self.readline(c);
        }
        match key.code {
            KeyCode::Backspace if self.cursor > 0 => {
                let at = byte(&self.text, self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
            }
            KeyCode::Backspace => {}
            KeyCode::Delete if self.cursor < self.text.chars().count() => {
                let at = byte(&self.text, self.cursor);
                self.text.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.text.chars().count()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.chars().count(),
            _ => match key.typed() {
                Some(c) => {
                    let at = byte(&self.text, self.cursor);
                    self.text.insert(at, c);
                    self.cursor += 1;
                }
                None => return false,
            },
        }
        true
    }

    /// A readline key (Ctrl + `c`); false for one that is not.
    fn readline(&mut self, c: char) -> bool {
        let byte = |s: &str, c: usize| s.char_indices().nth(c).map_or(s.len(), |(i, _)| i);
        match c {
            'a' => self.cursor = 0,
            'e' => self.cursor = self.text.chars().count(),
            'u' => {
                let at = byte(&self.text, self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
            }
            'k' => {
                let at = byte(&self.text, self.cursor);
                self.text.truncate(at);
            }
            'w' => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut from = self.cursor.min(chars.len());
                while from > 0 && chars[from - 1].is_whitespace() {
                    from -= 1;
                }
                while from > 0 && !chars[from - 1].is_whitespace() {
                    from -= 1;
                }
                let (a, b) = (byte(&self.text, from), byte(&self.text, self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor = from;
            }
            _ => return false,
        }
        true
    }

    /// The text with a block cursor, as spans.
    pub fn spans(&self, theme: &Theme) -> Vec<Span<'static>> {
        let before: String = self.text.chars().take(self.cursor).collect();
        let at: String = self
            .text
            .chars()
            .nth(self.cursor)
            .map_or(" ".into(), |c| c.to_string());
        let after: String = self.text.chars().skip(self.cursor + 1).collect();
        vec![
            Span::raw(before),
            Span::styled(at, theme.selected()),
            Span::raw(after),
        ]
    }
}

/// One kept message or notification as `:messages` and `:notifications` list it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// `hh:mm:ss`.
    pub at: String,
    pub level: Level,
    pub text: String,
}

/// A palette entry: what the user types, what it does, and the command it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub name: String,
    pub description: String,
    /// `:screen` opens a screen; anything else is an action name.
    pub run: String,
}

/// Fuzzy score of `query` against `name`: every query character in order; consecutive
/// and word-start matches score higher. None when it does not match.
pub fn fuzzy_score(query: &str, name: &str) -> Option<i64> {
    if query.is_empty() {
        return Some(0);
    }
    let name_l: Vec<char> = name.to_lowercase().chars().collect();
    let mut score = 0i64;
    let mut last: Option<usize> = None;
    let mut from = 0;
    for q in query.to_lowercase().chars() {
        let pos = (from..name_l.len()).find(|&i| name_l[i] == q)?;
        score += 10;
        if last == Some(pos.wrapping_sub(1)) {
            score += 15;
        }
        if pos == 0 || matches!(name_l[pos - 1], '-' | ':' | ' ' | '_' | '.') {
            score += 10;
        }
        score -= (pos - from) as i64;
        last = Some(pos);
        from = pos + 1;
    }
    Some(score - name_l.len() as i64 / 4)
}

#[derive(Debug, Clone, PartialEq)]
pub enum PromptKind {
    NewJob { folder: String },
    NewFolder { parent: String },
    Rename { rel: String },
    Move { rel: String },
}

impl PromptKind {
    pub fn title(&self) -> String {
        match self {
            PromptKind::NewJob { folder } => format!("new job in jobs/{folder}"),
            PromptKind::NewFolder { parent } => format!("new folder in jobs/{parent}"),
            PromptKind::Rename { rel } => format!("rename {rel} to"),
            PromptKind::Move { rel } => format!("move {rel} to folder (empty = top)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Palette {
        input: LineInput,
        commands: Vec<Command>,
        selected: usize,
    },
    Filter {
        input: LineInput,
    },
    Help {
        context: &'static str,
        lines: Vec<(String, String, String)>,
        /// First line shown (the list scrolls when the screen is short).
        top: usize,
    },
    Prompt {
        kind: PromptKind,
        input: LineInput,
    },
    /// Delete this tree entry if confirmed with `y`.
    ConfirmDelete {
        rel: String,
    },
    /// `:messages` or `:notifications`: kept lines, newest first, wrapped and scrolled.
    Log {
        title: &'static str,
        lines: Vec<LogLine>,
        /// What to say when there are none.
        empty: &'static str,
        /// First row shown.
        top: usize,
    },
}

impl Overlay {
    pub fn prompt(kind: PromptKind, initial: &str) -> Overlay {
        Overlay::Prompt {
            kind,
            input: LineInput::with(initial),
        }
    }

    pub fn confirm_delete(rel: &str) -> Overlay {
        Overlay::ConfirmDelete {
            rel: rel.to_string(),
        }
    }

    /// The first help line shown: `top` kept so that the last page stays full.
    pub fn help_top(top: usize, lines: usize, rows: usize) -> usize {
        top.min(lines.saturating_sub(rows))
    }

    /// Palette entries matching the input, best first.
    pub fn matches<'a>(input: &LineInput, commands: &'a [Command]) -> Vec<&'a Command> {
        let q = input.text.trim().trim_start_matches(':');
        let mut scored: Vec<(i64, &Command)> = commands
            .iter()
            .filter_map(|c| fuzzy_score(q, c.name.trim_start_matches(':')).map(|s| (s, c)))
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
        scored.into_iter().map(|(_, c)| c).collect()
    }

    pub fn render(&mut self, frame: &mut Frame, screen: Rect, theme: &Theme, mode_prod: bool) {
        let _ = mode_prod;
        match self {
            Overlay::Palette {
                input,
                commands,
                selected,
            } => {
                let found = Overlay::matches(input, commands);
                let selected = &*selected;
                let height =
                    (found.len() as u16 + 3).clamp(4, screen.height.saturating_sub(4).max(4));
                let area = centered(screen, 60, height);
                frame.render_widget(Clear, area);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border(true))
                    .title(" commands ");
                let inner = block.inner(area);
                frame.render_widget(block, area);
                let [line, list] =
                    Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
                let mut spans = vec![Span::styled(":", theme.accent())];
                spans.extend(input.spans(theme));
                frame.render_widget(Paragraph::new(Line::from(spans)), line);
                let name_w = found
                    .iter()
                    .map(|c| c.name.chars().count())
                    .max()
                    .unwrap_or(0)
                    .min(24);
                // keep the selected entry in view
                let skip = (*selected + 1).saturating_sub(list.height.max(1) as usize);
                let rows: Vec<Line> = found
                    .iter()
                    .enumerate()
                    .skip(skip)
                    .take(list.height as usize)
                    .map(|(i, c)| {
                        let text = format!("{:<name_w$}  {}", c.name, c.description);
                        if i == *selected {
                            Line::styled(text, theme.selected())
                        } else {
                            Line::raw(text)
                        }
                    })
                    .collect();
                let rows = if rows.is_empty() {
                    vec![Line::styled("no such command", theme.error())]
                } else {
                    rows
                };
                frame.render_widget(Paragraph::new(rows), list);
            }
            Overlay::Filter { input } => {
                let area = Rect {
                    x: screen.x,
                    y: screen.bottom().saturating_sub(2),
                    width: screen.width,
                    height: 1,
                };
                frame.render_widget(Clear, area);
                let mut spans = vec![Span::styled("/", theme.accent())];
                spans.extend(input.spans(theme));
                frame.render_widget(Paragraph::new(Line::from(spans)), area);
            }
            Overlay::Help {
                context,
                lines,
                top,
            } => {
                let height = (lines.len() as u16 + 2).min(screen.height.saturating_sub(2));
                let area = centered(screen, 70, height);
                frame.render_widget(Clear, area);
                let rows_h = area.height.saturating_sub(2) as usize;
                *top = Overlay::help_top(*top, lines.len(), rows_h);
                let top = *top;
                let scrolls = lines.len() > rows_h;
                let title = if scrolls {
                    format!(" keys: {context} (↑↓ scroll, Esc closes) ")
                } else {
                    format!(" keys: {context} (Esc closes) ")
                };
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border(true))
                    .title(title);
                let block = if scrolls {
                    block.title_bottom(Line::styled(
                        format!(
                            " {}-{} of {} ",
                            top + 1,
                            (top + rows_h).min(lines.len()),
                            lines.len()
                        ),
                        theme.muted(),
                    ))
                } else {
                    block
                };
                let inner = block.inner(area);
                frame.render_widget(block, area);
                let rows: Vec<Line> = lines
                    .iter()
                    .skip(top)
                    .map(|(k, a, d)| {
                        Line::from(vec![
                            Span::styled(format!("{k:>9} "), theme.accent()),
                            Span::raw(format!("{a:<12} ")),
                            Span::styled(d.clone(), theme.muted()),
                        ])
                    })
                    .collect();
                frame.render_widget(Paragraph::new(rows), inner);
            }
            Overlay::Prompt { kind, input } => {
                let area = centered(screen, 56, 3);
                frame.render_widget(Clear, area);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border(true))
                    .title(format!(" {} ", kind.title()));
                let inner = block.inner(area);
                frame.render_widget(block, area);
                frame.render_widget(Paragraph::new(Line::from(input.spans(theme))), inner);
            }
            Overlay::Log {
                title,
                lines,
                empty,
                top,
            } => render_log(frame, screen, theme, title, lines, empty, top),
            Overlay::ConfirmDelete { rel } => {
                let area = centered(screen, 56, 3);
                frame.render_widget(Clear, area);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.error())
                    .title(" delete ");
                let inner = block.inner(area);
                frame.render_widget(block, area);
                frame.render_widget(
                    Paragraph::new(Line::from(vec![
                        Span::raw(format!("delete {rel}? ")),
                        Span::styled("y", theme.accent()),
                        Span::raw(" yes / "),
                        Span::styled("n", theme.accent()),
                        Span::raw(" no"),
                    ])),
                    inner,
                );
            }
        }
    }
}

/// Glyph of a message's level in `:messages`.
fn level_mark(level: Level, theme: &Theme) -> Span<'static> {
    match level {
        Level::Error => Span::styled("✗ ", theme.error()),
        Level::Warning => Span::styled("! ", theme.warning()),
        Level::Ok => Span::styled("✓ ", theme.ok()),
        Level::Info => Span::styled("· ", theme.muted()),
    }
}

/// `:messages` / `:notifications`: most of the screen, each entry wrapped whole; `top`
/// (rows) is kept so that the last page stays full.
fn render_log(
    frame: &mut Frame,
    screen: Rect,
    theme: &Theme,
    title: &str,
    lines: &[LogLine],
    empty: &str,
    top: &mut usize,
) {
    // below the breadcrumbs and above the status bar (up to four rows), which stay seen
    let status_rows = if screen.height < 12 {
        1
    } else {
        (screen.height / 6).clamp(2, 4)
    };
    let width = screen.width.saturating_sub(4).max(20).min(screen.width);
    let area = Rect {
        x: screen.x + (screen.width - width) / 2,
        y: screen.y + 1.min(screen.height),
        width,
        height: screen
            .height
            .saturating_sub(1 + status_rows)
            .max(3)
            .min(screen.height),
    };
    frame.render_widget(Clear, area);
    let inner_w = area.width.saturating_sub(2) as usize;
    let rows_h = area.height.saturating_sub(2) as usize;
    // `hh:mm:ss ✗ ` comes before each text
    let total: usize = lines
        .iter()
        .map(|l| crate::view::wrapped_rows(&format!("{} x {}", l.at, l.text), inner_w))
        .sum();
    *top = (*top).min(total.saturating_sub(rows_h));
    let scrolls = total > rows_h;
    let head = if scrolls {
        format!(" {title}, newest first (↑↓ PgUp PgDn scroll, Esc closes) ")
    } else {
        format!(" {title}, newest first (Esc closes) ")
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(head);
    if scrolls {
        block = block.title_bottom(Line::styled(
            format!(
                " rows {}-{} of {total} ",
                *top + 1,
                (*top + rows_h).min(total)
            ),
            theme.muted(),
        ));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text: Vec<Line> = if lines.is_empty() {
        vec![Line::styled(empty.to_string(), theme.muted())]
    } else {
        lines
            .iter()
            .map(|l| {
                Line::from(vec![
                    Span::styled(format!("{} ", l.at), theme.muted()),
                    level_mark(l.level, theme),
                    Span::raw(l.text.clone()),
                ])
            })
            .collect()
    };
    let top = u16::try_from(*top).unwrap_or(u16::MAX);
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .scroll((top, 0)),
        inner,
    );
}

/// A `width` x `height` rectangle centred in `r` (shrunk to fit).
pub fn centered(r: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(r.width);
    let h = height.min(r.height);
    Rect {
        x: r.x + (r.width - w) / 2,
        y: r.y + (r.height - h) / 3,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_prefers_prefix_and_consecutive() {
        assert!(fuzzy_score("gr", "graph") > fuzzy_score("gr", "tree-grow"));
        assert!(fuzzy_score("xyz", "graph").is_none());
        assert!(fuzzy_score("nj", "new-job").is_some());
    }

    #[test]
    fn line_input_edits() {
        let mut i = LineInput::with("ab");
        i.handle(Key::plain(KeyCode::Left));
        i.handle(Key::char('X'));
        assert_eq!(i.text, "aXb");
        i.handle(Key::plain(KeyCode::Backspace));
        assert_eq!(i.text, "ab");
        assert!(!i.handle(Key::plain(KeyCode::Enter)));
    }

    #[test]
    fn readline_keys_move_and_kill() {
        let mut i = LineInput::with("select from  orders");
        assert!(i.handle(Key::ctrl('w')));
        assert_eq!((i.text.as_str(), i.cursor), ("select from  ", 13));
        i.handle(Key::ctrl('w'));
        assert_eq!((i.text.as_str(), i.cursor), ("select ", 7));
        i.handle(Key::ctrl('a'));
        assert_eq!(i.cursor, 0);
        i.handle(Key::ctrl('e'));
        assert_eq!(i.cursor, 7);
        i.handle(Key::plain(KeyCode::Left));
        i.handle(Key::plain(KeyCode::Left));
        i.handle(Key::ctrl('k'));
        assert_eq!((i.text.as_str(), i.cursor), ("selec", 5));
        i.handle(Key::plain(KeyCode::Left));
        i.handle(Key::ctrl('u'));
        assert_eq!((i.text.as_str(), i.cursor), ("c", 0));
        i.handle(Key::ctrl('e'));
        i.handle(Key::ctrl('u'));
        assert_eq!((i.text.as_str(), i.cursor), ("", 0));
        assert!(!i.handle(Key::ctrl('z')));
        let mut i = LineInput::with("héllo wörld");
        i.handle(Key::ctrl('w'));
        assert_eq!(i.text, "héllo ");
    }
}
