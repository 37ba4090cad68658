//! The local worker of the embedded default: `weir instance start` and the workbench
//! start one for the store when no worker is alive, as a detached process of its own
//! (a new process group, stdin closed, output appended to `.weir/logs/worker.log`), so
//! that instances outlive the terminal. It also runs the project's embedded Kafka broker
//! when none runs. `weir worker stop` stops it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::AppError;
use crate::engine::on_store;

/// `WEIR_EXE`: the weir binary the local worker runs (default: this process's own).
pub const EXE_VAR: &str = "WEIR_EXE";

/// What [`ensure`] found or did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum LocalWorker {
    /// A worker is alive for the store already (its id).
    Alive(String),
    /// One was started: its process id and log file.
    Started { pid: u32, log: PathBuf },
}

/// The id of a live worker of the store at `url`, if any.
pub fn alive(url: &str) -> Result<Option<String>, AppError> {
    on_store(url, |gov| async move {
        let rows = gov.worker_rows().await?;
        Ok(rows.into_iter().find(|w| w.alive).map(|w| w.worker.id))
    })
}

/// The weir binary to start: `WEIR_EXE`, else this process's executable when it is weir
/// (a test binary is not).
fn weir_exe() -> Result<PathBuf, AppError> {
    if let Some(p) = std::env::var_os(EXE_VAR).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()
        .map_err(|e| AppError::io("cannot find the weir binary to start a worker", e))?;
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name == "weir" || name.starts_with("weir.") {
        Ok(exe)
    } else {
        Err(AppError::User(format!(
            "no worker is running for this store and {} is not weir; start one with `weir worker`, or set {EXE_VAR}",
            exe.display()
        )))
    }
}

/// Starts the local worker for the store at `url` (`store_flag` as the command line gave
/// it) in `project` unless a worker is alive, and waits until it registered (at most
/// 10 s).
pub fn ensure(
    project: &Path,
    url: &str,
    store_flag: Option<&Path>,
) -> Result<LocalWorker, AppError> {
    if let Some(id) = alive(url)? {
        return Ok(LocalWorker::Alive(id));
    }
    let (pid, log) = spawn(project, store_flag)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if alive(url)?.is_some() {
            return Ok(LocalWorker::Started { pid, log });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(AppError::External(format!(
        "the local worker (pid {pid}) did not register within 10 s; see {}",
        log.display()
    )))
}

/// Starts `weir worker --local` in `project`, detached, without waiting for it: its
/// process id and log file.
pub fn spawn(project: &Path, store_flag: Option<&Path>) -> Result<(u32, PathBuf), AppError> {
    let exe = weir_exe()?;
    let logs = project.join(".weir").join("logs");
    std::fs::create_dir_all(&logs)
        .map_err(|e| AppError::io(format!("cannot create {}", logs.display()), e))?;
    let log = logs.join("worker.log");
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| AppError::io(format!("cannot open {}", log.display()), e))
    };
    let mut cmd = std::process::Command::new(&exe);
    if let Some(s) = store_flag {
        cmd.arg("--store").arg(s);
    }
    cmd.args(["worker", "--local"])
        .current_dir(project)
        .stdin(std::process::Stdio::null())
        .stdout(open()?)
        .stderr(open()?);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd
        .spawn()
        .map_err(|e| AppError::io(format!("cannot start {} worker", exe.display()), e))?;
    // not waited for: it outlives this process (init reaps it)
    Ok((child.id(), log))
}
