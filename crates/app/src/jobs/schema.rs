//! The schema of a job's Kafka sources from the store's catalog. A `KafkaSource` that
//! names a catalog topic and declares no `fields` takes the topic's fields (and, when it
//! states none, its format) before validation, `weir run` and `weir test`; one that
//! declares fields is compared with the catalog by `weir validate --store`, every
//! difference a warning at its place in the file.
//!
//! Only Kafka sources have an optional schema in the job model (`Lookup` and
//! `TempTableSource` must declare theirs, and sinks write their input's columns), so only
//! they take one from the catalog. Opening the store is the caller's business
//! ([`crate::engine::on_store`]); everything here but [`catalog`] is pure. `check.rs`
//! turns it into `weir validate`'s diagnostics.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::AppError;
use crate::governance::{Topic, TopicFormat};
use crate::jobfile::NodeProblem;
use crate::model::{Field, FieldType, Format, Job, KafkaSource, Node};

mod check;

pub use check::{catalog, check_file, check_source};

/// The job model's type for a catalog type name (`string`, `bigint`, `decimal(10,2)`,
/// `timestamp`, …, any case); `None` for a type a job cannot declare. The one rule is
/// `weir_model::values::catalog_field_type`, which the store checks topics against.
pub fn field_type(catalog_type: &str) -> Option<FieldType> {
    weir_model::values::catalog_field_type(catalog_type)
}

/// A field type as job files write it (`String`, `Decimal(10, 2)`).
pub fn type_label(ty: FieldType) -> String {
    match ty {
        FieldType::Decimal(p, s) => format!("Decimal({p}, {s})"),
        other => format!("{other:?}"),
    }
}

/// The job model's record format for a catalog topic's.
pub fn topic_format(format: TopicFormat) -> Format {
    match format {
        TopicFormat::Json => Format::Json,
        TopicFormat::Csv => Format::Csv,
    }
}

/// The catalog topic `source` reads: the topic of that name, when it lives on the
/// source's data source (in test or production) or, still in design, on no cluster yet.
pub fn topic_of<'a>(topics: &'a [Topic], source: &KafkaSource) -> Option<&'a Topic> {
    topics.iter().find(|t| {
        t.name == source.topic && {
            let on: Vec<&String> = clusters(t);
            on.is_empty() || on.iter().any(|ds| **ds == source.datasource)
        }
    })
}

/// The Kafka data sources a topic lives on.
fn clusters(t: &Topic) -> Vec<&String> {
    [&t.test_datasource, &t.prod_datasource]
        .into_iter()
        .flatten()
        .collect()
}

/// The catalog's fields of `topic` as job fields; `Err` says which field a job cannot
/// declare, or that the topic has none.
pub fn catalog_fields(topic: &Topic) -> Result<Vec<Field>, String> {
    if topic.fields.is_empty() {
        return Err(format!(
            "catalog topic {} declares no fields; declare them in the job, or in the catalog",
            topic.name
        ));
    }
    topic
        .fields
        .iter()
        .map(|f| {
            let ty = field_type(&f.data_type).ok_or_else(|| {
                format!(
                    "field `{}` of catalog topic {} has type `{}`, which a job cannot declare (String, Boolean, Int, BigInt, Float, Double, Decimal(p, s), Date, Timestamp); declare `fields` in the job",
                    f.name, topic.name, f.data_type
                )
            })?;
            Ok(Field {
                name: f.name.clone(),
                ty,
                comment: f.comment.clone(),
            })
        })
        .collect()
}

/// What the catalog gave one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filled {
    /// The source's node id.
    pub node: String,
    /// The catalog topic.
    pub topic: String,
    /// Its fields were taken from the catalog.
    pub fields: bool,
    /// Its format was taken from the catalog.
    pub format: bool,
}

/// Give every Kafka source of `job` that names a catalog topic what it leaves out: its
/// fields and its format. Returns what was filled, or (per source) why the catalog's
/// fields cannot be used; the other sources are filled either way.
fn fill_sources(job: &mut Job, topics: &[Topic]) -> (Vec<Filled>, Vec<(String, String)>) {
    let mut filled = Vec::new();
    let mut failed = Vec::new();
    for node in &mut job.nodes {
        let Node::KafkaSource(src) = node else {
            continue;
        };
        let Some(topic) = topic_of(topics, src) else {
            continue;
        };
        let mut did = Filled {
            node: src.id.clone(),
            topic: topic.name.clone(),
            fields: false,
            format: false,
        };
        if src.fields.is_none() {
            match catalog_fields(topic) {
                Ok(fields) => {
                    src.fields = Some(fields);
                    did.fields = true;
                }
                Err(why) => failed.push((src.id.clone(), why)),
            }
        }
        if src.format.is_none() {
            src.format = Some(topic_format(topic.format));
            did.format = true;
        }
        if did.fields || did.format {
            filled.push(did);
        }
    }
    (filled, failed)
}

/// [`fill_sources`] for a run or a test: a source whose catalog fields cannot be used is
/// refused, every one named.
pub fn fill(job: &mut Job, topics: &[Topic]) -> Result<Vec<Filled>, AppError> {
    let (filled, failed) = fill_sources(job, topics);
    if failed.is_empty() {
        return Ok(filled);
    }
    Err(AppError::User(
        failed
            .iter()
            .map(|(node, why)| format!("source `{node}`: {why}"))
            .collect::<Vec<_>>()
            .join("\n"),
    ))
}

/// Why a Kafka source has no fields, and what to do: `topics` is the store's catalog, or
/// `None` when no store is in use.
fn no_fields(src: &KafkaSource, topics: Option<&[Topic]>) -> (String, String) {
    let id = &src.id;
    let declare = "declare the record schema in the job: fields: Some([(name: \"user_id\", type: String), ...])";
    match topics {
        None => (
            format!(
                "source `{id}` declares no `fields`, and no metadata store is in use to take them from the catalog"
            ),
            format!(
                "{declare}, or name the store whose catalog holds topic {} (--store PATH, WEIR_STORE or WEIR_DATABASE_URL)",
                src.topic
            ),
        ),
        Some(topics) => match topics.iter().find(|t| t.name == src.topic) {
            Some(t) => {
                let on: Vec<String> = clusters(t).into_iter().cloned().collect();
                (
                    format!(
                        "source `{id}` declares no `fields`, and topic {} of the catalog lives on {}, not on {}",
                        t.name,
                        on.join(" and "),
                        src.datasource
                    ),
                    format!("read it from {}, or {declare}", on.join(" or ")),
                )
            }
            None => (
                format!(
                    "source `{id}` declares no `fields`, and the catalog has no topic {}",
                    src.topic
                ),
                format!(
                    "{declare}, or design the topic in the catalog (weir topic create {} --project P --field NAME:TYPE ...)",
                    src.topic
                ),
            ),
        },
    }
}

/// Refuse a job that still has a Kafka source without fields (after [`fill`]), each
/// named with why and what to do.
pub fn require_fields(job: &Job, topics: Option<&[Topic]>) -> Result<(), AppError> {
    let missing: Vec<String> = job
        .nodes
        .iter()
        .filter_map(|n| match n {
            Node::KafkaSource(s) if s.fields.is_none() => {
                let (message, hint) = no_fields(s, topics);
                Some(format!("{message}; {hint}"))
            }
            _ => None,
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::User(missing.join("\n")))
    }
}

/// The checks `weir validate` adds to the model's own, on the job as the catalog
/// completes it (`topics`, or `None` offline): sources whose fields the catalog cannot
/// give, sources left without fields, then the engine's SQL checks.
pub fn problems(job: &Job, topics: Option<&[Topic]>) -> Vec<NodeProblem> {
    let mut job = job.clone();
    let mut out = Vec::new();
    if let Some(topics) = topics {
        let (_, failed) = fill_sources(&mut job, topics);
        for (node, message) in failed {
            out.push(NodeProblem {
                node,
                field: "topic",
                code: "catalog-fields",
                message,
                hint: None,
                within: None,
            });
        }
    }
    for n in &job.nodes {
        if let Node::KafkaSource(s) = n
            && s.fields.is_none()
            && !out.iter().any(|p| p.node == s.id)
        {
            let (message, hint) = no_fields(s, topics);
            out.push(NodeProblem {
                node: s.id.clone(),
                field: "topic",
                code: "no-fields",
                message,
                hint: Some(hint),
                within: None,
            });
        }
    }
    out.extend(crate::engine::engine_problems(&job));
    out
}

/// How a job's declared schema of a catalog topic differs from the catalog's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "field")]
pub enum Differs {
    /// The catalog has a field the job leaves out.
    Missing(String),
    /// The job has a field the catalog does not.
    Extra(String),
    /// A field's type.
    Type(String),
    /// The record format.
    Format,
    /// The field order (CSV records are read by position).
    Order,
}

/// One difference between a source and its catalog topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The source's node id.
    pub node: String,
    /// The catalog topic.
    pub topic: String,
    /// What differs.
    pub what: Differs,
    /// "job says X, catalog says Y".
    pub message: String,
}

impl Difference {
    /// The diagnostic code.
    pub fn code(&self) -> &'static str {
        match self.what {
            Differs::Missing(_) => "catalog-missing-field",
            Differs::Extra(_) => "catalog-extra-field",
            Differs::Type(_) => "catalog-field-type",
            Differs::Format => "catalog-format",
            Differs::Order => "catalog-field-order",
        }
    }
}

/// Every difference between the fields (and stated format) of `job`'s Kafka sources and
/// their catalog topics. Sources without fields take the catalog's and differ in nothing.
pub fn differences(job: &Job, topics: &[Topic]) -> Vec<Difference> {
    let mut out = Vec::new();
    for n in &job.nodes {
        let Node::KafkaSource(src) = n else { continue };
        let (Some(fields), Some(topic)) = (&src.fields, topic_of(topics, src)) else {
            continue;
        };
        let mut push = |what: Differs, message: String| {
            out.push(Difference {
                node: src.id.clone(),
                topic: topic.name.clone(),
                what,
                message: format!("source `{}`, topic {}: {message}", src.id, topic.name),
            })
        };
        let catalog_format = topic_format(topic.format);
        if let Some(f) = src.format
            && f != catalog_format
        {
            push(
                Differs::Format,
                format!(
                    "format: job says {f:?}, catalog says {}",
                    topic.format.as_str()
                ),
            );
        }
        let catalog: BTreeMap<&str, &str> = topic
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.data_type.as_str()))
            .collect();
        for f in fields {
            match catalog.get(f.name.as_str()) {
                None => push(
                    Differs::Extra(f.name.clone()),
                    format!(
                        "job says `{}: {}`, catalog has no field `{}`",
                        f.name,
                        type_label(f.ty),
                        f.name
                    ),
                ),
                Some(ty) if field_type(ty) != Some(f.ty) => push(
                    Differs::Type(f.name.clone()),
                    format!(
                        "field `{}`: job says {}, catalog says {ty}",
                        f.name,
                        type_label(f.ty)
                    ),
                ),
                Some(_) => {}
            }
        }
        for c in &topic.fields {
            if !fields.iter().any(|f| f.name == c.name) {
                push(
                    Differs::Missing(c.name.clone()),
                    format!(
                        "job says nothing of field `{}`, catalog says `{}: {}`",
                        c.name, c.name, c.data_type
                    ),
                );
            }
        }
        let same_names = fields.len() == topic.fields.len()
            && fields.iter().all(|f| catalog.contains_key(f.name.as_str()));
        let in_order = fields
            .iter()
            .zip(&topic.fields)
            .all(|(f, c)| f.name == c.name);
        if src.format.unwrap_or(catalog_format) == Format::Csv && same_names && !in_order {
            let names = |it: Vec<&str>| it.join(", ");
            push(
                Differs::Order,
                format!(
                    "field order: job says {}, catalog says {} (CSV records are read by position)",
                    names(fields.iter().map(|f| f.name.as_str()).collect()),
                    names(topic.fields.iter().map(|f| f.name.as_str()).collect()),
                ),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests;
