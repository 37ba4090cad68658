//! Drawing the `:instances` list and its detail pane: one row per instance (id, job, env,
//! version, state in colour, uptime, in/out rates, lag, a sparkline of the rate in over
//! the last minutes, firing alerts; a narrow pane keeps id, job, state and alerts), every time relative
//! to the screen's `now_ms`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use weir_app::instances::{DesiredState, InstanceRow, InstanceState, Trend, version_label};

use super::clock::{ago, compact, epoch_ms, span, sparkline};
use crate::screens::gov::field_line;
use crate::screens::gov::listing::{Col, draw_styled_columns};
use crate::theme::Theme;

/// From this list width on, every column is shown.
pub const WIDE: u16 = 100;

/// Columns of the rate-in sparkline.
const SPARK: usize = 12;

/// How a state reads in colour: running green, on its way yellow, stopped muted, failed red.
pub fn state_style(theme: &Theme, state: InstanceState) -> Style {
    match state {
        InstanceState::Running => theme.ok(),
        InstanceState::Created | InstanceState::Starting | InstanceState::Stopping => {
            theme.warning()
        }
        InstanceState::Stopped => theme.muted(),
        InstanceState::Failed => theme.error(),
    }
}

/// `3m` for a running instance (since it last reached running), else `-`.
pub fn uptime(row: &InstanceRow, now_ms: i64) -> String {
    match row.instance.state {
        InstanceState::Running => ago(row.instance.started_at.as_deref(), now_ms),
        _ => "-".into(),
    }
}

/// The version column, short: `v3`, or `file 3f9a1c` for a working file.
pub fn version(row: &InstanceRow) -> String {
    let v = version_label(&row.instance);
    match v.strip_prefix("file ") {
        Some(h) => format!("file {}", h.get(..6).unwrap_or(h)),
        None => v,
    }
}

/// `values` squeezed into at most `width` buckets (the largest of each), oldest first.
pub fn squeeze(values: &[u64], width: usize) -> Vec<u64> {
    if values.len() <= width || width == 0 {
        return values.to_vec();
    }
    let per = values.len().div_ceil(width);
    values
        .chunks(per)
        .map(|c| c.iter().copied().max().unwrap_or(0))
        .collect()
}

/// The rate in over the trend's minutes as bars.
pub fn trend_bars(trend: &Trend, width: usize) -> String {
    sparkline(&squeeze(&Trend::sparkline(&trend.rate_in), width), width)
}

/// The figure cells: in/s, out/s, lag (`-` without figures).
fn figures(row: &InstanceRow) -> [String; 3] {
    match &row.figures {
        Some(f) => [
            compact(f.rate_in()),
            compact(f.rate_out()),
            f.lag().map_or("-".into(), |l| compact(l as f64)),
        ],
        None => ["-".into(), "-".into(), "-".into()],
    }
}

/// Columns of a wide list; id, job, state and alerts stay when it narrows, the trend,
/// version and env go first.
const WIDE_COLUMNS: [Col; 11] = [
    Col::key("ID", 4),
    Col::text("JOB", 16),
    Col::optional("ENV", 4, 5),
    Col::optional("VERSION", 11, 6),
    Col::key("STATE", 8),
    Col::optional("UP", 4, 2),
    Col::optional("IN/S", 6, 1),
    Col::optional("OUT/S", 6, 4),
    Col::optional("LAG", 6, 3),
    Col::optional("TREND", SPARK as u16, 7),
    Col::key("ALERTS", 6),
];

/// Columns of a narrow list: id, job, state and alerts stay; the figures go, the output
/// rate first.
const NARROW_COLUMNS: [Col; 8] = [
    Col::key("ID", 4),
    Col::text("JOB", 10),
    Col::key("STATE", 8),
    Col::optional("UP", 4, 2),
    Col::optional("IN/S", 5, 1),
    Col::optional("OUT/S", 5, 4),
    Col::optional("LAG", 5, 3),
    Col::key("⚠", 3),
];

/// Draw `rows` with `selected` highlighted (reversed while focused), kept in view.
pub fn draw_rows(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    rows: &[&InstanceRow],
    selection: (usize, bool),
    now_ms: i64,
) {
    let wide = area.width >= WIDE;
    let body: Vec<Vec<Span<'static>>> = rows
        .iter()
        .map(|r| {
            let [rate_in, rout, lag] = figures(r);
            let state = r.instance.state;
            let alerts = match r.firing {
                0 => Span::styled("-", theme.muted()),
                n => Span::styled(format!("⚠{n}"), theme.error()),
            };
            let mut cells = vec![
                Span::raw(format!("#{}", r.instance.id)),
                Span::raw(r.instance.job.clone()),
            ];
            if wide {
                cells.push(Span::raw(r.instance.env.clone()));
                cells.push(Span::raw(version(r)));
            }
            cells.push(Span::styled(state.as_str(), state_style(theme, state)));
            cells.push(Span::raw(uptime(r, now_ms)));
            cells.extend([rate_in, rout, lag].map(Span::raw));
            if wide {
                cells.push(Span::styled(trend_bars(&r.trend, SPARK), theme.accent()));
            }
            cells.push(alerts);
            cells
        })
        .collect();
    let cols: &[Col] = if wide { &WIDE_COLUMNS } else { &NARROW_COLUMNS };
    draw_styled_columns(frame, area, theme, cols, body, selection, Line::raw(""));
}

/// The detail pane's lines for the selected instance.
pub fn detail_lines(theme: &Theme, r: &InstanceRow, now_ms: i64) -> Vec<Line<'static>> {
    let i = &r.instance;
    let mut state = vec![Span::styled(i.state.as_str(), state_style(theme, i.state))];
    if i.state == InstanceState::Running {
        state.push(Span::raw(format!(" for {}", uptime(r, now_ms))));
    }
    if i.desired == DesiredState::Stopped && i.state.is_active() {
        state.push(Span::styled(" (stop asked)", theme.muted()));
    }
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("#{} ", i.id), theme.accent()),
            Span::raw(format!("{} · {} · {}", i.job, i.env, version_label(i))),
        ]),
        Line::from(
            [
                vec![Span::styled(format!("{:<12}", "state"), theme.muted())],
                state,
            ]
            .concat(),
        ),
        field_line(
            theme,
            "worker",
            match (&i.worker, &i.heartbeat_at) {
                (Some(w), Some(hb)) => {
                    format!("{w} (heartbeat {} ago)", ago(Some(hb.as_str()), now_ms))
                }
                (Some(w), None) => w.clone(),
                (None, _) => "none yet (s starts the local one with an instance)".into(),
            },
        ),
        field_line(
            theme,
            "resources",
            format!("{} tasks · {} MiB", i.parallelism, i.memory_mib),
        ),
    ];
    if let Some(f) = &r.figures {
        let age = span(((now_ms - f.at_ms).max(0)) / 1_000);
        lines.push(field_line(
            theme,
            "records",
            format!(
                "{} in · {} out · {} late · {} errors (as of {age} ago)",
                f.records_in(),
                f.records_out(),
                f.late(),
                f.errors()
            ),
        ));
        if let Some(d) = f.watermark_delay_ms() {
            lines.push(field_line(
                theme,
                "watermark",
                format!("{} behind", span(d / 1_000)),
            ));
        }
    }
    if r.firing > 0 {
        lines.push(Line::styled(
            format!("⚠ {} firing alert(s): :alerts lists them", r.firing),
            theme.error(),
        ));
    }
    if let Some(e) = &i.error {
        lines.push(Line::styled(format!("error: {e}"), theme.error()));
    }
    if let (Some(at), InstanceState::Stopped | InstanceState::Failed) = (&i.stopped_at, i.state) {
        let when = epoch_ms(at).map_or(at.clone(), |_| {
            format!("{} ago", ago(Some(at.as_str()), now_ms))
        });
        lines.push(field_line(theme, "ended", when));
    }
    lines
}

/// Draw the detail pane's `lines` wrapped into `area`.
pub fn draw_lines(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_trends_are_squeezed_into_their_column() {
        assert_eq!(squeeze(&[1, 2, 3], 5), [1, 2, 3]);
        assert_eq!(squeeze(&[1, 5, 2, 0, 3, 3], 3), [5, 2, 3]);
        assert_eq!(squeeze(&(0..300).collect::<Vec<u64>>(), 12).len(), 12);
    }
}
