//! The detail pane of a data source: kind, environments, addresses with options, user,
//! the password reference masked, owner, who created it, and the last connectivity test
//! of this session with its latency or error.

use ratatui::text::{Line, Span};
use weir_app::governance::{DataSource, Endpoint};
use weir_app::secrets::masked_options;
use weir_model::model::secret::{masked, scrub};

use super::form::options_text;
use super::probe::Probe;
use super::{DataSources, kind_name};
use crate::screens::gov::field_line;
use crate::theme::Theme;

impl DataSources {
    pub(super) fn detail_lines(&self, theme: &Theme, ds: &DataSource) -> Vec<Line<'static>> {
        // credentials an old row may hold in its address or options are masked
        let ep = |e: Option<&Endpoint>| match e {
            None => "-".to_string(),
            Some(e) => {
                let shown = Endpoint {
                    address: scrub(&e.address, ""),
                    options: masked_options(&e.options),
                };
                let o = options_text(Some(&shown));
                if o.is_empty() {
                    shown.address
                } else {
                    format!("{}  {o}", shown.address)
                }
            }
        };
        let pw = ds.password.as_ref().map(|p| p.as_reference());
        let mut lines = vec![
            Line::from(vec![
                Span::styled(ds.name.clone(), theme.accent()),
                Span::raw(format!(
                    "  {} · serves {} · {}",
                    kind_name(ds.kind),
                    ds.env.as_str(),
                    if ds.managed { "managed" } else { "not managed" }
                )),
            ]),
            field_line(theme, "description", ds.description.clone()),
            field_line(theme, "test", ep(ds.test.as_ref())),
            field_line(theme, "prod", ep(ds.prod.as_ref())),
            field_line(theme, "user", ds.user.clone().unwrap_or_else(|| "-".into())),
            field_line(theme, "password", masked(pw.as_deref())),
            field_line(
                theme,
                "owner",
                ds.owner_project.clone().unwrap_or_else(|| "-".into()),
            ),
            field_line(
                theme,
                "created",
                format!("by {} at {}", ds.created_by, ds.created_at),
            ),
        ];
        match self.probes.get(&ds.name) {
            None => lines.push(field_line(theme, "last test", "not tested yet (t / T)")),
            Some(Probe::Running(env)) => lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", "last test"), theme.muted()),
                Span::styled(format!("{}: testing…", env.as_str()), theme.warning()),
            ])),
            Some(Probe::Done(env, c)) if c.ok => {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<12}", "last test"), theme.muted()),
                    Span::styled(
                        format!("{}: ok in {:.0} ms", env.as_str(), c.latency_ms),
                        theme.ok(),
                    ),
                    Span::raw(format!(" — {}", c.checked)),
                ]));
                if let Some(n) = &c.not_checked {
                    lines.push(field_line(theme, "not checked", n.clone()));
                }
            }
            Some(Probe::Done(env, c)) => lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", "last test"), theme.muted()),
                Span::styled(
                    format!(
                        "{}: ✗ after {:.0} ms: {}",
                        env.as_str(),
                        c.latency_ms,
                        c.error.clone().unwrap_or_default()
                    ),
                    theme.error(),
                ),
            ])),
            Some(Probe::Failed(env, e)) => lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", "last test"), theme.muted()),
                Span::styled(format!("{}: ✗ {e}", env.as_str()), theme.error()),
            ])),
        }
        lines
    }
}
