//! The `weir` binary end to end: exit codes, text and JSON output of validate, fmt and
//! graph, and where logs go.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn weir(dir: &Path, args: &[&str]) -> Output {
    // an empty config dir keeps the developer's own keymap and themes out of the tests
    let config = std::env::temp_dir().join(format!("weir-cli-noconfig-{}", std::process::id()));
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .env("WEIR_CONFIG_DIR", config)
        .output()
        .expect("weir runs")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch directory per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weir-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn validate_reports_every_file_and_exits_2() {
    let out = weir(
        &root(),
        &[
            "validate",
            "jobs/clickstream_pv.ron",
            "tests/invalid/unknown_field_typo.ron",
            "tests/invalid/many_problems.ron",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("ok: jobs/clickstream_pv.ron"));
    let err = text(&out.stderr);
    assert!(
        err.contains("--> tests/invalid/unknown_field_typo.ron:26:77"),
        "{err}"
    );
    assert!(err.contains("did you mean `batch_size`?"));
    // many_problems has four problems: all are reported
    assert_eq!(
        err.matches("tests/invalid/many_problems.ron:").count(),
        4,
        "{err}"
    );
    assert!(err.contains("3 files checked: 1 valid, 2 invalid"), "{err}");

    let ok = weir(
        &root(),
        &[
            "validate",
            "jobs/clickstream_pv.ron",
            "jobs/risk_control.ron",
        ],
    );
    assert_eq!(ok.status.code(), Some(0));
}

#[test]
fn validate_json() {
    let out = weir(
        &root(),
        &[
            "validate",
            "--json",
            "tests/invalid/edge_unknown_node.ron",
            "jobs/iot_alerts.ron",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["valid"], false);
    let bad = &v["files"][0];
    assert_eq!(bad["valid"], false);
    let d = &bad["diagnostics"][0];
    assert_eq!(d["code"], "unknown-node");
    assert_eq!(d["line"], 28);
    assert_eq!(d["hint"], "did you mean `pv`?");
    assert_eq!(v["files"][1]["valid"], true);
    assert!(
        out.stderr.is_empty(),
        "JSON mode keeps stderr quiet: {}",
        text(&out.stderr)
    );
}

#[test]
fn validate_unreadable_and_binary_files() {
    let dir = scratch("unreadable");
    std::fs::write(dir.join("bin.ron"), [0u8, 159, 146, 150, 255]).unwrap();
    let out = weir(&dir, &["validate", "missing.ron", "bin.ron"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("cannot read the file"), "{err}");
    assert!(err.contains("not UTF-8 text"), "{err}");
}

#[test]
fn fmt_check_and_rewrite() {
    let dir = scratch("fmt");
    let messy = "// keep me\nJob(version: 1, name: \"m\",\n nodes: [PrintSink(id: \"p\")], // trailing\n)\n";
    std::fs::write(dir.join("m.ron"), messy).unwrap();
    let check = weir(&dir, &["fmt", "--check", "m.ron"]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.join("m.ron")).unwrap(),
        messy,
        "--check must not write"
    );
    let fmt = weir(&dir, &["fmt", "m.ron"]);
    assert_eq!(fmt.status.code(), Some(0));
    let formatted = std::fs::read_to_string(dir.join("m.ron")).unwrap();
    assert_eq!(
        formatted,
        "// keep me\nJob(\n    version: 1,\n    name: \"m\",\n    nodes: [\n        PrintSink(id: \"p\"),\n    ], // trailing\n)\n"
    );
    assert_eq!(
        weir(&dir, &["fmt", "--check", "m.ron"]).status.code(),
        Some(0)
    );

    let broken = "Job(version: 1,, )";
    std::fs::write(dir.join("b.ron"), broken).unwrap();
    let out = weir(&dir, &["fmt", "b.ron"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("b.ron:1:16"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("b.ron")).unwrap(),
        broken,
        "a file that does not parse is left alone"
    );

    let examples: Vec<String> = std::fs::read_dir(root().join("jobs"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    let mut args = vec!["fmt", "--check"];
    args.extend(examples.iter().map(String::as_str));
    assert_eq!(weir(&root(), &args).status.code(), Some(0));
}

#[test]
fn graph_text_ascii_and_json() {
    let out = weir(&root(), &["graph", "jobs/risk_control.ron"]);
    assert_eq!(out.status.code(), Some(0));
    let unicode = text(&out.stdout);
    assert!(unicode.contains("KafkaSource") && unicode.contains('▼'));
    let ascii = text(&weir(&root(), &["graph", "--ascii", "jobs/risk_control.ron"]).stdout);
    assert!(
        ascii.is_ascii() && ascii.contains("| KafkaSource |"),
        "{ascii}"
    );
    let json = weir(&root(), &["graph", "--json", "jobs/risk_control.ron"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["nodes"].as_array().unwrap().len(), 4);
    assert_eq!(v["edges"].as_array().unwrap().len(), 3);
    let bad = weir(&root(), &["graph", "tests/invalid/syntax_truncated.ron"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
}

#[test]
fn no_arguments_opens_the_workbench_or_says_why_not() {
    // without a terminal (as here) weir cannot open the workbench and says what to do
    let out = weir(&root(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("needs a terminal") && err.contains("--script"),
        "{err}"
    );
    let help = text(&weir(&root(), &["--help"]).stdout);
    for cmd in ["validate", "fmt", "graph", "tui"] {
        assert!(help.contains(cmd), "{help}");
    }
}

#[test]
fn logs_go_to_the_project_log_file() {
    let dir = scratch("logs");
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::copy(
        root().join("jobs/iot_alerts.ron"),
        dir.join("jobs/iot_alerts.ron"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("jobs/sub")).unwrap();
    let out = weir(
        &dir.join("jobs/sub"),
        &["-v", "validate", "../iot_alerts.ron"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log =
        std::fs::read_to_string(dir.join(".weir/logs/weir.log")).expect("log file in the project");
    assert!(log.contains("started"), "{log}");
    assert!(
        !text(&out.stderr).contains("started"),
        "logs never go to the terminal"
    );
}

/// SQL the engine cannot run is refused by `weir validate`, naming the construct, at the
/// node's query; SQL it runs passes.
#[test]
fn validate_refuses_sql_the_engine_does_not_run() {
    let dir = scratch("unsupported-sql");
    let job = |query: &str| {
        format!(
            r#"Job(
    version: 1,
    name: "q",
    config: (time: Event, parallelism: 1),
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "tt", event_time: Some("ts"), watermark_ms: 1000,
            fields: Some([(name: "user_id", type: String), (name: "ts", type: Timestamp)])),
        Sql(id: "q", query: "{query}"),
        PrintSink(id: "out"),
    ],
    edges: [("src", "q"), ("q", "out")],
)
"#
        )
    };
    let cases = [
        (
            "SELECT user_id, COUNT(*) AS n FROM src GROUP BY user_id",
            Some("GROUP BY without a window"),
        ),
        (
            "SELECT a.user_id FROM src a JOIN src b ON a.user_id = b.user_id",
            Some("join"),
        ),
        ("SELECT user_id, ts FROM src WHERE user_id <> 'x'", None),
        (
            "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end",
            None,
        ),
    ];
    for (i, (query, refused)) in cases.iter().enumerate() {
        let file = format!("q{i}.ron");
        std::fs::write(dir.join(&file), job(query)).unwrap();
        let out = weir(&dir, &["validate", &file]);
        let err = text(&out.stderr);
        match refused {
            Some(construct) => {
                assert_eq!(out.status.code(), Some(2), "{query}: {err}");
                assert!(err.contains("error[unsupported-sql]"), "{err}");
                assert!(
                    err.to_lowercase().contains(&construct.to_lowercase()),
                    "{query}: {err}"
                );
                assert!(
                    err.contains(&format!("{file}:8:")),
                    "points at the query: {err}"
                );
            }
            None => assert_eq!(out.status.code(), Some(0), "{query}: {err}"),
        }
    }
}
