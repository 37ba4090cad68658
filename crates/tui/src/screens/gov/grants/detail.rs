//! The detail pane of a table: what it is, its whitelist, blacklist and public rows (the
//! highlighted one reversed, for `x` revoke), and the answer of the last `c` check.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};
use weir_app::governance::{Grant, GrantList, KnownTable, Perm, TableRef};

use super::Grants;
use crate::printable;
use crate::theme::Theme;

/// The last effective-right check and its answer.
pub(super) struct Checked {
    pub target: TableRef,
    pub question: String,
    pub allowed: bool,
    pub reason: String,
}

pub(super) fn list_word(list: GrantList) -> &'static str {
    match list {
        GrantList::Whitelist => "whitelist",
        GrantList::Blacklist => "blacklist",
        GrantList::Public => "public",
    }
}

pub(super) fn perms_text(perms: &[Perm]) -> String {
    perms
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn table_name(t: &TableRef) -> String {
    format!("{}.{}", t.datasource, t.table)
}

/// A table's grants in display order: whitelist, blacklist, public.
pub(super) fn ordered(t: &KnownTable) -> Vec<&Grant> {
    let mut out = Vec::new();
    for list in [
        GrantList::Whitelist,
        GrantList::Blacklist,
        GrantList::Public,
    ] {
        out.extend(t.grants.iter().filter(|g| g.list == list));
    }
    out
}

/// `whitelist project shop: select on mysql_orders.orders`.
pub(super) fn describe(g: &Grant) -> String {
    let who = match g.list {
        GrantList::Public => String::new(),
        _ => format!(" {}", g.grantee.describe()),
    };
    let cols = if g.columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", g.columns.join(", "))
    };
    format!(
        "{}{who}: {}{cols} on {}",
        list_word(g.list),
        perms_text(&g.perms),
        table_name(&g.target)
    )
}

impl Grants {
    pub(super) fn draw_detail(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let Some(t) = self.list.current() else {
            return;
        };
        let block = theme.pane(
            format!(
                " {} · {} ",
                printable::text(&t.name()),
                t.kind.name().to_ascii_lowercase()
            ),
            false,
        );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [head, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
        let about = match &t.topic {
            Some(topic) => format!(
                "catalog topic of project {}, {}",
                topic.project,
                topic.state.as_str()
            ),
            None => "the blacklist beats every whitelist; public allows everyone".to_string(),
        };
        frame.render_widget(Paragraph::new(Line::styled(about, theme.muted())), head);
        let grants = ordered(t);
        let mut rows: Vec<Row> = Vec::new();
        for list in [
            GrantList::Whitelist,
            GrantList::Blacklist,
            GrantList::Public,
        ] {
            let mut first = true;
            for (i, g) in grants.iter().enumerate().filter(|(_, g)| g.list == list) {
                let who = match g.list {
                    GrantList::Public => "everyone".to_string(),
                    _ => g.grantee.describe(),
                };
                let cols = if g.columns.is_empty() {
                    "whole table".to_string()
                } else {
                    g.columns.join(", ")
                };
                let from = match g.request {
                    Some(r) => format!("#{} by {}, request #{r}", g.id, g.granted_by),
                    None => format!("#{} by {}", g.id, g.granted_by),
                };
                let label = if first { list_word(list) } else { "" };
                first = false;
                let style = if focused && self.modal.is_none() && i == self.grant_at {
                    theme.selected()
                } else {
                    theme.base()
                };
                rows.push(
                    Row::new(vec![
                        label.to_string(),
                        printable::text(&who),
                        perms_text(&g.perms),
                        printable::text(&cols),
                        from,
                    ])
                    .style(style),
                );
            }
            if first {
                let none = match list {
                    GrantList::Public => "not public",
                    _ => "—",
                };
                rows.push(
                    Row::new(vec![list_word(list).to_string(), none.to_string()])
                        .style(theme.muted()),
                );
            }
        }
        let [grants_area, check_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(body);
        let table = Table::new(
            rows,
            [
                Constraint::Length(9),
                Constraint::Min(14),
                Constraint::Length(14),
                Constraint::Length(11),
                Constraint::Min(12),
            ],
        )
        .header(
            Row::new(vec!["list", "who", "operations", "columns", "grant"]).style(theme.muted()),
        );
        frame.render_widget(table, grants_area);
        if let Some(c) = self.checked.as_ref().filter(|c| c.target == t.target) {
            let (word, style) = if c.allowed {
                ("allowed", theme.ok())
            } else {
                ("denied", theme.error())
            };
            let line = Line::from(vec![
                Span::styled("effective ", theme.muted()),
                Span::raw(format!("{}: ", c.question)),
                Span::styled(word, style),
                Span::raw(format!(" — {}", c.reason)),
            ]);
            frame.render_widget(
                Paragraph::new(printable::line(line)).wrap(Wrap { trim: false }),
                check_area,
            );
        }
    }
}
