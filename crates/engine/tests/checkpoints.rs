//! Checkpoints (issue 16), without Kafka: the layout on disk (complete, torn, corrupted,
//! retention) and the windowed operator's state, which must restore to exactly what an
//! uninterrupted operator holds (the windows fire with the same rows).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Float64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use weir_engine::checkpoint::storage::{FORMAT, Kind, Location, Manifest, TaskState, VERSION};
use weir_engine::operator::{InputTable, Operator};
use weir_engine::sql::SqlOperator;

fn manifest(id: u64) -> Manifest {
    Manifest {
        format: FORMAT.into(),
        version: VERSION,
        id,
        kind: Kind::Checkpoint,
        lineage: "l1".into(),
        job: "j".into(),
        job_hash: "h".into(),
        created_ms: 0,
        duration_ms: 0,
        alignment_ms: 0,
        size: 0,
        tasks: BTreeMap::new(),
    }
}

fn state(bytes: &[u8]) -> BTreeMap<String, TaskState> {
    let mut files = BTreeMap::new();
    files.insert("windows.arrow".to_string(), bytes.to_vec());
    BTreeMap::from([(
        "operator/agg".to_string(),
        TaskState {
            meta: serde_json::json!({ "watermark": 5 }),
            files,
        },
    )])
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn complete_torn_and_corrupted_checkpoints_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::local(dir.path()).unwrap();
    rt().block_on(async {
        for id in 1..=2 {
            let mut m = manifest(id);
            loc.write(&mut m, &state(format!("state {id}").as_bytes()))
                .await
                .unwrap();
        }
        let latest = loc.latest().await.unwrap().unwrap();
        assert_eq!(latest.manifest.id, 2);
        assert_eq!(
            latest.tasks["operator/agg"].files["windows.arrow"],
            b"state 2".to_vec()
        );
        assert_eq!(latest.tasks["operator/agg"].meta["watermark"], 5);

        // a torn checkpoint (files, no manifest) is never taken for a complete one
        std::fs::create_dir_all(dir.path().join("chk-3/operator/agg")).unwrap();
        std::fs::write(dir.path().join("chk-3/operator/agg/windows.arrow"), b"half").unwrap();
        assert_eq!(loc.latest().await.unwrap().unwrap().manifest.id, 2);
        let err = loc.read("chk-3").await.unwrap_err().to_string();
        assert!(err.contains("not complete"), "{err}");
        assert!(
            err.contains("chk-2"),
            "the previous complete one is offered: {err}"
        );

        // a corrupted one is refused, naming the previous complete one
        std::fs::write(
            dir.path().join("chk-2/operator/agg/windows.arrow"),
            b"state X",
        )
        .unwrap();
        let err = loc.latest().await.unwrap_err().to_string();
        assert!(err.contains("corrupted"), "{err}");
        assert!(err.contains("chk-1"), "{err}");
        // truncated
        std::fs::write(dir.path().join("chk-2/operator/agg/windows.arrow"), b"st").unwrap();
        let err = loc.read("chk-2").await.unwrap_err().to_string();
        assert!(err.contains("corrupted") && err.contains("chk-1"), "{err}");
    });
}

#[test]
fn retention_keeps_the_newest_complete_checkpoints_and_every_savepoint() {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::local(dir.path()).unwrap();
    rt().block_on(async {
        for id in 1..=5 {
            let mut m = manifest(id);
            if id == 2 {
                m.kind = Kind::Savepoint;
            }
            loc.write(&mut m, &state(b"s")).await.unwrap();
        }
        // a failed older checkpoint without manifest
        std::fs::create_dir_all(dir.path().join("chk-0/x")).unwrap();
        std::fs::write(dir.path().join("chk-0/x/f"), b"f").unwrap();
        loc.retain(2).await.unwrap();
        let left: Vec<String> = loc
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.dir)
            .collect();
        assert_eq!(left, vec!["sp-2", "chk-4", "chk-5"]);
    });
}

fn input() -> InputTable {
    InputTable {
        name: "clicks".into(),
        schema: Arc::new(Schema::new(vec![
            Field::new("url", DataType::Utf8, true),
            Field::new("price", DataType::Float64, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        ])),
        event_time: Some("ts".into()),
    }
}

fn batch(rows: &[(&str, f64, i64)]) -> RecordBatch {
    RecordBatch::try_new(
        input().schema,
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| Some(r.0)).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            Arc::new(TimestampMillisecondArray::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

const QUERY: &str = "SELECT window_start, url, COUNT(*) AS pv, SUM(price) AS total, \
    AVG(price) AS mean, COUNT(DISTINCT price) AS prices, MAX(url) AS top \
    FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) \
    GROUP BY window_start, window_end, url";

fn pretty(batches: &[RecordBatch]) -> Vec<String> {
    let text = arrow::util::pretty::pretty_format_batches(batches)
        .unwrap()
        .to_string();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("| "))
        .skip(1)
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_restored_window_fires_what_the_uninterrupted_one_fires() {
    let first = [
        ("/a", 1.0, 1_000),
        ("/b", 2.0, 2_000),
        ("/a", 3.0, 61_000),
        ("/a", 3.0, 62_000),
    ];
    let second = [
        ("/a", 4.0, 3_000),
        ("/b", 5.0, 63_000),
        ("/c", 6.0, 121_000),
    ];
    let run = |restore_midway: bool| {
        let mut op = SqlOperator::new("agg", QUERY, &[input()]).unwrap();
        let mut out = Vec::new();
        op.on_batch(0, batch(&first), &mut out).unwrap();
        op.on_watermark(500, &mut out).unwrap();
        if restore_midway {
            let state = op.snapshot().unwrap();
            assert!(
                state.files.contains_key("windows.arrow"),
                "open windows are saved"
            );
            // the old operator keeps working after its snapshot
            let mut again = Vec::new();
            op.on_batch(0, batch(&[("/z", 9.0, 4_000)]), &mut again)
                .unwrap();
            drop(op);
            op = SqlOperator::new("agg", QUERY, &[input()]).unwrap();
            op.restore(&state).unwrap();
        }
        op.on_batch(0, batch(&second), &mut out).unwrap();
        op.on_watermark(70_000, &mut out).unwrap();
        op.close(&mut out).unwrap();
        pretty(&out)
    };
    let uninterrupted = run(false);
    assert_eq!(uninterrupted.len(), 5, "{uninterrupted:#?}");
    assert_eq!(run(true), uninterrupted);
}

#[test]
fn a_state_of_another_query_is_refused_with_the_difference() {
    let mut op = SqlOperator::new("agg", QUERY, &[input()]).unwrap();
    let mut out = Vec::new();
    op.on_batch(0, batch(&[("/a", 1.0, 1_000)]), &mut out)
        .unwrap();
    let state = op.snapshot().unwrap();
    let five = QUERY.replace("INTERVAL '1' MINUTE", "INTERVAL '5' MINUTE");
    let mut other = SqlOperator::new("agg", &five, &[input()]).unwrap();
    let err = other.restore(&state).unwrap_err().to_string();
    assert!(
        err.contains("window size of agg changed 1 min → 5 min"),
        "{err}"
    );
    let more = QUERY.replace("MAX(url) AS top", "MAX(url) AS top, MIN(price) AS low");
    let mut other = SqlOperator::new("agg", &more, &[input()]).unwrap();
    let err = other.restore(&state).unwrap_err().to_string();
    assert!(err.contains("aggregate") && err.contains("added"), "{err}");
}

#[test]
fn a_checkpoint_that_does_not_complete_in_time_is_aborted_and_nothing_commits() {
    use weir_engine::checkpoint::{CheckpointOptions, Coordinator, Kind};
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let loc = Location::local(dir.path()).unwrap();
        let mut opts = CheckpointOptions::new(loc.clone(), std::time::Duration::ZERO, "j", "h");
        opts.timeout = std::time::Duration::from_millis(200);
        let c = Coordinator::new(opts).unwrap();
        c.register("source/a/0");
        c.register("sink/out");
        let mut done = c.subscribe();
        let _task = c.start();
        let trigger = {
            let c = c.clone();
            tokio::spawn(async move { c.trigger(Kind::Checkpoint, false).await })
        };
        // the source acknowledges, the sink never does
        while c.pending() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let id = c.pending();
        c.ack(id, "source/a/0", TaskState::default(), 0);
        let err = trigger.await.unwrap().unwrap_err().to_string();
        assert!(err.contains("did not complete within its timeout"), "{err}");
        let settled = weir_engine::checkpoint::wait_settled(&mut done, id).await;
        assert_eq!(settled, 0, "nothing completed: sinks commit nothing");
        assert_eq!(c.stats().failed, 1);
        assert!(loc.list().await.unwrap().is_empty(), "nothing was written");
        // the next one completes when everyone acknowledges
        let next = {
            let c = c.clone();
            tokio::spawn(async move { c.trigger(Kind::Savepoint, false).await })
        };
        while c.pending() == id {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let id2 = c.pending();
        c.ack(id2, "source/a/0", TaskState::default(), 0);
        c.ack(id2, "sink/out", TaskState::default(), 0);
        let sp = next.await.unwrap().unwrap();
        assert_eq!((sp.id, sp.kind), (id2, Kind::Savepoint));
        assert!(loc.read(&sp.dir).await.is_ok());
    });
}
