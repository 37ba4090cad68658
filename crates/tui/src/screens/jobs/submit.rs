//! Submit from the workbench (`:submit` in the graph editor): a prompt for the message
//! (Tab also runs the job's test), then `Governance::submit_job` in the background — it
//! validates, may run `weir test`, and the store checks the lock — and one status line
//! with the outcome: the new version, "no new version: …", the validation problems of an
//! invalid job, or the lock holder's refusal.

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use weir_app::AppError;
use weir_app::jobs::{JobId, SubmitOptions, SubmitOutcome, Submitted};
use weir_app::store_link::{Pending, StoreLink};

use crate::action::{Action, Level};
use crate::keys::Key;
use crate::overlay::{LineInput, centered};
use crate::screens::gov::error_text;
use crate::theme::Theme;

/// The message prompt.
#[derive(Debug, Default)]
pub struct SubmitPrompt {
    input: LineInput,
    with_test: bool,
    error: Option<String>,
}

/// What a key did to the prompt.
#[derive(Debug)]
pub enum Prompted {
    /// Still typing.
    Typing,
    /// Esc: nothing submitted.
    Cancelled,
    /// Enter with a message.
    Submit(SubmitOptions),
}

impl SubmitPrompt {
    /// Take a key: text edits the message, Tab toggles the test run, Enter submits (a
    /// message is required), Esc cancels.
    pub fn key(&mut self, key: Key) -> Prompted {
        match key.code {
            KeyCode::Esc => Prompted::Cancelled,
            KeyCode::Enter => {
                let message = self.input.text.trim().to_string();
                if message.is_empty() {
                    self.error = Some("a submit needs a message that says what changed".into());
                    return Prompted::Typing;
                }
                Prompted::Submit(SubmitOptions {
                    message,
                    with_test: self.with_test,
                    seed: 0,
                })
            }
            KeyCode::Tab => {
                self.with_test = !self.with_test;
                Prompted::Typing
            }
            _ => {
                if self.input.handle(key) {
                    self.error = None;
                }
                Prompted::Typing
            }
        }
    }

    /// The prompt in a box in the middle of `area`.
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme, job: &str) {
        let area = centered(area, 70, 6);
        frame.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(true))
            .title(Span::styled(format!(" submit {job} "), theme.accent()));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut message = vec![Span::styled("message: ", theme.accent())];
        message.extend(self.input.spans(theme));
        let test = if self.with_test {
            "yes: weir test runs on the test package"
        } else {
            "no"
        };
        let last = match &self.error {
            Some(e) => Line::styled(e.clone(), theme.error()),
            None => Line::styled(
                "Enter submits (validates first) · Tab test · Esc cancels",
                theme.muted(),
            ),
        };
        let lines = vec![
            Line::from(message),
            Line::from(vec![
                Span::styled("run test: ", theme.muted()),
                Span::raw(test),
            ]),
            Line::raw(""),
            last,
        ];
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// A submit running in the background.
pub struct Submitting {
    pending: Pending<Result<SubmitOutcome, AppError>>,
}

impl Submitting {
    /// Submit the working file of `job` in the background.
    pub fn start(link: &StoreLink, job: JobId, opts: SubmitOptions) -> Submitting {
        let label = if opts.with_test {
            format!("submitting {} (validate, test)", job.name())
        } else {
            format!("submitting {} (validate)", job.name())
        };
        let pending = link.spawn(label, move |gov, _progress| async move {
            gov.submit_job(&job, &opts).await
        });
        Submitting { pending }
    }

    /// The outcome for the status bar, once it is there.
    pub fn poll(&mut self) -> Option<Action> {
        match self.pending.poll() {
            Some(Ok(outcome)) => {
                let (level, msg) = outcome_message(&outcome);
                Some(Action::StoreWritten(level, msg))
            }
            Some(Err(e)) => Some(Action::StoreWritten(Level::Error, failure_message(&e))),
            None if !self.pending.running() => Some(Action::StoreWritten(
                Level::Error,
                "the submit stopped without an answer (a bug in weir; please report it)".into(),
            )),
            None => None,
        }
    }
}

/// `version 4 (3f9a1c0b2e7d) of shop/clickstream_pv`, with the test's verdict and the
/// number of warnings; or "no new version: …".
pub fn outcome_message(outcome: &SubmitOutcome) -> (Level, String) {
    if let Submitted::Unchanged { .. } = outcome.submitted {
        return (Level::Info, outcome.line());
    }
    let mut msg = format!("submitted {}", outcome.line());
    let mut level = Level::Ok;
    if let Some(t) = &outcome.version().test {
        if t.passed {
            msg.push_str(" · test passed");
        } else {
            msg.push_str(&format!(
                " · test FAILED (seed {}): {}",
                t.seed,
                first_line(&t.report)
            ));
            level = Level::Warning;
        }
    }
    match outcome.warnings.len() {
        0 => {}
        1 => msg.push_str(" · 1 validation warning"),
        n => msg.push_str(&format!(" · {n} validation warnings")),
    }
    (level, msg)
}

/// A refused submit on one status line: for an invalid job, what `weir validate` said
/// (the first problem and how many more) and what to do; for a lock held by someone
/// else, the store's words and the key that takes it over.
pub fn failure_message(e: &AppError) -> String {
    let text = error_text(e);
    let heads: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("warning["))
        .collect();
    if let (Some(first), Some(last)) = (heads.first(), text.lines().last()) {
        let more = match heads.len() - 1 {
            0 => String::new(),
            1 => " (and 1 more problem)".to_string(),
            n => format!(" (and {n} more problems)"),
        };
        return format!("{last} · {first}{more} · v lists the problems");
    }
    let one = text.lines().collect::<Vec<_>>().join(" ");
    if one.contains(" is locked by ") {
        format!("{one} · L takes it over here")
    } else {
        one
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use weir_app::jobs::{TestResult, Validation, VersionInfo};

    use super::*;

    fn version(test: Option<TestResult>) -> VersionInfo {
        VersionInfo {
            job: "shop/pv".into(),
            number: 2,
            hash: "3f9a1c0b2e7d00000000".into(),
            author: "ann".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            message: "m".into(),
            validation: Validation {
                passed: true,
                report: "valid".into(),
            },
            test,
        }
    }

    #[test]
    fn the_prompt_needs_a_message_and_toggles_the_test() {
        let mut p = SubmitPrompt::default();
        assert!(matches!(
            p.key(Key::plain(KeyCode::Enter)),
            Prompted::Typing
        ));
        assert!(p.error.as_deref().unwrap_or("").contains("needs a message"));
        for c in "more  ".chars() {
            p.key(Key::char(c));
        }
        assert!(p.error.is_none());
        p.key(Key::plain(KeyCode::Tab));
        match p.key(Key::plain(KeyCode::Enter)) {
            Prompted::Submit(o) => {
                assert_eq!(o.message, "more");
                assert!(o.with_test);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            p.key(Key::plain(KeyCode::Esc)),
            Prompted::Cancelled
        ));
    }

    #[test]
    fn outcomes_read_as_one_line() {
        let created = SubmitOutcome {
            job: "shop/pv".into(),
            submitted: Submitted::Created {
                version: version(Some(TestResult {
                    seed: 7,
                    passed: false,
                    report: "out: 2 expected, 1 received\nmore".into(),
                })),
                took_lock: false,
            },
            warnings: vec!["w".into()],
        };
        let (level, msg) = outcome_message(&created);
        assert_eq!(level, Level::Warning);
        assert_eq!(
            msg,
            "submitted version 2 (3f9a1c0b2e7d) of shop/pv · test FAILED (seed 7): out: 2 expected, 1 received · 1 validation warning"
        );
        let same = SubmitOutcome {
            job: "shop/pv".into(),
            submitted: Submitted::Unchanged {
                latest: version(None),
            },
            warnings: Vec::new(),
        };
        let (level, msg) = outcome_message(&same);
        assert_eq!(level, Level::Info);
        assert!(
            msg.starts_with("no new version: the working file equals version 2"),
            "{msg}"
        );
    }

    #[test]
    fn refusals_say_what_to_do() {
        let invalid = AppError::User(
            "error[sql]: unknown column `x`\n --> jobs/pv.ron:3:4\n\nerror[edge]: no node `q`\n --> jobs/pv.ron:9:1\nshop/pv is not valid, so nothing was submitted; fix it and submit again (weir validate shows the same)".into(),
        );
        assert_eq!(
            failure_message(&invalid),
            "shop/pv is not valid, so nothing was submitted; fix it and submit again (weir validate shows the same) · error[sql]: unknown column `x` (and 1 more problem) · v lists the problems"
        );
        let locked = AppError::User(
            "job shop/pv is locked by bob since 2026-01-01T00:00:00Z; submitting needs its edit lock (`weir job unlock shop/pv` takes it over)".into(),
        );
        assert!(failure_message(&locked).ends_with(" · L takes it over here"));
    }
}
