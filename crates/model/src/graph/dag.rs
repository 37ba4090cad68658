//! Directed-graph checks on `(node_count, edges)` input: one cycle ([`find_cycle`]), a
//! topological order ([`topo_order`]), the back edges a depth-first search finds
//! ([`back_edges`]) and longest-path layers ignoring those back edges ([`layers`]).
//!
//! All functions are deterministic: the search starts at the smallest node index and
//! visits successors in ascending order. Edges naming a node `>= node_count` are ignored
//! and duplicate edges count once, so nothing here panics on bad input. The searches are
//! iterative, so very long chains do not overflow the stack.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Sorted, de-duplicated successor lists; out-of-range edges dropped.
fn successors(node_count: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut adj = vec![Vec::new(); node_count];
    for &(a, b) in edges {
        if a < node_count && b < node_count {
            adj[a].push(b);
        }
    }
    for list in &mut adj {
        list.sort_unstable();
        list.dedup();
    }
    adj
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    New,
    Open,
    Done,
}

/// Depth-first search over all roots in ascending order. `on_back(u, v, path)` is called
/// for every back edge `u → v` (`v` is on `path`, the current DFS path ending in `u`);
/// returning `true` stops the search.
fn dfs(adj: &[Vec<usize>], mut on_back: impl FnMut(usize, usize, &[usize]) -> bool) {
    let mut mark = vec![Mark::New; adj.len()];
    let mut path: Vec<usize> = Vec::new();
    let mut next: Vec<usize> = Vec::new();
    for root in 0..adj.len() {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::Open;
        path.push(root);
        next.push(0);
        while let (Some(&u), Some(cursor)) = (path.last(), next.last_mut()) {
            match adj[u].get(*cursor) {
                Some(&v) => {
                    *cursor += 1;
                    match mark[v] {
                        Mark::New => {
                            mark[v] = Mark::Open;
                            path.push(v);
                            next.push(0);
                        }
                        Mark::Open => {
                            if on_back(u, v, &path) {
                                return;
                            }
                        }
                        Mark::Done => {}
                    }
                }
                None => {
                    mark[u] = Mark::Done;
                    path.pop();
                    next.pop();
                }
            }
        }
    }
}

/// One cycle as node indices in edge order, rotated to start at its smallest index (the
/// first node is not repeated at the end; a self loop on `i` gives `vec![i]`). `None` if
/// the graph is acyclic. Deterministic: the first cycle found by a depth-first search from
/// the smallest index, successors in ascending order.
pub fn find_cycle(node_count: usize, edges: &[(usize, usize)]) -> Option<Vec<usize>> {
    let adj = successors(node_count, edges);
    let mut found = None;
    dfs(&adj, |_, v, path| {
        let start = path.iter().rposition(|&p| p == v).unwrap_or(0);
        let mut cycle = path[start..].to_vec();
        if let Some(min_at) = (0..cycle.len()).min_by_key(|&i| cycle[i]) {
            cycle.rotate_left(min_at);
        }
        found = Some(cycle);
        true
    });
    found
}

/// A topological order (every edge goes from an earlier to a later node), choosing the
/// smallest available index first, so an already ordered file keeps its order.
/// `Err` holds a cycle as returned by [`find_cycle`].
pub fn topo_order(node_count: usize, edges: &[(usize, usize)]) -> Result<Vec<usize>, Vec<usize>> {
    let adj = successors(node_count, edges);
    let mut indegree = vec![0usize; node_count];
    for list in &adj {
        for &v in list {
            indegree[v] += 1;
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..node_count)
        .filter(|&i| indegree[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(node_count);
    while let Some(Reverse(u)) = ready.pop() {
        order.push(u);
        for &v in &adj[u] {
            indegree[v] -= 1;
            if indegree[v] == 0 {
                ready.push(Reverse(v));
            }
        }
    }
    if order.len() == node_count {
        Ok(order)
    } else {
        Err(find_cycle(node_count, edges).unwrap_or_default())
    }
}

/// The edges a deterministic depth-first search classifies as back edges (self loops
/// included), sorted and de-duplicated. Removing them leaves an acyclic graph; these are
/// the edges [`layers`] ignores and the layout does not draw. Empty for a DAG.
pub fn back_edges(node_count: usize, edges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let adj = successors(node_count, edges);
    let mut back = Vec::new();
    dfs(&adj, |u, v, _| {
        back.push((u, v));
        false
    });
    back.sort_unstable();
    back
}

/// Longest-path layer of each node: nodes without (forward) predecessors are at 0, every
/// other node one below its deepest predecessor. Back edges (see [`back_edges`]) are
/// ignored, so cyclic input still gets finite layers.
pub fn layers(node_count: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let back = back_edges(node_count, edges);
    let mut adj = successors(node_count, edges);
    for (u, list) in adj.iter_mut().enumerate() {
        list.retain(|&v| back.binary_search(&(u, v)).is_err());
    }
    let mut indegree = vec![0usize; node_count];
    for list in &adj {
        for &v in list {
            indegree[v] += 1;
        }
    }
    let mut layer = vec![0usize; node_count];
    let mut ready: Vec<usize> = (0..node_count).filter(|&i| indegree[i] == 0).collect();
    while let Some(u) = ready.pop() {
        for &v in &adj[u] {
            layer[v] = layer[v].max(layer[u] + 1);
            indegree[v] -= 1;
            if indegree[v] == 0 {
                ready.push(v);
            }
        }
    }
    layer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cycle() {
        assert_eq!(find_cycle(0, &[]), None);
        assert_eq!(find_cycle(3, &[]), None);
        assert_eq!(find_cycle(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]), None);
        assert_eq!(find_cycle(3, &[(0, 1), (0, 1), (1, 2)]), None);
    }

    #[test]
    fn self_loop() {
        assert_eq!(find_cycle(3, &[(0, 1), (2, 2)]), Some(vec![2]));
        assert_eq!(find_cycle(1, &[(0, 0)]), Some(vec![0]));
    }

    #[test]
    fn two_cycle() {
        assert_eq!(find_cycle(2, &[(1, 0), (0, 1)]), Some(vec![0, 1]));
    }

    #[test]
    fn three_cycle_in_bigger_graph() {
        // 0 → 1 → 2 → 3 → 4 → 2, 1 → 5, 5 → 6
        let edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 2), (1, 5), (5, 6)];
        assert_eq!(find_cycle(7, &edges), Some(vec![2, 3, 4]));
        // Rotation: the cycle is reported from its smallest index even when entered later.
        let edges = [(0, 5), (5, 3), (3, 4), (4, 5)];
        assert_eq!(find_cycle(6, &edges), Some(vec![3, 4, 5]));
    }

    #[test]
    fn out_of_range_edges_are_ignored() {
        assert_eq!(find_cycle(2, &[(0, 7), (7, 0), (1, 1)]), Some(vec![1]));
        assert_eq!(topo_order(2, &[(0, 9)]), Ok(vec![0, 1]));
        assert_eq!(layers(2, &[(5, 1)]), vec![0, 0]);
    }

    #[test]
    fn topo_order_prefers_small_indices() {
        assert_eq!(topo_order(0, &[]), Ok(vec![]));
        assert_eq!(topo_order(3, &[]), Ok(vec![0, 1, 2]));
        assert_eq!(
            topo_order(4, &[(2, 0), (3, 1), (0, 1)]),
            Ok(vec![2, 0, 3, 1])
        );
        assert_eq!(topo_order(3, &[(0, 1), (1, 2), (2, 1)]), Err(vec![1, 2]));
    }

    #[test]
    fn layers_longest_path() {
        // 0 → 1 → 2 → 3 and a shortcut 0 → 3; 4 isolated; 5 → 2.
        let edges = [(0, 1), (1, 2), (2, 3), (0, 3), (5, 2)];
        assert_eq!(layers(6, &edges), vec![0, 1, 2, 3, 0, 0]);
        assert_eq!(layers(0, &[]), Vec::<usize>::new());
    }

    #[test]
    fn layers_ignore_back_edges() {
        // 0 → 1 → 2 → 0 plus 2 → 3: the back edge 2 → 0 is dropped.
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 3)];
        assert_eq!(back_edges(4, &edges), vec![(2, 0), (3, 3)]);
        assert_eq!(layers(4, &edges), vec![0, 1, 2, 3]);
    }

    #[test]
    fn long_chain_does_not_overflow() {
        let n = 100_000;
        let edges: Vec<_> = (1..n).map(|i| (i - 1, i)).collect();
        assert_eq!(find_cycle(n, &edges), None);
        assert_eq!(layers(n, &edges)[n - 1], n - 1);
    }
}
