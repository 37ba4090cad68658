//! Governance screens (SPEC R-ds, R-topic, R-perm, R-life): `:datasources`, `:topics`
//! (the catalog), `:requests` (my requests), `:inbox` (approvals), `:grants`
//! (authorization) and `:releases` (releases and going live). They call the app's use
//! cases (`weir_app::governance::Governance`) through the workbench's
//! [`StoreLink`](weir_app::store_link::StoreLink): short reads of
//! the metadata store run at once (`call`), anything that may wait on the network (an
//! approval that creates a topic on Kafka, a connectivity test, reading a database's
//! tables) runs in the background (`spawn`) with a spinner in the status bar. The store
//! checks every role again; the screens only leave out what the user may not do.
//!
//! Each screen is a folder: `mod.rs` (state, keys and actions), `list.rs`, `detail.rs`
//! and `form.rs` or `modal.rs`. Shared pieces: [`listing`] (the list-and-detail helper:
//! rows, selection, filter, drawing), [`columns`] (tables whose columns give way on a
//! narrow pane), [`scroll`] (detail panes that scroll), [`footer`] (key hints that fit
//! their width), [`form`] (fields with inline errors), [`perm_form`] (the permission
//! request form, opened from the catalog and from my requests) and the small helpers
//! here.

pub mod catalog;
pub mod columns;
pub mod datasources;
pub mod footer;
pub mod form;
pub mod grants;
pub mod inbox;
pub mod listing;
pub mod perm_form;
pub mod releases;
pub mod requests;
pub mod scroll;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use weir_app::{AppError, Fault};

use super::{Context, Screen};
use crate::action::Outcome;
use crate::keys::Key;
use crate::theme::Theme;

/// The screen for a governance `:name`; without a store, a screen that says why.
pub fn open(name: &'static str, cx: &Context, problem: Option<&str>) -> Box<dyn Screen> {
    if cx.store.is_none() {
        return Box::new(NoStore {
            name,
            why: problem.unwrap_or("no metadata store is open").to_string(),
        });
    }
    match name {
        "datasources" => Box::new(datasources::DataSources::new(cx)),
        "topics" => Box::new(catalog::Catalog::new(cx)),
        "requests" => Box::new(requests::MyRequests::new(cx)),
        "inbox" => Box::new(inbox::Inbox::new(cx)),
        "releases" => Box::new(releases::Releases::new(cx)),
        _ => Box::new(grants::Grants::new(cx)),
    }
}

/// A use case's error as one line for the status bar or a form, saying whose fault it is:
/// the user's as the store or engine words it, an external system's with the advice to
/// retry once it is back, a bug's with a request to report it.
pub fn error_text(e: &AppError) -> String {
    let text = e.to_string();
    match e.fault() {
        Fault::User => text,
        Fault::External if text.contains("retry") => text,
        Fault::External => format!("{text}; retry when it is back"),
        Fault::Internal if text.contains("report") => text,
        Fault::Internal => format!("{text} (a bug in weir; please report it)"),
    }
}

/// `s` cut or padded to `w` columns, with `…` where it was cut.
pub fn fit(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        format!("{s:<w$}")
    } else if w == 0 {
        String::new()
    } else {
        let cut: String = s.chars().take(w - 1).collect();
        format!("{cut}…")
    }
}

/// The style of row `i` of a list: selected rows reversed while focused.
pub fn row_style(theme: &Theme, i: usize, selected: usize, focused: bool) -> Style {
    if i == selected {
        if focused {
            theme.selected()
        } else {
            theme.accent()
        }
    } else {
        theme.base()
    }
}

/// Keep a selection inside a list of `n` rows.
pub fn clamp(selected: usize, n: usize) -> usize {
    selected.min(n.saturating_sub(1))
}

/// Rows whose text contains the filter (case-insensitive); all rows for an empty filter.
pub fn matches(filter: &str, haystack: &[&str]) -> bool {
    let f = filter.trim().to_lowercase();
    f.is_empty() || haystack.iter().any(|h| h.to_lowercase().contains(&f))
}

/// A line of key hints: `("a", "approve"), ...`, all of them (inside a modal); a
/// screen's footer uses [`footer::footer`], which fits them to its width.
pub fn hints(theme: &Theme, keys: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(k.to_string(), theme.accent()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    Line::from(spans)
}

/// A stored RFC 3339 time as `2026-12-02 01:23:45` (UTC).
pub fn when(ts: &str) -> String {
    ts.get(..19).unwrap_or(ts).replace('T', " ")
}

/// A list above a detail pane: the list as tall as its rows (and header), between a
/// quarter and half of the area (two fifths on a short one, so that the detail keeps a
/// few lines); side by side when the area is wide.
pub fn split(area: Rect, rows: usize) -> [Rect; 2] {
    if area.width >= 130 {
        return Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(area);
    }
    let want = (rows as u16).saturating_add(2);
    let most = if area.height < 12 {
        area.height * 2 / 5
    } else {
        area.height / 2
    };
    let h = want
        .clamp(area.height / 4, most.max(area.height / 4))
        .max(3);
    Layout::vertical([Constraint::Length(h), Constraint::Min(3)]).areas(area)
}

/// A rectangle of at most `w`x`h` in the middle of `area` (for a modal form).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// `label  value` lines for a detail pane.
pub fn field_line(theme: &Theme, label: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<12}"), theme.muted()),
        Span::raw(value.into()),
    ])
}

/// The screen shown for a governance `:name` when the store could not be opened.
struct NoStore {
    name: &'static str,
    why: String,
}

impl Screen for NoStore {
    fn name(&self) -> &'static str {
        self.name
    }
    fn crumbs(&self) -> Vec<String> {
        vec![self.name.to_string()]
    }
    fn context(&self) -> &'static str {
        "tree"
    }
    fn handle_key(&mut self, _key: Key, _cx: &Context) -> Outcome {
        Outcome::Ignored
    }
    fn perform(&mut self, _action: &str, _cx: &Context) -> Outcome {
        Outcome::Ignored
    }
    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let block = theme.pane(format!(" {} ", self.name), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let lines = vec![
            Line::styled(self.why.clone(), theme.error()),
            Line::raw(""),
            Line::raw(
                "The governance screens need the metadata store: the project's .weir/weir.db \
                 (created on first use), --store PATH, or WEIR_DATABASE_URL=postgres://… for a \
                 team's PostgreSQL.",
            ),
        ];
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_whose_fault_they_are() {
        let user = AppError::User("no data source named `kafka`".into());
        assert_eq!(error_text(&user), "no data source named `kafka`");
        let down = AppError::External("kafka_main at 127.0.0.1:1 did not answer".into());
        assert_eq!(
            error_text(&down),
            "kafka_main at 127.0.0.1:1 did not answer; retry when it is back"
        );
        let said = AppError::External("cannot reach x; check it, then retry".into());
        assert_eq!(error_text(&said), "cannot reach x; check it, then retry");
        let bug = AppError::Internal("the decision stopped".into());
        assert!(
            error_text(&bug).contains("please report"),
            "{}",
            error_text(&bug)
        );
        assert_eq!(fit("orders", 4), "ord…");
        assert_eq!(fit("ab", 4), "ab  ");
    }
}
