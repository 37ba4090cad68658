//! Headless mode: replay a key script through the same event path as the terminal and
//! write every frame as text. The script language is in `script.rs` (and
//! `formats/headless.md`): keys in vim notation (`:inbox<Enter>`, `<C-s>`, plain
//! characters typed as they are), `expect "text"` (the frame shows the text, also wrapped
//! over rows of one widget: `screen.rs`), `expect-line N "text"` (row N, counted from 1 at
//! the top), `wait MS`, `until "text" [MS]` (turn the event loop and redraw until the
//! screen shows the text; fails like `expect` after MS, default 10000), `resize WxH`,
//! `user NAME` and `clock TIME` (set the scene before the first other step), `# comment`.
//! A run stops at the first failure ([`Headless::run`]) or goes on to the end and reports
//! every expectation met and failed ([`Headless::run_report`], `weir tui --json`).

mod screen;
mod script;

use std::path::{Path, PathBuf};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde::Serialize;
use weir_app::store_link::StoreLink;

pub use screen::{frame_text, row_shows, shows};
pub use script::{Script, ScriptError, Step, UNTIL_DEFAULT_MS, parse_script, parse_size};

use super::view;
use super::workbench::Workbench;

/// Why a headless run failed at a line of its script.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// 1-based line of the script (0: before the first line, e.g. the first frame).
    pub line: usize,
    /// What is wrong, with the screen as it was.
    pub message: String,
}

/// What a run did: frames drawn, expectations met, failures in script order.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Report {
    pub frames: usize,
    /// `expect`, `expect-line` and `until` lines that held.
    pub met: usize,
    /// Expectations that did not hold, and the failure that stopped the run, if any.
    pub failed: Vec<Failure>,
    /// Expectations not run because the workbench quit or the run stopped before them.
    pub not_run: usize,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failed.is_empty()
    }
}

/// A failure that ends the run whatever was asked (the frame cannot be written, the
/// scene cannot be set), or an expectation that did not hold.
enum Trouble {
    Fatal(Failure),
    Unmet(Failure),
}

pub struct Headless {
    terminal: Terminal<TestBackend>,
    dump: Option<PathBuf>,
    /// Frames drawn so far.
    pub frames: usize,
    last: String,
}

impl Headless {
    pub fn new(width: u16, height: u16, dump: Option<&Path>) -> std::io::Result<Headless> {
        if let Some(d) = dump {
            std::fs::create_dir_all(d)?;
        }
        let terminal = Terminal::new(TestBackend::new(width, height))
            .map_err(|e| -> std::io::Error { match e {} })?;
        Ok(Headless {
            terminal,
            dump: dump.map(Path::to_path_buf),
            frames: 0,
            last: String::new(),
        })
    }

    /// Draw one frame (after a turn of the event loop, as the terminal does), keep its
    /// text and write it to the dump directory.
    pub fn draw(&mut self, app: &mut Workbench) -> std::io::Result<&str> {
        app.tick();
        self.terminal
            .draw(|f| view::draw(app, f))
            .map_err(|e| -> std::io::Error { match e {} })?;
        self.last = frame_text(self.terminal.backend().buffer());
        if let Some(d) = &self.dump {
            weir_model::fsutil::write_atomic(
                &d.join(format!("{:04}.txt", self.frames)),
                &self.last,
            )?;
        }
        self.frames += 1;
        Ok(&self.last)
    }

    pub fn last_frame(&self) -> &str {
        &self.last
    }

    /// Run a script, stopping at the first failure: the scene (`user`, `clock`), a first
    /// frame, then a frame after every key and resize.
    pub fn run(&mut self, app: &mut Workbench, script: &Script) -> Result<(), Failure> {
        let report = self.run_steps(app, script, false);
        match report.failed.into_iter().next() {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }

    /// Run a whole script and report every expectation: a failed one does not stop the
    /// run (a frame that cannot be written or a scene that cannot be set does).
    pub fn run_report(&mut self, app: &mut Workbench, script: &Script) -> Report {
        self.run_steps(app, script, true)
    }

    fn run_steps(&mut self, app: &mut Workbench, script: &Script, go_on: bool) -> Report {
        let mut report = Report::default();
        let frames_before = self.frames;
        let mut stopped_at = None;
        // the scene first: the first frame shows the pinned user and time
        for (line, step) in script.steps.iter().filter(|(_, s)| s.is_setting()) {
            if let Err(f) = set_scene(app, *line, step) {
                report.failed.push(f);
                stopped_at = Some(0);
                break;
            }
        }
        if stopped_at.is_none()
            && let Err(e) = self.draw(app)
        {
            report.failed.push(cannot_write(0, &e));
            stopped_at = Some(0);
        }
        if stopped_at.is_none() {
            for (i, (line, step)) in script.steps.iter().enumerate() {
                if step.is_setting() {
                    continue;
                }
                match self.step(app, *line, step) {
                    Ok(()) if step.is_expectation() => report.met += 1,
                    Ok(()) => {}
                    Err(Trouble::Unmet(f)) if go_on => report.failed.push(f),
                    Err(Trouble::Unmet(f) | Trouble::Fatal(f)) => {
                        report.failed.push(f);
                        stopped_at = Some(i + 1);
                        break;
                    }
                }
                if app.quit {
                    stopped_at = Some(i + 1);
                    break;
                }
            }
        }
        if let Some(from) = stopped_at {
            report.not_run = script.steps[from.min(script.steps.len())..]
                .iter()
                .filter(|(_, s)| s.is_expectation())
                .count();
        }
        report.frames = self.frames - frames_before;
        report
    }

    /// One step after the scene is set.
    fn step(&mut self, app: &mut Workbench, line: usize, step: &Step) -> Result<(), Trouble> {
        let fatal = |e: std::io::Error| Trouble::Fatal(cannot_write(line, &e));
        match step {
            Step::Keys(keys) => {
                for k in keys {
                    app.handle_key(*k);
                    self.draw(app).map_err(fatal)?;
                    if app.quit {
                        break;
                    }
                }
            }
            Step::Expect(text) => {
                if !shows(&self.last, text) {
                    return Err(self.unmet(line, format!("\"{text}\" is not on screen")));
                }
            }
            Step::ExpectLine(n, text) => {
                if !row_shows(&self.last, *n, text) {
                    let rows = self.last.lines().count();
                    let what = match self.last.lines().nth(usize::from(*n).saturating_sub(1)) {
                        Some(row) => format!("row {n} is \"{}\"", row.trim()),
                        None => format!("the screen has {rows} rows"),
                    };
                    return Err(self.unmet(line, format!("\"{text}\" is not on row {n}: {what}")));
                }
            }
            Step::Wait(ms) => {
                // the event loop keeps turning as the terminal's does (a tick every
                // 100 ms): background work finishes, others' changes arrive
                let end = std::time::Instant::now() + Duration::from_millis(*ms);
                while std::time::Instant::now() < end {
                    std::thread::sleep(
                        Duration::from_millis(100)
                            .min(end.saturating_duration_since(std::time::Instant::now())),
                    );
                    app.tick();
                }
                self.draw(app).map_err(fatal)?;
            }
            Step::Until(text, ms) => {
                let end = std::time::Instant::now() + Duration::from_millis(*ms);
                // a frame each turn of the event loop (100 ms), as the terminal draws
                while !shows(&self.last, text) {
                    if std::time::Instant::now() >= end {
                        return Err(self.unmet(
                            line,
                            format!("\"{text}\" did not come on screen within {ms} ms"),
                        ));
                    }
                    std::thread::sleep(
                        Duration::from_millis(100)
                            .min(end.saturating_duration_since(std::time::Instant::now())),
                    );
                    self.draw(app).map_err(fatal)?;
                }
            }
            Step::Resize(w, h) => {
                self.terminal.backend_mut().resize(*w, *h);
                self.terminal
                    .resize(ratatui::layout::Rect::new(0, 0, *w, *h))
                    .map_err(|e| -> Trouble { match e {} })?;
                self.draw(app).map_err(fatal)?;
            }
            Step::User(_) | Step::Clock(..) => {}
        }
        Ok(())
    }

    /// An expectation that did not hold: what, then the frame it was checked on.
    fn unmet(&self, line: usize, what: String) -> Trouble {
        let area = self.terminal.backend().buffer().area;
        Trouble::Unmet(Failure {
            line,
            message: format!(
                "{what} (frame {:04}, {}x{}); the screen shows:\n{}",
                self.frames.saturating_sub(1),
                area.width,
                area.height,
                self.last
            ),
        })
    }
}

fn cannot_write(line: usize, e: &std::io::Error) -> Failure {
    Failure {
        line,
        message: format!(
            "cannot write the frame: {e}; check that the --dump directory is writable"
        ),
    }
}

/// Apply a `user` or `clock` line to the workbench before its first frame.
fn set_scene(app: &mut Workbench, line: usize, step: &Step) -> Result<(), Failure> {
    match step {
        Step::User(name) => act_as(app, name).map_err(|message| Failure { line, message }),
        Step::Clock(ms, _) => {
            let since = Duration::from_millis(u64::try_from(*ms).unwrap_or(0));
            app.set_clock(Some(std::time::UNIX_EPOCH + since));
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Act as `name`: without a store the workbench only shows the name; with one, the link
/// is opened again as `name` (on PostgreSQL the store names the user by the connection's
/// login role, so a different name is refused).
fn act_as(app: &mut Workbench, name: &str) -> Result<(), String> {
    let Some(link) = app.store.as_ref() else {
        app.user = name.to_string();
        return Ok(());
    };
    if link.login() == name {
        return Ok(());
    }
    let url = link.url().to_string();
    let shown = weir_model::model::secret::scrub(&url, "");
    let link = StoreLink::open(&url, name).map_err(|e| {
        format!("cannot open the store at {shown} as {name}: {e}; check the store, or leave out the user line")
    })?;
    if link.login() != name {
        return Err(format!(
            "the store at {shown} acts as its connection's login `{}`, not `{name}`; connect as {name} or leave out the user line",
            link.login()
        ));
    }
    app.attach_store(link);
    Ok(())
}
