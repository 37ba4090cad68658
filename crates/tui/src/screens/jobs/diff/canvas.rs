//! The union graph drawn: the `weir graph` drawing of the layout, rendered once into a
//! grid where each cell knows what it belongs to (a node's box, an edge with its mark),
//! so that a frame only styles the cells in view: added green, removed red and struck
//! through, changed yellow, renamed cyan, the selected node highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use weir_model::graph::render::{self, Charset};

use super::union::{Mark, Union};
use crate::screens::graph::select::{path_cells, scroll_axis};
use crate::theme::Theme;

/// What a cell of the drawing belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paint {
    Plain,
    /// Node `i`'s box.
    Node(usize),
    Edge(Mark),
}

/// The drawing of a union, cell by cell.
pub struct Canvas {
    width: usize,
    height: usize,
    chars: Vec<char>,
    paint: Vec<Paint>,
}

impl Canvas {
    /// Render `u`'s layout once.
    pub fn new(u: &Union) -> Canvas {
        let (width, height) = (u.layout.width, u.layout.height);
        let mut chars = vec![' '; width * height];
        for (y, row) in render::render_lines(&u.layout, Charset::Unicode)
            .iter()
            .enumerate()
            .take(height)
        {
            for (x, c) in row.chars().enumerate().take(width) {
                chars[y * width + x] = c;
            }
        }
        let mut paint = vec![Paint::Plain; width * height];
        // shared cells (a stem, a junction) show the edge that stays
        for wanted in [Mark::Removed, Mark::Added, Mark::Same] {
            for e in &u.layout.edges {
                if u.edge_mark(e.from, e.to) != wanted {
                    continue;
                }
                for (x, y) in path_cells(e) {
                    if x < width && y < height {
                        paint[y * width + x] = Paint::Edge(wanted);
                    }
                }
            }
        }
        for b in &u.layout.boxes {
            for y in b.y..(b.y + b.h).min(height) {
                for x in b.x..(b.x + b.w).min(width) {
                    paint[y * width + x] = Paint::Node(b.node);
                }
            }
        }
        Canvas {
            width,
            height,
            chars,
            paint,
        }
    }

    /// Draw the part at `scroll` (moved so that the `selected` node is in view) into
    /// `area`; returns the scroll used.
    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        (u, theme): (&Union, &Theme),
        selected: Option<usize>,
        scroll: (usize, usize),
    ) -> (usize, usize) {
        let (w, h) = (area.width as usize, area.height as usize);
        let (mut ox, mut oy) = scroll;
        match selected.and_then(|i| u.layout.boxes.get(i)) {
            Some(b) => {
                ox = scroll_axis(ox, w, b.x, b.x + b.w.saturating_sub(1), self.width);
                oy = scroll_axis(oy, h, b.y, b.y + b.h.saturating_sub(1), self.height);
            }
            None => {
                ox = ox.min(self.width.saturating_sub(w));
                oy = oy.min(self.height.saturating_sub(h));
            }
        }
        let lines: Vec<Line> = (oy..(oy + h).min(self.height))
            .map(|y| {
                let mut spans: Vec<Span> = Vec::new();
                let mut run = String::new();
                let mut run_style = Style::default();
                for x in ox..(ox + w).min(self.width) {
                    let style = self.style_at(x, y, u, theme, selected);
                    if style != run_style && !run.is_empty() {
                        spans.push(Span::styled(std::mem::take(&mut run), run_style));
                    }
                    run_style = style;
                    run.push(self.chars[y * self.width + x]);
                }
                if !run.is_empty() {
                    spans.push(Span::styled(run, run_style));
                }
                Line::from(spans)
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), area);
        let more_right = ox + w < self.width;
        let more_down = oy + h < self.height;
        if (ox > 0 || oy > 0 || more_right || more_down) && area.width > 12 {
            let mark = format!(
                "{}{}{}{}",
                if ox > 0 { "◂" } else { "" },
                if oy > 0 { "▴" } else { "" },
                if more_down { "▾" } else { "" },
                if more_right { "▸" } else { "" }
            );
            let mw = mark.chars().count() as u16;
            let r = Rect {
                x: area.right().saturating_sub(mw),
                y: area.y,
                width: mw,
                height: 1,
            };
            frame.render_widget(Paragraph::new(Span::styled(mark, theme.muted())), r);
        }
        (ox, oy)
    }

    fn style_at(
        &self,
        x: usize,
        y: usize,
        u: &Union,
        theme: &Theme,
        selected: Option<usize>,
    ) -> Style {
        match self.paint[y * self.width + x] {
            Paint::Plain => Style::default(),
            Paint::Edge(m) => mark_style(theme, m),
            Paint::Node(i) => {
                let (Some(b), Some(n)) = (u.layout.boxes.get(i), u.nodes.get(i)) else {
                    return Style::default();
                };
                let border = x == b.x || y == b.y || x + 1 == b.x + b.w || y + 1 == b.y + b.h;
                let struck = if n.mark == Mark::Removed && !border {
                    Modifier::CROSSED_OUT
                } else {
                    Modifier::empty()
                };
                if selected == Some(i) {
                    return if border {
                        theme.accent()
                    } else {
                        theme.selected().add_modifier(struck)
                    };
                }
                let style = mark_style(theme, n.mark).add_modifier(struck);
                if n.mark != Mark::Same && !border {
                    style.add_modifier(Modifier::BOLD)
                } else {
                    style
                }
            }
        }
    }
}

/// The colour of a mark: added green (`ok`), removed red (`error`), changed yellow
/// (`warning`), renamed cyan (`accent`), unchanged as any text.
pub fn mark_style(theme: &Theme, mark: Mark) -> Style {
    match mark {
        Mark::Same => Style::default(),
        Mark::Added => theme.ok(),
        Mark::Removed => theme.error(),
        Mark::Changed => theme.warning(),
        Mark::Renamed => Style::default().fg(theme.accent),
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use weir_model::diff::diff_texts;

    use super::super::union::tests::{NEW, OLD, job};
    use super::*;

    #[test]
    fn removed_nodes_are_struck_and_coloured() {
        let d = diff_texts(OLD, NEW).unwrap();
        let u = Union::build(Some(&job(NEW)), &d);
        let canvas = Canvas::new(&u);
        let theme = Theme::default();
        let mut term = Terminal::new(TestBackend::new(120, 30)).unwrap();
        term.draw(|f| {
            canvas.draw(f, f.area(), (&u, &theme), None, (0, 0));
        })
        .unwrap();
        let buf = term.backend().buffer();
        let removed = &u.layout.boxes[4];
        let text_cell = &buf[((removed.x + 2) as u16, (removed.y + 2) as u16)];
        assert_eq!(text_cell.fg, theme.error);
        assert!(text_cell.modifier.contains(Modifier::CROSSED_OUT));
        let added = &u.layout.boxes[2];
        assert_eq!(buf[(added.x as u16, added.y as u16)].fg, theme.ok);
        let changed = &u.layout.boxes[1];
        assert_eq!(buf[(changed.x as u16, changed.y as u16)].fg, theme.warning);
        let text = crate::headless::frame_text(buf);
        assert!(text.contains("- PrintSink"), "{text}");
        assert!(text.contains("~ Sql"), "{text}");
        assert!(text.contains("> PrintSink"), "{text}");
        // the selected node scrolls into view
        let mut small = Terminal::new(TestBackend::new(20, 5)).unwrap();
        let mut used = (0, 0);
        small
            .draw(|f| used = canvas.draw(f, f.area(), (&u, &theme), Some(4), (0, 0)))
            .unwrap();
        assert!(used.1 + 5 > removed.y && used.1 <= removed.y, "{used:?}");
    }
}
