//! Crossing reduction: the order of items within each layer. Starts from the given order
//! (file order, dummies after the nodes), then runs barycenter sweeps down and up, keeping
//! the order with the fewest crossings seen. Sorting is stable and ties keep the current
//! order, so the result is deterministic; a layout without crossings keeps file order.

use super::Item;

/// Down-and-up sweep pairs to try.
const SWEEPS: usize = 4;

pub(super) fn reduce_crossings(items: &[Item], rows: &mut [Vec<usize>]) {
    let mut pos = vec![0usize; items.len()];
    index(rows, &mut pos);
    let mut best = rows.to_vec();
    let mut best_crossings = crossings(items, rows, &pos);
    for _ in 0..SWEEPS {
        if best_crossings == 0 {
            break;
        }
        sweep(items, rows, &mut pos, true);
        sweep(items, rows, &mut pos, false);
        let c = crossings(items, rows, &pos);
        if c < best_crossings {
            best_crossings = c;
            best = rows.to_vec();
        }
    }
    rows.clone_from_slice(&best);
}

fn index(rows: &[Vec<usize>], pos: &mut [usize]) {
    for row in rows {
        for (p, &i) in row.iter().enumerate() {
            pos[i] = p;
        }
    }
}

/// Reorder every layer by the mean position of its neighbours in the layer above (`down`)
/// or below. Items without such neighbours keep their own position as key.
fn sweep(items: &[Item], rows: &mut [Vec<usize>], pos: &mut [usize], down: bool) {
    let n = rows.len();
    let layers: Vec<usize> = if down {
        (1..n).collect()
    } else {
        (0..n.saturating_sub(1)).rev().collect()
    };
    for l in layers {
        let mut keyed: Vec<(f64, usize)> = rows[l]
            .iter()
            .map(|&i| {
                let nbrs = if down {
                    &items[i].preds
                } else {
                    &items[i].succs
                };
                let key = if nbrs.is_empty() {
                    pos[i] as f64
                } else {
                    nbrs.iter().map(|&j| pos[j] as f64).sum::<f64>() / nbrs.len() as f64
                };
                (key, i)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (p, (_, i)) in keyed.into_iter().enumerate() {
            rows[l][p] = i;
            pos[i] = p;
        }
    }
}

/// Total number of edge crossings between consecutive layers, counted as inversions with
/// a Fenwick tree (O(E log V) per layer pair).
fn crossings(items: &[Item], rows: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut total = 0;
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut tree: Vec<usize> = Vec::new();
    for l in 1..rows.len() {
        pairs.clear();
        for &a in &rows[l - 1] {
            pairs.extend(items[a].succs.iter().map(|&b| (pos[a], pos[b])));
        }
        pairs.sort_unstable();
        tree.clear();
        tree.resize(rows[l].len() + 1, 0);
        for (seen, &(_, b)) in pairs.iter().enumerate() {
            // Count earlier pairs whose lower end lies strictly right of `b`.
            let mut not_greater = 0;
            let mut k = b + 1;
            while k > 0 {
                not_greater += tree[k];
                k &= k - 1;
            }
            total += seen - not_greater;
            let mut k = b + 1;
            while k < tree.len() {
                tree[k] += 1;
                k += k & k.wrapping_neg();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(layer: usize, preds: &[usize], succs: &[usize]) -> Item {
        Item {
            layer,
            w: 5,
            dummy: false,
            preds: preds.to_vec(),
            succs: succs.to_vec(),
        }
    }

    #[test]
    fn untangles_a_cross() {
        // 0 → 3, 1 → 2: crossing in file order, none after a sweep.
        let items = vec![
            item(0, &[], &[3]),
            item(0, &[], &[2]),
            item(1, &[1], &[]),
            item(1, &[0], &[]),
        ];
        let mut rows = vec![vec![0, 1], vec![2, 3]];
        let mut pos = vec![0; 4];
        index(&rows, &mut pos);
        assert_eq!(crossings(&items, &rows, &pos), 1);
        reduce_crossings(&items, &mut rows);
        index(&rows, &mut pos);
        assert_eq!(crossings(&items, &rows, &pos), 0);
    }

    #[test]
    fn counts_crossings() {
        // K(2,2) between layers: 0,1 → 2,3 has exactly one crossing.
        let items = vec![
            item(0, &[], &[2, 3]),
            item(0, &[], &[2, 3]),
            item(1, &[0, 1], &[]),
            item(1, &[0, 1], &[]),
        ];
        let rows = vec![vec![0, 1], vec![2, 3]];
        let mut pos = vec![0; 4];
        index(&rows, &mut pos);
        assert_eq!(crossings(&items, &rows, &pos), 1);
    }
}
