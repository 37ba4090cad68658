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
//! read-only and offers no writes (the store refuses them anyway). Everything here reads
//! and writes the metadata store only, so it runs at once.
//!
//! `list.rs` draws the tables, `detail.rs` the grants of the highlighted one, `form.rs`
//! builds and submits the forms, `modal.rs` routes keys to the open one.

mod detail;
mod form;
mod list;
mod modal;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use weir_app::governance::{DataSourceKind, GlobalRole, Grant, GrantList, KnownTable, TableRef};

use super::footer::footer_rows;
use super::form::{Field, Form};
use super::listing::Listing;
use super::{clamp, error_text};
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::{Context, Screen};
use detail::{Checked, describe, ordered, table_name};
use modal::{Modal, draw_modal};

pub struct Grants {
    list: Listing<KnownTable>,
    /// Tables added with `a`, listed even while nothing names them.
    added: Vec<TableRef>,
    /// Tables selected for batch settings.
    marked: Vec<TableRef>,
    /// The highlighted grant of the table, in display order.
    grant_at: usize,
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

impl Grants {
    pub fn new(cx: &Context) -> Grants {
        let mut g = Grants {
            list: Listing::new(list::haystack),
            added: Vec::new(),
            marked: Vec::new(),
            grant_at: 0,
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
        let keep_grant = self.current_grant().map(|g| g.id);
        match link.call(link.gov().known_tables(&self.added)) {
            Ok(t) => {
                self.list.replace(t, |a, b| a.target == b.target);
                self.problem = None;
            }
            Err(e) => {
                self.list.clamp();
                self.problem = Some(format!("cannot read the grants: {}", error_text(&e)));
            }
        }
        let tables = self.list.items();
        self.marked
            .retain(|m| tables.iter().any(|t| t.target == *m));
        self.grant_at = 0;
        if let Some(id) = keep_grant
            && let Some(t) = self.list.current()
            && let Some(i) = ordered(t).iter().position(|g| g.id == id)
        {
            self.grant_at = i;
        }
    }

    fn select_table(&mut self, target: &TableRef) {
        self.list.select_where(|t| t.target == *target);
    }

    fn current_grant(&self) -> Option<&Grant> {
        self.list
            .current()
            .and_then(|t| ordered(t).get(self.grant_at).copied())
    }

    /// The tables a batch setting applies to: the selection, else the highlighted one.
    fn batch_tables(&self) -> Vec<TableRef> {
        if self.marked.is_empty() {
            self.list
                .current()
                .map(|t| vec![t.target.clone()])
                .unwrap_or_default()
        } else {
            // in list order
            self.list
                .items()
                .iter()
                .filter(|t| self.marked.contains(&t.target))
                .map(|t| t.target.clone())
                .collect()
        }
    }

    fn kind_of(&self, t: &TableRef) -> Option<DataSourceKind> {
        self.list
            .items()
            .iter()
            .find(|k| k.target == *t)
            .map(|k| k.kind)
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
}

impl Screen for Grants {
    fn name(&self) -> &'static str {
        "grants"
    }
    fn crumbs(&self) -> Vec<String> {
        let mut c = vec!["grants".to_string()];
        if let Some(t) = self.list.current() {
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
        let writes = WRITES.iter().any(|(a, _)| *a == action);
        if writes && !self.admin {
            return self.read_only();
        }
        match action {
            "up" => {
                self.list.up();
                self.grant_at = 0;
            }
            "down" => {
                self.list.down();
                self.grant_at = 0;
            }
            "next-grant" => {
                let g = self.list.current().map_or(0, |t| t.grants.len());
                self.grant_at = clamp(self.grant_at + 1, g);
            }
            "prev-grant" => self.grant_at = self.grant_at.saturating_sub(1),
            "select" => {
                let Some(t) = self.list.current().map(|t| t.target.clone()) else {
                    return Outcome::Consumed;
                };
                if let Some(i) = self.marked.iter().position(|m| *m == t) {
                    self.marked.remove(i);
                } else {
                    self.marked.push(t);
                }
                self.list.down();
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
        self.list.set_filter(text);
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
        let list_h = (self.list.visible().len() as u16 + 1).clamp(2, (inner.height / 3).max(3));
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
        self.draw_list(frame, list, theme, focused);
        self.draw_detail(frame, detail, theme, focused);
        // the question, else the keys over the two bottom lines
        let lines = match &self.modal {
            Some(Modal::Confirm { line, .. }) => vec![Line::styled(line.clone(), theme.warning())],
            Some(Modal::Revoke(g)) => vec![Line::styled(
                format!(
                    "revoke grant #{} ({})? y revokes, any other key keeps it",
                    g.id,
                    describe(g)
                ),
                theme.warning(),
            )],
            _ if self.admin => footer_rows(
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
                bottom.width,
                2,
            ),
            _ => footer_rows(
                theme,
                &[
                    ("↑↓", "table"),
                    ("←→", "grant"),
                    ("c", "check a user's right"),
                    ("/", "filter"),
                    ("Esc", "back"),
                ],
                bottom.width,
                2,
            ),
        };
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), bottom);
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
