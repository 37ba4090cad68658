//! `weir run JOB [--set NAME=ADDRESS]... [--stats] [--bounded]`: run a job against its real
//! sources; live per-operator counts on stderr, Ctrl-C stops cleanly (sinks flushed).
//! Before it runs, Kafka sources without `fields` take them from the store's catalog, and
//! the acting person's rights on every governed table are checked (a refusal lists each
//! missing right with the `weir perm request` command that asks for it).
//! A failure exits by whose fault it is: 2 a bad job or SQL, or a missing right, 3 a data
//! source that does not answer (named, with its address), 4 a bug. A bounded run that
//! dead-lettered any record or row exits 1; every run names its dead-letter files.
//! Kafka sources resume from their consumer group's committed offsets; `--reset` starts
//! them over by their `start`.

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
    /// Data source override: NAME=ADDRESS, NAME.user=USER, NAME.password=env:WEIR_SECRET_X, NAME.kind=KIND.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub sets: Vec<String>,
    /// Print a metrics line every second instead of redrawing one status line.
    #[arg(long)]
    pub stats: bool,
    /// Stop when every source partition reached the end offset it had at start.
    #[arg(long)]
    pub bounded: bool,
    /// Start every Kafka source by its `start` instead of where its consumer group's
    /// last run committed.
    #[arg(long)]
    pub reset: bool,
    /// Take checkpoints (every `config.checkpoint_interval_ms`) under
    /// .weir/checkpoints/run-JOB/ and continue from the newest one: a crash loses no
    /// window and writes no row twice to an exactly-once sink (`weir validate --explain`).
    #[arg(long)]
    pub checkpoints: bool,
    /// Confirm sending the data sources' secrets without asking (for scripts); weir
    /// remembers it in your config directory (trusted-secrets).
    #[arg(long)]
    pub yes: bool,
}

pub fn run(global: &Global, args: &RunArgs) -> i32 {
    let req = RunRequest {
        job: args.job.clone(),
        sets: args.sets.clone(),
        bounded: args.bounded,
        store: global.store.clone(),
        consent: weir_app::secrets::Consent::for_command_line(args.yes),
        reset: args.reset,
        checkpoints: args.checkpoints,
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
        Ok(outcome) => {
            let failed = args.bounded && outcome.dead_lettered() > 0;
            if global.json {
                let mut value = serde_json::to_value(&outcome.snapshot).unwrap_or_default();
                if let Some(o) = value.as_object_mut() {
                    o.insert("run".into(), outcome.run_id.clone().into());
                    o.insert(
                        "dead_letters".into(),
                        serde_json::to_value(&outcome.dead_letters).unwrap_or_default(),
                    );
                }
                print_json(&value);
            } else {
                outln!("{}", outcome.snapshot.line());
                for d in &outcome.dead_letters {
                    outln!(
                        "{}: {} dead letter(s) of run {} in {}",
                        d.node,
                        d.count,
                        outcome.run_id,
                        d.path.display()
                    );
                }
            }
            if failed {
                eprintln!(
                    "error: {} record(s) or row(s) failed and were dead-lettered; see the file(s) above (lines with \"run\": \"{}\")",
                    outcome.dead_lettered(),
                    outcome.run_id
                );
                exit::CHECK_FAILED
            } else {
                exit::OK
            }
        }
        Err(e) => super::fail(global, &e),
    }
}
