//! The catalog's detail pane: a data source (kind, addresses, what it holds), a topic
//! (state, where it is published or waiting to be, format, partitions, fields), a table
//! with its columns (read from the test endpoint), a design group or a note.

use ratatui::text::{Line, Span};
use weir_app::governance::{DataSourceKind, Endpoint, TopicState};

use super::tree::{Node, Tables, World, kind_name};
use crate::screens::gov::field_line;
use crate::theme::Theme;

impl World {
    /// The detail pane of a row.
    pub fn detail(&self, theme: &Theme, node: &Node) -> Vec<Line<'static>> {
        match node {
            Node::Source(name) => self.source_detail(theme, name),
            Node::Group(p) => vec![
                Line::styled(format!("design · {p}"), theme.accent()),
                Line::raw(""),
                Line::raw(format!(
                    "Topics of project {p} that live on no cluster yet. Select one and press p to publish it to test."
                )),
            ],
            Node::Topic(name, _) => self.topic_detail(theme, name),
            Node::Table(ds, name, live) => {
                let mut lines = vec![Line::styled(format!("{ds}.{name}"), theme.accent())];
                match self.table(ds, name) {
                    Some(t) => {
                        lines.push(Line::styled(
                            format!("{} columns (test endpoint)", t.columns.len()),
                            theme.muted(),
                        ));
                        let w = t
                            .columns
                            .iter()
                            .map(|c| c.0.chars().count())
                            .max()
                            .unwrap_or(0);
                        for (c, ty) in &t.columns {
                            lines.push(Line::from(vec![
                                Span::raw(format!("  {c:<w$}  ")),
                                Span::styled(ty.clone(), theme.muted()),
                            ]));
                        }
                    }
                    None => lines.push(Line::styled(
                        if *live {
                            "columns unknown"
                        } else {
                            "named in grants or requests; not listed by the data source"
                        },
                        theme.muted(),
                    )),
                }
                lines
            }
            Node::Note(ds, text, err) => vec![
                Line::styled(ds.clone(), theme.accent()),
                Line::styled(
                    text.clone(),
                    if *err { theme.error() } else { theme.muted() },
                ),
            ],
        }
    }

    fn source_detail(&self, theme: &Theme, name: &str) -> Vec<Line<'static>> {
        let Some(ds) = self.source(name) else {
            return Vec::new();
        };
        let ep = |e: &Option<Endpoint>| e.as_ref().map_or("-".to_string(), |e| e.address.clone());
        let mut lines = vec![
            Line::styled(ds.name.clone(), theme.accent()),
            field_line(theme, "kind", kind_name(ds.kind)),
            field_line(theme, "serves", ds.env.as_str()),
            field_line(theme, "test", ep(&ds.test)),
            field_line(theme, "prod", ep(&ds.prod)),
            field_line(theme, "description", ds.description.clone()),
        ];
        let count = if ds.kind == DataSourceKind::Kafka {
            format!("{} catalog topics", self.topics_on(name).len())
        } else {
            match self.tables.get(name) {
                Some(Tables::Loaded(ts)) => format!("{} tables (test endpoint)", ts.len()),
                Some(Tables::Loading) => "reading tables…".into(),
                Some(Tables::Failed(e) | Tables::NotListed(e)) => e.clone(),
                None => "-".into(),
            }
        };
        lines.push(field_line(theme, "holds", count));
        lines
    }

    fn topic_detail(&self, theme: &Theme, name: &str) -> Vec<Line<'static>> {
        let Some(t) = self.topic(name) else {
            return Vec::new();
        };
        let state_style = match t.state {
            TopicState::Design => theme.muted(),
            TopicState::PendingTest | TopicState::PendingProd => theme.warning(),
            TopicState::Test | TopicState::Prod => theme.ok(),
        };
        let mut lines = vec![
            Line::from(vec![
                Span::styled(t.name.clone(), theme.accent()),
                Span::raw(format!("  {} · project {}", t.display_name, t.project)),
            ]),
            Line::from(vec![
                Span::styled(format!("{:<12}", "state"), theme.muted()),
                Span::styled(t.state.as_str().to_string(), state_style),
            ]),
        ];
        if let Some(p) = self.pending.get(&t.name) {
            lines.push(field_line(
                theme,
                "awaiting",
                format!(
                    "request #{}: publish to {} on {}",
                    p.request,
                    p.env.as_str(),
                    p.datasource
                ),
            ));
        }
        lines.extend([
            field_line(
                theme,
                "on",
                format!(
                    "test {} · prod {}",
                    t.test_datasource.as_deref().unwrap_or("-"),
                    t.prod_datasource.as_deref().unwrap_or("-")
                ),
            ),
            field_line(theme, "format", t.format.as_str()),
            field_line(theme, "partitions", t.partitions.to_string()),
            field_line(theme, "lifecycle", format!("{} days", t.lifecycle_days)),
        ]);
        if let Some(o) = &t.last_opinion {
            lines.push(field_line(theme, "opinion", o.clone()));
        }
        if !t.description.is_empty() {
            lines.push(field_line(theme, "description", t.description.clone()));
        }
        lines.push(Line::styled(
            format!("fields ({})", t.fields.len()),
            theme.muted(),
        ));
        let w = t
            .fields
            .iter()
            .map(|f| f.name.chars().count())
            .max()
            .unwrap_or(0);
        let wt = t
            .fields
            .iter()
            .map(|f| f.data_type.chars().count())
            .max()
            .unwrap_or(0);
        for f in &t.fields {
            lines.push(Line::from(vec![
                Span::raw(format!("  {:<w$}  ", f.name)),
                Span::styled(format!("{:<wt$}", f.data_type), theme.muted()),
                Span::raw(if f.comment.is_empty() {
                    String::new()
                } else {
                    format!("  {}", f.comment)
                }),
            ]));
        }
        lines
    }
}
