//! The inbox's detail pane: who asks, for which project, since when, why, and exactly what
//! approving would change (read from the metadata store once per request). A release
//! request shows the job, the version, the hash an approval binds to (12 characters and
//! in full) and its diff against the live version in a few lines; `d` opens the full diff.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use weir_app::governance::{Governance, GrantList, Request, RequestDetail, TableRef};
use weir_app::jobs::ReleaseReview;

use super::list::kind_word;
use crate::screens::gov::listing::draw_detail_scrolled;
use crate::screens::gov::releases::summary;
use crate::screens::gov::scroll::DetailScroll;
use crate::screens::gov::{error_text, field_line, when};
use crate::theme::Theme;

/// What approving a request would do, in words.
#[derive(Debug, Clone)]
pub(super) struct Preview {
    lines: Vec<String>,
    reason: String,
    /// For a release request: what is approved and its diff.
    pub release: Option<ReleasePreview>,
}

/// What approving a release request approves.
#[derive(Debug, Clone)]
pub(super) struct ReleasePreview {
    /// `project/path`.
    pub job: String,
    pub version: i64,
    /// The content hash the request is bound to, which an approval here binds to.
    pub hash: String,
    /// The diff against the live version, or why it could not be read.
    pub review: Result<Box<ReleaseReview>, String>,
}

impl ReleasePreview {
    /// `shop/pv version 2`.
    pub fn what(&self) -> String {
        format!("{} version {}", self.job, self.version)
    }
}

/// The first 12 characters of a content hash.
pub(super) fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// What approving request `id` would change, in words.
pub(super) async fn preview(gov: &Governance, id: i64) -> Preview {
    let detail = match gov.request(id).await {
        Ok((_, detail)) => detail,
        Err(e) => {
            return Preview {
                lines: vec![format!("cannot read request #{id}: {e}")],
                reason: String::new(),
                release: None,
            };
        }
    };
    match detail {
        RequestDetail::TopicPublish {
            topic,
            env,
            datasource,
        } => {
            let mut lines = Vec::new();
            // a publication carries no reason of its own: say what is asked
            let reason = format!("publish topic {topic} to {}", env.as_str());
            let address = gov
                .data_source(&datasource)
                .await
                .ok()
                .and_then(|ds| ds.endpoint(env).map(|e| e.address.clone()))
                .unwrap_or_else(|| "?".into());
            match gov.topic(&topic).await {
                Ok(t) => {
                    lines.push(format!(
                        "create topic `{}` with {} partition{}, kept {} day{}, on {datasource} ({} {address})",
                        t.name,
                        t.partitions,
                        if t.partitions == 1 { "" } else { "s" },
                        t.lifecycle_days,
                        if t.lifecycle_days == 1 { "" } else { "s" },
                        env.as_str(),
                    ));
                    lines.push(format!(
                        "move the topic from {} to {}",
                        t.state.as_str(),
                        env.as_str()
                    ));
                    if !t.description.is_empty() {
                        lines.push(format!("the topic holds: {}", t.description));
                    }
                    let fields: Vec<String> = t
                        .fields
                        .iter()
                        .map(|f| format!("{} {}", f.name, f.data_type))
                        .collect();
                    if !fields.is_empty() {
                        lines.push(format!("fields: {}", fields.join(", ")));
                    }
                }
                Err(e) => lines.push(format!("topic `{topic}`: {e}")),
            }
            Preview {
                lines,
                reason,
                release: None,
            }
        }
        RequestDetail::Permission {
            datasource,
            table,
            grantee,
            perms,
            columns,
            reason,
        } => {
            let perms: Vec<&str> = perms.iter().map(|p| p.as_str()).collect();
            let cols = if columns.is_empty() {
                "the whole table".to_string()
            } else {
                format!("columns {}", columns.join(", "))
            };
            let mut lines = vec![format!(
                "whitelist {} for {} on {datasource}.{table} ({cols})",
                grantee.describe(),
                perms.join(", ")
            )];
            if let Ok(grants) = gov.grants(&TableRef::new(&datasource, &table)).await {
                let blocked: Vec<String> = grants
                    .iter()
                    .filter(|g| g.list == GrantList::Blacklist)
                    .map(|g| g.grantee.describe())
                    .collect();
                if !blocked.is_empty() {
                    lines.push(format!(
                        "note: the blacklist of this table has {}, which still wins",
                        blocked.join(", ")
                    ));
                }
            }
            Preview {
                lines,
                reason,
                release: None,
            }
        }
        RequestDetail::Release {
            job,
            version,
            hash,
            note,
        } => {
            let review = gov
                .review_release(id)
                .await
                .map(Box::new)
                .map_err(|e| error_text(&e));
            Preview {
                // the release's own lines say it all (`release_lines`)
                lines: Vec::new(),
                reason: note,
                release: Some(ReleasePreview {
                    job,
                    version,
                    hash,
                    review,
                }),
            }
        }
    }
}

/// The detail pane of the selected request (`None`: nothing selected), scrolled.
pub(super) fn draw(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    (request, preview): (Option<&Request>, Option<&Preview>),
    scroll: &mut DetailScroll,
) {
    let lines = request.map(|r| {
        if let Some((p, rel)) = preview.and_then(|p| Some((p, p.release.as_ref()?))) {
            return release_lines(theme, r, &p.reason, rel);
        }
        let mut lines = vec![
            Line::styled(format!("#{} {}", r.id, kind_word(r.kind)), theme.accent()),
            field_line(theme, "requester", r.requester.clone()),
            field_line(
                theme,
                "project",
                r.project.clone().unwrap_or("- (for the person)".into()),
            ),
            field_line(theme, "requested", when(&r.created_at)),
        ];
        if let Some(p) = preview {
            lines.push(field_line(theme, "reason", p.reason.clone()));
            lines.push(Line::raw(""));
            lines.push(Line::styled("approving will:", theme.muted()));
            for l in &p.lines {
                lines.push(Line::raw(format!("• {l}")));
            }
        }
        lines
    });
    draw_detail_scrolled(frame, area, theme, lines, (scroll, request.map(|r| r.id)));
}

/// A release request's detail, compact so that the diff shows on a small terminal: what
/// is asked for, by whom and why, the hash an approval binds to, the diff against the
/// live version in a few lines, and the full hash last.
fn release_lines(
    theme: &Theme,
    r: &Request,
    note: &str,
    rel: &ReleasePreview,
) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::styled(
            format!("#{} release of {}", r.id, rel.what()),
            theme.accent(),
        ),
        field_line(
            theme,
            "requester",
            format!("{} · {}", r.requester, when(&r.created_at)),
        ),
        field_line(
            theme,
            "note",
            if note.is_empty() { "(none)" } else { note }.to_string(),
        ),
        field_line(
            theme,
            "hash",
            format!("{} (approving binds to it)", short(&rel.hash)),
        ),
    ];
    match &rel.review {
        Ok(review) => {
            lines.extend(summary::lines(&review.diff, theme));
            lines.extend(summary::state_lines(review.state.as_ref(), theme));
            lines.push(Line::styled(
                "d: the full diff · a: approve · r: reject",
                theme.muted(),
            ));
        }
        Err(why) => lines.push(Line::styled(format!("no diff: {why}"), theme.error())),
    }
    lines.push(field_line(theme, "full hash", rel.hash.clone()));
    lines
}
