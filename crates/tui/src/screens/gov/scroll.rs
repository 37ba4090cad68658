//! Detail panes that scroll: the lines are wrapped here (at spaces, else anywhere) so that
//! the number of rows is known, the pane shows the rows from [`DetailScroll`]'s first one,
//! and its bottom border says where it is (`↓ 1-9/23`) when there is more than fits.
//! PgDn/PgUp and C-d/C-u (actions `scroll-down`/`scroll-up`) move a page; a new selection
//! starts at the top again. Used by the inbox, my requests, releases, instances and alerts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::printable;
use crate::theme::Theme;

/// Where a detail pane is scrolled to, kept by its screen between frames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailScroll {
    /// The first row shown.
    top: usize,
    /// Rows of the last drawing and rows the pane showed.
    rows: usize,
    height: usize,
    /// What the pane showed (a request's id, …): another item starts at the top.
    item: Option<i64>,
}

impl DetailScroll {
    /// `scroll-down` / `scroll-up` move a page (less one row, for context); false for other
    /// actions.
    pub fn perform(&mut self, action: &str) -> bool {
        let page = self.height.saturating_sub(1).max(1);
        match action {
            "scroll-down" => {
                self.top = (self.top + page).min(self.last_top());
                true
            }
            "scroll-up" => {
                self.top = self.top.saturating_sub(page);
                true
            }
            _ => false,
        }
    }

    /// The first row shown.
    pub fn top(&self) -> usize {
        self.top
    }

    /// The pane had more rows than it showed at its last drawing.
    pub fn overflows(&self) -> bool {
        self.rows > self.height
    }

    fn last_top(&self) -> usize {
        self.rows.saturating_sub(self.height)
    }

    /// Take the rows and height of a drawing of `item`, keeping `top` inside them.
    fn layout(&mut self, item: Option<i64>, rows: usize, height: usize) {
        if item != self.item {
            self.item = item;
            self.top = 0;
        }
        self.rows = rows;
        self.height = height;
        self.top = self.top.min(self.last_top());
    }

    /// ` ↓ 1-9/23 `: the rows shown, of how many, and which way there is more (`None`
    /// when everything fits).
    pub fn marker(&self) -> Option<String> {
        if !self.overflows() {
            return None;
        }
        let last = (self.top + self.height).min(self.rows);
        let arrow = match (self.top > 0, last < self.rows) {
            (true, true) => "↕",
            (true, false) => "↑",
            _ => "↓",
        };
        Some(format!(" {arrow} {}-{last}/{} ", self.top + 1, self.rows))
    }
}

/// Styled characters of a line, for wrapping.
fn cells(line: &Line<'static>) -> Vec<(char, Style, usize)> {
    let mut out = Vec::new();
    for span in &line.spans {
        let style = line.style.patch(span.style);
        for c in span.content.chars() {
            let w = Span::raw(c.to_string()).width();
            out.push((c, style, w));
        }
    }
    out
}

/// One row of styled characters as a line (runs of one style become one span).
fn row_line(row: &[(char, Style, usize)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = None;
    for (c, s, _) in row {
        if style != Some(*s) {
            if let Some(st) = style {
                spans.push(Span::styled(std::mem::take(&mut text), st));
            }
            style = Some(*s);
        }
        text.push(*c);
    }
    if let Some(st) = style {
        spans.push(Span::styled(text, st));
    }
    Line::from(spans)
}

/// Where the rows after the first of a wrapped line start: under the value of a
/// `label  value` line (a first span ending in a space), under the text of a `• ` bullet,
/// else at the left edge; never past half the width.
fn hanging(line: &Line<'static>, width: usize) -> usize {
    let indent = match line.spans.as_slice() {
        [label, _, ..] if label.content.ends_with(' ') => label.width(),
        [first, ..] if first.content.starts_with("• ") => 2,
        _ => 0,
    };
    if indent * 2 > width { 0 } else { indent }
}

/// `lines` wrapped to `width` columns: at the last space that fits, else anywhere, the
/// rows after the first indented as [`hanging`] says; the spaces a row ends on are
/// dropped. An empty line stays one empty row.
pub fn wrap(lines: &[Line<'static>], width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut out = Vec::new();
    for line in lines {
        let mut rest = cells(line);
        if rest.is_empty() {
            out.push(Line::raw(""));
            continue;
        }
        let indent = hanging(line, width);
        let mut first = true;
        while !rest.is_empty() {
            if !first {
                for _ in 0..indent {
                    rest.insert(0, (' ', Style::default(), 1));
                }
            }
            first = false;
            let mut used = 0;
            let mut fit = 0;
            for (_, _, w) in &rest {
                if used + w > width {
                    break;
                }
                used += w;
                fit += 1;
            }
            if fit == rest.len() {
                out.push(row_line(&rest));
                break;
            }
            // break at the last space that fits after the row's leading blanks, else
            // where the width ends
            let lead = rest.iter().take_while(|(c, _, _)| *c == ' ').count();
            let cut = match rest[..=fit.min(rest.len() - 1)]
                .iter()
                .rposition(|(c, _, _)| *c == ' ')
            {
                Some(sp) if sp > lead => sp,
                _ => fit.max(1),
            }
            .min(rest.len());
            let mut row: Vec<_> = rest.drain(..cut).collect();
            while row.last().is_some_and(|(c, _, _)| *c == ' ') {
                row.pop();
            }
            out.push(row_line(&row));
            while rest.first().is_some_and(|(c, _, _)| *c == ' ') {
                rest.remove(0);
            }
        }
    }
    out
}

/// The rows of `lines` wrapped to `width` that a pane of `height` rows shows, scrolled
/// to `scroll` (reset when `item` differs from the last drawing); escaped for the
/// terminal.
pub fn scrolled(
    lines: Vec<Line<'static>>,
    (width, height): (u16, u16),
    (scroll, item): (&mut DetailScroll, Option<i64>),
) -> Vec<Line<'static>> {
    let rows = wrap(&printable::lines(lines), width as usize);
    scroll.layout(item, rows.len(), height as usize);
    rows.into_iter()
        .skip(scroll.top)
        .take(height as usize)
        .collect()
}

/// Draw `lines` in `block` over `area`, wrapped and scrolled to `scroll` (reset when
/// `item` differs from the last drawing), with a position marker on the bottom border
/// when they do not fit.
pub fn draw_scrolled(
    frame: &mut Frame,
    area: Rect,
    block: Block<'static>,
    lines: Vec<Line<'static>>,
    scroll: (&mut DetailScroll, Option<i64>),
    theme: &Theme,
) {
    let inner = block.inner(area);
    let shown = scrolled(
        lines,
        (inner.width, inner.height),
        (&mut *scroll.0, scroll.1),
    );
    let block = match scroll.0.marker() {
        Some(m) => block.title_bottom(Line::styled(m, theme.accent()).right_aligned()),
        None => block,
    };
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(shown), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line<'static>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wraps_at_spaces_else_anywhere() {
        let lines = vec![
            Line::raw("approving will: create topic orders"),
            Line::raw(""),
            Line::from(vec![Span::raw("ab"), Span::raw("cdefghij")]),
        ];
        assert_eq!(
            texts(&wrap(&lines, 16)),
            [
                "approving will:",
                "create topic",
                "orders",
                "",
                "abcdefghij"
            ]
        );
        assert_eq!(texts(&wrap(&lines[2..], 4)), ["abcd", "efgh", "ij"]);
        assert_eq!(texts(&wrap(&[Line::raw("a  b")], 1)), ["a", "b"]);
        // a label's value and a bullet's text keep their column
        let field = Line::from(vec![Span::raw("reason  "), Span::raw("one two three")]);
        assert_eq!(
            texts(&wrap(&[field], 16)),
            ["reason  one two", "        three"]
        );
        let bullet = Line::raw("• whitelist project shop");
        assert_eq!(
            texts(&wrap(&[bullet], 14)),
            ["• whitelist", "  project shop"]
        );
    }

    #[test]
    fn pages_stay_inside_the_rows_and_a_new_item_starts_at_the_top() {
        let mut s = DetailScroll::default();
        s.layout(Some(1), 23, 9);
        assert_eq!(s.marker().as_deref(), Some(" ↓ 1-9/23 "));
        assert!(s.perform("scroll-down"));
        assert_eq!(s.top(), 8);
        assert_eq!(s.marker().as_deref(), Some(" ↕ 9-17/23 "));
        s.perform("scroll-down");
        s.perform("scroll-down");
        assert_eq!(s.top(), 14);
        assert_eq!(s.marker().as_deref(), Some(" ↑ 15-23/23 "));
        s.perform("scroll-up");
        assert_eq!(s.top(), 6);
        assert!(!s.perform("up"));
        s.layout(Some(2), 5, 9);
        assert_eq!(s.top(), 0);
        assert_eq!(s.marker(), None);
    }
}
