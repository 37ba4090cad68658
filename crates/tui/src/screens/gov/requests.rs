//! `:requests` — my own requests in two tabs, in progress and finished, with a detail pane
//! that shows the workflow history (requested, approved / rejected with the opinion,
//! withdrawn: the audit rows of the request). `w` withdraws a pending request after a
//! confirmation; `n` opens the permission request form.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};
use weir_store::{AuditEntry, Request, RequestFilter, RequestState};

use super::perm_form::{PermEvent, PermForm};
use super::{centered, clamp, field_line, hints, matches, row_style};
use crate::tui::action::{Action, Level, Outcome};
use crate::tui::keys::Key;
use crate::tui::screens::{Context, Screen};
use crate::tui::store_link::StoreLink;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    InProgress,
    Finished,
}

enum Modal {
    ConfirmWithdraw(i64),
    Form(Box<PermForm>),
}

pub struct MyRequests {
    tab: Tab,
    items: Vec<Request>,
    /// (request id, its history) of the selected request.
    history: Option<(i64, Vec<AuditEntry>)>,
    /// For a permission request: what the store decides for me today, per operation.
    rights: Vec<(bool, String)>,
    selected: usize,
    filter: String,
    modal: Option<Modal>,
    problem: Option<String>,
    counts: (usize, usize),
}

impl MyRequests {
    pub fn new(cx: &Context) -> MyRequests {
        let mut s = MyRequests {
            tab: Tab::InProgress,
            items: Vec::new(),
            history: None,
            rights: Vec::new(),
            selected: 0,
            filter: String::new(),
            modal: None,
            problem: None,
            counts: (0, 0),
        };
        s.reload(cx);
        s
    }

    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else { return };
        let keep = self.current().map(|r| r.id);
        let session = &link.gov().session;
        let read = link.call(async {
            let open = session.my_requests(RequestFilter::InProgress).await?;
            let done = session.my_requests(RequestFilter::Finished).await?;
            Ok::<_, weir_store::StoreError>((open, done))
        });
        match read {
            Ok((open, mut done)) => {
                self.counts = (open.len(), done.len());
                // the newest decisions first
                done.reverse();
                self.items = match self.tab {
                    Tab::InProgress => open,
                    Tab::Finished => done,
                };
                self.problem = None;
            }
            Err(e) => self.problem = Some(e.to_string()),
        }
        if let Some(id) = keep
            && let Some(i) = self.visible().iter().position(|r| r.id == id)
        {
            self.selected = i;
        }
        self.selected = clamp(self.selected, self.visible().len());
        self.history = None;
        self.read_history(link);
    }

    fn visible(&self) -> Vec<&Request> {
        self.items
            .iter()
            .filter(|r| {
                matches(
                    &self.filter,
                    &[
                        &format!("#{}", r.id),
                        &r.summary,
                        r.state.as_str(),
                        r.project.as_deref().unwrap_or(""),
                    ],
                )
            })
            .collect()
    }

    fn current(&self) -> Option<&Request> {
        self.visible().get(self.selected).copied()
    }

    fn read_history(&mut self, link: &StoreLink) {
        let Some(id) = self.current().map(|r| r.id) else {
            self.history = None;
            return;
        };
        if self.history.as_ref().is_some_and(|(h, _)| *h == id) {
            return;
        }
        let session = &link.gov().session;
        let rows = link.call(session.request_history(id)).unwrap_or_default();
        self.history = Some((id, rows));
        self.rights = link.call(rights_now(session, id));
    }

    fn switch(&mut self, tab: Tab, cx: &Context) {
        if self.tab != tab {
            self.tab = tab;
            self.selected = 0;
            self.reload(cx);
        }
    }

    fn render_detail(&self, frame: &mut Frame, area: Rect, cx: &Context) {
        let theme = cx.theme;
        let block = theme.pane(" detail ".into(), false);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let Some(r) = self.current() else {
            frame.render_widget(
                Paragraph::new(Line::styled("nothing selected", theme.muted())),
                inner,
            );
            return;
        };
        let mut lines = vec![
            Line::styled(format!("#{} {}", r.id, r.summary), theme.accent()),
            field_line(theme, "state", state_word(r.state)),
            field_line(theme, "project", r.project.clone().unwrap_or("-".into())),
        ];
        if let Some(by) = &r.decided_by {
            lines.push(field_line(theme, "decided by", by.clone()));
        }
        if let Some(o) = r.opinion.as_ref().filter(|o| !o.is_empty()) {
            lines.push(field_line(theme, "opinion", o.clone()));
        }
        if !self.rights.is_empty() {
            lines.push(Line::raw(""));
            lines.push(Line::styled("my rights now", theme.muted()));
            for (allowed, what) in &self.rights {
                let (mark, style) = if *allowed {
                    ("✓ ", theme.ok())
                } else {
                    ("✗ ", theme.error())
                };
                lines.push(Line::from(vec![
                    Span::styled(mark, style),
                    Span::raw(what.clone()),
                ]));
            }
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled("history", theme.muted()));
        if let Some((_, rows)) = &self.history {
            for h in rows {
                lines.push(Line::from(vec![
                    Span::styled(super::when(&h.at), theme.muted()),
                    Span::raw(format!("  {}  {}", h.actor, step_word(h))),
                ]));
            }
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}

/// For a permission request: may I do each operation it asked for, today, and why.
async fn rights_now(session: &weir_store::Session, id: i64) -> Vec<(bool, String)> {
    let Ok((
        request,
        weir_store::RequestDetail::Permission {
            datasource,
            table,
            perms,
            columns,
            ..
        },
    )) = session.request(id).await
    else {
        return Vec::new();
    };
    let target = weir_store::TableRef::new(&datasource, &table);
    let mut out = Vec::new();
    for perm in perms {
        let d = session
            .check(
                session.actor(),
                request.project.as_deref(),
                &target,
                perm,
                &columns,
            )
            .await;
        out.push(match d {
            Ok(d) => (d.allowed, format!("{}: {}", perm.as_str(), d.reason)),
            Err(e) => (false, format!("{}: {e}", perm.as_str())),
        });
    }
    out
}

fn state_word(s: RequestState) -> &'static str {
    match s {
        RequestState::Pending => "pending (waiting for a data admin)",
        RequestState::Approved => "approved",
        RequestState::Rejected => "rejected",
        RequestState::Withdrawn => "withdrawn",
    }
}

/// One audit row of a request as a workflow step.
fn step_word(h: &AuditEntry) -> String {
    let opinion = h
        .after_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
        .and_then(|v| {
            v.get("opinion")
                .and_then(|o| o.as_str())
                .map(str::to_string)
        })
        .filter(|o| !o.is_empty());
    let with = |w: &str| match &opinion {
        Some(o) => format!("{w}: “{o}”"),
        None => w.to_string(),
    };
    match h.action.as_str() {
        "permission.request" => "requested".into(),
        "topic.publish" => "asked to publish".into(),
        "request.approve" => with("approved"),
        "request.reject" => with("rejected"),
        "request.withdraw" => "withdrew".into(),
        other => other.to_string(),
    }
}

impl Screen for MyRequests {
    fn name(&self) -> &'static str {
        "requests"
    }

    fn crumbs(&self) -> Vec<String> {
        vec![
            "requests".into(),
            match self.tab {
                Tab::InProgress => "in progress".into(),
                Tab::Finished => "finished".into(),
            },
        ]
    }

    fn context(&self) -> &'static str {
        "requests"
    }

    fn captures_text(&self) -> bool {
        self.modal.is_some()
    }

    fn mode(&self) -> &'static str {
        match self.modal {
            Some(Modal::Form(_)) => "EDIT",
            Some(Modal::ConfirmWithdraw(_)) => "CONFIRM",
            None => "NORMAL",
        }
    }

    fn handle_key(&mut self, key: Key, cx: &Context) -> Outcome {
        match self.modal.take() {
            None => Outcome::Ignored,
            Some(Modal::ConfirmWithdraw(id)) => {
                if key != Key::char('y') {
                    return Action::Status(Level::Info, format!("#{id} not withdrawn")).into();
                }
                let Some(link) = cx.store else {
                    return Outcome::Consumed;
                };
                let out = link.call(link.gov().session.withdraw(id));
                self.reload(cx);
                match out {
                    Ok(_) => Action::StoreWritten(Level::Ok, format!("withdrew #{id}")).into(),
                    Err(e) => Action::Status(Level::Error, e.to_string()).into(),
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

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        let n = self.visible().len();
        match action {
            "up" => self.selected = self.selected.saturating_sub(1),
            "down" => self.selected = clamp(self.selected + 1, n),
            "in-progress" => self.switch(Tab::InProgress, cx),
            "finished" => self.switch(Tab::Finished, cx),
            "next-tab" | "prev-tab" => {
                let other = match self.tab {
                    Tab::InProgress => Tab::Finished,
                    Tab::Finished => Tab::InProgress,
                };
                self.switch(other, cx);
            }
            "request" => {
                self.modal = Some(Modal::Form(Box::new(PermForm::new(cx, None))));
            }
            "withdraw" => match self.current() {
                Some(r) if r.state == RequestState::Pending => {
                    self.modal = Some(Modal::ConfirmWithdraw(r.id));
                }
                Some(r) => {
                    return Action::Status(
                        Level::Warning,
                        format!(
                            "#{} is {}: only pending requests can be withdrawn",
                            r.id,
                            r.state.as_str()
                        ),
                    )
                    .into();
                }
                None => return Outcome::Consumed,
            },
            _ => return Outcome::Ignored,
        }
        if let Some(link) = cx.store {
            self.read_history(link);
        }
        Outcome::Consumed
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("in-progress", "requests in progress"),
            ("finished", "finished requests"),
            ("request", "request a permission"),
            ("withdraw", "withdraw the selected pending request"),
        ]
    }

    fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.selected = 0;
        self.history = None;
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        if changed && self.modal.is_none() {
            self.reload(cx);
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        if let Some(link) = cx.store
            && self.history.is_none()
        {
            self.read_history(link);
        }
        let theme = cx.theme;
        let block = theme.pane(" my requests ".into(), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [tabs, body, bottom] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(inner);
        let tab = |t: Tab, label: String| {
            if self.tab == t {
                Span::styled(format!(" {label} "), theme.selected())
            } else {
                Span::styled(format!(" {label} "), theme.muted())
            }
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                tab(
                    Tab::InProgress,
                    format!("1 in progress ({})", self.counts.0),
                ),
                Span::raw(" "),
                tab(Tab::Finished, format!("2 finished ({})", self.counts.1)),
            ])),
            tabs,
        );
        let visible = self.visible();
        let [list, detail] = super::split(body, visible.len());
        if visible.is_empty() {
            let text = match &self.problem {
                Some(p) => Line::styled(p.clone(), theme.error()),
                None => Line::styled(
                    match self.tab {
                        Tab::InProgress => {
                            "No requests in progress. n requests a permission; topics are published from :topics."
                        }
                        Tab::Finished => "No finished requests yet.",
                    },
                    theme.muted(),
                ),
            };
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), list);
        } else {
            let rows: Vec<Row> = visible
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    Row::new(vec![
                        format!("#{}", r.id),
                        r.summary.clone(),
                        r.state.as_str().to_string(),
                    ])
                    .style(row_style(theme, i, self.selected, focused))
                })
                .collect();
            let table = Table::new(
                rows,
                [
                    Constraint::Length(5),
                    Constraint::Min(20),
                    Constraint::Length(9),
                ],
            )
            .header(Row::new(vec!["#", "request", "state"]).style(theme.muted()));
            frame.render_widget(table, list);
        }
        self.render_detail(frame, detail, cx);
        let line = match &self.modal {
            Some(Modal::ConfirmWithdraw(id)) => Line::styled(
                format!("withdraw #{id}? y withdraws, any other key keeps it"),
                theme.warning(),
            ),
            _ => hints(
                theme,
                &[
                    ("1/2 ←→", "tabs"),
                    ("n", "request permission"),
                    ("w", "withdraw"),
                    ("/", "filter"),
                    ("Esc", "back"),
                ],
            ),
        };
        frame.render_widget(Paragraph::new(line), bottom);
        if let Some(Modal::Form(form)) = &self.modal {
            form.render(frame, centered(area, 76, 20), cx, true);
        }
    }
}
