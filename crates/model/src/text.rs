//! Text that people type and weir shows: characters a terminal obeys or that reorder what
//! it draws (control characters, bidirectional overrides) are refused at input
//! ([`check_name`], [`check_free_text`]) and escaped on output ([`printable`]), so that a
//! table name, a reason or an opinion cannot clear, colour or forge lines on an
//! approver's screen (issue 15, item 4). JSON output is escaped by serde and needs none
//! of this; the name rules themselves (which letters a project name may hold) live with
//! each name.

use std::borrow::Cow;
use std::fmt;

/// True for a character a terminal may act on or that reorders the text around it: C0
/// controls (tab and newline too), DEL, C1 controls, the bidirectional embeddings,
/// overrides, isolates and marks, and the Unicode line and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` fit for a terminal: every [`is_unsafe`] character written as an escape (`\e`,
/// `\n`, `\r`, `\t`, `\0`, else `\u{202e}`), the rest unchanged. Borrowed when there is
/// nothing to escape, which is nearly always.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape_where(text, is_unsafe)
}

/// As [`printable`], but line breaks and tabs stay: for multi-line texts weir itself
/// composed (error messages, reports, diffs), in which the user-supplied parts that could
/// hold a line break are escaped with [`printable`] already.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| !matches!(c, '\n' | '\t') && is_unsafe(c))
}

fn escape_where(text: &str, escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\u{1b}' => out.push_str("\\e"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// A character that typed text may not hold, and where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsafeChar {
    /// The character.
    pub ch: char,
    /// Its position, counted in characters from 1.
    pub position: usize,
}

impl UnsafeChar {
    /// What the character is, in words.
    pub fn what(&self) -> &'static str {
        match self.ch {
            '\u{1b}' => "an escape character",
            '\n' => "a line break",
            '\r' => "a carriage return",
            '\t' => "a tab",
            '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}' => "a bidirectional text control",
            '\u{2028}' | '\u{2029}' => "a line separator",
            _ => "a control character",
        }
    }
}

impl fmt::Display for UnsafeChar {
    /// "holds an escape character (\e) at character 4".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = String::new();
        push_escaped(&mut shown, self.ch);
        write!(
            f,
            "holds {} ({shown}) at character {}",
            self.what(),
            self.position
        )
    }
}

/// What to do about an [`UnsafeChar`] in a name.
pub const NAME_FIX: &str =
    "names hold no control characters, line breaks or bidirectional controls; retype it";

/// What to do about an [`UnsafeChar`] in free text.
pub const FREE_TEXT_FIX: &str = "free text may hold line breaks and tabs, but no other control characters (escape sequences, carriage returns) or bidirectional controls; retype it";

/// A name (table, column, user, field, display name, address): no [`is_unsafe`]
/// character at all, line breaks and tabs included.
pub fn check_name(text: &str) -> Result<(), UnsafeChar> {
    find(text, is_unsafe)
}

/// Free text (a reason, an opinion, a description, a note): line breaks and tabs are
/// allowed, every other [`is_unsafe`] character is not.
pub fn check_free_text(text: &str) -> Result<(), UnsafeChar> {
    find(text, |c| !matches!(c, '\n' | '\t') && is_unsafe(c))
}

fn find(text: &str, bad: impl Fn(char) -> bool) -> Result<(), UnsafeChar> {
    match text.chars().enumerate().find(|(_, c)| bad(*c)) {
        Some((i, ch)) => Err(UnsafeChar {
            ch,
            position: i + 1,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_what_a_terminal_would_obey() {
        assert!(matches!(printable("orders_2024"), Cow::Borrowed(_)));
        assert_eq!(printable("a\x1b[2Jb"), "a\\e[2Jb");
        assert_eq!(printable("\x1b]0;title\x07"), "\\e]0;title\\u{7}");
        assert_eq!(printable("ok\r\n forged line"), "ok\\r\\n forged line");
        assert_eq!(printable("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(printable("x\u{9b}31m\u{7f}"), "x\\u{9b}31m\\u{7f}");
        assert_eq!(printable("tab\there"), "tab\\there");
        assert_eq!(printable("é ü 表"), "é ü 表");
        assert_eq!(
            printable_lines("one\n\ttwo\x1b[0m\r"),
            "one\n\ttwo\\e[0m\\r"
        );
    }

    #[test]
    fn printable_output_holds_no_unsafe_character() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(!printable(&all).chars().any(is_unsafe));
        assert!(
            !printable_lines(&all)
                .chars()
                .any(|c| !matches!(c, '\n' | '\t') && is_unsafe(c))
        );
    }

    #[test]
    fn names_refuse_every_control_and_free_text_keeps_lines_and_tabs() {
        assert_eq!(check_name("orders"), Ok(()));
        assert_eq!(check_name("schema.Orders 2024"), Ok(()));
        let e = check_name("ord\x1b[2Jers").unwrap_err();
        assert_eq!((e.ch, e.position), ('\u{1b}', 4));
        assert_eq!(
            e.to_string(),
            "holds an escape character (\\e) at character 4"
        );
        assert_eq!(check_name("a\nb").unwrap_err().what(), "a line break");
        assert_eq!(
            check_name("x\u{202e}y").unwrap_err().what(),
            "a bidirectional text control"
        );
        assert_eq!(check_free_text("first line\n\tsecond"), Ok(()));
        assert_eq!(check_free_text("ok\r\n").unwrap_err().position, 3);
        assert!(check_free_text("\u{2066}x").is_err());
        assert!(check_free_text("\u{85}").is_err());
    }
}
