//! The permission request form (SPEC R-perm), a modal of `:requests` and `:topics`: the
//! data source and the table or topic on it, for whom (one of my projects, myself, or
//! both: two requests, two approvals), the operations the kind allows (Kafka topics:
//! select and insert), columns (for a person only, not on Kafka) and a reason. Submitting
//! first reports every problem the form can see at once, each under its field; then it
//! calls `session.request_permission`, the same use case as `weir perm request`, whose
//! refusals land on the field they name. On success the caller gets a message
//! naming every request created, to show with `Action::StoreWritten`.

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use weir_app::governance::{
    DataSourceKind, Perm, PermissionRequestSpec, Request, RequestFor, TableRef, Topic,
};

use super::form::{Field, FieldKind, Form, FormEvent};
use crate::action::Level;
use crate::keys::Key;
use crate::overlay::LineInput;
use crate::screens::Context;
use crate::theme::Theme;

/// What a key did to the permission request form.
#[derive(Debug, Clone, PartialEq)]
pub enum PermEvent {
    Consumed,
    Cancelled,
    /// Requests were created; the message names their numbers.
    Submitted(String),
}

/// The operations a data source of `kind` can be granted.
pub fn perms_for(kind: DataSourceKind) -> &'static [&'static str] {
    if kind == DataSourceKind::Kafka {
        &["select", "insert"]
    } else {
        &["select", "insert", "update", "delete"]
    }
}

/// `a, b ,c` → `["a", "b", "c"]`.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

pub struct PermForm {
    pub form: Form,
    /// The data sources offered, in the order of the choice field.
    sources: Vec<(String, DataSourceKind)>,
    /// Catalog topics (those published to a cluster are offered for Kafka sources).
    topics: Vec<Topic>,
    /// I am a member of at least one project.
    has_projects: bool,
}

const FOR_ALL: [&str; 3] = ["project", "person", "both"];

impl PermForm {
    /// A form for `target` (data source, table), or to pick one.
    pub fn new(cx: &Context, target: Option<(String, String)>) -> PermForm {
        let mut sources = Vec::new();
        let mut topics = Vec::new();
        let mut projects: Vec<String> = Vec::new();
        let mut problem = None;
        match cx.store {
            Some(link) => {
                let s = link.gov();
                match link.call(s.data_sources()) {
                    Ok(ds) => sources = ds.into_iter().map(|d| (d.name, d.kind)).collect(),
                    Err(e) => problem = Some(format!("cannot read the data sources: {e}")),
                }
                match link.call(s.topics(None)) {
                    Ok(t) => topics = t,
                    Err(e) => problem = Some(format!("cannot read the catalog: {e}")),
                }
                projects = link
                    .roles()
                    .projects
                    .iter()
                    .map(|(p, _)| p.clone())
                    .collect();
            }
            None => problem = Some("no metadata store is open".into()),
        }
        let (want_ds, want_table) = target.unwrap_or_default();
        if !want_ds.is_empty() && !sources.iter().any(|(n, _)| *n == want_ds) {
            // the store will say it does not exist, with a suggestion
            sources.insert(0, (want_ds.clone(), DataSourceKind::Mysql));
        }
        let options: Vec<String> = sources
            .iter()
            .map(|(n, k)| format!("{n} ({})", k.name().to_ascii_lowercase()))
            .collect();
        let at = sources.iter().position(|(n, _)| *n == want_ds).unwrap_or(0);
        let datasource = Field {
            kind: FieldKind::Choice(options, at),
            ..Field::choice("datasource", "data source", &[], "")
        }
        .hint("←→ choose the data source");
        let for_options: &[&str] = if projects.is_empty() {
            &["person"]
        } else {
            &FOR_ALL
        };
        let for_field = Field::choice("for", "for", for_options, for_options[0])
            .hint("←→ a project of mine, myself, or both (two requests)");
        let project = if projects.is_empty() {
            let mut f = Field::choice("project", "project", &["(you are in no project)"], "");
            f.enabled = false;
            f
        } else {
            let names: Vec<&str> = projects.iter().map(String::as_str).collect();
            Field::choice("project", "project", &names, names[0])
                .hint("←→ the project whose whitelist gets the grant")
        };
        let mut form = Form::new(
            "request permission",
            vec![
                datasource,
                Field::text("table", "table/topic", &want_table),
                for_field,
                project,
                Field::checks("perms", "permissions", &[]),
                Field::text("columns", "columns", "")
                    .hint("comma separated, e.g. id, total; empty = the whole table"),
                Field::text("reason", "reason", "")
                    .hint("why you need it; the data admin reads this"),
            ],
        );
        if let Some(p) = problem {
            form.message = Some((Level::Error, p));
        }
        let mut me = PermForm {
            form,
            sources,
            topics,
            has_projects: !projects.is_empty(),
        };
        me.kind_changed();
        me.for_changed();
        if !want_table.is_empty()
            && let Some(i) = me.form.fields.iter().position(|f| f.key == "for")
        {
            me.form.selected = i;
        }
        me
    }

    /// The chosen data source.
    fn source(&self) -> Option<&(String, DataSourceKind)> {
        match self.form.fields.iter().find(|f| f.key == "datasource") {
            Some(Field {
                kind: FieldKind::Choice(_, at),
                ..
            }) => self.sources.get(*at),
            _ => None,
        }
    }

    fn is_kafka(&self) -> bool {
        self.source()
            .is_some_and(|(_, k)| *k == DataSourceKind::Kafka)
    }

    /// Catalog topics published to the chosen data source.
    fn topics_here(&self) -> Vec<String> {
        let Some((ds, _)) = self.source() else {
            return Vec::new();
        };
        self.topics
            .iter()
            .filter(|t| {
                t.test_datasource.as_deref() == Some(ds) || t.prod_datasource.as_deref() == Some(ds)
            })
            .map(|t| t.name.clone())
            .collect()
    }

    /// The data source changed: offer the operations its kind allows, columns only where
    /// they apply, and the topics published to it.
    fn kind_changed(&mut self) {
        let (name, kind) = self
            .source()
            .cloned()
            .unwrap_or_else(|| (String::new(), DataSourceKind::Mysql));
        self.form.set_check_options("perms", perms_for(kind));
        let topics = self.topics_here();
        let kafka = kind == DataSourceKind::Kafka;
        if let Some(f) = self.form.field_mut("perms") {
            f.hint = if kafka {
                "←→ pick, Space ticks; a kafka topic takes select and insert only".into()
            } else {
                "←→ pick, Space ticks".into()
            };
        }
        if let Some(f) = self.form.field_mut("table") {
            f.label = if kafka { "topic" } else { "table" }.to_string();
            f.hint = match (kafka, topics.is_empty()) {
                (true, false) => {
                    format!("←→ catalog topics: {}; or type a name", topics.join(", "))
                }
                (true, true) => {
                    format!("no catalog topic is published to {name} yet; type its name")
                }
                (false, _) => format!("a table of {name}, e.g. orders"),
            };
        }
        self.columns_enabled();
    }

    fn for_changed(&mut self) {
        let whom = self.form.choice("for");
        let on = whom != "person" && self.has_projects;
        self.form.set_enabled("project", on);
        self.columns_enabled();
    }

    fn columns_enabled(&mut self) {
        let on = self.form.choice("for") == "person" && !self.is_kafka();
        self.form.set_enabled("columns", on);
    }

    /// Left/Right on a Kafka topic field: the next or previous catalog topic.
    fn cycle_topic(&mut self, forward: bool) -> bool {
        let topics = self.topics_here();
        if topics.is_empty() {
            return false;
        }
        let now = self.form.text("table");
        let n = topics.len();
        let next = match topics.iter().position(|t| *t == now) {
            Some(i) if forward => (i + 1) % n,
            Some(i) => (i + n - 1) % n,
            None if forward => 0,
            None => n - 1,
        };
        if let Some(f) = self.form.field_mut("table") {
            f.kind = FieldKind::Text(LineInput::with(&topics[next]));
            f.error = None;
        }
        true
    }

    pub fn handle_key(&mut self, key: Key, cx: &Context) -> PermEvent {
        if self.form.focused() == Some("table")
            && self.is_kafka()
            && matches!(key.code, KeyCode::Left | KeyCode::Right)
            && key.mods.is_empty()
            && self.cycle_topic(key.code == KeyCode::Right)
        {
            return PermEvent::Consumed;
        }
        match self.form.handle_key(key) {
            FormEvent::Cancel => PermEvent::Cancelled,
            FormEvent::Submit => self.submit(cx),
            FormEvent::Changed("datasource") => {
                self.kind_changed();
                PermEvent::Consumed
            }
            FormEvent::Changed("for") => {
                self.for_changed();
                PermEvent::Consumed
            }
            FormEvent::Changed(_) | FormEvent::Consumed => PermEvent::Consumed,
        }
    }

    /// What the form asks for, as the store takes it.
    pub fn spec(&self) -> Option<PermissionRequestSpec> {
        let (ds, _) = self.source()?;
        let project = self.form.choice("project");
        let for_whom = match self.form.choice("for").as_str() {
            "project" => RequestFor::Project(project),
            "both" => RequestFor::Both(project),
            _ => RequestFor::Person,
        };
        let perms = self
            .form
            .checked("perms")
            .iter()
            .filter_map(|p| Perm::parse(p).ok())
            .collect();
        let columns = if self.form.is_enabled("columns") {
            split_list(&self.form.text("columns"))
        } else {
            Vec::new()
        };
        Some(PermissionRequestSpec {
            target: TableRef::new(ds, &self.form.text("table")),
            for_whom,
            perms,
            columns,
            reason: self.form.text("reason"),
        })
    }

    /// Every problem the form can see before asking the store, by field: no table or
    /// topic, no operation ticked (naming the ones the kind takes), no reason.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let kind = self.source().map(|(_, k)| *k);
        let what = if self.is_kafka() { "topic" } else { "table" };
        if self.form.text("table").is_empty() {
            out.push(("table", format!("table: no {what} given; name the {what}")));
        }
        if self.form.checked("perms").is_empty() {
            let offered = perms_for(kind.unwrap_or(DataSourceKind::Mysql)).join(", ");
            out.push((
                "perms",
                format!("perms: no permission chosen; a {what} takes {offered}: Space ticks one"),
            ));
        }
        if self.form.text("reason").is_empty() {
            // worded as the store words it
            out.push((
                "reason",
                "reason: no reason given; say why the permission is needed; the data admin \
                 reads it"
                    .into(),
            ));
        }
        out
    }

    fn submit(&mut self, cx: &Context) -> PermEvent {
        self.form.clear_errors();
        let problems = self.problems();
        if let Some(first) = problems.first().map(|(k, _)| *k) {
            let n = problems.len();
            for (key, why) in problems {
                self.form.set_error(key, Some(why));
            }
            if let Some(i) = self.form.fields.iter().position(|f| f.key == first) {
                self.form.selected = i;
            }
            if n > 1 {
                self.form.message = Some((
                    Level::Error,
                    format!("{n} problems: fix them, then Enter sends the request"),
                ));
            }
            return PermEvent::Consumed;
        }
        let Some(link) = cx.store else {
            self.form.message = Some((Level::Error, "no metadata store is open".into()));
            return PermEvent::Consumed;
        };
        let Some(spec) = self.spec() else {
            self.form.message = Some((
                Level::Error,
                "no data source to request on; a data admin adds them in :datasources".into(),
            ));
            return PermEvent::Consumed;
        };
        match link.call(link.gov().request_permission(&spec)) {
            Ok(created) => PermEvent::Submitted(submitted(&spec, &created)),
            Err(e) => {
                self.form.show_error(&e.to_string());
                PermEvent::Consumed
            }
        }
    }

    fn lines(&self, theme: &Theme, focused: bool) -> Vec<Line<'static>> {
        let mut lines = self.form.lines(theme, focused);
        if !self.form.is_enabled("columns") {
            let why = if self.is_kafka() {
                "a kafka topic is granted as a whole"
            } else {
                "only when the request is for a person"
            };
            // right under the columns line (each field: its line, then an error or the
            // focused field's hint)
            let width = self
                .form
                .fields
                .iter()
                .map(|f| f.label.chars().count())
                .max()
                .unwrap_or(0);
            let mut at = 0;
            for (i, f) in self.form.fields.iter().enumerate() {
                at += 1;
                if f.key == "columns" {
                    break;
                }
                let here = focused && i == self.form.selected;
                if (f.enabled && f.error.is_some()) || (here && !f.hint.is_empty()) {
                    at += 1;
                }
            }
            let pad = " ".repeat(width + 4);
            lines.insert(
                at.min(lines.len()),
                Line::styled(format!("{pad}{why}"), theme.muted()),
            );
        }
        lines
    }

    /// Draw the form over `area` (the caller picks a centred box).
    pub fn render(&self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let lines = self.lines(theme, focused);
        super::form::draw_pane(frame, area, theme, &self.form.title, lines, focused);
    }
}

/// `requested select on mysql_orders.orders: request #12 (project shop), #13 (you)`.
pub fn submitted(spec: &PermissionRequestSpec, created: &[Request]) -> String {
    let perms: Vec<&str> = spec.perms.iter().map(|p| p.as_str()).collect();
    let cols = if spec.columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", spec.columns.join(", "))
    };
    let ids: Vec<String> = created
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let whom = match &r.project {
                Some(p) => format!("project {p}"),
                None => "you".to_string(),
            };
            let word = if i == 0 { "request " } else { "" };
            format!("{word}#{} ({whom})", r.id)
        })
        .collect();
    format!(
        "requested {} on {}.{}{cols}: {}",
        perms.join(", "),
        spec.target.datasource,
        spec.target.table,
        ids.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_allow_their_operations() {
        assert_eq!(perms_for(DataSourceKind::Kafka), ["select", "insert"]);
        assert_eq!(perms_for(DataSourceKind::Mysql).len(), 4);
        assert_eq!(split_list(" id, total ,,"), vec!["id", "total"]);
    }
}
