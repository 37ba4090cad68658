//! The tree's job markers: who else holds a job's edit lock, and whether its working copy
//! differs from its latest version. Read in one store call for every job of the tree
//! (`weir job status` for each), when the tree loads or the store changes.

use std::collections::HashMap;

use weir_app::jobs::Working;
use weir_app::project::{Project, TreeEntry};
use weir_app::store_link::StoreLink;

use super::job_of;
use crate::tree::JobMark;

/// The markers of the jobs among `entries` (by relative path); jobs the store cannot tell
/// about (a project it does not know, an unreadable file) have none.
pub fn read(
    link: &StoreLink,
    project: &Project,
    entries: &[TreeEntry],
) -> HashMap<String, JobMark> {
    let me = link.login().to_string();
    let jobs: Vec<(String, weir_app::jobs::JobId)> = entries
        .iter()
        .filter(|e| !e.is_folder)
        .map(|e| (e.rel.clone(), job_of(project, &e.rel)))
        .collect();
    let gov = link.gov();
    link.call(async {
        let mut out = HashMap::new();
        for (rel, job) in &jobs {
            let Ok(state) = gov.job_state(job).await else {
                continue;
            };
            let mark = mark_of(&me, state.lock.map(|l| l.holder), &state.working);
            if !mark.is_empty() {
                out.insert(rel.clone(), mark);
            }
        }
        out
    })
}

/// The marker of a job locked by `holder` (`None`: nobody) whose working copy stands so,
/// seen by `me`.
pub fn mark_of(me: &str, holder: Option<String>, working: &Working) -> JobMark {
    JobMark {
        locked_by: holder.filter(|h| h != me),
        modified: *working == Working::Modified,
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::headless::frame_text;
    use crate::theme::Theme;
    use crate::tree::TreePane;

    #[test]
    fn marks_name_other_holders_and_modified_copies() {
        let bob = mark_of("ann", Some("bob".into()), &Working::Same);
        assert_eq!(bob.locked_by.as_deref(), Some("bob"));
        assert!(!bob.modified);
        let mine = mark_of("ann", Some("ann".into()), &Working::Modified);
        assert_eq!(mine.locked_by, None);
        assert!(mine.modified);
        assert!(mark_of("ann", None, &Working::New).is_empty());
    }

    #[test]
    fn the_tree_shows_the_marks_beside_the_names() {
        let mut tree = TreePane::default();
        for name in ["a.ron", "b.ron", "c.ron", "a_very_long_job_name_indeed.ron"] {
            tree.entries.push(TreeEntry {
                rel: name.into(),
                name: name.into(),
                depth: 0,
                is_folder: false,
            });
        }
        tree.marks.insert(
            "a.ron".into(),
            JobMark {
                locked_by: Some("bob".into()),
                modified: true,
            },
        );
        tree.marks.insert(
            "c.ron".into(),
            JobMark {
                locked_by: None,
                modified: true,
            },
        );
        tree.marks.insert(
            "a_very_long_job_name_indeed.ron".into(),
            JobMark {
                locked_by: Some("somebody_with_a_long_login".into()),
                modified: false,
            },
        );
        let mut term = Terminal::new(TestBackend::new(30, 7)).unwrap();
        term.draw(|f| tree.render(f, f.area(), &Theme::default(), false, None))
            .unwrap();
        let text = frame_text(term.backend().buffer());
        assert!(text.contains("a.ron * [bob]"), "{text}");
        assert!(!text.contains("b.ron *"), "{text}");
        assert!(text.contains("c.ron *"), "{text}");
        // a long name gives way to the markers, a long login is cut
        assert!(text.contains("│  a_very_lon… [somebody_wi…]│"), "{text}");
    }
}
