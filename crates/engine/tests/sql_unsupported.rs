//! What the SQL operator refuses: each construct gives `EngineError::Unsupported` naming
//! it, from `check` and from `plan` alike.
// Helpers outside #[test] functions unwrap and panic too: that is a failed test, and
// clippy's allow-*-in-tests settings cover only the test functions themselves.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use weir_engine::EngineError;
use weir_engine::sql::{InputTable, check, plan};

fn inputs() -> Vec<InputTable> {
    let schema = |extra: &str| {
        Arc::new(Schema::new(vec![
            Field::new("user_id", DataType::Utf8, true),
            Field::new("url", DataType::Utf8, true),
            Field::new(extra, DataType::Float64, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        ]))
    };
    vec![
        InputTable {
            name: "clicks".into(),
            schema: schema("amount"),
            event_time: Some("ts".into()),
        },
        InputTable {
            name: "orders".into(),
            schema: schema("price"),
            event_time: Some("ts".into()),
        },
    ]
}

const TUMBLE: &str = "TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))";

fn assert_unsupported(query: &str, construct: &str) {
    let inputs = inputs();
    for result in [
        check(query, &inputs).map(|_| ()),
        plan("n", query, &inputs).map(|_| ()),
    ] {
        match result {
            Err(EngineError::Unsupported { construct: c, .. }) => {
                assert!(
                    c.contains(construct),
                    "{query}\n  names `{c}`, expected `{construct}`"
                )
            }
            Err(other) => panic!("{query}\n  gave {other}, not Unsupported"),
            Ok(()) => panic!("{query}\n  was accepted"),
        }
    }
}

#[test]
fn joins() {
    assert_unsupported(
        "SELECT c.url FROM clicks c JOIN orders o ON c.user_id = o.user_id",
        "JOIN",
    );
    assert_unsupported(
        "SELECT c.url FROM clicks c, orders o WHERE c.user_id = o.user_id",
        "JOIN",
    );
}

#[test]
fn group_by_without_a_window() {
    let q = "SELECT url, COUNT(*) FROM clicks GROUP BY url";
    assert_unsupported(q, "GROUP BY without a window table function");
    let e = check(q, &inputs()).unwrap_err().to_string();
    assert!(e.contains("TUMBLE, HOP, CUMULATE or SESSION"), "{e}");
    assert_unsupported(
        "SELECT COUNT(*) FROM clicks",
        "GROUP BY without a window table function",
    );
    assert_unsupported(
        "SELECT DISTINCT url FROM clicks",
        "GROUP BY without a window table function",
    );
}

#[test]
fn group_by_a_window_table_without_the_window_columns() {
    assert_unsupported(
        &format!("SELECT url, COUNT(*) FROM {TUMBLE} GROUP BY url"),
        "window_start and window_end",
    );
    assert_unsupported(
        &format!("SELECT COUNT(*) FROM {TUMBLE}"),
        "window_start and window_end",
    );
}

#[test]
fn over_aggregations_and_topn_without_window() {
    assert_unsupported(
        "SELECT url, SUM(amount) OVER (PARTITION BY url ORDER BY ts) FROM clicks",
        "OVER",
    );
    assert_unsupported(
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY url ORDER BY amount DESC) AS rn FROM clicks) WHERE rn <= 3",
        "OVER",
    );
}

#[test]
fn row_number_not_partitioned_by_the_window() {
    let q = format!(
        "SELECT * FROM (SELECT url, window_start, window_end, c, ROW_NUMBER() OVER (PARTITION BY url ORDER BY c DESC) AS rn
         FROM (SELECT url, window_start, window_end, COUNT(*) AS c FROM {TUMBLE} GROUP BY url, window_start, window_end)) WHERE rn <= 3"
    );
    assert_unsupported(&q, "row_number");
    assert_unsupported(&q, "without window_start and window_end");
}

#[test]
fn session_windows_run_what_has_a_meaning_and_match_recognize_is_refused() {
    // sessions are kept per GROUP BY key, as Flink's window aggregation keys them
    let session =
        "TABLE(SESSION(TABLE clicks PARTITION BY user_id, DESCRIPTOR(ts), INTERVAL '5' MINUTE))";
    let q = format!(
        "SELECT user_id, window_start, window_end, COUNT(*) AS n FROM {session} GROUP BY window_start, window_end, user_id"
    );
    let schema = check(&q, &inputs()).unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["user_id", "window_start", "window_end", "n"]);
    assert!(plan("n", &q, &inputs()).is_ok());
    assert_unsupported(
        &format!("SELECT window_start, COUNT(*) FROM {session} GROUP BY window_start, window_end"),
        "PARTITION BY user_id with a GROUP BY without user_id",
    );
    assert_unsupported(
        &format!("SELECT * FROM {session}"),
        "SESSION windows without GROUP BY window_start, window_end",
    );
    assert_unsupported(
        &format!(
            "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY n DESC) AS rn FROM (SELECT user_id, window_start, window_end, COUNT(*) AS n FROM {session} GROUP BY window_start, window_end, user_id)) WHERE rn <= 3"
        ),
        "window TopN (OVER window functions) over SESSION windows",
    );
    // below the aggregation a row's window columns are its own [ts, ts + gap), not its
    // session: reading them there would give other answers than Flink
    assert_unsupported(
        &format!(
            "SELECT user_id, window_start, COUNT(*) FROM {session} WHERE window_end > TIMESTAMP '2026-03-01 10:00:00' GROUP BY window_start, window_end, user_id"
        ),
        "window_start / window_end / window_time in WHERE",
    );
    assert_unsupported(
        &format!(
            "SELECT user_id, window_time, COUNT(*) FROM {session} GROUP BY window_start, window_end, window_time, user_id"
        ),
        "GROUP BY window_time over SESSION windows",
    );
    assert_unsupported(
        &format!(
            "SELECT user_id, window_start, MAX(window_end) FROM {session} GROUP BY window_start, window_end, user_id"
        ),
        "inside aggregates or GROUP BY expressions over SESSION windows",
    );
    assert_unsupported(
        "SELECT * FROM clicks MATCH_RECOGNIZE (PARTITION BY user_id ORDER BY ts MEASURES A.url AS u PATTERN (A B) DEFINE A AS A.amount > 1, B AS B.amount < 1)",
        "MATCH_RECOGNIZE",
    );
}

#[test]
fn order_by_and_limit_on_a_stream() {
    assert_unsupported("SELECT url FROM clicks ORDER BY ts", "ORDER BY");
    assert_unsupported("SELECT url FROM clicks LIMIT 10", "LIMIT");
    assert_unsupported(
        &format!(
            "SELECT window_start, COUNT(*) AS c FROM {TUMBLE} GROUP BY window_start, window_end ORDER BY c"
        ),
        "ORDER BY",
    );
}

#[test]
fn stacked_aggregations() {
    assert_unsupported(
        &format!(
            "SELECT window_start, window_end, MAX(c) FROM (SELECT window_start, window_end, url, COUNT(*) AS c FROM {TUMBLE} GROUP BY window_start, window_end, url) GROUP BY window_start, window_end"
        ),
        "several aggregations stacked",
    );
}

#[test]
fn legacy_group_window_functions() {
    // TUMBLE, HOP and SESSION group windows run; their auxiliary functions keep the names
    // the user wrote
    let q = "SELECT url, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS ws, TUMBLE_ROWTIME(ts, INTERVAL '1' MINUTE), COUNT(*) AS n FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), url";
    let schema = check(q, &inputs()).unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        ["url", "ws", "TUMBLE_ROWTIME(ts, INTERVAL '1' MINUTE)", "n"]
    );
    for q in [
        "SELECT HOP_END(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) AS we, COUNT(*) FROM clicks GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)",
        "SELECT user_id, SESSION_START(ts, INTERVAL '5' MINUTE) AS s, SESSION_END(ts, INTERVAL '5' MINUTE) AS e, SUM(amount) FROM clicks GROUP BY user_id, SESSION(ts, INTERVAL '5' MINUTE)",
    ] {
        assert!(check(q, &inputs()).is_ok(), "{q}");
        assert!(plan("n", q, &inputs()).is_ok(), "{q}");
    }
    let e = check(
        "SELECT TUMBLE_END(ts, INTERVAL '5' MINUTE), COUNT(*) FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)",
        &inputs(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("TUMBLE_END(ts, INTERVAL '5' MINUTE)")
            && e.contains("TUMBLE(ts, INTERVAL '1' MINUTE)"),
        "{e}"
    );
    // CUMULATE has no group window form in Flink
    assert_unsupported(
        "SELECT COUNT(*) FROM clicks GROUP BY CUMULATE(ts, INTERVAL '1' MINUTE)",
        "group window function CUMULATE",
    );
    assert_unsupported(
        "SELECT COUNT(*) FROM (SELECT * FROM clicks) GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)",
        "over a join, subquery or table function",
    );
    assert_unsupported(
        "SELECT url FROM clicks WHERE TUMBLE(ts, INTERVAL '1' MINUTE) IS NOT NULL",
        "group window function TUMBLE(...) outside GROUP BY",
    );
    assert_unsupported(
        "SELECT TUMBLE_PROCTIME(ts, INTERVAL '1' MINUTE), COUNT(*) FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)",
        "TUMBLE_PROCTIME(...) (processing time)",
    );
    assert_unsupported(
        "SELECT COUNT(*) FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), HOP(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE)",
        "several group windows in one GROUP BY",
    );
    assert_unsupported(
        "SELECT COUNT(*) FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, SESSION(ts, INTERVAL '1' MINUTE)",
        "over a join, subquery or table function",
    );
}

#[test]
fn unions_and_other_statements() {
    assert_unsupported(
        "SELECT url FROM clicks UNION ALL SELECT url FROM orders",
        "UNION",
    );
    assert_unsupported("INSERT INTO clicks SELECT * FROM clicks", "statement");
}

#[test]
fn mistakes_that_are_not_unsupported_say_what_is_wrong() {
    let e = check("SELECT nope FROM clicks", &inputs())
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope"), "{e}");
    let e = check("SELECT * FROM missing", &inputs())
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing") && e.contains("clicks"), "{e}");
    let e = check("SELECT * FROM TABLE(HOP(TABLE clicks, DESCRIPTOR(ts), INTERVAL '7' SECOND, INTERVAL '1' MINUTE))", &inputs())
        .unwrap_err()
        .to_string();
    assert!(e.contains("whole multiple"), "{e}");
    let e = check(
        "SELECT * FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(url), INTERVAL '1' MINUTE))",
        &inputs(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("TIMESTAMP(3)"), "{e}");
}
