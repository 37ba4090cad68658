//! The modals of my requests: "withdraw #N? y/n" on the bottom line, and the permission
//! request form (`n`) in a box over the screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{MyRequests, Tab};
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::Context;
use crate::screens::gov::footer::footer;
use crate::screens::gov::perm_form::{PermEvent, PermForm};
use crate::screens::gov::{centered, error_text};
use crate::theme::Theme;

pub(super) enum Modal {
    ConfirmWithdraw(i64),
    Form(Box<PermForm>),
}

impl MyRequests {
    pub(super) fn modal_key(&mut self, key: Key, cx: &Context) -> Outcome {
        match self.modal.take() {
            None => Outcome::Ignored,
            Some(Modal::ConfirmWithdraw(id)) => {
                if key != Key::char('y') {
                    return Action::Status(Level::Info, format!("#{id} not withdrawn")).into();
                }
                let Some(link) = cx.store else {
                    return Outcome::Consumed;
                };
                let out = link.call(link.gov().withdraw(id));
                self.reload(cx);
                match out {
                    Ok(_) => Action::StoreWritten(Level::Ok, format!("withdrew #{id}")).into(),
                    Err(e) => Action::Status(Level::Error, error_text(&e)).into(),
                }
            }
            Some(Modal::Form(mut form)) => match form.handle_key(key, cx) {
                PermEvent::Consumed => {
                    self.modal = Some(Modal::Form(form));
                    Outcome::Consumed
                }
                PermEvent::Cancelled => {
                    Action::Status(Level::Info, "no request sent".into()).into()
                }
                PermEvent::Submitted(msg) => {
                    self.tab = Tab::InProgress;
                    self.reload(cx);
                    Action::StoreWritten(Level::Ok, msg).into()
                }
            },
        }
    }

    /// The bottom line: the withdraw question, else the keys that fit in `width`.
    pub(super) fn bottom_line(&self, theme: &Theme, width: u16) -> Line<'static> {
        match &self.modal {
            Some(Modal::ConfirmWithdraw(id)) => Line::styled(
                format!("withdraw #{id}? y withdraws, any other key keeps it"),
                theme.warning(),
            ),
            _ => footer(
                theme,
                &[
                    ("n", "request permission"),
                    ("1/2 ←→", "tabs"),
                    ("w", "withdraw"),
                    ("PgDn/PgUp", "scroll"),
                    ("/", "filter"),
                    ("Esc", "back"),
                ],
                width,
            ),
        }
    }

    /// The permission request form over the screen, when it is open.
    pub(super) fn draw_form(&self, frame: &mut Frame, area: Rect, cx: &Context) {
        if let Some(Modal::Form(form)) = &self.modal {
            form.render(frame, centered(area, 76, 20), cx, true);
        }
    }
}
