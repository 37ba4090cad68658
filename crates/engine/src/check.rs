//! "Would the engine run this job?" without running it. [`check_job`]: each Sql node's
//! query is planned against its inputs' schemas (sources' declared fields, upstream
//! queries' output schemas), in topological order, and every query the engine cannot run
//! is reported with the construct named. [`check_operators`]: every operator whose kind
//! the engine has no source, transform or sink for. `weir validate` shows both beside the
//! model's own diagnostics, so a job it accepts is one `weir run` does not refuse as
//! "unsupported".

use std::collections::BTreeMap;

use arrow::datatypes::SchemaRef;
use weir_model::model::{DataSourceKind, Job, Node};

use crate::operator::InputTable;
use crate::pipeline::{input_table, topo_order};
use crate::sql;

/// One Sql node the engine would refuse, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlProblem {
    pub node: String,
    /// In the user's words: no internal table or alias names.
    pub message: String,
    /// The byte range of the query the refusal is about (`urlx` in an unknown column),
    /// when it can be told; `None` for the query as a whole.
    pub at: Option<std::ops::Range<usize>>,
    /// A construct the engine does not run (`GROUP BY` without a window, a join), rather
    /// than a query that does not plan (an unknown column, a type mismatch).
    pub unsupported: bool,
}

/// Check every Sql node of `job`. A node whose inputs have no known schema (an input the
/// engine does not run, or a source without `fields`) is skipped, not guessed at.
pub fn check_job(job: &Job) -> Vec<SqlProblem> {
    let Ok(order) = topo_order(job) else {
        return Vec::new();
    };
    let mut schemas: BTreeMap<&str, SchemaRef> = BTreeMap::new();
    let mut problems = Vec::new();
    for id in &order {
        let Some(node) = job.node(id) else { continue };
        match node {
            Node::KafkaSource(s) => {
                if let Some(fields) = &s.fields {
                    schemas.insert(node.id(), crate::schema::source_schema(fields));
                }
            }
            Node::Sql(s) => {
                let inputs: Option<Vec<InputTable>> = job
                    .inputs(id)
                    .map(|up| input_table(job, up, schemas.get(up)?.clone()))
                    .collect();
                let Some(inputs) = inputs else { continue };
                match sql::check_located(&s.query, &inputs) {
                    Ok(schema) => {
                        schemas.insert(node.id(), schema);
                    }
                    Err(refusal) => problems.push(SqlProblem {
                        node: id.clone(),
                        message: refusal.error.to_string(),
                        at: refusal.at,
                        unsupported: matches!(
                            refusal.error,
                            crate::error::EngineError::Unsupported { .. }
                        ),
                    }),
                }
            }
            _ => {}
        }
    }
    problems
}

/// One operator the engine has no implementation for, and why; `field` is the part of
/// the node the refusal is about (`datasource` for a JdbcSink to a kind the engine does
/// not write to), `None` for the operator as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorProblem {
    pub node: String,
    pub field: Option<&'static str>,
    pub message: String,
}

/// The operator kinds the engine runs, by role, as the planner (`pipeline::plan`'s
/// `source_schema`, `transform::default_planner`) and [`crate::sink::open`] accept them.
pub const RUNS: &str = "KafkaSource sources, Sql transforms, and JdbcSink (MySQL, PostgreSQL), KafkaSink, RedisSink and PrintSink sinks";

/// Every operator of `job` the engine would refuse as unsupported when it starts: a kind
/// it has no implementation for, or a JdbcSink whose job-local data source is of a kind
/// it does not write to (a data source from the store is known only at run time).
pub fn check_operators(job: &Job) -> Vec<OperatorProblem> {
    let mut problems = Vec::new();
    for node in &job.nodes {
        let runs = matches!(
            node,
            Node::KafkaSource(_)
                | Node::Sql(_)
                | Node::KafkaSink(_)
                | Node::RedisSink(_)
                | Node::PrintSink(_)
                | Node::JdbcSink(_)
        );
        if !runs {
            problems.push(OperatorProblem {
                node: node.id().to_string(),
                field: None,
                message: format!(
                    "the engine cannot run {} operators yet: `{}` would be refused by weir run as unsupported",
                    node.kind(),
                    node.id()
                ),
            });
            continue;
        }
        if let Node::JdbcSink(j) = node
            && let Some(ds) = job.datasources.get(&j.datasource)
            && !matches!(ds.kind, DataSourceKind::Mysql | DataSourceKind::Postgres)
        {
            problems.push(OperatorProblem {
                node: j.id.clone(),
                field: Some("datasource"),
                message: format!(
                    "the engine writes JdbcSink rows to MySQL and PostgreSQL only: `{}` names {} data source `{}`",
                    j.id,
                    ds.kind.name(),
                    j.datasource
                ),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job of one source, one transform and one sink of the given kinds (as RON).
    fn job(source: &str, transform: &str, sink: &str, datasources: &str) -> Job {
        let text = format!(
            r#"Job(version: 1, name: "j", config: (time: Event), datasources: {{{datasources}}},
            nodes: [{source}, {transform}, {sink}],
            edges: [("src", "q"), ("q", "out")])"#
        );
        let checked = weir_model::jobfile::check_source("j.ron", &text);
        let errors: Vec<String> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.render())
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        checked.job.unwrap_or_else(|| panic!("no job"))
    }

    const KAFKA: &str = r#"KafkaSource(id: "src", datasource: "k", topic: "in", event_time: Some("ts"), watermark_ms: 0, fields: Some([(name: "id", type: BigInt), (name: "ts", type: Timestamp)]))"#;
    const SQL: &str = r#"Sql(id: "q", query: "SELECT id, ts FROM src")"#;

    #[test]
    fn the_operators_the_engine_runs_are_not_reported() {
        for sink in [
            r#"PrintSink(id: "out")"#,
            r#"KafkaSink(id: "out", datasource: "k", topic: "outs")"#,
            r#"RedisSink(id: "out", datasource: "r", command: Set, key: ["id"], value: ["ts"])"#,
            r#"JdbcSink(id: "out", datasource: "db", table: "t")"#,
        ] {
            assert_eq!(
                check_operators(&job(KAFKA, SQL, sink, "")),
                vec![],
                "{sink}"
            );
        }
    }

    #[test]
    fn every_other_kind_is_reported_at_its_node() {
        let es = job(
            KAFKA,
            SQL,
            r#"EsSink(id: "out", datasource: "es", index: "i")"#,
            "",
        );
        let problems = check_operators(&es);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].node, "out");
        assert_eq!(problems[0].field, None);
        assert!(problems[0].message.contains("EsSink"), "{problems:?}");
    }

    #[test]
    fn exactly_the_kinds_without_an_implementation_are_reported() {
        let runs = [
            "KafkaSource",
            "Sql",
            "JdbcSink",
            "KafkaSink",
            "RedisSink",
            "PrintSink",
        ];
        for (kind, _) in weir_model::model::OPERATOR_KINDS {
            let node = weir_model::jobfile::fields::skeleton(kind, "n")
                .unwrap_or_else(|| panic!("no skeleton of {kind}"));
            let mut job = job(KAFKA, SQL, r#"PrintSink(id: "out")"#, "");
            job.nodes = vec![node];
            let reported = !check_operators(&job).is_empty();
            assert_eq!(reported, !runs.contains(&kind), "{kind}");
        }
    }

    #[test]
    fn a_jdbc_sink_to_oracle_is_reported_at_its_data_source() {
        let oracle = job(
            KAFKA,
            SQL,
            r#"JdbcSink(id: "out", datasource: "db", table: "t")"#,
            r#""db": (kind: Oracle, address: "db:1521"), "k": (kind: Kafka, address: "k:9092")"#,
        );
        let problems = check_operators(&oracle);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, Some("datasource"));
        assert!(problems[0].message.contains("Oracle"), "{problems:?}");
    }
}
