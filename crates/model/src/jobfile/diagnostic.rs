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
    /// The text of the line the diagnostic points at.
    #[serde(skip)]
    pub source_line: String,
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
            source_line: index.line_text(line).to_string(),
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
            let width = if self.end_line == self.line && self.end_column > self.column {
                self.end_column - self.column
            } else {
                1
            };
            let width = width.min(text.chars().count().saturating_sub(self.column - 1).max(1));
            out.push_str(&format!("{gutter} |\n{num} | {text}\n"));
            out.push_str(&format!(
                "{gutter} | {}{}\n",
                " ".repeat(self.column - 1),
                "^".repeat(width)
            ));
        }
        if let Some(h) = &self.hint {
            out.push_str(&format!("{gutter} = hint: {h}\n"));
        }
        out
    }
}
