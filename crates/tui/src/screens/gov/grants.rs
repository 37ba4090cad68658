//! `:grants` — authorization (SPEC R-perm), for data admins: every table and topic the
//! store knows of (catalog topics on their clusters, tables named in grants and requests,
//! and tables added here by name with `a`), and for the highlighted table its whitelist
//! (projects and users, operations, columns), blacklist and public setting. Space selects
//! tables; `w` whitelist, `b` blacklist and `p` public open a form whose setting is applied
//! to every selected table in one `set_grants` call (all or nothing) after a confirmation
//! line that says how many tables change. Left/Right move between the table's grants and
//! `x` revokes the highlighted one. `c` asks the store for a user's effective right.
//!
//! Everyone may read grants; for anyone but a data admin or system admin the screen is
//! read-only and offers no writes (the store refuses them anyway).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Row, Table, Wrap};
use weir_store::{
    DataSourceKind, GlobalRole, Grant, GrantList, GrantSpec, Grantee, Perm, TableRef,
};

use super::form::{Field, Form, FormEvent};
use super::perm_form::{perms_for, split_list};
use super::{centered, clamp, hints, matches, row_style};
use crate::app::tables::{self, KnownTable};
use crate::tui::action::{Action, Level, Outcome};
use crate::tui::keys::Key;
use crate::tui::screens::{Context, Screen};
use crate::tui::store_link::StoreLink;
use crate::tui::theme::Theme;
use crossterm::event::KeyCode;

enum Modal {
    /// `w` / `b` / `p`: what to set on the chosen tables.
    Batch {
        list: GrantList,
        tables: Vec<TableRef>,
        kafka: bool,
        form: Form,
    },
    /// The batch form was submitted; `y` applies it.
    Confirm {
        list: GrantList,
        tables: Vec<TableRef>,
        kafka: bool,
        form: Form,
        spec: GrantSpec,
        line: String,
    },
    /// `x`: revoke this grant?
    Revoke(Grant),
    /// `a`: a table by name.
    AddTable(Form),
    /// `c`: the effective right of a user on the highlighted table.
    Check(TableRef, Form),
}

/// The last effective-right check and its answer.
struct Checked {
    target: TableRef,
    question: String,
    allowed: bool,
    reason: String,
}

pub struct Grants {
    tables: Vec<KnownTable>,
    /// Tables added with `a`, listed even while nothing names them.
    added: Vec<TableRef>,
    /// Index into the visible (filtered) tables.
    selected: usize,
    /// Tables selected for batch settings.
    marked: Vec<TableRef>,
    /// The highlighted grant of the table, in display order.
    grant_at: usize,
    filter: String,
    modal: Option<Modal>,
    problem: Option<String>,
    /// Data admin or system admin: may write.
    admin: bool,
    /// How the actor's roles read, for the read-only note.
    roles: String,
    checked: Option<Checked>,
}

const READ_ONLY: &[(&str, &str)] = &[
    ("up", "previous table"),
    ("down", "next table"),
    ("next-grant", "next grant of the table"),
    ("prev-grant", "previous grant of the table"),
    ("check", "the effective right of a user on the table"),
];

const WRITES: &[(&str, &str)] = &[
    ("select", "select / unselect the table for batch settings"),
    ("whitelist", "add to the whitelist (selected tables)"),
    ("blacklist", "add to the blacklist (selected tables)"),
    ("public", "make public (selected tables)"),
    ("revoke", "revoke the highlighted grant"),
    ("add-table", "add a table to manage by name"),
];

fn list_word(list: GrantList) -> &'static str {
    match list {
        GrantList::Whitelist => "whitelist",
        GrantList::Blacklist => "blacklist",
        GrantList::Public => "public",
    }
}

fn perms_text(perms: &[Perm]) -> String {
    perms
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn table_name(t: &TableRef) -> String {
    format!("{}.{}", t.datasource, t.table)
}

/// A table's grants in display order: whitelist, blacklist, public.
fn ordered(t: &KnownTable) -> Vec<&Grant> {
    let mut out = Vec::new();
    for list in [
        GrantList::Whitelist,
        GrantList::Blacklist,
        GrantList::Public,
    ] {
        out.extend(t.grants.iter().filter(|g| g.list == list));
    }
    out
}

/// `whitelist project shop: select on mysql_orders.orders`.
fn describe(g: &Grant) -> String {
    let who = match g.list {
        GrantList::Public => String::new(),
        _ => format!(" {}", g.grantee.describe()),
    };
    let cols = if g.columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", g.columns.join(", "))
    };
    format!(
        "{}{who}: {}{cols} on {}",
        list_word(g.list),
        perms_text(&g.perms),
        table_name(&g.target)
    )
}

/// `whitelist 2 · blacklist 1 · public` for the table list.
fn summary(t: &KnownTable) -> String {
    let n = |l: GrantList| t.grants.iter().filter(|g| g.list == l).count();
    let mut parts = Vec::new();
    if n(GrantList::Whitelist) > 0 {
        parts.push(format!("whitelist {}", n(GrantList::Whitelist)));
    }
    if n(GrantList::Blacklist) > 0 {
        parts.push(format!("blacklist {}", n(GrantList::Blacklist)));
    }
    if n(GrantList::Public) > 0 {
        parts.push("public".to_string());
    }
    if parts.is_empty() {
        "no grants".to_string()
    } else {
        parts.join(" · ")
    }
}

impl Grants {
    pub fn new(cx: &Context) -> Grants {
        let mut g = Grants {
            tables: Vec::new(),
            added: Vec::new(),
            selected: 0,
            marked: Vec::new(),
            grant_at: 0,
            filter: String::new(),
            modal: None,
            problem: None,
            admin: false,
            roles: String::new(),
            checked: None,
        };
        g.reload(cx);
        g
    }

    /// Read the tables and their grants again, keeping the highlighted table and grant.
    fn reload(&mut self, cx: &Context) {
        let Some(link) = cx.store else {
            self.problem = Some("no metadata store is open".into());
            return;
        };
        self.admin = link.has(GlobalRole::DataAdmin) || link.has(GlobalRole::SystemAdmin);
        self.roles = link.roles().describe();
        let keep = self.current().map(|t| t.target.clone());
        let keep_grant = self.current_grant().map(|g| g.id);
        match link.call(tables::known_tables(&link.gov().session, &self.added)) {
            Ok(t) => {
                self.tables = t;
                self.problem = None;
            }
            Err(e) => self.problem = Some(format!("cannot read the grants: {e}")),
        }
        self.marked
            .retain(|m| self.tables.iter().any(|t| t.target == *m));
        if let Some(k) = keep {
            self.select_table(&k);
        }
        self.selected = clamp(self.selected, self.visible().len());
        self.grant_at = 0;
        if let Some(id) = keep_grant
            && let Some(t) = self.current()
            && let Some(i) = ordered(t).iter().position(|g| g.id == id)
        {
            self.grant_at = i;
        }
    }

    fn select_table(&mut self, target: &TableRef) {
        let at = self.visible().iter().position(|t| t.target == *target);
        if let Some(i) = at {
            self.selected = i;
        }
    }

    fn visible(&self) -> Vec<&KnownTable> {
        self.tables
            .iter()
            .filter(|t| {
                let name = t.name();
                let kind = t.kind.name().to_ascii_lowercase();
                matches(&self.filter, &[&name, &kind])
            })
            .collect()
    }

    fn current(&self) -> Option<&KnownTable> {
        self.visible().get(self.selected).copied()
    }

    fn current_grant(&self) -> Option<&Grant> {
        self.current()
            .and_then(|t| ordered(t).get(self.grant_at).copied())
    }

    /// The tables a batch setting applies to: the selection, else the highlighted one.
    fn batch_tables(&self) -> Vec<TableRef> {
        if self.marked.is_empty() {
            self.current()
                .map(|t| vec![t.target.clone()])
                .unwrap_or_default()
        } else {
            // in list order
            self.tables
                .iter()
                .filter(|t| self.marked.contains(&t.target))
                .map(|t| t.target.clone())
                .collect()
        }
    }

    fn kind_of(&self, t: &TableRef) -> Option<DataSourceKind> {
        self.tables.iter().find(|k| k.target == *t).map(|k| k.kind)
    }

    fn read_only(&self) -> Outcome {
        Action::Status(
            Level::Warning,
            format!(
                "read only: only a data admin or a system admin changes grants; you are {}",
                self.roles
            ),
        )
        .into()
    }

    /// Open the batch form for `list` over the selected tables.
    fn open_batch(&mut self, list: GrantList) -> Outcome {
        let tables = self.batch_tables();
        if tables.is_empty() {
            return Action::Status(
                Level::Warning,
                "no table to set: a adds one by DATASOURCE.TABLE".into(),
            )
            .into();
        }
        let kafka = tables
            .iter()
            .any(|t| self.kind_of(t) == Some(DataSourceKind::Kafka));
        let perms: Vec<(&str, bool)> = if kafka {
            perms_for(DataSourceKind::Kafka)
        } else {
            perms_for(DataSourceKind::Mysql)
        }
        .iter()
        .map(|p| (*p, false))
        .collect();
        let perm_hint = if kafka {
            "←→ pick, Space ticks; kafka topics in the batch take select and insert only"
        } else {
            "←→ pick, Space ticks"
        };
        let n = tables.len();
        let on = if n == 1 {
            table_name(&tables[0])
        } else {
            format!("{n} tables")
        };
        let title = match list {
            GrantList::Whitelist => format!("whitelist on {on}"),
            GrantList::Blacklist => format!("blacklist on {on}"),
            GrantList::Public => format!("make {on} public"),
        };
        let mut fields = Vec::new();
        if list != GrantList::Public {
            fields.push(
                Field::choice("grantee", "grantee", &["project", "user"], "project")
                    .hint("←→ projects or users"),
            );
            fields.push(
                Field::text("grantees", "names", "").hint("comma separated, e.g. shop, billing"),
            );
        }
        fields.push(Field::checks("perms", "permissions", &perms).hint(perm_hint));
        if list == GrantList::Whitelist {
            let mut cols = Field::text("columns", "columns", "")
                .hint("comma separated; empty = the whole table");
            cols.enabled = false;
            fields.push(cols);
        }
        self.modal = Some(Modal::Batch {
            list,
            tables,
            kafka,
            form: Form::new(&title, fields),
        });
        Outcome::Consumed
    }

    fn batch_spec(list: GrantList, tables: &[TableRef], form: &Form) -> GrantSpec {
        let names = split_list(&form.text("grantees"));
        let grantees = match (list, form.choice("grantee").as_str()) {
            (GrantList::Public, _) => Vec::new(),
            (_, "user") => names.into_iter().map(Grantee::User).collect(),
            _ => names.into_iter().map(Grantee::Project).collect(),
        };
        GrantSpec {
            list,
            tables: tables.to_vec(),
            grantees,
            perms: form
                .checked("perms")
                .iter()
                .filter_map(|p| Perm::parse(p).ok())
                .collect(),
            columns: if form.is_enabled("columns") {
                split_list(&form.text("columns"))
            } else {
                Vec::new()
            },
        }
    }

    fn confirm_line(spec: &GrantSpec) -> String {
        let n = spec.tables.len();
        let tables = if n == 1 {
            "1 table".to_string()
        } else {
            format!("{n} tables")
        };
        let who = match spec.list {
            GrantList::Public => "everyone".to_string(),
            _ => spec
                .grantees
                .iter()
                .map(Grantee::describe)
                .collect::<Vec<_>>()
                .join(", "),
        };
        let cols = if spec.columns.is_empty() {
            String::new()
        } else {
            format!(" ({})", spec.columns.join(", "))
        };
        format!(
            "{} {who} for {}{cols} on {tables}? y applies, n goes back",
            list_word(spec.list),
            perms_text(&spec.perms),
        )
    }

    fn apply_batch(&mut self, link: &StoreLink, cx: &Context) -> Outcome {
        let Some(Modal::Confirm {
            list,
            tables,
            kafka,
            mut form,
            spec,
            ..
        }) = self.modal.take()
        else {
            return Outcome::Consumed;
        };
        match link.call(link.gov().session.set_grants(&spec)) {
            Ok(rows) => {
                self.reload(cx);
                let n = spec.tables.len();
                let msg = format!(
                    "{} on {n} table{}: {} grant row{} added",
                    match list {
                        GrantList::Whitelist => "whitelisted",
                        GrantList::Blacklist => "blacklisted",
                        GrantList::Public => "made public",
                    },
                    if n == 1 { "" } else { "s" },
                    rows.len(),
                    if rows.len() == 1 { "" } else { "s" },
                );
                Action::StoreWritten(Level::Ok, msg).into()
            }
            Err(e) => {
                form.show_error(&e.to_string());
                self.modal = Some(Modal::Batch {
                    list,
                    tables,
                    kafka,
                    form,
                });
                Outcome::Consumed
            }
        }
    }

    fn open_check(&mut self, link: &StoreLink) -> Outcome {
        let Some(t) = self.current() else {
            return Action::Status(Level::Warning, "no table to check".into()).into();
        };
        let target = t.target.clone();
        let kafka = t.kind == DataSourceKind::Kafka;
        let project = link
            .roles()
            .projects
            .first()
            .map(|(p, _)| p.clone())
            .unwrap_or_default();
        let mut cols =
            Field::text("columns", "columns", "").hint("comma separated; empty = the whole table");
        cols.enabled = !kafka;
        let form = Form::new(
            &format!("effective right on {}", table_name(&target)),
            vec![
                Field::text("user", "user", link.login()).hint("the login to check"),
                Field::text("project", "acting in", &project)
                    .hint("the project the user acts in; empty = none"),
                Field::choice("op", "operation", perms_for(t.kind), "select"),
                cols,
            ],
        );
        self.modal = Some(Modal::Check(target, form));
        Outcome::Consumed
    }

    fn run_check(&mut self, link: &StoreLink, target: TableRef, mut form: Form) -> Outcome {
        let user = form.text("user");
        let project = form.text("project");
        let op = match Perm::parse(&form.choice("op")) {
            Ok(p) => p,
            Err(e) => {
                form.show_error(&e.to_string());
                self.modal = Some(Modal::Check(target, form));
                return Outcome::Consumed;
            }
        };
        let columns = split_list(&form.text("columns"));
        let project_opt = (!project.is_empty()).then_some(project.as_str());
        match link.call(
            link.gov()
                .session
                .check(&user, project_opt, &target, op, &columns),
        ) {
            Ok(d) => {
                let mut question = user.clone();
                if let Some(p) = project_opt {
                    question.push_str(&format!(" in {p}"));
                }
                question.push_str(&format!(" {}", op.as_str()));
                if !columns.is_empty() {
                    question.push_str(&format!(" ({})", columns.join(", ")));
                }
                self.checked = Some(Checked {
                    target,
                    question,
                    allowed: d.allowed,
                    reason: d.reason,
                });
                Outcome::Consumed
            }
            Err(e) => {
                let msg = e.to_string();
                // "no user named `x`" / "no project named `p`" belong to their field
                if msg.starts_with("no user") {
                    form.set_error("user", Some(msg));
                } else if msg.starts_with("no project") {
                    form.set_error("project", Some(msg));
                } else {
                    form.show_error(&msg);
                }
                self.modal = Some(Modal::Check(target, form));
                Outcome::Consumed
            }
        }
    }

    fn add_table(&mut self, link: &StoreLink, cx: &Context, mut form: Form) -> Outcome {
        let text = form.text("table");
        match link.call(tables::resolve(&link.gov().session, &text)) {
            Ok(t) => {
                if !self.added.contains(&t) {
                    self.added.push(t.clone());
                }
                self.filter.clear();
                self.reload(cx);
                self.select_table(&t);
                self.grant_at = 0;
                Action::Status(Level::Ok, format!("{} added to the list", table_name(&t))).into()
            }
            Err(e) => {
                form.set_error("table", Some(e.to_string()));
                self.modal = Some(Modal::AddTable(form));
                Outcome::Consumed
            }
        }
    }

    fn modal_key(&mut self, key: Key, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            self.modal = None;
            return Outcome::Consumed;
        };
        let Some(modal) = self.modal.take() else {
            return Outcome::Ignored;
        };
        match modal {
            Modal::Batch {
                list,
                tables,
                kafka,
                mut form,
            } => match form.handle_key(key) {
                FormEvent::Cancel => Action::Status(Level::Info, "nothing changed".into()).into(),
                FormEvent::Submit => {
                    form.clear_errors();
                    let spec = Grants::batch_spec(list, &tables, &form);
                    let line = Grants::confirm_line(&spec);
                    self.modal = Some(Modal::Confirm {
                        list,
                        tables,
                        kafka,
                        form,
                        spec,
                        line,
                    });
                    Outcome::Consumed
                }
                ev => {
                    if ev == FormEvent::Changed("grantee") && list == GrantList::Whitelist {
                        let on = form.choice("grantee") == "user" && !kafka;
                        form.set_enabled("columns", on);
                    }
                    self.modal = Some(Modal::Batch {
                        list,
                        tables,
                        kafka,
                        form,
                    });
                    Outcome::Consumed
                }
            },
            Modal::Confirm {
                list,
                tables,
                kafka,
                form,
                spec,
                line,
            } => match key.code {
                KeyCode::Char('y') | KeyCode::Enter => {
                    self.modal = Some(Modal::Confirm {
                        list,
                        tables,
                        kafka,
                        form,
                        spec,
                        line,
                    });
                    self.apply_batch(link, cx)
                }
                KeyCode::Char('n') | KeyCode::Esc => {
                    self.modal = Some(Modal::Batch {
                        list,
                        tables,
                        kafka,
                        form,
                    });
                    Outcome::Consumed
                }
                _ => {
                    self.modal = Some(Modal::Confirm {
                        list,
                        tables,
                        kafka,
                        form,
                        spec,
                        line,
                    });
                    Outcome::Consumed
                }
            },
            Modal::Revoke(g) => match key.code {
                KeyCode::Char('y') => match link.call(link.gov().session.revoke_grant(g.id)) {
                    Ok(()) => {
                        self.reload(cx);
                        Action::StoreWritten(
                            Level::Ok,
                            format!("revoked grant #{} ({})", g.id, describe(&g)),
                        )
                        .into()
                    }
                    Err(e) => Action::Status(Level::Error, e.to_string()).into(),
                },
                _ => Action::Status(Level::Info, format!("kept grant #{}", g.id)).into(),
            },
            Modal::AddTable(mut form) => match form.handle_key(key) {
                FormEvent::Cancel => Outcome::Consumed,
                FormEvent::Submit => self.add_table(link, cx, form),
                _ => {
                    self.modal = Some(Modal::AddTable(form));
                    Outcome::Consumed
                }
            },
            Modal::Check(target, mut form) => match form.handle_key(key) {
                FormEvent::Cancel => Outcome::Consumed,
                FormEvent::Submit => {
                    form.clear_errors();
                    self.run_check(link, target, form)
                }
                _ => {
                    self.modal = Some(Modal::Check(target, form));
                    Outcome::Consumed
                }
            },
        }
    }

    fn render_detail(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let Some(t) = self.current() else {
            return;
        };
        let block = theme.pane(
            format!(" {} · {} ", t.name(), t.kind.name().to_ascii_lowercase()),
            false,
        );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [head, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
        let about = match &t.topic {
            Some(topic) => format!(
                "catalog topic of project {}, {}",
                topic.project,
                topic.state.as_str()
            ),
            None => "the blacklist beats every whitelist; public allows everyone".to_string(),
        };
        frame.render_widget(Paragraph::new(Line::styled(about, theme.muted())), head);
        let grants = ordered(t);
        let mut rows: Vec<Row> = Vec::new();
        for list in [
            GrantList::Whitelist,
            GrantList::Blacklist,
            GrantList::Public,
        ] {
            let mut first = true;
            for (i, g) in grants.iter().enumerate().filter(|(_, g)| g.list == list) {
                let who = match g.list {
                    GrantList::Public => "everyone".to_string(),
                    _ => g.grantee.describe(),
                };
                let cols = if g.columns.is_empty() {
                    "whole table".to_string()
                } else {
                    g.columns.join(", ")
                };
                let from = match g.request {
                    Some(r) => format!("#{} by {}, request #{r}", g.id, g.granted_by),
                    None => format!("#{} by {}", g.id, g.granted_by),
                };
                let label = if first { list_word(list) } else { "" };
                first = false;
                let style = if focused && self.modal.is_none() && i == self.grant_at {
                    theme.selected()
                } else {
                    theme.base()
                };
                rows.push(
                    Row::new(vec![
                        label.to_string(),
                        who,
                        perms_text(&g.perms),
                        cols,
                        from,
                    ])
                    .style(style),
                );
            }
            if first {
                let none = match list {
                    GrantList::Public => "not public",
                    _ => "—",
                };
                rows.push(
                    Row::new(vec![list_word(list).to_string(), none.to_string()])
                        .style(theme.muted()),
                );
            }
        }
        let [grants_area, check_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(body);
        let table = Table::new(
            rows,
            [
                Constraint::Length(9),
                Constraint::Min(14),
                Constraint::Length(14),
                Constraint::Length(11),
                Constraint::Min(12),
            ],
        )
        .header(
            Row::new(vec!["list", "who", "operations", "columns", "grant"]).style(theme.muted()),
        );
        frame.render_widget(table, grants_area);
        if let Some(c) = self.checked.as_ref().filter(|c| c.target == t.target) {
            let (word, style) = if c.allowed {
                ("allowed", theme.ok())
            } else {
                ("denied", theme.error())
            };
            let line = Line::from(vec![
                Span::styled("effective ", theme.muted()),
                Span::raw(format!("{}: ", c.question)),
                Span::styled(word, style),
                Span::raw(format!(" — {}", c.reason)),
            ]);
            frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), check_area);
        }
    }
}

impl Screen for Grants {
    fn name(&self) -> &'static str {
        "grants"
    }
    fn crumbs(&self) -> Vec<String> {
        let mut c = vec!["grants".to_string()];
        if let Some(t) = self.current() {
            c.push(t.name());
        }
        c
    }
    fn context(&self) -> &'static str {
        "grants"
    }
    fn captures_text(&self) -> bool {
        self.modal.is_some()
    }
    fn unsaved(&self) -> bool {
        matches!(
            self.modal,
            Some(Modal::Batch { .. } | Modal::Confirm { .. })
        )
    }
    fn mode(&self) -> &'static str {
        match self.modal {
            Some(Modal::Confirm { .. } | Modal::Revoke(_)) => "CONFIRM",
            Some(_) => "EDIT",
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
        let Some(link) = cx.store else {
            return Outcome::Ignored;
        };
        let n = self.visible().len();
        let writes = WRITES.iter().any(|(a, _)| *a == action);
        if writes && !self.admin {
            return self.read_only();
        }
        match action {
            "up" => {
                self.selected = self.selected.saturating_sub(1);
                self.grant_at = 0;
            }
            "down" => {
                self.selected = clamp(self.selected + 1, n);
                self.grant_at = 0;
            }
            "next-grant" => {
                let g = self.current().map_or(0, |t| t.grants.len());
                self.grant_at = clamp(self.grant_at + 1, g);
            }
            "prev-grant" => self.grant_at = self.grant_at.saturating_sub(1),
            "select" => {
                let Some(t) = self.current().map(|t| t.target.clone()) else {
                    return Outcome::Consumed;
                };
                if let Some(i) = self.marked.iter().position(|m| *m == t) {
                    self.marked.remove(i);
                } else {
                    self.marked.push(t);
                }
                self.selected = clamp(self.selected + 1, n);
                self.grant_at = 0;
            }
            "whitelist" => return self.open_batch(GrantList::Whitelist),
            "blacklist" => return self.open_batch(GrantList::Blacklist),
            "public" => return self.open_batch(GrantList::Public),
            "revoke" => match self.current_grant() {
                Some(g) => self.modal = Some(Modal::Revoke(g.clone())),
                None => {
                    return Action::Status(
                        Level::Warning,
                        "this table has no grant to revoke".into(),
                    )
                    .into();
                }
            },
            "add-table" => {
                self.modal =
                    Some(Modal::AddTable(Form::new(
                        "add a table",
                        vec![Field::text("table", "table", "").hint(
                            "DATASOURCE.TABLE, e.g. mysql_orders.orders, or a published topic",
                        )],
                    )));
            }
            "check" => return self.open_check(link),
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }
    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = READ_ONLY.to_vec();
        if self.admin {
            out.extend_from_slice(WRITES);
        }
        out
    }
    fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.selected = 0;
        self.grant_at = 0;
    }
    fn reveal(&mut self, rel: &str) {
        if let Some((ds, t)) = rel.split_once('.') {
            self.select_table(&TableRef::new(ds, t));
        }
    }
    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        if changed {
            self.reload(cx);
        }
        None
    }
    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        let theme = cx.theme;
        let title = if self.admin {
            " grants ".to_string()
        } else {
            " grants (read only) ".to_string()
        };
        let block = theme.pane(title, focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let visible = self.visible();
        let list_h = (visible.len() as u16 + 1).clamp(2, (inner.height / 3).max(3));
        let [note, list, detail, bottom] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(list_h),
            Constraint::Min(4),
            Constraint::Length(2),
        ])
        .areas(inner);
        let note_line = if let Some(p) = &self.problem {
            Line::styled(p.clone(), theme.error())
        } else if !self.admin {
            Line::styled(
                "read only: a data admin or system admin changes grants; you may read them",
                theme.warning(),
            )
        } else if self.marked.is_empty() {
            Line::styled(
                "Space selects tables; w/b/p then apply to every selected table at once",
                theme.muted(),
            )
        } else {
            let n = self.marked.len();
            Line::styled(
                format!(
                    "{n} table{} selected for batch settings",
                    if n == 1 { "" } else { "s" }
                ),
                theme.accent(),
            )
        };
        frame.render_widget(Paragraph::new(note_line), note);
        if visible.is_empty() {
            let text = if self.filter.is_empty() {
                "No tables yet: a table appears once a topic is published or a grant or request names it; a adds one by name."
            } else {
                "No table matches the filter."
            };
            frame.render_widget(
                Paragraph::new(Line::styled(text, theme.muted())).wrap(Wrap { trim: false }),
                list,
            );
        } else {
            let rows: Vec<Row> = visible
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mark = if self.marked.contains(&t.target) {
                        "[x]"
                    } else if self.admin {
                        "[ ]"
                    } else {
                        ""
                    };
                    Row::new(vec![
                        mark.to_string(),
                        t.name(),
                        t.kind.name().to_ascii_lowercase(),
                        summary(t),
                    ])
                    .style(row_style(
                        theme,
                        i,
                        self.selected,
                        focused && self.modal.is_none(),
                    ))
                })
                .collect();
            let name_w = visible
                .iter()
                .map(|t| t.name().chars().count())
                .max()
                .unwrap_or(0)
                .clamp(14, 40) as u16;
            let table = Table::new(
                rows,
                [
                    Constraint::Length(3),
                    Constraint::Length(name_w),
                    Constraint::Length(7),
                    Constraint::Min(18),
                ],
            )
            .header(Row::new(vec!["", "table / topic", "kind", "grants"]).style(theme.muted()));
            frame.render_widget(table, list);
        }
        self.render_detail(frame, detail, theme, focused);
        let line = match &self.modal {
            Some(Modal::Confirm { line, .. }) => Line::styled(line.clone(), theme.warning()),
            Some(Modal::Revoke(g)) => Line::styled(
                format!(
                    "revoke grant #{} ({})? y revokes, any other key keeps it",
                    g.id,
                    describe(g)
                ),
                theme.warning(),
            ),
            _ if self.admin => hints(
                theme,
                &[
                    ("Space", "select"),
                    ("w/b/p", "white/black/public"),
                    ("←→", "grant"),
                    ("x", "revoke"),
                    ("a", "add table"),
                    ("c", "check"),
                    ("/", "filter"),
                ],
            ),
            _ => hints(
                theme,
                &[
                    ("↑↓", "table"),
                    ("←→", "grant"),
                    ("c", "check a user's right"),
                    ("/", "filter"),
                    ("Esc", "back"),
                ],
            ),
        };
        frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), bottom);
        match &self.modal {
            Some(Modal::Batch { form, tables, .. }) => {
                let names: Vec<String> = tables.iter().map(table_name).collect();
                let mut lines = vec![
                    Line::from(vec![
                        Span::styled("tables  ", theme.muted()),
                        Span::raw(names.join(", ")),
                    ]),
                    Line::raw(""),
                ];
                lines.extend(form.lines(theme, true));
                draw_modal(frame, area, theme, &form.title, lines);
            }
            Some(Modal::AddTable(form)) | Some(Modal::Check(_, form)) => {
                draw_modal(frame, area, theme, &form.title, form.lines(theme, true));
            }
            _ => {}
        }
    }
}

/// A form box centred over `area`, as tall as its lines (wrapped) need.
fn draw_modal(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    title: &str,
    lines: Vec<Line<'static>>,
) {
    let w = area.width.min(72);
    let inner_w = w.saturating_sub(2).max(1) as usize;
    let rows: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_w))
        .sum();
    let r = centered(area, w, rows as u16 + 2);
    let block = theme.pane(format!(" {title} "), true);
    let inner = block.inner(r);
    frame.render_widget(Clear, r);
    frame.render_widget(block, r);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
