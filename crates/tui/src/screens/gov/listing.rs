//! The list-and-detail helper every governance screen shares: a [`Listing`] holds the rows,
//! the selection and the `/` filter (and keeps the selection on the same row when the rows
//! are read again); the tables of the visible rows are drawn by `columns.rs` (re-exported
//! here: [`draw_columns`], [`draw_table`]) with the selected row highlighted and kept in
//! view; [`draw_detail`] and [`draw_detail_scrolled`] draw the detail pane of the selected
//! row. What a row shows and what its detail says stay with each screen. Both escape
//! every cell and span they draw (`crate::printable`): rows and details are user-supplied
//! text (table names, reasons, opinions) that must not act on the terminal.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

pub use super::columns::{Col, draw_columns, draw_styled_columns, draw_table, fit_columns};
use super::scroll::{DetailScroll, draw_scrolled};
use super::{clamp, matches};
use crate::printable;
use crate::theme::Theme;

/// The rows of a list, which of them the `/` filter lets through, and the selected one.
pub struct Listing<T> {
    items: Vec<T>,
    /// Index into the visible rows.
    selected: usize,
    filter: String,
    /// The texts of a row the filter looks in; `None` when the screen filters its rows
    /// itself (the catalog's tree keeps the parents of matching rows).
    haystack: Option<fn(&T) -> Vec<String>>,
}

impl<T> Listing<T> {
    /// An empty list filtered by the texts `haystack` gives for a row.
    pub fn new(haystack: fn(&T) -> Vec<String>) -> Listing<T> {
        Listing {
            items: Vec::new(),
            selected: 0,
            filter: String::new(),
            haystack: Some(haystack),
        }
    }

    /// An empty list whose rows come filtered already (the filter text is only kept).
    pub fn prefiltered() -> Listing<T> {
        Listing {
            items: Vec::new(),
            selected: 0,
            filter: String::new(),
            haystack: None,
        }
    }

    /// Every row, filtered or not.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// The rows the filter lets through, in order.
    pub fn visible(&self) -> Vec<&T> {
        match self.haystack {
            None => self.items.iter().collect(),
            Some(haystack) => self
                .items
                .iter()
                .filter(|t| {
                    let texts = haystack(t);
                    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
                    matches(&self.filter, &texts)
                })
                .collect(),
        }
    }

    /// The selected row, if any row is visible.
    pub fn current(&self) -> Option<&T> {
        self.visible().get(self.selected).copied()
    }

    /// Index of the selected row among the visible ones.
    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn down(&mut self) {
        self.selected = clamp(self.selected + 1, self.visible().len());
    }

    /// The `/` filter text.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// A pane title naming the list and, while one is set, its filter: ` catalog · /kafka `.
    pub fn title(&self, name: &str) -> String {
        match self.filter.as_str() {
            "" => format!(" {name} "),
            filter => format!(" {name} · /{filter} "),
        }
    }

    /// A new filter starts at the first row.
    pub fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.selected = 0;
    }

    /// Rows read again: the selection stays on the row `same` as the one selected before
    /// (else at its place, inside the list).
    pub fn replace(&mut self, items: Vec<T>, same: impl Fn(&T, &T) -> bool) {
        let kept = self
            .current()
            .and_then(|old| items.iter().position(|n| same(n, old)));
        self.items = items;
        if let Some(i) = kept.and_then(|k| self.visible_position(k)) {
            self.selected = i;
        }
        self.clamp();
    }

    /// Select the first visible row for which `f` holds; false if there is none.
    pub fn select_where(&mut self, f: impl Fn(&T) -> bool) -> bool {
        match self.visible().iter().position(|t| f(t)) {
            Some(i) => {
                self.selected = i;
                true
            }
            None => false,
        }
    }

    /// Keep the selection inside the visible rows.
    pub fn clamp(&mut self) {
        self.selected = clamp(self.selected, self.visible().len());
    }

    /// Where row `k` of all the rows stands among the visible ones.
    fn visible_position(&self, k: usize) -> Option<usize> {
        let target = self.items.get(k)?;
        self.visible().iter().position(|t| std::ptr::eq(*t, target))
    }
}

/// The first row to draw so that `selected` stays in view in `height` rows.
pub fn top_for(selected: usize, height: usize) -> usize {
    (selected + 1).saturating_sub(height.max(1))
}

/// A ` detail ` pane with `lines` (wrapped), or "nothing selected".
pub fn draw_detail(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    lines: Option<Vec<Line<'static>>>,
) {
    let block = theme.pane(" detail ".into(), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match lines {
        Some(lines) => frame.render_widget(
            Paragraph::new(printable::lines(lines)).wrap(Wrap { trim: false }),
            inner,
        ),
        None => frame.render_widget(
            Paragraph::new(Line::styled("nothing selected", theme.muted())),
            inner,
        ),
    }
}

/// A ` detail ` pane like [`draw_detail`] that scrolls (PgDn/PgUp, C-d/C-u) and marks
/// its position when the lines do not fit; `item` names what it shows, so that another
/// selection starts at the top.
pub fn draw_detail_scrolled(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    lines: Option<Vec<Line<'static>>>,
    scroll: (&mut DetailScroll, Option<i64>),
) {
    let block = theme.pane(" detail ".into(), false);
    let lines = lines.unwrap_or_else(|| vec![Line::styled("nothing selected", theme.muted())]);
    draw_scrolled(frame, area, block, lines, scroll, theme);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(l: &Listing<(u32, &'static str)>) -> Vec<&'static str> {
        l.visible().iter().map(|(_, n)| *n).collect()
    }

    #[test]
    fn filter_selection_and_reload_keep_the_row() {
        let mut l: Listing<(u32, &'static str)> = Listing::new(|(_, n)| vec![n.to_string()]);
        l.replace(
            vec![(1, "orders"), (2, "items"), (3, "order_lines")],
            |a, b| a.0 == b.0,
        );
        assert_eq!(l.current(), Some(&(1, "orders")));
        l.down();
        l.down();
        l.down();
        assert_eq!(l.current(), Some(&(3, "order_lines")));
        // read again with a new row in front: the selection follows its row
        l.replace(
            vec![
                (0, "accounts"),
                (1, "orders"),
                (2, "items"),
                (3, "order_lines"),
            ],
            |a, b| a.0 == b.0,
        );
        assert_eq!(l.current(), Some(&(3, "order_lines")));
        l.set_filter("ORDER");
        assert_eq!(names(&l), ["orders", "order_lines"]);
        assert_eq!(l.selected(), 0);
        l.down();
        // the row is gone: the selection stays inside the list
        l.replace(vec![(1, "orders")], |a, b| a.0 == b.0);
        assert_eq!(l.current(), Some(&(1, "orders")));
        assert!(l.select_where(|(id, _)| *id == 1));
        assert!(!l.select_where(|(id, _)| *id == 9));
        l.set_filter("nothing");
        assert_eq!(l.current(), None);
        l.down();
        assert_eq!(l.selected(), 0);
    }

    #[test]
    fn the_selected_row_stays_in_view() {
        assert_eq!(top_for(0, 5), 0);
        assert_eq!(top_for(4, 5), 0);
        assert_eq!(top_for(5, 5), 1);
        assert_eq!(top_for(3, 0), 3);
    }
}
