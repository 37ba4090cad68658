//! The operator palette of `add-node`: every operator kind with its description,
//! narrowed by typing (fuzzy, over kind and description), Enter picks one.

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::keys::Key;
use crate::model::OPERATOR_KINDS;
use crate::overlay::{LineInput, centered, fuzzy_score};
use crate::theme::Theme;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Palette {
    pub input: LineInput,
    pub selected: usize,
}

/// What a key did to the palette.
#[derive(Debug, Clone, PartialEq)]
pub enum Picked {
    Continue,
    Kind(&'static str),
    /// Enter with nothing matching the typed text.
    NoMatch(String),
    Cancel,
}

impl Palette {
    /// Matching kinds, best first: (kind, description).
    pub fn matches(&self) -> Vec<(&'static str, &'static str)> {
        let q = self.input.text.trim();
        let mut scored: Vec<(i64, usize)> = OPERATOR_KINDS
            .iter()
            .enumerate()
            .filter_map(|(i, (k, d))| {
                let by_kind = fuzzy_score(q, k);
                // a word of the description counts too, a little less
                let by_desc =
                    (!q.is_empty() && d.to_lowercase().contains(&q.to_lowercase())).then_some(-50);
                by_kind.max(by_desc).map(|s| (s, i))
            })
            .collect();
        // ties keep the palette order (sources, transforms, sinks)
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, i)| OPERATOR_KINDS[i]).collect()
    }

    pub fn handle_key(&mut self, key: Key, back: bool) -> Picked {
        if back {
            return Picked::Cancel;
        }
        let n = self.matches().len();
        match key.code {
            KeyCode::Enter => match self.matches().get(self.selected) {
                Some((k, _)) => Picked::Kind(k),
                None => Picked::NoMatch(self.input.text.clone()),
            },
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                Picked::Continue
            }
            KeyCode::Down | KeyCode::Tab => {
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
                Picked::Continue
            }
            _ => {
                if self.input.handle(key) {
                    self.selected = 0;
                }
                Picked::Continue
            }
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let found = self.matches();
        let height = (found.len() as u16 + 3).min(area.height.saturating_sub(2).max(4));
        let width = if area.width >= 90 {
            76
        } else {
            area.width.saturating_sub(2)
        };
        let area = centered(area, width, height);
        frame.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(true))
            .title(Span::styled(
                " add operator (Enter adds, Esc cancels) ",
                theme.accent(),
            ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [line, list] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        let mut spans = vec![Span::styled("+ ", theme.accent())];
        spans.extend(self.input.spans(theme));
        frame.render_widget(Paragraph::new(Line::from(spans)), line);
        let rows = list.height as usize;
        let top = self.selected.saturating_sub(rows.saturating_sub(1));
        let lines: Vec<Line> = found
            .iter()
            .enumerate()
            .skip(top)
            .take(rows)
            .map(|(i, (k, d))| {
                if i == self.selected {
                    Line::styled(format!("{k:<15} {d}"), theme.selected())
                } else {
                    Line::from(vec![
                        Span::raw(format!("{k:<15} ")),
                        Span::styled(d.to_string(), theme.muted()),
                    ])
                }
            })
            .collect();
        let lines = if lines.is_empty() {
            vec![Line::styled("no operator kind matches", theme.error())]
        } else {
            lines
        };
        frame.render_widget(Paragraph::new(lines), list);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_typing() {
        let mut p = Palette::default();
        assert_eq!(p.matches().len(), 14);
        for c in "jdbc".chars() {
            p.handle_key(Key::char(c), false);
        }
        assert_eq!(p.matches()[0].0, "JdbcSink");
        assert_eq!(
            p.handle_key(Key::plain(KeyCode::Enter), false),
            Picked::Kind("JdbcSink")
        );
        for c in "zzz".chars() {
            p.handle_key(Key::char(c), false);
        }
        assert!(matches!(
            p.handle_key(Key::plain(KeyCode::Enter), false),
            Picked::NoMatch(_)
        ));
        assert_eq!(p.handle_key(Key::plain(KeyCode::Esc), true), Picked::Cancel);
        let mut p = Palette::default();
        "kafka".chars().for_each(|c| {
            p.handle_key(Key::char(c), false);
        });
        assert_eq!(p.matches()[0].0, "KafkaSource");
    }
}
