//! `:topics`, the catalog (SPEC R-topic): data sources → their topics (Kafka: the catalog
//! topics published there, with their state) or tables (mysql/postgres: read live from
//! the test endpoint in the background), and topics still in design under their project.
//! Designing a topic checks the name rule as you type; `p`/`P` publish to test/prod on a
//! chosen Kafka data source; `r` opens the permission request form for the selected table
//! or topic; `g` opens `:grants`. What the user's roles do not allow is not offered; the
//! store checks every role again.
//!
//! `tree.rs` turns what the store and the data sources say into the rows of the tree,
//! `list.rs` draws them, `detail.rs` describes the selected row, `form.rs` is the topic
//! design form and `modal.rs` the publication chooser and the permission request form.

mod detail;
mod form;
mod list;
mod modal;
mod tree;

use std::collections::{BTreeMap, BTreeSet};

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};
use weir_app::AppError;
use weir_app::catalog::TableInfo;
use weir_app::governance::{
    DataSourceKind, Env, GlobalRole, ProjectRole, RequestDetail, RequestState, Topic, TopicState,
};
use weir_app::store_link::{Pending, StoreLink};

use super::footer::footer;
use super::form::FormEvent;
use super::listing::Listing;
use super::perm_form::PermEvent;
use super::{clamp, error_text};
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::overlay::centered;
use crate::screens::{Context, Screen};
use form::TopicEditor;
use modal::{Publish, Publishing, draw_publish};
use tree::{Node, PendingPublication, Row, Tables, World, relational};

enum Mode {
    Tree,
    Edit(Box<TopicEditor>),
    Publish(Publish),
    Perm(Box<super::perm_form::PermForm>),
}

/// What the acting user may do here.
#[derive(Default)]
struct Caps {
    /// Projects the user designs and publishes topics in (project admin, developer).
    design: Vec<String>,
    /// May request permissions (registered, not a data admin).
    request: bool,
    /// Data admin or system admin: authorization.
    grants: bool,
    who: String,
}

type TablesResult = Result<Vec<TableInfo>, AppError>;
type NamedResult = Result<Vec<(String, String)>, AppError>;

pub struct Catalog {
    world: World,
    /// The rows of the tree (filtered by the world, hence prefiltered here).
    list: Listing<Row>,
    folded: BTreeSet<String>,
    mode: Mode,
    caps: Caps,
    problem: Option<String>,
    /// Tables of relational data sources being read.
    reading: Vec<(String, Pending<TablesResult>)>,
    /// Tables named in grants and requests being gathered.
    naming: Option<Pending<NamedResult>>,
    /// A publication request on its way.
    publishing: Option<Publishing>,
}

fn caps(link: &StoreLink) -> Caps {
    let roles = link.roles();
    Caps {
        design: roles
            .projects
            .iter()
            .filter(|(_, r)| matches!(r, ProjectRole::ProjectAdmin | ProjectRole::Developer))
            .map(|(p, _)| p.clone())
            .collect(),
        request: roles.registered && !roles.has(GlobalRole::DataAdmin),
        grants: roles.has(GlobalRole::DataAdmin) || roles.has(GlobalRole::SystemAdmin),
        who: roles.describe(),
    }
}

impl Catalog {
    pub fn new(cx: &Context) -> Catalog {
        let mut c = Catalog {
            world: World::default(),
            list: Listing::prefiltered(),
            folded: BTreeSet::new(),
            mode: Mode::Tree,
            caps: Caps::default(),
            problem: None,
            reading: Vec::new(),
            naming: None,
            publishing: None,
        };
        c.reload(cx);
        c.introspect(cx);
        c
    }

    /// Re-read data sources, topics and pending publications, keeping the selection.
    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else {
            return;
        };
        self.caps = caps(link);
        let s = link.gov();
        let read = link.call(async {
            let sources = s.data_sources().await?;
            let topics = s.topics(None).await?;
            let mut pending = BTreeMap::new();
            let waiting = topics
                .iter()
                .any(|t| matches!(t.state, TopicState::PendingTest | TopicState::PendingProd));
            if waiting {
                for e in s.audit(0).await? {
                    if e.action != "topic.publish" {
                        continue;
                    }
                    let Ok(id) = e.object_id.parse::<i64>() else {
                        continue;
                    };
                    if let Ok((
                        r,
                        RequestDetail::TopicPublish {
                            topic,
                            env,
                            datasource,
                        },
                    )) = s.request(id).await
                        && r.state == RequestState::Pending
                    {
                        pending.insert(
                            topic,
                            PendingPublication {
                                request: id,
                                env,
                                datasource,
                            },
                        );
                    }
                }
            }
            Ok::<_, weir_app::AppError>((sources, topics, pending))
        });
        match read {
            Ok((sources, topics, pending)) => {
                self.world.sources = sources;
                self.world.topics = topics;
                self.world.pending = pending;
                self.problem = None;
            }
            Err(e) => self.problem = Some(format!("cannot read the catalog: {}", error_text(&e))),
        }
        self.rebuild();
    }

    /// Start reading the tables of every relational data source and the tables named in
    /// grants and requests, in the background.
    fn introspect(&mut self, cx: &Context) {
        let Some(link) = cx.store else {
            return;
        };
        self.reading.clear();
        self.world.tables.clear();
        for ds in &self.world.sources {
            let kind = ds.kind.name().to_ascii_lowercase();
            if !relational(ds.kind) {
                let why = if ds.kind == DataSourceKind::Kafka {
                    String::new()
                } else {
                    format!("tables are not listed for {kind}")
                };
                self.world
                    .tables
                    .insert(ds.name.clone(), Tables::NotListed(why));
                continue;
            }
            if ds.endpoint(Env::Test).is_none() {
                self.world.tables.insert(
                    ds.name.clone(),
                    Tables::NotListed("no test address: tables are read from test".into()),
                );
                continue;
            }
            let name = ds.name.clone();
            let label = format!("reading the tables of {name}…");
            // listing only reads: C-c may cancel it while it waits
            let cancelled = format!("listing the tables of {name} was cancelled (C-c)");
            let pending = link.spawn_cancellable(
                label,
                move || Err(AppError::User(cancelled)),
                move |gov, _| async move { gov.data_source_tables(&name, Env::Test).await },
            );
            self.world.tables.insert(ds.name.clone(), Tables::Loading);
            self.reading.push((ds.name.clone(), pending));
        }
        let label = "reading the tables named in grants and requests…";
        self.naming = Some(link.spawn(label, |gov, _| async move {
            gov.known_tables(&[]).await.map(|ts| {
                ts.into_iter()
                    .map(|t| (t.target.datasource, t.target.table))
                    .collect()
            })
        }));
        self.rebuild();
    }

    /// The rows from the world, keeping the selected node.
    fn rebuild(&mut self) {
        let rows = self.world.rows(&self.folded, self.list.filter());
        self.list.replace(rows, |a, b| same(&a.node, &b.node));
    }

    fn current(&self) -> Option<&Node> {
        self.list.current().map(|r| &r.node)
    }

    fn select(&mut self, node: &Node) {
        self.list.select_where(|r| same(&r.node, node));
    }

    /// The selected topic.
    fn topic(&self) -> Option<&Topic> {
        match self.current() {
            Some(Node::Topic(name, _)) => self.world.topic(name),
            _ => None,
        }
    }

    fn status(level: Level, msg: impl Into<String>) -> Outcome {
        Action::Status(level, msg.into()).into()
    }

    fn read_only_note(&self) -> String {
        format!(
            "read-only: project admins and developers design and publish topics; you are {}",
            self.caps.who
        )
    }

    fn toggle_fold(&mut self) {
        let key = match self.current() {
            Some(Node::Source(name)) => name.clone(),
            Some(Node::Group(p)) => format!("design:{p}"),
            _ => return,
        };
        if !self.folded.remove(&key) {
            self.folded.insert(key);
        }
        self.rebuild();
    }

    /// Collect the tables read in the background; whether anything arrived.
    fn collect_tables(&mut self) -> bool {
        let mut any = false;
        let mut i = 0;
        while i < self.reading.len() {
            let (name, pending) = &mut self.reading[i];
            let name = name.clone();
            match pending.poll() {
                Some(r) => {
                    let t = match r {
                        Ok(ts) => Tables::Loaded(ts),
                        Err(e) => Tables::Failed(error_text(&e)),
                    };
                    self.world.tables.insert(name, t);
                    self.reading.remove(i);
                    any = true;
                }
                None if !pending.running() => {
                    self.world
                        .tables
                        .insert(name, Tables::Failed("reading the tables stopped".into()));
                    self.reading.remove(i);
                    any = true;
                }
                None => i += 1,
            }
        }
        if let Some(p) = &mut self.naming
            && let Some(r) = p.poll()
        {
            self.naming = None;
            any = true;
            match r {
                Ok(pairs) => {
                    self.world.named.clear();
                    for (ds, t) in pairs {
                        self.world.named.entry(ds).or_default().insert(t);
                    }
                }
                Err(e) => tracing::warn!("tables named in grants and requests: {e}"),
            }
        }
        any
    }
}

/// Two nodes are the same entry (a table keeps its place whether listed live or named).
fn same(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Table(d1, t1, _), Node::Table(d2, t2, _)) => d1 == d2 && t1 == t2,
        (Node::Topic(t1, _), Node::Topic(t2, _)) => t1 == t2,
        _ => a == b,
    }
}

impl Screen for Catalog {
    fn name(&self) -> &'static str {
        "topics"
    }

    fn crumbs(&self) -> Vec<String> {
        let mut c = vec!["topics".to_string()];
        match &self.mode {
            Mode::Edit(ed) => c.push(ed.editing.clone().unwrap_or_else(|| "new".into())),
            Mode::Publish(p) => c.push(p.topic.clone()),
            Mode::Perm(_) => c.push("request".into()),
            Mode::Tree => {}
        }
        c
    }

    fn context(&self) -> &'static str {
        "catalog"
    }

    fn captures_text(&self) -> bool {
        !matches!(self.mode, Mode::Tree)
    }

    fn unsaved(&self) -> bool {
        matches!(self.mode, Mode::Edit(_) | Mode::Perm(_))
    }

    fn mode(&self) -> &'static str {
        match self.mode {
            Mode::Tree => "NORMAL",
            Mode::Edit(_) | Mode::Perm(_) => "EDIT",
            Mode::Publish(_) => "CHOOSE",
        }
    }

    fn handle_key(&mut self, key: Key, cx: &Context) -> Outcome {
        match &mut self.mode {
            Mode::Tree => Outcome::Ignored,
            Mode::Perm(form) => match form.handle_key(key, cx) {
                PermEvent::Consumed => Outcome::Consumed,
                PermEvent::Cancelled => {
                    self.mode = Mode::Tree;
                    Self::status(Level::Info, "no request sent")
                }
                PermEvent::Submitted(msg) => {
                    self.mode = Mode::Tree;
                    Action::StoreWritten(Level::Ok, msg).into()
                }
            },
            Mode::Publish(p) => {
                match key.code {
                    KeyCode::Up | KeyCode::Char('k') => p.at = p.at.saturating_sub(1),
                    KeyCode::Down | KeyCode::Char('j') => p.at = clamp(p.at + 1, p.choices.len()),
                    KeyCode::Enter => return self.send_publication(cx),
                    KeyCode::Esc => {
                        self.mode = Mode::Tree;
                        return Self::status(Level::Info, "not published");
                    }
                    _ => {}
                }
                Outcome::Consumed
            }
            Mode::Edit(ed) => match ed.form.handle_key(key) {
                FormEvent::Cancel => {
                    self.mode = Mode::Tree;
                    Self::status(Level::Info, "nothing saved")
                }
                FormEvent::Submit => self.submit_topic(cx),
                FormEvent::Changed("name") => {
                    let taken: Vec<String> =
                        self.world.topics.iter().map(|t| t.name.clone()).collect();
                    ed.check_name(&taken);
                    Outcome::Consumed
                }
                _ => Outcome::Consumed,
            },
        }
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        match action {
            "up" => self.list.up(),
            "down" => self.list.down(),
            "open" => self.toggle_fold(),
            "new-topic" => return self.new_topic(),
            "edit-topic" => return self.edit_topic(),
            "publish-test" => return self.publish(Env::Test),
            "publish-prod" => return self.publish(Env::Prod),
            "request" => return self.request(cx),
            "grants" => {
                if !self.caps.grants {
                    return Self::status(
                        Level::Warning,
                        format!(
                            "authorization is for data admins and system admins; you are {}",
                            self.caps.who
                        ),
                    );
                }
                return Action::Open("grants").into();
            }
            "refresh" => {
                self.reload(cx);
                self.introspect(cx);
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        let mut a = vec![("open", "fold the data source / show the entry")];
        if !self.caps.design.is_empty() {
            a.push(("new-topic", "design a new topic"));
            a.push(("edit-topic", "edit the selected topic (design only)"));
            a.push(("publish-test", "publish the topic to test"));
            a.push(("publish-prod", "publish the topic to production"));
        }
        if self.caps.request {
            a.push(("request", "request permission on the selected table/topic"));
        }
        if self.caps.grants {
            a.push(("grants", "authorization of the selected table/topic"));
        }
        a.push(("refresh", "read the catalog again"));
        a
    }

    fn set_filter(&mut self, text: &str) {
        self.list.set_filter(text);
        self.rebuild();
    }

    fn busy(&self) -> bool {
        self.publishing.is_some()
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        let any = self.collect_tables();
        let published = self.published(cx);
        if changed {
            self.reload(cx);
        } else if any {
            self.rebuild();
        }
        published
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        if let Mode::Edit(ed) = &self.mode {
            ed.form.render(frame, area, theme, focused);
            return;
        }
        let block = theme.pane(self.list.title("catalog"), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let note = self
            .problem
            .clone()
            .or_else(|| self.caps.design.is_empty().then(|| self.read_only_note()));
        let [body, note_area, keys] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(u16::from(note.is_some())),
            Constraint::Length(1),
        ])
        .areas(inner);
        let tree_w = (body.width * 2 / 5).clamp(20.min(body.width), 44);
        let [tree_area, _, detail_area] = Layout::horizontal([
            Constraint::Length(tree_w),
            Constraint::Length(1),
            Constraint::Min(10),
        ])
        .areas(body);
        self.draw_tree(frame, tree_area, theme, focused);
        if let Some(node) = self.current() {
            let lines = crate::printable::lines(self.world.detail(theme, node));
            frame.render_widget(
                Paragraph::new(lines).wrap(Wrap { trim: false }),
                detail_area,
            );
        }
        if let Some(n) = note {
            let style = if self.problem.is_some() {
                theme.error()
            } else {
                theme.muted()
            };
            frame.render_widget(Paragraph::new(Line::styled(n, style)), note_area);
        }
        let mut keys_list: Vec<(&str, &str)> = vec![("Enter", "fold")];
        if !self.caps.design.is_empty() {
            keys_list.extend([("n", "new"), ("e", "edit"), ("p/P", "publish test/prod")]);
        }
        if self.caps.request {
            keys_list.push(("r", "request"));
        }
        if self.caps.grants {
            keys_list.push(("g", "grants"));
        }
        keys_list.extend([("R", "reload"), ("/", "filter")]);
        frame.render_widget(Paragraph::new(footer(theme, &keys_list, keys.width)), keys);
        match &self.mode {
            Mode::Publish(p) => draw_publish(p, frame, area, theme),
            Mode::Perm(form) => {
                let r = centered(
                    area,
                    area.width.saturating_sub(2),
                    area.height.saturating_sub(2),
                );
                frame.render_widget(Clear, r);
                form.render(frame, r, cx, focused);
            }
            _ => {}
        }
    }
}
