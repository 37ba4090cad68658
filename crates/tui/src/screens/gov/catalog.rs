//! `:topics`, the catalog (SPEC R-topic): data sources → their topics (Kafka: the catalog
//! topics published there, with their state) or tables (mysql/postgres: read live from
//! the test endpoint in the background), and topics still in design under their project.
//! Designing a topic checks the name rule as you type; `p`/`P` publish to test/prod on a
//! chosen Kafka data source; `r` opens the permission request form for the selected table
//! or topic; `g` opens `:grants`. What the user's roles do not allow is not offered; the
//! store checks every role again.

mod topic_form;
mod tree;

use std::collections::{BTreeMap, BTreeSet};

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};
use weir_store::{
    DataSourceKind, Env, GlobalRole, ProjectRole, RequestDetail, RequestState, TopicState,
};

use super::perm_form::{PermEvent, PermForm};
use super::{clamp, hints, row_style};
use crate::app::AppError;
use crate::app::catalog::TableInfo;
use crate::tui::action::{Action, Level, Outcome};
use crate::tui::keys::Key;
use crate::tui::overlay::centered;
use crate::tui::screens::{Context, Screen};
use crate::tui::store_link::{Pending, StoreLink};
use topic_form::TopicEditor;
use tree::{Node, PendingPublication, Row, Tables, World, relational};

/// Choosing the Kafka data source a topic is published to.
struct Publish {
    topic: String,
    env: Env,
    choices: Vec<String>,
    at: usize,
}

enum Mode {
    Tree,
    Edit(Box<TopicEditor>),
    Publish(Publish),
    Perm(Box<PermForm>),
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
type NamedResult = Result<Vec<(String, String)>, String>;

pub struct Catalog {
    world: World,
    rows: Vec<Row>,
    folded: BTreeSet<String>,
    selected: usize,
    filter: String,
    mode: Mode,
    caps: Caps,
    problem: Option<String>,
    reading: Vec<(String, Pending<TablesResult>)>,
    naming: Option<Pending<NamedResult>>,
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
            rows: Vec::new(),
            folded: BTreeSet::new(),
            selected: 0,
            filter: String::new(),
            mode: Mode::Tree,
            caps: Caps::default(),
            problem: None,
            reading: Vec::new(),
            naming: None,
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
        let s = &link.gov().session;
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
            Ok::<_, weir_store::StoreError>((sources, topics, pending))
        });
        match read {
            Ok((sources, topics, pending)) => {
                self.world.sources = sources;
                self.world.topics = topics;
                self.world.pending = pending;
                self.problem = None;
            }
            Err(e) => self.problem = Some(format!("cannot read the catalog: {e}")),
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
            let Ok(ep) = crate::app::governance::endpoint_of(ds, Env::Test) else {
                self.world.tables.insert(
                    ds.name.clone(),
                    Tables::NotListed("no test address: tables are read from test".into()),
                );
                continue;
            };
            let pending =
                link.spawn(move |_| async move { crate::app::catalog::tables(&ep).await });
            self.world.tables.insert(ds.name.clone(), Tables::Loading);
            self.reading.push((ds.name.clone(), pending));
        }
        self.naming = Some(link.spawn(|gov| async move {
            crate::app::tables::known_tables(&gov.session, &[])
                .await
                .map(|ts| {
                    ts.into_iter()
                        .map(|t| (t.target.datasource, t.target.table))
                        .collect()
                })
                .map_err(|e| e.to_string())
        }));
        self.rebuild();
    }

    /// The rows from the world, keeping the selected node.
    fn rebuild(&mut self) {
        let keep = self.current().cloned();
        self.rows = self.world.rows(&self.folded, &self.filter);
        if let Some(k) = keep
            && let Some(i) = self.rows.iter().position(|r| same(&r.node, &k))
        {
            self.selected = i;
        }
        self.selected = clamp(self.selected, self.rows.len());
    }

    fn current(&self) -> Option<&Node> {
        self.rows.get(self.selected).map(|r| &r.node)
    }

    fn select(&mut self, node: &Node) {
        if let Some(i) = self.rows.iter().position(|r| same(&r.node, node)) {
            self.selected = i;
        }
    }

    /// The selected topic.
    fn topic(&self) -> Option<&weir_store::Topic> {
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

    fn new_topic(&mut self) -> Outcome {
        if self.caps.design.is_empty() {
            return Self::status(Level::Warning, self.read_only_note());
        }
        let preferred = match self.current() {
            Some(Node::Group(p)) => Some(p.clone()),
            Some(Node::Topic(t, _)) => self.world.topic(t).map(|t| t.project.clone()),
            _ => None,
        };
        let ed = TopicEditor::new(&self.caps.design, preferred.as_deref(), None);
        self.mode = Mode::Edit(Box::new(ed));
        Outcome::Consumed
    }

    fn edit_topic(&mut self) -> Outcome {
        let Some(t) = self.topic() else {
            return Self::status(Level::Info, "select a topic to edit");
        };
        if !self.caps.design.contains(&t.project) {
            return Self::status(
                Level::Warning,
                format!(
                    "topic {} belongs to project {}, where you do not design topics; you are {}",
                    t.name, t.project, self.caps.who
                ),
            );
        }
        if t.state != TopicState::Design {
            return Self::status(
                Level::Warning,
                format!(
                    "topic {} is {}; only a topic in design can be edited",
                    t.name,
                    t.state.as_str()
                ),
            );
        }
        let ed = TopicEditor::new(&self.caps.design, None, Some(t));
        self.mode = Mode::Edit(Box::new(ed));
        Outcome::Consumed
    }

    fn submit_topic(&mut self, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let Mode::Edit(ed) = &mut self.mode else {
            return Outcome::Consumed;
        };
        ed.form.clear_errors();
        let taken: Vec<String> = self.world.topics.iter().map(|t| t.name.clone()).collect();
        ed.check_name(&taken);
        if ed.form.has_errors() {
            return Outcome::Consumed;
        }
        let spec = match ed.spec() {
            Ok(s) => s,
            Err((key, msg)) => {
                ed.place_error(Some(key), msg);
                return Outcome::Consumed;
            }
        };
        let s = &link.gov().session;
        let result = match &ed.editing {
            Some(old) => link.call(s.update_topic(old, &spec)),
            None => link.call(s.create_topic(&spec)),
        };
        match result {
            Ok(t) => {
                let verb = if ed.editing.is_some() {
                    "updated"
                } else {
                    "created"
                };
                self.mode = Mode::Tree;
                self.folded.remove(&format!("design:{}", t.project));
                self.reload(cx);
                self.select(&Node::Topic(t.name.clone(), None));
                Action::StoreWritten(
                    Level::Ok,
                    format!(
                        "{verb} topic {} in {} (state: {})",
                        t.name,
                        t.project,
                        t.state.as_str()
                    ),
                )
                .into()
            }
            Err(e) => {
                ed.show_store_error(&e.to_string());
                Outcome::Consumed
            }
        }
    }

    fn publish(&mut self, env: Env) -> Outcome {
        let Some(t) = self.topic() else {
            return Self::status(Level::Info, "select a topic to publish");
        };
        if !self.caps.design.contains(&t.project) {
            return Self::status(
                Level::Warning,
                format!(
                    "topics of project {} are published by its project admins and developers; you are {}",
                    t.project, self.caps.who
                ),
            );
        }
        let from = match env {
            Env::Prod => TopicState::Test,
            _ => TopicState::Design,
        };
        if t.state != from {
            return Self::status(
                Level::Warning,
                format!(
                    "topic {} is {}; publishing to {} needs it in {}",
                    t.name,
                    t.state.as_str(),
                    env.as_str(),
                    from.as_str()
                ),
            );
        }
        let choices: Vec<String> = self
            .world
            .sources
            .iter()
            .filter(|d| {
                d.kind == DataSourceKind::Kafka
                    && match env {
                        Env::Prod => d.env.has_prod(),
                        _ => d.env.has_test(),
                    }
            })
            .map(|d| d.name.clone())
            .collect();
        if choices.is_empty() {
            return Self::status(
                Level::Warning,
                format!(
                    "no kafka data source serves {}; a data admin adds one in :datasources",
                    env.as_str()
                ),
            );
        }
        // publishing to prod goes to the cluster the topic is tested on, if it serves prod
        let at = t
            .test_datasource
            .as_ref()
            .and_then(|d| choices.iter().position(|c| c == d))
            .unwrap_or(0);
        self.mode = Mode::Publish(Publish {
            topic: t.name.clone(),
            env,
            choices,
            at,
        });
        Outcome::Consumed
    }

    fn send_publication(&mut self, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let Mode::Publish(p) = std::mem::replace(&mut self.mode, Mode::Tree) else {
            return Outcome::Consumed;
        };
        let Some(ds) = p.choices.get(p.at) else {
            return Outcome::Consumed;
        };
        match link.call(link.gov().session.publish_topic(&p.topic, p.env, ds)) {
            Ok(r) => {
                self.reload(cx);
                self.select(&Node::Topic(p.topic.clone(), Some(ds.clone())));
                Action::StoreWritten(
                    Level::Ok,
                    format!(
                        "request #{} sent to data admins: publish topic {} to {} on {ds}",
                        r.id,
                        p.topic,
                        p.env.as_str()
                    ),
                )
                .into()
            }
            Err(e) => Self::status(Level::Error, e.to_string()),
        }
    }

    fn request(&mut self, cx: &Context) -> Outcome {
        if !self.caps.request {
            return Self::status(
                Level::Warning,
                format!(
                    "data admins do not request permissions; they grant them in :grants (you are {})",
                    self.caps.who
                ),
            );
        }
        let target = match self.current() {
            Some(Node::Table(ds, t, _)) => (ds.clone(), t.clone()),
            Some(Node::Topic(name, Some(ds))) => (ds.clone(), name.clone()),
            Some(Node::Topic(name, None)) => {
                return Self::status(
                    Level::Warning,
                    format!("topic {name} lives on no cluster yet; publish it first"),
                );
            }
            _ => {
                return Self::status(
                    Level::Info,
                    "select a table or topic to request permission on",
                );
            }
        };
        self.mode = Mode::Perm(Box::new(PermForm::new(cx, Some(target))));
        Outcome::Consumed
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

    fn render_tree(&self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let height = area.height as usize;
        let width = area.width as usize;
        let top = (self.selected + 1).saturating_sub(height);
        let mut lines = Vec::new();
        if self.rows.is_empty() {
            lines.push(Line::styled(
                if self.filter.is_empty() {
                    "the catalog is empty: no data sources or topics yet"
                } else {
                    "nothing matches the filter"
                },
                theme.muted(),
            ));
        }
        for (i, row) in self.rows.iter().enumerate().skip(top).take(height) {
            let (text, err) = self.world.label(row, &self.folded, width);
            let style = if i == self.selected {
                row_style(theme, i, self.selected, focused)
            } else if err {
                theme.error()
            } else {
                match &row.node {
                    Node::Source(_) | Node::Group(_) => theme.accent(),
                    Node::Note(..) => theme.muted(),
                    _ => theme.base(),
                }
            };
            let text = super::datasources::fit(&text, width);
            lines.push(Line::styled(text, style));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }

    fn render_publish(&self, p: &Publish, frame: &mut Frame, area: Rect, cx: &Context) {
        let theme = cx.theme;
        let h = (p.choices.len() as u16 + 5).min(area.height);
        let w = 56.min(area.width);
        let r = centered(area, w, h);
        frame.render_widget(Clear, r);
        let block = theme.pane(format!(" publish {} to {} ", p.topic, p.env.as_str()), true);
        let inner = block.inner(r);
        frame.render_widget(block, r);
        let mut lines = vec![Line::styled(
            format!("kafka data source serving {}:", p.env.as_str()),
            theme.muted(),
        )];
        for (i, c) in p.choices.iter().enumerate() {
            let mark = if i == p.at { "› " } else { "  " };
            lines.push(Line::styled(
                format!("{mark}{c}"),
                row_style(theme, i, p.at, true),
            ));
        }
        lines.push(Line::raw(""));
        lines.push(hints(
            theme,
            &[
                ("Enter", "send for approval"),
                ("↑↓", "choose"),
                ("Esc", "cancel"),
            ],
        ));
        frame.render_widget(Paragraph::new(lines), inner);
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
                super::form::FormEvent::Cancel => {
                    self.mode = Mode::Tree;
                    Self::status(Level::Info, "nothing saved")
                }
                super::form::FormEvent::Submit => self.submit_topic(cx),
                super::form::FormEvent::Changed("name") => {
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
            "up" => self.selected = self.selected.saturating_sub(1),
            "down" => self.selected = clamp(self.selected + 1, self.rows.len()),
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
        self.filter = text.to_string();
        self.selected = 0;
        self.rebuild();
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        let mut any = false;
        let mut i = 0;
        while i < self.reading.len() {
            let (name, pending) = &mut self.reading[i];
            let name = name.clone();
            match pending.poll() {
                Some(r) => {
                    let t = match r {
                        Ok(ts) => Tables::Loaded(ts),
                        Err(e) => Tables::Failed(e.to_string()),
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
        if changed {
            self.reload(cx);
        } else if any {
            self.rebuild();
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        if let Mode::Edit(ed) = &self.mode {
            ed.form.render(frame, area, theme, focused);
            return;
        }
        let title = if self.filter.is_empty() {
            " catalog ".to_string()
        } else {
            format!(" catalog · /{} ", self.filter)
        };
        let block = theme.pane(title, focused);
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
        self.render_tree(frame, tree_area, cx, focused);
        if let Some(node) = self.current() {
            let lines = self.world.detail(theme, node);
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
        frame.render_widget(Paragraph::new(hints(theme, &keys_list)), keys);
        match &self.mode {
            Mode::Publish(p) => self.render_publish(p, frame, area, cx),
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
