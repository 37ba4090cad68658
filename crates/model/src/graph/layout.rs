//! Layered (Sugiyama-style) top-to-bottom layout of a [`Graph`] as plain data: node boxes
//! and orthogonal edge polylines, all in character cells (x = column, y = row, origin top
//! left). Text rendering is a separate step ([`super::render`]); the TUI can draw the
//! same [`Layout`] itself.
//!
//! Steps:
//! 1. longest-path layers ([`dag::layers`]); an edge spanning several layers gets one dummy
//!    item per intermediate layer, drawn as a vertical pass-through line;
//! 2. crossing reduction within layers, starting from file order (`order.rs`);
//! 3. x placement under the parents and edge tracks between layers (`place.rs`);
//! 4. edge polylines: stem row below the parent, one track row per horizontal run, arrow
//!    row above the child.
//!
//! Not drawn: self loops and the back edges that close a cycle ([`dag::back_edges`]; check
//! with [`dag::find_cycle`] and report those separately), edges naming a missing node.
//! Duplicate edges are drawn once.

mod order;
mod place;

use std::collections::HashSet;

use super::{Graph, dag};

/// Rows of a node box: border, kind line, id line, border.
pub const BOX_HEIGHT: usize = 4;
/// Widest box; longer text is cut with `…`.
pub const MAX_BOX_WIDTH: usize = 28;
/// Minimum empty columns between neighbours in a layer.
pub const MIN_GAP: usize = 2;

/// A finished layout. `width`/`height` bound every box and edge cell (0 × 0 when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub width: usize,
    pub height: usize,
    /// One box per graph node, in node order (`boxes[i].node == i`).
    pub boxes: Vec<NodeBox>,
    /// One path per drawn edge, in the order the edges first appear in the graph.
    pub edges: Vec<EdgePath>,
}

/// A node's box. `kind` and `id` are the node's full text; [`NodeBox::labels`] gives the
/// two lines as drawn inside the box (shortened with `…` when too long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeBox {
    pub node: usize,
    pub x: usize,
    pub y: usize,
    pub w: usize,
    pub h: usize,
    pub kind: String,
    pub id: String,
}

/// An edge as a polyline of orthogonal segments (corners only, no repeated points), from
/// the cell just below the parent box (under its `┬`) to the cell just above the child box
/// (the arrow head). Edges into the same child end in the same cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgePath {
    pub from: usize,
    pub to: usize,
    pub points: Vec<(usize, usize)>,
}

impl NodeBox {
    /// The column where edges leave and enter this box.
    pub fn centre_x(&self) -> usize {
        self.x + self.w / 2
    }

    /// The kind and id lines as drawn: cut to fit between the borders with one space of
    /// padding each side (see [`fit`]).
    pub fn labels(&self) -> [String; 2] {
        let inner = self.w.saturating_sub(2);
        let room = if inner > 2 { inner - 2 } else { inner };
        [fit(&self.kind, room), fit(&self.id, room)]
    }

    /// Whether the cell lies on or inside this box.
    pub fn contains(&self, x: usize, y: usize) -> bool {
        x >= self.x && x < self.x + self.w && y >= self.y && y < self.y + self.h
    }
}

impl Layout {
    /// The box covering a cell (border included), if any.
    pub fn box_at(&self, x: usize, y: usize) -> Option<&NodeBox> {
        self.boxes.iter().find(|b| b.contains(x, y))
    }
}

/// Width of the box for a node: the longer text plus border and one space each side,
/// capped at [`MAX_BOX_WIDTH`].
pub fn box_width(kind: &str, id: &str) -> usize {
    (kind.chars().count().max(id.chars().count()) + 4).min(MAX_BOX_WIDTH)
}

/// Display form of `text`: at most `max` chars, ending in `…` when cut; control
/// characters (newlines, tabs, escapes) become `?` so they cannot break the drawing.
/// Counts chars, not terminal cells: double-width characters will misalign a box.
pub fn fit(text: &str, max: usize) -> String {
    let clean = text.chars().map(|c| if c.is_control() { '?' } else { c });
    if text.chars().count() <= max {
        clean.collect()
    } else if max == 0 {
        String::new()
    } else {
        clean.take(max - 1).chain(Some('…')).collect()
    }
}

/// A thing placed in a layer: a node box or a dummy point of a long edge.
struct Item {
    layer: usize,
    /// Width in columns (1 for a dummy).
    w: usize,
    dummy: bool,
    preds: Vec<usize>,
    succs: Vec<usize>,
}

/// Lay out `graph` top to bottom. Never panics; see the module docs for which edges are
/// left out.
pub fn layout(graph: &Graph) -> Layout {
    let n = graph.nodes.len();
    if n == 0 {
        return Layout::default();
    }
    let layer_of = dag::layers(n, &graph.edges);
    let back = dag::back_edges(n, &graph.edges);
    let mut seen = HashSet::new();
    let mut edges = Vec::new();
    for &(a, b) in &graph.edges {
        let drawn = a < n && b < n && layer_of[a] < layer_of[b];
        if drawn && back.binary_search(&(a, b)).is_err() && seen.insert((a, b)) {
            edges.push((a, b));
        }
    }

    // Items: nodes first (index = node index), then dummies; chains link each edge's items.
    let mut items: Vec<Item> = graph
        .nodes
        .iter()
        .zip(&layer_of)
        .map(|(node, &layer)| Item {
            layer,
            w: box_width(&node.kind, &node.id),
            dummy: false,
            preds: Vec::new(),
            succs: Vec::new(),
        })
        .collect();
    let mut chains: Vec<Vec<usize>> = Vec::with_capacity(edges.len());
    for &(a, b) in &edges {
        let mut chain = vec![a];
        for layer in layer_of[a] + 1..layer_of[b] {
            chain.push(items.len());
            items.push(Item {
                layer,
                w: 1,
                dummy: true,
                preds: Vec::new(),
                succs: Vec::new(),
            });
        }
        chain.push(b);
        for pair in chain.windows(2) {
            items[pair[0]].succs.push(pair[1]);
            items[pair[1]].preds.push(pair[0]);
        }
        chains.push(chain);
    }
    let layer_count = layer_of.iter().max().map_or(0, |&m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
    for (i, item) in items.iter().enumerate() {
        rows[item.layer].push(i);
    }

    order::reduce_crossings(&items, &mut rows);
    let xs = place::place(&items, &rows);
    let centre: Vec<i64> = xs
        .iter()
        .zip(&items)
        .map(|(&x, item)| x + (item.w / 2) as i64)
        .collect();

    // Vertical geometry: each gap is a stem row, its track rows, then the arrow row.
    let mut track: Vec<Option<usize>> = vec![None; items.len()];
    let mut layer_y = vec![0usize; layer_count];
    for l in 1..layer_count {
        let tracks = place::assign_tracks(&items, &rows[l - 1], &centre, &mut track);
        layer_y[l] = layer_y[l - 1] + BOX_HEIGHT + tracks + 2;
    }

    let col = |i: usize| centre[i].max(0) as usize;
    let edge_paths: Vec<EdgePath> = edges
        .iter()
        .zip(&chains)
        .map(|(&(from, to), chain)| {
            let mut points = Vec::new();
            for pair in chain.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let stem_y = layer_y[items[a].layer] + BOX_HEIGHT;
                let arrow_y = layer_y[items[b].layer] - 1;
                points.push((col(a), stem_y));
                if let Some(t) = track[a].filter(|_| col(a) != col(b)) {
                    points.push((col(a), stem_y + 1 + t));
                    points.push((col(b), stem_y + 1 + t));
                }
                points.push((col(b), arrow_y));
            }
            EdgePath {
                from,
                to,
                points: simplify(points),
            }
        })
        .collect();

    let boxes: Vec<NodeBox> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| NodeBox {
            node: i,
            x: xs[i].max(0) as usize,
            y: layer_y[items[i].layer],
            w: items[i].w,
            h: BOX_HEIGHT,
            kind: node.kind.clone(),
            id: node.id.clone(),
        })
        .collect();

    let dummy_right = (n..items.len()).map(|i| col(i) + 1);
    let box_right = boxes.iter().map(|b| b.x + b.w);
    let width = box_right.chain(dummy_right).max().unwrap_or(0);
    let height = layer_y.last().map_or(0, |&y| y + BOX_HEIGHT);
    Layout {
        width,
        height,
        boxes,
        edges: edge_paths,
    }
}

/// Drop repeated points and the middle one of three collinear points.
fn simplify(points: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(points.len());
    for p in points {
        if out.last() == Some(&p) {
            continue;
        }
        if let [.., a, b] = out[..]
            && ((a.0 == b.0 && b.0 == p.0) || (a.1 == b.1 && b.1 == p.1))
        {
            out.pop();
        }
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::testutil::{check, graph, lcg_dag};

    #[test]
    fn empty_and_single() {
        let l = layout(&Graph::default());
        assert_eq!((l.width, l.height), (0, 0));
        let g = graph(&[("src", "KafkaSource")], &[]);
        let l = layout(&g);
        check(&g, &l);
        assert_eq!((l.width, l.height), (15, 4));
        assert_eq!(l.box_at(3, 2).map(|b| b.node), Some(0));
        assert_eq!(l.box_at(15, 2), None);
    }

    #[test]
    fn chain_is_one_straight_column() {
        let g = graph(
            &[
                ("src", "KafkaSource"),
                ("q", "Sql"),
                ("out_table", "JdbcSink"),
            ],
            &[(0, 1), (1, 2)],
        );
        let l = layout(&g);
        check(&g, &l);
        let centres: Vec<_> = l.boxes.iter().map(NodeBox::centre_x).collect();
        assert!(centres.iter().all(|&c| c == centres[0]), "{centres:?}");
        assert!(l.edges.iter().all(|e| e.points.len() == 2));
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        // Isolated nodes, duplicates, self loop, a cycle, an out-of-range edge.
        let g = graph(
            &[
                ("a", "A"),
                ("b", "B"),
                ("c", "C"),
                ("lonely", "X"),
                ("d", "D"),
            ],
            &[
                (0, 1),
                (0, 1),
                (1, 1),
                (1, 2),
                (2, 0),
                (2, 4),
                (0, 99),
                (99, 0),
            ],
        );
        let l = layout(&g);
        check(&g, &l);
        let drawn: Vec<_> = l.edges.iter().map(|e| (e.from, e.to)).collect();
        assert_eq!(drawn, vec![(0, 1), (1, 2), (2, 4)]);
        // Pure cycle: nothing can be a source, all back edges are dropped.
        let g = graph(&[("a", "A"), ("b", "B")], &[(0, 1), (1, 0)]);
        check(&g, &layout(&g));
    }

    #[test]
    fn fit_cuts_and_cleans() {
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
        assert_eq!(fit("abcd", 0), "");
        assert_eq!(fit("a\nb\tc", 9), "a?b?c");
    }

    #[test]
    fn long_text_is_truncated() {
        let g = graph(&[("an_extremely_long_operator_identifier", "Sql")], &[]);
        let l = layout(&g);
        assert_eq!(l.boxes[0].w, MAX_BOX_WIDTH);
        assert_eq!(l.boxes[0].id, "an_extremely_long_operator_identifier");
        let [kind, id] = l.boxes[0].labels();
        assert_eq!(kind, "Sql");
        assert_eq!(id, "an_extremely_long_opera…");
        assert_eq!(id.chars().count(), MAX_BOX_WIDTH - 4);
    }

    #[test]
    fn two_hundred_nodes() {
        for seed in [1, 7, 42] {
            let g = lcg_dag(200, seed);
            let l = layout(&g);
            check(&g, &l);
            assert_eq!(l.edges.len(), {
                let mut e = g.edges.clone();
                e.sort_unstable();
                e.dedup();
                e.len()
            });
        }
    }

    #[test]
    fn simplify_merges_collinear() {
        let pts = vec![(1, 0), (1, 2), (1, 2), (1, 5), (4, 5), (6, 5), (6, 9)];
        assert_eq!(simplify(pts), vec![(1, 0), (1, 5), (6, 5), (6, 9)]);
    }
}
