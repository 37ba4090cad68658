//! Workbench figures: time to first frame (aim < 100 ms) and the frame time of the graph
//! editor on a 200-node job (aim < 5 ms), drawn on ratatui's TestBackend through the
//! same view code as the terminal. Prints a table, writes bench/results/tui.txt,
//! asserts nothing.
//!
//! Run: `cargo bench --bench tui`
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::time::Instant;

use weir::app::project::Project;
use weir::tui::action::Action;
use weir::tui::headless::Headless;
use weir::tui::keymap::Keymap;
use weir::tui::theme::Theme;
use weir::tui::workbench::{Env, Workbench};

/// A project holding one 200-node job: 40 pipelines of source → SQL → 3 sinks.
fn big_project() -> PathBuf {
    let root = std::env::temp_dir().join(format!("weir-bench-tui-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("jobs")).expect("temp dir");
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for p in 0..40 {
        nodes.push(format!(
            "KafkaSource(id: \"src_{p}\", datasource: \"kafka\", topic: \"topic_{p}\", fields: Some([(name: \"k\", type: String)]))"
        ));
        nodes.push(format!(
            "Sql(id: \"sql_{p}\", query: \"SELECT k FROM src_{p}\")"
        ));
        edges.push(format!("(\"src_{p}\", \"sql_{p}\")"));
        for s in 0..3 {
            nodes.push(format!("PrintSink(id: \"out_{p}_{s}\")"));
            edges.push(format!("(\"sql_{p}\", \"out_{p}_{s}\")"));
        }
    }
    let job = format!(
        "Job(version: 1, name: \"big\", nodes: [{}], edges: [{}])",
        nodes.join(",\n"),
        edges.join(", ")
    );
    std::fs::write(root.join("jobs/big.ron"), job).expect("write job");
    root
}

fn app_on(root: PathBuf) -> Workbench {
    Workbench::new(
        Project { root },
        Theme::default(),
        Keymap::defaults(),
        Env::Test,
        "bench".into(),
    )
}

fn main() {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let first_frame = common::median(
        (0..11)
            .map(|_| {
                let t = Instant::now();
                let mut app = app_on(examples.clone());
                let mut hl = Headless::new(80, 24, None).expect("backend");
                hl.draw(&mut app).expect("draw");
                t.elapsed()
            })
            .collect(),
    );
    let mut app = app_on(big_project());
    let t = Instant::now();
    app.apply(Action::OpenJob("big.ron".into()));
    let open = t.elapsed();
    let mut lines = vec![format!("{:<52} {:>12}", "benchmark", "median")];
    lines.push(format!(
        "{:<52} {:>12?}",
        "time to first frame (example project, 80x24)", first_frame
    ));
    lines.push(format!(
        "{:<52} {:>12?}",
        "open a 200-node job in the graph editor", open
    ));
    for (w, h) in [(80, 24), (160, 50)] {
        let mut hl = Headless::new(w, h, None).expect("backend");
        let frame = common::median(
            (0..51)
                .map(|_| {
                    let t = Instant::now();
                    hl.draw(&mut app).expect("draw");
                    t.elapsed()
                })
                .collect(),
        );
        lines.push(format!(
            "{:<52} {:>12?}",
            format!("frame of the 200-node graph editor, {w}x{h}"),
            frame
        ));
    }
    common::publish("tui", &lines);
}
