//! The per-operator table: OPERATOR, KIND, IN/S, OUT/S, P99, WATERMARK, LATE, ERRORS
//! (errors and dead letters), BACKPRESSURE (the figure, a bar, coloured).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use weir_app::instances::{Figures, InstanceDetail, NodeFigures};

use super::InstanceView;
use super::format;
use super::graph::pressure_style;
use super::panes::section;
use crate::screens::gov::fit;
use crate::theme::Theme;

/// The operators the table lists: the job's, in its order (with the figures of each),
/// else those of the figures.
fn table_rows<'a>(
    v: &'a InstanceView,
    figures: Option<&'a Figures>,
) -> Vec<(String, String, Option<&'a NodeFigures>)> {
    match &v.graph {
        Ok(g) => g
            .nodes()
            .iter()
            .map(|(id, kind)| (id.clone(), kind.clone(), figures.and_then(|f| f.node(id))))
            .collect(),
        Err(_) => figures
            .map(|f| {
                f.nodes
                    .iter()
                    .map(|n| (n.id.clone(), n.kind.clone(), Some(n)))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

pub fn table_height(v: &InstanceView, d: &InstanceDetail) -> u16 {
    let rows = table_rows(v, d.figures()).len();
    let note = usize::from(d.figures().is_none());
    (rows + note + 2).min(u16::MAX as usize) as u16
}

const HEADS: [&str; 9] = [
    "OPERATOR",
    "KIND",
    "IN/S",
    "OUT/S",
    "P99",
    "WATERMARK",
    "LATE",
    "ERRORS",
    "BACKPRESSURE",
];

pub fn draw_table(
    v: &InstanceView,
    d: &InstanceDetail,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    wide: bool,
) {
    let figures = d.figures();
    let title = match figures {
        Some(f) => format!(" operators · {} ", format::clock(f.at_ms)),
        None => " operators ".into(),
    };
    let inner = section(frame, area, theme, title);
    let widths: [usize; 9] = if wide {
        [16, 14, 9, 9, 8, 19, 7, 8, 12]
    } else {
        [9, 9, 6, 6, 6, 9, 5, 6, 12]
    };
    let cell = |text: &str, k: usize, right: bool| -> String {
        let w = widths[k];
        let t = fit(text, w);
        if right {
            format!("{:>w$}", t.trim_end())
        } else {
            t
        }
    };
    let mut lines: Vec<Line<'static>> = Vec::new();
    let head: Vec<String> = HEADS
        .iter()
        .enumerate()
        .map(|(k, h)| cell(h, k, (2..8).contains(&k)))
        .collect();
    lines.push(Line::styled(head.join(" "), theme.muted()));
    for (id, kind, n) in table_rows(v, figures) {
        let mut spans: Vec<Span<'static>> = vec![
            Span::raw(cell(&id, 0, false)),
            Span::raw(" "),
            Span::styled(cell(&kind, 1, false), theme.muted()),
            Span::raw(" "),
        ];
        let Some(n) = n else {
            let dashes: Vec<String> = (2..8).map(|k| cell("-", k, true)).collect();
            spans.push(Span::styled(dashes.join(" "), theme.muted()));
            spans.push(Span::styled(
                format!(" {}", cell("-", 8, false)),
                theme.muted(),
            ));
            lines.push(Line::from(spans));
            continue;
        };
        let wm = watermark(n, wide);
        let p99 = n
            .latency_p99_ms
            .map_or("-".into(), |ms| format::duration_ms(ms.round() as i64));
        let errors = n.errors + n.dead_letters;
        let values = [
            (format::rate(n.rate_in), Style::default()),
            (format::rate(n.rate_out), Style::default()),
            (p99, Style::default()),
            (wm, Style::default()),
            (
                format::count(n.late),
                if n.late > 0 {
                    theme.warning()
                } else {
                    Style::default()
                },
            ),
            (
                format::count(errors),
                if errors > 0 {
                    theme.error()
                } else {
                    Style::default()
                },
            ),
        ];
        for (k, (text, st)) in values.into_iter().enumerate() {
            spans.push(Span::styled(cell(&text, k + 2, true), st));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(
            pressure_cell(n.backpressure),
            pressure_style(theme, n.backpressure),
        ));
        lines.push(Line::from(spans));
    }
    if figures.is_none() {
        lines.push(Line::styled(
            "no figures yet: the worker stores them every second while the instance runs",
            theme.muted(),
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `0.42 ███···`: the figure and a bar of six cells.
fn pressure_cell(bp: f64) -> String {
    let bp = if bp.is_finite() {
        bp.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let full = (bp * 6.0).round() as usize;
    format!("{bp:.2} {}{}", "█".repeat(full), "·".repeat(6 - full))
}

/// The watermark: its delay (`2.1s`), with its time when wide (`12:01:02 (2.1s)`).
fn watermark(n: &NodeFigures, wide: bool) -> String {
    match (n.watermark, n.watermark_delay_ms) {
        (Some(w), Some(d)) if wide => format!("{} ({})", format::clock(w), format::duration_ms(d)),
        (_, Some(d)) => format::duration_ms(d),
        (Some(w), None) => format::clock(w),
        (None, None) => "-".into(),
    }
}
