//! Workbench figures: time to first frame (aim < 100 ms), the frame time of the graph
//! editor on a 200-node job (aim < 5 ms), and frames while typing SQL with the validator
//! checking in the background (aim: none over 16 ms), drawn on ratatui's TestBackend
//! through the same view code as the terminal. Prints a table, writes bench/results/tui.txt,
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
    typing_while_validating(&mut lines);
    common::publish("tui", &lines);
}

/// Typing into the SQL editor of the largest example job while the workbench's validator
/// (`weir validate`'s checks, SQL planning included) runs in the background: bursts of
/// five keys 50 ms apart inside a trailing comment (the query stays valid, so every
/// pause brings a full check), then 350 ms of event-loop turns (a tick and a frame every
/// 100 ms) while the check runs after its 300 ms debounce. Every frame is timed: the key
/// or tick handled and the frame drawn. Aim: no frame over 16 ms.
fn typing_while_validating(lines: &mut Vec<String>) {
    use std::time::Duration;
    use weir::tui::keys::parse_keys;

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let largest = std::fs::read_dir(root.join("jobs"))
        .expect("jobs/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "ron"))
        .max_by_key(|e| e.metadata().map_or(0, |m| m.len()))
        .expect("an example job");
    let rel = largest.file_name().to_string_lossy().to_string();
    let text = std::fs::read_to_string(largest.path()).expect("read the job");
    let check = common::median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                weir::tui::validation::validate(&rel, &text);
                t.elapsed()
            })
            .collect(),
    );

    let mut app = app_on(root);
    app.apply(Action::OpenJob(rel.clone()));
    let mut hl = Headless::new(160, 50, None).expect("backend");
    hl.draw(&mut app).expect("draw");
    // the SQL editor of the job's one Sql node; to the end of the query, a comment line
    for k in parse_keys("s<PageDown><PageDown><PageDown><PageDown><End><Enter>-- ").expect("keys") {
        app.handle_key(k);
        hl.draw(&mut app).expect("draw");
    }
    let mut frames = Vec::new();
    // verdicts that reached the screen: "checking…" gave way to the check's result
    let (mut verdicts, mut checking) = (0, false);
    let mut note = |frame: &str| {
        let now = frame.contains("checking…");
        if checking && !now {
            verdicts += 1;
        }
        checking = now;
    };
    let typed = parse_keys("typed").expect("keys");
    for _ in 0..30 {
        for &k in &typed {
            let t = Instant::now();
            app.handle_key(k);
            hl.draw(&mut app).expect("draw");
            frames.push(t.elapsed());
            note(hl.last_frame());
            std::thread::sleep(Duration::from_millis(50));
        }
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(88));
            let t = Instant::now();
            hl.draw(&mut app).expect("draw");
            frames.push(t.elapsed());
            note(hl.last_frame());
        }
    }
    let shown = hl.last_frame().to_string();
    let max = frames.iter().max().copied().unwrap_or_default();
    let over = frames
        .iter()
        .filter(|f| **f > Duration::from_millis(16))
        .count();
    lines.push(format!(
        "{:<52} {:>12?}",
        format!("full check of {rel} (validator thread)"),
        check
    ));
    lines.push(format!(
        "{:<52} {:>12?}",
        "frame while typing SQL, check in background (median)",
        common::median(frames.clone())
    ));
    lines.push(format!(
        "{:<52} {:>12?}",
        "frame while typing SQL, check in background (max)", max
    ));
    lines.push(format!(
        "{:<52} {:>12}",
        format!("frames over 16 ms while typing (of {})", frames.len()),
        over
    ));
    lines.push(format!(
        "{:<52} {:>12}",
        "verdicts shown while typing (30 pauses)", verdicts
    ));
    if !shown.contains("SQL ok") {
        eprintln!("the last verdict did not arrive or found problems:\n{shown}");
    }
}
