//! Plans a SQL operator's query once: the rewritten statements go through DataFusion
//! (logical and physical planning against empty tables), then the physical plan is
//! checked for what a stream can run and cut into the stages the operator runs:
//! a stateless stage, or lower stage → windowed aggregation → upper stage.

use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use sqlparser::ast::Statement;

use super::InputTable;
use super::aggregate::{WindowState, WindowedAggregate};
use super::rewrite::{WINDOW_TABLE, rewrite};
use super::session::{SessionAggregate, check_lower};
use super::stage::{Stage, same_node};
use super::window::{WindowExpander, Windowing, window_table_schema};
use crate::error::{EngineError, Result};

/// What the operator runs per batch and per firing.
pub enum Shape {
    /// Projection / filter / scalar functions, per batch.
    Stateless(Stage),
    /// A windowed aggregation: `lower` per (expanded) batch into `aggregate`, `upper`
    /// over the groups of fired windows.
    Windowed {
        lower: Stage,
        aggregate: Box<dyn WindowState>,
        upper: Stage,
    },
}

/// A planned query.
pub struct Planned {
    pub shape: Shape,
    pub schema: SchemaRef,
    /// The input the query reads.
    pub input_index: usize,
    pub input_schema: SchemaRef,
    /// Present when the query reads a window table function.
    pub expander: Option<WindowExpander>,
}

/// Plan `query` over `inputs`.
pub fn plan_query(query: &str, inputs: &[InputTable]) -> Result<Planned> {
    let rw = rewrite(query)?;
    let table_name = match &rw.window {
        Some(w) => w.table.clone(),
        None => rw.source.clone(),
    };
    let input_index = inputs
        .iter()
        .position(|t| t.name == table_name)
        .or_else(|| inputs.iter().position(|t| t.name.eq_ignore_ascii_case(&table_name)))
        .ok_or_else(|| {
            let known: Vec<&str> = inputs.iter().map(|t| t.name.as_str()).collect();
            EngineError::Plan(format!(
                "the query reads table `{table_name}`, which is not an input of this SQL operator (inputs: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ))
        })?;
    let input = &inputs[input_index];
    let input_schema = Arc::clone(&input.schema);

    let (table_schema, expander) = match &rw.window {
        Some(w) => {
            let time_index = input_schema
                .fields()
                .iter()
                .position(|f| f.name() == &w.time_column)
                .or_else(|| {
                    input_schema
                        .fields()
                        .iter()
                        .position(|f| f.name().eq_ignore_ascii_case(&w.time_column))
                })
                .ok_or_else(|| {
                    EngineError::Plan(format!(
                        "DESCRIPTOR({}) names no column of `{}`",
                        w.time_column, input.name
                    ))
                })?;
            let field = input_schema.field(time_index);
            if !matches!(
                field.data_type(),
                DataType::Timestamp(TimeUnit::Millisecond, _)
            ) {
                return Err(EngineError::Plan(format!(
                    "DESCRIPTOR({}): the column is {}, a window needs a TIMESTAMP(3) event-time column",
                    field.name(),
                    field.data_type()
                )));
            }
            if let Some(et) = &input.event_time
                && !et.eq_ignore_ascii_case(field.name())
            {
                return Err(EngineError::Plan(format!(
                    "DESCRIPTOR({}) must name the event-time column of `{}`, which is `{et}`",
                    field.name(),
                    input.name
                )));
            }
            let schema = window_table_schema(&input_schema)?;
            let expander = WindowExpander {
                windowing: w.windowing.clone(),
                time_index,
                schema: Arc::clone(&schema),
            };
            (schema, Some(expander))
        }
        None => (Arc::clone(&input_schema), None),
    };

    let ctx = session()?;
    let register_as = if rw.window.is_some() {
        WINDOW_TABLE.to_string()
    } else {
        rw.source.clone()
    };
    let table = Arc::new(MemTable::try_new(Arc::clone(&table_schema), vec![vec![]])?);
    let mut names = vec![register_as.clone()];
    if register_as.to_lowercase() != register_as {
        names.push(register_as.to_lowercase());
    }
    for name in names {
        ctx.register_table(TableReference::bare(name), Arc::clone(&table) as _)?;
    }
    let plan = physical_plan(&ctx, rw.statements)?;
    let schema = plan.schema();
    let task = ctx.task_ctx();

    let nodes = all_nodes(&plan);
    for node in &nodes {
        refuse_node(node.name())?;
    }
    let leaves: Vec<&Arc<dyn ExecutionPlan>> =
        nodes.iter().filter(|n| n.children().is_empty()).collect();
    let [leaf] = leaves.as_slice() else {
        return Err(EngineError::unsupported(
            "a query over several inputs (join or union)",
            None,
        ));
    };
    if leaf.name() != "DataSourceExec" {
        return Err(EngineError::Plan(format!(
            "the query can never produce a row (DataFusion planned it as {}); check its WHERE condition",
            leaf.name()
        )));
    }
    let aggregates: Vec<&Arc<dyn ExecutionPlan>> = nodes
        .iter()
        .filter(|n| n.downcast_ref::<AggregateExec>().is_some())
        .collect();
    let windows: Vec<&Arc<dyn ExecutionPlan>> = nodes
        .iter()
        .filter(|n| {
            n.downcast_ref::<BoundedWindowAggExec>().is_some()
                || n.downcast_ref::<WindowAggExec>().is_some()
        })
        .collect();

    let session = match rw.window.as_ref().map(|w| &w.windowing) {
        Some(Windowing::Session { partition, .. }) => Some(partition.clone()),
        _ => None,
    };
    let shape = match aggregates.as_slice() {
        [] if session.is_some() => {
            return Err(EngineError::unsupported(
                "SESSION windows without GROUP BY window_start, window_end (rows of a session are known only when it closes)",
                Some(
                    "aggregate the sessions: FROM TABLE(SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' MINUTE)) GROUP BY window_start, window_end, k",
                ),
            ));
        }
        [] => {
            if !windows.is_empty() {
                return Err(EngineError::unsupported(
                    "OVER window functions on a stream without a windowed aggregation (OVER aggregation, TopN without window)",
                    Some(
                        "per-window TopN: ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY ...) over a GROUP BY window_start, window_end aggregation",
                    ),
                ));
            }
            Shape::Stateless(Stage::compile(&plan, leaf, &table_schema, task)?)
        }
        [agg_node] => {
            if rw.window.is_none() {
                return Err(EngineError::unsupported(
                    "GROUP BY without a window table function",
                    Some(
                        "streaming aggregation needs a window (TUMBLE, HOP, CUMULATE or SESSION): FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, ... or GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), ...",
                    ),
                ));
            }
            let Some(agg) = agg_node.downcast_ref::<AggregateExec>() else {
                return Err(EngineError::Plan("internal: aggregation node lost".into()));
            };
            let below = all_nodes(agg.input());
            if below
                .iter()
                .any(|n| windows.iter().any(|w| same_node(n, w)))
            {
                return Err(EngineError::unsupported(
                    "OVER window functions below a windowed aggregation",
                    None,
                ));
            }
            for w in &windows {
                check_window_partition(w)?;
            }
            let aggregate: Box<dyn WindowState> = match &session {
                None => Box::new(WindowedAggregate::new(agg)?),
                Some(partition) => {
                    if !windows.is_empty() {
                        return Err(EngineError::unsupported(
                            "window TopN (OVER window functions) over SESSION windows",
                            Some("TopN runs over TUMBLE, HOP and CUMULATE windows"),
                        ));
                    }
                    check_lower(agg.input())?;
                    Box::new(SessionAggregate::new(agg, partition)?)
                }
            };
            let lower = Stage::compile(agg.input(), leaf, &table_schema, Arc::clone(&task))?;
            let upper = Stage::compile(&plan, agg_node, &aggregate.output_schema(), task)?;
            Shape::Windowed {
                lower,
                aggregate,
                upper,
            }
        }
        _ => {
            return Err(EngineError::unsupported(
                "several aggregations stacked (an aggregation over the result of another, or COUNT(DISTINCT) planned in two steps)",
                Some("one windowed GROUP BY per SQL operator; chain SQL operators for more"),
            ));
        }
    };
    Ok(Planned {
        shape,
        schema,
        input_index,
        input_schema,
        expander,
    })
}

/// A session planning for one partition, without the rewrites that do not fit a stream:
/// answering aggregates from (empty) table statistics, and COUNT(DISTINCT x) as two
/// stacked aggregations.
fn session() -> Result<SessionContext> {
    let state = SessionStateBuilder::new()
        .with_config(
            SessionConfig::new()
                .with_target_partitions(1)
                // identifiers keep their case, as in Flink (`userId` is not `userid`)
                .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
                // spans of columns and tables, so a refusal points at the word it is about
                .set_bool("datafusion.sql_parser.collect_spans", true),
        )
        .with_default_features()
        .build();
    let rules: Vec<_> = state
        .physical_optimizers()
        .iter()
        .filter(|r| r.name() != "aggregate_statistics")
        .cloned()
        .collect();
    let state = SessionStateBuilder::new_from_existing(state)
        .with_physical_optimizer_rules(rules)
        .build();
    let ctx = SessionContext::new_with_state(state);
    ctx.remove_optimizer_rule("single_distinct_aggregation_to_group_by");
    Ok(ctx)
}

/// Plan the views, then the query, to a physical plan.
fn physical_plan(
    ctx: &SessionContext,
    statements: Vec<Statement>,
) -> Result<Arc<dyn ExecutionPlan>> {
    futures::executor::block_on(async {
        let state = ctx.state();
        let mut last = None;
        for st in statements {
            let is_view = matches!(st, Statement::CreateView(_));
            let logical = state
                .statement_to_plan(DfStatement::Statement(Box::new(st)))
                .await?;
            let df = ctx.execute_logical_plan(logical).await?;
            if !is_view {
                last = Some(df.create_physical_plan().await?);
            }
        }
        last.ok_or_else(|| EngineError::Plan("the SQL operator has no final query".into()))
    })
}

/// Every node of `plan`, parents before children.
fn all_nodes(plan: &Arc<dyn ExecutionPlan>) -> Vec<Arc<dyn ExecutionPlan>> {
    let mut out = vec![Arc::clone(plan)];
    let mut i = 0;
    while i < out.len() {
        let children: Vec<Arc<dyn ExecutionPlan>> =
            out[i].children().into_iter().cloned().collect();
        out.extend(children);
        i += 1;
    }
    out
}

/// Refuse plan nodes a stream cannot run, naming the SQL construct behind them.
fn refuse_node(name: &str) -> Result<()> {
    const RUN: [&str; 14] = [
        "ProjectionExec",
        "FilterExec",
        "CoalesceBatchesExec",
        "CooperativeExec",
        "DataSourceExec",
        "AggregateExec",
        "SortExec",
        "BoundedWindowAggExec",
        "WindowAggExec",
        "CoalescePartitionsExec",
        "SortPreservingMergeExec",
        "UnnestExec",
        "EmptyExec",
        "PlaceholderRowExec",
    ];
    if RUN.contains(&name) {
        return Ok(());
    }
    let construct = if name.contains("Join") {
        format!("JOIN ({name})")
    } else if name.contains("Union") || name.contains("Interleave") {
        "UNION".to_string()
    } else if name.contains("Limit") {
        "LIMIT".to_string()
    } else {
        format!("the plan step {name}")
    };
    Err(EngineError::unsupported(construct, None))
}

/// A window function over the aggregation must partition by both window columns, so
/// that running it over the fired windows' groups ranks within each window.
fn check_window_partition(node: &Arc<dyn ExecutionPlan>) -> Result<()> {
    let exprs = if let Some(w) = node.downcast_ref::<BoundedWindowAggExec>() {
        w.window_expr().to_vec()
    } else if let Some(w) = node.downcast_ref::<WindowAggExec>() {
        w.window_expr().to_vec()
    } else {
        return Ok(());
    };
    for e in exprs {
        let keys: Vec<&str> = e
            .partition_by()
            .iter()
            .filter_map(|k| k.downcast_ref::<Column>().map(Column::name))
            .collect();
        if !(keys.contains(&"window_start") && keys.contains(&"window_end")) {
            let name = e.name();
            let short = name.split(" PARTITION BY").next().unwrap_or(name);
            return Err(EngineError::unsupported(
                format!(
                    "{short} OVER (PARTITION BY ...) without window_start and window_end over a windowed source"
                ),
                Some(
                    "per-window TopN partitions by the window: ROW_NUMBER() OVER (PARTITION BY window_start, window_end[, keys] ORDER BY ...)",
                ),
            ));
        }
    }
    Ok(())
}
