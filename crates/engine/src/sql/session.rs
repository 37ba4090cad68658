//! SESSION windows of a windowed aggregation, as Flink runs them: sessions are kept per
//! GROUP BY key (the columns besides `window_start` and `window_end`); a row opens
//! `[ts, ts + gap)`, and the sessions of its key that overlap or touch it (Flink's
//! `TimeWindow.intersects`: `start <= other.end && end >= other.start`) merge into one,
//! their partial aggregates merged (DataFusion `Accumulator::state` / `merge_batch`). A row
//! arriving late within the watermark bound can so bridge two sessions. A session fires
//! when the watermark reaches its end. Fixed windows live in `aggregate.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, TimestampMillisecondArray, UInt32Array};
use arrow::compute::{cast, take};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Accumulator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;

use super::aggregate::{AggregateParts, Evaluated, WindowState};
use super::window::WINDOW_COLUMNS;
use crate::error::{EngineError, Result};

/// One open session of one key.
struct Session {
    /// The GROUP BY key (without the window columns) as arrow row bytes.
    key: Box<[u8]>,
    start: i64,
    end: i64,
    accs: Vec<Box<dyn Accumulator>>,
}

/// Windowed aggregation over SESSION windows.
pub struct SessionAggregate {
    parts: AggregateParts,
    start_index: usize,
    end_index: usize,
    /// Positions of the key columns among the GROUP BY expressions.
    key_indices: Vec<usize>,
    /// Over the key columns; None when the GROUP BY has only the window columns.
    converter: Option<RowConverter>,
    /// Sessions by slot; a merged-away session leaves its slot empty.
    sessions: Vec<Option<Session>>,
    free: Vec<usize>,
    /// Per key, its sessions by start (disjoint and not touching).
    by_key: HashMap<Box<[u8]>, BTreeMap<i64, usize>>,
    /// Every session by end, to fire them in order.
    by_end: BTreeSet<(i64, usize)>,
    fired_up_to: i64,
}

fn window_column(name: &str) -> bool {
    WINDOW_COLUMNS.contains(&name)
}

fn reads_window(e: &Arc<dyn PhysicalExpr>) -> bool {
    collect_columns(e).iter().any(|c| window_column(c.name()))
}

impl SessionAggregate {
    /// Take over the aggregation of `exec` over SESSION windows whose `PARTITION BY`
    /// names `partition`.
    pub fn new(exec: &AggregateExec, partition: &[String]) -> Result<Self> {
        let parts = AggregateParts::new(exec)?;
        let (Some(start_index), Some(end_index)) = (
            parts.group_index("window_start"),
            parts.group_index("window_end"),
        ) else {
            return Err(EngineError::Plan("internal: window columns lost".into()));
        };
        if parts.group_index("window_time").is_some() {
            return Err(EngineError::unsupported(
                "GROUP BY window_time over SESSION windows",
                Some("group sessions by window_start, window_end (and keys)"),
            ));
        }
        let key_indices: Vec<usize> = (0..parts.group_exprs.len())
            .filter(|i| *i != start_index && *i != end_index)
            .collect();
        for p in partition {
            let grouped = key_indices.iter().any(|&i| {
                let name = &parts.group_names[i].0;
                let bare = name.rsplit('.').next().unwrap_or(name);
                bare.eq_ignore_ascii_case(p)
            });
            if !grouped {
                return Err(EngineError::unsupported(
                    format!("SESSION ... PARTITION BY {p} with a GROUP BY without {p}"),
                    Some(
                        "sessions are kept per GROUP BY key: group by the PARTITION BY columns too, e.g. GROUP BY window_start, window_end, <the PARTITION BY columns>",
                    ),
                ));
            }
        }
        let window_args = parts.args.iter().flatten().any(reads_window)
            || parts.filters.iter().flatten().any(reads_window)
            || key_indices
                .iter()
                .any(|&i| reads_window(&parts.group_exprs[i]));
        if window_args {
            return Err(EngineError::unsupported(
                "window_start / window_end / window_time inside aggregates or GROUP BY expressions over SESSION windows",
                Some(
                    "a session's bounds are known when it fires: select window_start, window_end as GROUP BY columns",
                ),
            ));
        }
        let converter = if key_indices.is_empty() {
            None
        } else {
            let fields = key_indices
                .iter()
                .map(|&i| {
                    parts.group_exprs[i]
                        .data_type(&parts.input_schema)
                        .map(SortField::new)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some(RowConverter::new(fields)?)
        };
        Ok(SessionAggregate {
            parts,
            start_index,
            end_index,
            key_indices,
            converter,
            sessions: Vec::new(),
            free: Vec::new(),
            by_key: HashMap::new(),
            by_end: BTreeSet::new(),
            fired_up_to: i64::MIN,
        })
    }

    fn new_accs(&self) -> Result<Vec<Box<dyn Accumulator>>> {
        self.parts
            .aggs
            .iter()
            .map(|a| Ok(a.create_accumulator()?))
            .collect()
    }

    /// The slot of the session `[start, end)` of `key` lands in, after merging every
    /// session of that key it overlaps or touches. Merged-away slots are recorded in
    /// `forward` (old → survivor) and `retired` (freed after the batch).
    fn place(
        &mut self,
        key: &[u8],
        start: i64,
        end: i64,
        forward: &mut HashMap<usize, usize>,
        retired: &mut Vec<usize>,
    ) -> Result<usize> {
        let hits: Vec<(i64, usize)> = match self.by_key.get(key) {
            None => Vec::new(),
            Some(map) => {
                let mut hits = Vec::new();
                // sessions of a key are disjoint, so their ends grow with their starts
                for (&s, &slot) in map.range(..=end).rev() {
                    match &self.sessions[slot] {
                        Some(sess) if sess.end >= start => hits.push((s, slot)),
                        _ => break,
                    }
                }
                hits
            }
        };
        let Some(&(first_start, survivor)) = hits.first() else {
            let session = Session {
                key: key.into(),
                start,
                end,
                accs: self.new_accs()?,
            };
            let slot = match self.free.pop() {
                Some(slot) => {
                    self.sessions[slot] = Some(session);
                    slot
                }
                None => {
                    self.sessions.push(Some(session));
                    self.sessions.len() - 1
                }
            };
            self.by_key
                .entry(key.into())
                .or_default()
                .insert(start, slot);
            self.by_end.insert((end, slot));
            return Ok(slot);
        };
        let Some(mut merged) = self.sessions[survivor].take() else {
            return Err(EngineError::Plan(
                "internal: a session slot is empty".into(),
            ));
        };
        let old_end = merged.end;
        let map = self.by_key.entry(key.into()).or_default();
        map.remove(&first_start);
        for &(s, slot) in &hits[1..] {
            map.remove(&s);
            let Some(mut other) = self.sessions[slot].take() else {
                return Err(EngineError::Plan(
                    "internal: a session slot is empty".into(),
                ));
            };
            self.by_end.remove(&(other.end, slot));
            for (into, from) in merged.accs.iter_mut().zip(other.accs.iter_mut()) {
                let state = from
                    .state()?
                    .iter()
                    .map(ScalarValue::to_array)
                    .collect::<Result<Vec<_>, _>>()?;
                into.merge_batch(&state)?;
            }
            merged.start = merged.start.min(other.start);
            merged.end = merged.end.max(other.end);
            forward.insert(slot, survivor);
            retired.push(slot);
        }
        merged.start = merged.start.min(start);
        merged.end = merged.end.max(end);
        map.insert(merged.start, survivor);
        if merged.end != old_end {
            self.by_end.remove(&(old_end, survivor));
            self.by_end.insert((merged.end, survivor));
        }
        self.sessions[survivor] = Some(merged);
        Ok(survivor)
    }

    /// The key columns of `sessions`, in GROUP BY order of the key columns.
    fn key_columns(&self, sessions: &[&Session]) -> Result<Vec<ArrayRef>> {
        match &self.converter {
            None => Ok(Vec::new()),
            Some(conv) => {
                let parser = conv.parser();
                Ok(conv.convert_rows(sessions.iter().map(|s| parser.parse(&s.key)))?)
            }
        }
    }
}

fn timestamps(values: Vec<i64>) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from(values))
}

impl WindowState for SessionAggregate {
    fn output_schema(&self) -> SchemaRef {
        Arc::clone(&self.parts.output_schema)
    }

    fn open_windows(&self) -> usize {
        self.by_end.len()
    }

    fn last_window_end(&self) -> Option<i64> {
        self.by_end.last().map(|(end, _)| *end)
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
        let bound = |i: usize| {
            group_cols[i]
                .as_any()
                .downcast_ref::<TimestampMillisecondArray>()
                .cloned()
                .ok_or_else(|| {
                    EngineError::Plan("window_start / window_end is not a TIMESTAMP(3)".into())
                })
        };
        let (starts, ends) = (bound(self.start_index)?, bound(self.end_index)?);
        let key_cols: Vec<ArrayRef> = self
            .key_indices
            .iter()
            .map(|&i| Arc::clone(&group_cols[i]))
            .collect();
        let keys = match &self.converter {
            Some(conv) => Some(conv.convert_columns(&key_cols)?),
            None => None,
        };
        let mut forward = HashMap::new();
        let mut retired = Vec::new();
        let mut pending: Vec<(usize, u32)> = Vec::with_capacity(n);
        for i in 0..n {
            if starts.is_null(i) || ends.is_null(i) {
                continue;
            }
            let key: &[u8] = match &keys {
                Some(k) => k.row(i).data(),
                None => &[],
            };
            let slot = self.place(
                key,
                starts.value(i),
                ends.value(i),
                &mut forward,
                &mut retired,
            )?;
            pending.push((slot, i as u32));
        }
        let mut by_slot: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for (mut slot, i) in pending {
            while let Some(&next) = forward.get(&slot) {
                slot = next;
            }
            by_slot.entry(slot).or_default().push(i);
        }
        for (slot, rows) in by_slot {
            let Some(session) = self.sessions[slot].as_mut() else {
                return Err(EngineError::Plan(
                    "internal: rows for a closed session".into(),
                ));
            };
            for (k, acc) in session.accs.iter_mut().enumerate() {
                let idx: Vec<u32> = match &filters[k] {
                    None => rows.clone(),
                    Some(f) => rows
                        .iter()
                        .copied()
                        .filter(|&i| f.is_valid(i as usize) && f.value(i as usize))
                        .collect(),
                };
                if idx.is_empty() {
                    continue;
                }
                let idx = UInt32Array::from(idx);
                let values = args[k]
                    .iter()
                    .map(|a| take(a.as_ref(), &idx, None))
                    .collect::<Result<Vec<_>, _>>()?;
                acc.update_batch(&values)?;
            }
        }
        self.free.extend(retired);
        Ok(())
    }

    fn fire(&mut self, watermark: i64) -> Result<Vec<RecordBatch>> {
        if watermark <= self.fired_up_to {
            return Ok(Vec::new());
        }
        self.fired_up_to = watermark;
        let mut fired = Vec::new();
        while let Some(&(end, slot)) = self.by_end.first() {
            if end > watermark {
                break;
            }
            self.by_end.pop_first();
            let Some(session) = self.sessions[slot].take() else {
                return Err(EngineError::Plan(
                    "internal: a session slot is empty".into(),
                ));
            };
            if let Some(map) = self.by_key.get_mut(&session.key) {
                map.remove(&session.start);
                if map.is_empty() {
                    self.by_key.remove(&session.key);
                }
            }
            self.free.push(slot);
            fired.push(session);
        }
        if fired.is_empty() {
            return Ok(Vec::new());
        }
        let refs: Vec<&Session> = fired.iter().collect();
        let mut keys = self.key_columns(&refs)?.into_iter();
        let starts = timestamps(fired.iter().map(|s| s.start).collect());
        let ends = timestamps(fired.iter().map(|s| s.end).collect());
        let schema = Arc::clone(&self.parts.output_schema);
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        for i in 0..self.parts.group_exprs.len() {
            let column = if i == self.start_index {
                Arc::clone(&starts)
            } else if i == self.end_index {
                Arc::clone(&ends)
            } else {
                keys.next()
                    .ok_or_else(|| EngineError::Plan("internal: session key lost".into()))?
            };
            columns.push(column);
        }
        for k in 0..self.parts.aggs.len() {
            let values = fired
                .iter_mut()
                .map(|s| s.accs[k].evaluate())
                .collect::<Result<Vec<_>, _>>()?;
            columns.push(ScalarValue::iter_to_array(values)?);
        }
        let columns = columns
            .into_iter()
            .zip(schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c)
                } else {
                    cast(&c, f.data_type())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(vec![RecordBatch::try_new(schema, columns)?])
    }

    /// The open sessions for a checkpoint, as one batch: start, end, the key columns, then
    /// each aggregate's partial state. Taking an accumulator's state may empty it, so each
    /// is rebuilt from that same state at once.
    fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let slots: Vec<usize> = self.by_end.iter().map(|(_, slot)| *slot).collect();
        if slots.is_empty() {
            return Ok(Vec::new());
        }
        let widths = self
            .parts
            .aggs
            .iter()
            .map(|a| a.state_fields().map(|f| f.len()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut states: Vec<Vec<Vec<ScalarValue>>> =
            widths.iter().map(|w| vec![Vec::new(); *w]).collect();
        for &slot in &slots {
            let fresh = self.new_accs()?;
            let Some(session) = self.sessions[slot].as_mut() else {
                return Err(EngineError::Plan(
                    "internal: a session slot is empty".into(),
                ));
            };
            for ((acc, mut again), per_agg) in session.accs.iter_mut().zip(fresh).zip(&mut states) {
                let state = acc.state()?;
                let arrays = state
                    .iter()
                    .map(ScalarValue::to_array)
                    .collect::<Result<Vec<_>, _>>()?;
                again.merge_batch(&arrays)?;
                *acc = again;
                for (column, value) in per_agg.iter_mut().zip(state) {
                    column.push(value);
                }
            }
        }
        let sessions: Vec<&Session> = slots
            .iter()
            .filter_map(|&s| self.sessions[s].as_ref())
            .collect();
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(
                sessions.iter().map(|s| s.start),
            )),
            Arc::new(Int64Array::from_iter_values(sessions.iter().map(|s| s.end))),
        ];
        columns.extend(self.key_columns(&sessions)?);
        for column in states.into_iter().flatten() {
            columns.push(ScalarValue::iter_to_array(column)?);
        }
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        Ok(vec![RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns,
        )?])
    }

    fn restore(&mut self, batches: &[RecordBatch], fired_up_to: i64, what: &str) -> Result<()> {
        let misfit =
            |why: String| EngineError::Config(format!("{what} does not fit this query: {why}"));
        let widths = self
            .parts
            .aggs
            .iter()
            .map(|a| a.state_fields().map(|f| f.len()))
            .collect::<Result<Vec<_>, _>>()?;
        let keys_n = self.key_indices.len();
        let want = 2 + keys_n + widths.iter().sum::<usize>();
        self.sessions.clear();
        self.free.clear();
        self.by_key.clear();
        self.by_end.clear();
        self.fired_up_to = fired_up_to;
        for b in batches {
            let n = b.num_rows();
            if n == 0 {
                continue;
            }
            if b.num_columns() != want {
                return Err(misfit(format!(
                    "it has {} columns per session, this query keeps {want}",
                    b.num_columns()
                )));
            }
            let bound = |i: usize| {
                b.column(i)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .filter(|a| a.null_count() == 0)
                    .cloned()
                    .ok_or_else(|| misfit("its session bounds are not numbers".into()))
            };
            let (starts, ends) = (bound(0)?, bound(1)?);
            let keys = match &self.converter {
                Some(conv) => Some(
                    conv.convert_columns(&b.columns()[2..2 + keys_n])
                        .map_err(|e| misfit(format!("its group keys have other types ({e})")))?,
                ),
                None => None,
            };
            for i in 0..n {
                let mut accs = self.new_accs()?;
                let mut at = 2 + keys_n;
                for ((acc, width), agg) in accs.iter_mut().zip(&widths).zip(&self.parts.aggs) {
                    let state: Vec<ArrayRef> = b.columns()[at..at + width]
                        .iter()
                        .map(|c| c.slice(i, 1))
                        .collect();
                    acc.merge_batch(&state).map_err(|e| {
                        misfit(format!("the state of {} does not merge ({e})", agg.name()))
                    })?;
                    at += width;
                }
                let key: Box<[u8]> = match &keys {
                    Some(k) => k.row(i).as_ref().into(),
                    None => Box::new([]),
                };
                let (start, end) = (starts.value(i), ends.value(i));
                let slot = self.sessions.len();
                self.by_key
                    .entry(key.clone())
                    .or_default()
                    .insert(start, slot);
                self.by_end.insert((end, slot));
                self.sessions.push(Some(Session {
                    key,
                    start,
                    end,
                    accs,
                }));
            }
        }
        Ok(())
    }
}

/// Below a session aggregation, the window columns hold each row's own `[ts, ts + gap)`,
/// not its session: a filter or computed column reading them would see the wrong bounds.
pub fn check_lower(plan: &Arc<dyn ExecutionPlan>) -> Result<()> {
    let mut stack = vec![Arc::clone(plan)];
    while let Some(node) = stack.pop() {
        let reads = if let Some(f) = node.downcast_ref::<FilterExec>() {
            reads_window(f.predicate())
        } else if let Some(p) = node.downcast_ref::<ProjectionExec>() {
            p.expr().iter().any(|e| {
                !e.expr
                    .downcast_ref::<datafusion::physical_expr::expressions::Column>()
                    .is_some_and(|c| window_column(c.name()))
                    && reads_window(&e.expr)
            })
        } else {
            false
        };
        if reads {
            return Err(EngineError::unsupported(
                "window_start / window_end / window_time in WHERE or computed columns below a SESSION aggregation",
                Some(
                    "filter on the session bounds after the aggregation (HAVING, or an outer query)",
                ),
            ));
        }
        stack.extend(node.children().into_iter().cloned());
    }
    Ok(())
}
