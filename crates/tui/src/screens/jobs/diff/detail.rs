//! What the diff view says about the selection: a node's parameter changes (old → new),
//! what an added or removed node holds, the edges that changed around it; the job-level
//! changes; the edge changes; and the line diffs of changed texts, side by side or
//! unified.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use serde_json::Value;
use weir_model::diff::{JobDiff, LineTag, NodeChange, ParamChange, TextDiff};
use weir_model::jobfile::fields;

use super::canvas::mark_style;
use super::text::{SideRow, UnifiedRow, clean, side_by_side, unified};
use super::union::{Mark, Union};
use crate::screens::gov::fit;
use crate::theme::Theme;

/// Unchanged lines shown around a change in a text diff.
pub const CONTEXT: usize = 3;

/// A value on one line: `absent`, a bare number or boolean, a quoted string, or JSON.
pub fn show(value: Option<&Value>) -> String {
    match value {
        None => "absent".into(),
        Some(v) => clean(&v.to_string()),
    }
}

/// `path: old → new`, the old value red and the new one green; a text parameter (one
/// with a line diff among `texts`) points to its line diff.
fn param_line(
    theme: &Theme,
    indent: &str,
    (c, texts): (&ParamChange, &[TextDiff]),
    width: usize,
) -> Line<'static> {
    if texts.iter().any(|t| t.path == c.path) {
        return Line::from(vec![
            Span::raw(format!("{indent}{}: ", c.path)),
            Span::styled("text changed, see the diff", theme.warning()),
        ]);
    }
    let head = format!("{indent}{}: ", c.path);
    let room = width.saturating_sub(head.chars().count() + 3).max(8);
    let (old, new) = (show(c.old.as_ref()), show(c.new.as_ref()));
    let (old_len, new_len) = (old.chars().count(), new.chars().count());
    let (old, new) = if old_len + new_len <= room {
        (old, new)
    } else {
        // the new value matters most: the old one gives up room first
        let new_room = (room - room / 2)
            .max(room.saturating_sub(old_len))
            .min(new_len);
        let old_room = room.saturating_sub(new_room).max(4).min(old_len);
        (fit(&old, old_room), fit(&new, new_room))
    };
    Line::from(vec![
        Span::raw(head),
        Span::styled(old, theme.error()),
        Span::raw(" → "),
        Span::styled(new, theme.ok()),
    ])
}

/// The lines about node `i` of the union.
pub fn node_lines(
    u: &Union,
    diff: &JobDiff,
    i: usize,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let Some(n) = u.nodes.get(i) else {
        return Vec::new();
    };
    let style = mark_style(theme, n.mark);
    let change = n.change.and_then(|c| diff.nodes.get(c));
    let mut lines = Vec::new();
    let kind = if n.kind.is_empty() {
        "?"
    } else {
        n.kind.as_str()
    };
    let title = match change {
        Some(NodeChange::Renamed { from, to, .. }) => {
            format!("> {from} → {to}  {kind}  renamed")
        }
        _ if n.mark == Mark::Same => format!("{}  {kind}  unchanged", n.id),
        _ => format!("{} {}  {kind}  {}", n.mark.sign(), n.id, n.mark.word()),
    };
    lines.push(Line::styled(
        fit(&title, width).trim_end().to_string(),
        style,
    ));
    match change {
        Some(
            NodeChange::Changed { params, texts, .. } | NodeChange::Renamed { params, texts, .. },
        ) => {
            if params.is_empty() {
                lines.push(Line::styled("  parameters unchanged", theme.muted()));
            }
            for c in params {
                lines.push(param_line(theme, "  ", (c, texts), width));
            }
        }
        Some(NodeChange::Added { node, .. }) | Some(NodeChange::Removed { node, .. }) => {
            let values = fields::operator_values(node);
            let what = if n.mark == Mark::Added {
                "holds"
            } else {
                "held"
            };
            lines.push(Line::styled(format!("  it {what}:"), theme.muted()));
            for (k, v) in values.iter().skip(1) {
                let text = fit(&format!("    {k}: {}", clean(v)), width)
                    .trim_end()
                    .to_string();
                lines.push(Line::styled(text, style));
            }
        }
        None if n.kind.is_empty() => lines.push(Line::styled(
            "  an end of a changed edge; the new side's text was not found",
            theme.muted(),
        )),
        None => lines.push(Line::styled("  n / N jump to the changes", theme.muted())),
    }
    lines
}

/// The edges added to and removed from node `i` of the union (none: no lines).
pub fn node_edge_lines(u: &Union, diff: &JobDiff, i: usize, theme: &Theme) -> Vec<Line<'static>> {
    let Some(n) = u.nodes.get(i) else {
        return Vec::new();
    };
    let touching = |(a, b): &(String, String)| *a == n.id || *b == n.id;
    let added: Vec<&(String, String)> = diff.edges_added.iter().filter(|e| touching(e)).collect();
    let removed: Vec<&(String, String)> =
        diff.edges_removed.iter().filter(|e| touching(e)).collect();
    if added.is_empty() && removed.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![Line::styled("  edges", theme.muted())];
    lines.extend(edge_rows(theme, &added, &removed, "    "));
    lines
}

fn edge_rows(
    theme: &Theme,
    added: &[&(String, String)],
    removed: &[&(String, String)],
    indent: &str,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (a, b) in added {
        out.push(Line::styled(format!("{indent}+ {a} → {b}"), theme.ok()));
    }
    for (a, b) in removed {
        out.push(Line::styled(format!("{indent}- {a} → {b}"), theme.error()));
    }
    out
}

/// Whether the nodes were reordered in the file. With nodes added, a recorded order may
/// only say where they went (as `weir job diff` reads it).
pub fn nodes_reordered(diff: &JobDiff) -> bool {
    diff.node_order.is_some()
        && !diff
            .nodes
            .iter()
            .any(|c| matches!(c, NodeChange::Added { .. }))
}

/// Whether the edges were reordered in the file (see [`nodes_reordered`]).
pub fn edges_reordered(diff: &JobDiff) -> bool {
    diff.edge_order.is_some() && diff.edges_added.is_empty()
}

/// The job-level changes (`config.parallelism`, `name`, …) and reorderings.
pub fn job_lines(diff: &JobDiff, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled("job-level changes", theme.warning())];
    for c in &diff.job {
        lines.push(param_line(theme, "  ", (c, &[]), width));
    }
    if nodes_reordered(diff) {
        lines.push(Line::styled(
            "  ↕ nodes reordered in the file",
            theme.muted(),
        ));
    }
    if edges_reordered(diff) {
        lines.push(Line::styled(
            "  ↕ edges reordered in the file",
            theme.muted(),
        ));
    }
    lines
}

/// Every edge added and removed.
pub fn edge_lines(diff: &JobDiff, theme: &Theme) -> Vec<Line<'static>> {
    let added: Vec<&(String, String)> = diff.edges_added.iter().collect();
    let removed: Vec<&(String, String)> = diff.edges_removed.iter().collect();
    let mut lines = vec![Line::styled(
        format!("edges: {} added, {} removed", added.len(), removed.len()),
        theme.warning(),
    )];
    lines.extend(edge_rows(theme, &added, &removed, "  "));
    lines
}

/// The changed texts of node `i`, if it changed.
pub fn texts_of<'a>(u: &Union, diff: &'a JobDiff, i: usize) -> &'a [TextDiff] {
    match u
        .nodes
        .get(i)
        .and_then(|n| n.change)
        .and_then(|c| diff.nodes.get(c))
    {
        Some(NodeChange::Changed { texts, .. }) | Some(NodeChange::Renamed { texts, .. }) => texts,
        _ => &[],
    }
}

fn text_title(theme: &Theme, t: &TextDiff, width: usize) -> Line<'static> {
    let title = format!("── {} ", t.path);
    let pad = width.saturating_sub(title.chars().count());
    Line::styled(format!("{title}{}", "─".repeat(pad)), theme.muted())
}

fn folded(theme: &Theme, n: usize) -> Line<'static> {
    let s = if n == 1 { "" } else { "s" };
    Line::styled(format!("     ⋯ {n} unchanged line{s}"), theme.muted())
}

/// The texts as unified diffs (`-` old lines, `+` new lines), for narrow panes.
pub fn unified_lines(texts: &[TextDiff], theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for t in texts {
        out.push(text_title(theme, t, width));
        for row in unified(&t.lines, CONTEXT) {
            let line = match row {
                UnifiedRow::Folded(n) => folded(theme, n),
                UnifiedRow::Line(l) => {
                    let (sign, no, style) = match l.tag {
                        LineTag::Delete => ('-', l.old_no, theme.error()),
                        LineTag::Insert => ('+', l.new_no, theme.ok()),
                        LineTag::Equal => (' ', l.new_no, Style::default()),
                    };
                    let no = no.map_or(String::new(), |n| n.to_string());
                    let text = format!("{sign}{no:>4} {}", clean(&l.text));
                    Line::styled(fit(&text, width).trim_end().to_string(), style)
                }
            };
            out.push(line);
        }
    }
    out
}

/// The texts side by side: the old side left, the new side right, changed lines facing
/// each other, for wide panes. `sides` names the two sides for the column heads.
pub fn side_lines(
    texts: &[TextDiff],
    theme: &Theme,
    width: usize,
    sides: (&str, &str),
) -> Vec<Line<'static>> {
    let half = width.saturating_sub(3) / 2;
    let mut out = Vec::new();
    // a changed line is signed too (`-` old, `+` new), so it reads without colour
    let cell = |h: &Option<super::text::Half>, (sign, style): (char, Style)| -> Span<'static> {
        match h {
            Some(h) => {
                let (sign, s) = if h.changed {
                    (sign, style)
                } else {
                    (' ', Style::default())
                };
                Span::styled(
                    fit(&format!("{:>4}{sign}{}", h.no, clean(&h.text)), half),
                    s,
                )
            }
            None => Span::raw(" ".repeat(half)),
        }
    };
    for t in texts {
        out.push(text_title(theme, t, width));
        out.push(Line::from(vec![
            Span::styled(fit(&format!("     {}", sides.0), half), theme.muted()),
            Span::styled(" │ ", theme.muted()),
            Span::styled(fit(&format!("     {}", sides.1), half), theme.muted()),
        ]));
        for row in side_by_side(&t.lines, CONTEXT) {
            out.push(match row {
                SideRow::Folded(n) => folded(theme, n),
                SideRow::Pair { old, new } => Line::from(vec![
                    cell(&old, ('-', theme.error())),
                    Span::styled(" │ ", theme.muted()),
                    cell(&new, ('+', theme.ok())),
                ]),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use weir_model::diff::diff_texts;

    use super::super::union::tests::{NEW, OLD, job};
    use super::*;

    fn text(lines: &[Line]) -> String {
        lines
            .iter()
            .map(|l| {
                l.spans
                    .iter()
                    .map(|s| s.content.as_ref())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_changed_node_lists_its_parameters_and_its_text_diff() {
        let d = diff_texts(OLD, NEW).unwrap();
        let u = Union::build(Some(&job(NEW)), &d);
        let theme = Theme::default();
        let agg = text(&node_lines(&u, &d, 1, &theme, 60));
        assert!(agg.starts_with("~ agg  Sql  changed"), "{agg}");
        assert!(agg.contains("query: text changed, see the diff"), "{agg}");
        let texts = texts_of(&u, &d, 1);
        assert_eq!(texts.len(), 1);
        let uni = text(&unified_lines(texts, &theme, 60));
        assert!(
            uni.contains("-   1 SELECT k\n+   1 SELECT k, 1 AS n"),
            "{uni}"
        );
        let sbs = text(&side_lines(
            texts,
            &theme,
            61,
            ("version 1", "working file"),
        ));
        assert!(sbs.contains("version 1"), "{sbs}");
        let row = sbs.lines().find(|l| l.contains("SELECT k, 1")).unwrap();
        assert!(row.starts_with("   1-SELECT k "), "{row}");
        assert!(row.contains(" │    1+SELECT k, 1 AS n"), "{row}");
        let added = text(&node_lines(&u, &d, 2, &theme, 60));
        assert!(added.starts_with("+ new_out  PrintSink  added"), "{added}");
        assert!(added.contains("parallelism: Some(2)"), "{added}");
        let edges = text(&node_edge_lines(&u, &d, 2, &theme));
        assert!(edges.contains("+ agg → new_out"), "{edges}");
        let renamed = text(&node_lines(&u, &d, 3, &theme, 60));
        assert!(
            renamed.starts_with("> keep → kept  PrintSink  renamed"),
            "{renamed}"
        );
        let removed = text(&node_edge_lines(&u, &d, 4, &theme));
        assert!(removed.contains("- agg → old_out"), "{removed}");
        assert!(node_edge_lines(&u, &d, 0, &theme).is_empty());
        let edges = text(&edge_lines(&d, &theme));
        assert!(edges.starts_with("edges: 1 added, 1 removed"), "{edges}");
    }

    #[test]
    fn values_show_on_one_line() {
        let c = ParamChange {
            path: "config.parallelism".into(),
            old: Some(Value::from(2)),
            new: Some(Value::from(4)),
        };
        let theme = Theme::default();
        assert_eq!(
            text(&[param_line(&theme, "", (&c, &[]), 40)]),
            "config.parallelism: 2 → 4"
        );
        let long = ParamChange {
            path: "topic".into(),
            old: None,
            new: Some(Value::from("x".repeat(80))),
        };
        let line = text(&[param_line(&theme, "", (&long, &[]), 40)]);
        assert!(line.starts_with("topic: absent → \"xxx"), "{line}");
        assert!(line.ends_with('…') && line.chars().count() <= 40, "{line}");
    }
}
