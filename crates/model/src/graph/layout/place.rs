//! Horizontal placement of layer items and the track rows edges use between layers.
//!
//! Placement: every item wants its centre at the (weighted) mean centre of its parents
//! (down pass) or children (up pass). Within a layer the items keep their order with at
//! least [`MIN_GAP`] free columns between them; the positions closest to the wishes (least
//! squares) under that constraint come from isotonic regression (pool adjacent violators),
//! linear per layer. Passes run down, up, down, so children end up under their parents
//! and a simple chain is one straight column. Dummies weigh less than boxes, so long edges
//! bend around boxes rather than push them aside. A last pass removes jogs of a column or
//! two left by rounding where the neighbours leave room.
//!
//! Tracks: between two layers each item with a child off its own column needs one
//! horizontal run from its stem to its children. Runs are coloured greedily (leftmost
//! first) onto track rows so that runs sharing a row keep a free cell between them, except
//! two single-edge runs meeting where both drop into the same child (`└──┬──┘`). Ordering
//! rules between runs keep corners unambiguous; see [`assign_tracks`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::{Item, MIN_GAP};

const DUMMY_WEIGHT: f64 = 0.01;

fn weight(item: &Item) -> f64 {
    if item.dummy { DUMMY_WEIGHT } else { 1.0 }
}

/// Left x of every item, minimum 0.
pub(super) fn place(items: &[Item], rows: &[Vec<usize>]) -> Vec<i64> {
    let mut x = vec![0i64; items.len()];
    for row in rows {
        let mut cur = 0;
        for &i in row {
            x[i] = cur;
            cur += (items[i].w + MIN_GAP) as i64;
        }
    }
    let n = rows.len();
    for down in [true, false, true] {
        let layers: Vec<usize> = if down {
            (1..n).collect()
        } else {
            (0..n.saturating_sub(1)).rev().collect()
        };
        for l in layers {
            let centre = |i: usize| (x[i] + (items[i].w / 2) as i64) as f64;
            let wish: Vec<(f64, f64)> = rows[l]
                .iter()
                .map(|&i| {
                    let nbrs = if down {
                        &items[i].preds
                    } else {
                        &items[i].succs
                    };
                    let (sum, total) = nbrs.iter().fold((0.0, 0.0), |(s, t), &j| {
                        (s + weight(&items[j]) * centre(j), t + weight(&items[j]))
                    });
                    let c = if total > 0.0 { sum / total } else { centre(i) };
                    (c - (items[i].w / 2) as f64, weight(&items[i]))
                })
                .collect();
            let widths: Vec<usize> = rows[l].iter().map(|&i| items[i].w).collect();
            for (&i, xi) in rows[l].iter().zip(pack(&widths, &wish)) {
                x[i] = xi;
            }
        }
    }
    straighten(items, rows, &mut x);
    let min = x.iter().copied().min().unwrap_or(0);
    for xi in &mut x {
        *xi -= min;
    }
    x
}

/// Largest sideways step [`straighten`] removes.
const JOG: i64 = 2;

/// Remove small jogs left by rounding and averaging: top down, an item not in line with
/// any parent moves under the nearest parent at most [`JOG`] columns away if its
/// neighbours leave room.
fn straighten(items: &[Item], rows: &[Vec<usize>], x: &mut [i64]) {
    let half = |i: usize| (items[i].w / 2) as i64;
    for row in rows.iter().skip(1) {
        for (p, &i) in row.iter().enumerate() {
            let c = x[i] + half(i);
            let parents = items[i].preds.iter().map(|&j| x[j] + half(j));
            if parents.clone().any(|pc| pc == c) {
                continue;
            }
            let Some(pc) = parents
                .filter(|pc| (pc - c).abs() <= JOG)
                .min_by_key(|&pc| ((pc - c).abs(), pc))
            else {
                continue;
            };
            let nx = pc - half(i);
            let gap = MIN_GAP as i64;
            let left_ok = p == 0 || nx >= x[row[p - 1]] + items[row[p - 1]].w as i64 + gap;
            let right_ok = p + 1 == row.len() || nx + items[i].w as i64 + gap <= x[row[p + 1]];
            if left_ok && right_ok {
                x[i] = nx;
            }
        }
    }
}

/// Left positions for items of the given widths, in order, at least [`MIN_GAP`] apart,
/// closest in weighted least squares to the wished `(left x, weight)`.
fn pack(widths: &[usize], wish: &[(f64, f64)]) -> Vec<i64> {
    // Substituting y_j = x_j - offset_j turns the gaps into y being non-decreasing.
    let mut offsets = Vec::with_capacity(widths.len());
    let mut off = 0i64;
    // Blocks of pooled items: (weighted sum, total weight, item count).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for (&w, &(want, weight)) in widths.iter().zip(wish) {
        offsets.push(off);
        blocks.push((weight * (want - off as f64), weight, 1));
        off += (w + MIN_GAP) as i64;
        while let [.., (s1, w1, c1), (s2, w2, c2)] = blocks[..] {
            if s1 / w1 <= s2 / w2 {
                break;
            }
            blocks.truncate(blocks.len() - 2);
            blocks.push((s1 + s2, w1 + w2, c1 + c2));
        }
    }
    let mut out = Vec::with_capacity(widths.len());
    for (sum, total, count) in blocks {
        let y = (sum / total).round() as i64;
        for _ in 0..count {
            out.push(y + offsets[out.len()]);
        }
    }
    out
}

struct Run {
    item: usize,
    stem: i64,
    /// Columns where this run drops into a child (other than straight below the stem).
    drops: Vec<i64>,
    /// The item has exactly one child (so the run is a plain fan-in branch).
    single_child: bool,
    lo: i64,
    hi: i64,
}

impl Run {
    /// Whether two runs may share a track row: at least one free cell between them, or
    /// both are the only edge of their item and they meet where they drop into the same
    /// child (`└──┬──┘`). Any other contact would read as one connected line.
    fn fits_beside(&self, other: &Run) -> bool {
        if self.hi + 1 < other.lo || other.hi + 1 < self.lo {
            return true;
        }
        let touch = if self.hi == other.lo {
            self.hi
        } else if other.hi == self.lo {
            self.lo
        } else {
            return false;
        };
        self.single_child && other.single_child && self.drops == [touch] && other.drops == [touch]
    }
}

/// Give every item of `row` whose edges move sideways a track in `track` (0 = the row
/// right under the stem row); returns how many track rows the gap below `row` needs.
pub(super) fn assign_tracks(
    items: &[Item],
    row: &[usize],
    centre: &[i64],
    track: &mut [Option<usize>],
) -> usize {
    let mut runs: Vec<Run> = Vec::new();
    for &i in row {
        let stem = centre[i];
        let drops: Vec<i64> = items[i]
            .succs
            .iter()
            .map(|&s| centre[s])
            .filter(|&d| d != stem)
            .collect();
        if !drops.is_empty() {
            let lo = drops.iter().copied().fold(stem, i64::min);
            let hi = drops.iter().copied().fold(stem, i64::max);
            let single_child = items[i].succs.len() == 1;
            runs.push(Run {
                item: i,
                stem,
                drops,
                single_child,
                lo,
                hi,
            });
        }
    }
    // above[r]: runs that must sit above r: those whose stem comes down where r drops
    // (else the stem would run into r's corner), and those passing through a column where
    // r ends in a drop to the same child (the upper one shows `┬`, the lower `┤`/`├`; the
    // other way round the pass-through would look like a plain crossing `┼`).
    let mut drops_at: HashMap<i64, Vec<usize>> = HashMap::new();
    for (r, run) in runs.iter().enumerate() {
        for &d in &run.drops {
            drops_at.entry(d).or_default().push(r);
        }
    }
    let mut above: Vec<Vec<usize>> = vec![Vec::new(); runs.len()];
    let mut below: Vec<Vec<usize>> = vec![Vec::new(); runs.len()];
    for (r, run) in runs.iter().enumerate() {
        let mut lower: Vec<usize> = drops_at.get(&run.stem).cloned().unwrap_or_default();
        for &d in run.drops.iter().filter(|&&d| run.lo < d && d < run.hi) {
            let ends_at_d = |&o: &usize| runs[o].lo == d || runs[o].hi == d;
            lower.extend(
                drops_at
                    .get(&d)
                    .into_iter()
                    .flatten()
                    .filter(|o| ends_at_d(o)),
            );
        }
        lower.sort_unstable();
        lower.dedup();
        for other in lower.into_iter().filter(|&o| o != r) {
            below[r].push(other);
            above[other].push(r);
        }
    }

    // Kahn's order over "must be above", leftmost run first; cycles broken leftmost first.
    let key = |r: usize| Reverse((runs[r].lo, runs[r].hi, r));
    let mut waiting: Vec<usize> = above.iter().map(Vec::len).collect();
    let mut done = vec![false; runs.len()];
    let mut ready: BinaryHeap<_> = (0..runs.len())
        .filter(|&r| waiting[r] == 0)
        .map(key)
        .collect();
    let mut rows_used: Vec<Vec<usize>> = Vec::new();
    let mut assigned: Vec<Option<usize>> = vec![None; runs.len()];
    loop {
        let r = match ready.pop() {
            Some(Reverse((_, _, r))) => r,
            None => match (0..runs.len())
                .filter(|&r| !done[r])
                .min_by_key(|&r| key(r).0)
            {
                Some(r) => r,
                None => break,
            },
        };
        if done[r] {
            continue;
        }
        done[r] = true;
        let min_track = above[r]
            .iter()
            .filter_map(|&a| assigned[a])
            .map(|t| t + 1)
            .max();
        let mut t = min_track.unwrap_or(0);
        while rows_used
            .get(t)
            .is_some_and(|used| used.iter().any(|&u| !runs[r].fits_beside(&runs[u])))
        {
            t += 1;
        }
        if t >= rows_used.len() {
            rows_used.resize(t + 1, Vec::new());
        }
        rows_used[t].push(r);
        assigned[r] = Some(t);
        track[runs[r].item] = Some(t);
        for &b in &below[r] {
            waiting[b] -= 1;
            if waiting[b] == 0 && !done[b] {
                ready.push(key(b));
            }
        }
    }
    rows_used.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_keeps_order_and_gap() {
        // Three items of width 5 all wanting x = 10: spread evenly around it.
        let xs = pack(&[5, 5, 5], &[(10.0, 1.0); 3]);
        assert_eq!(xs, vec![3, 10, 17]);
        // Already far apart: untouched.
        let xs = pack(&[3, 3], &[(0.0, 1.0), (20.0, 1.0)]);
        assert_eq!(xs, vec![0, 20]);
        // A light item yields to a heavy one.
        let xs = pack(&[5, 1], &[(10.0, 1.0), (12.0, 0.25)]);
        assert_eq!(xs[1] - xs[0], 7);
        assert!(xs[0] >= 8);
    }
}
