//! The releases list: the state tabs with their counts, and one row per release (id, job,
//! version, hash, state, requester, age, instance, note; a narrow pane keeps the key columns),
//! or why there is none.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use weir_app::jobs::{Release, ReleaseState, age};

use super::{Releases, Tab, short};
use crate::screens::gov::listing::{Col, draw_columns};
use crate::theme::Theme;

/// Number, job, version and state stay on a narrow pane; the note, instance, requester,
/// hash and age give way in that order.
const COLUMNS: [Col; 9] = [
    Col::key("#", 4),
    Col::text("job", 16),
    Col::key("v", 3),
    Col::optional("hash", 12, 3),
    Col::key("state", 9),
    Col::optional("by", 10, 4),
    Col::optional("age", 4, 2),
    Col::optional("inst", 4, 5),
    Col {
        drop: 6,
        ..Col::text("note", 10)
    },
];

/// From this width on, the tabs show their keys' digits.
const TABS_WIDE: u16 = 68;

/// The texts the `/` filter looks in.
pub(super) fn haystack(r: &Release) -> Vec<String> {
    vec![
        format!("#{}", r.id),
        r.job.clone(),
        format!("v{}", r.version),
        r.hash.clone(),
        r.state.as_str().to_string(),
        r.requester.clone(),
        r.note.clone(),
    ]
}

/// How a state reads in colour: pending yellow, approved and live green, ended muted.
pub(super) fn state_style(theme: &Theme, state: ReleaseState) -> Style {
    match state {
        ReleaseState::Pending => theme.warning(),
        ReleaseState::Approved | ReleaseState::Live => theme.ok(),
        ReleaseState::Rejected => theme.error(),
        _ => theme.muted(),
    }
}

impl Releases {
    /// `1 all (5)  2 pending (1)  …`, the open tab highlighted; without the keys' digits
    /// on a narrow pane (the hints say `1-5`).
    pub(super) fn draw_tabs(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let narrow = area.width < TABS_WIDE;
        let mut spans = Vec::new();
        for (i, tab) in Tab::ALL.into_iter().enumerate() {
            let label = if narrow {
                format!(" {} ({}) ", tab.label(), self.count(tab))
            } else {
                format!(" {} {} ({}) ", i + 1, tab.label(), self.count(tab))
            };
            let style = if tab == self.tab {
                theme.selected()
            } else {
                theme.muted()
            };
            spans.push(Span::styled(label, style));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    pub(super) fn draw_list(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let rows: Vec<Vec<String>> = self
            .list
            .visible()
            .iter()
            .map(|r| {
                vec![
                    format!("#{}", r.id),
                    r.job.clone(),
                    format!("v{}", r.version),
                    short(&r.hash).to_string(),
                    r.state.as_str().to_string(),
                    r.requester.clone(),
                    age(&r.requested_at),
                    r.instance.map_or("-".into(), |i| format!("#{i}")),
                    r.note.clone(),
                ]
            })
            .collect();
        let filter = self.list.filter();
        let empty = match &self.problem {
            Some(p) => Line::styled(p.clone(), theme.error()),
            None if !filter.is_empty() => {
                Line::styled(format!("Nothing matches `{filter}`."), theme.muted())
            }
            None if self.all.is_empty() => Line::styled(
                "No releases yet. R requests the release of a job's latest version \
                 (submit it first: :submit or weir job submit).",
                theme.muted(),
            ),
            None => Line::styled(format!("No {} releases.", self.tab.label()), theme.muted()),
        };
        draw_columns(
            frame,
            area,
            theme,
            &COLUMNS,
            rows,
            (self.list.selected(), focused),
            empty,
        );
    }
}
