//! What a frame shows, for `expect`, `expect-line` and `until`: the frame as text, and
//! whether a text is on it, also when a widget wrapped it over rows.
//!
//! The wrap rule: a text is on the frame when one row contains it, or when it is cut at
//! the end of a row's run of text and goes on at the start of a run on the next rows:
//! - the first part ends its run: after it, only blanks up to a pane border (`│`, `┃`,
//!   `║`, …) or the row's end; a cut inside a word (no blank at the cut) must be at the
//!   border or the row's end itself, as a wrapped long word is;
//! - each further part starts a run (at the row's start or after a blank or a border),
//!   at or left of the column where the text began, the wrapped lines of a widget
//!   starting at its left edge;
//! - blanks at the cut are not compared (a widget drops or keeps them as it wraps).
//!
//! So a long status message that wraps, or a paragraph in a pane, matches whatever the
//! length of what comes before it on its first row (a user's name, a project's).

use ratatui::buffer::Buffer;

/// The visible text of a frame: one line per row, trailing blanks trimmed.
pub fn frame_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(area.x + x, area.y + y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Glyphs that draw the vertical edge of a pane.
const BORDERS: &[char] = &['│', '┃', '║', '╎', '┆', '┊', '▏', '▕'];

fn is_border(c: char) -> bool {
    BORDERS.contains(&c)
}

/// A blank or a border: what separates runs of text.
fn is_gap(c: char) -> bool {
    c.is_whitespace() || is_border(c)
}

/// Whether a part of the text that stops at column `end` of `row` ends the row's run:
/// the rest of the run is blank (`at_blank`: the text was cut at a blank) or the cut is
/// at a border or the row's end.
fn ends_run(row: &[char], end: usize, at_blank: bool) -> bool {
    let rest = row.get(end..).unwrap_or(&[]);
    if !at_blank {
        return rest.first().is_none_or(|c| is_border(*c));
    }
    rest.iter()
        .take_while(|c| !is_border(**c))
        .all(|c| c.is_whitespace())
}

/// How many chars `row[at..]` and `text` have in common from their starts.
fn common(row: &[char], at: usize, text: &[char]) -> usize {
    row.get(at..)
        .unwrap_or(&[])
        .iter()
        .zip(text)
        .take_while(|(a, b)| a == b)
        .count()
}

fn trim_start(text: &[char]) -> &[char] {
    let skip = text.iter().take_while(|c| c.is_whitespace()).count();
    &text[skip..]
}

/// Whether the cut between `text[..k]` and `text[k..]` falls on a blank.
fn cut_at_blank(text: &[char], k: usize) -> bool {
    text.get(k).is_some_and(|c| c.is_whitespace())
        || k.checked_sub(1)
            .and_then(|i| text.get(i))
            .is_some_and(|c| c.is_whitespace())
}

/// Whether `rest` goes on at the start of a run of `rows[0]` at or left of column
/// `limit`, and from there over the following rows.
fn goes_on(rows: &[Vec<char>], rest: &[char], limit: usize) -> bool {
    let Some((row, below)) = rows.split_first() else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    for x in 0..row.len().min(limit + 1) {
        if is_gap(row[x]) || (x > 0 && !is_gap(row[x - 1])) {
            continue;
        }
        let m = common(row, x, rest);
        if m == rest.len() {
            return true;
        }
        if m > 0
            && ends_run(row, x + m, cut_at_blank(rest, m))
            && goes_on(below, trim_start(&rest[m..]), limit)
        {
            return true;
        }
    }
    false
}

/// Whether the frame (as [`frame_text`] gives it) shows `text`: in one row, or wrapped
/// over rows by the rule of this module.
pub fn shows(frame: &str, text: &str) -> bool {
    if frame.contains(text) {
        return true;
    }
    let text: Vec<char> = text.chars().collect();
    if text.is_empty() {
        return true;
    }
    let rows: Vec<Vec<char>> = frame.lines().map(|l| l.chars().collect()).collect();
    for (y, row) in rows.iter().enumerate() {
        for s in 0..row.len() {
            let m = common(row, s, &text);
            // every cut of the text that ends this row's run
            for k in 1..=m.min(text.len() - 1) {
                if ends_run(row, s + k, cut_at_blank(&text, k))
                    && goes_on(&rows[y + 1..], trim_start(&text[k..]), s)
                {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether row `n` (1-based, the top row is 1) of the frame contains `text`.
pub fn row_shows(frame: &str, n: u16, text: &str) -> bool {
    frame
        .lines()
        .nth(usize::from(n).saturating_sub(1))
        .is_some_and(|row| n >= 1 && row.contains(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_message_wrapped_after_a_long_name_matches() {
        let frame = " weir │ bartholomew-longname (system admin) │ env test │ TREE  created\njobs/team/orders.ron\n";
        assert!(shows(frame, "created jobs/team/orders.ron"));
        // what a plain search of the text missed (issue 17, bug 6)
        assert!(!frame.contains("created jobs/team/orders.ron"));
        // the cut inside a path: the first row is full
        let frame = " weir │ al │ TREE  created jobs/te\nam/orders.ron\n";
        assert!(shows(frame, "jobs/team/orders.ron"));
        // trim: false keeps the blank at the start of the next row
        let frame = " weir │ al │ TREE  created\n jobs/team/orders.ron\n";
        assert!(shows(frame, "created jobs/team/orders.ron"));
        // over three rows
        let frame = "x  saved the\nmessage that goes\non and on\n";
        assert!(shows(frame, "saved the message that goes on and on"));
    }

    #[test]
    fn a_paragraph_in_a_pane_matches_between_its_borders() {
        let frame = "\
│ tree     ││ approving will: create the      │
│ orders   ││ topic orders on kafka_main      │
";
        assert!(shows(frame, "create the topic orders"));
        assert!(shows(
            frame,
            "approving will: create the topic orders on kafka_main"
        ));
    }

    #[test]
    fn text_that_is_not_a_wrapped_run_does_not_match() {
        // "created" does not end its run: more text follows on its row
        let frame = "created jobs x\nfoo\n";
        assert!(!shows(frame, "created foo"));
        // the next part does not start a run
        let frame = "a created\nxfoo\n";
        assert!(!shows(frame, "created foo"));
        // a cut inside a word needs the row to be full there
        let frame = "creat│\ned\n";
        assert!(shows(frame, "created"));
        let frame = "creat   │\ned\n";
        assert!(!shows(frame, "created"));
        let frame = "creat  x\ned\n";
        assert!(!shows(frame, "created"));
        // the continuation starts right of where the text began: another pane
        let frame = "│ created   │\n│ x         │ jobs\n";
        assert!(!shows(frame, "created jobs"));
        assert!(!shows(frame, "nothing here"));
    }

    #[test]
    fn rows_count_from_one() {
        let frame = "top\nmiddle\nbottom\n";
        assert!(row_shows(frame, 1, "top"));
        assert!(row_shows(frame, 3, "bott"));
        assert!(!row_shows(frame, 2, "top"));
        assert!(!row_shows(frame, 0, "top"));
        assert!(!row_shows(frame, 4, ""));
    }
}
