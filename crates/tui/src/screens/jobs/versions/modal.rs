//! `:versions`' confirmations on its bottom lines — taking the lock over from its holder,
//! a checkout that overwrites edits no version holds — and the keys otherwise.

use ratatui::text::Line;

use super::Versions;
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::Context;
use crate::screens::gov::footer::footer;
use crate::theme::Theme;

pub(super) enum Modal {
    /// "take the edit lock from bob? y"
    ConfirmTakeOver { holder: String },
    /// "overwrite the working file's edits with version N? y"
    ConfirmForce { number: i64 },
}

impl Versions {
    /// `y` goes ahead, any other key cancels.
    pub(super) fn modal_key(&mut self, key: Key, cx: &Context) -> Outcome {
        let Some(modal) = self.modal.take() else {
            return Outcome::Ignored;
        };
        let yes = key == Key::char('y');
        match modal {
            Modal::ConfirmTakeOver { holder } if yes => self.take_over(cx, &holder),
            Modal::ConfirmTakeOver { holder } => {
                Action::Status(Level::Info, format!("the edit lock stays with {holder}")).into()
            }
            Modal::ConfirmForce { number } if yes => self.start_checkout(cx, number, true),
            Modal::ConfirmForce { .. } => {
                Action::Status(Level::Info, "nothing checked out".into()).into()
            }
        }
    }

    /// The two bottom lines: the open confirmation, else the keys.
    pub(super) fn bottom_lines(&self, theme: &Theme, width: u16) -> Vec<Line<'static>> {
        match &self.modal {
            Some(Modal::ConfirmTakeOver { holder }) => vec![
                Line::styled(
                    format!(
                        "take the edit lock of {} from {holder}? y takes it (they are told), any other key keeps it with them",
                        self.job.name()
                    ),
                    theme.warning(),
                ),
                Line::raw(""),
            ],
            Some(Modal::ConfirmForce { number }) => vec![
                Line::styled(
                    format!(
                        "overwrite jobs/{} with version {number}, dropping edits that no version holds? y overwrites, any other key cancels",
                        self.rel
                    ),
                    theme.warning(),
                ),
                Line::raw(""),
            ],
            None => vec![
                footer(
                    theme,
                    &[
                        ("Space", "mark"),
                        ("d", "diff"),
                        ("c", "checkout"),
                        ("C", "force"),
                        ("l", "lock"),
                        ("L", "take over"),
                        ("Esc", "back"),
                    ],
                    width,
                ),
                Line::raw(""),
            ],
        }
    }
}
