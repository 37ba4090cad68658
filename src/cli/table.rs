//! Plain-text tables for the data-printing commands (their `--json` form goes through
//! `cli::print_json`). Columns are as wide as their widest cell, counted in characters.
//! Cells are user-supplied text: each is printed through `weir_model::text::printable`,
//! so an escape sequence, a carriage return or a line break in a table name or an
//! opinion shows as `\e`, `\r`, `\n` instead of acting on the terminal.

use weir_model::text::printable;

/// Render `rows` under `headers`, two spaces between columns, no trailing spaces; every
/// cell escaped ([`printable`]).
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| printable(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(cell);
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(cell.chars().count());
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.trim_end().to_string()
    };
    let mut out = line(&mut headers.iter().copied());
    out.push('\n');
    for row in &rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_line_up() {
        let t = super::render(
            &["ID", "NAME"],
            &[
                vec!["1".into(), "kmain".into()],
                vec!["12".into(), "x".into()],
            ],
        );
        assert_eq!(t, "ID  NAME\n1   kmain\n12  x\n");
    }

    #[test]
    fn cells_cannot_act_on_the_terminal_or_forge_lines() {
        let t = super::render(
            &["ID", "WHAT"],
            &[
                vec!["1".into(), "a\x1b[2Jb".into()],
                vec!["2".into(), "ok\r\n3  forged line".into()],
                vec!["3".into(), "x\u{202e}y".into()],
            ],
        );
        assert_eq!(
            t,
            "ID  WHAT\n1   a\\e[2Jb\n2   ok\\r\\n3  forged line\n3   x\\u{202e}y\n"
        );
        assert_eq!(t.lines().count(), 4);
    }
}
