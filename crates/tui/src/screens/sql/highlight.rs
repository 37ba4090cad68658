//! SQL highlighting for the editor, as pure functions: text → runs of token kinds →
//! styled lines. Also how characters show in cells (tabs, wide and control characters),
//! which the editor's own renderer and its cursor arithmetic share.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::theme::Theme;

/// Words shown in `theme.keyword`, matched case-insensitively: SQL and the Flink
/// streaming additions (window table functions, lookup joins, TopN).
pub const KEYWORDS: &[&str] = &[
    "ALL",
    "AND",
    "ANY",
    "AS",
    "ASC",
    "AVG",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "COALESCE",
    "COUNT",
    "CREATE",
    "CROSS",
    "CUMULATE",
    "CURRENT",
    "DAY",
    "DENSE_RANK",
    "DESC",
    "DESCRIPTOR",
    "DISTINCT",
    "ELSE",
    "END",
    "EXCEPT",
    "EXISTS",
    "FALSE",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "HOP",
    "HOUR",
    "IF",
    "IN",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IS",
    "JOIN",
    "LAST",
    "LATERAL",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MAX",
    "MILLISECOND",
    "MIN",
    "MINUTE",
    "MONTH",
    "NOT",
    "NULL",
    "NULLS",
    "OF",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "PRECEDING",
    "PROCTIME",
    "RANGE",
    "RANK",
    "RIGHT",
    "ROW",
    "ROWS",
    "ROW_NUMBER",
    "SECOND",
    "SELECT",
    "SESSION",
    "SET",
    "SUM",
    "SYSTEM_TIME",
    "TABLE",
    "TEMPORARY",
    "THEN",
    "TRUE",
    "TUMBLE",
    "UNBOUNDED",
    "UNION",
    "UNNEST",
    "VALUES",
    "VIEW",
    "WATERMARK",
    "WEEK",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "YEAR",
];

/// What a piece of SQL text is, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Plain,
    Keyword,
    /// A `'string'` literal.
    Str,
    /// `-- to the end of the line` or `/* ... */`.
    Comment,
}

pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// What the lexer is inside of at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    BlockComment,
    /// Inside a quoted literal or identifier opened by this (ASCII) quote.
    Quoted(u8),
}

/// The runs of every line: (kind, text) pairs whose texts concatenate to the line.
/// Literals and block comments may continue over lines.
pub fn classify<S: AsRef<str>>(lines: &[S]) -> Vec<Vec<(Kind, String)>> {
    let mut state = State::Normal;
    lines
        .iter()
        .map(|l| classify_line(l.as_ref(), &mut state))
        .collect()
}

fn push(runs: &mut Vec<(Kind, String)>, kind: Kind, text: &str) {
    if text.is_empty() {
        return;
    }
    match runs.last_mut() {
        Some((k, s)) if *k == kind => s.push_str(text),
        _ => runs.push((kind, text.to_string())),
    }
}

fn quote_kind(q: u8) -> Kind {
    if q == b'\'' { Kind::Str } else { Kind::Plain }
}

fn classify_line(line: &str, state: &mut State) -> Vec<(Kind, String)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        match *state {
            State::BlockComment => {
                let end = rest.find("*/").map(|e| e + 2);
                let end = end.unwrap_or(rest.len());
                push(&mut runs, Kind::Comment, &rest[..end]);
                if rest[..end].ends_with("*/") {
                    *state = State::Normal;
                }
                i += end;
            }
            State::Quoted(q) => {
                // the closing quote is ASCII, so byte positions are char boundaries
                let b = rest.as_bytes();
                let mut j = 0;
                let mut closed = None;
                while j < b.len() {
                    if b[j] == q {
                        if b.get(j + 1) == Some(&q) {
                            j += 2;
                            continue;
                        }
                        closed = Some(j + 1);
                        break;
                    }
                    j += 1;
                }
                let end = closed.unwrap_or(rest.len());
                push(&mut runs, quote_kind(q), &rest[..end]);
                if closed.is_some() {
                    *state = State::Normal;
                }
                i += end;
            }
            State::Normal => {
                let Some(c) = rest.chars().next() else { break };
                if rest.starts_with("--") {
                    push(&mut runs, Kind::Comment, rest);
                    i = line.len();
                } else if rest.starts_with("/*") {
                    push(&mut runs, Kind::Comment, "/*");
                    *state = State::BlockComment;
                    i += 2;
                } else if matches!(c, '\'' | '"' | '`') {
                    let q = c as u8;
                    push(&mut runs, quote_kind(q), &rest[..1]);
                    *state = State::Quoted(q);
                    i += 1;
                } else if c.is_alphanumeric() || c == '_' {
                    let end = rest
                        .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                        .unwrap_or(rest.len());
                    let word = &rest[..end];
                    let kind = if !c.is_ascii_digit() && is_keyword(word) {
                        Kind::Keyword
                    } else {
                        Kind::Plain
                    };
                    push(&mut runs, kind, word);
                    i += end;
                } else {
                    push(&mut runs, Kind::Plain, &rest[..c.len_utf8()]);
                    i += c.len_utf8();
                }
            }
        }
    }
    runs
}

/// The style of a kind of text; plain text keeps the surrounding style.
pub fn style(kind: Kind, theme: &Theme) -> Style {
    match kind {
        Kind::Plain => Style::default(),
        Kind::Keyword => Style::default().fg(theme.keyword),
        Kind::Str => Style::default().fg(theme.string),
        Kind::Comment => Style::default().fg(theme.muted),
    }
}

/// The text as highlighted lines (one per `\n`-separated line, tabs kept as they are).
pub fn highlight(text: &str, theme: &Theme) -> Vec<Line<'static>> {
    let lines: Vec<&str> = text.split('\n').collect();
    classify(&lines)
        .into_iter()
        .map(|runs| {
            Line::from(
                runs.into_iter()
                    .map(|(k, s)| Span::styled(s, style(k, theme)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// Tab stops every this many cells.
pub const TAB: usize = 4;

/// Cells `c` takes when it starts at display column `col`. Control and zero-width
/// characters show as one `·` so that every character has a cell of its own.
pub fn cell_width(c: char, col: usize) -> usize {
    if c == '\t' {
        TAB - col % TAB
    } else if c.is_control() {
        1
    } else {
        let mut buf = [0u8; 4];
        Span::raw(&*c.encode_utf8(&mut buf)).width().clamp(1, 2)
    }
}

/// What `c` draws as: tabs as spaces, control and zero-width characters as `·`.
pub fn glyph(c: char, width: usize) -> String {
    if c == '\t' {
        " ".repeat(width)
    } else if c.is_control() || {
        let mut buf = [0u8; 4];
        Span::raw(&*c.encode_utf8(&mut buf)).width() == 0
    } {
        "·".into()
    } else {
        c.to_string()
    }
}

/// Display column of character index `chars` in `line`.
pub fn display_col(line: &str, chars: usize) -> usize {
    line.chars()
        .take(chars)
        .fold(0, |col, c| col + cell_width(c, col))
}

/// How the characters of one row look beyond their highlighting.
pub struct RowLook<'a> {
    pub theme: &'a Theme,
    /// Selected character range (end exclusive).
    pub selected: Option<(usize, usize)>,
    /// Character ranges a problem points at.
    pub marks: &'a [(usize, usize)],
    /// The cursor's character index, when it is on this row and shown.
    pub cursor: Option<usize>,
}

/// One row of text as a line of spans, `left` display columns scrolled away and `width`
/// columns wide.
pub fn row_line(
    runs: &[(Kind, String)],
    left: usize,
    width: usize,
    look: &RowLook,
) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut emit = |text: String, style: Style| match spans.last_mut() {
        Some(last) if last.style == style => last.content.to_mut().push_str(&text),
        _ => spans.push(Span::styled(text, style)),
    };
    let right = left + width;
    let within = |range: (usize, usize), i: usize| range.0 <= i && i < range.1;
    let mut col = 0;
    let mut index = 0;
    'runs: for (kind, text) in runs {
        for c in text.chars() {
            if col >= right {
                break 'runs;
            }
            let w = cell_width(c, col);
            let mut style = style(*kind, look.theme);
            if look.marks.iter().any(|&m| within(m, index)) {
                style = style
                    .fg(look.theme.error)
                    .add_modifier(Modifier::UNDERLINED);
            }
            if look.selected.is_some_and(|s| within(s, index)) {
                style = look.theme.selected();
            }
            if look.cursor == Some(index) {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let (from, to) = (col.max(left), (col + w).min(right));
            if to > from {
                if from == col && to == col + w {
                    emit(glyph(c, w), style);
                } else {
                    // a wide character or tab cut by an edge
                    emit(" ".repeat(to - from), style);
                }
            }
            col += w;
            index += 1;
        }
    }
    if look.cursor.is_some_and(|c| c >= index) && col >= left && col < right {
        emit(
            " ".into(),
            Style::default().add_modifier(Modifier::REVERSED),
        );
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(line: &str) -> Vec<(Kind, String)> {
        classify(&[line]).remove(0)
    }

    #[test]
    fn a_window_query_line() {
        let theme = Theme::default();
        let lines = highlight(
            "SELECT url,\nFROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' minute)) -- per minute",
            &theme,
        );
        assert_eq!(lines.len(), 2);
        let kw = Style::default().fg(theme.keyword);
        let got: Vec<(String, Style)> = lines[1]
            .spans
            .iter()
            .map(|s| (s.content.to_string(), s.style))
            .collect();
        let want: Vec<(String, Style)> = [
            ("FROM", kw),
            (" ", Style::default()),
            ("TABLE", kw),
            ("(", Style::default()),
            ("TUMBLE", kw),
            ("(", Style::default()),
            ("TABLE", kw),
            (" clicks, ", Style::default()),
            ("DESCRIPTOR", kw),
            ("(ts), ", Style::default()),
            ("INTERVAL", kw),
            (" ", Style::default()),
            ("'1'", Style::default().fg(theme.string)),
            (" ", Style::default()),
            ("minute", kw),
            (")) ", Style::default()),
            ("-- per minute", Style::default().fg(theme.muted)),
        ]
        .into_iter()
        .map(|(t, s)| (t.to_string(), s))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn words_strings_and_comments() {
        // keywords only as whole words, any case; identifiers in quotes stay plain
        assert_eq!(
            kinds("select selected, `from`, \"where\", row_number"),
            vec![
                (Kind::Keyword, "select".into()),
                (Kind::Plain, " selected, `from`, \"where\", ".into()),
                (Kind::Keyword, "row_number".into()),
            ]
        );
        assert_eq!(
            kinds("'it''s -- not a comment' x"),
            vec![
                (Kind::Str, "'it''s -- not a comment'".into()),
                (Kind::Plain, " x".into()),
            ]
        );
        // block comments and strings continue on the next line
        let runs = classify(&["a /* one", "two */ AS", "'open", "still' ON"]);
        assert_eq!(runs[1][0], (Kind::Comment, "two */".into()));
        assert_eq!(runs[1][2], (Kind::Keyword, "AS".into()));
        assert_eq!(runs[3][0], (Kind::Str, "still'".into()));
        assert_eq!(runs[3][2], (Kind::Keyword, "ON".into()));
        // unicode and digits
        assert_eq!(
            kinds("1as é_from"),
            vec![(Kind::Plain, "1as é_from".into())]
        );
        assert!(classify::<&str>(&[]).is_empty());
        assert_eq!(kinds(""), vec![]);
    }

    #[test]
    fn runs_cover_the_text() {
        let text = "SELECT 'a\tb' /* c\n d */ -- ü\n\u{1b}[x 名前 \"q";
        let lines: Vec<&str> = text.split('\n').collect();
        for (line, runs) in lines.iter().zip(classify(&lines)) {
            let joined: String = runs.iter().map(|(_, s)| s.as_str()).collect();
            assert_eq!(&joined, line);
        }
    }

    #[test]
    fn cells() {
        assert_eq!(cell_width('\t', 0), 4);
        assert_eq!(cell_width('\t', 6), 2);
        assert_eq!(cell_width('名', 0), 2);
        assert_eq!(cell_width('\u{1b}', 0), 1);
        assert_eq!(cell_width('\u{301}', 0), 1);
        assert_eq!(glyph('\u{301}', 1), "·");
        assert_eq!(glyph('\t', 3), "   ");
        assert_eq!(display_col("a\t名b", 3), 6);
        assert_eq!(display_col("ab", 9), 2);
    }

    #[test]
    fn a_row_clipped_with_its_cursor() {
        let theme = Theme::default();
        let runs = classify(&["a\t名 AS x"]).remove(0);
        let text = |look: &RowLook, left, width| {
            let line = row_line(&runs, left, width, look);
            line.spans
                .iter()
                .map(|s| s.content.to_string())
                .collect::<String>()
        };
        let mut look = RowLook {
            theme: &theme,
            selected: None,
            marks: &[],
            cursor: None,
        };
        assert_eq!(text(&look, 0, 40), "a   名 AS x");
        // a wide character cut by the left edge shows as a space
        assert_eq!(text(&look, 5, 40), "  AS x");
        assert_eq!(text(&look, 2, 4), "  名");
        // the cursor after the last character is a reversed space
        look.cursor = Some(8);
        let line = row_line(&runs, 0, 40, &look);
        let last = line.spans.last().unwrap();
        assert_eq!(last.content, " ");
        assert!(last.style.add_modifier.contains(Modifier::REVERSED));
        look.cursor = Some(4);
        look.marks = &[(4, 6)];
        let line = row_line(&runs, 0, 40, &look);
        let as_kw = line
            .spans
            .iter()
            .find(|s| s.content.starts_with('A'))
            .unwrap();
        assert_eq!(as_kw.content, "A");
        assert!(
            as_kw
                .style
                .add_modifier
                .contains(Modifier::REVERSED | Modifier::UNDERLINED)
        );
        assert_eq!(as_kw.style.fg, Some(theme.error));
    }
}
