//! Commit marks through an operator (issue 15 item 5): a stateless query passes a mark on
//! at once; a window that holds rows keeps the mark until the watermark fires that
//! window, so offsets are never committed for records whose results were not written.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use tokio::sync::mpsc;
use weir_engine::channel::{Envelope, Msg, Output, Outputs};
use weir_engine::pipeline::run_operator;
use weir_engine::sql::InputTable;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
    ]))
}

fn batch(ts: &[i64]) -> RecordBatch {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..ts.len() as i64)),
        Arc::new(TimestampMillisecondArray::from_iter_values(
            ts.iter().copied(),
        )),
    ];
    RecordBatch::try_new(schema(), cols).unwrap()
}

/// Runs `query` as an operator task; returns its input sender and output receiver.
fn operator(query: &str) -> (mpsc::Sender<Envelope>, mpsc::Receiver<Envelope>) {
    let input = InputTable {
        name: "t".into(),
        schema: schema(),
        event_time: Some("ts".into()),
    };
    let op = weir_engine::sql::plan("q", query, &[input]).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let (otx, orx) = mpsc::channel(16);
    let out = Outputs(vec![Output {
        tx: otx,
        input: 0,
        slot: 0,
    }]);
    tokio::spawn(run_operator(
        op,
        rx,
        1,
        out,
        Arc::new(Default::default()),
        None,
    ));
    (tx, orx)
}

async fn send(tx: &mpsc::Sender<Envelope>, msg: Msg) {
    tx.send(Envelope { slot: 0, msg }).await.unwrap();
}

/// Everything the operator emitted within a short wait: (rows, marks, watermarks).
async fn drain(rx: &mut mpsc::Receiver<Envelope>) -> (usize, Vec<u64>) {
    let mut rows = 0;
    let mut marks = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
        match e.msg {
            Msg::Batch(_, b) => rows += b.num_rows(),
            Msg::Mark(id) => marks.push(id),
            _ => {}
        }
    }
    (rows, marks)
}

#[tokio::test]
async fn a_stateless_query_passes_a_mark_on_behind_its_rows() {
    let (tx, mut rx) = operator("SELECT id, ts FROM t WHERE id >= 0");
    send(&tx, Msg::Batch(0, batch(&[1000, 2000]))).await;
    send(&tx, Msg::Mark(1)).await;
    assert_eq!(drain(&mut rx).await, (2, vec![1]));
}

#[tokio::test]
async fn a_window_keeps_the_mark_until_the_watermark_fires_what_it_held() {
    let (tx, mut rx) = operator(
        "SELECT window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end",
    );
    // rows of the windows [0, 10 s) and [10 s, 20 s), then a mark
    send(&tx, Msg::Batch(0, batch(&[1_000, 12_000]))).await;
    send(&tx, Msg::Mark(1)).await;
    assert_eq!(drain(&mut rx).await, (0, vec![]), "both windows hold rows");
    // the first window fires: the mark still waits for the second
    send(&tx, Msg::Watermark(10_000)).await;
    assert_eq!(drain(&mut rx).await, (1, vec![]));
    // a later mark queues behind it
    send(&tx, Msg::Mark(2)).await;
    assert_eq!(drain(&mut rx).await, (0, vec![]));
    send(&tx, Msg::Watermark(20_000)).await;
    assert_eq!(
        drain(&mut rx).await,
        (1, vec![2]),
        "the window fired, then the marks"
    );
    // nothing held now: a mark passes at once
    send(&tx, Msg::Mark(3)).await;
    assert_eq!(drain(&mut rx).await, (0, vec![3]));
}

#[tokio::test]
async fn a_stopped_window_never_passes_the_marks_it_holds() {
    let (tx, mut rx) = operator(
        "SELECT window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end",
    );
    send(&tx, Msg::Batch(0, batch(&[1_000]))).await;
    send(&tx, Msg::Mark(1)).await;
    // the source stops (Ctrl-C): End without a watermark of +∞; the window is dropped
    send(&tx, Msg::End).await;
    let mut marks = Vec::new();
    while let Some(e) = rx.recv().await {
        match e.msg {
            Msg::Mark(id) => marks.push(id),
            Msg::End => break,
            _ => {}
        }
    }
    assert!(marks.is_empty(), "{marks:?}");
}
