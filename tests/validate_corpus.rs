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
        let checked = jobfile::check_bytes(&display, &bytes);
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
