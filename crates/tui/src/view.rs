//! Drawing the workbench from its state: breadcrumbs, the project tree, the main pane,
//! the status bar and any overlay. Nothing here changes state.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::action::Level;
use super::app::{App, Env, Focus};
use super::screens::Context;

/// Width of the project tree at a given terminal width.
fn tree_width(total: u16) -> u16 {
    (total / 4).clamp(18, 32)
}

pub fn draw(app: &mut App, frame: &mut Frame) {
    let area = frame.area();
    frame.render_widget(Paragraph::new("").style(app.theme.base()), area);
    // a message too long for one line gets a second one rather than being cut
    let status_h = if status_width(app) > area.width as usize && area.height >= 12 {
        2
    } else {
        1
    };
    let [crumbs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(status_h),
    ])
    .areas(area);
    draw_crumbs(app, frame, crumbs);
    let [left, main] = Layout::horizontal([
        Constraint::Length(tree_width(area.width)),
        Constraint::Min(20),
    ])
    .areas(body);
    let open = app.open_job();
    app.tree.render(
        frame,
        left,
        &app.theme,
        app.focus == Focus::Tree && app.overlay.is_none(),
        open.as_deref(),
    );
    let focused = app.focus == Focus::Main;
    let cx = Context {
        project: &app.project,
        theme: &app.theme,
        keymap: &app.keymap,
        store: app.store.as_ref(),
    };
    if let Some(screen) = app.screens.last_mut() {
        screen.render(frame, main, &cx, focused);
    }
    draw_status(app, frame, status);
    if let Some(o) = &mut app.overlay {
        o.render(frame, area, &app.theme, app.env == Env::Prod);
    }
}

fn draw_crumbs(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let mut spans = vec![Span::styled(
        format!(" {} ", app.project.name()),
        theme.accent(),
    )];
    for c in app.screen().crumbs() {
        spans.push(Span::styled("› ", theme.muted()));
        spans.push(Span::raw(format!("{c} ")));
    }
    if app.screen().dirty() {
        spans.push(Span::styled("[+] modified", theme.warning()));
    }
    if app.env == Env::Prod {
        let tag = " PRODUCTION ";
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let pad = (area.width as usize).saturating_sub(used + tag.len());
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::styled(
            tag,
            theme
                .error()
                .add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn status_left(app: &App) -> String {
    // counters of the store: requests waiting for me, my own still pending
    let counters = app.store.as_ref().map_or(String::new(), |s| {
        let c = s.counters();
        format!("inbox {} · mine {} │ ", c.inbox, c.mine)
    });
    format!(
        " {} │ {} │ env {} │ {counters}{} ",
        app.project.name(),
        app.user,
        app.env.name(),
        app.mode()
    )
}

/// Width of the status bar's text on one line.
fn status_width(app: &App) -> usize {
    let msg = app
        .status
        .as_ref()
        .map_or(0, |(_, m)| Span::raw(m.as_str()).width() + 1);
    Span::raw(status_left(app)).width() + msg
}

fn draw_status(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let base = theme.status();
    let left = status_left(app);
    let mut spans = vec![Span::styled(left, base.add_modifier(Modifier::BOLD))];
    if let Some((level, msg)) = &app.status {
        let style = match level {
            Level::Error => base.fg(theme.error),
            Level::Warning => base.fg(theme.warning),
            Level::Ok => base.fg(theme.ok),
            Level::Info => base,
        };
        spans.push(Span::styled(format!(" {msg}"), style));
    } else {
        spans.push(Span::styled(
            " : commands  ? keys  Tab focus  C-q quit",
            base,
        ));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans))
            .style(base)
            .wrap(Wrap { trim: false }),
        area,
    );
}
