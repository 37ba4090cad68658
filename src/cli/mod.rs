//! Command-line interface: clap definitions and dispatch, one file per command group.
//! A command only appears here once it works end to end.

#[macro_use]
mod macros {
    /// `println!` that ends quietly when stdout's reader went away (see [`super::out`]).
    macro_rules! outln {
        () => { $crate::cli::out("\n") };
        ($($t:tt)*) => { $crate::cli::out(&format!("{}\n", format_args!($($t)*))) };
    }

    /// `print!` that ends quietly when stdout's reader went away.
    macro_rules! outp {
        ($($t:tt)*) => { $crate::cli::out(&format!($($t)*)) };
    }
}

mod alert;
mod bench;
mod broker;
mod fmt;
mod gov;
mod graph;
mod instance;
mod job;
mod release;
mod run;
mod savepoint;
mod store;
mod table;
mod test;
mod top;
pub mod tui;
mod validate;
mod worker;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Exit codes shared by all commands (also in `weir --help` and the README).
pub mod exit {
    use weir_app::{AppError, Fault};

    /// Success.
    pub const OK: i32 = 0;
    /// The command ran and the answer is "no" (e.g. `fmt --check` found files to rewrite).
    pub const CHECK_FAILED: i32 = 1;
    /// Bad input: invalid job files, unreadable files, wrong arguments, a missing role.
    pub const INVALID: i32 = 2;
    /// A system outside weir is unavailable (Kafka, a database, the network); retry later.
    pub const EXTERNAL: i32 = 3;
    /// An internal error: a bug in weir.
    pub const INTERNAL: i32 = 4;

    /// The exit code for an error, by whose fault it is.
    pub fn of(e: &AppError) -> i32 {
        match e.fault() {
            Fault::User => INVALID,
            Fault::External => EXTERNAL,
            Fault::Internal => INTERNAL,
        }
    }
}

/// Report a failed command on stderr (or as `{"error", "fault"}` JSON on stdout with
/// `--json`) and return its exit code.
pub(crate) fn fail(global: &Global, e: &weir_app::AppError) -> i32 {
    if global.json {
        print_json(&serde_json::json!({ "error": e.to_string(), "fault": e.fault().as_str() }));
    } else {
        // a message may quote what the user typed: nothing in it may act on the terminal
        eprintln!(
            "error: {}",
            weir_model::text::printable_lines(&e.to_string())
        );
    }
    exit::of(e)
}

#[derive(Debug, Parser)]
#[command(
    name = "weir",
    version,
    about = "A terminal workbench for real-time stream jobs",
    after_help = "Exit codes: 0 ok, 1 check failed (e.g. fmt --check, a failed test), 2 bad input, \
                  3 external system unavailable (Kafka, a database; retry later), 4 internal error (a bug)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// Without a command, weir opens the workbench on the current project.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Print machine-readable JSON instead of text, where the command outputs data.
    #[arg(long, global = true)]
    pub json: bool,
    /// Metadata store: a SQLite file or a postgres:// URL; default: the project's
    /// .weir/weir.db. WEIR_DATABASE_URL (PostgreSQL for teams) takes precedence.
    #[arg(long, global = true, env = "WEIR_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Make a new SQLite store at --store PATH (and its directory) when none is there.
    /// Without it weir makes a store only at the project's .weir/weir.db; its first user
    /// becomes the store's system admin.
    #[arg(long, global = true)]
    pub create: bool,
    /// Log more to .weir/logs/weir.log (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check job files and report every problem with file:line:column.
    Validate(validate::ValidateArgs),
    /// Rewrite job files in the canonical layout (comments are kept).
    Fmt(fmt::FmtArgs),
    /// Draw a job's graph as boxes and arrows.
    Graph(graph::GraphArgs),
    /// Run a job against its real sources (Ctrl-C stops it, sinks flushed).
    Run(run::RunArgs),
    /// Run a job on its test-data package and compare the sinks' rows with the expected ones.
    Test(test::TestArgs),
    /// Run an embedded Kafka broker (mock cluster) until Ctrl-C.
    Broker(broker::BrokerArgs),
    /// Nexmark benchmark: the queries of bench/nexmark/ from memory, files and the embedded broker (--flink: side by side with Flink).
    Bench(bench::BenchArgs),
    /// Nexmark events: generate them to files or to the embedded broker.
    Nexmark(bench::NexmarkArgs),
    /// Open the full-screen workbench (also what `weir` alone does), or replay a key script.
    Tui(tui::TuiArgs),
    /// Users and their roles (system admin).
    User(gov::user::UserArgs),
    /// Who weir acts as, with roles.
    Whoami,
    /// Projects: create, members, archive, restore.
    Project(gov::project::ProjectArgs),
    /// Data sources: add, show, list, test connectivity.
    #[command(name = "datasource", alias = "ds")]
    DataSource(gov::datasource::DataSourceArgs),
    /// Kafka topics: design, publish to test and production.
    Topic(gov::topic::TopicArgs),
    /// Data permissions: requests, grants, blacklist, public, effective rights.
    Perm(gov::perm::PermArgs),
    /// Everything waiting for my approval, oldest first.
    Inbox(gov::approvals::InboxArgs),
    /// Approve a request (data admin).
    Approve(gov::approvals::DecideArgs),
    /// Reject a request with an opinion (data admin).
    Reject(gov::approvals::DecideArgs),
    /// The audit log of every write.
    Audit(gov::approvals::AuditArgs),
    /// The metadata store: apply its migrations, grant and revoke PostgreSQL logins.
    Store(store::StoreArgs),
    /// Job versions: the edit lock, submit, list, show, check out, diff.
    Job(job::JobArgs),
    /// Releases: request a version for production, list, show, go live, offline.
    Release(release::ReleaseArgs),
    /// Instances: start a job on a worker, list, show, stop, restart, savepoint, read the log.
    Instance(instance::InstanceArgs),
    /// Savepoints of instances: list, delete.
    Savepoint(savepoint::SavepointArgs),
    /// Live figures of the instances, or of one instance's operators, refreshed every second.
    Top(top::TopArgs),
    /// Run instances from the store (a worker); status and stop of the store's workers.
    Worker(worker::WorkerArgs),
    /// Alert rules on instances and jobs: add, list, remove.
    Alert(alert::AlertArgs),
    /// Firing and recent alerts.
    Alerts(alert::AlertsArgs),
}

impl Cli {
    /// The command runs a worker (`weir worker` without a subcommand): it logs to
    /// `.weir/logs/worker.log`.
    pub fn runs_worker(&self) -> bool {
        matches!(&self.command, Some(Command::Worker(w)) if w.command.is_none())
    }
}

/// Run a parsed command line; returns the process exit code.
pub fn run(mut cli: Cli) -> i32 {
    if cli.global.create {
        // from here on the store flag itself says "create" (sqlite://PATH?mode=rwc), for
        // this command and the workers it starts
        match weir_app::governance::creating(cli.global.store.as_deref()) {
            Ok(store) => cli.global.store = store,
            Err(e) => return fail(&cli.global, &e),
        }
    }
    match cli.command {
        Some(Command::Validate(a)) => validate::run(&cli.global, &a),
        Some(Command::Fmt(a)) => fmt::run(&cli.global, &a),
        Some(Command::Graph(a)) => graph::run(&cli.global, &a),
        Some(Command::Run(a)) => run::run(&cli.global, &a),
        Some(Command::Test(a)) => test::run(&cli.global, &a),
        Some(Command::Broker(a)) => broker::run(&cli.global, &a),
        Some(Command::Bench(a)) => bench::run(&cli.global, &a),
        Some(Command::Nexmark(a)) => bench::nexmark(&cli.global, &a),
        Some(Command::Tui(a)) => tui::run(&cli.global, &a),
        Some(Command::User(a)) => gov::user::run(&cli.global, &a),
        Some(Command::Whoami) => gov::user::whoami(&cli.global),
        Some(Command::Project(a)) => gov::project::run(&cli.global, &a),
        Some(Command::DataSource(a)) => gov::datasource::run(&cli.global, &a),
        Some(Command::Topic(a)) => gov::topic::run(&cli.global, &a),
        Some(Command::Perm(a)) => gov::perm::run(&cli.global, &a),
        Some(Command::Inbox(a)) => gov::approvals::inbox(&cli.global, &a),
        Some(Command::Approve(a)) => gov::approvals::decide(&cli.global, &a, true),
        Some(Command::Reject(a)) => gov::approvals::decide(&cli.global, &a, false),
        Some(Command::Audit(a)) => gov::approvals::audit(&cli.global, &a),
        Some(Command::Store(a)) => store::run(&cli.global, &a),
        Some(Command::Job(a)) => job::run(&cli.global, &a),
        Some(Command::Release(a)) => release::run(&cli.global, &a),
        Some(Command::Instance(a)) => instance::run(&cli.global, &a),
        Some(Command::Savepoint(a)) => savepoint::run(&cli.global, &a),
        Some(Command::Top(a)) => top::run(&cli.global, &a),
        Some(Command::Worker(a)) => worker::run(&cli.global, &a),
        Some(Command::Alert(a)) => alert::run(&cli.global, &a),
        Some(Command::Alerts(a)) => alert::alerts(&cli.global, &a),
        None => tui::run(
            &cli.global,
            &tui::TuiArgs {
                size: "80x24".into(),
                ..Default::default()
            },
        ),
    }
}

/// The job files named on the command line: files as given, directories searched
/// (recursively, sorted) for `*.ron`, so `weir validate jobs/` checks a whole project.
pub(crate) fn job_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            // unreadable: keep the directory so that the command reports it
            out.push(dir.to_path_buf());
            return;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "ron") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)
        } else {
            out.push(p.clone())
        }
    }
    out
}

/// Print a JSON value on stdout (the one place that does, so the format stays uniform).
/// A reader that went away (`weir --json audit | head`) ends the process quietly, as
/// other command-line tools do, instead of a panic on the broken pipe.
pub(crate) fn print_json(value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    out(&format!("{text}\n"));
}

/// Write on stdout; a closed stdout (broken pipe) ends the process with success, the
/// reader having taken what it wanted. `outln!`/`outp!` are `println!`/`print!` on it.
pub(crate) fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(exit::OK);
    }
}
