//! The diff view's frame time (issue 13: under 5 ms): two 200-node jobs — 40 pipelines of
//! source → SQL → 3 sinks, the second with 10 queries changed, 5 sinks removed, 5 added
//! and 2 renamed — diffed once, then the view of the diff (a changed SQL node selected,
//! its query diff side by side) drawn on ratatui's TestBackend at 160x50 and 80x24.
//! Prints the medians of 50 frames and writes them to bench/results/diff_view.txt at
//! the workspace root; asserts nothing.
//!
//! Run: `cargo bench -p weir-tui --bench diff_view` (release), or with `--profile dev`
//! for the debug build the tests use, which already stays far below the aim.
// A benchmark is a test helper: a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use weir_app::jobs::{JobDiffReport, Side};
use weir_app::project::Project;
use weir_model::diff::diff_texts;
use weir_tui::keymap::Keymap;
use weir_tui::screens::jobs::diff::{DiffScreen, decode};
use weir_tui::screens::{Context, Screen};
use weir_tui::theme::Theme;

/// The 200-node job; `changed` alters queries, removes, adds and renames sinks.
fn job(changed: bool) -> String {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for p in 0..40 {
        nodes.push(format!(
            "KafkaSource(id: \"src_{p}\", datasource: \"kafka\", topic: \"topic_{p}\", fields: Some([(name: \"k\", type: String)]))"
        ));
        let query = if changed && p % 4 == 0 {
            format!("SELECT k,\\n  COUNT(*) AS n\\nFROM src_{p}\\nGROUP BY k")
        } else {
            format!("SELECT k\\nFROM src_{p}")
        };
        nodes.push(format!("Sql(id: \"sql_{p}\", query: \"{query}\")"));
        edges.push(format!("(\"src_{p}\", \"sql_{p}\")"));
        for s in 0..3 {
            let id = match (changed, p, s) {
                (true, 0..5, 2) => format!("new_{p}_{s}"),
                (true, 5..7, 1) => format!("renamed_{p}_{s}"),
                _ => format!("out_{p}_{s}"),
            };
            let extra = if changed && p < 5 && s == 2 {
                ", parallelism: Some(2)"
            } else {
                ""
            };
            nodes.push(format!("PrintSink(id: \"{id}\"{extra})"));
            edges.push(format!("(\"sql_{p}\", \"{id}\")"));
        }
    }
    format!(
        "Job(version: 1, name: \"big\", nodes: [{}], edges: [{}])",
        nodes.join(",\n"),
        edges.join(", ")
    )
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let (a, b) = (job(false), job(true));
    let t = Instant::now();
    let diff = diff_texts(&a, &b).unwrap();
    let diffed = t.elapsed();
    let report = JobDiffReport {
        job: "shop/big".into(),
        a: Side {
            label: "version 1 (aaaaaaaaaaaa)".into(),
            hash: "a".repeat(64),
        },
        b: Side {
            label: "working file".into(),
            hash: "b".repeat(64),
        },
        diff,
        new_job: None,
    };
    let new = decode(&b).unwrap();
    assert_eq!(new.nodes.len(), 200);
    let t = Instant::now();
    let mut view = DiffScreen::with_new_job(report, Some(&new));
    let opened = t.elapsed();
    assert!(
        view.selected_node()
            .is_some_and(|id| id.starts_with("sql_"))
    );

    let theme = Theme::default();
    let keymap = Keymap::defaults();
    let project = Project {
        root: std::env::temp_dir(),
    };
    let cx = Context {
        project: &project,
        theme: &theme,
        keymap: &keymap,
        store: None,
    };
    let mut lines = vec![
        format!("{:<52} {:>12}", "benchmark", "median"),
        format!(
            "{:<52} {:>12?}",
            "diff of the two 200-node jobs (once)", diffed
        ),
        format!(
            "{:<52} {:>12?}",
            "open the diff view (union, layout, drawing)", opened
        ),
    ];
    for (w, h) in [(160, 50), (80, 24)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        let frames: Vec<Duration> = (0..50)
            .map(|_| {
                let t = Instant::now();
                term.draw(|f| view.render(f, f.area(), &cx, true)).unwrap();
                t.elapsed()
            })
            .collect();
        lines.push(format!(
            "{:<52} {:>12?}",
            format!("frame of the 200-node diff view, {w}x{h}"),
            median(frames)
        ));
    }
    let report = lines.join("\n") + "\n";
    print!("{report}");
    // the command that reproduces this build, and what it was
    let (profile, build) = if cfg!(debug_assertions) {
        (" --profile dev", "debug")
    } else {
        ("", "release")
    };
    let header = format!(
        "# cargo bench -p weir-tui --bench diff_view{profile} ({build} build, {} cores)\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/results");
    let path = dir.join("diff_view.txt");
    if let Err(e) =
        std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, header + &report))
    {
        eprintln!("could not write {}: {e}", path.display());
    }
}
