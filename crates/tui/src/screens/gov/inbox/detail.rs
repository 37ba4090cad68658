//! The inbox's detail pane: who asks, for which project, since when, why, and exactly what
//! approving would change (read from the metadata store once per request).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use weir_app::governance::{Governance, GrantList, Request, RequestDetail, TableRef};

use super::list::kind_word;
use crate::screens::gov::listing::draw_detail;
use crate::screens::gov::{field_line, when};
use crate::theme::Theme;

/// What approving a request would do, in words.
#[derive(Debug, Clone)]
pub(super) struct Preview {
    lines: Vec<String>,
    reason: String,
}

/// What approving request `id` would change, in words.
pub(super) async fn preview(gov: &Governance, id: i64) -> Preview {
    let detail = match gov.request(id).await {
        Ok((_, detail)) => detail,
        Err(e) => {
            return Preview {
                lines: vec![format!("cannot read request #{id}: {e}")],
                reason: String::new(),
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
            let mut reason = String::new();
            let address = gov
                .data_source(&datasource)
                .await
                .ok()
                .and_then(|ds| ds.endpoint(env).map(|e| e.address.clone()))
                .unwrap_or_else(|| "?".into());
            match gov.topic(&topic).await {
                Ok(t) => {
                    reason = if t.description.is_empty() {
                        t.display_name.clone()
                    } else {
                        t.description.clone()
                    };
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
            Preview { lines, reason }
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
            Preview { lines, reason }
        }
        RequestDetail::Release {
            job,
            version,
            hash,
            note,
        } => Preview {
            lines: vec![
                format!("approve {job} version {version} for production"),
                format!("content hash {hash}"),
            ],
            reason: note,
        },
    }
}

/// The detail pane of the selected request (`None`: nothing selected).
pub(super) fn draw(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    request: Option<&Request>,
    preview: Option<&Preview>,
) {
    let lines = request.map(|r| {
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
    draw_detail(frame, area, theme, lines);
}
