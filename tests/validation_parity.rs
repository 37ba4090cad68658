//! One validation (issue 17): the workbench's verdict on a job is `weir validate`'s. Every
//! file of the invalid-job corpus (tests/invalid/) and every example job (jobs/, and any
//! job under testdata/) goes through both paths: the `weir validate --json` command and
//! the workbench's validator (`weir::tui::validation`, what the graph editor, its SQL
//! editor and Home show), and the diagnostics must be the same: code, severity,
//! line:column and end, message, hint and the source line.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use weir::tui::validation;

/// `weir --json validate DIR...` from the repository root: file name → its diagnostics.
fn cli_verdicts(dirs: &[&str]) -> Vec<(String, bool, serde_json::Value)> {
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("WEIR_DATABASE_URL")
        .env_remove("WEIR_STORE")
        .arg("--json")
        .arg("validate")
        .args(dirs)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "weir validate --json printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["valid"].as_bool().unwrap(),
                f["diagnostics"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_workbench_and_weir_validate_give_the_same_diagnostics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs: Vec<&str> = ["tests/invalid", "jobs", "testdata"]
        .into_iter()
        .filter(|d| root.join(d).is_dir())
        .collect();
    let verdicts = cli_verdicts(&dirs);
    let corpus = std::fs::read_dir(root.join("tests/invalid"))
        .unwrap()
        .count();
    let from_corpus = verdicts
        .iter()
        .filter(|(f, _, _)| f.starts_with("tests/invalid/"))
        .count();
    assert_eq!(from_corpus, corpus, "weir validate read every corpus file");
    assert!(verdicts.iter().any(|(f, _, _)| f.starts_with("jobs/")));
    let mut sql_refusals = 0;
    for (file, valid, cli) in &verdicts {
        let path = root.join(file);
        // what Home shows: the file as it is on disk
        // (the relative name, as weir validate was given it: tests run in the root)
        let home = validation::validate_file(Path::new(file));
        assert_eq!(
            serde_json::to_value(&home.diagnostics).unwrap(),
            *cli,
            "{file}: Home and weir validate differ"
        );
        assert_eq!(home.has_errors(), !valid, "{file}");
        // what the graph editor and its SQL editor check: the job's text
        let bytes = std::fs::read(&path).unwrap();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let editor = validation::validate(file, text);
            assert_eq!(
                serde_json::to_value(&editor.diagnostics).unwrap(),
                *cli,
                "{file}: the graph editor and weir validate differ"
            );
        }
        if file.starts_with("jobs/") {
            assert!(valid, "{file}: an example job must be valid: {cli}");
        } else if file.starts_with("tests/invalid/") {
            assert!(!valid, "{file}: a corpus file must be invalid");
        }
        for d in cli.as_array().unwrap() {
            let message = d["message"].as_str().unwrap();
            assert!(
                !message.contains("__weir"),
                "{file}: an internal name reached a message: {message}"
            );
            if d["code"] == "sql-plan" || d["code"] == "unsupported-sql" {
                sql_refusals += 1;
            }
        }
    }
    assert!(
        sql_refusals >= 3,
        "the corpus holds SQL the engine refuses ({sql_refusals} found)"
    );
}

/// The bug of issue 17: `urlx` in clickstream_pv's GROUP BY is reported at `urlx`
/// (line 29, column 36 of the corpus copy), not at `query: r#"`.
#[test]
fn the_unknown_column_points_at_itself() {
    let file = "tests/invalid/sql_unknown_column.ron";
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let checked = validation::validate(file, &text);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", checked.diagnostics);
    let d = errors[0];
    assert_eq!(d.code, "sql-plan");
    let line = text.lines().nth(d.line - 1).unwrap();
    assert_eq!(line, "GROUP BY window_start, window_end, urlx\"#,");
    assert_eq!(d.column, 36, "{}", d.render());
    assert_eq!(d.end_column, 40, "{}", d.render());
    assert!(d.message.contains("urlx"), "{}", d.message);
    assert!(
        d.message.contains("'url'"),
        "did you mean the real column: {}",
        d.message
    );
}
