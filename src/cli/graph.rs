//! `weir graph FILE [--ascii]`: draw a job as a layered graph of boxes and arrows, after
//! the checks of `weir validate`, whose exit code it shares.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::{Global, exit, print_json};
use crate::graph::{self, render::Charset};

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The job file to draw.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Pure ASCII instead of Unicode box drawing.
    #[arg(long)]
    pub ascii: bool,
}

pub fn run(global: &Global, args: &GraphArgs) -> i32 {
    // The checks of `weir validate FILE` (the model's, the engine's SQL and, with
    // `--store`, the catalog's), so that graph exits as validate does (issue 15).
    let catalog = match &global.store {
        None => None,
        Some(p) => {
            // `weir graph --store jobs/x.ron` cannot happen (FILE is required), but a
            // job file given as the store means the project's own, as for validate
            let store =
                (!(p.extension().is_some_and(|e| e == "ron") || p.is_dir())).then_some(p.as_path());
            match weir_app::jobs::schema::catalog(store) {
                Ok(topics) => Some(topics),
                Err(e) => return super::fail(global, &e),
            }
        }
    };
    let checked = weir_app::jobs::schema::check_file(&args.file, catalog.as_deref());
    // A job with problems is still drawn when it decoded, so that the picture helps to
    // find the problem; the diagnostics come first and the exit code says invalid.
    for d in &checked.diagnostics {
        eprintln!("{}", d.render());
    }
    let Some(job) = &checked.job else {
        return exit::INVALID;
    };
    let layout = graph::layout::layout(&graph::job_graph(job));
    if global.json {
        let boxes: Vec<_> = layout
            .boxes
            .iter()
            .map(|b| json!({ "id": b.id, "kind": b.kind, "x": b.x, "y": b.y, "w": b.w, "h": b.h }))
            .collect();
        let edges: Vec<_> = layout
            .edges
            .iter()
            .map(|e| {
                json!({ "from": layout.boxes.iter().find(|b| b.node == e.from).map(|b| &b.id),
                        "to": layout.boxes.iter().find(|b| b.node == e.to).map(|b| &b.id),
                        "points": e.points })
            })
            .collect();
        print_json(
            &json!({ "job": job.name, "width": layout.width, "height": layout.height, "nodes": boxes, "edges": edges }),
        );
    } else {
        let charset = if args.ascii {
            Charset::Ascii
        } else {
            Charset::Unicode
        };
        outp!("{}", graph::render::render(&layout, charset));
    }
    if checked.has_errors() {
        exit::INVALID
    } else {
        exit::OK
    }
}
