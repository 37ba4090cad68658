//! The workbench's real event loop on a pseudo-terminal: `weir tui` run under util-linux
//! `script` at a given size, keys typed through its stdin, the weir process found for
//! /proc readings, and a clean quit. What a person runs, as opposed to the headless driver.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// `weir tui` running on a pseudo-terminal.
pub struct Pty {
    script: Child,
    stdin: Option<ChildStdin>,
    /// The weir process (the child of `script`, whose shell exec'd it).
    pub pid: u32,
}

impl Pty {
    /// Starts `weir tui` in `dir` as `user` on a `cols`x`rows` terminal; None when
    /// `script` is missing or weir did not start within 10 s.
    pub fn launch(dir: &Path, user: &str, cols: u16, rows: u16) -> Option<Pty> {
        let exe = env!("CARGO_BIN_EXE_weir");
        let mut script = Command::new("script")
            .args([
                "-qfec",
                &format!("stty cols {cols} rows {rows}; exec {exe} tui"),
                "/dev/null",
            ])
            .current_dir(dir)
            .env("WEIR_USER", user)
            .env("WEIR_EXE", exe)
            .env("NO_COLOR", "1")
            .env("TERM", "xterm-256color")
            .env_remove("WEIR_DATABASE_URL")
            .env_remove("WEIR_STORE")
            .env_remove("WEIR_PROJECT")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let script_pid = script.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid = loop {
            let children =
                std::fs::read_to_string(format!("/proc/{script_pid}/task/{script_pid}/children"))
                    .unwrap_or_default();
            let found = children.split_whitespace().find_map(|p| {
                let p: u32 = p.parse().ok()?;
                let exe_link = std::fs::read_link(format!("/proc/{p}/exe")).ok()?;
                exe_link.ends_with("weir").then_some(p)
            });
            if let Some(p) = found {
                break p;
            }
            if Instant::now() > deadline {
                let _ = script.kill();
                let _ = script.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdin = script.stdin.take();
        Some(Pty { script, stdin, pid })
    }

    /// Types `bytes` (`\r` is Enter, `\x1b` Esc).
    pub fn keys(&mut self, bytes: &[u8]) -> Option<()> {
        let stdin = self.stdin.as_mut()?;
        stdin.write_all(bytes).ok()?;
        stdin.flush().ok()
    }

    /// Whether the weir process still runs.
    pub fn alive(&self) -> bool {
        Path::new(&format!("/proc/{}", self.pid)).exists()
    }

    /// Quits with Ctrl-Q; what is left after 3 s is killed.
    pub fn quit(mut self) {
        let _ = self.keys(b"\x11");
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.script.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if self.alive() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.pid.to_string()])
                .status();
        }
        let _ = self.script.kill();
        let _ = self.script.wait();
    }
}
