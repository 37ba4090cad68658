//! `:requests` — my own requests in two tabs, in progress and finished, with a detail pane
//! that shows the workflow history (`detail.rs`) and scrolls (PgDn/PgUp, C-d/C-u). `w` withdraws a pending request after a
//! confirmation; `n` opens the permission request form (`modal.rs`); `list.rs` draws the
//! tabs and the list.

mod detail;
mod list;
mod modal;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Paragraph;
use weir_app::governance::{Request, RequestFilter, RequestState};
use weir_app::store_link::StoreLink;

use super::error_text;
use super::listing::Listing;
use super::perm_form::PermForm;
use super::scroll::DetailScroll;
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::{Context, Screen};
use detail::History;
use modal::Modal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    InProgress,
    Finished,
}

pub struct MyRequests {
    tab: Tab,
    list: Listing<Request>,
    /// The history of the selected request and my rights now (None: not read yet).
    history: Option<History>,
    modal: Option<Modal>,
    /// Where the detail pane is scrolled to.
    scroll: DetailScroll,
    problem: Option<String>,
    /// (in progress, finished).
    counts: (usize, usize),
}

impl MyRequests {
    pub fn new(cx: &Context) -> MyRequests {
        let mut s = MyRequests {
            tab: Tab::InProgress,
            list: Listing::new(list::haystack),
            history: None,
            modal: None,
            scroll: DetailScroll::default(),
            problem: None,
            counts: (0, 0),
        };
        s.reload(cx);
        s
    }

    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else { return };
        let gov = link.gov();
        let read = link.call(async {
            let open = gov.my_requests(RequestFilter::InProgress).await?;
            let done = gov.my_requests(RequestFilter::Finished).await?;
            Ok::<_, weir_app::AppError>((open, done))
        });
        match read {
            Ok((open, mut done)) => {
                self.counts = (open.len(), done.len());
                // the newest decisions first
                done.reverse();
                let items = match self.tab {
                    Tab::InProgress => open,
                    Tab::Finished => done,
                };
                self.list.replace(items, |a, b| a.id == b.id);
                self.problem = None;
            }
            Err(e) => {
                self.list.clamp();
                self.problem = Some(error_text(&e));
            }
        }
        self.history = None;
        self.read_history(link);
    }

    /// Read the history of the selected request, unless it is read already.
    fn read_history(&mut self, link: &StoreLink) {
        let Some(id) = self.list.current().map(|r| r.id) else {
            self.history = None;
            return;
        };
        if self.history.as_ref().is_some_and(|h| h.id == id) {
            return;
        }
        self.history = Some(link.call(detail::read(link.gov(), id)));
    }

    fn switch(&mut self, tab: Tab, cx: &Context) {
        if self.tab != tab {
            self.tab = tab;
            self.list.replace(Vec::new(), |_, _| false);
            self.reload(cx);
        }
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
        self.modal_key(key, cx)
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        if self.scroll.perform(action) {
            return Outcome::Consumed;
        }
        match action {
            "up" => self.list.up(),
            "down" => self.list.down(),
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
            "withdraw" => match self.list.current() {
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
            ("scroll-down", "scroll the detail down"),
            ("scroll-up", "scroll the detail up"),
        ]
    }

    fn set_filter(&mut self, text: &str) {
        self.list.set_filter(text);
        // read for the new selection on the next turn of the loop
        self.history = None;
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        if changed && self.modal.is_none() {
            self.reload(cx);
        } else if self.history.is_none()
            && let Some(link) = cx.store
        {
            self.read_history(link);
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
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
        self.draw_tabs(frame, tabs, theme);
        let [list, detail] = super::split(body, self.list.visible().len());
        self.draw_list(frame, list, theme, focused);
        detail::draw(
            frame,
            detail,
            theme,
            (self.list.current(), self.history.as_ref()),
            &mut self.scroll,
        );
        frame.render_widget(
            Paragraph::new(self.bottom_line(theme, bottom.width)),
            bottom,
        );
        self.draw_form(frame, area, cx);
    }
}
