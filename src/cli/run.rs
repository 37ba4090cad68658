//! `weir run JOB [--set NAME=ADDRESS]... [--stats] [--bounded]`: run a job against its real
//! sources; live per-operator counts on stderr, Ctrl-C stops cleanly (sinks flushed).
//! Before it runs, Kafka sources without `fields` take them from the store's catalog, and
//! the acting person's rights on every governed table are checked (a refusal lists each
//! missing right with the `weir perm request` command that asks for it).
//! A failure exits by whose fault it is: 2 a bad job or SQL, or a missing right, 3 a data
//! source that does not answer (named, with its address), 4 a bug.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{Global, exit, print_json};
use weir_app::engine::{RunRequest, run as run_job};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job file (RON).
    #[arg(value_name = "JOB")]
    pub job: PathBuf,
    /// Data source override: NAME=ADDRESS, NAME.user=USER, NAME.password=env:VAR, NAME.kind=KIND.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub sets: Vec<String>,
    /// Print a metrics line every second instead of redrawing one status line.
    #[arg(long)]
    pub stats: bool,
    /// Stop when every source partition reached the end offset it had at start.
    #[arg(long)]
    pub bounded: bool,
}

pub fn run(global: &Global, args: &RunArgs) -> i32 {
    let req = RunRequest {
        job: args.job.clone(),
        sets: args.sets.clone(),
        bounded: args.bounded,
        store: global.store.clone(),
    };
    let stats = args.stats;
    let result = run_job(&req, |s| {
        if stats {
            eprintln!("{}", s.line());
        } else {
            eprint!("\r\x1b[2K{}", s.line());
            let _ = std::io::stderr().flush();
        }
    });
    if !stats {
        eprintln!();
    }
    match result {
        Ok(snapshot) => {
            if global.json {
                print_json(&serde_json::to_value(&snapshot).unwrap_or_default());
            } else {
                outln!("{}", snapshot.line());
            }
            exit::OK
        }
        Err(e) => super::fail(global, &e),
    }
}
