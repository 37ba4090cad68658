//! User-supplied text on screen (issue 15, item 4): names, reasons and opinions are
//! drawn through `weir_model::text::printable`, so an escape sequence, a line break or a
//! bidirectional override shows as `\e`, `\n`, `\u{202e}` instead of acting on the
//! terminal or starting a forged line. The governance screens' table and detail helpers
//! (`screens/gov/listing.rs`) apply it to every cell and span; [`scrub`] runs over the
//! whole frame after drawing, so that whatever a screen draws some other way never
//! reaches the terminal with such a character in it.

use ratatui::buffer::Buffer;
use ratatui::text::{Line, Span};
use weir_model::text::{is_unsafe, printable};

/// `text` as a screen may show it, escaped.
pub fn text(text: &str) -> String {
    printable(text).into_owned()
}

/// `line` with every span's text escaped; styles stay.
pub fn line(line: Line<'_>) -> Line<'static> {
    let Line {
        style,
        alignment,
        spans,
    } = line;
    Line {
        style,
        alignment,
        spans: spans
            .into_iter()
            .map(|s| Span::styled(printable(&s.content).into_owned(), s.style))
            .collect(),
    }
}

/// Every line of `lines` escaped ([`line`]).
pub fn lines(lines: Vec<Line<'_>>) -> Vec<Line<'static>> {
    lines.into_iter().map(line).collect()
}

/// The last guard before the terminal: a cell whose symbol still holds a control or
/// bidirectional character (drawn by a path that did not escape it) loses it.
pub fn scrub(buffer: &mut Buffer) {
    for cell in &mut buffer.content {
        if cell.symbol().chars().any(is_unsafe) {
            let kept: String = cell.symbol().chars().filter(|c| !is_unsafe(*c)).collect();
            cell.set_symbol(if kept.is_empty() { " " } else { &kept });
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    use super::*;

    #[test]
    fn lines_keep_their_styles_and_lose_their_controls() {
        let l = line(Line::from(vec![
            Span::styled("reason: ", Style::new().bold()),
            Span::raw("ok\r\n forged \u{1b}[2J"),
        ]));
        assert_eq!(l.spans.len(), 2);
        assert_eq!(l.spans[0].style, Style::new().bold());
        assert_eq!(l.spans[1].content, "ok\\r\\n forged \\e[2J");
    }

    #[test]
    fn scrub_leaves_no_unsafe_character_in_the_buffer() {
        let mut b = Buffer::empty(Rect::new(0, 0, 4, 1));
        b.content[0].set_symbol("\u{202e}");
        b.content[1].set_symbol("a\u{202e}");
        b.content[2].set_symbol("\u{1b}");
        scrub(&mut b);
        let symbols: Vec<&str> = b.content.iter().map(|c| c.symbol()).collect();
        assert_eq!(symbols, [" ", "a", " ", " "]);
    }
}
