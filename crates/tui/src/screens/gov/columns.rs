//! Tables whose columns give way on a narrow pane: a [`Col`] says how wide a column wants
//! to be and what gives first — free text (reason, description) shrinks to its minimum,
//! then optional columns are dropped, while key columns (id, requester, state) keep their
//! width ([`fit_columns`]). [`draw_columns`] draws rows so fitted under their headers,
//! cells cut with `…`, the selected row highlighted and kept in view; every cell is escaped
//! (`crate::printable`), since rows are user-supplied text.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};

use super::listing::top_for;
use super::{fit, row_style};
use crate::printable;
use crate::theme::Theme;

/// One column of a table: its header, how wide it wants to be, and what gives way on a
/// narrow pane. Key columns (id, requester, state…) keep their width; free-text columns
/// (reason, description) take what is left and shrink first, down to their minimum; then
/// the optional columns are dropped, the highest `drop` first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    pub header: &'static str,
    /// Columns wanted (for free text: its share of what is left).
    pub width: u16,
    /// Free text: shrinks to `min` before anything is dropped.
    pub min: u16,
    pub free: bool,
    /// 0: never dropped; else dropped on a narrow pane, the highest first.
    pub drop: u8,
}

impl Col {
    /// A key column of `width` columns, always shown.
    pub const fn key(header: &'static str, width: u16) -> Col {
        Col {
            header,
            width,
            min: width,
            free: false,
            drop: 0,
        }
    }

    /// A free-text column: what is left of the width, at least `min` columns.
    pub const fn text(header: &'static str, min: u16) -> Col {
        Col {
            header,
            width: min,
            min,
            free: true,
            drop: 0,
        }
    }

    /// A column of `width` columns dropped on a narrow pane (the highest `drop` first).
    pub const fn optional(header: &'static str, width: u16, drop: u8) -> Col {
        Col {
            header,
            width,
            min: width,
            free: false,
            drop,
        }
    }
}

/// Columns between two columns of a table (ratatui's default).
const SPACING: u16 = 1;

/// The width of each column in `width` columns (`None`: dropped): free text shrinks to
/// its minimum first, then optional columns go, the highest `drop` first; free text gets
/// what is left, shared by the wanted widths.
pub fn fit_columns(cols: &[Col], width: u16) -> Vec<Option<u16>> {
    let mut kept: Vec<bool> = vec![true; cols.len()];
    let need = |kept: &[bool]| -> u16 {
        let n = kept.iter().filter(|k| **k).count() as u16;
        let sum: u16 = cols
            .iter()
            .zip(kept)
            .filter(|(_, k)| **k)
            .map(|(c, _)| if c.free { c.min } else { c.width })
            .sum();
        sum + SPACING * n.saturating_sub(1)
    };
    while need(&kept) > width {
        let victim = cols
            .iter()
            .enumerate()
            .filter(|(i, c)| kept[*i] && c.drop > 0)
            // the highest drop rank; of equals, the rightmost
            .max_by_key(|(i, c)| (c.drop, *i))
            .map(|(i, _)| i);
        match victim {
            Some(i) => kept[i] = false,
            None => break,
        }
    }
    let n = kept.iter().filter(|k| **k).count() as u16;
    let fixed: u16 = cols
        .iter()
        .zip(&kept)
        .filter(|(c, k)| **k && !c.free)
        .map(|(c, _)| c.width)
        .sum::<u16>()
        + SPACING * n.saturating_sub(1);
    let left = width.saturating_sub(fixed);
    let wanted: u32 = cols
        .iter()
        .zip(&kept)
        .filter(|(c, k)| **k && c.free)
        .map(|(c, _)| u32::from(c.width.max(1)))
        .sum();
    let mut given = 0u16;
    let last_free = cols
        .iter()
        .enumerate()
        .rev()
        .find(|(i, c)| kept[*i] && c.free)
        .map(|(i, _)| i);
    cols.iter()
        .enumerate()
        .map(|(i, c)| {
            if !kept[i] {
                None
            } else if !c.free {
                Some(c.width)
            } else if Some(i) == last_free {
                Some(left.saturating_sub(given))
            } else {
                let share = (u32::from(left) * u32::from(c.width.max(1)) / wanted.max(1)) as u16;
                given += share;
                Some(share)
            }
        })
        .collect()
}

/// Columns for the old `(header, constraints)` form: `Length` is a key column, `Min` free
/// text (shrinking to 8), and the fixed columns after the first two non-trivial ones are
/// dropped on a narrow pane from the right.
fn columns_of(header: &[&'static str], widths: &[Constraint]) -> Vec<Col> {
    let mut keys = 0;
    header
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (h, w))| match *w {
            Constraint::Min(n) => Col::text(h, n.min(8)),
            Constraint::Length(n) | Constraint::Max(n) if n > 3 => {
                keys += 1;
                if keys <= 2 {
                    Col::key(h, n)
                } else {
                    Col::optional(h, n, i as u8)
                }
            }
            Constraint::Length(n) | Constraint::Max(n) => Col::key(h, n),
            _ => Col::text(h, 8),
        })
        .collect()
}

/// Draw `rows` (cells, one vector per row) under `header`, the selected row highlighted
/// (reversed while `focused`) and scrolled into view; `empty` instead when there are none.
/// Narrow panes keep the key columns: see [`draw_columns`].
pub fn draw_table(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    (header, widths): (&[&'static str], &[Constraint]),
    rows: Vec<Vec<String>>,
    selection: (usize, bool),
    empty: Line<'static>,
) {
    let cols = columns_of(header, widths);
    draw_columns(frame, area, theme, &cols, rows, selection, empty);
}

/// Draw `rows` (cells, one vector per row, one cell per column of `cols`) under the
/// columns' headers, fitted to the pane by [`fit_columns`] (cells cut with `…`), the
/// selected row highlighted (reversed while `focused`) and scrolled into view; `empty`
/// instead when there are none.
pub fn draw_columns(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    cols: &[Col],
    rows: Vec<Vec<String>>,
    selection: (usize, bool),
    empty: Line<'static>,
) {
    let rows = rows
        .into_iter()
        .map(|cells| cells.into_iter().map(Span::raw).collect())
        .collect();
    draw_styled_columns(frame, area, theme, cols, rows, selection, empty);
}

/// [`draw_columns`] with cells of their own style (a state in its colour).
pub fn draw_styled_columns(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    cols: &[Col],
    rows: Vec<Vec<Span<'static>>>,
    (selected, focused): (usize, bool),
    empty: Line<'static>,
) {
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(printable::line(empty)).wrap(Wrap { trim: false }),
            area,
        );
        return;
    }
    let widths = fit_columns(cols, area.width);
    let pick = |cells: Vec<Span<'static>>| -> Vec<Span<'static>> {
        cells
            .into_iter()
            .zip(&widths)
            .filter_map(|(c, w)| {
                let w = (*w)? as usize;
                Some(Span::styled(fit(&printable::text(&c.content), w), c.style))
            })
            .collect()
    };
    // one line goes to the header
    let top = top_for(selected, (area.height as usize).saturating_sub(1));
    let rows: Vec<Row> = rows
        .into_iter()
        .enumerate()
        .skip(top)
        .map(|(i, cells)| Row::new(pick(cells)).style(row_style(theme, i, selected, focused)))
        .collect();
    let header = pick(cols.iter().map(|c| Span::raw(c.header)).collect());
    let constraints: Vec<Constraint> = widths
        .iter()
        .flatten()
        .map(|w| Constraint::Length(*w))
        .collect();
    let table = Table::new(rows, constraints).header(Row::new(header).style(theme.muted()));
    frame.render_widget(table, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    const INBOX: [Col; 5] = [
        Col::key("", 1),
        Col::key("#", 5),
        Col::key("requester", 10),
        Col::text("request", 12),
        Col::optional("since", 16, 1),
    ];

    #[test]
    fn free_text_shrinks_first_then_optional_columns_go() {
        // wide: every column, the request takes what is left
        assert_eq!(
            fit_columns(&INBOX, 80),
            [Some(1), Some(5), Some(10), Some(44), Some(16)]
        );
        // the request shrinks to its minimum before `since` goes
        assert_eq!(
            fit_columns(&INBOX, 48),
            [Some(1), Some(5), Some(10), Some(12), Some(16)]
        );
        // then `since` goes and the key columns stay
        assert_eq!(
            fit_columns(&INBOX, 36),
            [Some(1), Some(5), Some(10), Some(17), None]
        );
        // too narrow even so: the key columns stay, the text gets what is left
        assert_eq!(
            fit_columns(&INBOX, 20),
            [Some(1), Some(5), Some(10), Some(1), None]
        );
        // the old constraint form keeps its first two columns
        let cols = columns_of(
            &["#", "hash", "author", "age"],
            &[
                Constraint::Length(4),
                Constraint::Length(12),
                Constraint::Length(10),
                Constraint::Min(10),
            ],
        );
        assert_eq!(fit_columns(&cols, 30), [Some(4), Some(12), None, Some(12)]);
    }
}
