//! Spatial selection over the drawn graph: the nearest box in a direction (by box
//! centres), edges in file order, the cells a selection covers, and scrolling that keeps
//! the selection in view.

use crate::graph::layout::{EdgePath, Layout, NodeBox};
use crate::model::Job;

/// What is selected: a node (index into `job.nodes`) or an edge (index into `job.edges`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    None,
    Node(usize),
    Edge(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
    Left,
    Right,
}

impl Dir {
    pub fn of(action: &str) -> Option<Dir> {
        Some(match action {
            "up" => Dir::Up,
            "down" => Dir::Down,
            "left" => Dir::Left,
            "right" => Dir::Right,
            _ => return None,
        })
    }
}

/// Centre of a box in half cells (so that odd widths stay exact).
fn centre(b: &NodeBox) -> (i64, i64) {
    ((2 * b.x + b.w) as i64, (2 * b.y + b.h) as i64)
}

/// The box nearest to box `from` in direction `dir`: the closest along the direction
/// first (the next layer, the next box in the row), then the closest across it.
pub fn nearest(layout: &Layout, from: usize, dir: Dir) -> Option<usize> {
    let here = layout.boxes.get(from)?;
    let (cx, cy) = centre(here);
    layout
        .boxes
        .iter()
        .filter(|b| b.node != here.node)
        .filter_map(|b| {
            let (x, y) = centre(b);
            let (dx, dy) = (x - cx, y - cy);
            let (along, across) = match dir {
                Dir::Up => (-dy, dx.abs()),
                Dir::Down => (dy, dx.abs()),
                Dir::Left => (-dx, dy.abs()),
                Dir::Right => (dx, dy.abs()),
            };
            let key = match dir {
                // rows are layers: the next layer first, then the nearest in it
                Dir::Up | Dir::Down => (along, across),
                // within a row first, then the row closest to this one
                Dir::Left | Dir::Right => (across, along),
            };
            (along > 0).then_some((key, b.node))
        })
        .min()
        .map(|(_, n)| n)
}

/// Index of node `id` in the job.
pub fn node_index(job: &Job, id: &str) -> Option<usize> {
    job.nodes.iter().position(|n| n.id() == id)
}

/// The drawn path of edge `k` of the job, if the layout draws it (self loops, edges that
/// close a cycle and edges naming missing nodes are not drawn).
pub fn edge_path<'a>(job: &Job, layout: &'a Layout, k: usize) -> Option<&'a EdgePath> {
    let (a, b) = job.edges.get(k)?;
    let (ia, ib) = (node_index(job, a)?, node_index(job, b)?);
    layout.edges.iter().find(|e| e.from == ia && e.to == ib)
}

/// Every cell of an edge path, from the stem below the parent to the arrow head.
pub fn path_cells(path: &EdgePath) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for w in path.points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x0 == x1 {
            let (a, b) = (y0.min(y1), y0.max(y1));
            out.extend((a..=b).map(|y| (x0, y)));
        } else {
            let (a, b) = (x0.min(x1), x0.max(x1));
            out.extend((a..=b).map(|x| (x, y0)));
        }
    }
    if path.points.len() == 1 {
        out.push(path.points[0]);
    }
    // the exit glyph on the parent's bottom border belongs to the edge too
    if let Some(&(x, y)) = path.points.first()
        && y > 0
    {
        out.push((x, y - 1));
    }
    out
}

/// Cells `(x0, y0, x1, y1)` (inclusive) a selection covers, for scrolling.
pub fn bounds(job: &Job, layout: &Layout, sel: Selection) -> Option<(usize, usize, usize, usize)> {
    match sel {
        Selection::None => None,
        Selection::Node(i) => layout.boxes.get(i).map(|b| {
            (
                b.x,
                b.y,
                b.x + b.w.saturating_sub(1),
                b.y + b.h.saturating_sub(1),
            )
        }),
        Selection::Edge(k) => {
            let cells = path_cells(edge_path(job, layout, k)?);
            let x0 = cells.iter().map(|c| c.0).min()?;
            let x1 = cells.iter().map(|c| c.0).max()?;
            let y0 = cells.iter().map(|c| c.1).min()?;
            let y1 = cells.iter().map(|c| c.1).max()?;
            Some((x0, y0, x1, y1))
        }
    }
}

/// The smallest change of `offset` (one axis) that shows `lo..=hi` in a view of `size`
/// cells; when it cannot fit, its start is shown.
pub fn scroll_axis(offset: usize, size: usize, lo: usize, hi: usize, total: usize) -> usize {
    if size == 0 {
        return 0;
    }
    let mut o = offset;
    if hi >= o + size {
        o = hi + 1 - size;
    }
    if lo < o {
        o = lo;
    }
    // never scroll past the end of the canvas
    o.min(total.saturating_sub(size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Graph, GraphNode, layout::layout};

    fn diamond() -> Layout {
        // a → b, a → c, b → d, c → d
        let g = Graph {
            nodes: ["a", "b", "c", "d"]
                .iter()
                .map(|n| GraphNode::new(*n, "Sql"))
                .collect(),
            edges: vec![(0, 1), (0, 2), (1, 3), (2, 3)],
        };
        layout(&g)
    }

    #[test]
    fn moves_by_box_centres() {
        let l = diamond();
        assert_eq!(
            nearest(&l, 0, Dir::Down).map(|n| l.boxes[n].y),
            Some(l.boxes[1].y)
        );
        let (left, right) = if l.boxes[1].x < l.boxes[2].x {
            (1, 2)
        } else {
            (2, 1)
        };
        assert_eq!(nearest(&l, left, Dir::Right), Some(right));
        assert_eq!(nearest(&l, right, Dir::Left), Some(left));
        assert_eq!(nearest(&l, 3, Dir::Down), None);
        assert_eq!(nearest(&l, 0, Dir::Up), None);
        assert_eq!(
            nearest(&l, 3, Dir::Up).map(|n| l.boxes[n].y),
            Some(l.boxes[1].y)
        );
    }

    #[test]
    fn scrolls_minimally() {
        assert_eq!(scroll_axis(0, 10, 3, 5, 40), 0);
        assert_eq!(scroll_axis(0, 10, 12, 15, 40), 6);
        assert_eq!(scroll_axis(20, 10, 3, 5, 40), 3);
        assert_eq!(scroll_axis(35, 10, 0, 0, 40), 0);
        assert_eq!(scroll_axis(0, 0, 3, 5, 40), 0);
    }
}
