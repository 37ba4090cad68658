//! A changed text (a SQL query, a script) as rows to draw: side by side (old left, new
//! right, a run of deleted lines paired with the inserted lines that replace it) or
//! unified (`-` then `+`), with `context` unchanged lines around each change and longer
//! unchanged stretches folded into one "⋯ N unchanged lines" row.

use weir_model::diff::{DiffLine, LineTag};

/// One side of a side-by-side row: the line number and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Half {
    pub no: usize,
    pub text: String,
    /// Deleted (old side) or inserted (new side), not an unchanged line.
    pub changed: bool,
}

/// A row of the side-by-side view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SideRow {
    Pair {
        old: Option<Half>,
        new: Option<Half>,
    },
    /// This many unchanged lines left out.
    Folded(usize),
}

/// A row of the unified view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnifiedRow {
    Line(DiffLine),
    Folded(usize),
}

/// Which lines to show: within `context` lines of a change.
fn shown(lines: &[DiffLine], context: usize) -> Vec<bool> {
    let mut show = vec![false; lines.len()];
    for (i, l) in lines.iter().enumerate() {
        if l.tag != LineTag::Equal {
            let from = i.saturating_sub(context);
            let to = (i + context + 1).min(lines.len());
            show[from..to].iter_mut().for_each(|s| *s = true);
        }
    }
    show
}

/// Runs of the lines: a shown stretch (indices) or a folded count.
enum Run {
    Shown(std::ops::Range<usize>),
    Folded(usize),
}

fn runs(lines: &[DiffLine], context: usize) -> Vec<Run> {
    let show = shown(lines, context);
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i;
        while i < lines.len() && show[i] == show[start] {
            i += 1;
        }
        out.push(if show[start] {
            Run::Shown(start..i)
        } else {
            Run::Folded(i - start)
        });
    }
    out
}

fn half(l: &DiffLine, no: Option<usize>) -> Option<Half> {
    Some(Half {
        no: no?,
        text: l.text.clone(),
        changed: l.tag != LineTag::Equal,
    })
}

/// The side-by-side rows of a line diff.
pub fn side_by_side(lines: &[DiffLine], context: usize) -> Vec<SideRow> {
    let mut out = Vec::new();
    for run in runs(lines, context) {
        let range = match run {
            Run::Folded(n) => {
                out.push(SideRow::Folded(n));
                continue;
            }
            Run::Shown(r) => r,
        };
        let mut i = range.start;
        while i < range.end {
            let l = &lines[i];
            if l.tag == LineTag::Equal {
                out.push(SideRow::Pair {
                    old: half(l, l.old_no),
                    new: half(l, l.new_no),
                });
                i += 1;
                continue;
            }
            // a block of changes: deleted lines face the inserted ones, in order
            let start = i;
            while i < range.end && lines[i].tag != LineTag::Equal {
                i += 1;
            }
            let block = &lines[start..i];
            let old: Vec<&DiffLine> = block.iter().filter(|l| l.tag == LineTag::Delete).collect();
            let new: Vec<&DiffLine> = block.iter().filter(|l| l.tag == LineTag::Insert).collect();
            for k in 0..old.len().max(new.len()) {
                out.push(SideRow::Pair {
                    old: old.get(k).and_then(|l| half(l, l.old_no)),
                    new: new.get(k).and_then(|l| half(l, l.new_no)),
                });
            }
        }
    }
    out
}

/// The unified rows of a line diff.
pub fn unified(lines: &[DiffLine], context: usize) -> Vec<UnifiedRow> {
    let mut out = Vec::new();
    for run in runs(lines, context) {
        match run {
            Run::Folded(n) => out.push(UnifiedRow::Folded(n)),
            Run::Shown(r) => out.extend(lines[r].iter().cloned().map(UnifiedRow::Line)),
        }
    }
    out
}

/// A line as drawn: tabs as spaces, other control characters as `?`.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '?',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(spec: &[(char, &str)]) -> Vec<DiffLine> {
        let (mut o, mut n) = (0, 0);
        spec.iter()
            .map(|(t, text)| {
                let tag = match t {
                    '-' => LineTag::Delete,
                    '+' => LineTag::Insert,
                    _ => LineTag::Equal,
                };
                let old_no = (tag != LineTag::Insert).then(|| {
                    o += 1;
                    o
                });
                let new_no = (tag != LineTag::Delete).then(|| {
                    n += 1;
                    n
                });
                DiffLine {
                    tag,
                    old_no,
                    new_no,
                    text: text.to_string(),
                }
            })
            .collect()
    }

    fn pair(old: Option<(usize, &str)>, new: Option<(usize, &str)>, changed: bool) -> SideRow {
        let h = |(no, text): (usize, &str)| Half {
            no,
            text: text.into(),
            changed,
        };
        SideRow::Pair {
            old: old.map(h),
            new: new.map(h),
        }
    }

    #[test]
    fn deleted_lines_face_their_replacements() {
        let l = lines(&[
            (' ', "SELECT a"),
            ('-', "FROM t"),
            ('-', "WHERE x"),
            ('+', "FROM u"),
            (' ', "GROUP BY a"),
        ]);
        assert_eq!(
            side_by_side(&l, 3),
            vec![
                pair(Some((1, "SELECT a")), Some((1, "SELECT a")), false),
                pair(Some((2, "FROM t")), Some((2, "FROM u")), true),
                pair(Some((3, "WHERE x")), None, true),
                pair(Some((4, "GROUP BY a")), Some((3, "GROUP BY a")), false),
            ]
        );
    }

    #[test]
    fn long_unchanged_stretches_fold() {
        let mut spec: Vec<(char, &str)> = vec![(' ', "x"); 10];
        spec.insert(5, ('+', "new"));
        let l = lines(&spec);
        let rows = side_by_side(&l, 2);
        assert_eq!(rows.first(), Some(&SideRow::Folded(3)));
        assert_eq!(rows.last(), Some(&SideRow::Folded(3)));
        assert_eq!(rows.len(), 2 + 5);
        let u = unified(&l, 2);
        assert_eq!(u.len(), 7);
        assert!(
            matches!(&u[3], UnifiedRow::Line(d) if d.tag == LineTag::Insert && d.text == "new")
        );
        assert_eq!(unified(&l, 20).len(), 11);
        assert_eq!(clean("a\tb\u{1b}"), "a b?");
    }
}
