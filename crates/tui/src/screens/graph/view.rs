//! Drawing the graph editor: the canvas (the `weir graph` drawing, scrolled to keep the
//! selection in view, the selection highlighted) and a panel with the selection, the
//! job's problems and the keys — on the right when the pane is wide, below otherwise.

use std::collections::HashSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::select::{self, Selection};
use super::{GraphScreen, Mode};
use crate::graph::layout::fit;
use crate::graph::render;
use crate::jobfile::fields;
use crate::jobfile::syntax::{self, Kind, LineIndex};
use crate::jobfile::{Diagnostic, Severity};
use crate::theme::Theme;

/// Pane width from which the panel sits right of the canvas.
const SIDE_FROM: u16 = 96;
const SIDE_WIDTH: u16 = 42;

/// For each diagnostic of the canonical job text, the node whose text it points into.
pub fn diagnostic_nodes(text: &str, diags: &[Diagnostic]) -> Vec<Option<usize>> {
    let index = LineIndex::new(text);
    let spans: Vec<(usize, usize)> = syntax::parse(text)
        .ok()
        .and_then(
            |doc| match doc.value.field("nodes").map(|f| &f.value.kind) {
                Some(Kind::List { items, .. }) => {
                    Some(items.iter().map(|v| (v.span.start, v.span.end)).collect())
                }
                _ => None,
            },
        )
        .unwrap_or_default();
    diags
        .iter()
        .map(|d| {
            let off = index.offset(d.line, d.column);
            spans.iter().position(|(a, b)| *a <= off && off < *b)
        })
        .collect()
}

fn diag_style(theme: &Theme, d: &Diagnostic) -> Style {
    match d.severity {
        Severity::Error => theme.error(),
        Severity::Warning => theme.warning(),
    }
}

pub fn render(s: &mut GraphScreen, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
    let title = if s.job.name.is_empty() {
        " graph ".to_string()
    } else {
        format!(" {} ", s.job.name)
    };
    let block = theme.pane(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (canvas, panel) = if inner.width >= SIDE_FROM {
        let [c, p] =
            Layout::horizontal([Constraint::Min(20), Constraint::Length(SIDE_WIDTH)]).areas(inner);
        (c, p)
    } else {
        let problems = s.diagnostics.len().min(3) as u16;
        let h = (3 + problems).min(inner.height / 2);
        let [c, p] = Layout::vertical([Constraint::Min(1), Constraint::Length(h)]).areas(inner);
        (c, p)
    };
    if let Mode::Problems { top } = s.mode {
        problems_list(s, frame, canvas, theme, top);
    } else {
        draw_canvas(s, frame, canvas, theme);
    }
    draw_panel(s, frame, panel, theme, inner.width >= SIDE_FROM);
    if let Mode::Add(p) = &s.mode {
        p.render(frame, area, theme);
    }
}

fn draw_canvas(s: &mut GraphScreen, frame: &mut Frame, area: Rect, theme: &Theme) {
    if s.job.nodes.is_empty() {
        let lines = vec![
            Line::raw(""),
            Line::styled("  an empty job", theme.muted()),
            Line::from(vec![
                Span::raw("  press "),
                Span::styled("a", theme.accent()),
                Span::raw(" to add an operator, "),
                Span::styled("g", theme.accent()),
                Span::raw(" for the job config"),
            ]),
        ];
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    let (w, h) = (area.width as usize, area.height as usize);
    if let Some((x0, y0, x1, y1)) = select::bounds(&s.job, &s.layout, s.sel) {
        s.scroll.0 = select::scroll_axis(s.scroll.0, w, x0, x1, s.layout.width);
        s.scroll.1 = select::scroll_axis(s.scroll.1, h, y0, y1, s.layout.height);
    } else {
        s.scroll.0 = s.scroll.0.min(s.layout.width.saturating_sub(w));
        s.scroll.1 = s.scroll.1.min(s.layout.height.saturating_sub(h));
    }
    let rows = render::render_lines(&s.layout, render::Charset::Unicode);
    let edge_cells: HashSet<(usize, usize)> = match s.sel {
        Selection::Edge(k) => select::edge_path(&s.job, &s.layout, k)
            .map(select::path_cells)
            .unwrap_or_default()
            .into_iter()
            .collect(),
        _ => HashSet::new(),
    };
    let sel_box = match s.sel {
        Selection::Node(i) => s.layout.boxes.get(i),
        _ => None,
    };
    let from_box = match s.mode {
        Mode::Connect { from } => s.layout.boxes.get(from),
        _ => None,
    };
    let bad: HashSet<usize> = s
        .diag_nodes
        .iter()
        .zip(&s.diagnostics)
        .filter(|(_, d)| d.is_error())
        .filter_map(|(n, _)| *n)
        .collect();
    let edge_style = theme.accent().fg(theme.accent);
    let style_at = |x: usize, y: usize| -> Style {
        if let Some(b) = sel_box
            && b.contains(x, y)
        {
            let border = x == b.x || y == b.y || x + 1 == b.x + b.w || y + 1 == b.y + b.h;
            return if border {
                theme.accent()
            } else {
                theme.selected()
            };
        }
        if let Some(b) = from_box
            && b.contains(x, y)
        {
            return theme.warning().add_modifier(Modifier::BOLD);
        }
        if edge_cells.contains(&(x, y)) {
            return edge_style;
        }
        if let Some(b) = s.layout.box_at(x, y)
            && bad.contains(&b.node)
        {
            let border = x == b.x || y == b.y || x + 1 == b.x + b.w || y + 1 == b.y + b.h;
            if border {
                return theme.error();
            }
        }
        Style::default()
    };
    let (ox, oy) = s.scroll;
    let lines: Vec<Line> = (oy..(oy + h).min(rows.len()))
        .map(|y| {
            let chars: Vec<char> = rows[y].chars().collect();
            let mut spans: Vec<Span> = Vec::new();
            let mut run = String::new();
            let mut run_style = Style::default();
            for x in ox..(ox + w).min(s.layout.width) {
                let c = chars.get(x).copied().unwrap_or(' ');
                let st = style_at(x, y);
                if st != run_style && !run.is_empty() {
                    spans.push(Span::styled(std::mem::take(&mut run), run_style));
                }
                run_style = st;
                run.push(c);
            }
            if !run.is_empty() {
                spans.push(Span::styled(run, run_style));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
    // marks where more of the drawing is out of view
    let more_right = ox + w < s.layout.width;
    let more_down = oy + h < s.layout.height;
    if (ox > 0 || oy > 0 || more_right || more_down) && area.width > 12 {
        let mark = format!(
            "{}{}{}{}",
            if ox > 0 { "◂" } else { "" },
            if oy > 0 { "▴" } else { "" },
            if more_down { "▾" } else { "" },
            if more_right { "▸" } else { "" }
        );
        let mw = mark.chars().count() as u16;
        let r = Rect {
            x: area.right().saturating_sub(mw),
            y: area.y,
            width: mw,
            height: 1,
        };
        frame.render_widget(Paragraph::new(Span::styled(mark, theme.muted())), r);
    }
}

fn problems_list(s: &GraphScreen, frame: &mut Frame, area: Rect, theme: &Theme, top: usize) {
    let mut lines = vec![Line::styled(
        format!("{} · ↑↓ scroll · Esc closes", s.summary()),
        if s.errors() == 0 {
            theme.ok()
        } else {
            theme.error()
        },
    )];
    for (k, d) in s.diagnostics.iter().enumerate().skip(top) {
        let node = s
            .diag_nodes
            .get(k)
            .copied()
            .flatten()
            .and_then(|i| s.job.nodes.get(i))
            .map_or(String::new(), |n| format!("[{}] ", n.id()));
        lines.push(Line::from(vec![
            Span::styled(format!("{:>4}:{:<3} ", d.line, d.column), theme.muted()),
            Span::styled(format!("{node}{}", d.message), diag_style(theme, d)),
        ]));
        if let Some(h) = &d.hint {
            lines.push(Line::styled(format!("          hint: {h}"), theme.muted()));
        }
    }
    if s.diagnostics.is_empty() {
        lines.push(Line::styled("nothing to fix", theme.muted()));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_panel(s: &GraphScreen, frame: &mut Frame, area: Rect, theme: &Theme, side: bool) {
    let area = if side {
        let block = Block::default()
            .borders(Borders::LEFT)
            .border_style(theme.border(false));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        Rect {
            x: inner.x + 1,
            width: inner.width.saturating_sub(1),
            ..inner
        }
    } else {
        area
    };
    let mut lines: Vec<Line> = Vec::new();
    // someone else holds the edit lock: say so first, with the key that takes it over
    lines.extend(s.side.read_only_line(theme));
    let node_line = |i: usize| -> Vec<Span<'static>> {
        let n = &s.job.nodes[i];
        let ins = s.job.inputs(n.id()).count();
        let outs = s.job.outputs(n.id()).count();
        vec![
            Span::styled(format!("▸ {}", n.id()), theme.accent()),
            Span::styled(
                format!(" {} · in {ins} · out {outs}", n.kind()),
                theme.muted(),
            ),
        ]
    };
    match (&s.mode, s.sel) {
        (Mode::Connect { from }, sel) => {
            let to = match sel {
                Selection::Node(j) if j != *from => s.job.nodes[j].id().to_string(),
                _ => "?".into(),
            };
            lines.push(Line::styled(
                format!("connect {} → {to}", s.job.nodes[*from].id()),
                theme.warning().add_modifier(Modifier::BOLD),
            ));
            lines.push(Line::styled(
                "arrows pick · Enter connects · Esc cancels",
                theme.muted(),
            ));
        }
        (_, Selection::Node(i)) => {
            lines.push(Line::from(node_line(i)));
            if side {
                // the node's parameters, as the form shows them
                let w = area.width as usize;
                for (k, v) in fields::operator_values(&s.job.nodes[i])
                    .iter()
                    .skip(1)
                    .take(10)
                {
                    lines.push(Line::styled(fit(&format!("  {k}: {v}"), w), theme.muted()));
                }
            }
        }
        (_, Selection::Edge(k)) => {
            let (a, b) = &s.job.edges[k];
            let mut spans = vec![Span::styled(format!("edge {a} → {b}"), theme.accent())];
            spans.push(Span::styled(
                format!(" ({}/{})", k + 1, s.job.edges.len()),
                theme.muted(),
            ));
            if select::edge_path(&s.job, &s.layout, k).is_none() {
                spans.push(Span::styled(" not drawn", theme.warning()));
            }
            lines.push(Line::from(spans));
        }
        (_, Selection::None) => {
            lines.push(Line::styled("nothing selected", theme.muted()));
        }
    }
    if side {
        lines.push(Line::raw(""));
    }
    lines.push(if s.errors() > 0 {
        Line::styled(format!("✗ {}", s.summary()), theme.error())
    } else if s.checking() {
        // the engine's planning runs in the background (`validation.rs`)
        Line::styled(format!("… {}", s.summary()), theme.muted())
    } else {
        Line::styled(format!("✓ {}", s.summary()), theme.ok())
    });
    // problems of the selected node first
    let selected = match s.sel {
        Selection::Node(i) => Some(i),
        _ => None,
    };
    let mut order: Vec<usize> = (0..s.diagnostics.len()).collect();
    order
        .sort_by_key(|&k| s.diag_nodes.get(k).copied().flatten() != selected || selected.is_none());
    let hint_lines = if side { 8 } else { 1 };
    let room = (area.height as usize).saturating_sub(lines.len() + hint_lines);
    for &k in order.iter().take(room) {
        let d = &s.diagnostics[k];
        lines.push(Line::from(vec![
            Span::styled(format!("{}:{} ", d.line, d.column), theme.muted()),
            Span::styled(d.message.clone(), diag_style(theme, d)),
        ]));
    }
    if order.len() > room && room > 0 {
        lines.pop();
        lines.push(Line::styled(
            format!("… {} more: v lists them", order.len() - room + 1),
            theme.muted(),
        ));
    }
    let keys: &[(&str, &str)] = &[
        ("a", "add"),
        ("c", "connect"),
        ("⏎", "edit"),
        ("s", "sql"),
        ("g", "config"),
        ("e", "edges"),
        ("x", "disconnect"),
        ("d", "delete"),
        ("v", "problems"),
        ("C-s", "save"),
    ];
    let pad = (area.height as usize).saturating_sub(lines.len() + hint_lines);
    lines.extend((0..pad).map(|_| Line::raw("")));
    if side {
        for pair in keys.chunks(2) {
            let mut spans = Vec::new();
            for (k, what) in pair {
                spans.push(Span::styled(format!("{k:>3} "), theme.accent()));
                spans.push(Span::styled(format!("{what:<14}"), theme.muted()));
            }
            lines.push(Line::from(spans));
        }
    } else {
        // the keys that fit whole, then `? more`
        lines.push(crate::screens::gov::footer::footer(theme, keys, area.width));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
