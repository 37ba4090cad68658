//! Headless mode: replay a key script through the same event path as the terminal and
//! write every frame as text. Script lines: keys in vim notation (`:inbox<Enter>`,
//! `<C-s>`, plain characters typed as they are), `expect "text"` (the run fails unless
//! the current frame shows the text), `wait MS`, `until "text" [MS]` (turn the event loop
//! and redraw until the screen shows the text; fails like `expect` after MS, default
//! 10000), `resize WxH`, `# comment`.

use crate::refused::Refused;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::keys::{Key, parse_keys};
use super::view;
use super::workbench::Workbench;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Keys(Vec<Key>),
    Expect(String),
    Wait(u64),
    /// Turn the event loop until the screen shows the text, for at most the milliseconds.
    Until(String, u64),
    Resize(u16, u16),
}

/// How long `until` waits without a timeout of its own.
pub const UNTIL_DEFAULT_MS: u64 = 10_000;

/// A parsed script: steps with their 1-based line numbers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub steps: Vec<(usize, Step)>,
}

/// Parse a size such as `80x24`.
pub fn parse_size(s: &str) -> Result<(u16, u16), Refused> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("size `{s}` is not WIDTHxHEIGHT, e.g. 80x24"))?;
    let w: u16 = w
        .trim()
        .parse()
        .map_err(|_| format!("width `{w}` is not a number"))?;
    let h: u16 = h
        .trim()
        .parse()
        .map_err(|_| format!("height `{h}` is not a number"))?;
    if !(20..=1000).contains(&w) || !(5..=1000).contains(&h) {
        return Err(format!("size {w}x{h} is out of range (20x5 to 1000x1000)").into());
    }
    Ok((w, h))
}

/// `"text" [MS]` of an `until` line.
fn until(arg: &str) -> Result<Step, Refused> {
    let arg = arg.trim();
    // the closing quote: the last `"` not escaped by a backslash
    let mut end = None;
    let mut escaped = false;
    for (i, c) in arg.char_indices().skip(1) {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            end = Some(i);
        }
    }
    let Some(end) = end.filter(|_| arg.starts_with('"')) else {
        return Err(format!("until takes text in double quotes and an optional timeout: until \"running\" 5000, not `until {arg}`").into());
    };
    let text = quoted(&arg[..=end])?;
    let rest = arg[end + 1..].trim();
    let ms = match rest {
        "" => UNTIL_DEFAULT_MS,
        ms => ms.parse::<u64>().map_err(|_| {
            format!("until's timeout is milliseconds: until \"{text}\" 5000, not `{rest}`")
        })?,
    };
    Ok(Step::Until(text, ms))
}

fn quoted(arg: &str) -> Result<String, Refused> {
    let arg = arg.trim();
    let inner = arg
        .strip_prefix('"')
        .and_then(|a| a.strip_suffix('"'))
        .ok_or_else(|| format!("expect takes text in double quotes: expect \"{arg}\""))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    return Err(format!("unknown escape `\\{other}` in expect text").into());
                }
                None => return Err("expect text ends with `\\`".into()),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Parse a whole script, reporting every bad line (`line N: ...`).
pub fn parse_script(text: &str) -> Result<Script, Vec<String>> {
    let mut script = Script::default();
    let mut errors = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let no = n + 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let step = if let Some(arg) = trimmed.strip_prefix("expect ") {
            quoted(arg).map(Step::Expect)
        } else if let Some(arg) = trimmed.strip_prefix("wait ") {
            arg.trim()
                .parse::<u64>()
                .map(Step::Wait)
                .map_err(|_| Refused(format!("wait takes milliseconds: `wait 100`, not `{line}`")))
        } else if let Some(arg) = trimmed.strip_prefix("until ") {
            until(arg)
        } else if let Some(arg) = trimmed.strip_prefix("resize ") {
            parse_size(arg).map(|(w, h)| Step::Resize(w, h))
        } else {
            parse_keys(line).map(Step::Keys)
        };
        match step {
            Ok(s) => script.steps.push((no, s)),
            Err(e) => errors.push(format!("line {no}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(script)
    } else {
        Err(errors)
    }
}

/// The visible text of a frame: one line per row, trailing blanks trimmed.
pub fn frame_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(area.x + x, area.y + y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Why a headless run failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub line: usize,
    pub message: String,
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

    /// Run a script: a first frame, then a frame after every key and resize.
    pub fn run(&mut self, app: &mut Workbench, script: &Script) -> Result<(), Failure> {
        let io = |line: usize| {
            move |e: std::io::Error| Failure {
                line,
                message: format!("cannot write frame: {e}"),
            }
        };
        self.draw(app).map_err(io(0))?;
        for (line, step) in &script.steps {
            match step {
                Step::Keys(keys) => {
                    for k in keys {
                        app.handle_key(*k);
                        self.draw(app).map_err(io(*line))?;
                        if app.quit {
                            return Ok(());
                        }
                    }
                }
                Step::Expect(text) => {
                    if !self.last.contains(text.as_str()) {
                        return Err(Failure {
                            line: *line,
                            message: format!(
                                "expected \"{text}\" on screen (frame {:04}); the screen shows:\n{}",
                                self.frames.saturating_sub(1),
                                self.last
                            ),
                        });
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
                    self.draw(app).map_err(io(*line))?;
                }
                Step::Until(text, ms) => {
                    let start = std::time::Instant::now();
                    let end = start + Duration::from_millis(*ms);
                    // a frame each turn of the event loop (100 ms), as the terminal draws
                    while !self.last.contains(text.as_str()) {
                        if std::time::Instant::now() >= end {
                            return Err(Failure {
                                line: *line,
                                message: format!(
                                    "expected \"{text}\" on screen within {ms} ms (frame {:04}); the screen shows:\n{}",
                                    self.frames.saturating_sub(1),
                                    self.last
                                ),
                            });
                        }
                        std::thread::sleep(
                            Duration::from_millis(100)
                                .min(end.saturating_duration_since(std::time::Instant::now())),
                        );
                        self.draw(app).map_err(io(*line))?;
                    }
                }
                Step::Resize(w, h) => {
                    self.terminal.backend_mut().resize(*w, *h);
                    self.terminal
                        .resize(ratatui::layout::Rect::new(0, 0, *w, *h))
                        .map_err(|e| -> Failure { match e {} })?;
                    self.draw(app).map_err(io(*line))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_parse_and_report_every_bad_line() {
        let s = parse_script("# c\n:graph<Enter>\nexpect \"a \\\"b\\\"\"\nwait 5\nresize 100x30\n")
            .unwrap();
        assert_eq!(s.steps.len(), 4);
        assert_eq!(s.steps[1].1, Step::Expect("a \"b\"".into()));
        let s = parse_script("until \"running\"\nuntil \"say \\\"hi\\\"\" 250\n").unwrap();
        assert_eq!(
            s.steps,
            [
                (1, Step::Until("running".into(), UNTIL_DEFAULT_MS)),
                (2, Step::Until("say \"hi\"".into(), 250)),
            ]
        );
        let e = parse_script("until running\nuntil \"x\" soon\n").unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[1].contains("milliseconds"), "{e:?}");
        let e = parse_script("expect nope\nwait x\nresize 3\n<Bad>\n").unwrap_err();
        assert_eq!(e.len(), 4);
        assert!(e[0].starts_with("line 1:"));
        assert!(e[3].contains("unknown key"));
    }
}
