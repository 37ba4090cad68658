//! Examples of the graph diff on the shipped jobs and on small hand-made ones: what is
//! reported, how it reads, and what applying it refuses.

use serde_json::json;

use super::*;
use crate::jobfile::{check_source, to_ron};
use crate::model::{ErrorPolicy, JdbcSink, PrintSink};

const CLICKSTREAM: &str = include_str!("../../../../jobs/clickstream_pv.ron");

const EXAMPLES: [(&str, &str); 4] = [
    ("clickstream_pv", CLICKSTREAM),
    (
        "ecommerce_features",
        include_str!("../../../../jobs/ecommerce_features.ron"),
    ),
    (
        "iot_alerts",
        include_str!("../../../../jobs/iot_alerts.ron"),
    ),
    (
        "risk_control",
        include_str!("../../../../jobs/risk_control.ron"),
    ),
];

fn job(src: &str) -> Job {
    let checked = check_source("test.ron", src);
    checked.job.expect("the test job decodes")
}

/// clickstream_pv as a developer would edit it: a longer window in the SQL, parallelism
/// 4, the source renamed, the sink's batch and error policy changed, a debug sink added.
fn edited_clickstream() -> String {
    CLICKSTREAM
        .replace(
            "parallelism: 2, env: {}",
            "parallelism: 4, env: {\"region\": \"eu\"}",
        )
        .replace("id: \"clicks\"", "id: \"clicks_v2\"")
        .replace("(\"clicks\", \"pv\")", "(\"clicks_v2\", \"pv\")")
        .replace(
            "TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE",
            "TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' MINUTE",
        )
        .replace(
            "GROUP BY window_start, window_end, url\"#",
            "GROUP BY window_start, window_end, url\nHAVING COUNT(*) > 10\"#",
        )
        .replace("batch_size: 500", "batch_size: 1000")
        .replace("on_error: Retry(max: 3, backoff_ms: 200)", "on_error: Skip")
        .replace(
            "    ],\n    edges",
            "        PrintSink(id: \"debug\"),\n    ],\n    edges",
        )
        .replace(
            "(\"pv\", \"out\")]",
            "(\"pv\", \"out\"), (\"pv\", \"debug\")]",
        )
}

#[test]
fn every_example_against_itself_is_no_change() {
    for (name, src) in EXAMPLES {
        let a = job(src);
        assert!(diff(&a, &a).is_empty(), "{name}");
        assert!(diff_texts(src, &to_ron(&a)).unwrap().is_empty(), "{name}");
    }
}

#[test]
fn edited_clickstream_reads_as_a_review() {
    let b_text = edited_clickstream();
    let d = diff_texts(CLICKSTREAM, &b_text).unwrap();
    insta::assert_snapshot!(d.render_text(false));
    assert_eq!(
        to_ron(&d.apply(&job(CLICKSTREAM)).unwrap()),
        to_ron(&job(&b_text))
    );
}

#[test]
fn edited_clickstream_as_json() {
    let d = diff_texts(CLICKSTREAM, &edited_clickstream()).unwrap();
    insta::assert_json_snapshot!(d);
}

#[test]
fn colour_marks_each_kind_of_change() {
    let d = diff_texts(CLICKSTREAM, &edited_clickstream()).unwrap();
    let text = d.render_text(true);
    assert!(
        text.contains("\x1b[32m  + debug (PrintSink)\x1b[0m"),
        "{text}"
    );
    assert!(text.contains("\x1b[33m  ~ pv (Sql)\x1b[0m"), "{text}");
    assert!(text.contains("\x1b[36m  > clicks → clicks_v2 (KafkaSource, renamed)\x1b[0m"));
    assert!(text.contains("\x1b[31m-FROM TABLE(TUMBLE("), "{text}");
    assert!(!d.render_text(false).contains('\x1b'));
}

#[test]
fn the_sql_change_is_a_parameter_and_a_line_diff() {
    let d = diff_texts(CLICKSTREAM, &edited_clickstream()).unwrap();
    let Some(NodeChange::Changed { params, texts, .. }) = d.nodes.iter().find(|c| c.id() == "pv")
    else {
        panic!("pv is changed: {d:?}");
    };
    assert_eq!(params.len(), 1);
    assert_eq!(params[0].path, "query");
    let [t] = texts.as_slice() else {
        panic!("one text diff: {texts:?}")
    };
    assert!(
        t.unified.starts_with("--- a/pv.query\n+++ b/pv.query\n@@ "),
        "{}",
        t.unified
    );
    let inserted: Vec<_> = t
        .lines
        .iter()
        .filter(|l| l.tag == LineTag::Insert)
        .collect();
    assert_eq!(inserted.len(), 2);
    assert_eq!(inserted[1].text, "HAVING COUNT(*) > 10");
    assert_eq!((inserted[1].old_no, inserted[1].new_no), (None, Some(7)));
    let first = &t.lines[0];
    assert_eq!(
        (first.tag, first.old_no, first.new_no),
        (LineTag::Equal, Some(1), Some(1))
    );
}

#[test]
fn a_kind_change_under_the_same_id_is_removed_and_added() {
    let a = job(CLICKSTREAM);
    let mut b = a.clone();
    b.nodes[2] = Node::PrintSink(PrintSink {
        id: "out".into(),
        path: None,
        parallelism: None,
    });
    let d = diff(&a, &b);
    let kinds: Vec<_> = d
        .nodes
        .iter()
        .map(|c| match c {
            NodeChange::Added { id, kind, .. } => format!("+{id} {kind}"),
            NodeChange::Removed { id, kind, .. } => format!("-{id} {kind}"),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["+out PrintSink", "-out JdbcSink"]);
    assert!(d.edges_added.is_empty() && d.edges_removed.is_empty());
    assert_eq!(d.apply(&a).unwrap(), b);
}

#[test]
fn renamed_nodes_pair_in_file_order_and_carry_edges_and_positions() {
    let sink = |id: &str| {
        Node::PrintSink(PrintSink {
            id: id.into(),
            path: None,
            parallelism: None,
        })
    };
    let mut a = job(CLICKSTREAM);
    a.nodes.extend([sink("p1"), sink("p2")]);
    a.edges
        .extend([("pv".into(), "p1".into()), ("pv".into(), "p2".into())]);
    a.positions.insert("p1".into(), (4, 1));
    let mut b = a.clone();
    b.nodes.truncate(3);
    b.nodes.extend([sink("q1"), sink("q2")]);
    b.edges.truncate(2);
    b.edges
        .extend([("pv".into(), "q1".into()), ("pv".into(), "q2".into())]);
    b.positions = [("q1".to_string(), (4, 1))].into();
    let d = diff(&a, &b);
    let renames: Vec<_> = d.renames().into_iter().collect();
    assert_eq!(
        renames,
        [("p1".into(), "q1".into()), ("p2".into(), "q2".into())]
    );
    assert_eq!(d.nodes.len(), 2);
    assert!(d.job.is_empty() && d.edges_added.is_empty() && d.edges_removed.is_empty());
    assert_eq!(d.apply(&a).unwrap(), b);
}

#[test]
fn values_read_compactly() {
    let a = job(CLICKSTREAM);
    let mut b = a.clone();
    let Node::JdbcSink(JdbcSink { on_error, .. }) = &mut b.nodes[2] else {
        panic!("out is a JdbcSink")
    };
    *on_error = ErrorPolicy::Retry {
        max: 5,
        backoff_ms: 200,
    };
    if let Node::KafkaSource(src) = &mut b.nodes[0] {
        src.properties
            .insert("auto.offset.reset".into(), "earliest".into());
        src.fields.as_mut().unwrap()[1].comment = "the page".into();
        src.event_time = None;
    }
    b.description = "x".repeat(100);
    b.positions.insert("pv".into(), (2, 0));
    let text = diff(&a, &b).render_text(false);
    insta::assert_snapshot!(text);
}

#[test]
fn a_multi_line_job_parameter_reads_as_a_line_diff() {
    let a = job(CLICKSTREAM);
    let mut b = a.clone();
    b.description = "PV and UV per page per minute\nfrom the click stream".into();
    let mut c = b.clone();
    c.description = "PV and UV per page per hour\nfrom the click stream".into();
    assert_eq!(
        diff(&b, &c).render_text(false),
        "job\n  description: (text changed, see below)\n--- a/job.description\n+++ b/job.description\n@@ -1,2 +1,2 @@\n-PV and UV per page per minute\n+PV and UV per page per hour\n from the click stream\n"
    );
    assert_eq!(diff(&b, &c).apply(&b).unwrap(), c);
}

#[test]
fn a_reorder_is_said_and_applied() {
    let a = job(CLICKSTREAM);
    let mut b = a.clone();
    b.nodes.swap(0, 2);
    b.edges.reverse();
    let d = diff(&a, &b);
    assert_eq!(
        d.node_order.as_deref(),
        Some(&["out".to_string(), "pv".into(), "clicks".into()][..])
    );
    assert_eq!(
        d.render_text(false),
        "nodes\n  ↕ nodes reordered in the file\nedges\n  ↕ edges reordered in the file\n"
    );
    assert_eq!(d.apply(&a).unwrap(), b);
}

#[test]
fn an_inserted_node_is_placed_where_b_has_it() {
    let a = job(CLICKSTREAM);
    let mut b = a.clone();
    b.nodes.insert(
        1,
        Node::PrintSink(PrintSink {
            id: "tap".into(),
            path: Some("tap.jsonl".into()),
            parallelism: None,
        }),
    );
    let d = diff(&a, &b);
    assert!(d.node_order.is_some());
    assert_eq!(d.render_text(false), "nodes\n  + tap (PrintSink)\n");
    assert_eq!(to_ron(&d.apply(&a).unwrap()), to_ron(&b));
}

#[test]
fn parameter_changes_serialise_absent_as_a_missing_key() {
    let change = ParamChange {
        path: "event_time".into(),
        old: Some(json!("ts")),
        new: None,
    };
    assert_eq!(
        serde_json::to_value(&change).unwrap(),
        json!({"path": "event_time", "old": "ts"})
    );
}

#[test]
fn applying_to_another_job_is_refused_with_the_reason() {
    let a = job(CLICKSTREAM);
    let b = job(&edited_clickstream());
    let d = diff(&a, &b);
    let mut other = a.clone();
    other.config.parallelism = 8;
    let err = d.apply(&other).unwrap_err();
    assert_eq!(
        err.to_string(),
        "job: `config.parallelism` is 8 but the diff expects 2; apply a diff to the job it was computed from"
    );
    assert_eq!(err.fault(), crate::Fault::User);
    let mut other = a.clone();
    other.nodes.remove(2);
    assert_eq!(
        d.apply(&other).unwrap_err(),
        ApplyError::MissingNode { id: "out".into() }
    );
    let err = d.apply(&b).unwrap_err();
    assert!(
        matches!(
            err,
            ApplyError::Conflict { .. } | ApplyError::MissingNode { .. }
        ),
        "{err}"
    );
}

#[test]
fn diff_texts_refuses_what_does_not_decode() {
    let err = diff_texts("Job(", CLICKSTREAM).unwrap_err();
    assert!(err.starts_with("error[syntax]"), "{err}");
    assert!(err.contains("--> a:1:"), "{err}");
    let broken = CLICKSTREAM.replace("batch_size: 500", "batch_size: \"many\"");
    let err = diff_texts(CLICKSTREAM, &broken).unwrap_err();
    assert!(err.starts_with("error[wrong-type]"), "{err}");
    assert!(err.contains("--> b:"), "{err}");
    let twice = CLICKSTREAM.replace("id: \"out\"", "id: \"pv\"");
    let err = diff_texts(&twice, CLICKSTREAM).unwrap_err();
    assert!(
        err.starts_with("a: node id `pv` is used by more than one node"),
        "{err}"
    );
    assert_eq!(
        diff(&job(&twice), &job(&twice))
            .apply(&job(&twice))
            .unwrap_err(),
        ApplyError::DuplicateId { id: "pv".into() }
    );
}

#[test]
fn alert_changes_are_job_settings() {
    let a = job(CLICKSTREAM);
    let b = job(&CLICKSTREAM.replace(
        "parallelism: 2, env: {}",
        "parallelism: 2, env: {}, alerts: [(kind: Lag, above: 1000, for_secs: 30)]",
    ));
    let d = diff(&a, &b);
    assert!(d.nodes.is_empty() && d.edges_added.is_empty(), "{d:?}");
    assert_eq!(
        d.job,
        vec![ParamChange {
            path: "config.alerts".into(),
            old: None,
            new: Some(json!([{"kind": "Lag", "above": 1000.0, "for_secs": 30}])),
        }]
    );
    assert_eq!(to_ron(&d.apply(&a).unwrap()), to_ron(&b));

    // A changed threshold and an added webhook are leaves of the alert.
    let c = job(&CLICKSTREAM.replace(
        "parallelism: 2, env: {}",
        "parallelism: 2, env: {}, alerts: [(kind: Lag, above: 5000, for_secs: 30, webhook: Some(\"http://127.0.0.1:9/hook\"))]",
    ));
    let d = diff(&b, &c);
    let paths: Vec<&str> = d.job.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["config.alerts[0].above", "config.alerts[0].webhook"]
    );
    assert!(
        d.render_text(false)
            .starts_with("job\n  config.alerts[0].above"),
        "{}",
        d.render_text(false)
    );
    assert_eq!(d.apply(&b).unwrap(), c);
    assert_eq!(diff(&c, &a).apply(&c).unwrap(), a);
}

#[test]
fn text_from_the_files_cannot_act_on_the_reviewer_terminal() {
    // a developer hides a change from the approver: clear the screen, forge a line
    let hostile = CLICKSTREAM.replace(
        "GROUP BY window_start, window_end, url\"#",
        "GROUP BY window_start, window_end, url\n-- \u{1b}[2J\r  no changes\u{202e}\"#",
    );
    let d = diff_texts(CLICKSTREAM, &hostile).expect("both decode");
    let text = d.render_text(false);
    assert!(text.contains("-- \\e[2J\\r"), "{text}");
    assert!(text.contains("no changes\\u{202e}"), "{text}");
    assert!(
        !text.chars().any(|c| c != '\n' && crate::text::is_unsafe(c)),
        "{text:?}"
    );
    // with colour, the only escapes are weir's own colour codes
    let coloured = d.render_text(true);
    assert!(!coloured.contains("\u{1b}[2J"), "{coloured:?}");
}
