//! Tests of the workbench's validator: latest request wins, pending until the verdict,
//! and problems placed inside a query.

use super::*;

/// clickstream_pv with `url` in the GROUP BY renamed to `urlx` (issue 17, bug 1).
fn broken_clickstream() -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../jobs/clickstream_pv.ron"
    ))
    .unwrap_or_else(|e| panic!("example job: {e}"));
    let fixed = "GROUP BY window_start, window_end, url\"#";
    assert!(text.contains(fixed), "the example changed");
    text.replace(fixed, "GROUP BY window_start, window_end, urlx\"#")
}

/// Poll until a verdict arrives (at most 20 s).
fn wait(v: &mut Validator) -> Verdict {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(verdict) = v.poll() {
            return verdict;
        }
        assert!(Instant::now() < end, "no verdict within 20 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_unknown_column_is_an_error_at_its_place_without_internal_names() {
    let text = broken_clickstream();
    let checked = validate("jobs/clickstream_pv.ron", &text);
    let errors: Vec<&Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", checked.diagnostics);
    let d = errors[0];
    let line = text.lines().nth(d.line - 1).unwrap_or_default();
    let at: String = line.chars().skip(d.column - 1).take(4).collect();
    assert_eq!(at, "urlx", "{}", d.render());
    assert!(d.message.contains("urlx"), "{}", d.message);
    assert!(!d.message.contains("__weir"), "{}", d.message);
}

#[test]
fn only_the_newest_text_gets_a_verdict() {
    let mut v = Validator::new(Duration::from_millis(50));
    let good = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../jobs/clickstream_pv.ron"
    ))
    .unwrap_or_else(|e| panic!("example job: {e}"));
    let bad = broken_clickstream();
    v.request("j.ron", &good, false);
    assert!(v.pending());
    v.request("j.ron", &bad, false);
    let verdict = wait(&mut v);
    assert_eq!(verdict.text, bad);
    assert!(verdict.checked.has_errors());
    assert!(!v.pending());
    assert!(v.settled_on(&bad));
    // nothing more comes: the older text's verdict, if it was made, is dropped
    std::thread::sleep(Duration::from_millis(150));
    assert!(v.poll().is_none());
    // asking again about the checked text does nothing
    v.request("j.ron", &bad, false);
    assert!(!v.pending());
}

#[test]
fn a_settled_text_drops_the_verdict_on_its_way() {
    let mut v = Validator::new(Duration::ZERO);
    v.request("j.ron", &broken_clickstream(), true);
    v.settle("Job(");
    assert!(!v.pending());
    std::thread::sleep(Duration::from_millis(300));
    assert!(v.poll().is_none());
}

#[test]
fn problems_are_placed_in_the_query_of_raw_and_escaped_strings() {
    let raw = broken_clickstream();
    let checked = validate("j.ron", &raw);
    let (inside, elsewhere) = query_problems(&raw, 1, &checked.diagnostics);
    assert_eq!(elsewhere, 0);
    assert_eq!(inside.len(), 1, "{inside:?}");
    let crate::model::Node::Sql(sql) = &checked
        .job
        .as_ref()
        .map(|j| j.nodes[1].clone())
        .unwrap_or_else(|| panic!("no job"))
    else {
        panic!("node 1 is not the Sql node");
    };
    assert_eq!(&sql.query[inside[0].start..inside[0].end], "urlx");

    // the same query in an escaped string, with escapes before the word
    let escaped = r#"Job(version: 1, name: "e", config: (time: Event),
    nodes: [
        KafkaSource(id: "clicks", datasource: "k", topic: "clicks", event_time: Some("ts"), watermark_ms: 0,
            fields: Some([(name: "url", type: String), (name: "ts", type: Timestamp)])),
        Sql(id: "pv", query: "SELECT \"url\",\n  ts\nFROM clicks\tWHERE urlx <> 'a'"),
        PrintSink(id: "out"),
    ],
    edges: [("clicks", "pv"), ("pv", "out")])"#;
    let checked = validate("e.ron", escaped);
    assert!(checked.has_errors(), "{:?}", checked.diagnostics);
    let (inside, _) = query_problems(escaped, 1, &checked.diagnostics);
    let query = "SELECT \"url\",\n  ts\nFROM clicks\tWHERE urlx <> 'a'";
    assert_eq!(inside.len(), 1, "{inside:?}");
    assert_eq!(&query[inside[0].start..inside[0].end], "urlx");
    // and in the file, the caret is under the word
    let d = &inside[0].diagnostic;
    let line = escaped.lines().nth(d.line - 1).unwrap_or_default();
    let at: String = line.chars().skip(d.column - 1).take(4).collect();
    assert_eq!(at, "urlx", "{}", d.render());
}
