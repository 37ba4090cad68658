//! The detail pane of a data source: kind, environments, addresses with options, user,
//! the password reference masked, owner, who created it, and the last connectivity test
//! of each environment as recorded in the store (when, by whom, latency, what it said).

use ratatui::text::{Line, Span};
use weir_app::governance::{DataSource, Endpoint, Env};
use weir_app::secrets::masked_options;
use weir_model::model::secret::{masked, scrub};

use super::form::options_text;
use super::probe::{Probe, recorded_when};
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
        lines.extend(self.last_test_lines(theme, ds));
        lines
    }

    /// `last test` per environment the data source serves: a test running now, one that
    /// could not start, else the recorded last test (`ok 2m ago by dora, 12 ms — what was
    /// checked`), else a result of this session the store did not take; `not tested yet`
    /// when there is none at all.
    fn last_test_lines(&self, theme: &Theme, ds: &DataSource) -> Vec<Line<'static>> {
        let label = |first: bool| {
            Span::styled(
                format!("{:<12}", if first { "last test" } else { "" }),
                theme.muted(),
            )
        };
        let probe = self.probes.get(&ds.name);
        let mut lines = Vec::new();
        for env in [Env::Test, Env::Prod] {
            let first = lines.is_empty();
            let e = env.as_str();
            let line = match (probe, self.recorded(&ds.name, env)) {
                (Some(Probe::Running(p)), _) if *p == env => Line::from(vec![
                    label(first),
                    Span::styled(format!("{e}: testing…"), theme.warning()),
                ]),
                (Some(Probe::Failed(p, why)), _) if *p == env => Line::from(vec![
                    label(first),
                    Span::styled(format!("{e}: ✗ {why}"), theme.error()),
                ]),
                (_, Some(t)) => {
                    let when = recorded_when(t, self.now_ms);
                    let (style, said) = if t.ok {
                        (
                            theme.ok(),
                            format!("{e}: ok in {} ms, {when}", t.latency_ms),
                        )
                    } else {
                        (
                            theme.error(),
                            format!("{e}: ✗ failed after {} ms, {when}", t.latency_ms),
                        )
                    };
                    let mut spans = vec![
                        label(first),
                        Span::styled(said, style),
                        Span::raw(format!(" — {}", t.message)),
                    ];
                    if let Some(n) = &t.not_checked {
                        spans.push(Span::styled(format!(" (not checked: {n})"), theme.muted()));
                    }
                    Line::from(spans)
                }
                (Some(Probe::Done(p, c)), None) if *p == env => {
                    let (style, said) = if c.ok {
                        (
                            theme.ok(),
                            format!("ok in {:.0} ms — {}", c.latency_ms, c.checked),
                        )
                    } else {
                        (
                            theme.error(),
                            format!(
                                "✗ after {:.0} ms: {}",
                                c.latency_ms,
                                c.error.clone().unwrap_or_default()
                            ),
                        )
                    };
                    Line::from(vec![
                        label(first),
                        Span::styled(format!("{e}: {said}"), style),
                    ])
                }
                _ => continue,
            };
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push(field_line(theme, "last test", "not tested yet (t / T)"));
        }
        lines
    }
}
