//! The list of tables and topics: the batch mark, the name, the kind and a summary of
//! its grants.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use weir_app::governance::{GrantList, KnownTable};

use super::Grants;
use crate::screens::gov::listing::{Col, draw_columns};
use crate::theme::Theme;

/// The texts the `/` filter looks in.
pub(super) fn haystack(t: &KnownTable) -> Vec<String> {
    vec![t.name(), t.kind.name().to_ascii_lowercase()]
}

/// `whitelist 2 · blacklist 1 · public` for the table list.
fn summary(t: &KnownTable) -> String {
    let n = |l: GrantList| t.grants.iter().filter(|g| g.list == l).count();
    let mut parts = Vec::new();
    if n(GrantList::Whitelist) > 0 {
        parts.push(format!("whitelist {}", n(GrantList::Whitelist)));
    }
    if n(GrantList::Blacklist) > 0 {
        parts.push(format!("blacklist {}", n(GrantList::Blacklist)));
    }
    if n(GrantList::Public) > 0 {
        parts.push("public".to_string());
    }
    if parts.is_empty() {
        "no grants".to_string()
    } else {
        parts.join(" · ")
    }
}

impl Grants {
    pub(super) fn draw_list(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let visible = self.list.visible();
        let rows: Vec<Vec<String>> = visible
            .iter()
            .map(|t| {
                let mark = if self.marked.contains(&t.target) {
                    "[x]"
                } else if self.admin {
                    "[ ]"
                } else {
                    ""
                };
                vec![
                    mark.to_string(),
                    t.name(),
                    t.kind.name().to_ascii_lowercase(),
                    summary(t),
                ]
            })
            .collect();
        let name_w = visible
            .iter()
            .map(|t| t.name().chars().count())
            .max()
            .unwrap_or(0)
            .clamp(14, 40) as u16;
        let empty = if self.list.filter().is_empty() {
            "No tables yet: a table appears once a topic is published or a grant or request names it; a adds one by name."
        } else {
            "No table matches the filter."
        };
        // the mark and the name stay on a narrow pane, the grants shrink, the kind goes
        draw_columns(
            frame,
            area,
            theme,
            &[
                Col::key("", 3),
                Col::key("table / topic", name_w.min(area.width / 2)),
                Col::optional("kind", 7, 1),
                Col::text("grants", 12),
            ],
            rows,
            (self.list.selected(), focused && self.modal.is_none()),
            Line::styled(empty, theme.muted()),
        );
    }
}
