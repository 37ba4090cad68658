//! `weir savepoint list [JOB]` and `weir savepoint delete SP` (SPEC R-life, issue 16):
//! the savepoints the store records (`weir instance savepoint ID` and `weir instance stop
//! ID --savepoint` take them; `weir instance start JOB@N --from savepoint:SP` starts from
//! one), and the text of the checkpoint figures and of `weir instance upgrade`.

use clap::{Args, Subcommand};
use weir_app::instances::Savepoint;

use super::gov::{emit, with_store};
use super::{Global, exit, table};

#[derive(Debug, Args)]
pub struct SavepointArgs {
    #[command(subcommand)]
    pub command: SavepointCommand,
}

#[derive(Debug, Subcommand)]
pub enum SavepointCommand {
    /// Savepoints, oldest first: of one job, or of every job.
    List {
        /// A job (file, path under jobs/ or project/path).
        job: Option<String>,
    },
    /// Delete a savepoint: its record and its directory.
    Delete {
        /// The savepoint's id (weir savepoint list).
        id: i64,
    },
}

pub fn run(global: &Global, args: &SavepointArgs) -> i32 {
    with_store(global, |gov| async move {
        match &args.command {
            SavepointCommand::List { job } => {
                let job = match job {
                    Some(j) => Some(super::job::job_id(j)?.name()),
                    None => None,
                };
                let list = gov.savepoints(job.as_deref()).await?;
                emit(global, &list, || list_text(&list));
                Ok(exit::OK)
            }
            SavepointCommand::Delete { id } => {
                let (sp, removed) = gov.delete_savepoint(*id).await?;
                let value = serde_json::json!({ "savepoint": sp, "directory_removed": removed });
                emit(global, &value, || {
                    if removed {
                        format!("savepoint #{} is deleted ({} removed)\n", sp.id, sp.path)
                    } else {
                        format!(
                            "savepoint #{} is deleted; its directory {} is not on this machine: remove it where the worker ran\n",
                            sp.id, sp.path
                        )
                    }
                });
                Ok(exit::OK)
            }
        }
    })
}

/// Bytes as people read them: `512 B`, `3.2 KiB`, `1.4 MiB`.
pub(crate) fn bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    if n >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} GiB", n / (1024.0 * 1024.0 * 1024.0))
    } else if n >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    } else if n >= 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{n:.0} B")
    }
}

fn list_text(list: &[Savepoint]) -> String {
    if list.is_empty() {
        return "no savepoints (weir instance savepoint ID takes one)\n".into();
    }
    let body: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                format!("#{}", s.id),
                s.job.clone(),
                format!("#{}", s.instance),
                weir_app::jobs::working::short(&s.text_hash).to_string(),
                bytes(s.size),
                s.created_at.clone(),
                s.created_by.clone(),
                s.path.clone(),
            ]
        })
        .collect();
    table::render(
        &[
            "ID", "JOB", "INSTANCE", "TEXT", "SIZE", "TAKEN", "BY", "PATH",
        ],
        &body,
    )
}

/// `checkpoints: last #7 12.0s ago, took 35 ms, 1.2 KiB, alignment 3 ms; 7 completed, 0 failed`.
pub(crate) fn checkpoints_text(c: &weir_app::instances::CheckpointFigures) -> String {
    let last = match (c.last_id, c.age_ms) {
        (Some(id), Some(age)) => format!(
            "last #{id} {:.1}s ago, took {} ms, {}, alignment {} ms",
            age as f64 / 1000.0,
            c.duration_ms,
            bytes(c.size as i64),
            c.alignment_ms
        ),
        _ => "none completed yet".into(),
    };
    let mut s = format!(
        "\ncheckpoints: {last}; {} completed, {} failed\n",
        c.completed, c.failed
    );
    if let Some(f) = &c.last_failure {
        s.push_str(&format!(
            "  last failure: {}\n",
            weir_model::text::printable(f)
        ));
    }
    s
}

/// The pre-flight report of `weir instance upgrade` and what it did.
pub(crate) fn upgrade_text(up: &weir_app::instances::Upgrade, dry_run: bool) -> String {
    use weir_app::instances::Verdict;
    let mut s = format!(
        "upgrade of instance #{} to {}: state of {}\n",
        up.instance, up.to, up.state_from
    );
    if up.report.is_empty() {
        s.push_str("  no operator keeps state\n");
    }
    for r in &up.report {
        let line = match &r.verdict {
            Verdict::Kept => "state kept".to_string(),
            Verdict::Dropped => "state dropped (the operator was removed)".to_string(),
            Verdict::New => "new, empty state".to_string(),
            Verdict::Incompatible { reason } => {
                let allowed = if up.blocked.contains(&r.node) {
                    ""
                } else {
                    " (dropped: --allow-drop)"
                };
                format!(
                    "incompatible: {}{allowed}",
                    weir_model::text::printable(reason)
                )
            }
        };
        s.push_str(&format!("  {}: {line}\n", r.node));
    }
    if !up.blocked.is_empty() {
        s.push_str(&format!(
            "refused: incompatible state of {}; change the version, or let it go with --allow-drop {}\n",
            up.blocked.join(", "),
            up.blocked.join(" --allow-drop ")
        ));
    } else if dry_run {
        s.push_str("dry run: nothing changed\n");
    } else if let Some(i) = &up.started {
        s.push_str(&format!(
            "instance #{} is stopped; instance #{} of {} starts from savepoint #{}\n",
            up.instance,
            i.id,
            up.to,
            up.savepoint.as_ref().map(|p| p.id).unwrap_or_default()
        ));
    }
    s
}
