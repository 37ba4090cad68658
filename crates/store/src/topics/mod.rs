//! Kafka topics as designed in weir, and their publication workflow.
//!
//! | state          | action                         | next state     |
//! |----------------|--------------------------------|----------------|
//! | design         | publish to test (kafka source) | pending_test   |
//! | pending_test   | approve                        | test           |
//! | pending_test   | reject (opinion)               | design         |
//! | pending_test   | withdraw                       | design         |
//! | test           | publish to prod (kafka source) | pending_prod   |
//! | pending_prod   | approve                        | prod           |
//! | pending_prod   | reject (opinion)               | test           |
//! | pending_prod   | withdraw                       | test           |
//!
//! Only a topic in design can be edited or deleted. Each publication is a request row
//! (kind `topic_publish`) decided in the inbox; approval returns a [`TopicCreation`] so the
//! app creates the topic on the chosen cluster.
//!
//! `design.rs` stores and edits topics; `publish.rs` moves them through the lifecycle.

use serde::{Deserialize, Serialize};

use weir_model::jobfile::validate::identifier_problem;
use weir_model::text::printable;
use weir_model::values;

use crate::checks;
use crate::datasources::{DataSource, Env};
use crate::error::{Result, StoreError};
use crate::identity::ProjectRole;

mod design;
mod publish;

pub(crate) use design::by_id;
pub(crate) use publish::{on_decided, on_withdrawn};

/// Who may design and publish topics of a project.
const DEVS: &[ProjectRole] = &[ProjectRole::ProjectAdmin, ProjectRole::Developer];

/// Record format of a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicFormat {
    /// One JSON object per record.
    Json,
    /// One CSV line per record.
    Csv,
}

impl TopicFormat {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TopicFormat::Json => "json",
            TopicFormat::Csv => "csv",
        }
    }

    /// Parses `json` / `csv`.
    pub fn parse(s: &str) -> Result<TopicFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(TopicFormat::Json),
            "csv" => Ok(TopicFormat::Csv),
            _ => Err(StoreError::invalid(
                "format",
                format!("`{s}` is not a topic format"),
                "use json or csv",
            )),
        }
    }
}

/// Where a topic is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicState {
    /// Being designed; editable.
    Design,
    /// Publication to test awaits approval.
    PendingTest,
    /// Live on the test cluster.
    Test,
    /// Publication to production awaits approval.
    PendingProd,
    /// Live in production.
    Prod,
}

impl TopicState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TopicState::Design => "design",
            TopicState::PendingTest => "pending_test",
            TopicState::Test => "test",
            TopicState::PendingProd => "pending_prod",
            TopicState::Prod => "prod",
        }
    }

    pub(crate) fn parse(s: &str) -> TopicState {
        match s {
            "pending_test" => TopicState::PendingTest,
            "test" => TopicState::Test,
            "pending_prod" => TopicState::PendingProd,
            "prod" => TopicState::Prod,
            _ => TopicState::Design,
        }
    }
}

/// One field of a topic's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicField {
    /// Field name.
    pub name: String,
    /// Type name (`string`, `bigint`, `timestamp`, …).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Free text.
    #[serde(default)]
    pub comment: String,
}

/// What a developer types to create or edit a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Kafka topic name (see [`check_topic_name`]).
    pub name: String,
    /// Owning project.
    pub project: String,
    /// Name shown in lists.
    pub display_name: String,
    /// Record format.
    pub format: TopicFormat,
    /// Partition count, ≥ 1.
    pub partitions: i64,
    /// Retention in days, ≥ 1.
    pub lifecycle_days: i64,
    /// Free text.
    pub description: String,
    /// Record fields.
    pub fields: Vec<TopicField>,
}

/// A stored topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topic {
    /// Store id.
    pub id: i64,
    /// Kafka topic name.
    pub name: String,
    /// Owning project.
    pub project: String,
    /// Name shown in lists.
    pub display_name: String,
    /// Record format.
    pub format: TopicFormat,
    /// Partition count.
    pub partitions: i64,
    /// Retention in days.
    pub lifecycle_days: i64,
    /// Free text.
    pub description: String,
    /// Record fields.
    pub fields: Vec<TopicField>,
    /// Lifecycle state.
    pub state: TopicState,
    /// Kafka data source it lives on in test, once approved there.
    pub test_datasource: Option<String>,
    /// Kafka data source it lives on in production, once approved there.
    pub prod_datasource: Option<String>,
    /// The opinion of the last rejection, for the designer.
    pub last_opinion: Option<String>,
    /// Creator.
    pub created_by: String,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// Returned by an approved publication: the app creates `topic` with `partitions` on
/// `datasource` (a kafka data source) in `env`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicCreation {
    /// The topic after approval.
    pub topic: Topic,
    /// `Env::Test` or `Env::Prod`.
    pub env: Env,
    /// The chosen kafka data source.
    pub datasource: DataSource,
    /// Partitions to create.
    pub partitions: i64,
    /// Retention in days (`retention.ms` = days × 86 400 000).
    pub lifecycle_days: i64,
}

/// Checks a Kafka topic name: letters, digits and `_`; not starting with a digit or `_`;
/// 2 to 35 characters. The error names the part that fails.
pub fn check_topic_name(name: &str) -> Result<()> {
    let fix = "use 2 to 35 letters, digits or `_`, starting with a letter";
    let shown = printable(name);
    let n = name.chars().count();
    if n < 2 {
        return Err(StoreError::invalid(
            "topic name",
            format!("`{shown}` is too short ({n} characters, at least 2)"),
            fix,
        ));
    }
    if n > 35 {
        return Err(StoreError::invalid(
            "topic name",
            format!("`{shown}` is too long ({n} characters, at most 35)"),
            fix,
        ));
    }
    if let Some((i, c)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(StoreError::invalid(
            "topic name",
            format!(
                "`{shown}` has `{}` at position {}; only letters, digits and `_` are allowed",
                printable(&c.to_string()),
                i + 1
            ),
            fix,
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(StoreError::invalid(
            "topic name",
            format!("`{shown}` starts with a digit"),
            fix,
        ));
    }
    if name.starts_with('_') {
        return Err(StoreError::invalid(
            "topic name",
            format!("`{shown}` starts with `_`"),
            fix,
        ));
    }
    Ok(())
}

/// A topic as typed: its name, counts and fields by the rules job files follow
/// (`weir_model::values`, and field names as `identifier_problem` says, none twice in
/// any case), and no control characters in its texts.
fn check_spec(spec: &TopicSpec) -> Result<()> {
    check_topic_name(&spec.name)?;
    checks::name("display name", &spec.display_name)?;
    checks::free_text("description", &spec.description)?;
    if let Some(problem) = values::partitions_problem(spec.partitions) {
        return Err(StoreError::invalid(
            "partitions",
            problem,
            "choose a partition count a cluster can hold, e.g. 1 to 64",
        ));
    }
    if let Some(problem) = values::lifecycle_days_problem(spec.lifecycle_days) {
        return Err(StoreError::invalid(
            "lifecycle",
            problem,
            "give the retention in days, e.g. 7",
        ));
    }
    let mut seen = std::collections::BTreeMap::new();
    for (i, f) in spec.fields.iter().enumerate() {
        if f.name.trim().is_empty() || f.data_type.trim().is_empty() {
            return Err(StoreError::invalid(
                "fields",
                format!("field {} has no name or no type", i + 1),
                "give every field a name and a type",
            ));
        }
        if let Some(problem) = identifier_problem("field name", &f.name) {
            return Err(StoreError::invalid(
                "fields",
                format!("field {}: {}", i + 1, printable(&problem)),
                "name fields as SQL reads them: a letter or `_`, then letters, digits or `_`",
            ));
        }
        if let Some(problem) = values::catalog_type_problem(&f.data_type) {
            return Err(StoreError::invalid(
                "fields",
                format!("field `{}`: {problem}", f.name),
                "give a type a job can declare",
            ));
        }
        checks::free_text("field comment", &f.comment)?;
        if let Some(first) = seen.insert(f.name.to_lowercase(), f.name.as_str()) {
            return Err(StoreError::invalid(
                "fields",
                if first == f.name {
                    format!("field `{}` appears twice", f.name)
                } else {
                    format!(
                        "fields `{first}` and `{}` differ only in case; SQL reads them as one",
                        f.name
                    )
                },
                "give every field a distinct name",
            ));
        }
    }
    Ok(())
}
