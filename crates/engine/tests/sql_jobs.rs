//! The four example jobs' SQL, streamed over their test data packages in small batches
//! with watermarks as a source would emit them, must produce exactly `expected.jsonl`.
// Helpers outside #[test] functions unwrap and panic too: that is a failed test, and
// clippy's allow-*-in-tests settings cover only the test functions themselves.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Field, Float64Type, Int32Type, Int64Type, Schema, SchemaRef, TimeUnit,
    TimestampMillisecondType, UInt64Type,
};
use serde_json::{Map, Value};
use weir_engine::Operator;
use weir_engine::sql::{InputTable, SqlOperator, check};
use weir_model::model::operator::{FieldType, Node};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct JobCase {
    query: String,
    source_id: String,
    input: InputTable,
    watermark_ms: i64,
    sink: String,
}

fn load(job: &str) -> JobCase {
    let checked = weir_model::jobfile::check_file(&root().join(format!("jobs/{job}.ron")));
    let job_def = checked.valid_job().expect("example job validates").clone();
    let mut query = None;
    let mut source = None;
    let mut sink = None;
    for node in &job_def.nodes {
        match node {
            Node::Sql(s) => query = Some(s.query.clone()),
            Node::KafkaSource(k) => source = Some(k.clone()),
            other if sink.is_none() && other.role() == weir_model::model::operator::Role::Sink => {
                sink = Some(other.id().to_string())
            }
            _ => {}
        }
    }
    let k = source.expect("one Kafka source");
    let fields: Vec<Field> = k
        .fields
        .as_ref()
        .expect("declared fields")
        .iter()
        .map(|f| {
            let ty = match f.ty {
                FieldType::String => DataType::Utf8,
                FieldType::Double => DataType::Float64,
                FieldType::Float => DataType::Float32,
                FieldType::Int => DataType::Int32,
                FieldType::BigInt => DataType::Int64,
                FieldType::Boolean => DataType::Boolean,
                FieldType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
                other => panic!("field type {other:?} not in the test data"),
            };
            Field::new(&f.name, ty, true)
        })
        .collect();
    JobCase {
        query: query.expect("one SQL node"),
        source_id: k.id.clone(),
        input: InputTable {
            name: k.table.clone().unwrap_or(k.id.clone()),
            schema: Arc::new(Schema::new(fields)),
            event_time: k.event_time.clone(),
        },
        watermark_ms: k.watermark_ms as i64,
        sink: sink.expect("a sink"),
    }
}

fn read_input(job: &str, case: &JobCase, batch_rows: usize) -> Vec<RecordBatch> {
    let file = File::open(root().join(format!("testdata/{job}/{}.jsonl", case.source_id))).unwrap();
    arrow::json::ReaderBuilder::new(Arc::clone(&case.input.schema))
        .with_batch_size(batch_rows)
        .build(BufReader::new(file))
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn render_ts(ms: i64) -> String {
    let dt = arrow::temporal_conversions::timestamp_ms_to_datetime(ms).unwrap();
    dt.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// Output rows as JSON objects, the way expected.jsonl writes them.
fn rows_json(batches: &[RecordBatch]) -> Vec<Map<String, Value>> {
    let mut rows = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            let mut row = Map::new();
            for (f, c) in b.schema().fields().iter().zip(b.columns()) {
                let v = if c.is_null(i) {
                    Value::Null
                } else {
                    match c.data_type() {
                        DataType::Utf8 => Value::from(c.as_string::<i32>().value(i)),
                        DataType::Int64 => Value::from(c.as_primitive::<Int64Type>().value(i)),
                        DataType::Int32 => Value::from(c.as_primitive::<Int32Type>().value(i)),
                        DataType::UInt64 => Value::from(c.as_primitive::<UInt64Type>().value(i)),
                        DataType::Float64 => Value::from(c.as_primitive::<Float64Type>().value(i)),
                        DataType::Timestamp(TimeUnit::Millisecond, _) => Value::from(render_ts(
                            c.as_primitive::<TimestampMillisecondType>().value(i),
                        )),
                        other => panic!("column {} has type {other}", f.name()),
                    }
                };
                row.insert(f.name().clone(), v);
            }
            rows.push(row);
        }
    }
    rows
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        _ => a == b,
    }
}

fn same_row(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| same_value(v, w)))
}

fn expected(job: &str, sink: &str) -> Vec<Map<String, Value>> {
    std::fs::read_to_string(root().join(format!("testdata/{job}/expected.jsonl")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["sink"] == sink)
        .map(|v| v["row"].as_object().unwrap().clone())
        .collect()
}

/// The row keys of the sink's first expected line, in the order the file writes them.
fn expected_column_order(job: &str, sink: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(root().join(format!("testdata/{job}/expected.jsonl"))).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains(&format!("\"sink\": \"{sink}\"")))
        .unwrap();
    let row_at = line.find("\"row\"").unwrap();
    let row: Value = serde_json::from_str::<Value>(line).unwrap()["row"].clone();
    let mut keys: Vec<(usize, String)> = row
        .as_object()
        .unwrap()
        .keys()
        .map(|k| {
            (
                line[row_at..].find(&format!("\"{k}\":")).unwrap(),
                k.clone(),
            )
        })
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

/// Stream the package through the operator; the output rows and the late count.
fn run(job: &str, batch_rows: usize) -> (Vec<RecordBatch>, u64, SchemaRef) {
    let case = load(job);
    let mut op = SqlOperator::new(job, &case.query, std::slice::from_ref(&case.input)).unwrap();
    let mut out = Vec::new();
    let mut max_ts = i64::MIN;
    for batch in read_input(job, &case, batch_rows) {
        let ts_col = batch
            .column_by_name(case.input.event_time.as_deref().unwrap())
            .unwrap();
        let ts = ts_col.as_primitive::<TimestampMillisecondType>();
        max_ts = max_ts.max(ts.values().iter().copied().max().unwrap());
        op.on_batch(0, batch, &mut out).unwrap();
        op.on_watermark(max_ts - case.watermark_ms, &mut out)
            .unwrap();
    }
    op.close(&mut out).unwrap();
    assert_eq!(op.open_windows(), 0, "every window fired at close");
    (out, op.late_rows(), op.schema())
}

fn assert_job(job: &str) {
    let case = load(job);
    let want = expected(job, &case.sink);
    assert!(!want.is_empty());
    for batch_rows in [64, 7, 1000] {
        let (out, late, schema) = run(job, batch_rows);
        assert_eq!(late, 0, "{job}: no record of a package is late");
        // the output schema check() gives is the one the operator emits
        let checked = check(&case.query, std::slice::from_ref(&case.input)).unwrap();
        assert_eq!(checked.fields(), schema.fields());
        let got = rows_json(&out);
        // column order is the SELECT order
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(
            names,
            expected_column_order(job, &case.sink),
            "{job}: columns"
        );
        assert_eq!(
            got.len(),
            want.len(),
            "{job} (batches of {batch_rows}): row count"
        );
        let mut unmatched: Vec<&Map<String, Value>> = got.iter().collect();
        for w in &want {
            let pos = unmatched.iter().position(|g| same_row(g, w));
            match pos {
                Some(p) => {
                    unmatched.swap_remove(p);
                }
                None => panic!("{job} (batches of {batch_rows}): expected row not produced: {w:?}"),
            }
        }
        assert!(unmatched.is_empty());
    }
}

#[test]
fn clickstream_pv_matches_expected() {
    assert_job("clickstream_pv");
}

#[test]
fn risk_control_matches_expected() {
    assert_job("risk_control");
}

#[test]
fn iot_alerts_matches_expected() {
    assert_job("iot_alerts");
}

#[test]
fn ecommerce_features_matches_expected() {
    assert_job("ecommerce_features");
}

/// Windows fire as the watermark passes their end, not only at the end of input.
#[test]
fn windows_fire_before_end_of_input() {
    let job = "clickstream_pv";
    let case = load(job);
    let mut op = SqlOperator::new(job, &case.query, std::slice::from_ref(&case.input)).unwrap();
    let mut out = Vec::new();
    let mut max_ts = i64::MIN;
    let mut fired_before_close = 0;
    for batch in read_input(job, &case, 64) {
        let ts = batch
            .column(2)
            .as_primitive::<TimestampMillisecondType>()
            .clone();
        max_ts = max_ts.max(ts.values().iter().copied().max().unwrap());
        op.on_batch(0, batch, &mut out).unwrap();
        op.on_watermark(max_ts - case.watermark_ms, &mut out)
            .unwrap();
        let w = max_ts - case.watermark_ms;
        // everything emitted so far belongs to windows that ended at or before w
        for b in &out {
            let ends = b
                .column_by_name("window_end")
                .unwrap()
                .as_primitive::<TimestampMillisecondType>();
            assert!(ends.values().iter().all(|e| *e <= w));
        }
        fired_before_close = out.iter().map(|b| b.num_rows()).sum::<usize>();
    }
    assert!(
        fired_before_close > 100,
        "most windows fire on watermarks: {fired_before_close}"
    );
    assert!(op.open_windows() >= 1);
}

/// Inside a tokio runtime with a single worker (as the pipeline may call operators),
/// the TopN query, whose upper plan sorts, still runs.
#[test]
fn topn_runs_inside_a_single_worker_tokio_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (out, late, _) = rt.block_on(async { run("ecommerce_features", 64) });
    assert_eq!(late, 0);
    assert_eq!(
        rows_json(&out).len(),
        expected("ecommerce_features", "to_pg").len()
    );
}
