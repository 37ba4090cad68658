//! `:inbox` — every request waiting for my decision (topic publications and permission
//! requests), oldest first, filterable; a detail pane with the requester, the reason and
//! exactly what approving would change; `a` Enter approves (opinion optional), `r`
//! opinion Enter rejects, Space marks requests and `A` approves the marked ones after a
//! confirmation. Approvals go through `app::governance::Governance::approve`, so a topic
//! is created on its cluster before the approval is recorded. If someone else decided
//! first, the store's "already approved by … at …" is shown and nothing is written.

use std::collections::{BTreeSet, HashMap};

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};
use weir_store::{GlobalRole, Request, RequestDetail, RequestKind};

use super::{clamp, field_line, hints, matches, row_style};
use crate::tui::action::{Action, Level, Outcome};
use crate::tui::keys::Key;
use crate::tui::overlay::LineInput;
use crate::tui::screens::{Context, Screen};
use crate::tui::store_link::StoreLink;

/// What approving a request would do, in words, read when it is selected.
#[derive(Debug, Clone)]
struct Effect {
    lines: Vec<String>,
    reason: String,
}

enum Modal {
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

pub struct Inbox {
    items: Vec<Request>,
    effects: HashMap<i64, Effect>,
    selected: usize,
    marked: BTreeSet<i64>,
    filter: String,
    modal: Option<Modal>,
    can_decide: bool,
    who: String,
    problem: Option<String>,
}

impl Inbox {
    pub fn new(cx: &Context) -> Inbox {
        let mut inbox = Inbox {
            items: Vec::new(),
            effects: HashMap::new(),
            selected: 0,
            marked: BTreeSet::new(),
            filter: String::new(),
            modal: None,
            can_decide: false,
            who: String::new(),
            problem: None,
        };
        inbox.reload(cx);
        inbox
    }

    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else { return };
        let keep = self.current().map(|r| r.id);
        self.can_decide = link.has(GlobalRole::DataAdmin);
        self.who = link.roles().describe();
        match link.call(link.gov().session.inbox()) {
            Ok(items) => {
                self.items = items;
                self.problem = None;
            }
            Err(e) => self.problem = Some(e.to_string()),
        }
        let ids: BTreeSet<i64> = self.items.iter().map(|r| r.id).collect();
        self.marked.retain(|id| ids.contains(id));
        self.effects.retain(|id, _| ids.contains(id));
        if let Some(id) = keep
            && let Some(i) = self.visible().iter().position(|r| r.id == id)
        {
            self.selected = i;
        }
        self.selected = clamp(self.selected, self.visible().len());
        self.describe_current(link);
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
                        &r.requester,
                        r.project.as_deref().unwrap_or(""),
                        kind_word(r.kind),
                    ],
                )
            })
            .collect()
    }

    fn current(&self) -> Option<&Request> {
        self.visible().get(self.selected).copied()
    }

    /// Read what approving the selected request would change (once per request).
    fn describe_current(&mut self, link: &StoreLink) {
        let Some(id) = self.current().map(|r| r.id) else {
            return;
        };
        if self.effects.contains_key(&id) {
            return;
        }
        let effect = link.call(describe(link, id));
        self.effects.insert(id, effect);
    }

    fn open_opinion(&mut self, approve: bool, ids: Vec<i64>) -> Outcome {
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

    /// Decide each request; one message for all of them.
    fn decide(&mut self, cx: &Context, approve: bool, ids: &[i64], opinion: &str) -> Action {
        let Some(link) = cx.store else {
            return Action::Status(Level::Error, "no metadata store".into());
        };
        let mut done = Vec::new();
        let mut failed = Vec::new();
        for id in ids {
            let result = if approve {
                link.call(link.gov().approve(*id, opinion))
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            } else {
                link.call(link.gov().session.reject(*id, opinion))
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            };
            match result {
                Ok(()) => done.push(format!("#{id}")),
                Err(e) => failed.push(e),
            }
        }
        self.marked.clear();
        self.reload(cx);
        let verb = if approve { "approved" } else { "rejected" };
        let mut msg = String::new();
        if !done.is_empty() {
            msg = format!("{verb} {}", done.join(" "));
        }
        if !failed.is_empty() {
            if !msg.is_empty() {
                msg.push_str("; ");
            }
            msg.push_str(&failed.join("; "));
        }
        let level = match (done.is_empty(), failed.is_empty()) {
            (false, true) => Level::Ok,
            (true, false) => Level::Error,
            _ => Level::Warning,
        };
        // even a refusal means the store moved on: fresh counters either way
        Action::StoreWritten(level, msg)
    }

    fn modal_key(&mut self, key: Key, cx: &Context) -> Outcome {
        let Some(modal) = self.modal.as_mut() else {
            return Outcome::Ignored;
        };
        match modal {
            Modal::ConfirmBulk { ids } => {
                let ids = std::mem::take(ids);
                self.modal = None;
                if key == Key::char('y') {
                    self.decide(cx, true, &ids, "").into()
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
                    self.decide(cx, approve, &ids, &opinion).into()
                }
                _ => {
                    input.handle(key);
                    *error = None;
                    Outcome::Consumed
                }
            },
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
            Line::styled(format!("#{} {}", r.id, kind_word(r.kind)), theme.accent()),
            field_line(theme, "requester", r.requester.clone()),
            field_line(
                theme,
                "project",
                r.project.clone().unwrap_or("- (for the person)".into()),
            ),
            field_line(theme, "requested", super::when(&r.created_at)),
        ];
        if let Some(e) = self.effects.get(&r.id) {
            lines.push(field_line(theme, "reason", e.reason.clone()));
            lines.push(Line::raw(""));
            lines.push(Line::styled("approving will:", theme.muted()));
            for l in &e.lines {
                lines.push(Line::raw(format!("• {l}")));
            }
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}

fn kind_word(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::TopicPublish => "topic publication",
        RequestKind::Permission => "permission",
    }
}

/// What approving request `id` would change, in words.
async fn describe(link: &StoreLink, id: i64) -> Effect {
    let session = &link.gov().session;
    let (request, detail) = match session.request(id).await {
        Ok(x) => x,
        Err(e) => {
            return Effect {
                lines: vec![format!("cannot read request #{id}: {e}")],
                reason: String::new(),
            };
        }
    };
    match detail {
        RequestDetail::TopicPublish {
            topic,
            env,
            datasource,
        } => {
            let mut lines = Vec::new();
            let mut reason = String::new();
            let address = session
                .data_source(&datasource)
                .await
                .ok()
                .and_then(|ds| ds.endpoint(env).map(|e| e.address.clone()))
                .unwrap_or_else(|| "?".into());
            match session.topic(&topic).await {
                Ok(t) => {
                    reason = if t.description.is_empty() {
                        t.display_name.clone()
                    } else {
                        t.description.clone()
                    };
                    lines.push(format!(
                        "create topic `{}` with {} partition{}, kept {} day{}, on {datasource} ({} {address})",
                        t.name,
                        t.partitions,
                        if t.partitions == 1 { "" } else { "s" },
                        t.lifecycle_days,
                        if t.lifecycle_days == 1 { "" } else { "s" },
                        env.as_str(),
                    ));
                    lines.push(format!(
                        "move the topic from {} to {}",
                        t.state.as_str(),
                        env.as_str()
                    ));
                    let fields: Vec<String> = t
                        .fields
                        .iter()
                        .map(|f| format!("{} {}", f.name, f.data_type))
                        .collect();
                    if !fields.is_empty() {
                        lines.push(format!("fields: {}", fields.join(", ")));
                    }
                }
                Err(e) => lines.push(format!("topic `{topic}`: {e}")),
            }
            Effect { lines, reason }
        }
        RequestDetail::Permission {
            datasource,
            table,
            grantee,
            perms,
            columns,
            reason,
        } => {
            let perms: Vec<&str> = perms.iter().map(|p| p.as_str()).collect();
            let cols = if columns.is_empty() {
                "the whole table".to_string()
            } else {
                format!("columns {}", columns.join(", "))
            };
            let mut lines = vec![format!(
                "whitelist {} for {} on {datasource}.{table} ({cols})",
                grantee.describe(),
                perms.join(", ")
            )];
            let target = weir_store::TableRef::new(&datasource, &table);
            if let Ok(grants) = session.grants(&target).await {
                let blocked: Vec<String> = grants
                    .iter()
                    .filter(|g| g.list == weir_store::GrantList::Blacklist)
                    .map(|g| g.grantee.describe())
                    .collect();
                if !blocked.is_empty() {
                    lines.push(format!(
                        "note: the blacklist of this table has {}, which still wins",
                        blocked.join(", ")
                    ));
                }
            }
            let _ = request;
            Effect { lines, reason }
        }
    }
}

impl Screen for Inbox {
    fn name(&self) -> &'static str {
        "inbox"
    }

    fn crumbs(&self) -> Vec<String> {
        vec!["inbox".into()]
    }

    fn context(&self) -> &'static str {
        "inbox"
    }

    fn captures_text(&self) -> bool {
        self.modal.is_some()
    }

    fn mode(&self) -> &'static str {
        match self.modal {
            Some(Modal::Opinion { .. }) => "INPUT",
            Some(Modal::ConfirmBulk { .. }) => "CONFIRM",
            None => "NORMAL",
        }
    }

    fn handle_key(&mut self, key: Key, cx: &Context) -> Outcome {
        if self.modal.is_some() {
            return self.modal_key(key, cx);
        }
        Outcome::Ignored
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        let n = self.visible().len();
        let current = self.current().map(|r| r.id);
        match action {
            "up" => self.selected = self.selected.saturating_sub(1),
            "down" => self.selected = clamp(self.selected + 1, n),
            "refresh" => {
                self.reload(cx);
                return Action::Status(Level::Info, format!("{} waiting", self.items.len())).into();
            }
            "approve" | "reject" | "select" | "approve-selected" if !self.can_decide => {
                return Action::Status(
                    Level::Warning,
                    format!("only data admins decide requests; you are {}", self.who),
                )
                .into();
            }
            "approve" => return self.open_opinion(true, current.into_iter().collect()),
            "reject" => return self.open_opinion(false, current.into_iter().collect()),
            "select" => {
                if let Some(id) = current
                    && !self.marked.remove(&id)
                {
                    self.marked.insert(id);
                }
                self.selected = clamp(self.selected + 1, n);
            }
            "approve-selected" => {
                if self.marked.is_empty() {
                    return Action::Status(
                        Level::Info,
                        "mark requests with Space first, then A approves them all".into(),
                    )
                    .into();
                }
                self.modal = Some(Modal::ConfirmBulk {
                    ids: self.marked.iter().copied().collect(),
                });
                return Outcome::Consumed;
            }
            _ => return Outcome::Ignored,
        }
        if let Some(link) = cx.store {
            self.describe_current(link);
        }
        Outcome::Consumed
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        let mut v = vec![("refresh", "read the inbox again")];
        if self.can_decide {
            v.extend([
                ("approve", "approve the selected request"),
                ("reject", "reject the selected request with an opinion"),
                ("select", "mark / unmark for bulk approval"),
                ("approve-selected", "approve every marked request"),
            ]);
        }
        v
    }

    fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.selected = 0;
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        if changed && self.modal.is_none() {
            self.reload(cx);
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let title = format!(
            " inbox · {} waiting{} ",
            self.items.len(),
            if self.marked.is_empty() {
                String::new()
            } else {
                format!(" · {} marked", self.marked.len())
            }
        );
        let block = theme.pane(title, focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [body, bottom] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(inner);
        let visible = self.visible();
        let [list, detail] = super::split(body, visible.len());
        let rows: Vec<Row> = visible
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mark = if self.marked.contains(&r.id) {
                    "●"
                } else {
                    " "
                };
                Row::new(vec![
                    mark.to_string(),
                    format!("#{}", r.id),
                    r.requester.clone(),
                    r.summary.clone(),
                    super::when(&r.created_at)
                        .get(..16)
                        .unwrap_or("")
                        .to_string(),
                ])
                .style(row_style(theme, i, self.selected, focused))
            })
            .collect();
        if rows.is_empty() {
            let text = match (&self.problem, self.can_decide) {
                (Some(p), _) => Line::styled(p.clone(), theme.error()),
                (None, true) if self.filter.is_empty() => {
                    Line::styled("Nothing waiting for you.", theme.muted())
                }
                (None, true) => {
                    Line::styled(format!("Nothing matches `{}`.", self.filter), theme.muted())
                }
                (None, false) => Line::styled(
                    format!(
                        "Only data admins decide requests; you are {}. Your own requests are in :requests.",
                        self.who
                    ),
                    theme.muted(),
                ),
            };
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), list);
        } else {
            let table = Table::new(
                rows,
                [
                    Constraint::Length(1),
                    Constraint::Length(5),
                    Constraint::Length(10),
                    Constraint::Min(20),
                    Constraint::Length(16),
                ],
            )
            .header(Row::new(vec!["", "#", "requester", "request", "since"]).style(theme.muted()));
            frame.render_widget(table, list);
        }
        self.render_detail(frame, detail, cx);
        let bottom_line = match &self.modal {
            Some(Modal::Opinion {
                approve,
                ids,
                input,
                error,
            }) => {
                let what = if ids.len() == 1 {
                    format!("#{}", ids[0])
                } else {
                    format!("{} requests", ids.len())
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
            None if self.can_decide => vec![
                hints(
                    theme,
                    &[
                        ("a", "approve"),
                        ("r", "reject"),
                        ("Space", "mark"),
                        ("A", "approve marked"),
                        ("/", "filter"),
                        ("Esc", "back"),
                    ],
                ),
                Line::raw(""),
            ],
            None => vec![hints(theme, &[("/", "filter"), ("Esc", "back")])],
        };
        frame.render_widget(Paragraph::new(bottom_line), bottom);
    }
}
