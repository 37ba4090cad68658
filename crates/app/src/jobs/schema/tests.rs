use super::*;
use crate::governance::{TopicField, TopicState};
use crate::jobfile::{self, Severity};

fn topic(name: &str, format: TopicFormat, fields: &[(&str, &str)], on: Option<&str>) -> Topic {
    Topic {
        id: 1,
        name: name.into(),
        project: "shop".into(),
        display_name: name.into(),
        format,
        partitions: 1,
        lifecycle_days: 7,
        description: String::new(),
        fields: fields
            .iter()
            .map(|(n, t)| TopicField {
                name: (*n).into(),
                data_type: (*t).into(),
                comment: String::new(),
            })
            .collect(),
        state: if on.is_some() {
            TopicState::Test
        } else {
            TopicState::Design
        },
        test_datasource: on.map(str::to_string),
        prod_datasource: None,
        last_opinion: None,
        created_by: "bob".into(),
        created_at: String::new(),
        updated_at: String::new(),
    }
}

fn clicks() -> Topic {
    topic(
        "clicks",
        TopicFormat::Csv,
        &[
            ("user_id", "string"),
            ("url", "STRING"),
            ("ts", "timestamp"),
        ],
        Some("kmain"),
    )
}

/// A job with one Kafka source (`source` is the text inside `KafkaSource(...)` after
/// its id, data source and topic) and a print sink.
fn job_text(datasource: &str, source: &str) -> String {
    format!(
        r#"Job(
    version: 1,
    name: "pv",
    nodes: [
        KafkaSource(
            id: "clicks",
            datasource: "{datasource}",
            topic: "clicks",
{source}        ),
        PrintSink(id: "out"),
    ],
    edges: [("clicks", "out")],
)
"#
    )
}

fn parsed(text: &str) -> Job {
    let checked = jobfile::check_source("t.ron", text);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.job.unwrap()
}

fn source(job: &Job) -> &KafkaSource {
    match &job.nodes[0] {
        Node::KafkaSource(s) => s,
        other => panic!("not a source: {other:?}"),
    }
}

#[test]
fn catalog_types_map_to_job_types() {
    assert_eq!(field_type("BIGINT"), Some(FieldType::BigInt));
    assert_eq!(field_type(" string "), Some(FieldType::String));
    assert_eq!(field_type("varchar(64)"), Some(FieldType::String));
    assert_eq!(
        field_type("decimal(10, 2)"),
        Some(FieldType::Decimal(10, 2))
    );
    assert_eq!(field_type("decimal"), Some(FieldType::Decimal(10, 0)));
    assert_eq!(field_type("timestamp"), Some(FieldType::Timestamp));
    assert_eq!(field_type("map<string,int>"), None);
    assert_eq!(field_type("decimal(x)"), None);
    assert_eq!(type_label(FieldType::Decimal(10, 2)), "Decimal(10, 2)");
    assert_eq!(type_label(FieldType::BigInt), "BigInt");
}

#[test]
fn a_source_without_fields_takes_the_catalogs() {
    let mut job = parsed(&job_text("kmain", ""));
    let filled = fill(&mut job, &[clicks()]).unwrap();
    assert_eq!(
        filled,
        vec![Filled {
            node: "clicks".into(),
            topic: "clicks".into(),
            fields: true,
            format: true,
        }]
    );
    let src = source(&job);
    assert_eq!(src.format, Some(Format::Csv));
    let fields = src.fields.as_ref().unwrap();
    let names: Vec<_> = fields.iter().map(|f| (f.name.as_str(), f.ty)).collect();
    assert_eq!(
        names,
        vec![
            ("user_id", FieldType::String),
            ("url", FieldType::String),
            ("ts", FieldType::Timestamp)
        ]
    );
    assert!(require_fields(&job, Some(&[clicks()])).is_ok());
}

#[test]
fn a_source_on_another_cluster_is_not_the_catalogs_topic() {
    let mut job = parsed(&job_text("local", ""));
    assert!(fill(&mut job, &[clicks()]).unwrap().is_empty());
    let e = require_fields(&job, Some(&[clicks()]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("topic clicks of the catalog lives on kmain, not on local"),
        "{e}"
    );
    // a topic still in design lives nowhere yet: its design is the schema
    let design = topic("clicks", TopicFormat::Json, &[("a", "int")], None);
    assert_eq!(fill(&mut job, &[design]).unwrap().len(), 1);
    assert_eq!(source(&job).fields.as_ref().unwrap()[0].ty, FieldType::Int);
}

#[test]
fn declared_fields_stay_and_a_missing_format_comes_from_the_catalog() {
    let mut job = parsed(&job_text(
        "kmain",
        "            fields: Some([(name: \"x\", type: Int)]),\n",
    ));
    let filled = fill(&mut job, &[clicks()]).unwrap();
    assert!(filled[0].format && !filled[0].fields);
    assert_eq!(source(&job).fields.as_ref().unwrap().len(), 1);
}

#[test]
fn a_catalog_type_a_job_cannot_declare_is_refused_by_name() {
    let odd = topic(
        "clicks",
        TopicFormat::Json,
        &[("m", "map<string,int>")],
        Some("kmain"),
    );
    let mut job = parsed(&job_text("kmain", ""));
    let e = fill(&mut job, &[odd]).unwrap_err().to_string();
    assert!(
        e.contains("source `clicks`: field `m` of catalog topic clicks has type `map<string,int>`"),
        "{e}"
    );
}

#[test]
fn every_difference_from_the_catalog_is_named() {
    let job = parsed(&job_text(
        "kmain",
        r#"            format: Some(Json),
            fields: Some([
                (name: "user_id", type: String),
                (name: "ts", type: BigInt),
                (name: "extra", type: Int),
            ]),
"#,
    ));
    let diffs = differences(&job, &[clicks()]);
    let what: Vec<_> = diffs.iter().map(|d| d.what.clone()).collect();
    assert_eq!(
        what,
        vec![
            Differs::Format,
            Differs::Type("ts".into()),
            Differs::Extra("extra".into()),
            Differs::Missing("url".into()),
        ]
    );
    let text: Vec<_> = diffs.iter().map(|d| d.message.as_str()).collect();
    assert!(
        text[0].ends_with("format: job says Json, catalog says csv"),
        "{text:?}"
    );
    assert!(
        text[1].ends_with("field `ts`: job says BigInt, catalog says timestamp"),
        "{text:?}"
    );
    assert!(
        text[2].ends_with("job says `extra: Int`, catalog has no field `extra`"),
        "{text:?}"
    );
    assert!(
        text[3].ends_with("job says nothing of field `url`, catalog says `url: STRING`"),
        "{text:?}"
    );
}

#[test]
fn csv_fields_out_of_order_differ() {
    let job = parsed(&job_text(
        "kmain",
        r#"            fields: Some([
                (name: "url", type: String),
                (name: "user_id", type: String),
                (name: "ts", type: Timestamp),
            ]),
"#,
    ));
    let diffs = differences(&job, &[clicks()]);
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert_eq!(diffs[0].what, Differs::Order);
    // JSON records are read by name: the order does not matter
    let json = topic(
        "clicks",
        TopicFormat::Json,
        &[
            ("user_id", "string"),
            ("url", "string"),
            ("ts", "timestamp"),
        ],
        Some("kmain"),
    );
    assert!(differences(&job, &[json]).is_empty());
}

#[test]
fn validate_offline_refuses_a_source_without_fields() {
    let text = job_text("kmain", "");
    let checked = check_source("t.ron", &text, None);
    assert!(checked.has_errors());
    let d = &checked.diagnostics[0];
    assert_eq!(
        (d.code, d.line, d.column),
        ("no-fields", 8, 20),
        "{}",
        d.render()
    );
    assert!(
        d.message.contains("no metadata store is in use"),
        "{}",
        d.message
    );
}

#[test]
fn validate_with_the_catalog_fills_and_warns_in_place() {
    let text = job_text("kmain", "");
    let checked = check_source("t.ron", &text, Some(&[clicks()]));
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);

    let text = job_text(
        "kmain",
        r#"            format: Some(Json),
            fields: Some([
                (name: "user_id", type: String),
                (name: "ts", type: BigInt),
                (name: "extra", type: Int),
            ]),
"#,
    );
    let checked = check_source("t.ron", &text, Some(&[clicks()]));
    assert!(
        !checked.has_errors(),
        "warnings only: {:?}",
        checked.diagnostics
    );
    let at: Vec<_> = checked
        .diagnostics
        .iter()
        .map(|d| (d.code, d.line, d.severity))
        .collect();
    assert_eq!(
        at,
        vec![
            ("catalog-format", 9, Severity::Warning),
            ("catalog-missing-field", 10, Severity::Warning),
            ("catalog-field-type", 12, Severity::Warning),
            ("catalog-extra-field", 13, Severity::Warning),
        ]
    );
    let ty = &checked.diagnostics[2];
    let caret = &ty.source_line[ty.column - 1..ty.end_column - 1];
    assert_eq!(caret, "BigInt", "{}", ty.render());
}

#[test]
fn validate_with_the_catalog_checks_sql_against_its_fields() {
    // the SQL names a column the catalog's topic lacks: planned on the catalog's fields
    let text = r#"Job(
    version: 1,
    name: "pv",
    nodes: [
        KafkaSource(id: "clicks", datasource: "kmain", topic: "clicks"),
        Sql(id: "q", query: "SELECT nosuch FROM clicks"),
        PrintSink(id: "out"),
    ],
    edges: [("clicks", "q"), ("q", "out")],
)
"#;
    let offline = check_source("t.ron", text, None);
    assert!(offline.diagnostics.iter().any(|d| d.code == "no-fields"));
    let with = check_source("t.ron", text, Some(&[clicks()]));
    let codes: Vec<_> = with.diagnostics.iter().map(|d| d.code).collect();
    assert!(!codes.contains(&"no-fields"), "{codes:?}");
    assert!(codes.contains(&"sql-plan"), "{codes:?}");
    // at the unknown column, not at the start of the query
    let d = with.diagnostics.iter().find(|d| d.code == "sql-plan");
    let d = d.unwrap_or_else(|| panic!("no sql-plan diagnostic"));
    let line = text.lines().nth(d.line - 1).unwrap_or_default();
    let at: String = line.chars().skip(d.column - 1).take(6).collect();
    assert_eq!(at, "nosuch", "{}", d.render());
}
