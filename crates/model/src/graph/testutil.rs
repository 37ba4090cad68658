//! Test support shared by the graph modules' tests: a compact graph builder, a
//! deterministic random DAG, and the structural checks every layout must pass.

use super::layout::{Layout, MIN_GAP};
use super::{Graph, GraphNode};

pub fn graph(nodes: &[(&str, &str)], edges: &[(usize, usize)]) -> Graph {
    Graph {
        nodes: nodes
            .iter()
            .map(|&(id, kind)| GraphNode::new(id, kind))
            .collect(),
        edges: edges.to_vec(),
    }
}

/// Deterministic random-ish DAG: each node after the first few gets 1–3 parents
/// among the previous 12 nodes.
pub fn lcg_dag(n: usize, seed: u64) -> Graph {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let kinds = [
        "KafkaSource",
        "Sql",
        "JdbcSink",
        "RedisSink",
        "Filter",
        "Map",
    ];
    let nodes = (0..n)
        .map(|i| GraphNode::new(format!("op_{i}"), kinds[next() % kinds.len()]))
        .collect();
    let mut edges = Vec::new();
    for i in 3..n {
        for _ in 0..1 + next() % 3 {
            let back = 1 + next() % 12.min(i);
            edges.push((i - back, i));
        }
    }
    Graph { nodes, edges }
}

/// Structural checks every layout must pass.
pub fn check(g: &Graph, l: &Layout) {
    assert_eq!(l.boxes.len(), g.nodes.len());
    for (i, a) in l.boxes.iter().enumerate() {
        assert_eq!(a.node, i);
        assert!(
            a.x + a.w <= l.width && a.y + a.h <= l.height,
            "box {i} out of bounds"
        );
        for b in &l.boxes[i + 1..] {
            let apart = a.x + a.w + MIN_GAP <= b.x
                || b.x + b.w + MIN_GAP <= a.x
                || a.y + a.h <= b.y
                || b.y + b.h <= a.y;
            assert!(apart, "boxes overlap: {a:?} {b:?}");
        }
    }
    for e in &l.edges {
        let (from, to) = (&l.boxes[e.from], &l.boxes[e.to]);
        let (&first, &last) = (e.points.first().unwrap(), e.points.last().unwrap());
        assert_eq!(first, (from.centre_x(), from.y + from.h), "{e:?}");
        assert_eq!(last, (to.centre_x(), to.y - 1), "{e:?}");
        for seg in e.points.windows(2) {
            let ((x1, y1), (x2, y2)) = (seg[0], seg[1]);
            assert!(x1 == x2 || y1 == y2, "diagonal segment in {e:?}");
            assert!(y2 >= y1, "edge goes up: {e:?}");
            for x in x1.min(x2)..=x1.max(x2) {
                for y in y1..=y2 {
                    assert!(x < l.width && y < l.height, "edge out of bounds: {e:?}");
                    assert!(l.box_at(x, y).is_none(), "edge crosses a box: {e:?}");
                }
            }
        }
    }
}
