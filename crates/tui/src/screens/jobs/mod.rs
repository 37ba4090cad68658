//! The job side of the workbench (SPEC R-life): versions, diffs, the edit lock and submit.
//!
//! - [`diff`]: `DiffScreen`, the graph and text diff between two texts of a job, opened
//!   from `:versions` (and from the inbox and `:releases`);
//! - [`versions`]: `:versions`, the version list of a job with diff, checkout and the lock;
//! - [`submit`]: the submit prompt and the submit running in the background;
//! - [`editor`]: what the graph editor adds for its job: the lock (read-only while someone
//!   else holds it, `L` takes it over), `:submit`, and noticing a checkout on disk;
//! - [`marks`]: the tree's markers (lock holder, working copy modified);
//! - [`work`]: a store write running in the background, ending in a status message.
//!
//! Everything goes through the app's use cases (`weir_app::jobs`, `Governance`) over the
//! store link: quick reads with `call`, writes and submits with `spawn`.

pub mod diff;
pub mod editor;
pub mod marks;
pub mod submit;
pub mod versions;
pub mod work;

use std::sync::atomic::{AtomicU64, Ordering};

use weir_app::jobs::{JobId, store_project};
use weir_app::project::Project;

/// The job of the project tree entry `rel` (`sub/name.ron`).
pub fn job_of(project: &Project, rel: &str) -> JobId {
    JobId::of_path(&project.root, rel)
}

/// The job of this checkout that the store names `project/path`, when it is one of
/// this checkout's store project (its working file is then here).
pub fn job_of_name(project: &Project, name: &str) -> Option<JobId> {
    let store = store_project(&project.root);
    let path = name.strip_prefix(&store)?.strip_prefix('/')?;
    Some(JobId::of_path(&project.root, path))
}

/// Bumped whenever a screen of this workbench takes or changes a job's lock, so that
/// other screens showing a lock read it again: the store's change feed does not report
/// our own writes to the screens.
static LOCK_EPOCH: AtomicU64 = AtomicU64::new(0);

/// A lock changed here.
pub fn lock_changed() {
    LOCK_EPOCH.fetch_add(1, Ordering::Relaxed);
}

/// How many lock changes happened here so far.
pub fn lock_epoch() -> u64 {
    LOCK_EPOCH.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_map_to_jobs_of_this_checkout() {
        let root = std::env::temp_dir().join(format!("weir-jobs-of-{}", std::process::id()));
        std::fs::create_dir_all(root.join(".weir")).unwrap();
        std::fs::write(root.join(".weir/project"), "shop\n").unwrap();
        let project = Project { root: root.clone() };
        if std::env::var_os("WEIR_PROJECT").is_none() {
            let job = job_of_name(&project, "shop/sub/orders").unwrap();
            assert_eq!(job.path, "sub/orders");
            assert_eq!(job.file, root.join("jobs/sub/orders.ron"));
            assert_eq!(job_of(&project, "sub/orders.ron"), job);
            assert!(job_of_name(&project, "other/orders").is_none());
            assert!(job_of_name(&project, "shopping/orders").is_none());
        }
        let before = lock_epoch();
        lock_changed();
        assert!(lock_epoch() > before);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
