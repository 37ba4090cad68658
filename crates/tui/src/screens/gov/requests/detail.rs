//! The detail pane of my requests: the request, its state and opinion, for a permission
//! request what the store decides for me today, and the workflow history (the audit rows
//! of the request: requested, approved / rejected with the opinion, withdrawn).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use weir_app::governance::{
    AuditEntry, Governance, Request, RequestDetail, RequestState, TableRef,
};

use crate::screens::gov::listing::draw_detail_scrolled;
use crate::screens::gov::scroll::DetailScroll;
use crate::screens::gov::{field_line, when};
use crate::theme::Theme;

/// What the detail pane shows of one request beyond its row, read when it is selected.
pub(super) struct History {
    pub id: i64,
    pub rows: Vec<AuditEntry>,
    /// For a permission request: may I do each operation it asked for, today, and why.
    pub rights: Vec<(bool, String)>,
}

/// Read the history of request `id` and my rights now.
pub(super) async fn read(gov: &Governance, id: i64) -> History {
    History {
        id,
        rows: gov.request_history(id).await.unwrap_or_default(),
        rights: rights_now(gov, id).await,
    }
}

/// For a permission request: may I do each operation it asked for, today, and why.
async fn rights_now(gov: &Governance, id: i64) -> Vec<(bool, String)> {
    let Ok((
        request,
        RequestDetail::Permission {
            datasource,
            table,
            perms,
            columns,
            ..
        },
    )) = gov.request(id).await
    else {
        return Vec::new();
    };
    let target = TableRef::new(&datasource, &table);
    let mut out = Vec::new();
    for perm in perms {
        let d = gov
            .check(
                gov.actor(),
                request.project.as_deref(),
                &target,
                perm,
                &columns,
            )
            .await;
        out.push(match d {
            Ok(d) => (d.allowed, format!("{}: {}", perm.as_str(), d.reason)),
            Err(e) => (false, format!("{}: {e}", perm.as_str())),
        });
    }
    out
}

pub(super) fn state_word(s: RequestState) -> &'static str {
    match s {
        RequestState::Pending => "pending (waiting for a data admin)",
        RequestState::Approved => "approved",
        RequestState::Rejected => "rejected",
        RequestState::Withdrawn => "withdrawn",
    }
}

/// One audit row of a request as a workflow step.
fn step_word(h: &AuditEntry) -> String {
    let opinion = h
        .after_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
        .and_then(|v| {
            v.get("opinion")
                .and_then(|o| o.as_str())
                .map(str::to_string)
        })
        .filter(|o| !o.is_empty());
    let with = |w: &str| match &opinion {
        Some(o) => format!("{w}: “{o}”"),
        None => w.to_string(),
    };
    match h.action.as_str() {
        "permission.request" => "requested".into(),
        "topic.publish" => "asked to publish".into(),
        "request.approve" => with("approved"),
        "request.reject" => with("rejected"),
        "request.withdraw" => "withdrew".into(),
        other => other.to_string(),
    }
}

/// The detail pane of the selected request (`None`: nothing selected), scrolled.
pub(super) fn draw(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    (request, history): (Option<&Request>, Option<&History>),
    scroll: &mut DetailScroll,
) {
    let lines = request.map(|r| {
        let mut lines = vec![
            Line::styled(format!("#{} {}", r.id, r.summary), theme.accent()),
            field_line(theme, "state", state_word(r.state)),
            field_line(theme, "project", r.project.clone().unwrap_or("-".into())),
        ];
        if let Some(by) = &r.decided_by {
            lines.push(field_line(theme, "decided by", by.clone()));
        }
        if let Some(o) = r.opinion.as_ref().filter(|o| !o.is_empty()) {
            lines.push(field_line(theme, "opinion", o.clone()));
        }
        let history = history.filter(|h| h.id == r.id);
        let rights = history.map_or(&[][..], |h| h.rights.as_slice());
        if !rights.is_empty() {
            lines.push(Line::raw(""));
            lines.push(Line::styled("my rights now", theme.muted()));
            for (allowed, what) in rights {
                let (mark, style) = if *allowed {
                    ("✓ ", theme.ok())
                } else {
                    ("✗ ", theme.error())
                };
                lines.push(Line::from(vec![
                    Span::styled(mark, style),
                    Span::raw(what.clone()),
                ]));
            }
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled("history", theme.muted()));
        for h in history.map_or(&[][..], |h| h.rows.as_slice()) {
            lines.push(Line::from(vec![
                Span::styled(when(&h.at), theme.muted()),
                Span::raw(format!("  {}  {}", h.actor, step_word(h))),
            ]));
        }
        lines
    });
    draw_detail_scrolled(frame, area, theme, lines, (scroll, request.map(|r| r.id)));
}
