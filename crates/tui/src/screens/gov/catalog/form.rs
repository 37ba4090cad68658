//! The topic design form of the catalog: name (checked as you type), project, display
//! name, format, partitions, lifecycle, description and the fields as
//! `name:type[:comment], …`; `n` opens it for a new topic, `e` for a topic in design.

use weir_app::governance::{
    Topic, TopicField, TopicFormat, TopicSpec, TopicState, check_topic_name,
};

use super::{Catalog, Mode, tree::Node};
use crate::action::{Action, Level, Outcome};
use crate::screens::Context;
use crate::screens::gov::error_text;
use crate::screens::gov::form::{Field, Form};

/// An open create or edit form.
pub struct TopicEditor {
    pub form: Form,
    /// The topic being edited (its name before the edit); None for a new one.
    pub editing: Option<String>,
}

const FIELDS_HINT: &str = "name:type[:comment], … e.g. user_id:string, ts:timestamp:event time";

/// Fields as the form shows them.
pub fn fields_text(fields: &[TopicField]) -> String {
    fields
        .iter()
        .map(|f| {
            if f.comment.is_empty() {
                format!("{}:{}", f.name, f.data_type)
            } else {
                format!("{}:{}:{}", f.name, f.data_type, f.comment)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `name:type[:comment], …` as fields; the error names the entry that is not one.
pub fn parse_fields(text: &str) -> Result<Vec<TopicField>, String> {
    let mut out = Vec::new();
    for (i, entry) in text.split(',').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let mut parts = entry.splitn(3, ':');
        let name = parts.next().unwrap_or("").trim();
        let ty = parts.next().unwrap_or("").trim();
        if name.is_empty() || ty.is_empty() {
            return Err(format!(
                "fields: entry {} `{entry}` is not name:type[:comment]; e.g. user_id:string",
                i + 1
            ));
        }
        out.push(TopicField {
            name: name.to_string(),
            data_type: ty.to_string(),
            comment: parts.next().unwrap_or("").trim().to_string(),
        });
    }
    Ok(out)
}

impl TopicEditor {
    /// A form for a new topic in one of `projects` (`preferred` first if it is one), or
    /// to edit `topic`.
    pub fn new(projects: &[String], preferred: Option<&str>, topic: Option<&Topic>) -> TopicEditor {
        let mut options: Vec<&str> = projects.iter().map(String::as_str).collect();
        if let Some(t) = topic {
            options = vec![t.project.as_str()];
        }
        let chosen = topic
            .map(|t| t.project.as_str())
            .or(preferred.filter(|p| options.contains(p)))
            .or(options.first().copied())
            .unwrap_or("");
        let format = topic.map_or("json", |t| t.format.as_str());
        let mut project = Field::choice("project", "project", &options, chosen)
            .hint("←→ one of the projects you design topics in");
        if topic.is_some() {
            project.enabled = false;
        }
        let fields = vec![
            Field::text("name", "topic name", topic.map_or("", |t| t.name.as_str()))
                .hint("2 to 35 letters, digits or `_`, starting with a letter"),
            project,
            Field::text(
                "display_name",
                "display name",
                topic.map_or("", |t| t.display_name.as_str()),
            )
            .hint("shown in lists; empty: the topic name"),
            Field::choice("format", "format", &["json", "csv"], format),
            Field::text(
                "partitions",
                "partitions",
                &topic.map_or("3".into(), |t| t.partitions.to_string()),
            ),
            Field::text(
                "lifecycle",
                "lifecycle days",
                &topic.map_or("7".into(), |t| t.lifecycle_days.to_string()),
            )
            .hint("how long records are kept"),
            Field::text(
                "description",
                "description",
                topic.map_or("", |t| t.description.as_str()),
            ),
            Field::text(
                "fields",
                "fields",
                &topic.map_or(String::new(), |t| fields_text(&t.fields)),
            )
            .hint(FIELDS_HINT),
        ];
        let title = match topic {
            Some(t) => format!("edit topic {}", t.name),
            None => "new topic".to_string(),
        };
        TopicEditor {
            form: Form::new(&title, fields),
            editing: topic.map(|t| t.name.clone()),
        }
    }

    /// The name rule, checked on every change of the name: `taken` are names of other
    /// topics.
    pub fn check_name(&mut self, taken: &[String]) {
        let name = self.form.text("name");
        let err = match check_topic_name(&name) {
            Err(e) => Some(e.to_string()),
            Ok(()) if self.editing.as_deref() != Some(name.as_str()) && taken.contains(&name) => {
                Some(format!(
                    "topic name: a topic named `{name}` exists already; choose another name"
                ))
            }
            Ok(()) => None,
        };
        self.form.set_error("name", err);
    }

    /// The spec the form describes; a field that cannot be read names itself.
    pub fn spec(&self) -> Result<TopicSpec, (&'static str, String)> {
        let f = &self.form;
        let number = |key: &'static str, label: &str| -> Result<i64, (&'static str, String)> {
            let t = f.text(key);
            t.parse::<i64>().map_err(|_| {
                (
                    key,
                    format!("{label}: `{t}` is not a whole number; write e.g. 3"),
                )
            })
        };
        let name = f.text("name");
        let display = f.text("display_name");
        Ok(TopicSpec {
            display_name: if display.is_empty() {
                name.clone()
            } else {
                display
            },
            name,
            project: f.choice("project"),
            format: TopicFormat::parse(&f.choice("format"))
                .map_err(|e| ("format", e.to_string()))?,
            partitions: number("partitions", "partitions")?,
            lifecycle_days: number("lifecycle", "lifecycle days")?,
            description: f.text("description"),
            fields: parse_fields(&f.text("fields")).map_err(|e| ("fields", e))?,
        })
    }

    /// Put `msg` on field `key` (focusing it), or on the whole form.
    pub fn place_error(&mut self, key: Option<&str>, msg: String) {
        let form = &mut self.form;
        match key.and_then(|k| form.fields.iter().position(|f| f.key == k)) {
            Some(i) => {
                form.fields[i].error = Some(msg);
                form.selected = i;
            }
            None => form.message = Some((Level::Error, msg)),
        }
    }

    /// A store error on the field it names (`topic name: …`, `partitions: …`).
    pub fn show_store_error(&mut self, msg: &str) {
        let key = if msg.starts_with("a topic named") {
            Some("name")
        } else {
            match msg.split_once(':').map(|(k, _)| k.trim()) {
                Some("topic name") => Some("name"),
                Some(k @ ("partitions" | "lifecycle" | "fields" | "format" | "project")) => Some(k),
                _ => None,
            }
        };
        self.place_error(key, msg.to_string());
    }
}

impl Catalog {
    pub(super) fn new_topic(&mut self) -> Outcome {
        if self.caps.design.is_empty() {
            return Self::status(Level::Warning, self.read_only_note());
        }
        let preferred = match self.current() {
            Some(Node::Group(p)) => Some(p.clone()),
            Some(Node::Topic(t, _)) => self.world.topic(t).map(|t| t.project.clone()),
            _ => None,
        };
        let ed = TopicEditor::new(&self.caps.design, preferred.as_deref(), None);
        self.mode = Mode::Edit(Box::new(ed));
        Outcome::Consumed
    }

    pub(super) fn edit_topic(&mut self) -> Outcome {
        let Some(t) = self.topic() else {
            return Self::status(Level::Info, "select a topic to edit");
        };
        if !self.caps.design.contains(&t.project) {
            return Self::status(
                Level::Warning,
                format!(
                    "topic {} belongs to project {}, where you do not design topics; you are {}",
                    t.name, t.project, self.caps.who
                ),
            );
        }
        if t.state != TopicState::Design {
            return Self::status(
                Level::Warning,
                format!(
                    "topic {} is {}; only a topic in design can be edited",
                    t.name,
                    t.state.as_str()
                ),
            );
        }
        let ed = TopicEditor::new(&self.caps.design, None, Some(t));
        self.mode = Mode::Edit(Box::new(ed));
        Outcome::Consumed
    }

    pub(super) fn submit_topic(&mut self, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let Mode::Edit(ed) = &mut self.mode else {
            return Outcome::Consumed;
        };
        ed.form.clear_errors();
        let taken: Vec<String> = self.world.topics.iter().map(|t| t.name.clone()).collect();
        ed.check_name(&taken);
        if ed.form.has_errors() {
            return Outcome::Consumed;
        }
        let spec = match ed.spec() {
            Ok(s) => s,
            Err((key, msg)) => {
                ed.place_error(Some(key), msg);
                return Outcome::Consumed;
            }
        };
        let s = link.gov();
        let result = match &ed.editing {
            Some(old) => link.call(s.update_topic(old, &spec)),
            None => link.call(s.create_topic(&spec)),
        };
        match result {
            Ok(t) => {
                let verb = if ed.editing.is_some() {
                    "updated"
                } else {
                    "created"
                };
                self.mode = Mode::Tree;
                self.folded.remove(&format!("design:{}", t.project));
                self.reload(cx);
                self.select(&Node::Topic(t.name.clone(), None));
                Action::StoreWritten(
                    Level::Ok,
                    format!(
                        "{verb} topic {} in {} (state: {})",
                        t.name,
                        t.project,
                        t.state.as_str()
                    ),
                )
                .into()
            }
            Err(e) => {
                ed.show_store_error(&error_text(&e));
                Outcome::Consumed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_bad_entries_are_named() {
        let f = parse_fields("user_id:string, ts:timestamp:event time,").unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].comment, "event time");
        assert_eq!(fields_text(&f), "user_id:string, ts:timestamp:event time");
        let e = parse_fields("a:int, b").unwrap_err();
        assert!(e.starts_with("fields: entry 2 `b`"), "{e}");
        assert!(parse_fields("  ").unwrap().is_empty());
    }

    #[test]
    fn the_name_is_checked_as_typed_and_numbers_on_submit() {
        let mut ed = TopicEditor::new(&["shop".into()], None, None);
        ed.form.fields[0].kind =
            crate::screens::gov::form::FieldKind::Text(crate::overlay::LineInput::with("9x"));
        ed.check_name(&[]);
        let err = ed.form.fields[0].error.clone().unwrap();
        assert!(err.contains("starts with a digit"), "{err}");
        ed.form.fields[0].kind =
            crate::screens::gov::form::FieldKind::Text(crate::overlay::LineInput::with("clicks"));
        ed.check_name(&["clicks".into()]);
        assert!(
            ed.form.fields[0]
                .error
                .as_ref()
                .unwrap()
                .contains("exists already")
        );
        ed.check_name(&[]);
        assert!(ed.form.fields[0].error.is_none());
        let spec = ed.spec().unwrap();
        assert_eq!((spec.partitions, spec.lifecycle_days), (3, 7));
        assert_eq!(spec.display_name, "clicks");
    }
}
