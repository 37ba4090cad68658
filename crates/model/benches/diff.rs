//! Figures for the graph diff (issue 13 asks under 20 ms for two 200-node jobs): two
//! 200-node jobs of source → SQL → SQL → sinks chains, about 10% of the nodes changed, a
//! few renamed, added and removed. Times `diff` (and, for scale, the text rendering and
//! `apply`) over 50 runs, prints median and max, and writes them to
//! bench/results/diff.txt. Asserts nothing.
//!
//! Run: `cargo bench -p weir-model --bench diff`
// A benchmark's failure is its report: it may unwrap.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use weir_model::diff;
use weir_model::model::{
    ErrorPolicy, Field, FieldType, JdbcOperation, JdbcSink, Job, JobConfig, JobMode, KafkaSink,
    KafkaSource, Node, Sql, StartOffset,
};

const RUNS: usize = 50;

fn fields() -> Vec<Field> {
    ["user_id", "url", "ts"]
        .into_iter()
        .map(|name| Field {
            name: name.into(),
            ty: if name == "ts" {
                FieldType::Timestamp
            } else {
                FieldType::String
            },
            comment: String::new(),
        })
        .collect()
}

fn query(i: usize, from: &str, minutes: u32) -> String {
    format!(
        "\nSELECT window_start, window_end, url,\n       COUNT(*) AS pv_{i},\n       COUNT(DISTINCT user_id) AS uv\nFROM TABLE(TUMBLE(TABLE {from}, DESCRIPTOR(ts), INTERVAL '{minutes}' MINUTE))\nWHERE url <> ''\nGROUP BY window_start, window_end, url"
    )
}

/// Chain `i`: five nodes and four edges.
fn chain(i: usize, job: &mut Job) {
    let [src, agg, top, to_kafka, to_db] =
        ["src", "agg", "top", "to_kafka", "to_db"].map(|p| format!("{p}_{i}"));
    job.nodes.push(Node::KafkaSource(KafkaSource {
        id: src.clone(),
        datasource: "kafka_main".into(),
        topic: format!("clicks_{i}"),
        table: None,
        parallelism: None,
        start: StartOffset::Latest,
        group: None,
        format: None,
        lenient: false,
        event_time: Some("ts".into()),
        watermark_ms: 5000,
        fields: Some(fields()),
        properties: Default::default(),
    }));
    job.nodes.push(Node::Sql(Sql {
        id: agg.clone(),
        query: query(i, &src, 1),
        parallelism: None,
    }));
    job.nodes.push(Node::Sql(Sql {
        id: top.clone(),
        query: format!("SELECT url, pv_{i} FROM {agg} WHERE pv_{i} > 100"),
        parallelism: Some(2),
    }));
    job.nodes.push(Node::KafkaSink(KafkaSink {
        id: to_kafka.clone(),
        datasource: "kafka_main".into(),
        topic: format!("top_pages_{i}"),
        format: Default::default(),
        key: Some(vec!["url".into()]),
        properties: Default::default(),
        parallelism: None,
    }));
    job.nodes.push(Node::JdbcSink(JdbcSink {
        id: to_db.clone(),
        datasource: "mysql_report".into(),
        database: None,
        table: format!("pv_{i}"),
        operation: JdbcOperation::Upsert {
            key: vec!["url".into(), "window_start".into()],
        },
        columns: None,
        batch_size: 500,
        flush_interval_ms: 1000,
        flush_on_checkpoint: true,
        on_error: ErrorPolicy::default(),
        parallelism: None,
    }));
    job.edges.extend([
        (src, agg.clone()),
        (agg, top.clone()),
        (top.clone(), to_kafka),
        (top, to_db),
    ]);
}

fn job_a() -> Job {
    let mut job = Job {
        version: 1,
        name: "wide".into(),
        description: String::new(),
        mode: JobMode::Online,
        config: JobConfig::default(),
        package: None,
        datasources: Default::default(),
        nodes: Vec::new(),
        edges: Vec::new(),
        positions: Default::default(),
    };
    for i in 0..40 {
        chain(i, &mut job);
    }
    job
}

/// A with 20 nodes changed (10 queries, 10 sinks), 4 renamed, the 3 nodes of a new
/// partial chain added, one chain's 3 last nodes removed, and parallelism 4.
fn job_b(a: &Job) -> Job {
    let mut b = a.clone();
    b.config.parallelism = 4;
    for i in 0..10 {
        let chain = i * 4;
        if let Node::Sql(sql) = &mut b.nodes[chain * 5 + 1] {
            sql.query = query(chain, &format!("src_{chain}"), 5) + "\nHAVING COUNT(*) > 10";
        }
        if let Node::JdbcSink(sink) = &mut b.nodes[chain * 5 + 4] {
            sink.batch_size = 1000;
            sink.on_error = ErrorPolicy::Skip;
        }
    }
    for i in [3, 13, 23, 33] {
        let from = format!("to_kafka_{i}");
        let to = format!("to_kafka_{i}_v2");
        b.nodes[i * 5 + 3].set_id(to.clone());
        for edge in &mut b.edges {
            if edge.1 == from {
                edge.1 = to.clone();
            }
        }
    }
    let gone = ["top_39", "to_kafka_39", "to_db_39"];
    b.nodes.retain(|n| !gone.contains(&n.id()));
    b.edges
        .retain(|(f, t)| !gone.contains(&f.as_str()) && !gone.contains(&t.as_str()));
    let mut extra = Job {
        nodes: Vec::new(),
        edges: Vec::new(),
        ..a.clone()
    };
    chain(40, &mut extra);
    b.nodes.extend(extra.nodes.into_iter().take(3));
    b.edges.extend(extra.edges.into_iter().take(2));
    b
}

fn time<T>(mut f: impl FnMut() -> T) -> (Duration, Duration) {
    let mut samples: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() - 1])
}

fn main() {
    let a = job_a();
    let b = job_b(&a);
    let d = diff::diff(&a, &b);
    let round_trip = d.apply(&a).is_ok_and(|applied| applied == b);
    let count = |f: fn(&diff::NodeChange) -> bool| d.nodes.iter().filter(|c| f(c)).count();
    let summary = format!(
        "A {} nodes, B {} nodes: {} changed, {} renamed, {} added, {} removed, edges +{} -{} (B has {}); apply gives B: {}",
        a.nodes.len(),
        b.nodes.len(),
        count(|c| matches!(c, diff::NodeChange::Changed { .. })),
        count(|c| matches!(c, diff::NodeChange::Renamed { .. })),
        count(|c| matches!(c, diff::NodeChange::Added { .. })),
        count(|c| matches!(c, diff::NodeChange::Removed { .. })),
        d.edges_added.len(),
        d.edges_removed.len(),
        b.edges.len(),
        if round_trip { "yes" } else { "NO" },
    );
    let mut lines = vec![
        summary,
        format!(
            "{:<40} {:>12} {:>12}",
            "benchmark (50 runs)", "median", "max"
        ),
    ];
    let mut row = |name: &str, (median, max): (Duration, Duration)| {
        lines.push(format!("{name:<40} {median:>12?} {max:>12?}"));
    };
    row(
        "diff, 200 nodes (goal < 20 ms)",
        time(|| diff::diff(&a, &b)),
    );
    row("render_text, colour", time(|| d.render_text(true)));
    row("apply", time(|| d.apply(&a)));
    publish(&lines);
}

/// Print the report and write it to bench/results/diff.txt of the workspace.
fn publish(lines: &[String]) {
    let report = lines.join("\n") + "\n";
    print!("{report}");
    let header = format!(
        "# cargo bench -p weir-model --bench diff ({} build, {} cores)\n",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/results");
    let path = dir.join("diff.txt");
    if let Err(e) =
        std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, header + &report))
    {
        eprintln!("could not write {}: {e}", path.display());
    }
}
