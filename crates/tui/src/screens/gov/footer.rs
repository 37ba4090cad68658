//! Key-hint footers that fit their width: a screen lists its hints in priority order, and
//! [`footer`] keeps the leading hints that fit whole, dropping the rest from the end and
//! ending with `? more` (the help overlay lists every key), so that a narrow terminal never
//! shows a hint cut in the middle (`r reques`). Every screen footer draws through here.

use ratatui::text::{Line, Span};

use crate::theme::Theme;

/// What ends a footer that had to leave hints out.
const MORE: (&str, &str) = ("?", "more");

/// Columns between two hints.
const GAP: usize = 2;

/// Columns one hint takes: `key what`.
fn hint_width((key, what): (&str, &str)) -> usize {
    Span::raw(key).width() + 1 + Span::raw(what).width()
}

/// The hints of `keys` (in priority order) that fit in `width` columns: all of them when
/// they fit, else the leading ones that fit whole with `? more` after them.
pub fn fitting<'a>(keys: &[(&'a str, &'a str)], width: u16) -> Vec<(&'a str, &'a str)> {
    let width = width as usize;
    let all: usize = keys.iter().map(|k| hint_width(*k) + GAP).sum();
    if all.saturating_sub(GAP) <= width {
        return keys.to_vec();
    }
    let room = width.saturating_sub(hint_width(MORE));
    let mut used = 0;
    let mut out = Vec::new();
    for k in keys {
        let w = hint_width(*k) + GAP;
        if used + w > room {
            break;
        }
        used += w;
        out.push(*k);
    }
    if hint_width(MORE) <= width {
        out.push(MORE);
    }
    out
}

/// A footer line of `keys` (in priority order, e.g. `("a", "approve")`) cut to `width`
/// columns by whole hints, ending with `? more` when some were left out.
pub fn footer(theme: &Theme, keys: &[(&str, &str)], width: u16) -> Line<'static> {
    line(theme, &fitting(keys, width))
}

/// `keys` (in priority order) over at most `rows` lines of `width` columns: each line
/// takes the whole hints that fit, the last one ends with `? more` when some were left
/// out.
pub fn footer_rows(
    theme: &Theme,
    keys: &[(&str, &str)],
    width: u16,
    rows: usize,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let mut rest = keys;
    while !rest.is_empty() && out.len() + 1 < rows {
        let mut used = 0;
        let mut n = 0;
        for k in rest {
            let w = hint_width(*k) + if n == 0 { 0 } else { GAP };
            if used + w > width as usize {
                break;
            }
            used += w;
            n += 1;
        }
        if n == 0 {
            break;
        }
        out.push(line(theme, &rest[..n]));
        rest = &rest[n..];
    }
    if !rest.is_empty() && rows > 0 {
        out.push(footer(theme, rest, width));
    }
    out
}

/// The hints as one line: the key in the accent colour, then what it does.
fn line(theme: &Theme, shown: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (k, what)) in shown.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" ".repeat(GAP)));
        }
        spans.push(Span::styled(k.to_string(), theme.accent()));
        spans.push(Span::raw(format!(" {what}")));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [(&str, &str); 4] = [
        ("a", "approve"),
        ("r", "reject"),
        ("Space", "mark"),
        ("/", "filter"),
    ];

    fn text(keys: &[(&str, &str)]) -> String {
        keys.iter()
            .map(|(k, w)| format!("{k} {w}"))
            .collect::<Vec<_>>()
            .join("  ")
    }

    #[test]
    fn everything_when_it_fits() {
        let all = text(&KEYS);
        assert_eq!(fitting(&KEYS, all.len() as u16), KEYS.to_vec());
        assert_eq!(fitting(&KEYS, 200), KEYS.to_vec());
    }

    #[test]
    fn whole_hints_in_priority_order_then_more() {
        // "a approve  r reject  Space mark  / filter" is 41 columns
        let shown = fitting(&KEYS, 30);
        assert_eq!(shown, [("a", "approve"), ("r", "reject"), ("?", "more")]);
        assert!(text(&shown).len() <= 30, "{}", text(&shown));
        // no hint is ever cut in the middle
        for w in 0..45 {
            let shown = fitting(&KEYS, w);
            assert!(text(&shown).len() <= (w as usize).max(6), "{w}: {shown:?}");
            for (k, what) in shown {
                assert!(KEYS.contains(&(k, what)) || (k, what) == MORE);
            }
        }
        assert_eq!(fitting(&KEYS, 6), [("?", "more")]);
        assert!(fitting(&KEYS, 3).is_empty());
    }

    #[test]
    fn two_rows_hold_more_and_only_the_last_says_more() {
        let theme = Theme::default();
        let rows: Vec<String> = footer_rows(&theme, &KEYS, 19, 2)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(rows, ["a approve  r reject", "Space mark  ? more"]);
        let rows = footer_rows(&theme, &KEYS, 80, 2);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].to_string(), text(&KEYS));
    }
}
