//! The diff as text for a terminal (`weir job diff`, `weir approve`): sections `nodes`,
//! `edges` and `job` with one line per change, then the unified diffs of changed texts.
//! Values are shown compactly: numbers and booleans bare, strings quoted, records and
//! lists as one-line JSON cut at 60 characters; text parameters say "(text changed, see
//! below)". With `color`, plain ANSI escapes: green +, red -, yellow ~, cyan renames;
//! control characters from the files themselves are escaped (`\e`, `\r`).
//!
//! The file order of nodes and edges does not change what a job does. The JSON carries it
//! exactly (`node_order`, `edge_order`); the text says "reordered" only when nothing was
//! added, since then a recorded order can only be a reorder (with additions it may just
//! place them).

use std::fmt::Write;

use serde_json::Value;

use super::{JobDiff, NodeChange, ParamChange, TextDiff, text};

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// The longest value shown on one line, in characters.
const MAX_VALUE: usize = 60;

struct Out {
    text: String,
    color: bool,
}

impl Out {
    /// One line; what in it came from the job files (ids, SQL, strings) cannot act on
    /// the terminal of the approver reading it (`crate::text::printable_lines`).
    fn line(&mut self, color: &str, line: &str) {
        let line = crate::text::printable_lines(line);
        if self.color && !color.is_empty() {
            let _ = writeln!(self.text, "{color}{line}{RESET}");
        } else {
            let _ = writeln!(self.text, "{line}");
        }
    }
}

impl JobDiff {
    /// The human rendering; `color` adds ANSI colours. An empty diff reads "no changes".
    pub fn render_text(&self, color: bool) -> String {
        let mut out = Out {
            text: String::new(),
            color,
        };
        if self.is_empty() {
            out.line("", "no changes");
            return out.text;
        }
        self.render_nodes(&mut out);
        self.render_edges(&mut out);
        if !self.job.is_empty() {
            out.line(BOLD, "job");
            for change in &self.job {
                out.line("", &format!("  {}", param_line(change)));
            }
        }
        for change in &self.nodes {
            if let NodeChange::Changed { texts, .. } | NodeChange::Renamed { texts, .. } = change {
                for t in texts {
                    unified(&mut out, t);
                }
            }
        }
        // A multi-line job-level string (a long description) reads as a line diff too.
        for change in self.job.iter().filter(|c| text::is_text(c)) {
            unified(&mut out, &text::text_diff("job", change));
        }
        out.text
    }

    fn render_nodes(&self, out: &mut Out) {
        let added = self
            .nodes
            .iter()
            .any(|c| matches!(c, NodeChange::Added { .. }));
        // Without additions, a recorded order can only be a reorder (see the module doc).
        let reordered = self.node_order.is_some() && !added;
        if self.nodes.is_empty() && !reordered {
            return;
        }
        out.line(BOLD, "nodes");
        for change in &self.nodes {
            match change {
                NodeChange::Added { id, kind, .. } => {
                    out.line(GREEN, &format!("  + {id} ({kind})"));
                }
                NodeChange::Removed { id, kind, .. } => {
                    out.line(RED, &format!("  - {id} ({kind})"));
                }
                NodeChange::Changed {
                    id, kind, params, ..
                } => {
                    out.line(YELLOW, &format!("  ~ {id} ({kind})"));
                    params_lines(out, params);
                }
                NodeChange::Renamed {
                    from,
                    to,
                    kind,
                    params,
                    ..
                } => {
                    out.line(CYAN, &format!("  > {from} → {to} ({kind}, renamed)"));
                    params_lines(out, params);
                }
            }
        }
        if reordered {
            out.line(CYAN, "  ↕ nodes reordered in the file");
        }
    }

    fn render_edges(&self, out: &mut Out) {
        let reordered = self.edge_order.is_some() && self.edges_added.is_empty();
        if self.edges_added.is_empty() && self.edges_removed.is_empty() && !reordered {
            return;
        }
        out.line(BOLD, "edges");
        for (from, to) in &self.edges_added {
            out.line(GREEN, &format!("  + ({from}, {to})"));
        }
        for (from, to) in &self.edges_removed {
            out.line(RED, &format!("  - ({from}, {to})"));
        }
        if reordered {
            out.line(CYAN, "  ↕ edges reordered in the file");
        }
    }
}

fn params_lines(out: &mut Out, params: &[ParamChange]) {
    for p in params {
        out.line("", &format!("      {}", param_line(p)));
    }
}

/// `path: old → new`, or `path: (text changed, see below)`.
fn param_line(change: &ParamChange) -> String {
    if text::is_text(change) {
        format!("{}: (text changed, see below)", change.path)
    } else {
        format!(
            "{}: {} → {}",
            change.path,
            show(change.old.as_ref()),
            show(change.new.as_ref())
        )
    }
}

/// A value on one line: `absent`, a bare number or boolean, a quoted string, or JSON.
fn show(value: Option<&Value>) -> String {
    let full = match value {
        None => return "absent".into(),
        Some(v) => v.to_string(),
    };
    if full.chars().count() <= MAX_VALUE {
        full
    } else {
        let cut: String = full.chars().take(MAX_VALUE - 1).collect();
        format!("{cut}…")
    }
}

fn unified(out: &mut Out, t: &TextDiff) {
    for line in t.unified.lines() {
        let color = if line.starts_with("---") || line.starts_with("+++") {
            BOLD
        } else if line.starts_with("@@") {
            CYAN
        } else if line.starts_with('+') {
            GREEN
        } else if line.starts_with('-') {
            RED
        } else {
            ""
        };
        out.line(color, line);
    }
}
