//! What keys and named actions do in each mode of the graph editor. Outside NORMAL the
//! screen sees every key first (`captures_text`): it takes the keys it edits with and
//! Esc, and hands the rest back (`Ignored`) so that the keymap turns them into actions.

use crossterm::event::KeyCode;

use super::form::Form;
use super::palette::Picked;
use super::select::{self, Dir, Selection};
use super::{GraphScreen, Mode, edit, plural, status};
use crate::action::{Level, Outcome};
use crate::keys::Key;
use crate::model::Node;
use crate::screens::Context;
use crate::screens::sql::SqlOutcome;

impl GraphScreen {
    fn is_back(&self, key: Key, cx: &Context) -> bool {
        key.code == KeyCode::Esc || cx.keymap.action(self.context_name(), key) == Some("back")
    }

    fn context_name(&self) -> &'static str {
        match self.mode {
            Mode::Form(_) => "form",
            Mode::Sql { .. } => "sql",
            _ => "graph",
        }
    }

    pub(super) fn key(&mut self, key: Key, cx: &Context) -> Outcome {
        let back = self.is_back(key, cx);
        match &mut self.mode {
            Mode::Normal => Outcome::Ignored,
            Mode::Connect { .. } if back => {
                self.mode = Mode::Normal;
                status(Level::Info, "not connected".into())
            }
            Mode::Problems { .. } if back => {
                self.mode = Mode::Normal;
                Outcome::Consumed
            }
            Mode::Connect { .. } | Mode::Problems { .. } => Outcome::Ignored,
            Mode::Add(p) => match p.handle_key(key, back) {
                Picked::Continue => Outcome::Consumed,
                Picked::Cancel => {
                    self.mode = Mode::Normal;
                    status(Level::Info, "nothing added".into())
                }
                Picked::NoMatch(t) => status(
                    Level::Warning,
                    format!("no operator kind matches `{t}`: Backspace and try again"),
                ),
                Picked::Kind(kind) => self.add(kind),
            },
            Mode::Form(f) => {
                if let Some(input) = &mut f.editing {
                    if back {
                        f.editing = None;
                        let row = &f.rows[f.selected];
                        return status(
                            Level::Info,
                            format!(
                                "edit of `{}` cancelled; it keeps {}",
                                row.name,
                                if row.text.is_empty() {
                                    "no value".to_string()
                                } else {
                                    row.text.clone()
                                }
                            ),
                        );
                    }
                    if key.typed().is_some() && input.handle(key) {
                        return Outcome::Consumed;
                    }
                    if cx.keymap.local_action("form", key) == Some("edit") {
                        return self.commit_row();
                    }
                    if input.handle(key) {
                        return Outcome::Consumed;
                    }
                    return Outcome::Ignored;
                }
                if !back {
                    return Outcome::Ignored;
                }
                if f.changed() && !f.confirm_discard {
                    f.confirm_discard = true;
                    return status(
                        Level::Warning,
                        "the form has unapplied rows: C-s applies them, Esc again discards them"
                            .into(),
                    );
                }
                let dropped = f.changed();
                self.mode = Mode::Normal;
                status(
                    Level::Info,
                    if dropped {
                        "form closed; its unapplied rows were discarded".into()
                    } else {
                        String::new()
                    },
                )
            }
            Mode::Sql { editor, .. } => {
                // quit, help and the palette stay reachable from the editor by their
                // non-printable keys (C-q, F1, ...), unless the sql context binds them
                let global = cx.keymap.local_action("global", key);
                if key.typed().is_none()
                    && cx.keymap.local_action("sql", key).is_none()
                    && matches!(global, Some("quit" | "help" | "palette"))
                {
                    editor.disarm();
                    return Outcome::Ignored;
                }
                let out = editor.handle_key(key, cx.keymap);
                self.sql_outcome(out)
            }
        }
    }

    fn sql_outcome(&mut self, out: SqlOutcome) -> Outcome {
        let Mode::Sql { node, .. } = &self.mode else {
            return Outcome::Consumed;
        };
        let node = *node;
        match out {
            SqlOutcome::Continue => Outcome::Consumed,
            SqlOutcome::Say(msg) => status(Level::Warning, msg),
            SqlOutcome::Cancel => {
                self.mode = Mode::Normal;
                status(Level::Info, "SQL not applied".into())
            }
            SqlOutcome::Apply(text) => {
                self.mode = Mode::Normal;
                let Some(Node::Sql(s)) = self.job.nodes.get_mut(node) else {
                    return status(Level::Error, "the SQL node is gone".into());
                };
                if s.query == text {
                    return status(Level::Info, "the SQL is unchanged".into());
                }
                s.query = text;
                let id = s.id.clone();
                self.changed(format!("applied the SQL of {id}"))
            }
        }
    }

    fn add(&mut self, kind: &str) -> Outcome {
        let Some(i) = edit::add_node(&mut self.job, kind) else {
            self.mode = Mode::Normal;
            return status(Level::Error, format!("cannot add a {kind}"));
        };
        self.sel = Selection::Node(i);
        self.dirty = true;
        self.refresh();
        self.mode = match Form::for_node(&self.job, i) {
            Some(f) => Mode::Form(Box::new(f)),
            None => Mode::Normal,
        };
        status(
            Level::Ok,
            format!(
                "added {} ({kind}): Enter edits a row, C-s applies",
                self.job.nodes[i].id()
            ),
        )
    }

    fn commit_row(&mut self) -> Outcome {
        let Mode::Form(f) = &mut self.mode else {
            return Outcome::Consumed;
        };
        let Some(name) = f.commit(&self.job) else {
            return Outcome::Consumed;
        };
        let row = &f.rows[f.selected];
        match row.problems.iter().find(|p| p.is_error()) {
            Some(p) => status(Level::Error, format!("`{name}`: {}", p.message)),
            None if f.decodes() => {
                status(Level::Ok, format!("`{name}` set · C-s applies the form"))
            }
            None => status(Level::Info, format!("`{name}` set")),
        }
    }

    /// A named action (keymap or palette) in the current mode.
    pub(super) fn act(&mut self, action: &str) -> Outcome {
        match action {
            "save" => return self.save(),
            "reload" => return self.reload(),
            _ => {}
        }
        match &mut self.mode {
            Mode::Normal => self.normal(action),
            Mode::Problems { top } => match action {
                "up" => {
                    *top = top.saturating_sub(1);
                    Outcome::Consumed
                }
                "down" => {
                    *top = (*top + 1).min(self.diagnostics.len().saturating_sub(1));
                    Outcome::Consumed
                }
                "validate" => {
                    self.mode = Mode::Normal;
                    Outcome::Consumed
                }
                _ => {
                    self.mode = Mode::Normal;
                    self.normal(action)
                }
            },
            Mode::Connect { from } => {
                let from = *from;
                match action {
                    "edit-node" | "connect" => self.finish_connect(from),
                    a if Dir::of(a).is_some() => self.normal(a),
                    _ => status(
                        Level::Warning,
                        "connecting: move to the target node, Enter connects, Esc cancels".into(),
                    ),
                }
            }
            Mode::Add(_) => Outcome::Consumed,
            Mode::Sql { editor, .. } => match action {
                "validate" | "template" | "apply" => {
                    let out = editor.perform(action);
                    self.sql_outcome(out)
                }
                _ => Outcome::Ignored,
            },
            Mode::Form(f) => match action {
                "up" | "down" => {
                    let msg = if f.editing.is_some() {
                        Some(self.commit_row())
                    } else {
                        None
                    };
                    if let Mode::Form(f) = &mut self.mode {
                        let n = f.rows.len();
                        f.selected = if action == "up" {
                            f.selected.saturating_sub(1)
                        } else {
                            (f.selected + 1).min(n.saturating_sub(1))
                        };
                        f.confirm_discard = false;
                    }
                    msg.unwrap_or(Outcome::Consumed)
                }
                "edit" => {
                    if f.editing.is_some() {
                        self.commit_row()
                    } else {
                        f.edit();
                        Outcome::Consumed
                    }
                }
                "apply" => self.apply_form(),
                _ => status(
                    Level::Warning,
                    "in the form: Enter edits, C-s applies, Esc closes".into(),
                ),
            },
        }
    }

    fn apply_form(&mut self) -> Outcome {
        let Mode::Form(f) = &mut self.mode else {
            return Outcome::Consumed;
        };
        if f.editing.is_some() {
            f.commit(&self.job);
        }
        if !f.changed() {
            self.mode = Mode::Normal;
            return status(Level::Info, "no changes".into());
        }
        match f.apply(&mut self.job) {
            Ok(msg) => {
                self.mode = Mode::Normal;
                self.changed(msg)
            }
            Err(msg) => status(Level::Error, msg.to_string()),
        }
    }

    fn finish_connect(&mut self, from: usize) -> Outcome {
        let Selection::Node(to) = self.sel else {
            return status(Level::Warning, "select the node to connect to".into());
        };
        match edit::connect(&mut self.job, from, to) {
            Ok((a, b)) => {
                self.mode = Mode::Normal;
                self.sel = Selection::Edge(self.job.edges.len() - 1);
                self.changed(format!("connected {a} → {b}"))
            }
            Err(msg) => status(Level::Warning, format!("{msg} (Esc cancels)")),
        }
    }

    /// Actions of the NORMAL mode.
    fn normal(&mut self, action: &str) -> Outcome {
        let nodes = self.job.nodes.len();
        let edges = self.job.edges.len();
        if let Some(dir) = Dir::of(action) {
            self.sel = match self.sel {
                _ if nodes == 0 => Selection::None,
                Selection::None => Selection::Node(0),
                Selection::Node(i) => {
                    Selection::Node(select::nearest(&self.layout, i, dir).unwrap_or(i))
                }
                Selection::Edge(k) => {
                    let (a, b) = &self.job.edges[k];
                    let end = if matches!(dir, Dir::Down | Dir::Right) {
                        b
                    } else {
                        a
                    };
                    select::node_index(&self.job, end).map_or(Selection::None, Selection::Node)
                }
            };
            return Outcome::Consumed;
        }
        match action {
            "next-edge" | "prev-edge" => {
                if edges == 0 {
                    return status(
                        Level::Info,
                        "no edges yet: c connects the selected node".into(),
                    );
                }
                let k = match (self.sel, action) {
                    (Selection::Edge(k), "next-edge") => (k + 1) % edges,
                    (Selection::Edge(k), _) => (k + edges - 1) % edges,
                    (_, "next-edge") => 0,
                    _ => edges - 1,
                };
                self.sel = Selection::Edge(k);
                Outcome::Consumed
            }
            "add-node" => {
                self.mode = Mode::Add(Default::default());
                Outcome::Consumed
            }
            "connect" => match self.sel {
                Selection::Node(i) if nodes > 1 => {
                    self.mode = Mode::Connect { from: i };
                    status(
                        Level::Info,
                        format!(
                            "connect {} to: move to the target, Enter connects, Esc cancels",
                            self.job.nodes[i].id()
                        ),
                    )
                }
                Selection::Node(_) => status(
                    Level::Warning,
                    "add another node first (a): nothing to connect to".into(),
                ),
                _ => status(Level::Warning, "select the node to connect from".into()),
            },
            "disconnect" => match self.sel {
                Selection::Edge(k) => {
                    let Some((a, b)) = edit::disconnect(&mut self.job, k) else {
                        return Outcome::Consumed;
                    };
                    self.sel =
                        select::node_index(&self.job, &a).map_or(Selection::None, Selection::Node);
                    self.changed(format!("disconnected {a} → {b}"))
                }
                _ => status(Level::Warning, "select an edge first (e / E)".into()),
            },
            "delete-node" => match self.sel {
                Selection::Node(i) => {
                    let Some((id, n)) = edit::delete_node(&mut self.job, i) else {
                        return Outcome::Consumed;
                    };
                    self.sel = match self.job.nodes.len() {
                        0 => Selection::None,
                        len => Selection::Node(i.min(len - 1)),
                    };
                    self.changed(format!(
                        "deleted {id} and {n} edge{} (C-r reloads from disk)",
                        plural(n)
                    ))
                }
                Selection::Edge(_) => {
                    status(Level::Warning, "an edge is selected: x removes it".into())
                }
                Selection::None => status(Level::Warning, "nothing to delete".into()),
            },
            "edit-node" => match self.sel {
                Selection::Node(i) => {
                    let f = Form::for_node(&self.job, i);
                    self.open_form(f)
                }
                Selection::Edge(_) => status(
                    Level::Warning,
                    "an edge has no parameters: select a node (arrows)".into(),
                ),
                Selection::None => status(Level::Info, "empty job: a adds an operator".into()),
            },
            "edit-sql" => self.open_sql(),
            "edit-config" => self.open_config(),
            "validate" => {
                self.refresh();
                self.mode = Mode::Problems { top: 0 };
                let level = if self.errors() == 0 {
                    Level::Ok
                } else {
                    Level::Warning
                };
                status(level, self.summary())
            }
            _ => Outcome::Ignored,
        }
    }
}
