//! The invalid-job corpus: every file under tests/invalid/ must be reported invalid with
//! the diagnostic codes its first line announces (`// expect: code, code`), and the full
//! rendered report (messages, line:column, caret, hints) is snapshot-tested.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use weir::jobfile;

/// Files that cannot carry an `// expect:` line.
const HEADERLESS: [(&str, &str); 2] = [("empty.ron", "syntax"), ("binary.ron", "not-text")];

#[test]
fn every_invalid_job_gets_its_diagnostics() {
    let dir = Path::new("tests/invalid");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 30,
        "the corpus must hold at least 30 invalid jobs, found {}",
        files.len()
    );
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let display = format!("tests/invalid/{name}");
        // `weir validate`'s own check (offline): the model's rules and the engine's SQL
        // planning, so SQL the engine refuses is pinned here too
        let checked = weir::app::jobs::schema::check_file(&path, None);
        if let Some(d) = checked.diagnostics.first() {
            assert_eq!(d.file, display, "the file as the report names it");
        }
        assert!(checked.has_errors(), "{name} should be invalid");
        let expected: Vec<String> = match HEADERLESS.iter().find(|(f, _)| *f == name) {
            Some((_, code)) => vec![code.to_string()],
            None => {
                let text = String::from_utf8(bytes).unwrap();
                let first = text.lines().next().unwrap_or_default();
                let codes = first
                    .strip_prefix("// expect: ")
                    .unwrap_or_else(|| panic!("{name}: no `// expect:` line"));
                codes.split(',').map(|c| c.trim().to_string()).collect()
            }
        };
        let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code).collect();
        for code in &expected {
            assert!(
                codes.contains(&code.as_str()),
                "{name}: expected a `{code}` diagnostic, got {codes:?}"
            );
        }
        let report: String = checked
            .diagnostics
            .iter()
            .map(|d| d.render())
            .collect::<Vec<_>>()
            .join("\n");
        insta::assert_snapshot!(name.trim_end_matches(".ron").to_string(), report);
    }
}

#[test]
fn json_diagnostics_carry_positions() {
    let checked = jobfile::check_source(
        "x.ron",
        "Job(version: 1, name: \"x\", nodes: [Sql(id: \"a\")])",
    );
    let json = serde_json::to_value(&checked.diagnostics).unwrap();
    let d = &json[0];
    assert_eq!(d["code"], "missing-field");
    assert_eq!(d["line"], 1);
    assert_eq!(d["column"], 36);
    assert_eq!(d["severity"], "error");
    assert!(d["message"].as_str().unwrap().contains("`query`"));
}

#[test]
fn arbitrary_input_never_panics() {
    // a few hostile inputs beside the fuzz target (fuzz/)
    for src in [
        "",
        "(",
        ")",
        "[[[[",
        "Job(",
        "Job(nodes: [KafkaSource(",
        "r#\"",
        "'",
        "\u{feff}Job()",
        "Job(version: 99999999999999999999999999999999999999999)",
    ] {
        let _ = jobfile::check_source("h.ron", src);
        let _ = jobfile::format_source("h.ron", src);
    }
}

/// Inputs the fuzzer found; each once broke an invariant.
#[test]
fn fuzz_findings_stay_fixed() {
    // `r#` with no name after it was read as an empty field name
    let src = "Job(version: 1, name: \"x\", nodes: [PrintSink(r#: \"out\")])";
    let checked = jobfile::check_source("f.ron", src);
    assert_eq!(checked.diagnostics[0].code, "syntax");
    assert!(jobfile::format_source("f.ron", src).is_err());
}

/// A map key holding a line break must stay a key when formatted (fuzz finding).
#[test]
fn multi_line_map_keys_format_escaped() {
    let src = "Job(version: 1, name: \"x\", config: (env: {\"a\nb\": \"v\"}), nodes: [PrintSink(id: \"p\")])";
    let formatted = jobfile::format_source("k.ron", src).unwrap();
    assert!(formatted.contains("\"a\\nb\": \"v\""), "{formatted}");
    assert_eq!(
        jobfile::format_source("k.ron", &formatted).unwrap(),
        formatted
    );
    let before = jobfile::check_source("k.ron", src).job.unwrap();
    assert_eq!(
        jobfile::check_source("k.ron", &formatted).job.unwrap(),
        before
    );
}

/// `weir fmt` used to change what a file means (issue 15): a 39-digit integer became
/// `1e39`, 310 digits `inf` (then `r#inf`), and `Job(Job(...))` was unwrapped into a
/// valid job. Now such numbers are syntax errors for validate and fmt alike, with the
/// same diagnostic, and fmt keeps every value as written.
#[test]
fn fmt_never_changes_what_a_file_means() {
    let long = "9".repeat(310);
    for number in [
        "1000000000000000000000000000000000000000",
        "-170141183460469231731687303715884105729",
        long.as_str(),
        "1e400",
        "-1e400",
        "+inf",
        "-inf",
        "-NaN",
    ] {
        let src =
            format!("Job(version: 1, name: \"x\", config: (checkpoint_interval_ms: {number}))");
        let checked = jobfile::check_source("n.ron", &src);
        assert_eq!(checked.diagnostics.len(), 1, "{number}");
        assert_eq!(checked.diagnostics[0].code, "syntax", "{number}");
        let refused = jobfile::format_source("n.ron", &src).unwrap_err();
        assert_eq!(*refused, checked.diagnostics[0], "{number}");
    }
    // the largest and smallest integers the parser holds are kept digit for digit
    for number in [
        "170141183460469231731687303715884105727",
        "-170141183460469231731687303715884105728",
    ] {
        let src =
            format!("Job(version: 1, name: \"x\", config: (checkpoint_interval_ms: {number}))");
        let formatted = jobfile::format_source("n.ron", &src).unwrap();
        assert!(formatted.contains(number), "{formatted}");
    }
    // a bare `inf` is a name, and stays one
    let src = "Job(version: 1, name: \"x\", config: (time: inf))";
    let formatted = jobfile::format_source("i.ron", src).unwrap();
    assert!(formatted.contains("time: r#inf"), "{formatted}");
    assert_eq!(
        jobfile::format_source("i.ron", &formatted).unwrap(),
        formatted
    );
    // wrappers stay: validate refuses the file before and after fmt
    for src in [
        "Job(Job(version: 1, name: \"x\", nodes: [PrintSink(id: \"p\")]))",
        "Job((version: 1, name: \"x\", nodes: [PrintSink(id: \"p\")]))",
    ] {
        let before = jobfile::check_source("w.ron", src);
        assert!(before.has_errors());
        let formatted = jobfile::format_source("w.ron", src).unwrap();
        let after = jobfile::check_source("w.ron", &formatted);
        assert!(after.has_errors(), "fmt made it valid:\n{formatted}");
        assert_eq!(after.diagnostics[0].code, "not-a-job");
        assert_eq!(
            jobfile::format_source("w.ron", &formatted).unwrap(),
            formatted
        );
    }
    // an operator's long form is kept as written: it means the same as the short form
    let src = "Job(version: 1, name: \"x\", nodes: [PrintSink((id: \"p\"))])";
    let formatted = jobfile::format_source("l.ron", src).unwrap();
    assert!(formatted.contains("PrintSink((id: \"p\"))"), "{formatted}");
    assert_eq!(
        jobfile::check_source("l.ron", &formatted).job,
        jobfile::check_source("l.ron", src).job
    );
}
