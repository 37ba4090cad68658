//! The forms of `:grants` and what submitting them does: a batch setting (`w` whitelist,
//! `b` blacklist, `p` public) over the selected tables, applied in one `set_grants` call
//! after the confirmation line; `a` adds a table by name; `c` asks for a user's
//! effective right on the highlighted table.

use weir_app::governance::{DataSourceKind, GrantList, GrantSpec, Grantee, Perm, TableRef};
use weir_app::store_link::StoreLink;

use super::Grants;
use super::detail::{Checked, list_word, perms_text, table_name};
use super::modal::Modal;
use crate::action::{Action, Level, Outcome};
use crate::screens::Context;
use crate::screens::gov::error_text;
use crate::screens::gov::form::{Field, Form};
use crate::screens::gov::perm_form::{perms_for, split_list};

impl Grants {
    /// Open the batch form for `list` over the selected tables.
    pub(super) fn open_batch(&mut self, list: GrantList) -> Outcome {
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

    pub(super) fn batch_spec(list: GrantList, tables: &[TableRef], form: &Form) -> GrantSpec {
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

    pub(super) fn confirm_line(spec: &GrantSpec) -> String {
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

    pub(super) fn apply_batch(&mut self, link: &StoreLink, cx: &Context) -> Outcome {
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
        match link.call(link.gov().set_grants(&spec)) {
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
                form.show_error(&error_text(&e));
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

    pub(super) fn open_check(&mut self, link: &StoreLink) -> Outcome {
        let Some(t) = self.list.current() else {
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

    pub(super) fn run_check(
        &mut self,
        link: &StoreLink,
        target: TableRef,
        mut form: Form,
    ) -> Outcome {
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
        match link.call(link.gov().check(&user, project_opt, &target, op, &columns)) {
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
                let msg = error_text(&e);
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

    pub(super) fn add_table(&mut self, link: &StoreLink, cx: &Context, mut form: Form) -> Outcome {
        let text = form.text("table");
        match link.call(link.gov().resolve_table(&text)) {
            Ok(t) => {
                if !self.added.contains(&t) {
                    self.added.push(t.clone());
                }
                self.list.set_filter("");
                self.reload(cx);
                self.select_table(&t);
                self.grant_at = 0;
                Action::Status(Level::Ok, format!("{} added to the list", table_name(&t))).into()
            }
            Err(e) => {
                form.set_error("table", Some(error_text(&e)));
                self.modal = Some(Modal::AddTable(form));
                Outcome::Consumed
            }
        }
    }
}
