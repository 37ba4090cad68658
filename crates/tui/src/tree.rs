//! The project tree pane: folders and jobs of `jobs/`, foldable, filterable, with
//! create / rename / delete / move through prompts. With a metadata store, each job shows
//! who else holds its edit lock (`[bob]`) and `*` when its working copy differs from its
//! latest version (read by the workbench when the tree or the store changes, never while
//! drawing). Files added or removed by others (a copy, a `git pull`) are noticed by
//! `poll`, which lists `jobs/` again every [`POLL_EVERY`] of the event loop.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

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
    /// When `poll` last listed `jobs/`.
    pub polled: Option<Instant>,
}

/// How often `poll` lists `jobs/` again: a directory walk of a few system calls, so
/// an idle workbench stays far below 1% of a core.
pub const POLL_EVERY: Duration = Duration::from_millis(1500);

/// The most names a poll's message lists of each kind.
const NAMED: usize = 3;

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

    /// A turn of the event loop: at most every [`POLL_EVERY`], list `jobs/` and, when
    /// entries were added or removed on disk, show them, keeping the cursor on the same
    /// entry. Returns the message to show then.
    pub fn poll(&mut self, project: &Project) -> Option<String> {
        let now = Instant::now();
        if self
            .polled
            .is_some_and(|t| now.duration_since(t) < POLL_EVERY)
        {
            return None;
        }
        self.polled = Some(now);
        self.poll_now(project)
    }

    /// [`TreePane::poll`] without waiting for its time.
    pub fn poll_now(&mut self, project: &Project) -> Option<String> {
        // an unreadable jobs/ is reported by the next reload, not every poll
        let fresh = project.tree().ok()?;
        if fresh == self.entries {
            return None;
        }
        let named = |of: &[TreeEntry], not_in: &[TreeEntry]| -> Vec<String> {
            of.iter()
                .filter(|e| !not_in.iter().any(|x| x.rel == e.rel))
                .map(|e| {
                    if e.is_folder {
                        format!("{}/", e.rel)
                    } else {
                        e.rel.clone()
                    }
                })
                .collect()
        };
        let added = named(&fresh, &self.entries);
        let removed = named(&self.entries, &fresh);
        let keep = self.current().map(|e| e.rel.clone());
        let index = self.selected;
        self.entries = fresh;
        self.folded
            .retain(|d| self.entries.iter().any(|e| e.is_folder && e.rel == *d));
        let visible = self.visible();
        self.selected = keep
            .and_then(|k| visible.iter().position(|e| e.rel == k))
            .unwrap_or_else(|| index.min(visible.len().saturating_sub(1)));
        let list = |names: &[String]| {
            let mut s = names
                .iter()
                .take(NAMED)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if names.len() > NAMED {
                s.push_str(&format!(" and {} more", names.len() - NAMED));
            }
            s
        };
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("new {}", list(&added)));
        }
        if !removed.is_empty() {
            parts.push(format!("gone {}", list(&removed)));
        }
        Some(match parts.is_empty() {
            true => "jobs/ changed on disk".to_string(),
            false => format!("jobs/ changed on disk: {}", parts.join("; ")),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn project(name: &str) -> Project {
        let root = std::env::temp_dir().join(format!("weir-tree-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("jobs/shop")).unwrap();
        for f in ["a.ron", "c.ron", "shop/pv.ron"] {
            std::fs::write(root.join("jobs").join(f), "Job(version: 1, name: \"x\")\n").unwrap();
        }
        Project { root }
    }

    #[test]
    fn a_poll_shows_files_added_and_removed_on_disk_and_keeps_the_cursor() {
        let p = project("poll");
        let (mut t, err) = TreePane::load(&p);
        assert_eq!(err, None);
        t.select("c.ron");
        assert_eq!(t.poll_now(&p), None, "nothing changed");
        std::fs::write(p.path_of("b.ron"), "Job(version: 1, name: \"b\")\n").unwrap();
        std::fs::write(p.path_of("shop/uv.ron"), "Job(version: 1, name: \"uv\")\n").unwrap();
        let msg = t.poll_now(&p).unwrap();
        assert_eq!(msg, "jobs/ changed on disk: new shop/uv.ron, b.ron");
        assert!(t.entries.iter().any(|e| e.rel == "b.ron"));
        assert_eq!(t.current().map(|e| e.rel.as_str()), Some("c.ron"));
        // the selected entry goes: the cursor stays where it was
        std::fs::remove_file(p.path_of("c.ron")).unwrap();
        let at = t.selected;
        assert_eq!(t.poll_now(&p).unwrap(), "jobs/ changed on disk: gone c.ron");
        assert_eq!(t.selected, at.min(t.visible().len() - 1));
        // `poll` lists jobs/ at most every POLL_EVERY
        assert!(t.poll(&p).is_none());
        std::fs::write(p.path_of("d.ron"), "Job(version: 1, name: \"d\")\n").unwrap();
        assert_eq!(t.poll(&p), None, "polled a moment ago");
        t.polled = Instant::now().checked_sub(POLL_EVERY);
        assert_eq!(t.poll(&p).unwrap(), "jobs/ changed on disk: new d.ron");
        std::fs::remove_dir_all(&p.root).unwrap();
    }
}
