//! The list of my requests: the two tabs with their counts, and one row per request
//! (number, what, state), or why there is none.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use weir_app::governance::Request;

use super::{MyRequests, Tab};
use crate::screens::gov::listing::{Col, draw_columns};
use crate::theme::Theme;

/// Number and state stay on a narrow pane; the request shrinks.
const COLUMNS: [Col; 3] = [
    Col::key("#", 5),
    Col::text("request", 12),
    Col::key("state", 9),
];

/// The texts the `/` filter looks in.
pub(super) fn haystack(r: &Request) -> Vec<String> {
    vec![
        format!("#{}", r.id),
        r.summary.clone(),
        r.state.as_str().to_string(),
        r.project.clone().unwrap_or_default(),
    ]
}

impl MyRequests {
    /// `1 in progress (N)  2 finished (M)`, the open tab highlighted.
    pub(super) fn draw_tabs(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let tab = |t: Tab, label: String| {
            if self.tab == t {
                Span::styled(format!(" {label} "), theme.selected())
            } else {
                Span::styled(format!(" {label} "), theme.muted())
            }
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                tab(
                    Tab::InProgress,
                    format!("1 in progress ({})", self.counts.0),
                ),
                Span::raw(" "),
                tab(Tab::Finished, format!("2 finished ({})", self.counts.1)),
            ])),
            area,
        );
    }

    pub(super) fn draw_list(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let rows: Vec<Vec<String>> = self
            .list
            .visible()
            .iter()
            .map(|r| {
                vec![
                    format!("#{}", r.id),
                    r.summary.clone(),
                    r.state.as_str().to_string(),
                ]
            })
            .collect();
        let empty = match &self.problem {
            Some(p) => Line::styled(p.clone(), theme.error()),
            None => Line::styled(
                match self.tab {
                    Tab::InProgress => {
                        "No requests in progress. n requests a permission; topics are published from :topics."
                    }
                    Tab::Finished => "No finished requests yet.",
                },
                theme.muted(),
            ),
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
