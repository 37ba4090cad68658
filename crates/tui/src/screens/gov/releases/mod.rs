//! `:releases` (SPEC R-life) — every release, newest first, in tabs by state (all,
//! pending, approved, live, ended) and filterable with `/` (`list.rs`); a detail pane with
//! the release's data and its diff against the job's live version (`detail.rs`, the
//! diff in a few lines from `summary.rs`). Keys:
//! - `g` takes an approved release live with a form: parallelism, memory, start
//!   position, parameters, checked as they are typed (`golive.rs`);
//! - `o` takes a live release offline, `w` withdraws my pending release request (both
//!   after a y/n question), `a` approves a pending release bound to the hash shown (for
//!   system admins; the inbox is the usual place), `R` requests the release of a job's
//!   latest version (or another) with a note (`modal.rs`);
//! - `d` (or Enter) opens the full diff view in this screen's place; `q`/Esc closes it.
//!
//! Writes run in the background through the store link (`jobs::work::Work`): the status
//! bar's spinner says what runs and then what happened ("release #7 is live: production
//! instance #3 …"), or the store's refusal as the store words it, naming its rule (not
//! approved, an archived project, not a developer of the project).

mod detail;
mod golive;
mod list;
mod modal;
pub mod summary;

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Paragraph;
use weir_app::governance::GlobalRole;
use weir_app::jobs::{Release, ReleaseFilter, ReleaseReview, ReleaseState};
use weir_app::store_link::StoreLink;

use super::error_text;
use super::listing::Listing;
use super::scroll::DetailScroll;
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::jobs::diff::DiffScreen;
use crate::screens::jobs::work::Work;
use crate::screens::{Context, Screen};
use modal::Modal;

/// The state tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tab {
    All,
    Pending,
    Approved,
    Live,
    /// Rejected, withdrawn, offline or replaced.
    Ended,
}

impl Tab {
    const ALL: [Tab; 5] = [Tab::All, Tab::Pending, Tab::Approved, Tab::Live, Tab::Ended];

    fn label(self) -> &'static str {
        match self {
            Tab::All => "all",
            Tab::Pending => "pending",
            Tab::Approved => "approved",
            Tab::Live => "live",
            Tab::Ended => "ended",
        }
    }

    /// The tab a `tab-…` action names.
    fn of_action(action: &str) -> Option<Tab> {
        let name = action.strip_prefix("tab-")?;
        Tab::ALL.into_iter().find(|t| t.label() == name)
    }

    fn holds(self, state: ReleaseState) -> bool {
        match self {
            Tab::All => true,
            Tab::Pending => state == ReleaseState::Pending,
            Tab::Approved => state == ReleaseState::Approved,
            Tab::Live => state == ReleaseState::Live,
            Tab::Ended => matches!(
                state,
                ReleaseState::Rejected
                    | ReleaseState::Withdrawn
                    | ReleaseState::Offline
                    | ReleaseState::Replaced
            ),
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// A release's review (its diff against the live version), or why it could not be read.
enum Review {
    Read(Box<ReleaseReview>),
    Failed(String),
}

pub struct Releases {
    tab: Tab,
    /// Every release, newest first, as last read.
    all: Vec<Release>,
    /// The releases of the open tab.
    list: Listing<Release>,
    /// Reviews read so far (once per release, again when the store changes).
    reviews: HashMap<i64, Review>,
    modal: Option<Modal>,
    /// The full diff view, shown in this screen's place while open.
    diff: Option<Box<DiffScreen>>,
    /// A go-live, offline, withdrawal or approval running in the background.
    work: Option<Work>,
    /// Where the detail pane is scrolled to.
    scroll: DetailScroll,
    problem: Option<String>,
    /// The acting user's login.
    me: String,
    /// The acting user's roles in words.
    who: String,
    /// The acting user is a system admin (approves releases).
    admin: bool,
    /// The job `R` offers to release: the job open in the workbench (or selected in the
    /// tree) when the screen opened, a path under `jobs/` without `.ron`.
    job: Option<String>,
}

impl Releases {
    pub fn new(cx: &Context) -> Releases {
        let mut s = Releases {
            tab: Tab::All,
            all: Vec::new(),
            list: Listing::new(list::haystack),
            reviews: HashMap::new(),
            modal: None,
            diff: None,
            work: None,
            scroll: DetailScroll::default(),
            problem: None,
            me: String::new(),
            who: String::new(),
            admin: false,
            job: None,
        };
        s.reload(cx);
        s
    }

    /// Read every release again (reviews too: the live version may have changed).
    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else { return };
        self.me = link.login().to_string();
        self.who = link.roles().describe();
        self.admin = link.has(GlobalRole::SystemAdmin);
        match link.call(link.gov().releases(&ReleaseFilter::default())) {
            Ok(all) => {
                // the store lists them newest first
                self.all = all;
                self.problem = None;
            }
            Err(e) => self.problem = Some(format!("cannot read the releases: {}", error_text(&e))),
        }
        self.reviews.clear();
        self.fill();
        self.read_review(link);
    }

    /// The open tab's rows from every release, keeping the selection on its release.
    fn fill(&mut self) {
        let rows = self
            .all
            .iter()
            .filter(|r| self.tab.holds(r.state))
            .cloned()
            .collect();
        self.list.replace(rows, |a, b| a.id == b.id);
    }

    /// How many releases each tab holds.
    fn count(&self, tab: Tab) -> usize {
        self.all.iter().filter(|r| tab.holds(r.state)).count()
    }

    fn switch(&mut self, tab: Tab, link: Option<&StoreLink>) {
        self.tab = tab;
        self.fill();
        if let Some(link) = link {
            self.read_review(link);
        }
    }

    /// Read the selected release's review, unless it is read already.
    fn read_review(&mut self, link: &StoreLink) {
        let Some(id) = self.list.current().map(|r| r.id) else {
            return;
        };
        if self.reviews.contains_key(&id) {
            return;
        }
        let review = match link.call(link.gov().review_release(id)) {
            Ok(r) => Review::Read(Box::new(r)),
            Err(e) => Review::Failed(error_text(&e)),
        };
        self.reviews.insert(id, review);
    }

    /// The selected release's review, when read.
    fn review(&self) -> Option<&Review> {
        self.list.current().and_then(|r| self.reviews.get(&r.id))
    }

    /// `d`: the full diff of the selected release against the live version.
    fn open_diff(&mut self, cx: &Context) -> Outcome {
        let Some(r) = self.list.current() else {
            return say(Level::Info, "no release selected".into());
        };
        match self.review() {
            Some(Review::Read(review)) => {
                self.diff = Some(Box::new(DiffScreen::new(review.diff.clone(), cx)));
                Outcome::Consumed
            }
            Some(Review::Failed(why)) => say(Level::Error, why.clone()),
            None => say(
                Level::Warning,
                format!("the diff of release #{} is not read yet; try again", r.id),
            ),
        }
    }

    /// Refuse a second write while one runs.
    fn still_working(&self) -> Option<Outcome> {
        self.work
            .as_ref()
            .map(|w| say(Level::Warning, format!("still {}: wait for it", w.what())))
    }
}

fn say(level: Level, msg: String) -> Outcome {
    Action::Status(level, msg).into()
}

/// `#7 demo/clickstream_pv version 2`.
fn describe(r: &Release) -> String {
    format!("#{} {} version {}", r.id, r.job, r.version)
}

/// The first 12 characters of a content hash.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

impl Screen for Releases {
    fn name(&self) -> &'static str {
        "releases"
    }

    fn crumbs(&self) -> Vec<String> {
        match &self.diff {
            Some(d) => d.crumbs(),
            None => vec!["releases".into(), self.tab.label().into()],
        }
    }

    fn context(&self) -> &'static str {
        match &self.diff {
            Some(d) => d.context(),
            None => "releases",
        }
    }

    fn captures_text(&self) -> bool {
        self.modal.is_some()
    }

    fn unsaved(&self) -> bool {
        matches!(self.modal, Some(Modal::GoLive(_) | Modal::Request(_)))
    }

    fn mode(&self) -> &'static str {
        match (&self.modal, &self.diff) {
            (Some(Modal::GoLive(_) | Modal::Request(_)), _) => "EDIT",
            (Some(Modal::Opinion { .. }), _) => "INPUT",
            (Some(Modal::Confirm { .. }), _) => "CONFIRM",
            (None, Some(_)) => "DIFF",
            (None, None) => "NORMAL",
        }
    }

    fn busy(&self) -> bool {
        self.work.is_some()
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
        if matches!(action, "go-live" | "offline" | "withdraw" | "approve")
            && let Some(out) = self.still_working()
        {
            return out;
        }
        if self.scroll.perform(action) {
            return Outcome::Consumed;
        }
        match action {
            "up" => self.list.up(),
            "down" => self.list.down(),
            "next-tab" | "prev-tab" => {
                let step = if action == "next-tab" {
                    1
                } else {
                    Tab::ALL.len() - 1
                };
                let tab = Tab::ALL[(self.tab.index() + step) % Tab::ALL.len()];
                self.switch(tab, cx.store);
            }
            "refresh" => {
                self.reload(cx);
                return say(Level::Info, format!("{} releases", self.all.len()));
            }
            "diff" => return self.open_diff(cx),
            "go-live" => return self.open_go_live(),
            "offline" => return self.ask_offline(),
            "withdraw" => return self.ask_withdraw(),
            "approve" => return self.open_opinion(),
            "request-release" => return self.open_request(cx),
            other => match Tab::of_action(other) {
                Some(tab) => self.switch(tab, cx.store),
                None => return Outcome::Ignored,
            },
        }
        if let Some(link) = cx.store {
            self.read_review(link);
        }
        Outcome::Consumed
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        if let Some(d) = &self.diff {
            return d.actions();
        }
        let mut v = vec![
            (
                "go-live",
                "take the approved release live (a production instance)",
            ),
            ("offline", "take the live release offline"),
            (
                "diff",
                "the full diff of the release against the live version",
            ),
            ("withdraw", "withdraw my pending release request"),
            (
                "request-release",
                "request the release of a job's latest version, with a note",
            ),
            ("tab-all", "every release"),
            ("tab-pending", "releases waiting for approval"),
            ("tab-approved", "approved releases, ready to go live"),
            ("tab-live", "the live releases"),
            (
                "tab-ended",
                "rejected, withdrawn, offline and replaced releases",
            ),
            ("refresh", "read the releases again"),
            ("scroll-down", "scroll the detail down"),
            ("scroll-up", "scroll the detail up"),
        ];
        if self.admin {
            v.insert(
                4,
                ("approve", "approve the pending release, bound to its hash"),
            );
        }
        v
    }

    fn set_filter(&mut self, text: &str) {
        match self.diff.as_mut() {
            Some(d) => d.set_filter(text),
            None => self.list.set_filter(text),
        }
    }

    /// The job open in the workbench (or selected in the tree): what `R` releases.
    fn reveal(&mut self, rel: &str) {
        let path = rel.trim_end_matches(".ron").trim_matches('/');
        self.job = (!path.is_empty()).then(|| path.to_string());
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        if let Some(action) = self.work.as_mut().and_then(Work::poll) {
            self.work = None;
            self.reload(cx);
            return Some(action);
        }
        if changed && self.modal.is_none() {
            self.reload(cx);
        } else if let Some(link) = cx.store {
            // a new filter or selection: read its review on the next turn
            self.read_review(link);
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        if let Some(d) = self.diff.as_mut() {
            d.render(frame, area, cx, focused);
            return;
        }
        let theme = cx.theme;
        let block = theme.pane(self.list.title("releases"), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [tabs, body, bottom] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(2),
        ])
        .areas(inner);
        self.draw_tabs(frame, tabs, theme);
        let [list, detail] = super::split(body, self.list.visible().len());
        self.draw_list(frame, list, theme, focused);
        self.draw_detail(frame, detail, theme);
        frame.render_widget(
            Paragraph::new(self.bottom_lines(theme, bottom.width)),
            bottom,
        );
        self.draw_form(frame, area, theme);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_hold_their_states() {
        assert!(Tab::All.holds(ReleaseState::Replaced));
        assert!(Tab::Pending.holds(ReleaseState::Pending));
        assert!(!Tab::Pending.holds(ReleaseState::Approved));
        for s in [
            ReleaseState::Rejected,
            ReleaseState::Withdrawn,
            ReleaseState::Offline,
            ReleaseState::Replaced,
        ] {
            assert!(Tab::Ended.holds(s), "{s:?}");
            assert!(!Tab::Live.holds(s), "{s:?}");
        }
        assert_eq!(Tab::of_action("tab-live"), Some(Tab::Live));
        assert_eq!(Tab::of_action("tab-nope"), None);
        assert_eq!(Tab::of_action("live"), None);
        assert_eq!(short("0123456789abcdef"), "0123456789ab");
        assert_eq!(short("abc"), "abc");
    }
}
