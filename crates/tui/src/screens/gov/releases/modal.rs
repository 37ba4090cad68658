//! The releases screen's modals: the go-live form (`golive.rs`), the release request form
//! (job, version, note), the opinion of an approval on the bottom lines, and the y/n
//! questions before taking a release offline or withdrawing a request. Everything that
//! writes runs in the background (`Work`) and ends in one status message.

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use weir_app::jobs::{JobId, ReleaseState, Which};

use super::golive::GoLive;
use super::{Releases, Tab, describe, say, short};
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::overlay::LineInput;
use crate::screens::Context;
use crate::screens::gov::footer::footer_rows;
use crate::screens::gov::form::{Field, Form, FormEvent};
use crate::screens::gov::{centered, error_text};
use crate::screens::jobs::job_of_name;
use crate::screens::jobs::work::Work;
use crate::theme::Theme;

/// What a y/n question is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ask {
    Offline,
    Withdraw,
}

pub(super) enum Modal {
    GoLive(Box<GoLive>),
    /// The release request form: job, version, note.
    Request(Box<Form>),
    /// Typing the opinion of approving release `id`, bound to `hash`.
    Opinion {
        id: i64,
        hash: String,
        what: String,
        input: LineInput,
    },
    /// "take #7 offline? y/n", "withdraw #7? y/n".
    Confirm {
        ask: Ask,
        id: i64,
        what: String,
    },
}

impl Releases {
    /// `o`: ask before taking the selected live release offline.
    pub(super) fn ask_offline(&mut self) -> Outcome {
        let Some(r) = self.list.current() else {
            return say(Level::Info, "no release selected".into());
        };
        if r.state != ReleaseState::Live {
            return say(
                Level::Warning,
                format!(
                    "release #{} is {}; only a live release can be taken offline",
                    r.id,
                    r.state.as_str()
                ),
            );
        }
        self.modal = Some(Modal::Confirm {
            ask: Ask::Offline,
            id: r.id,
            what: describe(r),
        });
        Outcome::Consumed
    }

    /// `w`: ask before withdrawing my selected pending release request.
    pub(super) fn ask_withdraw(&mut self) -> Outcome {
        let Some(r) = self.list.current() else {
            return say(Level::Info, "no release selected".into());
        };
        if r.state != ReleaseState::Pending {
            return say(
                Level::Warning,
                format!(
                    "release #{} is {}; only a pending request can be withdrawn",
                    r.id,
                    r.state.as_str()
                ),
            );
        }
        if r.requester != self.me {
            return say(
                Level::Warning,
                format!(
                    "release #{} was requested by {}; only the requester withdraws a request",
                    r.id, r.requester
                ),
            );
        }
        self.modal = Some(Modal::Confirm {
            ask: Ask::Withdraw,
            id: r.id,
            what: describe(r),
        });
        Outcome::Consumed
    }

    /// `a`: the opinion prompt of approving the selected pending release (system admins).
    pub(super) fn open_opinion(&mut self) -> Outcome {
        let Some(r) = self.list.current() else {
            return say(Level::Info, "no release selected".into());
        };
        if !self.admin {
            return say(
                Level::Warning,
                format!("only system admins approve releases; you are {}", self.who),
            );
        }
        if r.state != ReleaseState::Pending {
            return say(
                Level::Warning,
                format!(
                    "release #{} is {}; only a pending release can be approved",
                    r.id,
                    r.state.as_str()
                ),
            );
        }
        self.modal = Some(Modal::Opinion {
            id: r.id,
            hash: r.hash.clone(),
            what: describe(r),
            input: LineInput::default(),
        });
        Outcome::Consumed
    }

    /// `R`: the release request form, for the open job's latest version.
    pub(super) fn open_request(&mut self, cx: &Context) -> Outcome {
        if cx.store.is_none() {
            return say(Level::Error, "no metadata store".into());
        }
        let job = self.job.clone().or_else(|| {
            self.list
                .current()
                .and_then(|r| job_of_name(cx.project, &r.job))
                .map(|j| j.path)
        });
        let fields = vec![
            Field::text("job", "job", job.as_deref().unwrap_or(""))
                .hint("the job's path under jobs/, e.g. clickstream_pv or team/orders"),
            Field::text("version", "version", "latest")
                .hint("a submitted version: its number, or latest"),
            Field::text("note", "note", "")
                .hint("why this version should go live (the approver reads it)"),
        ];
        let mut form = Form::new("request a release", fields);
        // the job is usually right: start at the note
        if job.is_some() {
            form.selected = 2;
        }
        self.modal = Some(Modal::Request(Box::new(form)));
        Outcome::Consumed
    }

    pub(super) fn modal_key(&mut self, key: Key, cx: &Context) -> Outcome {
        match self.modal.take() {
            None => Outcome::Ignored,
            Some(Modal::GoLive(g)) => self.go_live_key(g, key, cx),
            Some(Modal::Request(form)) => self.request_key(form, key, cx),
            Some(Modal::Confirm { ask, id, what }) => {
                if key != Key::char('y') {
                    let msg = match ask {
                        Ask::Offline => format!("release #{id} stays live"),
                        Ask::Withdraw => format!("release request #{id} is kept"),
                    };
                    return say(Level::Info, msg);
                }
                let Some(link) = cx.store else {
                    return say(Level::Error, "no metadata store".into());
                };
                self.work = Some(match ask {
                    Ask::Offline => Work::start(
                        link,
                        format!("taking release #{id} offline"),
                        move |gov| async move {
                            let r = gov.take_offline(id).await?;
                            Ok((
                                Level::Ok,
                                format!(
                                    "release #{} of {} version {} is offline",
                                    r.id, r.job, r.version
                                ),
                            ))
                        },
                    ),
                    Ask::Withdraw => Work::start(
                        link,
                        format!("withdrawing release request #{id}"),
                        move |gov| async move {
                            gov.withdraw(id).await?;
                            Ok((Level::Ok, format!("withdrew release request {what}")))
                        },
                    ),
                });
                say(Level::Info, String::new())
            }
            Some(Modal::Opinion {
                id,
                hash,
                what,
                mut input,
            }) => match key.code {
                KeyCode::Esc => say(Level::Info, "nothing approved".into()),
                KeyCode::Enter => {
                    let Some(link) = cx.store else {
                        return say(Level::Error, "no metadata store".into());
                    };
                    let opinion = input.text.trim().to_string();
                    self.work = Some(Work::start(
                        link,
                        format!("approving release #{id}"),
                        move |gov| async move {
                            gov.approve_checked(id, &opinion, Some(&hash)).await?;
                            Ok((
                                Level::Ok,
                                format!(
                                    "approved release {what} bound to hash {}; g takes it live",
                                    short(&hash)
                                ),
                            ))
                        },
                    ));
                    say(Level::Info, String::new())
                }
                _ => {
                    input.handle(key);
                    self.modal = Some(Modal::Opinion {
                        id,
                        hash,
                        what,
                        input,
                    });
                    Outcome::Consumed
                }
            },
        }
    }

    /// A key for the release request form; on submit, the request is made at once (a
    /// quick store write) so that a refusal lands in the form.
    fn request_key(&mut self, mut form: Box<Form>, key: Key, cx: &Context) -> Outcome {
        match form.handle_key(key) {
            FormEvent::Cancel => say(Level::Info, "no release requested".into()),
            FormEvent::Submit => match self.request(&mut form, cx) {
                Some(out) => out,
                None => {
                    self.modal = Some(Modal::Request(form));
                    Outcome::Consumed
                }
            },
            FormEvent::Changed(_) | FormEvent::Consumed => {
                self.modal = Some(Modal::Request(form));
                Outcome::Consumed
            }
        }
    }

    /// Request the release the form describes; None (with the problem in the form) when
    /// it cannot be made.
    fn request(&mut self, form: &mut Form, cx: &Context) -> Option<Outcome> {
        form.clear_errors();
        let link = cx.store?;
        let path = form.text("job");
        let path = path.trim_end_matches(".ron").trim_matches('/');
        if path.is_empty() {
            form.set_error(
                "job",
                Some("name the job by its path under jobs/, e.g. clickstream_pv".into()),
            );
            form.selected = 0;
            return None;
        }
        let which = match Which::parse(&form.text("version")) {
            Ok(w @ (Which::Version(_) | Which::Latest)) => w,
            Ok(_) | Err(_) => {
                form.set_error(
                    "version",
                    Some(format!(
                        "`{}` is not a submitted version; give its number (see :versions) or latest",
                        form.text("version")
                    )),
                );
                form.selected = 1;
                return None;
            }
        };
        let job = JobId::of_path(&cx.project.root, path);
        let note = form.text("note");
        match link.call(link.gov().request_release(&job, which, &note)) {
            Ok(r) => {
                if !self.tab.holds(ReleaseState::Pending) {
                    self.tab = Tab::All;
                }
                self.reload(cx);
                self.list.select_where(|x| x.id == r.id);
                Some(
                    Action::StoreWritten(
                        Level::Ok,
                        format!(
                            "release request #{} is pending a system admin's approval: {}",
                            r.id, r.summary
                        ),
                    )
                    .into(),
                )
            }
            Err(e) => {
                form.message = Some((Level::Error, error_text(&e)));
                None
            }
        }
    }

    /// The two bottom lines: the open prompt or question, else the keys that fit in
    /// `width`.
    pub(super) fn bottom_lines(&self, theme: &Theme, width: u16) -> Vec<Line<'static>> {
        match &self.modal {
            Some(Modal::Opinion {
                hash, what, input, ..
            }) => {
                let mut spans = vec![Span::styled(
                    format!(
                        "approve {what} (hash {}) — opinion (optional, Enter): ",
                        short(hash)
                    ),
                    theme.accent(),
                )];
                spans.extend(input.spans(theme));
                vec![
                    Line::from(spans),
                    Line::styled("Esc cancels", theme.muted()),
                ]
            }
            Some(Modal::Confirm { ask, what, .. }) => {
                let q = match ask {
                    Ask::Offline => format!(
                        "take release {what} offline? y takes it offline, any other key keeps it live"
                    ),
                    Ask::Withdraw => format!(
                        "withdraw release request {what}? y withdraws, any other key keeps it"
                    ),
                };
                vec![Line::styled(q, theme.warning()), Line::raw("")]
            }
            _ => {
                let mut keys = vec![
                    ("g", "go live"),
                    ("o", "offline"),
                    ("d", "diff"),
                    ("w", "withdraw"),
                    ("R", "request"),
                ];
                if self.admin {
                    keys.push(("a", "approve"));
                }
                keys.extend([
                    ("1-5 ←→", "tabs"),
                    ("PgDn/PgUp", "scroll"),
                    ("/", "filter"),
                    ("Esc", "back"),
                ]);
                footer_rows(theme, &keys, width, 2)
            }
        }
    }

    /// The go-live or request form over the screen, when one is open.
    pub(super) fn draw_form(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        match &self.modal {
            Some(Modal::GoLive(g)) => g.form.render(frame, centered(area, 78, 17), theme, true),
            Some(Modal::Request(form)) => form.render(frame, centered(area, 78, 13), theme, true),
            _ => {}
        }
    }
}
