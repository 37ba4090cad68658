//! Text rendering of a [`Layout`]. Edges are drawn first on a cell canvas where a line
//! cell stores which directions (up/down/left/right) it connects; the glyph is chosen at
//! the end, so corners, junctions and crossings come out right. Then arrow heads, then the
//! boxes (a box's bottom border shows `┬` where an edge leaves it). Anything outside the
//! layout's `width` × `height` is clipped, so a hand-made layout cannot make this panic.

use std::collections::HashMap;

mod canvas;

use super::layout::{Layout, NodeBox};
use canvas::{Canvas, Cell, UP, line_glyph};

/// Glyph set for [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    /// Box-drawing characters `│ ─ ┌ ┐ └ ┘ ├ ┤ ┬ ┴ ┼` and the arrow `▼`.
    #[default]
    Unicode,
    /// `|`, `-`, `+` for every corner and junction, `v` as arrow.
    Ascii,
}

struct Glyphs {
    corners: [char; 4],
    horizontal: char,
    vertical: char,
    exit: char,
    arrow: char,
}

impl Glyphs {
    fn of(charset: Charset) -> Self {
        match charset {
            Charset::Unicode => Glyphs {
                corners: ['┌', '┐', '└', '┘'],
                horizontal: '─',
                vertical: '│',
                exit: '┬',
                arrow: '▼',
            },
            Charset::Ascii => Glyphs {
                corners: ['+'; 4],
                horizontal: '-',
                vertical: '|',
                exit: '+',
                arrow: 'v',
            },
        }
    }
}

fn draw_box(canvas: &mut Canvas, b: &NodeBox, g: &Glyphs) {
    if b.w < 2 || b.h < 2 || b.x >= canvas.width || b.y >= canvas.height {
        return;
    }
    let (right, bottom) = (b.x.saturating_add(b.w - 1), b.y.saturating_add(b.h - 1));
    for x in b.x..=right.min(canvas.width) {
        let (top, low) = match x {
            _ if x == b.x => (g.corners[0], g.corners[2]),
            _ if x == right => (g.corners[1], g.corners[3]),
            _ => (g.horizontal, g.horizontal),
        };
        canvas.put(x, b.y, Cell::Text(top));
        canvas.put(x, bottom, Cell::Text(low));
    }
    let inner = b.w - 2;
    let labels = b.labels();
    for y in b.y + 1..bottom.min(canvas.height) {
        canvas.put(b.x, y, Cell::Text(g.vertical));
        canvas.put(right, y, Cell::Text(g.vertical));
        let text = labels.get(y - b.y - 1).map_or("", String::as_str);
        let len = text.chars().count();
        let pad = (inner - len) / 2;
        for k in 0..inner.min(canvas.width) {
            canvas.put(b.x + 1 + k, y, Cell::Text(' '));
        }
        for (k, ch) in text.chars().enumerate() {
            canvas.put(b.x.saturating_add(1 + pad + k), y, Cell::Text(ch));
        }
    }
}

/// Last column of a box.
fn right_edge(b: &NodeBox) -> usize {
    b.x.saturating_add(b.w.saturating_sub(1))
}

/// The layout as one string per row (trailing spaces trimmed), for drawing row by row.
pub fn render_lines(layout: &Layout, charset: Charset) -> Vec<String> {
    let g = Glyphs::of(charset);
    let mut canvas = Canvas::new(layout.width, layout.height);
    for e in &layout.edges {
        if let Some(&(x, y)) = e.points.first() {
            canvas.line(x, y, UP);
        }
        for seg in e.points.windows(2) {
            canvas.segment(seg[0], seg[1]);
        }
    }
    for e in &layout.edges {
        if let Some(&(x, y)) = e.points.last() {
            canvas.put(x, y, Cell::Arrow);
        }
    }
    for b in &layout.boxes {
        draw_box(&mut canvas, b, &g);
    }
    let by_node: HashMap<usize, &NodeBox> = layout.boxes.iter().map(|b| (b.node, b)).collect();
    for e in &layout.edges {
        let (Some(b), Some(&(x, y))) = (by_node.get(&e.from), e.points.first()) else {
            continue;
        };
        if y == b.y.saturating_add(b.h) && x > b.x && x < right_edge(b) {
            canvas.put(x, y - 1, Cell::Text(g.exit));
        }
    }

    let mut lines = Vec::with_capacity(canvas.height);
    for y in 0..canvas.height {
        let row = &canvas.cells[y * canvas.width..(y + 1) * canvas.width];
        let mut line: String = row
            .iter()
            .map(|&c| match c {
                Cell::Empty => ' ',
                Cell::Lines(bits) => line_glyph(bits, charset),
                Cell::Arrow => g.arrow,
                Cell::Text(ch) => ch,
            })
            .collect();
        line.truncate(line.trim_end_matches(' ').len());
        lines.push(line);
    }
    lines
}

/// The layout as text: rows joined by `\n`, trailing spaces trimmed, ending with a newline
/// unless the layout is empty.
pub fn render(layout: &Layout, charset: Charset) -> String {
    let lines = render_lines(layout, charset);
    if lines.is_empty() {
        return String::new();
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Graph;
    use crate::graph::layout::layout;
    use crate::graph::testutil::{check, graph, lcg_dag};

    /// Lay out, check, render in both charsets (printed for `--nocapture`).
    fn draw(g: &Graph) -> (String, String) {
        let l = layout(g);
        check(g, &l);
        let (unicode, ascii) = (render(&l, Charset::Unicode), render(&l, Charset::Ascii));
        println!("{unicode}\n{ascii}");
        for text in [&unicode, &ascii] {
            assert_eq!(text.lines().count(), l.height);
            assert!(text.lines().all(|line| line.chars().count() <= l.width));
            assert!(text.lines().all(|line| !line.ends_with(' ')));
        }
        (unicode, ascii)
    }

    fn lines(rows: &[&str]) -> String {
        rows.iter().map(|r| format!("{r}\n")).collect()
    }

    #[test]
    fn empty_layout_renders_nothing() {
        let l = layout(&Graph::default());
        assert_eq!(render(&l, Charset::Unicode), "");
        assert!(render_lines(&l, Charset::Ascii).is_empty());
    }

    #[test]
    fn chain() {
        let g = graph(
            &[
                ("src", "KafkaSource"),
                ("q", "Sql"),
                ("out_table", "JdbcSink"),
            ],
            &[(0, 1), (1, 2)],
        );
        let (unicode, ascii) = draw(&g);
        #[rustfmt::skip]
        let expected = lines(&[
            "┌─────────────┐",
            "│ KafkaSource │",
            "│     src     │",
            "└──────┬──────┘",
            "       │",
            "       ▼",
            "    ┌─────┐",
            "    │ Sql │",
            "    │  q  │",
            "    └──┬──┘",
            "       │",
            "       ▼",
            " ┌───────────┐",
            " │ JdbcSink  │",
            " │ out_table │",
            " └───────────┘",
        ]);
        assert_eq!(unicode, expected);
        #[rustfmt::skip]
        let expected = lines(&[
            "+-------------+",
            "| KafkaSource |",
            "|     src     |",
            "+------+------+",
            "       |",
            "       v",
            "    +-----+",
            "    | Sql |",
            "    |  q  |",
            "    +--+--+",
            "       |",
            "       v",
            " +-----------+",
            " | JdbcSink  |",
            " | out_table |",
            " +-----------+",
        ]);
        assert_eq!(ascii, expected);
        let rows = render_lines(&layout(&g), Charset::Unicode);
        assert_eq!(rows.len(), 16);
        assert_eq!(rows[5], "       ▼");
    }

    #[test]
    fn diamond() {
        let g = graph(
            &[
                ("a", "KafkaSource"),
                ("b", "Sql"),
                ("c", "Sql"),
                ("d", "JdbcSink"),
            ],
            &[(0, 1), (0, 2), (1, 3), (2, 3)],
        );
        let (unicode, ascii) = draw(&g);
        #[rustfmt::skip]
        let expected = lines(&[
            " ┌─────────────┐",
            " │ KafkaSource │",
            " │      a      │",
            " └──────┬──────┘",
            "        │",
            "   ┌────┴───┐",
            "   ▼        ▼",
            "┌─────┐  ┌─────┐",
            "│ Sql │  │ Sql │",
            "│  b  │  │  c  │",
            "└──┬──┘  └──┬──┘",
            "   │        │",
            "   └───┬────┘",
            "       ▼",
            " ┌──────────┐",
            " │ JdbcSink │",
            " │    d     │",
            " └──────────┘",
        ]);
        assert_eq!(unicode, expected);
        #[rustfmt::skip]
        let expected = lines(&[
            " +-------------+",
            " | KafkaSource |",
            " |      a      |",
            " +------+------+",
            "        |",
            "   +----+---+",
            "   v        v",
            "+-----+  +-----+",
            "| Sql |  | Sql |",
            "|  b  |  |  c  |",
            "+--+--+  +--+--+",
            "   |        |",
            "   +---+----+",
            "       v",
            " +----------+",
            " | JdbcSink |",
            " |    d     |",
            " +----------+",
        ]);
        assert_eq!(ascii, expected);
    }

    #[test]
    fn fan_out() {
        let g = graph(
            &[
                ("events", "KafkaSource"),
                ("pg", "JdbcSink"),
                ("cache", "RedisSink"),
                ("archive", "FileSink"),
            ],
            &[(0, 1), (0, 2), (0, 3)],
        );
        let (unicode, ascii) = draw(&g);
        #[rustfmt::skip]
        let expected = lines(&[
            "             ┌─────────────┐",
            "             │ KafkaSource │",
            "             │   events    │",
            "             └──────┬──────┘",
            "                    │",
            "      ┌─────────────┼──────────────┐",
            "      ▼             ▼              ▼",
            "┌──────────┐  ┌───────────┐  ┌──────────┐",
            "│ JdbcSink │  │ RedisSink │  │ FileSink │",
            "│    pg    │  │   cache   │  │ archive  │",
            "└──────────┘  └───────────┘  └──────────┘",
        ]);
        assert_eq!(unicode, expected);
        assert_eq!(
            ascii.lines().nth(5),
            Some("      +-------------+--------------+")
        );
        assert_eq!(
            ascii.lines().nth(6),
            Some("      v             v              v")
        );
    }

    #[test]
    fn edge_skipping_a_layer() {
        let g = graph(
            &[("a", "KafkaSource"), ("b", "Sql"), ("c", "JdbcSink")],
            &[(0, 1), (1, 2), (0, 2)],
        );
        let (unicode, ascii) = draw(&g);
        #[rustfmt::skip]
        let expected = lines(&[
            "┌─────────────┐",
            "│ KafkaSource │",
            "│      a      │",
            "└──────┬──────┘",
            "       │",
            "       ├─────┐",
            "       ▼     │",
            "    ┌─────┐  │",
            "    │ Sql │  │",
            "    │  b  │  │",
            "    └──┬──┘  │",
            "       │     │",
            "       ├─────┘",
            "       ▼",
            " ┌──────────┐",
            " │ JdbcSink │",
            " │    c     │",
            " └──────────┘",
        ]);
        assert_eq!(unicode, expected);
        assert_eq!(ascii.lines().nth(5), Some("       +-----+"));
        assert_eq!(ascii.lines().nth(12), Some("       +-----+"));
    }

    #[test]
    fn job_fits_in_80_columns() {
        let g = graph(
            &[
                ("orders_topic", "KafkaSource"),
                ("enrich_orders", "Sql"),
                ("aggregate_5m", "Sql"),
                ("pg_orders_sink", "JdbcSink"),
                ("redis_cache_v2", "RedisSink"),
                ("audit_log_sink", "JdbcSink"),
            ],
            &[(0, 1), (1, 2), (2, 3), (2, 4), (2, 5)],
        );
        let (unicode, ascii) = draw(&g);
        for text in [unicode, ascii] {
            let widest = text.lines().map(|l| l.chars().count()).max();
            assert!(widest <= Some(80), "{widest:?} columns:\n{text}");
        }
    }

    #[test]
    fn odd_graphs_render() {
        // Self loop and a cycle (back edges not drawn), isolated node, long names.
        let g = graph(
            &[
                ("a", "A"),
                ("b", "B"),
                ("c", "C"),
                ("a_very_long_identifier_indeed_yes", "X"),
            ],
            &[(0, 0), (0, 1), (1, 2), (2, 0), (1, 2)],
        );
        let (unicode, _) = draw(&g);
        assert!(
            unicode.contains("│ a_very_long_identifier_… │"),
            "{unicode}"
        );
    }

    #[test]
    fn two_hundred_nodes_render() {
        let g = lcg_dag(200, 3);
        let l = layout(&g);
        check(&g, &l);
        let rows = render_lines(&l, Charset::Unicode);
        assert_eq!(rows.len(), l.height);
        let arrows = rows
            .iter()
            .flat_map(|r| r.chars())
            .filter(|&c| c == '▼')
            .count();
        let targets: std::collections::HashSet<_> = l.edges.iter().map(|e| e.to).collect();
        assert_eq!(arrows, targets.len());
    }

    /// Layout plus render of 200 nodes; the time is only asserted in optimised builds
    /// (`cargo test --release --lib graph`), as the median of several runs.
    #[test]
    fn hand_made_layout_is_clipped() {
        use crate::graph::layout::{EdgePath, NodeBox};
        let l = Layout {
            width: 3,
            height: 2,
            boxes: vec![NodeBox {
                node: 0,
                x: 1,
                y: 0,
                w: 9,
                h: 9,
                kind: "K".into(),
                id: "i".into(),
            }],
            edges: vec![EdgePath {
                from: 5,
                to: 0,
                points: vec![(0, 0), (7, 9), (2, 1)],
            }],
        };
        assert_eq!(render_lines(&l, Charset::Ascii).len(), 2);
        let far = usize::MAX - 3;
        let l = Layout {
            width: 4,
            height: 4,
            boxes: vec![NodeBox {
                node: 0,
                x: 1,
                y: 1,
                w: far,
                h: far,
                kind: "K\nK".into(),
                id: String::new(),
            }],
            edges: vec![EdgePath {
                from: 0,
                to: 0,
                points: vec![(far, far), (2, far), (2, 2)],
            }],
        };
        let rows = render_lines(&l, Charset::Ascii);
        assert_eq!(rows, vec!["", " +--", " |", " |"]);
    }
}
