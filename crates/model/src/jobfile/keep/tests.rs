//! The writer changes a file only where the job did: the examples come back byte for
//! byte, defaults never appear by themselves, written fields never vanish.

use std::path::{Path, PathBuf};

use crate::jobfile::{check_source, fields, to_ron, to_ron_keeping_comments};
use crate::model::{JobMode, Node};

/// Every example job of the repository: `jobs/`, the headless scripts' expected saves
/// and the Nexmark queries.
fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for dir in ["jobs", "tests/scripts", "bench/nexmark"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        out.extend(
            rd.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "ron")),
        );
    }
    out.sort();
    assert!(out.len() >= 4, "examples found: {out:?}");
    out
}

#[test]
fn saving_an_example_without_edits_gives_it_back_byte_for_byte() {
    for path in examples() {
        let src = std::fs::read_to_string(&path).unwrap();
        let job = check_source("x.ron", &src).job.unwrap();
        assert_eq!(
            to_ron_keeping_comments(&job, &src),
            src,
            "{} changed by a save without edits",
            path.display()
        );
    }
}

#[test]
fn a_save_adds_no_default_the_file_did_not_have() {
    for path in examples() {
        let src = std::fs::read_to_string(&path).unwrap();
        let mut job = check_source("x.ron", &src).job.unwrap();
        job.name = "edited".into();
        let text = to_ron_keeping_comments(&job, &src);
        for line in ["mode: Online", "operation: Insert", "start: Latest"] {
            assert_eq!(
                text.contains(line),
                src.contains(line),
                "{}: `{line}`\n{text}",
                path.display()
            );
        }
        assert_eq!(check_source("x.ron", &text).job.unwrap(), job);
        // a second save over the first writes the same text, as does one over a new file
        assert_eq!(to_ron_keeping_comments(&job, &text), text);
        let fresh = to_ron(&job);
        assert_eq!(to_ron_keeping_comments(&job, &fresh), fresh);
        // only the name's line changed
        let changed = src
            .lines()
            .zip(text.lines())
            .filter(|(a, b)| a != b)
            .count();
        assert!(changed <= 1, "{}:\n{text}", path.display());
    }
}

#[test]
fn a_job_written_from_nothing_holds_no_defaults() {
    let mut job = check_source("a.ron", "Job(version: 1, name: \"a\")")
        .job
        .unwrap();
    assert_eq!(to_ron(&job), "Job(\n    version: 1,\n    name: \"a\",\n)\n");
    let Some(mut k) = fields::skeleton("KafkaSource", "k") else {
        panic!("a KafkaSource skeleton")
    };
    if let Node::KafkaSource(s) = &mut k {
        s.datasource = "kafka_main".into();
        s.topic = "clicks".into();
        s.watermark_ms = 500;
    }
    job.nodes.push(k);
    let text = to_ron(&job);
    assert_eq!(
        text,
        "Job(\n    version: 1,\n    name: \"a\",\n    nodes: [\n        KafkaSource(id: \"k\", datasource: \"kafka_main\", topic: \"clicks\", watermark_ms: 500),\n    ],\n)\n"
    );
    assert_eq!(check_source("a.ron", &text).job.unwrap(), job);
}

#[test]
fn written_fields_stay_and_new_values_are_written() {
    let old = "Job(\n    name: \"a\",\n    version: 1,\n    description: \"\",\n    mode: Online,\n    datasources: {},\n    nodes: [],\n)\n";
    let mut job = check_source("a.ron", old).job.unwrap();
    // unchanged: the file as it was, its order and its defaults included
    assert_eq!(to_ron_keeping_comments(&job, old), old);
    // a value the file left out is written once it differs from its default
    job.config.parallelism = 4;
    job.mode = JobMode::Online;
    let text = to_ron_keeping_comments(&job, old);
    assert_eq!(
        text,
        "Job(\n    name: \"a\",\n    version: 1,\n    description: \"\",\n    mode: Online,\n    config: (parallelism: 4),\n    datasources: {},\n    nodes: [],\n)\n"
    );
    assert_eq!(check_source("a.ron", &text).job.unwrap(), job);
    // back to the default: a field the file now has stays
    job.config.parallelism = 1;
    assert_eq!(
        to_ron_keeping_comments(&job, &text),
        text.replace("parallelism: 4", "parallelism: 1")
    );
    // and over the first file, it is left out again
    assert_eq!(to_ron_keeping_comments(&job, old), old);
}

#[test]
fn map_entries_keep_the_files_order() {
    let old = "Job(\n    version: 1,\n    name: \"a\",\n    config: (env: {\"b\": \"2\", \"a\": \"1\"}),\n)\n";
    let mut job = check_source("a.ron", old).job.unwrap();
    assert_eq!(to_ron_keeping_comments(&job, old), old);
    job.config.env.insert("c".into(), "3".into());
    assert_eq!(
        to_ron_keeping_comments(&job, old),
        "Job(\n    version: 1,\n    name: \"a\",\n    config: (env: {\"b\": \"2\", \"a\": \"1\", \"c\": \"3\"}),\n)\n"
    );
}
