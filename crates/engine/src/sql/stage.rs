//! A fragment of a physical plan run again and again: the part below the aggregation
//! (per input batch), above it (per firing) or a whole stateless query (per batch).
//! A chain of filters and projections is evaluated directly from its `PhysicalExpr`s
//! (no stream machinery per batch); anything else runs as a DataFusion plan whose leaf
//! is a [`FeedExec`].

use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::TryStreamExt;

use super::feed::{FeedExec, Slot};
use crate::error::{EngineError, Result};

/// One step of a filter/projection chain.
enum Step {
    Filter {
        predicate: Arc<dyn PhysicalExpr>,
        projection: Option<Vec<usize>>,
    },
    Project {
        exprs: Vec<Arc<dyn PhysicalExpr>>,
        schema: SchemaRef,
    },
}

enum Body {
    Steps(Vec<Step>),
    Plan {
        plan: Arc<dyn ExecutionPlan>,
        slot: Slot,
        task: Arc<TaskContext>,
    },
}

/// A compiled plan fragment: feed it batches of the leaf's input schema.
pub struct Stage {
    /// Columns of the fed batch the leaf reads (a scan's projection), if not all.
    leaf_projection: Option<Vec<usize>>,
    body: Body,
}

/// Whether `a` and `b` are the same plan node.
pub fn same_node(a: &Arc<dyn ExecutionPlan>, b: &Arc<dyn ExecutionPlan>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

impl Stage {
    /// Compile the fragment from `root` down to `leaf` (exclusive); batches fed have
    /// `fed_schema`, of which the leaf outputs the columns named in its own schema.
    pub fn compile(
        root: &Arc<dyn ExecutionPlan>,
        leaf: &Arc<dyn ExecutionPlan>,
        fed_schema: &SchemaRef,
        task: Arc<TaskContext>,
    ) -> Result<Stage> {
        let leaf_schema = leaf.schema();
        let leaf_projection = if leaf_schema.fields().len() == fed_schema.fields().len()
            && leaf_schema
                .fields()
                .iter()
                .zip(fed_schema.fields())
                .all(|(a, b)| a.name() == b.name())
        {
            None
        } else {
            let idx = leaf_schema
                .fields()
                .iter()
                .map(|f| {
                    fed_schema.index_of(f.name()).map_err(|_| {
                        EngineError::Plan(format!(
                            "internal: scan column `{}` is not in the input",
                            f.name()
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Some(idx)
        };
        let body = match steps(root, leaf) {
            Some(steps) => Body::Steps(steps),
            None => {
                let slot: Slot = Arc::new(Mutex::new(Vec::new()));
                let feed: Arc<dyn ExecutionPlan> =
                    Arc::new(FeedExec::new(leaf_schema, Arc::clone(&slot)));
                let plan = replace_leaf(root, leaf, &feed)?;
                if plan.output_partitioning().partition_count() != 1 {
                    return Err(EngineError::Plan(
                        "internal: the SQL plan has more than one partition".into(),
                    ));
                }
                Body::Plan { plan, slot, task }
            }
        };
        Ok(Stage {
            leaf_projection,
            body,
        })
    }

    /// Whether the fragment runs as direct expression evaluation (no DataFusion streams).
    pub fn is_direct(&self) -> bool {
        matches!(self.body, Body::Steps(_))
    }

    /// Run the fragment over `batches`; the output holds no empty batches.
    pub fn run(&self, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        let batches: Vec<RecordBatch> = match &self.leaf_projection {
            None => batches,
            Some(p) => batches
                .iter()
                .map(|b| b.project(p))
                .collect::<Result<_, _>>()?,
        };
        let out = match &self.body {
            Body::Steps(steps) => {
                let mut out = Vec::with_capacity(batches.len());
                for b in batches {
                    let b = run_steps(steps, b)?;
                    if b.num_rows() > 0 {
                        out.push(b);
                    }
                }
                out
            }
            Body::Plan { plan, slot, task } => {
                match slot.lock() {
                    Ok(mut s) => *s = batches,
                    Err(_) => return Err(EngineError::Plan("internal: plan feed poisoned".into())),
                }
                let run = || -> Result<Vec<RecordBatch>> {
                    let stream = plan.execute(0, Arc::clone(task))?;
                    Ok(futures::executor::block_on(stream.try_collect::<Vec<_>>())?)
                };
                // Inside a tokio runtime DataFusion spawns helper tasks (sorts) that a
                // blocked worker might never run: execute on a thread of our own then.
                let collected = if tokio::runtime::Handle::try_current().is_ok() {
                    std::thread::scope(|s| s.spawn(run).join()).map_err(|_| {
                        EngineError::Plan("internal: SQL plan execution panicked".into())
                    })??
                } else {
                    run()?
                };
                collected.into_iter().filter(|b| b.num_rows() > 0).collect()
            }
        };
        Ok(out)
    }
}

fn run_steps(steps: &[Step], mut batch: RecordBatch) -> Result<RecordBatch> {
    for step in steps {
        batch = match step {
            Step::Filter {
                predicate,
                projection,
            } => {
                let mask = predicate.evaluate(&batch)?.into_array(batch.num_rows())?;
                let mask = mask
                    .as_any()
                    .downcast_ref::<BooleanArray>()
                    .ok_or_else(|| {
                        EngineError::Plan(format!(
                            "WHERE/HAVING condition is {}, not BOOLEAN",
                            mask.data_type()
                        ))
                    })?;
                let batch = match projection {
                    Some(p) => batch.project(p)?,
                    None => batch,
                };
                if mask.true_count() == mask.len() && mask.null_count() == 0 {
                    batch
                } else {
                    filter_record_batch(&batch, mask)?
                }
            }
            Step::Project { exprs, schema } => {
                let n = batch.num_rows();
                let columns = exprs
                    .iter()
                    .map(|e| e.evaluate(&batch).and_then(|v| v.into_array(n)))
                    .collect::<Result<Vec<ArrayRef>, _>>()?;
                RecordBatch::try_new_with_options(
                    Arc::clone(schema),
                    columns,
                    &RecordBatchOptions::new().with_row_count(Some(n)),
                )?
            }
        };
    }
    Ok(batch)
}

/// The filter/projection chain from `root` down to `leaf`, bottom first; None if the
/// fragment holds anything else.
fn steps(root: &Arc<dyn ExecutionPlan>, leaf: &Arc<dyn ExecutionPlan>) -> Option<Vec<Step>> {
    let mut out = Vec::new();
    let mut node = Arc::clone(root);
    while !same_node(&node, leaf) {
        let next = if let Some(p) = node.downcast_ref::<ProjectionExec>() {
            out.push(Step::Project {
                exprs: p.expr().iter().map(|e| Arc::clone(&e.expr)).collect(),
                schema: p.schema(),
            });
            Arc::clone(p.input())
        } else if let Some(f) = node.downcast_ref::<FilterExec>() {
            if f.fetch().is_some() {
                return None;
            }
            out.push(Step::Filter {
                predicate: Arc::clone(f.predicate()),
                projection: f.projection().as_ref().map(|p| p.to_vec()),
            });
            Arc::clone(f.input())
        } else if let Some(c) = node.downcast_ref::<CooperativeExec>() {
            Arc::clone(c.input())
        } else {
            return None;
        };
        node = next;
    }
    out.reverse();
    Some(out)
}

/// `root` with the node `leaf` replaced by `feed`.
fn replace_leaf(
    root: &Arc<dyn ExecutionPlan>,
    leaf: &Arc<dyn ExecutionPlan>,
    feed: &Arc<dyn ExecutionPlan>,
) -> Result<Arc<dyn ExecutionPlan>> {
    if same_node(root, leaf) {
        return Ok(Arc::clone(feed));
    }
    let children = root
        .children()
        .into_iter()
        .map(|c| replace_leaf(c, leaf, feed))
        .collect::<Result<Vec<_>>>()?;
    Ok(replace_children_if_necessary(Arc::clone(root), children)?)
}
