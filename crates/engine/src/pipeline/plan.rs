//! Planning a job: the topological order of its nodes, each node's output schema and task
//! count, the operator of every transform, and the channels that wire the tasks together.

use std::collections::BTreeMap;

use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use tokio::sync::mpsc;
use weir_model::graph::dag;
use weir_model::model::{Job, Node, Role, TimeCharacteristic};

use super::RunOptions;
use crate::channel::{Envelope, Output, Outputs};
use crate::error::{EngineError, Result};
use crate::operator::{InputTable, Operator};

/// What planning found for one node: its output schema (none for sinks) and how many
/// tasks run it.
pub(super) struct Planned {
    pub(super) schema: Option<SchemaRef>,
    pub(super) tasks: usize,
}

/// The job planned: node ids in topological order, each node's [`Planned`], and the
/// operator of every transform.
pub(super) struct Plan {
    pub(super) order: Vec<String>,
    pub(super) nodes: BTreeMap<String, Planned>,
    pub(super) operators: BTreeMap<String, Box<dyn Operator>>,
}

/// The channels between tasks: the receiver of every non-source node with its number of
/// upstream slots, and the outputs of every node, one per task.
pub(super) struct Wiring {
    pub(super) receivers: BTreeMap<String, (mpsc::Receiver<Envelope>, usize)>,
    pub(super) outputs: BTreeMap<String, Vec<Outputs>>,
    /// The sender of every non-source node's input channel (for its backpressure metric).
    pub(super) inputs: BTreeMap<String, mpsc::Sender<Envelope>>,
}

fn source_parallelism(job: &Job, node: &Node, opts: &RunOptions) -> usize {
    if opts.test_data.is_some() {
        return 1;
    }
    node.parallelism().unwrap_or(job.config.parallelism).max(1) as usize
}

/// Schemas, task counts and transform operators of every node, in topological order.
pub(super) fn plan(job: &Job, opts: &RunOptions) -> Result<Plan> {
    let order = topo_order(job)?;
    let mut nodes: BTreeMap<String, Planned> = BTreeMap::new();
    let mut operators: BTreeMap<String, Box<dyn Operator>> = BTreeMap::new();
    for id in &order {
        let Some(node) = job.node(id) else { continue };
        let planned =
            match node.role() {
                Role::Source => Planned {
                    schema: Some(source_schema(node)?),
                    tasks: source_parallelism(job, node, opts),
                },
                Role::Transform => {
                    let inputs: Vec<InputTable> =
                        job.inputs(id)
                            .map(|up| {
                                let schema =
                                    nodes.get(up).and_then(|p| p.schema.clone()).ok_or_else(
                                        || EngineError::Plan(format!("{up} has no output schema")),
                                    )?;
                                input_table(job, up, schema)
                                    .ok_or_else(|| EngineError::Plan(format!("unknown node {up}")))
                            })
                            .collect::<Result<_>>()?;
                    let op = (opts.planner)(node, &inputs)?;
                    let schema = op.schema();
                    operators.insert(id.clone(), op);
                    Planned {
                        schema: Some(schema),
                        tasks: 1,
                    }
                }
                Role::Sink => Planned {
                    schema: None,
                    tasks: 1,
                },
            };
        nodes.insert(id.clone(), planned);
    }
    Ok(Plan {
        order,
        nodes,
        operators,
    })
}

/// The record schema of a source node, from its declared `fields`.
fn source_schema(node: &Node) -> Result<SchemaRef> {
    let id = node.id();
    match node {
        Node::KafkaSource(s) => s
            .fields
            .as_deref()
            .map(crate::schema::source_schema)
            .ok_or_else(|| {
                EngineError::Plan(format!(
                    "{id}: the source has no `fields`; declare the record schema in the job"
                ))
            }),
        other => Err(EngineError::unsupported(
            format!("{} operator `{id}`", other.kind()),
            Some("the engine runs KafkaSource sources so far"),
        )),
    }
}

/// One bounded channel per non-source node, with one slot per task of each upstream.
pub(super) fn wire(job: &Job, plan: &Plan, opts: &RunOptions) -> Wiring {
    let mut receivers = BTreeMap::new();
    let mut inputs = BTreeMap::new();
    let mut outputs: BTreeMap<String, Vec<Outputs>> = BTreeMap::new();
    for id in &plan.order {
        let tasks = plan.nodes.get(id).map(|p| p.tasks).unwrap_or(1);
        outputs.insert(id.clone(), vec![Outputs::default(); tasks]);
    }
    for id in &plan.order {
        let Some(node) = job.node(id) else { continue };
        if node.role() == Role::Source {
            continue;
        }
        let (tx, rx) = mpsc::channel(opts.channel_capacity.max(1));
        let mut slot = 0;
        for (input, up) in job.inputs(id).enumerate() {
            if let Some(outs) = outputs.get_mut(up) {
                for o in outs.iter_mut() {
                    o.0.push(Output {
                        tx: tx.clone(),
                        input,
                        slot,
                    });
                    slot += 1;
                }
            }
        }
        receivers.insert(id.clone(), (rx, slot));
        inputs.insert(id.clone(), tx);
    }
    Wiring {
        receivers,
        outputs,
        inputs,
    }
}

/// Columns the engine treats as a transform's event time when no input's event-time
/// column survives into its output (a windowed aggregation's rows).
const WINDOW_TIME_COLUMNS: [&str; 2] = ["window_time", "window_end"];

/// The event-time column of the batches each node emits (sinks: writes), where there is
/// one, for the latency metric: a source's event-time column (event time only); for a
/// transform, the first of its inputs' event-time columns that its output keeps as a
/// timestamp or BIGINT, else `window_time` or `window_end`; for a sink, its first input's.
pub(super) fn event_time_columns(job: &Job, plan: &Plan) -> BTreeMap<String, String> {
    let mut columns: BTreeMap<String, String> = BTreeMap::new();
    for id in &plan.order {
        let Some(node) = job.node(id) else { continue };
        let schema = plan.nodes.get(id).and_then(|p| p.schema.clone());
        let column = match (node.role(), schema) {
            (Role::Source, Some(schema)) => input_table(job, id, schema).and_then(|t| t.event_time),
            (Role::Transform, Some(schema)) => {
                let from_inputs: Vec<&str> = job
                    .inputs(id)
                    .filter_map(|up| columns.get(up).map(String::as_str))
                    .collect();
                from_inputs
                    .into_iter()
                    .chain(WINDOW_TIME_COLUMNS)
                    .find(|name| {
                        schema.field_with_name(name).is_ok_and(|f| {
                            matches!(
                                f.data_type(),
                                DataType::Int64 | DataType::Timestamp(TimeUnit::Millisecond, _)
                            )
                        })
                    })
                    .map(str::to_string)
            }
            (Role::Sink, _) => job
                .inputs(id)
                .next()
                .and_then(|up| columns.get(up).cloned()),
            _ => None,
        };
        if let Some(c) = column {
            columns.insert(id.clone(), c);
        }
    }
    columns
}

/// The table a transform reads from its upstream `up` (whose output has `schema`): the
/// upstream's table name and, where it has one, its event-time column. `None` if `up` is
/// not a node of `job`.
pub(crate) fn input_table(job: &Job, up: &str, schema: SchemaRef) -> Option<InputTable> {
    let node = job.node(up)?;
    let event_time = match node {
        Node::KafkaSource(s) if job.config.time == TimeCharacteristic::Event => {
            s.event_time.clone()
        }
        Node::TempTableSource(s) => s.event_time.clone(),
        _ => None,
    };
    Some(InputTable {
        name: node.table_name().unwrap_or(up).to_string(),
        schema,
        event_time,
    })
}

/// Node ids, every node after all of its inputs (the model's [`dag::topo_order`] over the
/// job's nodes, smallest file position first); a cycle is a [`EngineError::Plan`].
pub(crate) fn topo_order(job: &Job) -> Result<Vec<String>> {
    let index: BTreeMap<&str, usize> = job
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id(), i))
        .collect();
    let edges: Vec<(usize, usize)> = job
        .edges
        .iter()
        .filter_map(|(from, to)| Some((*index.get(from.as_str())?, *index.get(to.as_str())?)))
        .collect();
    let id = |i: usize| job.nodes.get(i).map_or("?", |n| n.id()).to_string();
    dag::topo_order(job.nodes.len(), &edges)
        .map(|order| order.into_iter().map(id).collect())
        .map_err(|cycle| {
            let names: Vec<String> = cycle.iter().map(|&i| id(i)).collect();
            let first = names.first().cloned().unwrap_or_default();
            EngineError::Plan(format!(
                "the job graph has a cycle: {} → {first}",
                names.join(" → ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(nodes: &str, edges: &str) -> Job {
        let text = format!(r#"Job(version: 1, name: "j", nodes: [{nodes}], edges: [{edges}])"#);
        // decoded even when invalid: the cycle test needs a job validation refuses
        weir_model::jobfile::check_source("j.ron", &text)
            .job
            .expect("job")
    }

    const NODES: &str = r#"PrintSink(id: "out"), Sql(id: "b", query: "SELECT 1"),
        Sql(id: "a", query: "SELECT 1"),
        KafkaSource(id: "src", datasource: "k", topic: "t")"#;
    #[test]
    fn topo_order_puts_every_node_after_its_inputs() {
        let j = job(NODES, r#"("src", "a"), ("a", "b"), ("b", "out")"#);
        assert_eq!(
            topo_order(&j).expect("acyclic"),
            vec!["src", "a", "b", "out"]
        );
    }

    #[test]
    fn a_cycle_is_a_plan_error_that_names_it() {
        let j = job(
            NODES,
            r#"("src", "a"), ("a", "b"), ("b", "a"), ("b", "out")"#,
        );
        let err = topo_order(&j).expect_err("cycle");
        assert!(matches!(err, EngineError::Plan(_)), "{err:?}");
        assert!(err.to_string().contains("b → a → b"), "{err}");
    }
}
