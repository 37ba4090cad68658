//! The modals of `:grants`: the batch form and its confirmation line, the revoke
//! question, the add-table and check forms; keys go to the open one.

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};
use weir_app::governance::{Grant, GrantList, GrantSpec, TableRef};

use super::Grants;
use super::detail::describe;
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::Context;
use crate::screens::gov::form::{Form, FormEvent};
use crate::screens::gov::{centered, error_text};
use crate::theme::Theme;

pub(super) enum Modal {
    /// `w` / `b` / `p`: what to set on the chosen tables.
    Batch {
        list: GrantList,
        tables: Vec<TableRef>,
        kafka: bool,
        form: Form,
    },
    /// The batch form was submitted; `y` applies it.
    Confirm {
        list: GrantList,
        tables: Vec<TableRef>,
        kafka: bool,
        form: Form,
        spec: GrantSpec,
        line: String,
    },
    /// `x`: revoke this grant?
    Revoke(Grant),
    /// `a`: a table by name.
    AddTable(Form),
    /// `c`: the effective right of a user on the highlighted table.
    Check(TableRef, Form),
}

impl Grants {
    pub(super) fn modal_key(&mut self, key: Key, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            self.modal = None;
            return Outcome::Consumed;
        };
        let Some(modal) = self.modal.take() else {
            return Outcome::Ignored;
        };
        match modal {
            Modal::Batch {
                list,
                tables,
                kafka,
                mut form,
            } => match form.handle_key(key) {
                FormEvent::Cancel => Action::Status(Level::Info, "nothing changed".into()).into(),
                FormEvent::Submit => {
                    form.clear_errors();
                    let spec = Grants::batch_spec(list, &tables, &form);
                    let line = Grants::confirm_line(&spec);
                    self.modal = Some(Modal::Confirm {
                        list,
                        tables,
                        kafka,
                        form,
                        spec,
                        line,
                    });
                    Outcome::Consumed
                }
                ev => {
                    if ev == FormEvent::Changed("grantee") && list == GrantList::Whitelist {
                        let on = form.choice("grantee") == "user" && !kafka;
                        form.set_enabled("columns", on);
                    }
                    self.modal = Some(Modal::Batch {
                        list,
                        tables,
                        kafka,
                        form,
                    });
                    Outcome::Consumed
                }
            },
            Modal::Confirm {
                list,
                tables,
                kafka,
                form,
                spec,
                line,
            } => match key.code {
                KeyCode::Char('y') | KeyCode::Enter => {
                    self.modal = Some(Modal::Confirm {
                        list,
                        tables,
                        kafka,
                        form,
                        spec,
                        line,
                    });
                    self.apply_batch(link, cx)
                }
                KeyCode::Char('n') | KeyCode::Esc => {
                    self.modal = Some(Modal::Batch {
                        list,
                        tables,
                        kafka,
                        form,
                    });
                    Outcome::Consumed
                }
                _ => {
                    self.modal = Some(Modal::Confirm {
                        list,
                        tables,
                        kafka,
                        form,
                        spec,
                        line,
                    });
                    Outcome::Consumed
                }
            },
            Modal::Revoke(g) => match key.code {
                KeyCode::Char('y') => match link.call(link.gov().revoke_grant(g.id)) {
                    Ok(()) => {
                        self.reload(cx);
                        Action::StoreWritten(
                            Level::Ok,
                            format!("revoked grant #{} ({})", g.id, describe(&g)),
                        )
                        .into()
                    }
                    Err(e) => Action::Status(Level::Error, error_text(&e)).into(),
                },
                _ => Action::Status(Level::Info, format!("kept grant #{}", g.id)).into(),
            },
            Modal::AddTable(mut form) => match form.handle_key(key) {
                FormEvent::Cancel => Outcome::Consumed,
                FormEvent::Submit => self.add_table(link, cx, form),
                _ => {
                    self.modal = Some(Modal::AddTable(form));
                    Outcome::Consumed
                }
            },
            Modal::Check(target, mut form) => match form.handle_key(key) {
                FormEvent::Cancel => Outcome::Consumed,
                FormEvent::Submit => {
                    form.clear_errors();
                    self.run_check(link, target, form)
                }
                _ => {
                    self.modal = Some(Modal::Check(target, form));
                    Outcome::Consumed
                }
            },
        }
    }
}

/// A form box centred over `area`, as tall as its lines (wrapped) need.
pub(super) fn draw_modal(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    title: &str,
    lines: Vec<Line<'static>>,
) {
    let w = area.width.min(72);
    let inner_w = w.saturating_sub(2).max(1) as usize;
    let rows: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_w))
        .sum();
    let r = centered(area, w, rows as u16 + 2);
    let block = theme.pane(format!(" {title} "), true);
    let inner = block.inner(r);
    frame.render_widget(Clear, r);
    frame.render_widget(block, r);
    frame.render_widget(
        Paragraph::new(crate::printable::lines(lines)).wrap(Wrap { trim: false }),
        inner,
    );
}
