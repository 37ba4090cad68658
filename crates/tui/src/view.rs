//! Drawing the workbench from its state: breadcrumbs, the project tree (shown, hidden
//! or wide: C-w), the main pane, the status bar (with a spinner and what runs while
//! background work runs, unread notifications, and the last message: cut with
//! `… :messages` when it does not fit, `[+N :messages]` when N earlier ones were
//! replaced before a key was pressed) and any overlay. Nothing here changes the workbench's state; the only writes are the scroll
//! offsets that follow the drawn area (graph canvas, SQL editor, forms, help), which is
//! why drawing takes `&mut`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::action::Level;
use super::screens::Context;
use super::workbench::{Env, Focus, TreeView, Workbench};

/// Width of the project tree at a given terminal width.
fn tree_width(total: u16, view: TreeView) -> u16 {
    match view {
        TreeView::Shown => (total / 4).clamp(18, 32),
        TreeView::Hidden => 0,
        TreeView::Wide => (total / 2).max(18),
    }
}

pub fn draw(app: &mut Workbench, frame: &mut Frame) {
    let area = frame.area();
    frame.render_widget(Paragraph::new("").style(app.theme.base()), area);
    let status_h = status_height(app, area);
    let [crumbs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(status_h),
    ])
    .areas(area);
    draw_crumbs(app, frame, crumbs);
    let [left, main] = Layout::horizontal([
        Constraint::Length(tree_width(area.width, app.tree_view)),
        Constraint::Min(20),
    ])
    .areas(body);
    let open = app.open_job();
    if left.width > 0 {
        app.tree.render(
            frame,
            left,
            &app.theme,
            app.focus == Focus::Tree && app.overlay.is_none(),
            open.as_deref(),
        );
    }
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
    let message = shown_message(app, status.width, status.height);
    draw_status(app, frame, status, message);
    if let Some(o) = &mut app.overlay {
        o.render(frame, area, &app.theme, app.env == Env::Prod);
    }
    // user-supplied text is escaped where screens draw it; this catches any other path
    crate::printable::scrub(frame.buffer_mut());
}

fn draw_crumbs(app: &Workbench, frame: &mut Frame, area: Rect) {
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

fn status_left(app: &Workbench) -> String {
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

/// `│ ✉ 2 ` while notifications arrived that `:notifications` has not shown yet.
fn status_notes(app: &Workbench) -> Option<String> {
    match app.unread_notifications() {
        0 => None,
        n => Some(format!("│ ✉ {n} ")),
    }
}

/// `│ ⚠ 2 alerts ` while alerts fire (drawn in the error colour), from the link's counters.
fn status_alerts(app: &Workbench) -> Option<String> {
    let n = app.store.as_ref()?.counters().alerts;
    match n {
        ..=0 => None,
        1 => Some("│ ⚠ 1 alert ".into()),
        n => Some(format!("│ ⚠ {n} alerts ")),
    }
}

/// The frames of the spinner shown while background work runs.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// `⠋ approving #3… · testing kafka_main (test)…` while background work runs.
fn status_work(app: &Workbench) -> Option<String> {
    let running = app.store.as_ref()?.running();
    if running.is_empty() {
        return None;
    }
    let frame = SPINNER[app.spin % SPINNER.len()];
    let cancel = if app.store.as_ref().is_some_and(|s| s.cancellable()) {
        " (C-c cancels)"
    } else {
        ""
    };
    Some(format!("{frame} {}{cancel}", running.join(" · ")))
}

/// The key hints shown when nothing else is to be said.
const HINTS: &str = " : commands  ? keys  Tab focus  C-q quit";

/// The status bar after its left part: what runs, then the message (or the key hints
/// when neither is there), each with its level.
fn status_right(
    app: &Workbench,
    message: &Option<(Level, String)>,
) -> Vec<(String, Option<Level>)> {
    let work = status_work(app);
    let mut parts = Vec::new();
    match (&work, message) {
        (None, None) => parts.push((HINTS.to_string(), Some(Level::Info))),
        (Some(w), None) => parts.push((w.clone(), None)),
        (Some(w), Some((level, msg))) => {
            parts.push((w.clone(), None));
            parts.push((format!(" │ {msg}"), Some(*level)));
        }
        (None, Some((level, msg))) => parts.push((format!(" {msg}"), Some(*level))),
    }
    parts
}

/// The status bar's text on one line (the key hints left out: they may be cut), with
/// `message` as its message.
fn status_text(app: &Workbench, message: &Option<(Level, String)>) -> String {
    let mut text = status_left(app);
    text.push_str(&status_notes(app).unwrap_or_default());
    text.push_str(&status_alerts(app).unwrap_or_default());
    for (part, _) in status_right(app, message) {
        if part != HINTS {
            text.push_str(&part);
        }
    }
    text
}

/// ` [+2 :messages]` when two messages said since the last key were replaced by the one
/// shown.
fn unseen_marker(app: &Workbench) -> String {
    match app.unseen_messages() {
        0 => String::new(),
        n => format!(" [+{n} :messages]"),
    }
}

/// The message as the status bar shows it: whole with `[+N :messages]` when N earlier
/// messages were replaced since the last key, or, when it does not fit in `rows` rows
/// of `width`, cut at a blank with `… :messages` (where it is kept whole).
fn shown_message(app: &Workbench, width: u16, rows: u16) -> Option<(Level, String)> {
    let (level, msg) = app.status.clone()?;
    let unseen = unseen_marker(app);
    let width = width as usize;
    let fits = |m: String| {
        let text = status_text(app, &Some((level, m.clone())));
        let ok = if rows <= 1 {
            Span::raw(text.as_str()).width() <= width
        } else {
            wrapped_rows(&text, width) <= rows as usize
        };
        ok.then_some(m)
    };
    if let Some(m) = fits(format!("{msg}{unseen}")) {
        return Some((level, m));
    }
    let tail = if unseen.is_empty() {
        " :messages".to_string()
    } else {
        unseen
    };
    let chars: Vec<char> = msg.chars().collect();
    // the longest start of the message that fits, cut at a blank where one is near
    let (mut lo, mut hi) = (0, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let head: String = chars[..mid].iter().collect();
        if fits(format!("{}…{tail}", head.trim_end())).is_some() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let head: String = chars[..lo].iter().collect();
    let head = match head.rfind(' ') {
        Some(i) if i + 12 >= head.len() && i > 0 => &head[..i],
        _ => head.as_str(),
    };
    Some((level, format!("{}…{tail}", head.trim_end())))
}

/// Rows of the status bar: a message too long for one row gets more rather than being
/// cut (an error that says what to do must be read to the end): two on a terminal of 12
/// rows or more, up to a row in six of a taller one (at most four).
fn status_height(app: &Workbench, area: Rect) -> u16 {
    if area.height < 12 {
        return 1;
    }
    let marked = app
        .status
        .as_ref()
        .map(|(level, msg)| (*level, format!("{msg}{}", unseen_marker(app))));
    let text = status_text(app, &marked);
    let width = area.width as usize;
    if Span::raw(text.as_str()).width() <= width {
        return 1;
    }
    let most = (area.height / 6).clamp(2, 4);
    (wrapped_rows(&text, width) as u16).clamp(2, most)
}

/// How many rows `text` takes when wrapped at blanks to `width` columns, as the status
/// bar's paragraph wraps it: a word that does not fit goes to the next row (the blank
/// before it is dropped), a word longer than a row is broken.
pub(crate) fn wrapped_rows(text: &str, width: usize) -> usize {
    let width = width.max(1);
    let (mut rows, mut used) = (1, 0);
    for (i, word) in text.split(' ').enumerate() {
        let w = Span::raw(word).width();
        // the blank before the word; none before the first
        let gap = usize::from(i > 0);
        if used + gap + w <= width {
            used += gap + w;
        } else if w <= width {
            rows += 1;
            used = w;
        } else {
            let start = if used > 0 {
                rows += 1;
                0
            } else {
                used
            };
            let total = start + w;
            rows += (total - 1) / width;
            used = (total - 1) % width + 1;
        }
    }
    rows
}

fn draw_status(app: &Workbench, frame: &mut Frame, area: Rect, message: Option<(Level, String)>) {
    let theme = &app.theme;
    let base = theme.status();
    let left = status_left(app);
    let mut spans = vec![Span::styled(left, base.add_modifier(Modifier::BOLD))];
    if let Some(notes) = status_notes(app) {
        spans.push(Span::styled(
            notes,
            base.fg(theme.accent).add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(alerts) = status_alerts(app) {
        spans.push(Span::styled(
            alerts,
            base.fg(theme.error).add_modifier(Modifier::BOLD),
        ));
    }
    for (part, level) in status_right(app, &message) {
        let style = match level {
            // what runs in the background
            None => base.fg(theme.warning),
            Some(Level::Error) => base.fg(theme.error),
            Some(Level::Warning) => base.fg(theme.warning),
            Some(Level::Ok) => base.fg(theme.ok),
            Some(Level::Info) => base,
        };
        spans.push(Span::styled(part, style));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans))
            .style(base)
            .wrap(Wrap { trim: false }),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::wrapped_rows;

    #[test]
    fn long_messages_count_their_rows() {
        assert_eq!(wrapped_rows("a b c", 5), 1);
        assert_eq!(wrapped_rows("aaa bbb", 5), 2);
        assert_eq!(wrapped_rows("aaaaaaaaaaaa", 5), 3);
        assert_eq!(wrapped_rows("", 5), 1);
        // a leading blank takes its column
        assert_eq!(wrapped_rows(" ab cd", 5), 2);
        assert_eq!(wrapped_rows("ab cd", 5), 1);
    }
}
