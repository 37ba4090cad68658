//! The job file changed on disk under the graph editor (another shell's `sed`, a `git
//! pull`): the editor remembers the file as it loaded or last saved it, with its sha256
//! ([`Disk`]), and a save or a reload with unsaved edits first checks that the file is
//! still that one. When it is not, [`Conflict`] shows what a reload would change in the
//! editor (the graph diff from the editor's job to the file's, as `weir job diff` prints
//! it) and asks: `r` reloads (the editor's edits are dropped), `o` overwrites (the other
//! change is lost), `Esc` cancels and keeps both as they are.

use std::path::Path;

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use weir_app::jobs::working::content_hash;

use crate::jobfile;
use crate::keys::Key;
use crate::model::Job;
use crate::overlay::centered;
use crate::theme::Theme;

/// The job file as the editor last read or wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Disk {
    /// Its text: what a save fits the job's text to (comments, fields left out).
    pub text: String,
    /// sha256 of `text`.
    pub hash: String,
}

/// What the file is now, when it is no longer the one the editor read.
#[derive(Debug, Clone, PartialEq)]
pub enum Now {
    Changed(String),
    /// Deleted or moved away.
    Gone,
}

impl Disk {
    pub fn of(text: String) -> Disk {
        let hash = content_hash(&text);
        Disk { text, hash }
    }

    /// `None` while the file at `path` is still the one read; what it is now otherwise.
    /// An error says why the file cannot be read.
    pub fn check(&self, path: &Path) -> Result<Option<Now>, String> {
        if std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            return Ok(Some(Now::Gone));
        }
        let bytes = jobfile::read_job_file(path).map_err(|d| d.message)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Ok((content_hash(&text) != self.hash).then_some(Now::Changed(text)))
    }
}

/// What opened the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A save found the file changed.
    Save,
    /// A reload with unsaved edits found the file changed.
    Reload,
}

/// The answer to the prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Not yet: a key that scrolls, or one the prompt does not know.
    Open,
    /// Load this job and text from disk, dropping the editor's edits.
    Reload(Box<Job>, String),
    /// Write the editor's job over the file.
    Overwrite,
    /// Leave the file and the editor as they are.
    Cancel,
}

/// The open prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// `jobs/<rel>`.
    shown: String,
    pub why: Why,
    /// The job and text on disk; `None` when the file is gone or does not read as a job.
    theirs: Option<(Box<Job>, String)>,
    /// What a reload changes, one line each.
    lines: Vec<String>,
    top: usize,
}

impl Conflict {
    /// The prompt for `shown` (`jobs/<rel>`), whose editor holds `ours`, now that the file
    /// is `now`.
    pub fn new(shown: &str, why: Why, ours: &Job, now: Now) -> Conflict {
        let (theirs, lines) = match now {
            Now::Gone => (
                None,
                vec![
                    "the file was deleted or moved: there is nothing to reload".to_string(),
                    "o writes the editor's job to it again".to_string(),
                ],
            ),
            Now::Changed(text) => {
                let checked = jobfile::check_source(shown, &text);
                match checked.job {
                    Some(job) => {
                        let diff = weir_model::diff::diff(ours, &job).render_text(false);
                        let mut lines: Vec<String> = diff.lines().map(str::to_string).collect();
                        if diff.trim() == "no changes" {
                            lines = vec![
                                "the job on disk means what the editor holds: only comments or layout differ"
                                    .into(),
                            ];
                        }
                        (Some((Box::new(job), text)), lines)
                    }
                    None => {
                        let why = checked.diagnostics.first().map_or("not a job".into(), |d| {
                            format!("{}:{}: {}", d.line, d.column, d.message)
                        });
                        (
                            None,
                            vec![
                                format!("the file on disk does not read as a job ({why})"),
                                "there is nothing to reload; o overwrites it with the editor's job"
                                    .into(),
                            ],
                        )
                    }
                }
            }
        };
        Conflict {
            shown: shown.to_string(),
            why,
            theirs,
            lines,
            top: 0,
        }
    }

    /// The status message that goes with the prompt (its keys are in the prompt).
    pub fn say(&self) -> String {
        match self.why {
            Why::Save => format!(
                "{} changed on disk since it was read: nothing saved yet",
                self.shown
            ),
            Why::Reload => format!(
                "{} changed on disk: reload it, overwrite it or keep your edits?",
                self.shown
            ),
        }
    }

    /// A key while the prompt is open.
    pub fn key(&mut self, key: Key) -> Answer {
        match (key.code, key.typed()) {
            (_, Some('r' | 'R')) => match self.theirs.take() {
                Some((job, text)) => Answer::Reload(job, text),
                None => Answer::Open,
            },
            (_, Some('o' | 'O')) => Answer::Overwrite,
            (KeyCode::Esc, _) | (_, Some('c' | 'q')) => Answer::Cancel,
            (KeyCode::Down, _) | (_, Some('j')) => {
                self.top = (self.top + 1).min(self.lines.len().saturating_sub(1));
                Answer::Open
            }
            (KeyCode::Up, _) | (_, Some('k')) => {
                self.top = self.top.saturating_sub(1);
                Answer::Open
            }
            (KeyCode::PageDown, _) => {
                self.top = (self.top + 10).min(self.lines.len().saturating_sub(1));
                Answer::Open
            }
            (KeyCode::PageUp, _) => {
                self.top = self.top.saturating_sub(10);
                Answer::Open
            }
            _ => Answer::Open,
        }
    }

    /// The prompt over `area`: why, what a reload changes, the keys (wrapped to fit).
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let width = area.width.saturating_sub(4).clamp(20, 100);
        let text_w = usize::from(width.saturating_sub(2));
        let head = match self.why {
            Why::Save => {
                "it changed since the editor read it: a save now would overwrite that change"
            }
            Why::Reload => "it changed while you have unsaved edits",
        };
        let sub = if self.theirs.is_some() {
            "a reload changes the editor's job so (editor → disk):"
        } else {
            "the file on disk:"
        };
        let mut top: Vec<Line> = wrap(head, text_w)
            .into_iter()
            .map(|l| Line::styled(l, theme.warning()))
            .collect();
        top.extend(
            wrap(sub, text_w)
                .into_iter()
                .map(|l| Line::styled(l, theme.muted())),
        );
        let mut chips = Vec::new();
        if self.theirs.is_some() {
            chips.push(("r", " reload (drops your edits)"));
        }
        chips.push(("o", " overwrite"));
        chips.push((
            "Esc",
            match self.why {
                Why::Save => " cancel",
                Why::Reload => " keep editing",
            },
        ));
        let keys_of = |scroll: bool| {
            let mut all = chips.clone();
            if scroll {
                all.push(("↑↓", " scroll"));
            }
            chip_lines(&all, text_w, theme)
        };
        // the borders, the top, the changes, the keys; as much of the changes as fits
        let fixed = 2 + top.len() + keys_of(false).len();
        let height = (fixed + self.lines.len()).min(usize::from(area.height.saturating_sub(2)));
        let area = centered(
            area,
            width,
            u16::try_from(height).unwrap_or(u16::MAX).max(7),
        );
        frame.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.warning())
            .title(format!(" {} changed on disk ", self.shown));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let inner_h = usize::from(inner.height);
        let room = inner_h.saturating_sub(top.len() + keys_of(false).len());
        let keys = keys_of(self.lines.len() > room);
        let room = inner_h.saturating_sub(top.len() + keys.len());
        let mut rows = top;
        rows.extend(
            self.lines
                .iter()
                .skip(self.top)
                .take(room)
                .map(|l| Line::styled(l.clone(), line_style(theme, l))),
        );
        while rows.len() + keys.len() < inner_h {
            rows.push(Line::raw(""));
        }
        rows.extend(keys);
        frame.render_widget(Paragraph::new(rows), inner);
    }
}

/// `text` in lines of at most `width` characters, broken between words.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
}

/// Key hints (`key`, ` what`) in lines of at most `width` characters, two spaces apart,
/// a hint never split.
fn chip_lines(chips: &[(&str, &str)], width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (key, what) in chips {
        let len = key.chars().count() + what.chars().count();
        if used > 0 && used + 2 + len > width {
            lines.push(Line::from(std::mem::take(&mut spans)));
            used = 0;
        }
        if used > 0 {
            spans.push(Span::raw("  "));
            used += 2;
        }
        spans.push(Span::styled(key.to_string(), theme.accent()));
        spans.push(Span::raw(what.to_string()));
        used += len;
    }
    lines.push(Line::from(spans));
    lines
}

/// Added green, removed red, changed yellow, as `weir job diff` colours them.
fn line_style(theme: &Theme, line: &str) -> Style {
    let t = line.trim_start();
    if t.starts_with('+') {
        theme.ok()
    } else if t.starts_with('-') {
        theme.error()
    } else if t.starts_with('~') || t.starts_with('>') {
        theme.warning()
    } else {
        theme.base()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(src: &str) -> Job {
        jobfile::check_source("a.ron", src).job.unwrap()
    }

    #[test]
    fn the_disk_check_sees_changes_and_deletions() {
        let dir = std::env::temp_dir().join(format!("weir-conflict-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.ron");
        std::fs::write(&path, "Job(version: 1, name: \"a\")\n").unwrap();
        let disk = Disk::of("Job(version: 1, name: \"a\")\n".into());
        assert_eq!(disk.check(&path), Ok(None));
        std::fs::write(&path, "Job(version: 1, name: \"b\")\n").unwrap();
        assert_eq!(
            disk.check(&path),
            Ok(Some(Now::Changed("Job(version: 1, name: \"b\")\n".into())))
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(disk.check(&path), Ok(Some(Now::Gone)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_prompt_shows_what_a_reload_changes_and_answers() {
        let ours = job("Job(version: 1, name: \"a\", config: (parallelism: 2))");
        let text = "Job(version: 1, name: \"a\", config: (parallelism: 8))\n";
        let mut c = Conflict::new("jobs/a.ron", Why::Save, &ours, Now::Changed(text.into()));
        assert!(
            c.lines
                .iter()
                .any(|l| l.contains("config.parallelism: 2 → 8")),
            "{:?}",
            c.lines
        );
        assert!(c.say().contains("nothing saved"), "{}", c.say());
        assert_eq!(c.key(Key::char('x')), Answer::Open);
        assert_eq!(c.key(Key::char('o')), Answer::Overwrite);
        assert_eq!(c.key(Key::plain(KeyCode::Esc)), Answer::Cancel);
        match c.key(Key::char('r')) {
            Answer::Reload(j, t) => {
                assert_eq!(j.config.parallelism, 8);
                assert_eq!(t, text);
            }
            other => panic!("{other:?}"),
        }
    }

    /// The prompt drawn alone on a `w` x `h` screen.
    fn drawn(c: &Conflict, w: u16, h: u16) -> String {
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| c.render(f, f.area(), &Theme::default()))
            .unwrap();
        crate::headless::frame_text(t.backend().buffer())
    }

    #[test]
    fn the_prompt_fits_wide_and_small_screens() {
        let ours = job(
            "Job(version: 1, name: \"a\", config: (parallelism: 2), nodes: [PrintSink(id: \"p\")])",
        );
        let theirs = "Job(version: 1, name: \"a\", config: (parallelism: 8), nodes: [PrintSink(id: \"q\")])\n";
        let c = Conflict::new("jobs/a.ron", Why::Save, &ours, Now::Changed(theirs.into()));
        insta::assert_snapshot!("conflict_save_80x20", drawn(&c, 80, 20));
        // at 40x12 the keys wrap and the changes scroll
        let mut c = Conflict::new(
            "jobs/a.ron",
            Why::Reload,
            &ours,
            Now::Changed(theirs.into()),
        );
        let small = drawn(&c, 40, 12);
        assert!(small.contains("Esc keep editing"), "{small}");
        assert!(small.contains("↑↓ scroll"), "{small}");
        c.key(Key::plain(KeyCode::Down));
        insta::assert_snapshot!("conflict_reload_40x12_scrolled", drawn(&c, 40, 12));
    }

    #[test]
    fn a_file_that_is_gone_or_broken_cannot_be_reloaded() {
        let ours = job("Job(version: 1, name: \"a\")");
        for now in [Now::Gone, Now::Changed("Job(version: ".into())] {
            let mut c = Conflict::new("jobs/a.ron", Why::Reload, &ours, now);
            assert_eq!(c.key(Key::char('r')), Answer::Open);
            assert_eq!(c.key(Key::char('o')), Answer::Overwrite);
        }
    }
}
