//! Windowed aggregation state: [`AggregateParts`] (the planned aggregation taken apart),
//! the [`WindowState`] the operator drives, and its fixed-window form: per window (keyed by
//! `window_end`) a table of groups (the GROUP BY values, as arrow rows) and DataFusion
//! `GroupsAccumulator`s holding the partial aggregates. Rows are never buffered. When a
//! window fires its groups are evaluated into one batch with the schema of the
//! `AggregateExec` they replace. Sessions live in `session.rs`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Int64Array, TimestampMillisecondArray, UInt32Array,
};
use arrow::compute::take;
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, Rows, SortField};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::{GroupsAccumulatorAdapter, PhysicalExpr};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode, aggregate_expressions};

use crate::error::{EngineError, Result};

/// The pieces of the planned `AggregateExec` the operator evaluates itself, shared by the
/// fixed windows here and the sessions of `session.rs`.
pub struct AggregateParts {
    pub group_exprs: Vec<Arc<dyn PhysicalExpr>>,
    /// The GROUP BY names and types (the state's keys, compared by an upgrade).
    pub group_names: Vec<(String, String)>,
    pub aggs: Vec<Arc<AggregateFunctionExpr>>,
    pub args: Vec<Vec<Arc<dyn PhysicalExpr>>>,
    pub filters: Vec<Option<Arc<dyn PhysicalExpr>>>,
    pub output_schema: SchemaRef,
    /// The schema of the batches the aggregation reads.
    pub input_schema: SchemaRef,
}

/// One batch evaluated for the aggregation: GROUP BY columns, each aggregate's arguments
/// and FILTER mask.
pub struct Evaluated {
    pub group_cols: Vec<ArrayRef>,
    pub args: Vec<Vec<ArrayRef>>,
    pub filters: Vec<Option<BooleanArray>>,
}

impl AggregateParts {
    /// Take the aggregation of `exec` apart (mode Single: raw rows in, final values out);
    /// its GROUP BY must hold `window_start` and `window_end`.
    pub fn new(exec: &AggregateExec) -> Result<Self> {
        if !matches!(
            exec.mode(),
            AggregateMode::Single | AggregateMode::SinglePartitioned
        ) {
            return Err(EngineError::Plan(format!(
                "internal: expected a single-stage aggregation, the plan has {:?}",
                exec.mode()
            )));
        }
        let group_by = exec.group_expr();
        if group_by.has_grouping_set() {
            return Err(EngineError::unsupported(
                "GROUPING SETS / ROLLUP / CUBE",
                None,
            ));
        }
        let names: Vec<&str> = group_by.expr().iter().map(|(_, n)| n.as_str()).collect();
        if !(names.contains(&"window_start") && names.contains(&"window_end")) {
            return Err(EngineError::unsupported(
                "GROUP BY without window_start and window_end over a window table function",
                Some(
                    "a windowed aggregation groups by window_start, window_end (and any keys), e.g. GROUP BY window_start, window_end, url",
                ),
            ));
        }
        let input_schema = exec.input_schema();
        let group_exprs: Vec<Arc<dyn PhysicalExpr>> =
            group_by.expr().iter().map(|(e, _)| Arc::clone(e)).collect();
        let group_names = group_by
            .expr()
            .iter()
            .zip(&group_exprs)
            .map(|((_, n), e)| Ok((n.clone(), e.data_type(&input_schema)?.to_string())))
            .collect::<Result<Vec<_>>>()?;
        let aggs = exec.aggr_expr().to_vec();
        let args = aggregate_expressions(&aggs, exec.mode(), 0)?;
        Ok(AggregateParts {
            group_exprs,
            group_names,
            args,
            filters: exec.filter_expr().to_vec(),
            aggs,
            output_schema: exec.schema(),
            input_schema,
        })
    }

    /// Position of the GROUP BY expression named `name`.
    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.group_names.iter().position(|(n, _)| n == name)
    }

    /// The GROUP BY columns, aggregate arguments and FILTER masks of `batch`.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<Evaluated> {
        let n = batch.num_rows();
        let group_cols = self
            .group_exprs
            .iter()
            .map(|e| e.evaluate(batch).and_then(|v| v.into_array(n)))
            .collect::<Result<Vec<ArrayRef>, _>>()?;
        let args = self
            .args
            .iter()
            .map(|exprs| {
                exprs
                    .iter()
                    .map(|e| e.evaluate(batch).and_then(|v| v.into_array(n)))
                    .collect::<Result<Vec<ArrayRef>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let filters = self
            .filters
            .iter()
            .map(|f| match f {
                None => Ok(None),
                Some(f) => {
                    let a = f.evaluate(batch)?.into_array(n)?;
                    a.as_any()
                        .downcast_ref::<BooleanArray>()
                        .cloned()
                        .map(Some)
                        .ok_or_else(|| {
                            EngineError::Plan("FILTER (WHERE ...) is not BOOLEAN".into())
                        })
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Evaluated {
            group_cols,
            args,
            filters,
        })
    }

    /// The GROUP BY keys (name, type) and the aggregates' names: what the state is made of.
    pub fn describe(&self) -> (Vec<(String, String)>, Vec<String>) {
        let aggs = self.aggs.iter().map(|a| a.name().to_string()).collect();
        (self.group_names.clone(), aggs)
    }
}

/// The state of a windowed aggregation, fixed windows or sessions, as the operator drives
/// it: rows in, fired windows out, snapshots for checkpoints.
pub trait WindowState: Send {
    /// The schema of the batches [`WindowState::fire`] returns.
    fn output_schema(&self) -> SchemaRef;
    /// How many windows hold state.
    fn open_windows(&self) -> usize;
    /// The end of the last window holding state: a watermark there fires them all.
    fn last_window_end(&self) -> Option<i64>;
    /// Add a batch with the aggregation's input schema to its windows.
    fn update(&mut self, batch: &RecordBatch) -> Result<()>;
    /// Evaluate and forget every window with `window_end <= watermark`, oldest first.
    fn fire(&mut self, watermark: i64) -> Result<Vec<RecordBatch>>;
    /// Windows with an end at or before this have fired.
    fn fired_up_to(&self) -> i64;
    /// The GROUP BY keys (name, type) and the aggregates' names.
    fn describe(&self) -> (Vec<(String, String)>, Vec<String>);
    /// The open windows as batches for a checkpoint.
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>>;
    /// Take back what [`WindowState::snapshot`] saved; `what` names the state in errors.
    fn restore(&mut self, batches: &[RecordBatch], fired_up_to: i64, what: &str) -> Result<()>;
}

/// Windowed aggregation over fixed windows (TUMBLE, HOP, CUMULATE).
pub struct WindowedAggregate {
    parts: AggregateParts,
    /// Position of `window_end` among the group expressions.
    end_index: usize,
    converter: RowConverter,
    windows: BTreeMap<i64, WindowGroups>,
    /// Windows with an end at or before this have fired and stay closed.
    fired_up_to: i64,
    /// Rows that arrived for a window already fired (cannot happen for rows at or after
    /// the watermark, kept as a guard).
    pub closed_window_rows: u64,
}

struct WindowGroups {
    index: HashMap<Box<[u8]>, u32>,
    keys: Rows,
    accs: Vec<Box<dyn GroupsAccumulator>>,
}

impl WindowedAggregate {
    /// Take over the aggregation of `exec` (mode Single: raw rows in, final values out).
    /// The GROUP BY must hold `window_start` and `window_end`.
    pub fn new(exec: &AggregateExec) -> Result<Self> {
        let parts = AggregateParts::new(exec)?;
        let end_index = parts
            .group_index("window_end")
            .ok_or_else(|| EngineError::Plan("internal: window_end lost".into()))?;
        let fields = parts
            .group_exprs
            .iter()
            .map(|e| e.data_type(&parts.input_schema).map(SortField::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WindowedAggregate {
            parts,
            end_index,
            converter: RowConverter::new(fields)?,
            windows: BTreeMap::new(),
            fired_up_to: i64::MIN,
            closed_window_rows: 0,
        })
    }
}

impl WindowState for WindowedAggregate {
    fn output_schema(&self) -> SchemaRef {
        Arc::clone(&self.parts.output_schema)
    }

    fn open_windows(&self) -> usize {
        self.windows.len()
    }

    fn last_window_end(&self) -> Option<i64> {
        self.windows.keys().next_back().copied()
    }

    fn fired_up_to(&self) -> i64 {
        self.fired_up_to
    }

    fn describe(&self) -> (Vec<(String, String)>, Vec<String>) {
        self.parts.describe()
    }

    fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows();
        if n == 0 {
            return Ok(());
        }
        let Evaluated {
            group_cols,
            args,
            filters,
        } = self.parts.evaluate(batch)?;
        let ends = group_cols[self.end_index]
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .ok_or_else(|| EngineError::Plan("window_end is not a TIMESTAMP(3) column".into()))?
            .clone();
        let rows = self.converter.convert_columns(&group_cols)?;

        // rows by window, in order of first appearance
        let single = ends.null_count() == 0 && ends.values().iter().all(|e| *e == ends.value(0));
        let parts: Vec<(i64, Option<Vec<u32>>)> = if single {
            vec![(ends.value(0), None)]
        } else {
            let mut order: Vec<i64> = Vec::new();
            let mut by_end: HashMap<i64, Vec<u32>> = HashMap::new();
            for i in 0..n {
                if ends.is_null(i) {
                    continue;
                }
                let e = ends.value(i);
                by_end
                    .entry(e)
                    .or_insert_with(|| {
                        order.push(e);
                        Vec::new()
                    })
                    .push(i as u32);
            }
            order.into_iter().map(|e| (e, by_end.remove(&e))).collect()
        };

        for (end, idx) in parts {
            let count = idx.as_ref().map_or(n, Vec::len);
            if end <= self.fired_up_to {
                self.closed_window_rows += count as u64;
                continue;
            }
            let window = match self.windows.entry(end) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => v.insert(WindowGroups {
                    index: HashMap::new(),
                    keys: self.converter.empty_rows(16, 256),
                    accs: self
                        .parts
                        .aggs
                        .iter()
                        .map(|a| groups_accumulator(a))
                        .collect::<Result<_>>()?,
                }),
            };
            let mut group_ids = Vec::with_capacity(count);
            let mut assign = |i: usize| {
                let row = rows.row(i);
                let id = match window.index.get(row.as_ref()) {
                    Some(id) => *id,
                    None => {
                        let id = window.keys.num_rows() as u32;
                        window.keys.push(row);
                        window.index.insert(row.as_ref().into(), id);
                        id
                    }
                };
                group_ids.push(id as usize);
            };
            match &idx {
                None => (0..n).for_each(&mut assign),
                Some(idx) => idx.iter().for_each(|i| assign(*i as usize)),
            }
            let total = window.keys.num_rows();
            let take_idx = idx.map(UInt32Array::from);
            for (k, acc) in window.accs.iter_mut().enumerate() {
                let values: Vec<ArrayRef> = match &take_idx {
                    None => args[k].clone(),
                    Some(t) => args[k]
                        .iter()
                        .map(|a| take(a.as_ref(), t, None))
                        .collect::<Result<_, _>>()?,
                };
                let filter = match (&filters[k], &take_idx) {
                    (None, _) => None,
                    (Some(f), None) => Some(f.clone()),
                    (Some(f), Some(t)) => {
                        let taken = take(f, t, None)?;
                        taken.as_any().downcast_ref::<BooleanArray>().cloned()
                    }
                };
                acc.update_batch(&values, &group_ids, filter.as_ref(), total)?;
            }
        }
        Ok(())
    }

    fn fire(&mut self, watermark: i64) -> Result<Vec<RecordBatch>> {
        if watermark <= self.fired_up_to {
            return Ok(Vec::new());
        }
        self.fired_up_to = watermark;
        let fired = if watermark == i64::MAX {
            std::mem::take(&mut self.windows)
        } else {
            let rest = self.windows.split_off(&(watermark + 1));
            std::mem::replace(&mut self.windows, rest)
        };
        let mut out = Vec::with_capacity(fired.len());
        for (_, mut w) in fired {
            if w.keys.num_rows() == 0 {
                continue;
            }
            let mut columns = self.converter.convert_rows(w.keys.iter())?;
            for acc in w.accs.iter_mut() {
                columns.push(acc.evaluate(EmitTo::All)?);
            }
            out.push(RecordBatch::try_new(
                Arc::clone(&self.parts.output_schema),
                columns,
            )?);
        }
        Ok(out)
    }

    /// The open windows' state for a checkpoint: one batch per window (`window_end`, the
    /// group keys, then each aggregate's partial state). Taking an accumulator's state
    /// empties it, so each is rebuilt from that same state at once.
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::with_capacity(self.windows.len());
        for (&end, w) in self.windows.iter_mut() {
            let n = w.keys.num_rows();
            if n == 0 {
                continue;
            }
            let mut columns: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![end; n]))];
            columns.extend(self.converter.convert_rows(w.keys.iter())?);
            let ids: Vec<usize> = (0..n).collect();
            let mut rebuilt = Vec::with_capacity(w.accs.len());
            for (acc, agg) in w.accs.iter_mut().zip(&self.parts.aggs) {
                let state = acc.state(EmitTo::All)?;
                let mut again = groups_accumulator(agg)?;
                again.merge_batch(&state, &ids, n)?;
                columns.extend(state);
                rebuilt.push(again);
            }
            w.accs = rebuilt;
            let fields: Vec<Field> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
                .collect();
            out.push(RecordBatch::try_new(
                Arc::new(Schema::new(fields)),
                columns,
            )?);
        }
        Ok(out)
    }

    /// Takes back the windows [`WindowState::snapshot`] saved; `what` names the state in
    /// errors (a state of another query does not fit and is refused).
    fn restore(&mut self, batches: &[RecordBatch], fired_up_to: i64, what: &str) -> Result<()> {
        let misfit =
            |why: String| EngineError::Config(format!("{what} does not fit this query: {why}"));
        let widths = self
            .parts
            .aggs
            .iter()
            .map(|a| a.state_fields().map(|f| f.len()))
            .collect::<Result<Vec<_>, _>>()?;
        let keys_n = self.parts.group_exprs.len();
        let want = 1 + keys_n + widths.iter().sum::<usize>();
        self.windows.clear();
        self.fired_up_to = fired_up_to;
        for b in batches {
            let n = b.num_rows();
            if n == 0 {
                continue;
            }
            if b.num_columns() != want {
                return Err(misfit(format!(
                    "it has {} columns per window, this query keeps {want}",
                    b.num_columns()
                )));
            }
            let end = b
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .filter(|a| a.null_count() == 0)
                .map(|a| a.value(0))
                .ok_or_else(|| misfit("its window end is not a number".into()))?;
            let keys = self
                .converter
                .convert_columns(&b.columns()[1..1 + keys_n])
                .map_err(|e| misfit(format!("its group keys have other types ({e})")))?;
            let mut index = HashMap::with_capacity(n);
            for i in 0..n {
                index.insert(keys.row(i).as_ref().into(), i as u32);
            }
            let ids: Vec<usize> = (0..n).collect();
            let mut accs = Vec::with_capacity(self.parts.aggs.len());
            let mut at = 1 + keys_n;
            for (agg, width) in self.parts.aggs.iter().zip(&widths) {
                let mut acc = groups_accumulator(agg)?;
                acc.merge_batch(&b.columns()[at..at + width], &ids, n)
                    .map_err(|e| {
                        misfit(format!("the state of {} does not merge ({e})", agg.name()))
                    })?;
                at += width;
                accs.push(acc);
            }
            self.windows.insert(end, WindowGroups { index, keys, accs });
        }
        Ok(())
    }
}

pub(super) fn groups_accumulator(
    agg: &Arc<AggregateFunctionExpr>,
) -> Result<Box<dyn GroupsAccumulator>> {
    if agg.groups_accumulator_supported() {
        return Ok(agg.create_groups_accumulator()?);
    }
    let agg = Arc::clone(agg);
    Ok(Box::new(GroupsAccumulatorAdapter::new(move || {
        agg.create_accumulator()
    })))
}
