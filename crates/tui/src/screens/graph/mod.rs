//! `:graph` — the job graph editor: the job drawn with the same layout as `weir graph`,
//! a selection that moves across nodes and edges, operators added from a palette,
//! connected, disconnected and deleted, their parameters edited in a form that checks
//! every row against the job-file rules, SQL edited in the SQL editor, and the job's
//! problems always in view. Save writes the canonical layout of `weir fmt`, and changes
//! the file only where the job was edited, after checking nobody else changed it.
//!
//! Files: `select.rs` (spatial selection, scrolling), `edit.rs` (changes to the job),
//! `form.rs` (the parameter and config forms), `form_check.rs` (checking them row by
//! row), `form_view.rs` (drawing them),
//! `palette.rs` (the operator palette), `view.rs` (the canvas and the side panel),
//! `keys.rs` (what each key and action does in each mode), `saving.rs` (load, save,
//! reload, a file changed on disk) and `conflict.rs` (the prompt when it changed under
//! the editor). The job's lock (read-only
//! while someone else holds it), `:submit` and noticing a checkout on disk are
//! `screens::jobs::editor`'s.

mod conflict;
mod edit;
mod form;
mod form_check;
mod form_view;
mod keys;
mod palette;
mod saving;
pub(crate) mod select;
mod validation;
mod view;

#[cfg(test)]
mod tests;

use crate::refused::Refused;
use std::path::PathBuf;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::action::{Action, Level, Outcome};
use crate::graph::{self, layout};
use crate::jobfile::Diagnostic;
use crate::keys::Key;
use crate::model::Job;
use crate::screens::jobs::editor::{EditorJob, Tick};
use crate::screens::sql::SqlEditor;
use crate::screens::{Context, Screen};
use weir_app::project::Project;

use form::{Form, Target};
use palette::Palette;
use select::Selection;

/// What the editor is doing.
enum Mode {
    Normal,
    /// Choosing the node that `from` will feed.
    Connect {
        from: usize,
    },
    /// The operator palette of add-node.
    Add(Palette),
    Form(Box<Form>),
    /// The SQL editor of node `node`.
    Sql {
        node: usize,
        editor: Box<SqlEditor>,
    },
    /// Every diagnostic of the job, scrolled from `top`.
    Problems {
        top: usize,
    },
}

pub struct GraphScreen {
    rel: String,
    path: PathBuf,
    job: Job,
    diagnostics: Vec<Diagnostic>,
    /// For each diagnostic, the node it is about (by where it points in the file).
    diag_nodes: Vec<Option<usize>>,
    layout: layout::Layout,
    sel: Selection,
    /// Top-left cell of the canvas in view.
    scroll: (usize, usize),
    mode: Mode,
    dirty: bool,
    /// The lock, submit and the file on disk.
    side: EditorJob,
    /// The file as the editor last read or wrote it: what a save is checked against.
    disk: conflict::Disk,
    /// The file changed on disk: reload, overwrite or cancel?
    conflict: Option<conflict::Conflict>,
    /// The full check (`weir validate`'s) of the job and of the SQL being typed.
    validation: validation::Validation,
}

/// Every action of the graph context, for the palette.
const ACTIONS: &[(&str, &str)] = &[
    ("add-node", "add an operator"),
    ("connect", "connect the selected node to another"),
    ("disconnect", "remove the selected edge"),
    ("delete-node", "delete the selected node and its edges"),
    ("edit-node", "edit the node's parameters"),
    ("edit-sql", "edit the SQL of the selected node"),
    ("edit-config", "edit the job config"),
    ("validate", "validate the job and list every problem"),
    ("next-edge", "select the next edge"),
    ("prev-edge", "select the previous edge"),
    ("save", "save the job (as weir fmt writes it)"),
    ("reload", "reload the job from disk, dropping unsaved edits"),
    (
        "submit",
        "submit the saved job as a new version (asks for a message)",
    ),
    (
        "take-lock",
        "take the job's edit lock (over from its holder, after a y)",
    ),
];

impl GraphScreen {
    pub fn open(project: &Project, rel: &str) -> Result<GraphScreen, Refused> {
        let path = project.path_of(rel);
        let (job, text) = saving::load(&path).map_err(|e| format!("cannot open {rel}: {e}"))?;
        let mut s = GraphScreen {
            disk: conflict::Disk::of(text),
            conflict: None,
            rel: rel.to_string(),
            side: EditorJob::new(rel, &path),
            path,
            job,
            diagnostics: Vec::new(),
            diag_nodes: Vec::new(),
            layout: layout::Layout::default(),
            sel: Selection::None,
            scroll: (0, 0),
            mode: Mode::Normal,
            dirty: false,
            validation: validation::Validation::default(),
        };
        s.refresh();
        if !s.job.nodes.is_empty() {
            s.sel = Selection::Node(0);
        }
        Ok(s)
    }

    /// `jobs/<rel>`, as messages name the file.
    fn shown_path(&self) -> String {
        format!("jobs/{}", self.rel)
    }

    /// Re-layout and re-validate the job in memory; keep the selection in range.
    fn refresh(&mut self) {
        // the text a save would write: problems point where `weir validate` will
        let text = self.text();
        self.validate_job(&text);
        self.layout = layout::layout(&graph::job_graph(&self.job));
        self.sel = match self.sel {
            Selection::Node(i) if i >= self.job.nodes.len() => match self.job.nodes.len() {
                0 => Selection::None,
                n => Selection::Node(n - 1),
            },
            Selection::Edge(k) if k >= self.job.edges.len() => Selection::None,
            s => s,
        };
    }

    fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// "valid" or how many problems the job has; "checking…" while the full check runs.
    fn summary(&self) -> String {
        let e = self.errors();
        let w = self.diagnostics.len() - e;
        if self.checking() {
            return match w {
                0 => "checking…".into(),
                w => format!("checking… ({w} warning{} so far)", plural(w)),
            };
        }
        match (e, w) {
            (0, 0) => "the job is valid".into(),
            (0, w) => format!("valid, {w} warning{}", plural(w)),
            (e, 0) => format!("{e} problem{}", plural(e)),
            (e, w) => format!("{e} problem{}, {w} warning{}", plural(e), plural(w)),
        }
    }

    /// After a change: mark dirty, re-check, and say what happened and where the job
    /// stands.
    fn changed(&mut self, what: String) -> Outcome {
        self.dirty = true;
        self.refresh();
        let level = if self.errors() > 0 {
            Level::Warning
        } else if self.checking() {
            Level::Info
        } else {
            Level::Ok
        };
        let mut msg = format!("{what} · {}", self.summary());
        if let Some(d) = self.diagnostics.iter().find(|d| d.is_error()) {
            msg.push_str(&format!(": {}", d.message));
        }
        status(level, msg)
    }

    fn open_form(&mut self, form: Option<Form>) -> Outcome {
        match form {
            Some(f) => {
                self.mode = Mode::Form(Box::new(f));
                Outcome::Consumed
            }
            None => status(Level::Error, "this node has no form".into()),
        }
    }

    fn open_config(&mut self) -> Outcome {
        let f = Form::for_config(&self.job);
        self.open_form(Some(f))
    }

    /// The SQL editor of the selected node, or of the only SQL node.
    fn open_sql(&mut self) -> Outcome {
        use crate::model::Node;
        let sqls: Vec<usize> = (0..self.job.nodes.len())
            .filter(|&i| matches!(self.job.nodes[i], Node::Sql(_)))
            .collect();
        let i = match self.sel {
            Selection::Node(i) if sqls.contains(&i) => i,
            _ if sqls.len() == 1 => sqls[0],
            Selection::Node(i) => {
                let n = &self.job.nodes[i];
                return status(
                    Level::Warning,
                    format!(
                        "`{}` is a {}: s edits the SQL of a Sql node",
                        n.id(),
                        n.kind()
                    ),
                );
            }
            _ => return status(Level::Warning, "select a Sql node first".into()),
        };
        let Node::Sql(s) = &self.job.nodes[i] else {
            return Outcome::Consumed;
        };
        let upstream = edit::upstream_tables(&self.job, &s.id);
        let editor = SqlEditor::new(&s.id, &s.query, upstream);
        self.sel = Selection::Node(i);
        self.mode = Mode::Sql {
            node: i,
            editor: Box::new(editor),
        };
        Outcome::Consumed
    }
}

fn status(level: Level, msg: String) -> Outcome {
    Action::Status(level, msg).into()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl Screen for GraphScreen {
    fn name(&self) -> &'static str {
        "graph"
    }

    fn crumbs(&self) -> Vec<String> {
        let mut c: Vec<String> = self
            .rel
            .trim_end_matches(".ron")
            .split('/')
            .map(str::to_string)
            .collect();
        match (&self.mode, self.sel) {
            (Mode::Form(f), _) if f.target == Target::Config => c.push("config".into()),
            (_, Selection::Node(i)) => {
                if let Some(n) = self.job.nodes.get(i) {
                    c.push(n.id().to_string());
                }
            }
            (_, Selection::Edge(k)) => {
                if let Some((a, b)) = self.job.edges.get(k) {
                    c.push(format!("{a} → {b}"));
                }
            }
            _ => {}
        }
        if let Mode::Sql { .. } = self.mode {
            c.push("sql".into());
        }
        c
    }

    fn context(&self) -> &'static str {
        match self.mode {
            Mode::Form(_) => "form",
            Mode::Sql { .. } => "sql",
            _ => "graph",
        }
    }

    fn captures_text(&self) -> bool {
        !matches!(self.mode, Mode::Normal) || self.side.captures() || self.conflict.is_some()
    }

    fn job(&self) -> Option<String> {
        Some(self.rel.clone())
    }

    fn dirty(&self) -> bool {
        self.dirty
    }

    fn unsaved(&self) -> bool {
        self.dirty
            || match &self.mode {
                Mode::Form(f) => f.changed() || f.editing.is_some(),
                Mode::Sql { editor, .. } => editor.changed(),
                _ => false,
            }
    }

    /// `/` in the graph selects the first node whose id or kind matches; in a form, the
    /// first row whose name does.
    fn set_filter(&mut self, text: &str) {
        let t = text.trim().to_lowercase();
        if t.is_empty() {
            return;
        }
        match &mut self.mode {
            Mode::Form(f) => {
                if f.editing.is_none()
                    && let Some(i) = f.rows.iter().position(|r| r.name.contains(&t))
                {
                    f.selected = i;
                }
            }
            Mode::Normal | Mode::Problems { .. } => {
                let found = self.job.nodes.iter().position(|n| {
                    n.id().to_lowercase().contains(&t) || n.kind().to_lowercase().contains(&t)
                });
                if let Some(i) = found {
                    self.sel = Selection::Node(i);
                }
            }
            _ => {}
        }
    }

    fn mode(&self) -> &'static str {
        if self.conflict.is_some() {
            return "CONFIRM";
        }
        if let (Some(m), Mode::Normal | Mode::Problems { .. }) = (self.side.mode(), &self.mode) {
            return m;
        }
        match &self.mode {
            Mode::Normal | Mode::Problems { .. } => "NORMAL",
            Mode::Connect { .. } => "CONNECT",
            Mode::Add(_) => "ADD",
            Mode::Form(f) if f.editing.is_some() => "EDIT",
            Mode::Form(_) => "FORM",
            Mode::Sql { .. } => "SQL",
        }
    }

    fn handle_key(&mut self, key: Key, cx: &Context) -> Outcome {
        if self.conflict.is_some() {
            return self.conflict_key(key);
        }
        if self.side.captures() {
            return self.side.key(key, cx);
        }
        self.key(key, cx)
    }

    fn perform(&mut self, action: &str, cx: &Context) -> Outcome {
        let unsaved = self.unsaved();
        match self.side.perform(action, cx, unsaved) {
            Some(out) => out,
            None => self.act(action),
        }
    }

    fn busy(&self) -> bool {
        self.side.busy()
    }

    fn tick(&mut self, cx: &Context, changed: bool) -> Option<Action> {
        let verdict = self.take_verdicts();
        let unsaved = self.unsaved();
        match self.side.tick(cx, changed, unsaved) {
            Tick::Idle => verdict,
            Tick::Say(a) => Some(a),
            Tick::FileChanged => self.changed_on_disk().or(verdict),
            Tick::ChangedUnderEdits => self.changed_under_edits().or(verdict),
        }
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        match &self.mode {
            Mode::Sql { .. } => vec![
                ("validate", "check the SQL"),
                ("template", "insert a template"),
                ("apply", "apply the SQL to the node"),
                ("save", "save the job"),
            ],
            Mode::Form(_) => vec![
                ("edit", "edit the field / finish editing"),
                ("apply", "apply the form"),
                ("save", "save the job"),
                ("reload", "reload the job from disk"),
            ],
            _ => ACTIONS.to_vec(),
        }
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, cx: &Context, focused: bool) {
        match &mut self.mode {
            Mode::Form(f) => f.render(frame, area, cx.theme, &self.job, focused),
            Mode::Sql { editor, .. } => editor.render(frame, area, cx.theme, focused),
            _ => view::render(self, frame, area, cx.theme, focused),
        }
        self.side.render(frame, area, cx.theme, cx);
        if let Some(c) = &self.conflict {
            c.render(frame, area, cx.theme);
        }
    }
}
