//! The detail pane of the selected release: the job, version and hash it is bound to, who
//! asked and why, the decision (with the hash the approval recorded), going live and the
//! instance, the end; then its diff against the job's live version in a few lines.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use weir_app::jobs::{Release, age};

use super::list::state_style;
use super::{Releases, Review, short, summary};
use crate::screens::gov::listing::draw_detail_scrolled;
use crate::screens::gov::{field_line, when};
use crate::theme::Theme;

/// The release's own lines (without the diff).
pub(super) fn release_lines(theme: &Theme, r: &Release) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!("release #{} · {} version {} ", r.id, r.job, r.version),
                theme.accent(),
            ),
            Span::styled(r.state.as_str().to_string(), state_style(theme, r.state)),
        ]),
        field_line(theme, "hash", short(&r.hash).to_string()),
        field_line(
            theme,
            "requested",
            format!(
                "by {} at {} ({} ago)",
                r.requester,
                when(&r.requested_at),
                age(&r.requested_at)
            ),
        ),
        field_line(
            theme,
            "note",
            if r.note.is_empty() {
                "(none)".to_string()
            } else {
                r.note.clone()
            },
        ),
    ];
    if let (Some(by), Some(at)) = (&r.decided_by, &r.decided_at) {
        let verb = match r.approved_hash {
            Some(_) => "approved",
            None => "decided",
        };
        let mut text = format!("{verb} by {by} at {}", when(at));
        if let Some(o) = r.opinion.as_deref().filter(|o| !o.is_empty()) {
            text.push_str(&format!(": “{o}”"));
        }
        lines.push(field_line(theme, "decision", text));
    }
    if let Some(h) = &r.approved_hash {
        let same = if *h == r.hash {
            "the requested hash"
        } else {
            "NOT the requested hash"
        };
        lines.push(field_line(
            theme,
            "approved",
            format!("hash {} ({same})", short(h)),
        ));
    }
    if let (Some(by), Some(at)) = (&r.live_by, &r.live_at) {
        let inst = r
            .instance
            .map_or(String::new(), |i| format!(" · production instance #{i}"));
        lines.push(field_line(
            theme,
            "live",
            format!("by {by} at {}{inst}", when(at)),
        ));
    }
    if let (Some(by), Some(at)) = (&r.ended_by, &r.ended_at) {
        lines.push(field_line(
            theme,
            "ended",
            format!("{} by {by} at {}", r.state.as_str(), when(at)),
        ));
    }
    lines.push(field_line(theme, "full hash", r.hash.clone()));
    lines
}

impl Releases {
    /// The detail pane of the selected release, scrolled (PgDn/PgUp, C-d/C-u).
    pub(super) fn draw_detail(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let current = self.list.current().map(|r| r.id);
        let lines = self.list.current().map(|r| {
            let mut lines = release_lines(theme, r);
            lines.push(Line::raw(""));
            match self.reviews.get(&r.id) {
                Some(Review::Read(review)) => {
                    lines.extend(summary::lines(&review.diff, theme));
                    lines.extend(summary::state_lines(review.state.as_ref(), theme));
                    lines.push(Line::styled("d: the full diff", theme.muted()));
                }
                Some(Review::Failed(why)) => {
                    lines.push(Line::styled(format!("no diff: {why}"), theme.error()))
                }
                None => lines.push(Line::styled("reading the diff…", theme.muted())),
            }
            lines
        });
        draw_detail_scrolled(frame, area, theme, lines, (&mut self.scroll, current));
    }
}
