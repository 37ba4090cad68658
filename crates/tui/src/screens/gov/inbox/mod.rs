//! `:inbox` — every request waiting for my decision (topic publications and permission
//! requests for data admins, release requests for system admins: the store lists what
//! each may decide), oldest first, filterable; a detail pane with the requester, the
//! reason and exactly what approving would change (for a release, the hash and the diff
//! against the live version; `d` opens the full diff view in the inbox's place); `a`
//! Enter approves (opinion optional; a release bound to the hash shown), `r` opinion
//! Enter rejects, PgDn/PgUp (C-d/C-u) scroll the detail, Space marks requests and `A`
//! approves the marked ones after a confirmation.
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
use super::scroll::DetailScroll;
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::jobs::diff::DiffScreen;
use crate::screens::{Context, Screen};
use decide::{Bound, Deciding};
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
    /// Where the detail pane is scrolled to.
    scroll: DetailScroll,
    /// The full diff of a release request, shown in the inbox's place while open.
    diff: Option<Box<DiffScreen>>,
    /// Data admins decide publications and permissions, system admins releases.
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
            scroll: DetailScroll::default(),
            diff: None,
            can_decide: false,
            who: String::new(),
            problem: None,
        };
        inbox.reload(cx);
        inbox
    }

    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else { return };
        self.can_decide = link.has(GlobalRole::DataAdmin) || link.has(GlobalRole::SystemAdmin);
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
        // releases are approved bound to the hash their detail showed
        let releases = ids
            .iter()
            .filter_map(|id| {
                let rel = self.previews.get(id)?.release.as_ref()?;
                let bound = Bound {
                    hash: rel.hash.clone(),
                    what: rel.what(),
                };
                Some((*id, bound))
            })
            .collect();
        self.deciding = Some(Deciding::start(link, approve, ids, opinion, releases));
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

    /// `d`: the full diff of the selected release request against the live version.
    fn open_diff(&mut self, cx: &Context) -> Outcome {
        let Some(r) = self.list.current() else {
            return Action::Status(Level::Info, "the inbox is empty".into()).into();
        };
        let release = self.previews.get(&r.id).and_then(|p| p.release.as_ref());
        match release.map(|rel| &rel.review) {
            Some(Ok(review)) => {
                self.diff = Some(Box::new(DiffScreen::new(review.diff.clone(), cx)));
                Outcome::Consumed
            }
            Some(Err(why)) => Action::Status(Level::Error, why.clone()).into(),
            None => Action::Status(
                Level::Info,
                format!(
                    "#{} is not a release request: its detail says what changes",
                    r.id
                ),
            )
            .into(),
        }
    }
}

impl Screen for Inbox {
    fn name(&self) -> &'static str {
        "inbox"
    }

    fn crumbs(&self) -> Vec<String> {
        match &self.diff {
            Some(d) => d.crumbs(),
            None => vec!["inbox".into()],
        }
    }

    fn context(&self) -> &'static str {
        match &self.diff {
            Some(d) => d.context(),
            None => "inbox",
        }
    }

    fn captures_text(&self) -> bool {
        self.modal.is_some()
    }

    fn mode(&self) -> &'static str {
        match self.modal {
            Some(Modal::Opinion { .. }) => "INPUT",
            Some(Modal::ConfirmBulk { .. }) => "CONFIRM",
            None if self.diff.is_some() => "DIFF",
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
        match self.diff.as_mut() {
            Some(d) => d.handle_key(key, cx),
            None => Outcome::Ignored,
        }
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        if let Some(d) = self.diff.as_mut() {
            return match d.perform(action, cx) {
                Outcome::Action(Action::Back) => {
                    self.diff = None;
                    Outcome::Consumed
                }
                other => other,
            };
        }
        let current = self.list.current().map(|r| r.id);
        if self.scroll.perform(action) {
            return Outcome::Consumed;
        }
        match action {
            "diff" => return self.open_diff(cx),
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
        if let Some(d) = &self.diff {
            return d.actions();
        }
        let mut v = vec![
            ("refresh", "read the inbox again"),
            ("diff", "the full diff of the selected release request"),
            ("scroll-down", "scroll the detail down"),
            ("scroll-up", "scroll the detail up"),
        ];
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
        match self.diff.as_mut() {
            Some(d) => d.set_filter(text),
            None => self.list.set_filter(text),
        }
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        let done = self.decided(cx);
        if changed && self.modal.is_none() {
            self.reload(cx);
        }
        done
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        if let Some(d) = self.diff.as_mut() {
            d.render(frame, area, cx, focused);
            return;
        }
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
        // the prompt or the keys: as many lines as they take
        let bottom_lines = self.bottom_lines(theme, inner.width);
        let [body, bottom] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(bottom_lines.len() as u16),
        ])
        .areas(inner);
        let [list, detail] = super::split(body, self.list.visible().len());
        self.draw_list(frame, list, theme, focused);
        let current = self.list.current();
        let preview = current.and_then(|r| self.previews.get(&r.id));
        detail::draw(frame, detail, theme, (current, preview), &mut self.scroll);
        frame.render_widget(Paragraph::new(bottom_lines), bottom);
    }
}
