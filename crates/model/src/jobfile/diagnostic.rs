//! Diagnostics: what is wrong, where (file:line:column), and what to do — rendered for a
//! terminal with the offending line and a caret, or as JSON for scripts.

use serde::Serialize;

use super::syntax::{LineIndex, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub severity: Severity,
    /// Stable rule name, e.g. `unknown-field`, `cycle`, `sql-syntax`.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The text of the line the diagnostic points at; of a long line, only the part
    /// around the place (see [`Diagnostic::source_column`]).
    #[serde(skip)]
    pub source_line: String,
    /// The column of the line at which `source_line` starts: 1 unless the line is longer
    /// than [`SHOWN_LINE`] bytes and only a part of it is kept.
    #[serde(skip)]
    pub source_column: usize,
}

/// Lines longer than this (in bytes) are shown in part: a job written on one line with
/// thousands of problems would otherwise copy the whole line into every diagnostic.
pub const SHOWN_LINE: usize = 400;

/// The part of `text` shown for a place `rel` bytes into it: up to 120 bytes before and
/// 240 after, cut at character boundaries; returns the part and its first byte.
fn window(text: &str, rel: usize) -> (&str, usize) {
    if text.len() <= SHOWN_LINE {
        return (text, 0);
    }
    let mut from = rel.min(text.len()).saturating_sub(120);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (rel + 240).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    (&text[from..to.max(from)], from)
}

impl Diagnostic {
    pub fn new(
        file: &str,
        index: &LineIndex<'_>,
        span: Span,
        severity: Severity,
        code: &'static str,
        message: String,
        hint: Option<String>,
    ) -> Self {
        let (line, column) = index.line_col(span.start);
        let (end_line, end_column) = index.line_col(span.end.max(span.start));
        let text = index.line_text(line);
        let rel = span.start.saturating_sub(index.line_start(line));
        let (shown, from) = window(text, rel);
        // the place is `column`; the part starts that many characters before it
        let before = text
            .get(from..rel.min(text.len()))
            .map_or(0, |s| s.chars().count());
        Diagnostic {
            file: file.to_string(),
            line,
            column,
            end_line,
            end_column,
            severity,
            code,
            message,
            hint,
            source_line: shown.to_string(),
            source_column: column.saturating_sub(before).max(1),
        }
    }

    /// A diagnostic about the file as a whole (unreadable, not text).
    pub fn whole_file(
        file: &str,
        code: &'static str,
        message: String,
        hint: Option<String>,
    ) -> Self {
        Diagnostic {
            file: file.to_string(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            severity: Severity::Error,
            code,
            message,
            hint,
            source_line: String::new(),
            source_column: 1,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// rustc-style text: header, location, the line with a caret under the problem, hint.
    pub fn render(&self) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = format!("{sev}[{}]: {}\n", self.code, self.message);
        let num = self.line.to_string();
        let gutter = " ".repeat(num.len());
        out.push_str(&format!(
            "{gutter}--> {}:{}:{}\n",
            self.file, self.line, self.column
        ));
        if !self.source_line.is_empty() || self.line > 1 {
            // tabs would misalign the caret: show them as single spaces
            let text: String = self
                .source_line
                .chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .collect();
            // a part of a long line starts with `…`
            let (text, lead) = if self.source_column > 1 {
                (format!("…{text}"), 1)
            } else {
                (text, 0)
            };
            let at = self.column.saturating_sub(self.source_column) + lead;
            let width = if self.end_line == self.line && self.end_column > self.column {
                self.end_column - self.column
            } else {
                1
            };
            let width = width.min(text.chars().count().saturating_sub(at).max(1));
            out.push_str(&format!("{gutter} |\n{num} | {text}\n"));
            out.push_str(&format!(
                "{gutter} | {}{}\n",
                " ".repeat(at),
                "^".repeat(width)
            ));
        }
        if let Some(h) = &self.hint {
            out.push_str(&format!("{gutter} = hint: {h}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_shown_around_the_place() {
        let src = format!(
            "{}é{}TARGET{}\n",
            "a".repeat(1000),
            "b".repeat(500),
            "c".repeat(1000)
        );
        let index = LineIndex::new(&src);
        let at = src.find("TARGET").unwrap();
        let d = Diagnostic::new(
            "x.ron",
            &index,
            Span::new(at, at + 6),
            Severity::Error,
            "syntax",
            "here".into(),
            None,
        );
        // the column counts characters: `é` is one
        assert_eq!((d.line, d.column, d.end_column), (1, 1502, 1508));
        assert!(d.source_line.len() <= SHOWN_LINE, "{}", d.source_line.len());
        let text = d.render();
        let lines: Vec<&str> = text.lines().collect();
        // in characters: the line starts with `…`
        let caret = lines[4].chars().position(|c| c == '^').unwrap();
        let under: String = lines[3].chars().skip(caret).take(6).collect();
        assert_eq!(under, "TARGET", "{text}");
        assert_eq!(lines[4].matches('^').count(), 6);
    }
}
