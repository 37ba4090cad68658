//! `:datasources` (SPEC R-ds): every data source with its addresses, owner and the last
//! connectivity test as the store recorded it, from here or from `weir datasource test`
//! (`list.rs`); a detail pane, credentials masked (`detail.rs`); create and edit forms
//! per kind and environment (`form.rs`); connectivity tests in the background, `t` test
//! and `T` production, so the UI keeps responding (`probe.rs`), after a y/n confirmation
//! of where its secret goes when this person has not confirmed it before; delete after a
//! y/n confirmation. Only data admins and system admins are offered n/e/d; the store
//! checks the role again.

mod detail;
mod form;
mod list;
mod probe;

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use weir_app::governance::{DataSource, DataSourceKind, DataSourceTest, Env, GlobalRole};
use weir_app::secrets::{Consent, SecretUse};
use weir_app::store_link::StoreLink;

use super::error_text;
use super::footer::footer;
use super::form::FormEvent;
use super::listing::Listing;
use crate::action::{Action, Level, Outcome};
use crate::keys::Key;
use crate::screens::{Context, Screen};
use form::{Editor, adapt};
use probe::{Probe, Test};

enum Mode {
    List,
    Edit(Box<Editor>),
    /// Delete this data source? (y/n)
    Confirm(String),
    /// Send this secret there to test the data source in this environment? (y/n)
    TrustSecret(Box<SecretUse>, Env),
}

pub struct DataSources {
    list: Listing<DataSource>,
    probes: BTreeMap<String, Probe>,
    tests: Vec<Test>,
    /// The last test of each data source and environment, as recorded in the store.
    recorded: Vec<DataSourceTest>,
    /// The time ages are told against (`2m ago`), set on every turn of the event loop.
    now_ms: i64,
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

fn kind_name(k: DataSourceKind) -> String {
    k.name().to_ascii_lowercase()
}

fn may_write(link: &StoreLink) -> bool {
    link.has(GlobalRole::DataAdmin) || link.has(GlobalRole::SystemAdmin)
}

impl DataSources {
    pub fn new(cx: &Context) -> DataSources {
        let mut s = DataSources {
            list: Listing::new(list::haystack),
            probes: BTreeMap::new(),
            tests: Vec::new(),
            recorded: Vec::new(),
            now_ms: weir_app::instances::now_ms(),
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
        self.can_write = may_write(link);
        self.who = link.roles().describe();
        match link.call(link.gov().data_sources()) {
            Ok(rows) => {
                self.list.replace(rows, |a, b| a.id == b.id);
                self.problem = None;
            }
            Err(e) => {
                self.problem = Some(format!("cannot read the data sources: {}", error_text(&e)))
            }
        }
        match link.call(link.gov().data_source_tests()) {
            Ok(tests) => self.recorded = tests,
            Err(e) => {
                self.problem = Some(format!(
                    "cannot read the last connectivity tests: {}",
                    error_text(&e)
                ))
            }
        }
        if let Ok(ps) = link.call(link.gov().projects()) {
            self.projects = ps.into_iter().map(|p| p.name).collect();
        }
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

    fn delete(&mut self, name: &str, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        match link.call(link.gov().delete_data_source(name)) {
            Ok(()) => {
                self.probes.remove(name);
                self.reload(cx);
                Action::StoreWritten(Level::Ok, format!("deleted data source {name}")).into()
            }
            Err(e) => Action::Status(Level::Error, error_text(&e)).into(),
        }
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
            Mode::TrustSecret(u, _) => c.push(u.source.clone()),
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
            Mode::Confirm(_) | Mode::TrustSecret(..) => "CONFIRM",
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
            Mode::TrustSecret(u, env) => {
                let (name, env) = (u.source.clone(), *env);
                self.mode = Mode::List;
                if key == Key::char('y') {
                    self.run_test(name, env, Consent::Yes, cx)
                } else {
                    Action::Status(Level::Info, format!("{name} not tested; nothing was sent"))
                        .into()
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
        match action {
            "up" => self.list.up(),
            "down" => self.list.down(),
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
                let Some(ds) = self.list.current() else {
                    return Outcome::Consumed;
                };
                let ed = self.editor(Some(ds));
                self.mode = Mode::Edit(Box::new(ed));
            }
            "delete" => {
                if !self.can_write {
                    return self.refused();
                }
                let Some(ds) = self.list.current() else {
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
        self.list.set_filter(text);
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        self.now_ms = weir_app::instances::now_ms();
        let action = self.collect_tests();
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
        let block = theme.pane(self.list.title("data sources"), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let n = self.list.visible().len().max(1);
        let list_h = (n as u16 + 1).clamp(3, (inner.height / 2).max(3));
        let note_h = u16::from(!self.can_write || self.problem.is_some());
        // the secret question names the secret and where it goes: room to wrap
        let keys_h = if matches!(self.mode, Mode::TrustSecret(..)) {
            3
        } else {
            1
        };
        let [list, gap, detail, note, keys] = Layout::vertical([
            Constraint::Length(list_h),
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(note_h),
            Constraint::Length(keys_h),
        ])
        .areas(inner);
        self.draw_list(frame, list, theme, focused);
        frame.render_widget(
            Paragraph::new(Line::styled("─".repeat(gap.width as usize), theme.muted())),
            gap,
        );
        if let Some(ds) = self.list.current() {
            let lines = crate::printable::lines(self.detail_lines(theme, ds));
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
        let bottom = if let Mode::TrustSecret(u, _) = &self.mode {
            Line::from(vec![
                Span::styled(format!("{}. Send it? ", u.message()), theme.warning()),
                Span::styled("y", theme.accent()),
                Span::raw(" yes  "),
                Span::styled("any other key", theme.accent()),
                Span::raw(" no"),
            ])
        } else if let Mode::Confirm(name) = &self.mode {
            Line::from(vec![
                Span::styled(format!("delete data source {name}? "), theme.warning()),
                Span::styled("y", theme.accent()),
                Span::raw(" yes  "),
                Span::styled("any other key", theme.accent()),
                Span::raw(" no"),
            ])
        } else if self.can_write {
            footer(
                theme,
                &[
                    ("n", "new"),
                    ("e", "edit"),
                    ("t/T", "test/prod"),
                    ("d", "delete"),
                    ("/", "filter"),
                ],
                keys.width,
            )
        } else {
            footer(
                theme,
                &[("t/T", "test test/prod"), ("/", "filter")],
                keys.width,
            )
        };
        frame.render_widget(Paragraph::new(bottom).wrap(Wrap { trim: false }), keys);
    }
}
