//! The project on disk: folders and job files under `jobs/`. Create, rename, delete and
//! move keep the tree valid (names are checked, nothing is overwritten, a folder is only
//! deleted when empty).

use std::path::{Path, PathBuf};

use super::AppError;
use crate::jobfile;
use crate::model::{FORMAT_VERSION, Job, JobConfig, JobMode};

/// One row of the project tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Path relative to `jobs/`, with `/` separators.
    pub rel: String,
    pub name: String,
    pub depth: usize,
    pub is_folder: bool,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    /// The project whose directory holds (or is an ancestor of) `start`.
    pub fn discover(start: &Path) -> Project {
        Project {
            root: crate::project_root(start),
        }
    }

    pub fn name(&self) -> String {
        self.root
            .canonicalize()
            .unwrap_or_else(|_| self.root.clone())
            .file_name()
            .map_or_else(
                || "project".to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
    }

    pub fn jobs_dir(&self) -> PathBuf {
        self.root.join("jobs")
    }

    /// Absolute path of a tree entry.
    pub fn path_of(&self, rel: &str) -> PathBuf {
        self.jobs_dir().join(rel)
    }

    /// Folders first, then jobs, each sorted by name, depth-first.
    pub fn tree(&self) -> Result<Vec<TreeEntry>, AppError> {
        let mut out = Vec::new();
        let dir = self.jobs_dir();
        if dir.is_dir() {
            walk(&dir, "", 0, &mut out)?;
        }
        Ok(out)
    }

    /// Create `folder/name.ron` holding an empty online job named `name`.
    pub fn create_job(&self, folder: &str, name: &str) -> Result<String, AppError> {
        check_name(name)?;
        let rel = join(folder, &format!("{name}.ron"));
        let path = self.path_of(&rel);
        if path.exists() {
            return Err(AppError::User(format!(
                "a job named `{name}` already exists in {}",
                folder_label(folder)
            )));
        }
        let job = Job {
            version: FORMAT_VERSION,
            name: name.to_string(),
            description: String::new(),
            mode: JobMode::Online,
            config: JobConfig::default(),
            package: None,
            datasources: Default::default(),
            nodes: Vec::new(),
            edges: Vec::new(),
            positions: Default::default(),
        };
        self.ensure_dir(folder)?;
        weir_model::fsutil::write_atomic(&path, jobfile::to_ron(&job))
            .map_err(|e| AppError::io(format!("cannot write {rel}"), e))?;
        Ok(rel)
    }

    pub fn create_folder(&self, parent: &str, name: &str) -> Result<String, AppError> {
        check_name(name)?;
        let rel = join(parent, name);
        let path = self.path_of(&rel);
        if path.exists() {
            return Err(AppError::User(format!(
                "`{name}` already exists in {}",
                folder_label(parent)
            )));
        }
        std::fs::create_dir_all(&path)
            .map_err(|e| AppError::io(format!("cannot create folder {rel}"), e))?;
        Ok(rel)
    }

    /// Rename a job or folder in place; a job keeps its `.ron` extension and its `name`
    /// field follows the file name.
    pub fn rename(&self, rel: &str, new_name: &str) -> Result<String, AppError> {
        check_name(new_name)?;
        let from = self.path_of(rel);
        let is_job = from.is_file();
        let parent = parent_of(rel);
        let new_rel = join(
            &parent,
            &if is_job {
                format!("{new_name}.ron")
            } else {
                new_name.to_string()
            },
        );
        let to = self.path_of(&new_rel);
        if to.exists() {
            return Err(AppError::User(format!(
                "`{new_name}` already exists in {}",
                folder_label(&parent)
            )));
        }
        std::fs::rename(&from, &to).map_err(|e| AppError::io(format!("cannot rename {rel}"), e))?;
        if is_job {
            self.rename_job_inside(&to, new_name);
        }
        Ok(new_rel)
    }

    /// Keep the job's `name` in step with its file: only the text of the `name` string
    /// changes, so comments and layout stay as they are. A file that does not parse, or
    /// has no `name` string, is left alone.
    fn rename_job_inside(&self, path: &Path, new_name: &str) {
        let Some(src) = weir_model::jobfile::read_job_file(path)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        else {
            return;
        };
        if let Some(text) = with_name(&src, new_name)
            && let Err(e) = weir_model::fsutil::write_atomic(path, text)
        {
            tracing::warn!(
                "renamed {} but could not update its name: {e}",
                path.display()
            );
        }
    }

    /// Delete a job, or an empty folder.
    pub fn delete(&self, rel: &str) -> Result<(), AppError> {
        let path = self.path_of(rel);
        if path.is_dir() {
            let empty = std::fs::read_dir(&path)
                .map_err(|e| AppError::io(format!("cannot read {rel}"), e))?
                .next()
                .is_none();
            if !empty {
                return Err(AppError::User(format!(
                    "folder `{rel}` is not empty: delete or move its jobs first"
                )));
            }
            std::fs::remove_dir(&path).map_err(|e| AppError::io(format!("cannot delete {rel}"), e))
        } else {
            std::fs::remove_file(&path).map_err(|e| AppError::io(format!("cannot delete {rel}"), e))
        }
    }

    /// Move a job or folder into another folder (`""` = the top of `jobs/`).
    pub fn move_to(&self, rel: &str, folder: &str) -> Result<String, AppError> {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if folder == rel || folder.starts_with(&format!("{rel}/")) {
            return Err(AppError::User(format!("cannot move `{rel}` into itself")));
        }
        if !folder.is_empty() && !self.path_of(folder).is_dir() {
            return Err(AppError::User(format!("no folder `{folder}`")));
        }
        let new_rel = join(folder, name);
        if self.path_of(&new_rel).exists() {
            return Err(AppError::User(format!(
                "`{name}` already exists in {}",
                folder_label(folder)
            )));
        }
        std::fs::rename(self.path_of(rel), self.path_of(&new_rel))
            .map_err(|e| AppError::io(format!("cannot move {rel}"), e))?;
        Ok(new_rel)
    }

    fn ensure_dir(&self, folder: &str) -> Result<(), AppError> {
        let dir = self.path_of(folder);
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::io(format!("cannot create {}", dir.display()), e))
    }
}

fn walk(dir: &Path, prefix: &str, depth: usize, out: &mut Vec<TreeEntry>) -> Result<(), AppError> {
    let mut entries: Vec<(bool, String)> = std::fs::read_dir(dir)
        .map_err(|e| AppError::io(format!("cannot read {}", dir.display()), e))?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.file_type().ok()?.is_dir();
            (!name.starts_with('.') && (is_dir || name.ends_with(".ron"))).then_some((is_dir, name))
        })
        .collect();
    entries.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    for (is_dir, name) in entries {
        let rel = join(prefix, &name);
        let shown = if is_dir {
            name.clone()
        } else {
            name.trim_end_matches(".ron").to_string()
        };
        out.push(TreeEntry {
            rel: rel.clone(),
            name: shown,
            depth,
            is_folder: is_dir,
        });
        if is_dir {
            walk(&dir.join(&name), &rel, depth + 1, out)?;
        }
    }
    Ok(())
}

/// `src` with the string value of the top-level `name` field replaced by `name`.
fn with_name(src: &str, name: &str) -> Option<String> {
    let doc = jobfile::syntax::parse(src).ok()?;
    let value = &doc.value.field("name")?.value;
    if !matches!(value.kind, jobfile::syntax::Kind::Str(_)) {
        return None;
    }
    let span = value.span;
    let mut out = src.to_string();
    out.replace_range(span.start..span.end, &jobfile::print::escaped(name));
    Some(out)
}

fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

fn parent_of(rel: &str) -> String {
    rel.rsplit_once('/')
        .map_or(String::new(), |(p, _)| p.to_string())
}

fn folder_label(folder: &str) -> String {
    if folder.is_empty() {
        "jobs/".to_string()
    } else {
        format!("jobs/{folder}")
    }
}

/// Job and folder names: letters, digits, `_` and `-`, 1 to 64 characters.
pub fn check_name(name: &str) -> Result<(), AppError> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AppError::User("a name has 1 to 64 characters".into()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(AppError::User(format!(
            "`{name}` contains {c:?}: use letters, digits, `_` and `-`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> Project {
        let root = std::env::temp_dir().join(format!("weir-project-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("jobs")).unwrap();
        Project { root }
    }

    #[test]
    fn create_rename_move_delete() {
        let p = scratch("ops");
        assert_eq!(p.create_folder("", "team").unwrap(), "team");
        assert_eq!(p.create_job("team", "orders").unwrap(), "team/orders.ron");
        assert!(
            p.create_job("team", "orders")
                .unwrap_err()
                .to_string()
                .contains("already exists")
        );
        assert!(p.create_job("", "bad name").is_err());
        assert_eq!(
            p.rename("team/orders.ron", "orders_v2").unwrap(),
            "team/orders_v2.ron"
        );
        let job = jobfile::check_file(&p.path_of("team/orders_v2.ron"))
            .job
            .unwrap();
        assert_eq!(job.name, "orders_v2");
        // renaming changes the name and nothing else: comments and layout stay
        let src = "// my job\nJob(\n    version: 1, // v\n    name: \"a\",\n    nodes: [],\n)\n";
        std::fs::write(p.path_of("team/c.ron"), src).unwrap();
        p.rename("team/c.ron", "c2").unwrap();
        assert_eq!(
            std::fs::read_to_string(p.path_of("team/c2.ron")).unwrap(),
            src.replace("\"a\"", "\"c2\"")
        );
        p.delete("team/c2.ron").unwrap();
        assert_eq!(
            p.move_to("team/orders_v2.ron", "").unwrap(),
            "orders_v2.ron"
        );
        assert!(p.move_to("team", "team").is_err());
        let tree = p.tree().unwrap();
        assert_eq!(
            tree.iter().map(|e| e.rel.as_str()).collect::<Vec<_>>(),
            vec!["team", "orders_v2.ron"]
        );
        p.create_job("team", "x").unwrap();
        assert!(
            p.delete("team")
                .unwrap_err()
                .to_string()
                .contains("not empty")
        );
        p.delete("team/x.ron").unwrap();
        p.delete("team").unwrap();
        p.delete("orders_v2.ron").unwrap();
        assert!(p.tree().unwrap().is_empty());
    }
}
