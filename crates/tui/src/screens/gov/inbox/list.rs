//! The inbox's list: one row per waiting request (mark, number, requester, what, since),
//! or why there is none.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use weir_app::governance::{Request, RequestKind};

use super::Inbox;
use crate::screens::gov::listing::{Col, draw_columns};
use crate::screens::gov::when;
use crate::theme::Theme;

/// Mark, number and requester stay on a narrow pane; the request shrinks, `since` goes.
const COLUMNS: [Col; 5] = [
    Col::key("", 1),
    Col::key("#", 5),
    Col::key("requester", 10),
    Col::text("request", 14),
    Col::optional("since", 16, 1),
];

/// The texts the `/` filter looks in.
pub(super) fn haystack(r: &Request) -> Vec<String> {
    vec![
        format!("#{}", r.id),
        r.summary.clone(),
        r.requester.clone(),
        r.project.clone().unwrap_or_default(),
        kind_word(r.kind).to_string(),
    ]
}

pub(super) fn kind_word(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::TopicPublish => "topic publication",
        RequestKind::Permission => "permission",
        RequestKind::Release => "release",
    }
}

impl Inbox {
    /// The list of waiting requests: `●` marked for a bulk approval, `…` being decided.
    pub(super) fn draw_list(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let rows: Vec<Vec<String>> = self
            .list
            .visible()
            .iter()
            .map(|r| {
                let mark = if self.deciding.as_ref().is_some_and(|d| d.has(r.id)) {
                    "…"
                } else if self.marked.contains(&r.id) {
                    "●"
                } else {
                    " "
                };
                vec![
                    mark.to_string(),
                    format!("#{}", r.id),
                    r.requester.clone(),
                    r.summary.clone(),
                    when(&r.created_at).get(..16).unwrap_or("").to_string(),
                ]
            })
            .collect();
        let filter = self.list.filter();
        let empty = match (&self.problem, self.can_decide) {
            (Some(p), _) => Line::styled(p.clone(), theme.error()),
            (None, true) if filter.is_empty() => {
                Line::styled("Nothing waiting for you.", theme.muted())
            }
            (None, true) => Line::styled(format!("Nothing matches `{filter}`."), theme.muted()),
            (None, false) => Line::styled(
                format!(
                    "Data admins decide topic and permission requests, system admins releases; you are {}. Your own requests are in :requests.",
                    self.who
                ),
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
