//! "Would the engine run this job's SQL?" without running it: each Sql node's query is
//! planned against its inputs' schemas (sources' declared fields, upstream queries'
//! output schemas), in topological order, and every query the engine cannot run is
//! reported with the construct named. `weir validate` shows these beside the model's own
//! diagnostics.

use std::collections::BTreeMap;

use arrow::datatypes::SchemaRef;
use weir_model::model::{Job, Node};

use crate::operator::InputTable;
use crate::pipeline::{input_table, topo_order};
use crate::sql;

/// One Sql node the engine would refuse, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlProblem {
    pub node: String,
    pub message: String,
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
                match sql::check(&s.query, &inputs) {
                    Ok(schema) => {
                        schemas.insert(node.id(), schema);
                    }
                    Err(e) => problems.push(SqlProblem {
                        node: id.clone(),
                        message: e.to_string(),
                    }),
                }
            }
            _ => {}
        }
    }
    problems
}
