//! The list of data sources: one row per data source (name, kind, environments,
//! addresses, managed, owner, last test), columns as wide as their contents allow.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use weir_app::governance::{DataSource, Endpoint};

use super::probe::{Probe, probe_short};
use super::{DataSources, kind_name};
use crate::screens::gov::listing::top_for;
use crate::screens::gov::{fit, row_style};
use crate::theme::Theme;

/// The texts the `/` filter looks in.
pub(super) fn haystack(d: &DataSource) -> Vec<String> {
    vec![
        d.name.clone(),
        kind_name(d.kind),
        d.env.as_str().to_string(),
        d.owner_project.clone().unwrap_or_default(),
        d.description.clone(),
    ]
}

impl DataSources {
    pub(super) fn draw_list(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let rows = self.list.visible();
        let selected = self.list.selected();
        let owner = |d: &DataSource| d.owner_project.clone().unwrap_or_else(|| "-".into());
        let col = |head: &str, f: &dyn Fn(&DataSource) -> String, max: usize| {
            rows.iter()
                .map(|d| f(d).chars().count())
                .chain([head.chars().count()])
                .max()
                .unwrap_or(0)
                .min(max)
        };
        let w_name = col("name", &|d| d.name.clone(), 20);
        let w_kind = col("kind", &|d| kind_name(d.kind), 13);
        let w_owner = col("owner", &owner, 12);
        let last = |d: &DataSource| {
            probe_short(
                self.probes.get(&d.name),
                self.newest_recorded(&d.name),
                self.now_ms,
            )
        };
        let w_last = rows
            .iter()
            .map(|d| last(d).chars().count())
            .chain([9])
            .max()
            .unwrap_or(9);
        let fixed = w_name + w_kind + 4 + 3 + w_owner + w_last + 7;
        let w_addr = (area.width as usize).saturating_sub(fixed) / 2;
        let line = |cells: [String; 8]| cells.join(" ");
        let mut lines = vec![Line::styled(
            line([
                fit("name", w_name),
                fit("kind", w_kind),
                fit("env", 4),
                fit("test", w_addr),
                fit("prod", w_addr),
                fit("mgd", 3),
                fit("owner", w_owner),
                fit("last test", w_last),
            ]),
            theme.muted(),
        )];
        if rows.is_empty() {
            let text = if self.list.items().is_empty() {
                if self.can_write {
                    "no data sources yet: n adds one"
                } else {
                    "no data sources yet"
                }
            } else {
                "no data source matches the filter"
            };
            lines.push(Line::styled(text, theme.muted()));
        }
        // one line goes to the header
        let top = top_for(selected, (area.height as usize).saturating_sub(1));
        for (i, d) in rows.iter().enumerate().skip(top) {
            let addr = |e: &Option<Endpoint>| {
                e.as_ref().map_or("-".into(), |e| {
                    weir_model::model::secret::scrub(&e.address, "")
                })
            };
            let probe = self.probes.get(&d.name);
            let text = line([
                fit(&d.name, w_name),
                fit(&kind_name(d.kind), w_kind),
                fit(d.env.as_str(), 4),
                fit(&addr(&d.test), w_addr),
                fit(&addr(&d.prod), w_addr),
                fit(if d.managed { "yes" } else { "no" }, 3),
                fit(&owner(d), w_owner),
                String::new(),
            ]);
            let style = row_style(theme, i, selected, focused);
            let probe_style = if i == selected && focused {
                style
            } else {
                match (probe, self.newest_recorded(&d.name)) {
                    (Some(Probe::Running(_)), _) => theme.warning(),
                    (Some(Probe::Failed(..)), _) => theme.error(),
                    (_, Some(t)) if t.ok => theme.ok(),
                    (_, Some(_)) => theme.error(),
                    (Some(Probe::Done(_, c)), None) if c.ok => theme.ok(),
                    (Some(_), None) => theme.error(),
                    (None, None) => theme.muted(),
                }
            };
            lines.push(Line::from(vec![
                Span::styled(text, style),
                Span::styled(fit(&last(d), w_last), probe_style),
            ]));
        }
        frame.render_widget(Paragraph::new(crate::printable::lines(lines)), area);
    }
}
