//! Files weir replaces are replaced whole or not at all (issue 15 item 6): `weir fmt` on a
//! full disk used to leave a truncated job file. The disk is made "full" for the child
//! process alone with a file size limit of 0 bytes (`ulimit -f 0`, with SIGXFSZ ignored
//! so that a write fails with EFBIG instead of killing the process), which needs no
//! root and no tmpfs. The helper's own unit tests (`weir_model::fsutil`) cover a writer
//! that fails half way.
#![cfg(unix)]
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A directory of its own holding `jobs/job.ron`: an example job, not in canonical layout.
fn scratch(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("weir-atomic-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/iot_alerts.ron"))
            .unwrap();
    let text = example.replacen("    version: 1,\n", "version:   1,\n", 1);
    assert_ne!(text, example);
    let file = dir.join("jobs/job.ron");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

/// `weir ARGS` in `dir`; with `full_disk`, every byte written to a file fails.
fn weir(dir: &Path, args: &[&str], full_disk: bool) -> Output {
    let bin = env!("CARGO_BIN_EXE_weir");
    let mut cmd = if full_disk {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg("trap '' XFSZ; ulimit -f 0; exec \"$@\"")
            .arg("sh")
            .arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .current_dir(dir)
        .env_remove("WEIR_STORE")
        .env_remove("WEIR_DATABASE_URL")
        .output()
        .unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn fmt_on_a_full_disk_leaves_the_job_file_unchanged() {
    let (dir, file) = scratch("fmt-full");
    let before = std::fs::read(&file).unwrap();
    let out = weir(&dir, &["fmt", "jobs/job.ron"], true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write the file"), "{stderr}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the job file is intact"
    );
    assert_eq!(
        names(&dir.join("jobs")),
        ["job.ron"],
        "no temporary file left"
    );

    // with room on the disk the same command rewrites it, canonically
    let out = weir(&dir, &["fmt", "jobs/job.ron"], false);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(std::fs::read(&file).unwrap(), before);
    let out = weir(&dir, &["fmt", "--check", "jobs/job.ron"], false);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(names(&dir.join("jobs")), ["job.ron"]);
    let _ = std::fs::remove_dir_all(&dir);
}
