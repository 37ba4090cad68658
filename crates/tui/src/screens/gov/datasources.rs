//! `:datasources` (SPEC R-ds): every data source with its addresses, owner and the last
//! connectivity result of this session; a detail pane (credentials masked); create and
//! edit forms per kind and environment; connectivity tests in the background (`t` test,
//! `T` production) so the UI keeps responding; delete after a y/n confirmation. Only data
//! admins and system admins are offered n/e/d; the store checks the role again.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use weir_model::model::secret::masked;
use weir_store::{DataSource, DataSourceKind, DataSourceSpec, Endpoint, Env, GlobalRole};

use super::form::{Field, Form, FormEvent};
use super::{clamp, field_line, hints, matches, row_style};
use crate::app::AppError;
use crate::app::connectivity::Connectivity;
use crate::tui::action::{Action, Level, Outcome};
use crate::tui::keys::Key;
use crate::tui::screens::{Context, Screen};
use crate::tui::store_link::{Pending, StoreLink};

/// The last connectivity test of a data source in this session.
#[derive(Debug, Clone)]
enum Probe {
    Running(Env),
    Done(Env, Connectivity),
    /// The test could not start (no address for that environment, store failed).
    Failed(Env, String),
}

type TestResult = Result<(DataSource, Connectivity), AppError>;

/// An open create or edit form.
struct Editor {
    form: Form,
    /// The data source being edited (its name before the edit); None for a new one.
    editing: Option<String>,
}

enum Mode {
    List,
    Edit(Box<Editor>),
    /// Delete this data source? (y/n)
    Confirm(String),
}

pub struct DataSources {
    rows: Vec<DataSource>,
    filter: String,
    /// Index into the visible rows.
    selected: usize,
    probes: BTreeMap<String, Probe>,
    tests: Vec<(String, Env, Pending<TestResult>)>,
    mode: Mode,
    /// Why the list could not be read.
    problem: Option<String>,
    /// The actor may add, edit and delete data sources.
    can_write: bool,
    /// The actor's roles in words, for the read-only note.
    who: String,
    /// Projects an owner can be chosen from.
    projects: Vec<String>,
}

/// Every kind the store accepts, by its stored name.
fn kind_names() -> Vec<String> {
    DataSourceKind::ALL
        .into_iter()
        .map(|k| k.name().to_ascii_lowercase())
        .collect()
}

fn kind_name(k: DataSourceKind) -> String {
    k.name().to_ascii_lowercase()
}

/// What an address looks like for this kind (the form's hint).
fn address_hint(kind: &str) -> &'static str {
    match kind {
        "kafka" => "bootstrap servers: host:port[,host:port…]",
        "mysql" | "postgres" | "oracle" => "host:port; the database goes in the options",
        "redis" => "host:port; options may set {\"db\": \"0\"}",
        "http" | "elasticsearch" => "a URL, e.g. http://host:9200",
        "s3" => "the endpoint URL, e.g. https://s3.example.com",
        "hive" => "host:port of HiveServer2",
        "hbase" => "ZooKeeper quorum host:port",
        "ftp" => "host:port",
        _ => "host:port",
    }
}

const OPTIONS_HINT: &str = "a JSON object, e.g. {\"database\": \"orders\"}";

fn may_write(link: &StoreLink) -> bool {
    link.has(GlobalRole::DataAdmin) || link.has(GlobalRole::SystemAdmin)
}

/// `{…}` text of an endpoint's options ("" for none).
fn options_text(e: Option<&Endpoint>) -> String {
    match e.map(|e| &e.options) {
        Some(serde_json::Value::Object(m)) if !m.is_empty() => {
            serde_json::Value::Object(m.clone()).to_string()
        }
        _ => String::new(),
    }
}

/// `s` cut or padded to `w` columns, with `…` where it was cut.
pub(super) fn fit(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        format!("{s:<w$}")
    } else if w == 0 {
        String::new()
    } else {
        let cut: String = s.chars().take(w - 1).collect();
        format!("{cut}…")
    }
}

/// The short form of a probe for the list.
fn probe_short(p: Option<&Probe>) -> String {
    match p {
        None => "-".into(),
        Some(Probe::Running(_)) => "testing…".into(),
        Some(Probe::Done(_, c)) if c.ok => format!("ok {:.0} ms", c.latency_ms),
        Some(Probe::Done(..) | Probe::Failed(..)) => "✗ failed".into(),
    }
}

impl DataSources {
    pub fn new(cx: &Context) -> DataSources {
        let mut s = DataSources {
            rows: Vec::new(),
            filter: String::new(),
            selected: 0,
            probes: BTreeMap::new(),
            tests: Vec::new(),
            mode: Mode::List,
            problem: None,
            can_write: false,
            who: String::new(),
            projects: Vec::new(),
        };
        s.reload(cx);
        s
    }

    /// Re-read the list, the actor's roles and the projects, keeping the selection by id.
    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else {
            return;
        };
        let keep = self.current().map(|d| d.id);
        self.can_write = may_write(link);
        self.who = link.roles().describe();
        match link.call(link.gov().session.data_sources()) {
            Ok(rows) => {
                self.rows = rows;
                self.problem = None;
            }
            Err(e) => self.problem = Some(format!("cannot read the data sources: {e}")),
        }
        if let Ok(ps) = link.call(link.gov().session.projects()) {
            self.projects = ps.into_iter().map(|p| p.name).collect();
        }
        if let Some(id) = keep {
            self.select_where(|d| d.id == id);
        }
        self.selected = clamp(self.selected, self.visible().len());
    }

    fn select_where(&mut self, f: impl Fn(&DataSource) -> bool) {
        if let Some(i) = self.visible().iter().position(|d| f(d)) {
            self.selected = i;
        }
    }

    fn visible(&self) -> Vec<&DataSource> {
        self.rows
            .iter()
            .filter(|d| {
                let kind = kind_name(d.kind);
                let owner = d.owner_project.clone().unwrap_or_default();
                matches(
                    &self.filter,
                    &[&d.name, &kind, d.env.as_str(), &owner, &d.description],
                )
            })
            .collect()
    }

    fn current(&self) -> Option<&DataSource> {
        self.visible().get(self.selected).copied()
    }

    fn read_only_note(&self) -> String {
        format!(
            "read-only: data admins and system admins add and change data sources; you are {}",
            self.who
        )
    }

    fn refused(&self) -> Outcome {
        Action::Status(Level::Warning, self.read_only_note()).into()
    }

    /// The create (`ds` None) or edit form.
    fn editor(&self, ds: Option<&DataSource>) -> Editor {
        let kind = ds.map_or("mysql".to_string(), |d| kind_name(d.kind));
        let env = ds.map_or("test", |d| d.env.as_str());
        let kinds = kind_names();
        let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
        let mut owners = vec!["(none)"];
        owners.extend(self.projects.iter().map(String::as_str));
        let owner = ds
            .and_then(|d| d.owner_project.as_deref())
            .unwrap_or("(none)");
        let addr = |e: Option<&Endpoint>| e.map(|e| e.address.clone()).unwrap_or_default();
        let pw = ds
            .and_then(|d| d.password.as_ref())
            .map(|p| p.as_reference())
            .unwrap_or_default();
        let fields = vec![
            Field::text("name", "name", ds.map_or("", |d| d.name.as_str()))
                .hint("letters, digits, `_` or `-`, starting with a letter"),
            Field::choice("kind", "kind", &kinds, &kind).hint("←→ choose the kind"),
            Field::choice("env", "environments", &["test", "prod", "both"], env)
                .hint("which environments this data source serves"),
            Field::text(
                "test_address",
                "test address",
                &addr(ds.and_then(|d| d.test.as_ref())),
            ),
            Field::text(
                "test_options",
                "test options",
                &options_text(ds.and_then(|d| d.test.as_ref())),
            )
            .hint(OPTIONS_HINT),
            Field::text(
                "prod_address",
                "prod address",
                &addr(ds.and_then(|d| d.prod.as_ref())),
            ),
            Field::text(
                "prod_options",
                "prod options",
                &options_text(ds.and_then(|d| d.prod.as_ref())),
            )
            .hint(OPTIONS_HINT),
            Field::text(
                "user",
                "user",
                ds.and_then(|d| d.user.as_deref()).unwrap_or(""),
            )
            .hint("the login weir connects as (empty: none)"),
            Field::secret("password", "password", &pw)
                .hint("a reference, never the password: env:NAME or file:PATH"),
            Field::toggle("managed", "managed", ds.is_some_and(|d| d.managed))
                .hint("Space: weir may create tables and govern permissions on it"),
            Field::choice("owner", "owner project", &owners, owner),
            Field::text(
                "description",
                "description",
                ds.map_or("", |d| d.description.as_str()),
            ),
        ];
        let title = match ds {
            Some(d) => format!("edit data source {}", d.name),
            None => "new data source".to_string(),
        };
        let mut ed = Editor {
            form: Form::new(&title, fields),
            editing: ds.map(|d| d.name.clone()),
        };
        adapt(&mut ed.form);
        ed
    }

    fn submit(&mut self, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let Mode::Edit(ed) = &mut self.mode else {
            return Outcome::Consumed;
        };
        let form = &mut ed.form;
        form.clear_errors();
        let spec = match spec_of(form) {
            Ok(s) => s,
            Err((key, msg)) => {
                place_error(form, key, msg);
                return Outcome::Consumed;
            }
        };
        let s = &link.gov().session;
        let result = match &ed.editing {
            Some(old) => link.call(s.update_data_source(old, &spec)),
            None => link.call(s.add_data_source(&spec)),
        };
        match result {
            Ok(ds) => {
                let verb = if ed.editing.is_some() {
                    "updated"
                } else {
                    "added"
                };
                if let Some(old) = ed.editing.as_ref().filter(|o| **o != ds.name)
                    && let Some(p) = self.probes.remove(old)
                {
                    self.probes.insert(ds.name.clone(), p);
                }
                self.mode = Mode::List;
                self.filter.clear();
                self.reload(cx);
                let id = ds.id;
                self.select_where(|d| d.id == id);
                Action::StoreWritten(Level::Ok, format!("{verb} data source {}", ds.name)).into()
            }
            Err(e) => {
                show_store_error(form, &e.to_string());
                Outcome::Consumed
            }
        }
    }

    fn start_test(&mut self, env: Env, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let Some(ds) = self.current() else {
            return Action::Status(Level::Info, "no data source to test".into()).into();
        };
        let name = ds.name.clone();
        if matches!(self.probes.get(&name), Some(Probe::Running(_))) {
            return Action::Status(Level::Info, format!("{name} is being tested already")).into();
        }
        let task_name = name.clone();
        let pending =
            link.spawn(move |gov| async move { gov.test_data_source(&task_name, env).await });
        self.probes.insert(name.clone(), Probe::Running(env));
        self.tests.push((name.clone(), env, pending));
        Action::Status(
            Level::Info,
            format!("testing {name} ({}) in the background…", env.as_str()),
        )
        .into()
    }

    fn delete(&mut self, name: &str, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        match link.call(link.gov().session.delete_data_source(name)) {
            Ok(()) => {
                self.probes.remove(name);
                self.reload(cx);
                Action::StoreWritten(Level::Ok, format!("deleted data source {name}")).into()
            }
            Err(e) => Action::Status(Level::Error, e.to_string()).into(),
        }
    }

    fn detail_lines(&self, cx: &Context, ds: &DataSource) -> Vec<Line<'static>> {
        let theme = cx.theme;
        let ep = |e: Option<&Endpoint>| match e {
            None => "-".to_string(),
            Some(e) => {
                let o = options_text(Some(e));
                if o.is_empty() {
                    e.address.clone()
                } else {
                    format!("{}  {o}", e.address)
                }
            }
        };
        let pw = ds.password.as_ref().map(|p| p.as_reference());
        let mut lines = vec![
            Line::from(vec![
                Span::styled(ds.name.clone(), theme.accent()),
                Span::raw(format!(
                    "  {} · serves {} · {}",
                    kind_name(ds.kind),
                    ds.env.as_str(),
                    if ds.managed { "managed" } else { "not managed" }
                )),
            ]),
            field_line(theme, "description", ds.description.clone()),
            field_line(theme, "test", ep(ds.test.as_ref())),
            field_line(theme, "prod", ep(ds.prod.as_ref())),
            field_line(theme, "user", ds.user.clone().unwrap_or_else(|| "-".into())),
            field_line(theme, "password", masked(pw.as_deref())),
            field_line(
                theme,
                "owner",
                ds.owner_project.clone().unwrap_or_else(|| "-".into()),
            ),
            field_line(
                theme,
                "created",
                format!("by {} at {}", ds.created_by, ds.created_at),
            ),
        ];
        match self.probes.get(&ds.name) {
            None => lines.push(field_line(theme, "last test", "not tested yet (t / T)")),
            Some(Probe::Running(env)) => lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", "last test"), theme.muted()),
                Span::styled(format!("{}: testing…", env.as_str()), theme.warning()),
            ])),
            Some(Probe::Done(env, c)) if c.ok => {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<12}", "last test"), theme.muted()),
                    Span::styled(
                        format!("{}: ok in {:.0} ms", env.as_str(), c.latency_ms),
                        theme.ok(),
                    ),
                    Span::raw(format!(" — {}", c.checked)),
                ]));
                if let Some(n) = &c.not_checked {
                    lines.push(field_line(theme, "not checked", n.clone()));
                }
            }
            Some(Probe::Done(env, c)) => lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", "last test"), theme.muted()),
                Span::styled(
                    format!(
                        "{}: ✗ after {:.0} ms: {}",
                        env.as_str(),
                        c.latency_ms,
                        c.error.clone().unwrap_or_default()
                    ),
                    theme.error(),
                ),
            ])),
            Some(Probe::Failed(env, e)) => lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", "last test"), theme.muted()),
                Span::styled(format!("{}: ✗ {e}", env.as_str()), theme.error()),
            ])),
        }
        lines
    }

    fn render_list(&self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let rows = self.visible();
        let owner = |d: &DataSource| d.owner_project.clone().unwrap_or_else(|| "-".into());
        let col = |head: &str, f: &dyn Fn(&DataSource) -> String, max: usize| {
            rows.iter()
                .map(|d| f(d).chars().count())
                .chain([head.chars().count()])
                .max()
                .unwrap_or(0)
                .min(max)
        };
        let w_name = col("name", &|d| d.name.clone(), 20);
        let w_kind = col("kind", &|d| kind_name(d.kind), 13);
        let w_owner = col("owner", &owner, 12);
        let w_last = rows
            .iter()
            .map(|d| probe_short(self.probes.get(&d.name)).chars().count())
            .chain([9])
            .max()
            .unwrap_or(9);
        let fixed = w_name + w_kind + 4 + 3 + w_owner + w_last + 7;
        let w_addr = (area.width as usize).saturating_sub(fixed) / 2;
        let line = |cells: [String; 8]| cells.join(" ");
        let mut lines = vec![Line::styled(
            line([
                fit("name", w_name),
                fit("kind", w_kind),
                fit("env", 4),
                fit("test", w_addr),
                fit("prod", w_addr),
                fit("mgd", 3),
                fit("owner", w_owner),
                fit("last test", w_last),
            ]),
            theme.muted(),
        )];
        if rows.is_empty() {
            let text = if self.rows.is_empty() {
                if self.can_write {
                    "no data sources yet: n adds one"
                } else {
                    "no data sources yet"
                }
            } else {
                "no data source matches the filter"
            };
            lines.push(Line::styled(text, theme.muted()));
        }
        let height = area.height as usize;
        let top = (self.selected + 2).saturating_sub(height);
        for (i, d) in rows.iter().enumerate().skip(top) {
            let addr = |e: &Option<Endpoint>| e.as_ref().map_or("-".into(), |e| e.address.clone());
            let probe = self.probes.get(&d.name);
            let text = line([
                fit(&d.name, w_name),
                fit(&kind_name(d.kind), w_kind),
                fit(d.env.as_str(), 4),
                fit(&addr(&d.test), w_addr),
                fit(&addr(&d.prod), w_addr),
                fit(if d.managed { "yes" } else { "no" }, 3),
                fit(&owner(d), w_owner),
                String::new(),
            ]);
            let style = row_style(theme, i, self.selected, focused);
            let probe_style = if i == self.selected && focused {
                style
            } else {
                match probe {
                    Some(Probe::Running(_)) => theme.warning(),
                    Some(Probe::Done(_, c)) if c.ok => theme.ok(),
                    Some(_) => theme.error(),
                    None => theme.muted(),
                }
            };
            lines.push(Line::from(vec![
                Span::styled(text, style),
                Span::styled(fit(&probe_short(probe), w_last), probe_style),
            ]));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }
}

/// Enable the fields the chosen environment uses and give addresses the kind's hint.
fn adapt(form: &mut Form) {
    let env = Env::parse(&form.choice("env")).unwrap_or(Env::Test);
    let kind = form.choice("kind");
    for (key, on) in [
        ("test_address", env.has_test()),
        ("test_options", env.has_test()),
        ("prod_address", env.has_prod()),
        ("prod_options", env.has_prod()),
    ] {
        form.set_enabled(key, on);
    }
    for key in ["test_address", "prod_address"] {
        if let Some(f) = form.field_mut(key) {
            f.hint = address_hint(&kind).to_string();
        }
    }
}

/// Options text as a JSON object ("" is `{}`).
fn parse_options(
    text: &str,
    key: &'static str,
) -> Result<serde_json::Value, (&'static str, String)> {
    if text.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    let label = key.replace('_', " ");
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err((
            key,
            format!("{label}: not a JSON object; write {{\"key\": \"value\", …}}"),
        )),
        Err(e) => Err((
            key,
            format!("{label}: not valid JSON ({e}); write {{\"key\": \"value\", …}}"),
        )),
    }
}

/// The spec the form describes; a field that cannot be read names itself.
fn spec_of(form: &Form) -> Result<DataSourceSpec, (&'static str, String)> {
    let kind = weir_store::parse_kind(&form.choice("kind")).map_err(|e| ("kind", e.to_string()))?;
    let env = Env::parse(&form.choice("env")).map_err(|e| ("env", e.to_string()))?;
    let endpoint = |on: bool, addr: &'static str, opts: &'static str| {
        if !on {
            return Ok(None);
        }
        let address = form.text(addr);
        let options = parse_options(&form.text(opts), opts)?;
        Ok(if address.is_empty() {
            None
        } else {
            Some(Endpoint { address, options })
        })
    };
    let some = |s: String| (!s.is_empty()).then_some(s);
    let owner = form.choice("owner");
    Ok(DataSourceSpec {
        name: form.text("name"),
        kind,
        env,
        test: endpoint(env.has_test(), "test_address", "test_options")?,
        prod: endpoint(env.has_prod(), "prod_address", "prod_options")?,
        user: some(form.text("user")),
        password: some(form.text("password")),
        managed: form.toggled("managed"),
        owner_project: (owner != "(none)").then_some(owner),
        description: form.text("description"),
    })
}

/// Put `msg` on field `key` and focus it.
fn place_error(form: &mut Form, key: &str, msg: String) {
    if let Some(i) = form.fields.iter().position(|f| f.key == key) {
        form.fields[i].error = Some(msg);
        form.selected = i;
    } else {
        form.message = Some((Level::Error, msg));
    }
}

/// A store error on the field it names (the store says `data source name: …`,
/// `test address: …`), else for the whole form.
fn show_store_error(form: &mut Form, msg: &str) {
    let field = msg.split_once(':').map(|(k, _)| k.trim());
    let key = match field {
        Some("data source name") | Some("name") => Some("name"),
        Some("test address") => Some("test_address"),
        Some("prod address") => Some("prod_address"),
        Some("password") => Some("password"),
        Some("kind") => Some("kind"),
        Some("env") => Some("env"),
        _ => None,
    };
    match key {
        Some(k) => place_error(form, k, msg.to_string()),
        None => form.message = Some((Level::Error, msg.to_string())),
    }
}

impl Screen for DataSources {
    fn name(&self) -> &'static str {
        "datasources"
    }

    fn crumbs(&self) -> Vec<String> {
        let mut c = vec!["datasources".to_string()];
        match &self.mode {
            Mode::Edit(ed) => c.push(ed.editing.clone().unwrap_or_else(|| "new".into())),
            Mode::Confirm(name) => c.push(name.clone()),
            Mode::List => {}
        }
        c
    }

    fn context(&self) -> &'static str {
        "datasources"
    }

    fn captures_text(&self) -> bool {
        !matches!(self.mode, Mode::List)
    }

    fn unsaved(&self) -> bool {
        matches!(self.mode, Mode::Edit(_))
    }

    fn mode(&self) -> &'static str {
        match self.mode {
            Mode::List => "NORMAL",
            Mode::Edit(_) => "EDIT",
            Mode::Confirm(_) => "CONFIRM",
        }
    }

    fn handle_key(&mut self, key: Key, cx: &Context) -> Outcome {
        match &mut self.mode {
            Mode::List => Outcome::Ignored,
            Mode::Confirm(name) => {
                let name = name.clone();
                self.mode = Mode::List;
                if key == Key::char('y') {
                    self.delete(&name, cx)
                } else {
                    Action::Status(Level::Info, format!("{name} not deleted")).into()
                }
            }
            Mode::Edit(ed) => match ed.form.handle_key(key) {
                FormEvent::Cancel => {
                    self.mode = Mode::List;
                    Action::Status(Level::Info, "nothing saved".into()).into()
                }
                FormEvent::Submit => self.submit(cx),
                FormEvent::Changed("env" | "kind") => {
                    adapt(&mut ed.form);
                    Outcome::Consumed
                }
                // keys the form does not use stay in it while it is open
                FormEvent::Changed(_) | FormEvent::Consumed => Outcome::Consumed,
            },
        }
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        let n = self.visible().len();
        match action {
            "up" => self.selected = self.selected.saturating_sub(1),
            "down" => self.selected = clamp(self.selected + 1, n),
            "new" => {
                if !self.can_write {
                    return self.refused();
                }
                let ed = self.editor(None);
                self.mode = Mode::Edit(Box::new(ed));
            }
            "edit" => {
                if !self.can_write {
                    return self.refused();
                }
                let Some(ds) = self.current() else {
                    return Outcome::Consumed;
                };
                let ed = self.editor(Some(ds));
                self.mode = Mode::Edit(Box::new(ed));
            }
            "delete" => {
                if !self.can_write {
                    return self.refused();
                }
                let Some(ds) = self.current() else {
                    return Outcome::Consumed;
                };
                self.mode = Mode::Confirm(ds.name.clone());
            }
            "test" => return self.start_test(Env::Test, cx),
            "test-prod" => return self.start_test(Env::Prod, cx),
            "refresh" => self.reload(cx),
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        let mut a = Vec::new();
        if self.can_write {
            a.push(("new", "create a data source"));
            a.push(("edit", "edit the selected data source"));
            a.push(("delete", "delete the selected data source"));
        }
        a.push(("test", "test connectivity (test environment)"));
        a.push(("test-prod", "test connectivity (production)"));
        a.push(("refresh", "read the data sources again"));
        a
    }

    fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.selected = 0;
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        let mut action = None;
        let mut i = 0;
        while i < self.tests.len() {
            let (name, env, pending) = &mut self.tests[i];
            let (name, env) = (name.clone(), *env);
            match pending.poll() {
                Some(result) => {
                    let (probe, status) = match result {
                        Ok((_, c)) => {
                            let status = if c.ok {
                                (
                                    Level::Ok,
                                    format!(
                                        "{name} ({}): ok in {:.0} ms",
                                        env.as_str(),
                                        c.latency_ms
                                    ),
                                )
                            } else {
                                (
                                    Level::Error,
                                    format!(
                                        "{name} ({}): {}",
                                        env.as_str(),
                                        c.error.clone().unwrap_or_default()
                                    ),
                                )
                            };
                            (Probe::Done(env, c), status)
                        }
                        Err(e) => (
                            Probe::Failed(env, e.to_string()),
                            (Level::Error, format!("{name} ({}): {e}", env.as_str())),
                        ),
                    };
                    self.probes.insert(name, probe);
                    action = Some(Action::Status(status.0, status.1));
                    self.tests.remove(i);
                }
                None if !pending.running() => {
                    self.probes.insert(
                        name,
                        Probe::Failed(env, "the test stopped without an answer".into()),
                    );
                    self.tests.remove(i);
                }
                None => i += 1,
            }
        }
        if changed {
            self.reload(cx);
        }
        action
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        if let Mode::Edit(ed) = &self.mode {
            ed.form.render(frame, area, theme, focused);
            return;
        }
        let title = if self.filter.is_empty() {
            " data sources ".to_string()
        } else {
            format!(" data sources · /{} ", self.filter)
        };
        let block = theme.pane(title, focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let n = self.visible().len().max(1);
        let list_h = (n as u16 + 1).clamp(3, (inner.height / 2).max(3));
        let note_h = u16::from(!self.can_write || self.problem.is_some());
        let [list, gap, detail, note, keys] = Layout::vertical([
            Constraint::Length(list_h),
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(note_h),
            Constraint::Length(1),
        ])
        .areas(inner);
        self.render_list(frame, list, cx, focused);
        frame.render_widget(
            Paragraph::new(Line::styled("─".repeat(gap.width as usize), theme.muted())),
            gap,
        );
        if let Some(ds) = self.current() {
            let lines = self.detail_lines(cx, ds);
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), detail);
        }
        if let Some(p) = &self.problem {
            frame.render_widget(Paragraph::new(Line::styled(p.clone(), theme.error())), note);
        } else if !self.can_write {
            frame.render_widget(
                Paragraph::new(Line::styled(self.read_only_note(), theme.muted())),
                note,
            );
        }
        let bottom = if let Mode::Confirm(name) = &self.mode {
            Line::from(vec![
                Span::styled(format!("delete data source {name}? "), theme.warning()),
                Span::styled("y", theme.accent()),
                Span::raw(" yes  "),
                Span::styled("any other key", theme.accent()),
                Span::raw(" no"),
            ])
        } else if self.can_write {
            hints(
                theme,
                &[
                    ("n", "new"),
                    ("e", "edit"),
                    ("d", "delete"),
                    ("t/T", "test/prod"),
                    ("/", "filter"),
                ],
            )
        } else {
            hints(theme, &[("t/T", "test test/prod"), ("/", "filter")])
        };
        frame.render_widget(Paragraph::new(bottom), keys);
    }
}
