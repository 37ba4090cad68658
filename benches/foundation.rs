//! Figures for the foundation: layout + render time of a 200-node job graph (the TUI
//! editor's budget is 5 ms a frame) and validate throughput of the example jobs.
//! Prints a table and writes it to bench/results/foundation.txt; asserts nothing.
//!
//! Run: `cargo bench --bench foundation`
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use weir::graph::{Graph, GraphNode, layout, render};
use weir::jobfile;

/// A deterministic layered DAG of `n` nodes, like a wide job.
fn wide_graph(n: usize) -> Graph {
    let kinds = [
        "KafkaSource",
        "Sql",
        "Etl",
        "JdbcSink",
        "RedisSink",
        "KafkaSink",
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let nodes = (0..n)
        .map(|i| GraphNode::new(format!("op_{i}"), kinds[i % kinds.len()]))
        .collect();
    let mut edges = Vec::new();
    for to in 1..n {
        let from = next() % to;
        edges.push((from, to));
        if next() % 3 == 0 {
            edges.push((next() % to, to));
        }
    }
    Graph { nodes, edges }
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    common::median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let mut lines = vec![format!("{:<44} {:>12}", "benchmark", "median")];
    for n in [20, 200, 1000] {
        let g = wide_graph(n);
        let l = layout::layout(&g);
        let t_layout = time(31, || layout::layout(&g));
        let t_render = time(31, || render::render(&l, render::Charset::Unicode));
        lines.push(format!(
            "{:<44} {:>12?}",
            format!("graph layout, {n} nodes"),
            t_layout
        ));
        lines.push(format!(
            "{:<44} {:>12?}",
            format!("graph render (unicode), {n} nodes"),
            t_render
        ));
    }
    let sources: Vec<(String, String)> = std::fs::read_dir("jobs")
        .expect("run from the crate root")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap_or_default(),
            )
        })
        .collect();
    let bytes: usize = sources.iter().map(|(_, s)| s.len()).sum();
    let t = time(51, || {
        for (name, src) in &sources {
            std::hint::black_box(jobfile::check_source(name, src));
        }
    });
    lines.push(format!(
        "{:<44} {:>12?}",
        format!("validate {} example jobs ({bytes} bytes)", sources.len()),
        t
    ));
    common::publish("foundation", &lines);
}
