//! The graph editor's verdict: the job in memory and the query being typed in the SQL
//! editor are checked as `weir validate` checks a file ([`crate::validation`]), in the
//! background and after a pause in typing. The model's own rules run at once on the UI
//! thread (they lay out the problems and are all `weir validate` says when they refuse
//! the job); the engine's SQL planning is the validator's. The first check of an opened
//! job is made before its first frame, so it never opens as "checking…".

use super::{GraphScreen, Mode};
use crate::action::{Action, Level};
use crate::jobfile::{self, Diagnostic};
use crate::model::Node;
use crate::screens::sql::FoundProblem;
use crate::validation::{self, Validator};

/// The validators of one graph editor and what they were last asked.
#[derive(Default)]
pub(super) struct Validation {
    /// The job in memory.
    job: Validator,
    /// The job with the SQL editor's text in its node.
    draft: Validator,
    /// The editor text the draft validator was last asked about.
    draft_query: Option<String>,
    started: bool,
}

impl GraphScreen {
    /// Check the job's canonical text: the model's rules now, the full check in the
    /// background (or now, the first time). Shows what is known.
    pub(super) fn validate_job(&mut self, text: &str) {
        let file = self.shown_path();
        if !self.validation.started {
            self.validation.started = true;
            let verdict = self.validation.job.check_now(&file, text);
            self.show(text, verdict.checked.diagnostics);
            return;
        }
        if self.validation.job.settled_on(text) {
            // unchanged since its verdict (a save, `v`): the shown problems stand
            return;
        }
        let fast = jobfile::check_source(&file, text);
        if fast.has_errors() {
            // `weir validate` adds nothing to the model's refusals
            self.validation.job.settle(text);
        } else {
            self.validation.job.request(&file, text, false);
        }
        self.show(text, fast.diagnostics);
    }

    fn show(&mut self, text: &str, diagnostics: Vec<Diagnostic>) {
        self.diag_nodes = super::view::diagnostic_nodes(text, &diagnostics);
        self.diagnostics = diagnostics;
    }

    /// The job's full check has not come back yet.
    pub(super) fn checking(&self) -> bool {
        self.validation.job.pending()
    }

    /// A turn of the event loop: ask about the SQL editor's text when it changed, and
    /// take the verdicts that arrived. A verdict that finds problems says so.
    pub(super) fn take_verdicts(&mut self) -> Option<Action> {
        self.check_draft();
        if let Some(v) = self.validation.draft.poll() {
            self.show_draft(&v.text, &v.checked.diagnostics);
        }
        let v = self.validation.job.poll()?;
        self.show(&v.text, v.checked.diagnostics);
        let first = self.diagnostics.iter().find(|d| d.is_error())?;
        Some(Action::Status(
            Level::Warning,
            format!(
                "{} ({}): {}",
                self.summary(),
                validation::BASIS,
                first.message
            ),
        ))
    }

    /// In the SQL editor: the job with the editor's text, checked in the background once
    /// the typing pauses, or at once when the editor asked (`validate`).
    fn check_draft(&mut self) {
        let Mode::Sql { node, editor } = &mut self.mode else {
            self.validation.draft_query = None;
            return;
        };
        let now = editor.take_check_wanted();
        let query = editor.text();
        match &self.validation.draft_query {
            // the editor just opened on the node's query, whose verdict is the job's
            None if !now => {
                self.validation.draft_query = Some(query);
                return;
            }
            Some(last) if !now && *last == query => return,
            _ => {}
        }
        let node = *node;
        let mut job = self.job.clone();
        if let Some(Node::Sql(s)) = job.nodes.get_mut(node) {
            s.query = query.clone();
        }
        let file = format!("jobs/{}", self.rel);
        self.validation.draft_query = Some(query.clone());
        if now {
            let text = jobfile::to_ron(&job);
            let verdict = self.validation.draft.check_now(&file, &text);
            self.show_draft(&text, &verdict.checked.diagnostics);
        } else {
            // the job's text is written on the validator's thread, not between two keys
            let render = move || jobfile::to_ron(&job);
            self.validation
                .draft
                .request_rendered(&file, &query, render, false);
            if let Mode::Sql { editor, .. } = &mut self.mode
                && self.validation.draft.pending()
            {
                editor.set_pending();
            }
        }
    }

    /// Hand the editor the problems of its query in a check of the job text `text`.
    fn show_draft(&mut self, text: &str, diagnostics: &[Diagnostic]) {
        let Mode::Sql { node, editor } = &mut self.mode else {
            return;
        };
        let query = match self.validation.draft_query.clone() {
            Some(q) => q,
            None => return,
        };
        let (inside, elsewhere) = validation::query_problems(text, *node, diagnostics);
        let found = inside
            .into_iter()
            .map(|p| FoundProblem {
                start: p.start,
                end: p.end,
                message: p.diagnostic.message,
                hint: p.diagnostic.hint,
            })
            .collect();
        editor.set_verdict(query, found, elsewhere);
    }
}
