//! Drawing the instance view: the header, the live graph (full drawing, or one line when
//! it does not fit), the per-operator table, the sparklines, the alerts and log lines,
//! the savepoints (`savepoints.rs`: a section under the log when wide, one line when
//! narrow), the key hints, and the stop question over it all. Side by side from 140
//! columns and 30 rows, stacked below that.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Sparkline};
use weir_app::instances::{
    Alert, Figures, InstanceDetail, InstanceState, LogLevel, LogLine, Trend,
};

use super::InstanceView;
use super::format;
use super::savepoints;
use super::table::{draw_table, table_height};
use crate::screens::gov::centered;
use crate::screens::gov::footer::footer;
use crate::screens::gov::scroll::{DetailScroll, scrolled};
use crate::theme::Theme;

/// From this pane size on, the graph sits left of the table.
const WIDE_FROM: (u16, u16) = (140, 30);

pub fn render(v: &mut InstanceView, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
    let mut title = format!(" instance #{} ", v.id);
    if v.unreachable.is_some() && v.detail.is_some() {
        title.push_str("· store unreachable ");
    }
    let block = theme.pane(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 2 || inner.height < 1 {
        return;
    }
    let Some(detail) = v.detail.as_ref() else {
        let text = match &v.unreachable {
            Some(why) => Line::styled(
                format!("cannot read instance #{}: {why}", v.id),
                theme.error(),
            ),
            None => Line::styled(format!("reading instance #{}…", v.id), theme.muted()),
        };
        frame.render_widget(Paragraph::new(text), inner);
        return;
    };
    let head = header(v, detail, theme, inner.width as usize);
    let [top, body, keys] = Layout::vertical([
        Constraint::Length(head.len() as u16),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(head), top);
    frame.render_widget(Paragraph::new(key_hints(detail, theme, keys.width)), keys);
    let figures = detail.figures();
    let wide = inner.width >= WIDE_FROM.0 && inner.height >= WIDE_FROM.1;
    let table_h = table_height(v, detail);
    if wide {
        let graph_w = match &v.graph {
            Ok(g) => (g.size().0 as u16)
                .saturating_add(2)
                .min(inner.width * 2 / 5)
                .max(30),
            Err(_) => 40,
        };
        let [left, right] =
            Layout::horizontal([Constraint::Length(graph_w), Constraint::Min(20)]).areas(body);
        draw_graph(v, frame, left, theme, figures);
        let [table, sparks, log, saved] = Layout::vertical([
            Constraint::Length(table_h),
            Constraint::Length(9),
            Constraint::Min(3),
            Constraint::Length(savepoints::section_height(v)),
        ])
        .areas(right);
        draw_table(v, detail, frame, table, theme, true);
        draw_sparks(detail, frame, sparks, theme, true);
        draw_log(detail, &mut v.log_scroll, frame, log, theme);
        savepoints::draw_section(v, frame, saved, theme);
    } else {
        // the full drawing when it fits in a third of the height, else one line
        let full = match &v.graph {
            Ok(g) => {
                let (w, h) = g.size();
                w <= body.width as usize && h < body.height as usize / 3
            }
            Err(_) => false,
        };
        let graph_h = match &v.graph {
            Ok(g) if full => g.size().1 as u16 + 1,
            _ => 1,
        };
        let [graph, table, sparks, saved, log] = Layout::vertical([
            Constraint::Length(graph_h),
            Constraint::Length(table_h),
            Constraint::Length(3),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(body);
        frame.render_widget(Paragraph::new(savepoints::summary(v, theme)), saved);
        if full {
            draw_graph(v, frame, graph, theme, figures);
        } else {
            let line = match &v.graph {
                Ok(g) => {
                    let mut spans = vec![Span::styled("graph  ", theme.muted())];
                    spans.extend(g.chain(figures, theme).spans);
                    Line::from(spans)
                }
                Err(why) => Line::styled(format!("graph  {why}"), theme.muted()),
            };
            frame.render_widget(Paragraph::new(line), graph);
        }
        draw_table(v, detail, frame, table, theme, false);
        draw_sparks(detail, frame, sparks, theme, false);
        draw_log(detail, &mut v.log_scroll, frame, log, theme);
    }
    if v.confirm {
        draw_confirm(detail, frame, area, theme);
    }
}

/// A section: a rule with its title on the top row, the content below.
pub(super) fn section(frame: &mut Frame, area: Rect, theme: &Theme, title: String) -> Rect {
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border(false))
        .title(Span::styled(title, theme.muted()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

fn state_style(theme: &Theme, state: &str) -> Style {
    match state {
        "running" => theme.ok().add_modifier(Modifier::BOLD),
        "failed" => theme.error().add_modifier(Modifier::BOLD),
        "stopped" => theme.muted(),
        _ => theme.warning().add_modifier(Modifier::BOLD),
    }
}

fn firing(alerts: &[Alert]) -> Vec<&Alert> {
    alerts
        .iter()
        .filter(|a| a.state.as_str() == "firing")
        .collect()
}

/// The header: what runs where, packed into as many lines as the width needs; then the
/// failure and an unreachable store.
fn header(v: &InstanceView, d: &InstanceDetail, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let inst = &d.instance;
    let state = InstanceView::shown_state(inst);
    let n = firing(&d.alerts).len();
    let mut parts: Vec<Vec<Span<'static>>> = vec![
        vec![Span::styled(
            format!("#{} {}", inst.id, inst.job),
            theme.accent(),
        )],
        vec![Span::raw(inst.env.clone())],
        vec![Span::raw(weir_app::instances::version_label(inst))],
        vec![Span::styled(state.to_string(), state_style(theme, state))],
        vec![Span::raw(match &inst.worker {
            Some(w) => format!("worker {w}"),
            None => "no worker".into(),
        })],
    ];
    let up = format::uptime(inst, v.now_ms);
    if up != "-" {
        parts.push(vec![Span::raw(up)]);
    }
    parts.push(vec![Span::raw(format::start(&inst.start))]);
    let checkpoints = d.figures().and_then(|f| f.checkpoints.clone());
    if let Some(c) = &checkpoints {
        parts.push(vec![Span::raw(format::checkpoint(c))]);
    }
    parts.push(match n {
        0 => vec![Span::styled("no alert firing", theme.muted())],
        1 => vec![Span::styled("▲ 1 alert firing", theme.error())],
        n => vec![Span::styled(format!("▲ {n} alerts firing"), theme.error())],
    });
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    for part in parts {
        let w: usize = part.iter().map(|s| s.content.chars().count()).sum();
        if !cur.is_empty() && used + 3 + w > width {
            lines.push(Line::from(std::mem::take(&mut cur)));
            used = 0;
        }
        if !cur.is_empty() {
            cur.push(Span::styled(" · ", theme.muted()));
            used += 3;
        }
        used += w;
        cur.extend(part);
    }
    if !cur.is_empty() {
        lines.push(Line::from(cur));
    }
    if let Some(c) = checkpoints.filter(|c| c.failed > 0) {
        let why = c
            .last_failure
            .as_deref()
            .unwrap_or("no reason was recorded");
        lines.push(Line::styled(
            format!("{} checkpoint(s) failed; last: {why}", c.failed),
            theme.warning(),
        ));
    }
    if inst.state == InstanceState::Failed {
        let why = inst.error.as_deref().unwrap_or("no error was recorded");
        lines.push(Line::styled(format!("failed: {why}"), theme.error()));
    }
    if let Some(why) = &v.unreachable {
        lines.push(Line::styled(
            format!(
                "store unreachable: {why}; showing what was read at {}",
                format::clock(v.now_ms)
            ),
            theme.warning(),
        ));
    }
    lines
}

/// The keys that apply to the instance's state, as many as fit in `width`.
fn key_hints(d: &InstanceDetail, theme: &Theme, width: u16) -> Line<'static> {
    let mut keys = Vec::new();
    if d.instance.state.is_active() {
        keys.push(("x", "stop"));
        if d.instance.state == InstanceState::Running {
            keys.push(("S", "savepoint"));
        }
    } else {
        keys.push(("r", "restart"));
    }
    keys.extend([("o", "open job"), ("a", "alerts"), ("Esc", "back")]);
    footer(theme, &keys, width)
}

fn draw_graph(
    v: &InstanceView,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    figures: Option<&Figures>,
) {
    let inner = section(frame, area, theme, " graph ".into());
    let (w, h) = (inner.width as usize, inner.height as usize);
    match &v.graph {
        Ok(g) => {
            frame.render_widget(Paragraph::new(g.lines(figures, theme, w, h)), inner);
            let (gw, gh) = g.size();
            let mark = format!(
                "{}{}",
                if gh > h { "▾" } else { "" },
                if gw > w { "▸" } else { "" }
            );
            if !mark.is_empty() && inner.width > 12 && inner.height > 0 {
                let mw = mark.chars().count() as u16;
                let r = Rect {
                    x: inner.right().saturating_sub(mw),
                    y: inner.y,
                    width: mw,
                    height: 1,
                };
                frame.render_widget(Paragraph::new(Span::styled(mark, theme.muted())), r);
            }
        }
        Err(why) => {
            frame.render_widget(
                Paragraph::new(Line::styled(why.clone(), theme.muted()))
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                inner,
            );
        }
    }
}

fn draw_sparks(d: &InstanceDetail, frame: &mut Frame, area: Rect, theme: &Theme, wide: bool) {
    let span = match (d.history.first(), d.history.last()) {
        (Some(a), Some(b)) if b.at_ms > a.at_ms => {
            format!(" trend · last {} ", format::duration_ms(b.at_ms - a.at_ms))
        }
        _ => " trend ".into(),
    };
    let inner = section(frame, area, theme, span);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let Some(now) = d.figures() else {
        frame.render_widget(
            Paragraph::new(Line::styled("no history yet", theme.muted())),
            inner,
        );
        return;
    };
    let t = Trend::of(&d.history);
    let whole = |v: &[i64]| -> Vec<u64> { v.iter().map(|x| (*x).max(0) as u64).collect() };
    let series: [(&str, Vec<u64>, String); 4] = [
        (
            "in",
            Trend::sparkline(&t.rate_in),
            format::rate(now.rate_in()),
        ),
        (
            "out",
            Trend::sparkline(&t.rate_out),
            format::rate(now.rate_out()),
        ),
        (
            "lag",
            whole(&t.lag),
            now.lag()
                .map_or("-".into(), |l| format::count(l.max(0) as u64)),
        ),
        (
            "wm delay",
            whole(&t.watermark_delay_ms),
            now.watermark_delay_ms()
                .map_or("-".into(), format::duration_ms),
        ),
    ];
    // wide: one series per two rows; narrow: two columns of one row each
    let cells: Vec<Rect> = if wide {
        Layout::vertical([Constraint::Length(2); 4])
            .split(inner)
            .iter()
            .copied()
            .collect()
    } else {
        let [a, b] = Layout::vertical([Constraint::Length(1); 2]).areas(inner);
        let mut v = Vec::new();
        for row in [a, b] {
            let [l, r] = Layout::horizontal([Constraint::Ratio(1, 2); 2]).areas(row);
            v.extend([l, r]);
        }
        v
    };
    for ((name, data, value), cell) in series.iter().zip(cells) {
        let label_w: u16 = if wide { 18 } else { 16 };
        let [label, chart] =
            Layout::horizontal([Constraint::Length(label_w), Constraint::Min(0)]).areas(cell);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!("{name:<9}"), theme.muted()),
                Span::raw(value.clone()),
            ])),
            label,
        );
        let w = chart.width.saturating_sub(1) as usize;
        let last: Vec<u64> = data[data.len().saturating_sub(w)..].to_vec();
        frame.render_widget(
            Sparkline::default()
                .data(last)
                .style(Style::default().fg(theme.accent)),
            Rect {
                width: chart.width.saturating_sub(1),
                ..chart
            },
        );
    }
}

fn level_style(theme: &Theme, level: LogLevel) -> Style {
    match level {
        LogLevel::Error => theme.error(),
        LogLevel::Warn => theme.warning(),
        LogLevel::Info => Style::default(),
    }
}

/// The log lines to show: warnings and errors first, then the rest, newest first in each.
fn ordered_log(log: &[LogLine]) -> Vec<&LogLine> {
    let mut out: Vec<&LogLine> = log
        .iter()
        .rev()
        .filter(|l| l.level != LogLevel::Info)
        .collect();
    out.extend(log.iter().rev().filter(|l| l.level == LogLevel::Info));
    out
}

/// The firing alerts, the log lines and the cleared alerts, scrolled (PgDn/PgUp,
/// C-d/C-u) with the position in the section's title when they do not fit.
fn draw_log(
    d: &InstanceDetail,
    scroll: &mut DetailScroll,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) {
    let fire = firing(&d.alerts);
    let title = if fire.is_empty() {
        "log"
    } else {
        "alerts & log"
    };
    let mut lines: Vec<Line<'static>> = Vec::new();
    for a in &fire {
        lines.push(Line::from(vec![
            Span::styled(
                format!("▲ {} ", format::stamp_clock(&a.fired_at)),
                theme.error(),
            ),
            Span::styled(a.rule.clone(), theme.error().add_modifier(Modifier::BOLD)),
            Span::styled(format!(" · {}", a.message), theme.error()),
        ]));
    }
    for l in ordered_log(&d.log) {
        let first = l.message.lines().next().unwrap_or("");
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", format::stamp_clock(&l.at)), theme.muted()),
            Span::styled(
                format!("{:<5} ", l.level.as_str().to_uppercase()),
                level_style(theme, l.level),
            ),
            Span::styled(first.to_string(), level_style(theme, l.level)),
        ]));
    }
    for a in d.alerts.iter().filter(|a| a.state.as_str() != "firing") {
        lines.push(Line::styled(
            format!(
                "✓ {} {} · cleared {}",
                format::stamp_clock(&a.fired_at),
                a.rule,
                a.cleared_at
                    .as_deref()
                    .map_or("-".to_string(), format::stamp_clock)
            ),
            theme.muted(),
        ));
    }
    if lines.is_empty() {
        lines.push(Line::styled(
            "no alerts and no log lines yet",
            theme.muted(),
        ));
    }
    let inner = Rect {
        y: area.y.saturating_add(1).min(area.bottom()),
        height: area.height.saturating_sub(1),
        ..area
    };
    let shown = scrolled(
        lines,
        (inner.width, inner.height),
        (scroll, Some(d.instance.id)),
    );
    let title = match scroll.marker() {
        Some(m) => format!(" {title} ·{m}"),
        None => format!(" {title} "),
    };
    section(frame, area, theme, title);
    frame.render_widget(Paragraph::new(shown), inner);
}

fn draw_confirm(d: &InstanceDetail, frame: &mut Frame, area: Rect, theme: &Theme) {
    let r = centered(area, 72.min(area.width.saturating_sub(2)), 6);
    if r.width < 4 || r.height < 3 {
        return;
    }
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.warning())
        .title(Span::styled(" stop instance ", theme.warning()));
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let lines = vec![
        Line::styled(
            format!("stop {}?", InstanceView::describe(&d.instance)),
            theme.warning().add_modifier(Modifier::BOLD),
        ),
        Line::raw("its worker flushes the sinks, then stops it."),
        Line::from(vec![
            Span::styled("y", theme.accent()),
            Span::raw(" stops · any other key keeps it running"),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
        inner,
    );
}
