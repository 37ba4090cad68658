//! The inbox's prompts on its bottom lines: the opinion of an approval (optional) or a
//! rejection (required), and "approve N requests? y/n" for the marked ones.

use crossterm::event::KeyCode;
use ratatui::text::{Line, Span};

use super::Inbox;
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::overlay::LineInput;
use crate::screens::Context;
use crate::screens::gov::footer::footer;
use crate::theme::Theme;

pub(super) enum Modal {
    /// Typing the opinion of an approval or rejection of these requests.
    Opinion {
        approve: bool,
        ids: Vec<i64>,
        input: LineInput,
        error: Option<String>,
    },
    /// "approve N requests? y/n"
    ConfirmBulk { ids: Vec<i64> },
}

impl Inbox {
    pub(super) fn open_opinion(&mut self, approve: bool, ids: Vec<i64>) -> Outcome {
        if ids.is_empty() {
            return Action::Status(Level::Info, "the inbox is empty".into()).into();
        }
        self.modal = Some(Modal::Opinion {
            approve,
            ids,
            input: LineInput::default(),
            error: None,
        });
        Outcome::Consumed
    }

    pub(super) fn modal_key(&mut self, key: Key, cx: &Context) -> Outcome {
        let Some(modal) = self.modal.as_mut() else {
            return Outcome::Ignored;
        };
        match modal {
            Modal::ConfirmBulk { ids } => {
                let ids = std::mem::take(ids);
                self.modal = None;
                if key == Key::char('y') {
                    self.decide(cx, true, ids, String::new())
                } else {
                    Action::Status(Level::Info, "nothing approved".into()).into()
                }
            }
            Modal::Opinion {
                approve,
                ids,
                input,
                error,
            } => match key.code {
                KeyCode::Esc => {
                    self.modal = None;
                    Action::Status(Level::Info, "nothing decided".into()).into()
                }
                KeyCode::Enter => {
                    let (approve, ids) = (*approve, ids.clone());
                    let opinion = input.text.trim().to_string();
                    if !approve && opinion.is_empty() {
                        *error = Some(
                            "a rejection needs a reason: say what the requester should change"
                                .into(),
                        );
                        return Outcome::Consumed;
                    }
                    self.modal = None;
                    self.decide(cx, approve, ids, opinion)
                }
                _ => {
                    input.handle(key);
                    *error = None;
                    Outcome::Consumed
                }
            },
        }
    }

    /// The bottom lines: the open prompt (two lines), else the keys that fit in `width`.
    pub(super) fn bottom_lines(&self, theme: &Theme, width: u16) -> Vec<Line<'static>> {
        match &self.modal {
            Some(Modal::Opinion {
                approve,
                ids,
                input,
                error,
            }) => {
                let what = match ids.as_slice() {
                    [id] => format!("#{id}"),
                    _ => format!("{} requests", ids.len()),
                };
                let label = if *approve {
                    format!("approve {what} — opinion (optional, Enter): ")
                } else {
                    format!("reject {what} — opinion (required, Enter): ")
                };
                let mut spans = vec![Span::styled(label, theme.accent())];
                spans.extend(input.spans(theme));
                let mut lines = vec![Line::from(spans)];
                if let Some(e) = error {
                    lines.push(Line::styled(e.clone(), theme.error()));
                } else {
                    lines.push(Line::styled("Esc cancels", theme.muted()));
                }
                lines
            }
            Some(Modal::ConfirmBulk { ids }) => {
                let list: Vec<String> = ids.iter().map(|i| format!("#{i}")).collect();
                vec![
                    Line::styled(
                        format!(
                            "approve {} request{} ({})? y approves, any other key cancels",
                            ids.len(),
                            if ids.len() == 1 { "" } else { "s" },
                            list.join(" ")
                        ),
                        theme.warning(),
                    ),
                    Line::raw(""),
                ]
            }
            None if self.can_decide => vec![footer(
                theme,
                &[
                    ("a", "approve"),
                    ("r", "reject"),
                    ("Space", "mark"),
                    ("A", "approve marked"),
                    ("PgDn/PgUp", "scroll"),
                    ("/", "filter"),
                    ("Esc", "back"),
                ],
                width,
            )],
            None => vec![footer(
                theme,
                &[("PgDn/PgUp", "scroll"), ("/", "filter"), ("Esc", "back")],
                width,
            )],
        }
    }
}
