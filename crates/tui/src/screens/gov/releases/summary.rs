//! A release's diff in a few lines, for a detail pane (`:releases` and the inbox): which
//! sides are compared, how many nodes were added, removed, changed and renamed, each
//! node change with its changed parameters (old → new), job-level and edge changes, and
//! the first changed lines of every SQL or script diff. Coloured by the change's sign
//! (`+` green, `-` red, `~` yellow, `>` cyan) so it reads without colour too; `d` opens
//! the full diff view. `state_lines`: what the release does to the running production
//! state.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use serde_json::Value;
use weir_app::jobs::{
    JobDiff, JobDiffReport, NodeChange, ParamChange, StatePreview, TextDiff, preview_lines,
};
use weir_model::diff::LineTag;

use crate::theme::Theme;

/// Parameters shown per changed node before "… N more".
const PARAMS_SHOWN: usize = 4;
/// Changed lines shown per text diff before "… N more".
const TEXT_LINES_SHOWN: usize = 4;
/// The longest value shown, in characters.
const VALUE_WIDTH: usize = 40;

/// `1 added · 2 changed · edges +1 -0 · 1 job setting`, or `no changes`.
pub fn counts(diff: &JobDiff) -> String {
    if diff.is_empty() {
        return "no changes".into();
    }
    let count = |f: fn(&NodeChange) -> bool| diff.nodes.iter().filter(|c| f(c)).count();
    let mut parts = Vec::new();
    for (n, word) in [
        (count(|c| matches!(c, NodeChange::Added { .. })), "added"),
        (
            count(|c| matches!(c, NodeChange::Removed { .. })),
            "removed",
        ),
        (
            count(|c| matches!(c, NodeChange::Changed { .. })),
            "changed",
        ),
        (
            count(|c| matches!(c, NodeChange::Renamed { .. })),
            "renamed",
        ),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    if let Some(first) = parts.first_mut() {
        *first = format!("nodes: {first}");
    }
    let (ea, er) = (diff.edges_added.len(), diff.edges_removed.len());
    if ea + er > 0 {
        parts.push(format!("edges +{ea} -{er}"));
    }
    match diff.job.len() {
        0 => {}
        1 => parts.push("1 job setting".into()),
        n => parts.push(format!("{n} job settings")),
    }
    if parts.is_empty() {
        // only the file order of nodes or edges moved
        parts.push("reordered in the file".into());
    }
    parts.join(" · ")
}

/// The summary's lines: the sides, the counts, then one line per change.
pub fn lines(report: &JobDiffReport, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![
        Line::from(vec![
            Span::styled("diff        ", theme.muted()),
            Span::raw(format!("{} → {}", report.a.label, report.b.label)),
        ]),
        Line::from(vec![
            Span::styled("changes     ", theme.muted()),
            Span::raw(counts(&report.diff)),
        ]),
    ];
    let d = &report.diff;
    for change in &d.nodes {
        out.extend(node_lines(change, theme));
    }
    for (from, to) in &d.edges_added {
        out.push(Line::styled(format!("+ edge {from} → {to}"), theme.ok()));
    }
    for (from, to) in &d.edges_removed {
        out.push(Line::styled(format!("- edge {from} → {to}"), theme.error()));
    }
    if !d.job.is_empty() {
        out.push(Line::styled("~ job", theme.warning()));
        out.extend(param_lines(&d.job, &[], theme));
    }
    for change in &d.nodes {
        if let NodeChange::Changed { id, texts, .. } | NodeChange::Renamed { to: id, texts, .. } =
            change
        {
            for t in texts {
                out.extend(text_lines(id, t, theme));
            }
        }
    }
    out
}

/// `+ id (Kind)` and, for a changed node, its parameters.
/// What a release does to the running production state, per operator (issue 16): kept
/// lines muted, new ones green, dropped and incompatible ones red; nothing for a first
/// release.
pub fn state_lines(state: Option<&StatePreview>, theme: &Theme) -> Vec<Line<'static>> {
    let Some(p) = state else {
        return Vec::new();
    };
    let mut out = vec![Line::raw("")];
    for l in preview_lines(p) {
        let style = if l.contains("incompatible") || l.contains("dropped") || l.contains("cannot") {
            theme.error()
        } else if l.contains(": new") {
            theme.ok()
        } else if l.starts_with("  ") {
            theme.muted()
        } else {
            theme.accent()
        };
        out.push(Line::styled(l, style));
    }
    out
}

fn node_lines(change: &NodeChange, theme: &Theme) -> Vec<Line<'static>> {
    match change {
        NodeChange::Added { id, kind, .. } => {
            vec![Line::styled(format!("+ {id} ({kind})"), theme.ok())]
        }
        NodeChange::Removed { id, kind, .. } => {
            vec![Line::styled(format!("- {id} ({kind})"), theme.error())]
        }
        NodeChange::Changed {
            id,
            kind,
            params,
            texts,
        } => {
            let mut v = vec![Line::styled(format!("~ {id} ({kind})"), theme.warning())];
            v.extend(param_lines(params, texts, theme));
            v
        }
        NodeChange::Renamed {
            from,
            to,
            kind,
            params,
            texts,
        } => {
            let mut v = vec![Line::styled(
                format!("> {from} → {to} ({kind}, renamed)"),
                theme.accent(),
            )];
            v.extend(param_lines(params, texts, theme));
            v
        }
    }
}

/// `    path: old → new`, at most [`PARAMS_SHOWN`] of them; a text parameter (one of
/// `texts`) says its lines follow.
fn param_lines(params: &[ParamChange], texts: &[TextDiff], theme: &Theme) -> Vec<Line<'static>> {
    let mut v: Vec<Line<'static>> = params
        .iter()
        .take(PARAMS_SHOWN)
        .map(|p| {
            let text = if texts.iter().any(|t| t.path == p.path) {
                format!("    {}: text changed (below)", p.path)
            } else {
                format!(
                    "    {}: {} → {}",
                    p.path,
                    show(p.old.as_ref()),
                    show(p.new.as_ref())
                )
            };
            Line::raw(text)
        })
        .collect();
    if params.len() > PARAMS_SHOWN {
        v.push(Line::styled(
            format!("    … {} more", params.len() - PARAMS_SHOWN),
            theme.muted(),
        ));
    }
    v
}

/// `~ pv.query`, then its first changed lines signed `-`/`+`.
fn text_lines(id: &str, t: &TextDiff, theme: &Theme) -> Vec<Line<'static>> {
    let mut v = vec![Line::styled(format!("~ {id}.{}", t.path), theme.warning())];
    let changed: Vec<_> = t.lines.iter().filter(|l| l.tag != LineTag::Equal).collect();
    for l in changed.iter().take(TEXT_LINES_SHOWN) {
        let (sign, style): (&str, Style) = match l.tag {
            LineTag::Delete => ("-", theme.error()),
            _ => ("+", theme.ok()),
        };
        v.push(Line::styled(
            format!("  {sign} {}", l.text.trim_end()),
            style,
        ));
    }
    if changed.len() > TEXT_LINES_SHOWN {
        v.push(Line::styled(
            format!(
                "  … {} more changed lines",
                changed.len() - TEXT_LINES_SHOWN
            ),
            theme.muted(),
        ));
    }
    v
}

/// A value on one line: `absent`, numbers and booleans bare, strings quoted, else JSON;
/// cut at [`VALUE_WIDTH`].
fn show(value: Option<&Value>) -> String {
    let Some(v) = value else {
        return "absent".into();
    };
    let full = v.to_string();
    if full.chars().count() <= VALUE_WIDTH {
        full
    } else {
        let cut: String = full.chars().take(VALUE_WIDTH - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_app::jobs::Side;
    use weir_model::diff::diff_texts;

    const A: &str = r##"Job(
    version: 1,
    name: "pv",
    config: (parallelism: 2),
    nodes: [
        KafkaSource(id: "clicks", datasource: "k", topic: "clicks"),
        Sql(id: "pv", query: "SELECT url\nFROM clicks"),
        PrintSink(id: "out"),
    ],
    edges: [("clicks", "pv"), ("pv", "out")],
)"##;

    const B: &str = r##"Job(
    version: 1,
    name: "pv",
    config: (parallelism: 4),
    nodes: [
        KafkaSource(id: "clicks", datasource: "k", topic: "clicks"),
        Sql(id: "pv", query: "SELECT url, COUNT(*) AS n\nFROM clicks\nGROUP BY url"),
        PrintSink(id: "out"),
        PrintSink(id: "debug"),
    ],
    edges: [("clicks", "pv"), ("pv", "out"), ("pv", "debug")],
)"##;

    fn report(a: &str, b: &str) -> JobDiffReport {
        JobDiffReport {
            job: "shop/pv".into(),
            a: Side {
                label: "live version 1 (aaaaaaaaaaaa)".into(),
                hash: "a".repeat(64),
            },
            b: Side {
                label: "version 2 (bbbbbbbbbbbb)".into(),
                hash: "b".repeat(64),
            },
            diff: diff_texts(a, b).unwrap(),
            new_job: None,
        }
    }

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn a_summary_names_every_kind_of_change() {
        let r = report(A, B);
        let theme = Theme::default();
        let lines = texts(&lines(&r, &theme));
        assert_eq!(
            lines[0],
            "diff        live version 1 (aaaaaaaaaaaa) → version 2 (bbbbbbbbbbbb)"
        );
        assert_eq!(
            lines[1],
            "changes     nodes: 1 added · 1 changed · edges +1 -0 · 1 job setting"
        );
        let all = lines.join("\n");
        assert!(all.contains("+ debug (PrintSink)"), "{all}");
        assert!(all.contains("~ pv (Sql)"), "{all}");
        assert!(all.contains("    query: text changed (below)"), "{all}");
        assert!(all.contains("+ edge pv → debug"), "{all}");
        assert!(all.contains("    config.parallelism: 2 → 4"), "{all}");
        assert!(all.contains("~ pv.query"), "{all}");
        assert!(all.contains("  - SELECT url"), "{all}");
        assert!(all.contains("  + SELECT url, COUNT(*) AS n"), "{all}");
        assert!(all.contains("  + GROUP BY url"), "{all}");
    }

    #[test]
    fn no_changes_reads_so() {
        let r = report(A, A);
        assert_eq!(counts(&r.diff), "no changes");
        let lines = texts(&lines(&r, &Theme::default()));
        assert_eq!(lines.len(), 2);
        assert_eq!(
            show(Some(&Value::String("x".repeat(50)))).chars().count(),
            40
        );
        assert_eq!(show(None), "absent");
    }
}
