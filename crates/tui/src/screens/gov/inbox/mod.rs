//! `:inbox` — every request waiting for my decision (topic publications and permission
//! requests), oldest first, filterable; a detail pane with the requester, the reason and
//! exactly what approving would change; `a` Enter approves (opinion optional), `r`
//! opinion Enter rejects, Space marks requests and `A` approves the marked ones after a
//! confirmation.
//!
//! Decisions run in the background (`decide.rs`): an approval creates a published topic on
//! its Kafka cluster inside the store's transaction, which may take the cluster's timeout.
//! Meanwhile the status bar's spinner says what runs ("approving #3…", "… 2 of 3…"), the
//! rows being decided are marked `…`, and every other key works. The result, with each
//! approval's effect as `weir approve` prints it, is shown when it arrives; if someone
//! else decided first, the store's "already approved by … at …" is shown and nothing is
//! written. One batch of decisions runs at a time.
//!
//! `list.rs` draws the list, `detail.rs` reads and draws what approving changes,
//! `modal.rs` holds the opinion prompt and the bulk confirmation.

mod decide;
mod detail;
mod list;
mod modal;

use std::collections::{BTreeSet, HashMap};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Paragraph;
use weir_app::governance::{GlobalRole, Request};
use weir_app::store_link::StoreLink;

use super::error_text;
use super::listing::Listing;
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::{Context, Screen};
use decide::Deciding;
use detail::Preview;
use modal::Modal;

pub struct Inbox {
    list: Listing<Request>,
    /// What approving each request would change, read when it is first selected.
    previews: HashMap<i64, Preview>,
    /// Requests marked for a bulk approval.
    marked: BTreeSet<i64>,
    modal: Option<Modal>,
    /// Decisions running in the background.
    deciding: Option<Deciding>,
    can_decide: bool,
    who: String,
    problem: Option<String>,
}

impl Inbox {
    pub fn new(cx: &Context) -> Inbox {
        let mut inbox = Inbox {
            list: Listing::new(list::haystack),
            previews: HashMap::new(),
            marked: BTreeSet::new(),
            modal: None,
            deciding: None,
            can_decide: false,
            who: String::new(),
            problem: None,
        };
        inbox.reload(cx);
        inbox
    }

    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else { return };
        self.can_decide = link.has(GlobalRole::DataAdmin);
        self.who = link.roles().describe();
        match link.call(link.gov().inbox()) {
            Ok(items) => {
                self.list.replace(items, |a, b| a.id == b.id);
                self.problem = None;
            }
            Err(e) => self.problem = Some(error_text(&e)),
        }
        let ids: BTreeSet<i64> = self.list.items().iter().map(|r| r.id).collect();
        self.marked.retain(|id| ids.contains(id));
        self.previews.retain(|id, _| ids.contains(id));
        self.preview_current(link);
    }

    /// Read what approving the selected request would change (once per request).
    fn preview_current(&mut self, link: &StoreLink) {
        let Some(id) = self.list.current().map(|r| r.id) else {
            return;
        };
        if self.previews.contains_key(&id) {
            return;
        }
        let preview = link.call(detail::preview(link.gov(), id));
        self.previews.insert(id, preview);
    }

    /// Start deciding `ids` in the background.
    fn decide(&mut self, cx: &Context, approve: bool, ids: Vec<i64>, opinion: String) -> Outcome {
        let Some(link) = cx.store else {
            return Action::Status(Level::Error, "no metadata store".into()).into();
        };
        self.deciding = Some(Deciding::start(link, approve, ids, opinion));
        // the spinner says what runs; an older message would only distract
        Action::Status(Level::Info, String::new()).into()
    }

    /// Decisions that arrived: unmark them, read the inbox again, say what happened.
    fn decided(&mut self, cx: &Context) -> Option<Action> {
        let action = self.deciding.as_mut()?.poll()?;
        if let Some(d) = self.deciding.take() {
            self.marked.retain(|id| !d.ids().contains(id));
        }
        self.reload(cx);
        Some(action)
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

    fn busy(&self) -> bool {
        self.deciding.is_some()
    }

    fn handle_key(&mut self, key: Key, cx: &Context) -> Outcome {
        if self.modal.is_some() {
            return self.modal_key(key, cx);
        }
        Outcome::Ignored
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        let current = self.list.current().map(|r| r.id);
        match action {
            "up" => self.list.up(),
            "down" => self.list.down(),
            "refresh" => {
                self.reload(cx);
                return Action::Status(Level::Info, format!("{} waiting", self.list.items().len()))
                    .into();
            }
            "approve" | "reject" | "select" | "approve-selected" if !self.can_decide => {
                return Action::Status(
                    Level::Warning,
                    format!("only data admins decide requests; you are {}", self.who),
                )
                .into();
            }
            "approve" | "reject" | "approve-selected" if self.deciding.is_some() => {
                let what = self
                    .deciding
                    .as_ref()
                    .map(Deciding::what)
                    .unwrap_or_default();
                return Action::Status(
                    Level::Warning,
                    format!("still {what}: wait for it to finish, then decide the next"),
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
                self.list.down();
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
            self.preview_current(link);
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
        self.list.set_filter(text);
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        let done = self.decided(cx);
        if changed && self.modal.is_none() {
            self.reload(cx);
        }
        done
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let title = format!(
            " inbox · {} waiting{} ",
            self.list.items().len(),
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
        let [list, detail] = super::split(body, self.list.visible().len());
        self.draw_list(frame, list, theme, focused);
        let current = self.list.current();
        let preview = current.and_then(|r| self.previews.get(&r.id));
        detail::draw(frame, detail, theme, current, preview);
        frame.render_widget(Paragraph::new(self.bottom_lines(theme)), bottom);
    }
}
