//! The catalog's tree: data sources with their topics or tables, and the design groups,
//! indented, folded heads marked `▸`, errors in red; the selected row kept in view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::Catalog;
use super::tree::Node;
use crate::screens::gov::listing::top_for;
use crate::screens::gov::{fit, row_style};
use crate::theme::Theme;

impl Catalog {
    pub(super) fn draw_tree(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let height = area.height as usize;
        let width = area.width as usize;
        let selected = self.list.selected();
        let rows = self.list.items();
        let top = top_for(selected, height);
        let mut lines = Vec::new();
        if rows.is_empty() {
            lines.push(Line::styled(
                if self.list.filter().is_empty() {
                    "the catalog is empty: no data sources or topics yet"
                } else {
                    "nothing matches the filter"
                },
                theme.muted(),
            ));
        }
        for (i, row) in rows.iter().enumerate().skip(top).take(height) {
            let (text, err) = self.world.label(row, &self.folded, width);
            let style = if i == selected {
                row_style(theme, i, selected, focused)
            } else if err {
                theme.error()
            } else {
                match &row.node {
                    Node::Source(_) | Node::Group(_) => theme.accent(),
                    Node::Note(..) => theme.muted(),
                    _ => theme.base(),
                }
            };
            lines.push(Line::styled(fit(&text, width), style));
        }
        frame.render_widget(Paragraph::new(crate::printable::lines(lines)), area);
    }
}
