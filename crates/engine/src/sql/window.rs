//! Window table functions (TUMBLE, HOP, CUMULATE, SESSION) as Flink defines them: which
//! windows an event time belongs to, and the expansion of an input batch into the window
//! table (the input's columns + `window_start`, `window_end`, `window_time`), one row per
//! window. A SESSION row gets its own window `[ts, ts + gap)` here; merging it with the
//! other sessions of its key is the session state's work (`session.rs`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, TimestampMillisecondArray, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::{EngineError, Result};

/// The columns a window table function adds to its input, in this order.
pub const WINDOW_COLUMNS: [&str; 3] = ["window_start", "window_end", "window_time"];

/// The kind and sizes (milliseconds) of a window table function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// `TUMBLE(data, timecol, size)`: one window per row.
    Tumble {
        /// Window length.
        size: i64,
    },
    /// `HOP(data, timecol, slide, size)`: `size / slide` windows per row.
    Hop {
        /// Distance between window starts.
        slide: i64,
        /// Window length, a whole multiple of `slide`.
        size: i64,
    },
    /// `CUMULATE(data, timecol, step, size)`: windows `[start, start + k * step)`.
    Cumulate {
        /// Growth of the window end.
        step: i64,
        /// Largest window length, a whole multiple of `step`.
        size: i64,
    },
}

/// A window table function of a query, ready to assign rows to windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpec {
    /// TUMBLE, HOP or CUMULATE with its sizes.
    pub kind: WindowKind,
    /// Windows start at `offset + k * size` (Flink's optional OFFSET; 0 by default).
    pub offset: i64,
}

impl WindowSpec {
    /// Check the sizes the way Flink does (positive; HOP and CUMULATE sizes a whole
    /// multiple of slide / step) and build the spec.
    pub fn new(kind: WindowKind, offset: i64) -> Result<Self> {
        let bad = |what: &str| Err(EngineError::Plan(format!("window table function: {what}")));
        match kind {
            WindowKind::Tumble { size } if size <= 0 => return bad("TUMBLE size must be positive"),
            WindowKind::Hop { slide, size } => {
                if slide <= 0 || size <= 0 {
                    return bad("HOP slide and size must be positive");
                }
                if size % slide != 0 {
                    return bad(
                        "HOP size must be a whole multiple of the slide (e.g. slide 1 MINUTE, size 5 MINUTE)",
                    );
                }
            }
            WindowKind::Cumulate { step, size } => {
                if step <= 0 || size <= 0 {
                    return bad("CUMULATE step and size must be positive");
                }
                if size % step != 0 {
                    return bad("CUMULATE size must be a whole multiple of the step");
                }
            }
            WindowKind::Tumble { .. } => {}
        }
        Ok(WindowSpec { kind, offset })
    }

    /// Calls `f(start, end)` for every window `[start, end)` that holds event time `ts`.
    #[inline]
    pub fn for_each_window(&self, ts: i64, mut f: impl FnMut(i64, i64)) {
        match self.kind {
            WindowKind::Tumble { size } => {
                let start = window_start(ts, self.offset, size);
                f(start, start.saturating_add(size));
            }
            WindowKind::Hop { slide, size } => {
                let last = window_start(ts, self.offset, slide);
                let first = last - (size / slide - 1) * slide;
                let mut start = first;
                while start <= last {
                    f(start, start.saturating_add(size));
                    start += slide;
                }
            }
            WindowKind::Cumulate { step, size } => {
                let start = window_start(ts, self.offset, size);
                // the first end after ts, then every step up to the full size
                let mut end = start + (ts - start) / step * step + step;
                while end <= start + size {
                    f(start, end);
                    end += step;
                }
            }
        }
    }

    /// How many windows a row belongs to at most (for capacity hints).
    pub fn windows_per_row(&self) -> usize {
        match self.kind {
            WindowKind::Tumble { .. } => 1,
            WindowKind::Hop { slide, size } => (size / slide) as usize,
            WindowKind::Cumulate { step, size } => (size / step) as usize,
        }
    }
}

/// How a query's window table function assigns rows to windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Windowing {
    /// TUMBLE, HOP or CUMULATE: windows fixed by the event time alone.
    Fixed(WindowSpec),
    /// SESSION: a row opens `[ts, ts + gap)`; sessions of a key that overlap or touch merge.
    Session {
        /// The inactivity gap, milliseconds.
        gap: i64,
        /// The columns of `PARTITION BY`, as written (empty without it).
        partition: Vec<String>,
    },
}

impl Windowing {
    /// Calls `f(start, end)` for every window `[start, end)` row time `ts` is put in.
    #[inline]
    pub fn for_each_window(&self, ts: i64, mut f: impl FnMut(i64, i64)) {
        match self {
            Windowing::Fixed(spec) => spec.for_each_window(ts, f),
            Windowing::Session { gap, .. } => f(ts, ts.saturating_add(*gap)),
        }
    }

    /// How many windows a row is put in at most (for capacity hints).
    pub fn windows_per_row(&self) -> usize {
        match self {
            Windowing::Fixed(spec) => spec.windows_per_row(),
            Windowing::Session { .. } => 1,
        }
    }
}

/// Flink's `TimeWindow.getWindowStartWithOffset`, for negative times too.
#[inline]
fn window_start(ts: i64, offset: i64, size: i64) -> i64 {
    ts - (ts - offset).rem_euclid(size)
}

/// The schema of the window table over `input`: its columns + the window columns.
pub fn window_table_schema(input: &Schema) -> Result<SchemaRef> {
    let ts = DataType::Timestamp(TimeUnit::Millisecond, None);
    let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
    for name in WINDOW_COLUMNS {
        if input.field_with_name(name).is_ok() {
            return Err(EngineError::Plan(format!(
                "the input table already has a column `{name}`, which the window table function adds; rename it in the source"
            )));
        }
        fields.push(Field::new(name, ts.clone(), false));
    }
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        input.metadata().clone(),
    )))
}

/// Expands input batches into the window table, dropping late rows.
#[derive(Debug)]
pub struct WindowExpander {
    pub windowing: Windowing,
    /// Index of the event-time column (`DESCRIPTOR(col)`) in the input.
    pub time_index: usize,
    pub schema: SchemaRef,
}

/// What one expansion dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Rows with an event time before the current watermark.
    pub late: u64,
    /// Rows without an event time.
    pub null_time: u64,
}

impl WindowExpander {
    /// The window-table rows of `batch`: row i repeated once per window it belongs to;
    /// rows with `ts < watermark` (late) or a null time are left out and counted.
    pub fn expand(&self, batch: &RecordBatch, watermark: i64) -> Result<(RecordBatch, Dropped)> {
        let column = batch.column(self.time_index);
        let times = column
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .ok_or_else(|| {
                EngineError::Plan(format!(
                    "the event-time column `{}` is {}, the window table functions need TIMESTAMP(3) (Arrow Timestamp(Millisecond))",
                    self.schema.field(self.time_index).name(),
                    column.data_type()
                ))
            })?;
        let n = batch.num_rows();
        let per_row = self.windowing.windows_per_row();
        let mut dropped = Dropped::default();
        let mut starts = Vec::with_capacity(n * per_row);
        let mut ends = Vec::with_capacity(n * per_row);
        let mut indices: Vec<u32> = Vec::with_capacity(n * per_row);
        for i in 0..n {
            if times.is_null(i) {
                dropped.null_time += 1;
                continue;
            }
            let ts = times.value(i);
            if ts < watermark {
                dropped.late += 1;
                continue;
            }
            self.windowing.for_each_window(ts, |s, e| {
                indices.push(i as u32);
                starts.push(s);
                ends.push(e);
            });
        }
        let nothing_dropped = dropped.late == 0 && dropped.null_time == 0;
        let mut columns: Vec<ArrayRef> = if nothing_dropped && indices.len() == n {
            // nothing dropped and every row in exactly one window: the columns as they are
            batch.columns().to_vec()
        } else {
            let idx = UInt32Array::from(indices);
            batch
                .columns()
                .iter()
                .map(|c| take(c.as_ref(), &idx, None))
                .collect::<Result<_, _>>()?
        };
        let times: Vec<i64> = ends.iter().map(|e| e - 1).collect();
        let rows = ends.len();
        columns.push(Arc::new(TimestampMillisecondArray::from(starts)));
        columns.push(Arc::new(TimestampMillisecondArray::from(ends)));
        columns.push(Arc::new(TimestampMillisecondArray::from(times)));
        let out = RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?;
        Ok((out, dropped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(spec: &WindowSpec, ts: i64) -> Vec<(i64, i64)> {
        let mut v = Vec::new();
        spec.for_each_window(ts, |s, e| v.push((s, e)));
        v
    }

    #[test]
    fn tumble_puts_a_boundary_row_in_the_window_that_starts_there() {
        let spec = WindowSpec::new(WindowKind::Tumble { size: 60_000 }, 0).unwrap();
        assert_eq!(windows(&spec, 120_000), vec![(120_000, 180_000)]);
        assert_eq!(windows(&spec, 119_999), vec![(60_000, 120_000)]);
        assert_eq!(windows(&spec, -1), vec![(-60_000, 0)]);
    }

    #[test]
    fn hop_assigns_size_over_slide_windows() {
        let spec = WindowSpec::new(
            WindowKind::Hop {
                slide: 10,
                size: 60,
            },
            0,
        )
        .unwrap();
        let w = windows(&spec, 100);
        assert_eq!(w.len(), 6);
        assert_eq!(w.first(), Some(&(50, 110)));
        assert_eq!(w.last(), Some(&(100, 160)));
        assert!(w.iter().all(|&(s, e)| s <= 100 && 100 < e));
    }

    #[test]
    fn cumulate_assigns_every_window_of_the_current_max_window_that_holds_the_row() {
        let spec = WindowSpec::new(WindowKind::Cumulate { step: 10, size: 40 }, 0).unwrap();
        assert_eq!(
            windows(&spec, 45),
            vec![(40, 50), (40, 60), (40, 70), (40, 80)]
        );
        assert_eq!(windows(&spec, 70), vec![(40, 80)]);
        assert_eq!(windows(&spec, 69), vec![(40, 70), (40, 80)]);
    }

    #[test]
    fn offset_shifts_the_windows() {
        let spec = WindowSpec::new(WindowKind::Tumble { size: 60 }, 15).unwrap();
        assert_eq!(windows(&spec, 70), vec![(15, 75)]);
        assert_eq!(windows(&spec, 75), vec![(75, 135)]);
    }

    #[test]
    fn expansion_repeats_rows_per_window_and_drops_late_ones() {
        use arrow::array::Int64Array;
        let input = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        ]);
        let schema = window_table_schema(&input).unwrap();
        let spec = WindowSpec::new(WindowKind::Cumulate { step: 10, size: 20 }, 0).unwrap();
        let expander = WindowExpander {
            windowing: Windowing::Fixed(spec),
            time_index: 1,
            schema: Arc::clone(&schema),
        };
        // row 0 is late, row 1 is in two windows: as many output rows as input rows,
        // but not the same rows
        let batch = RecordBatch::try_new(
            Arc::new(input),
            vec![
                Arc::new(Int64Array::from(vec![0, 1])),
                Arc::new(TimestampMillisecondArray::from(vec![Some(3), Some(5)])),
            ],
        )
        .unwrap();
        let (out, dropped) = expander.expand(&batch, 4).unwrap();
        assert_eq!(
            dropped,
            Dropped {
                late: 1,
                null_time: 0
            }
        );
        let ids = out.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(ids.values(), &[1, 1]);
        let ends = out
            .column(3)
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .unwrap();
        assert_eq!(ends.values(), &[10, 20]);
        let times = out
            .column(4)
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .unwrap();
        assert_eq!(times.values(), &[9, 19]);
    }

    #[test]
    fn sizes_are_checked() {
        assert!(WindowSpec::new(WindowKind::Hop { slide: 7, size: 60 }, 0).is_err());
        assert!(WindowSpec::new(WindowKind::Tumble { size: 0 }, 0).is_err());
        assert!(WindowSpec::new(WindowKind::Cumulate { step: 0, size: 60 }, 0).is_err());
    }
}
