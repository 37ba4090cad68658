//! The project tree pane: folders and jobs of `jobs/`, foldable, filterable, with
//! create / rename / delete / move through prompts. With a metadata store, each job shows
//! who else holds its edit lock (`[bob]`) and `*` when its working copy differs from its
//! latest version (read by the workbench when the tree or the store changes, never while
//! drawing).

use std::collections::{BTreeSet, HashMap};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::action::{Action, Level, Outcome};
use super::overlay::{Overlay, PromptKind};
use super::theme::Theme;
use weir_app::project::{Project, TreeEntry};

#[derive(Default)]
pub struct TreePane {
    pub entries: Vec<TreeEntry>,
    pub selected: usize,
    pub filter: String,
    /// Folded folders, by relative path.
    pub folded: BTreeSet<String>,
    /// Lock and working-copy markers of jobs, by relative path.
    pub marks: HashMap<String, JobMark>,
}

/// What the tree shows beside a job's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobMark {
    /// Someone else holds the job's edit lock.
    pub locked_by: Option<String>,
    /// The working copy differs from the latest version.
    pub modified: bool,
}

impl JobMark {
    /// Whether the mark shows anything.
    pub fn is_empty(&self) -> bool {
        self.locked_by.is_none() && !self.modified
    }
}

impl TreePane {
    pub fn load(project: &Project) -> (TreePane, Option<String>) {
        let mut t = TreePane::default();
        let err = t.reload(project, None);
        (t, err)
    }

    /// Re-read the tree, keeping (or moving) the selection. Returns an error message.
    pub fn reload(&mut self, project: &Project, select: Option<&str>) -> Option<String> {
        let keep = select
            .map(str::to_string)
            .or_else(|| self.current().map(|e| e.rel.clone()));
        let err = match project.tree() {
            Ok(e) => {
                self.entries = e;
                None
            }
            Err(e) => Some(e.to_string()),
        };
        let visible = self.visible();
        self.selected = keep
            .and_then(|k| visible.iter().position(|e| e.rel == k))
            .unwrap_or(0);
        err
    }

    /// Entries shown: not inside a folded folder, and matching the filter (a folder is
    /// shown when something inside it matches).
    pub fn visible(&self) -> Vec<&TreeEntry> {
        let f = self.filter.to_lowercase();
        self.entries
            .iter()
            .filter(|e| {
                !self
                    .folded
                    .iter()
                    .any(|d| e.rel.starts_with(&format!("{d}/")))
            })
            .filter(|e| {
                f.is_empty()
                    || e.rel.to_lowercase().contains(&f)
                    || (e.is_folder
                        && self.entries.iter().any(|x| {
                            x.rel.starts_with(&format!("{}/", e.rel))
                                && x.rel.to_lowercase().contains(&f)
                        }))
            })
            .collect()
    }

    pub fn current(&self) -> Option<&TreeEntry> {
        self.visible().get(self.selected).copied()
    }

    /// The folder new entries go into: the selected folder, or the selected job's.
    pub fn current_folder(&self) -> String {
        match self.current() {
            Some(e) if e.is_folder => e.rel.clone(),
            Some(e) => e
                .rel
                .rsplit_once('/')
                .map_or(String::new(), |(p, _)| p.to_string()),
            None => String::new(),
        }
    }

    /// Select the entry at `rel` if it is visible.
    pub fn select(&mut self, rel: &str) {
        if let Some(i) = self.visible().iter().position(|e| e.rel == rel) {
            self.selected = i;
        }
    }

    pub fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.selected = 0;
    }

    /// Run a tree action; may open a prompt overlay.
    pub fn perform(&mut self, action: &str, overlay: &mut Option<Overlay>) -> Outcome {
        let n = self.visible().len();
        match action {
            "up" => self.selected = self.selected.saturating_sub(1),
            "down" => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            "open" => match self.current().cloned() {
                Some(e) if e.is_folder && !self.folded.remove(&e.rel) => {
                    self.folded.insert(e.rel);
                }
                Some(e) if e.is_folder => {}
                Some(e) => return Action::OpenJob(e.rel).into(),
                None => {}
            },
            "new-job" => {
                *overlay = Some(Overlay::prompt(
                    PromptKind::NewJob {
                        folder: self.current_folder(),
                    },
                    "",
                ))
            }
            "new-folder" => {
                *overlay = Some(Overlay::prompt(
                    PromptKind::NewFolder {
                        parent: self.current_folder(),
                    },
                    "",
                ))
            }
            "rename" => match self.current() {
                Some(e) => {
                    *overlay = Some(Overlay::prompt(
                        PromptKind::Rename { rel: e.rel.clone() },
                        &e.name,
                    ))
                }
                None => return nothing_selected(),
            },
            "move" => match self.current() {
                Some(e) => {
                    *overlay = Some(Overlay::prompt(PromptKind::Move { rel: e.rel.clone() }, ""))
                }
                None => return nothing_selected(),
            },
            "delete" => match self.current() {
                Some(e) => *overlay = Some(Overlay::confirm_delete(&e.rel)),
                None => return nothing_selected(),
            },
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    pub fn render(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        focused: bool,
        open_job: Option<&str>,
    ) {
        let title = if self.filter.is_empty() {
            " jobs ".to_string()
        } else {
            format!(" jobs /{} ", self.filter)
        };
        let block = theme.pane(title, focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let visible = self.visible();
        let height = inner.height as usize;
        let top = self.selected.saturating_sub(height.saturating_sub(1));
        let lines: Vec<Line> = visible
            .iter()
            .enumerate()
            .skip(top)
            .take(height)
            .map(|(i, e)| {
                let marker = if e.is_folder {
                    if self.folded.contains(&e.rel) {
                        "▸ "
                    } else {
                        "▾ "
                    }
                } else if open_job == Some(e.rel.as_str()) {
                    "● "
                } else {
                    "  "
                };
                let text = format!("{}{marker}{}", "  ".repeat(e.depth), e.name);
                let selected = i == self.selected && focused;
                let style = if selected {
                    theme.selected()
                } else if e.is_folder {
                    theme.accent()
                } else {
                    theme.base()
                };
                let Some(m) = self.marks.get(&e.rel).filter(|m| !m.is_empty()) else {
                    return Line::styled(text, style);
                };
                // the markers stay in view: a long name gives way to them
                let or = |s| if selected { style } else { s };
                let mut tail = Vec::new();
                if m.modified {
                    tail.push(Span::styled(" *", or(theme.warning())));
                }
                if let Some(holder) = &m.locked_by {
                    tail.push(Span::styled(
                        format!(" [{}]", cut(holder, 12)),
                        or(theme.muted()),
                    ));
                }
                let used: usize = tail.iter().map(|s| s.content.chars().count()).sum();
                let room = (inner.width as usize).saturating_sub(used).max(4);
                let mut spans = vec![Span::styled(cut(&text, room), style)];
                spans.extend(tail);
                Line::from(spans)
            })
            .collect();
        if lines.is_empty() {
            let msg = if self.filter.is_empty() {
                "no jobs: n creates one"
            } else {
                "nothing matches"
            };
            frame.render_widget(Paragraph::new(Line::styled(msg, theme.muted())), inner);
        } else {
            frame.render_widget(Paragraph::new(lines), inner);
        }
    }
}

/// `s` in at most `w` characters, ending in `…` when cut.
fn cut(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn nothing_selected() -> Outcome {
    Action::Status(Level::Warning, "nothing selected".into()).into()
}
