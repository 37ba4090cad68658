//! Which job a command means. A job's identity is its store project and its path under
//! `jobs/` without `.ron` (`shop/clickstream_pv` for `jobs/clickstream_pv.ron` of a
//! checkout of project `shop`). The working file in git is the job's working copy.
//!
//! The store project of a checkout is, in this order: `WEIR_PROJECT`, the first line of
//! `.weir/project` (written by `weir project use NAME`), or the checkout directory's name.

use std::path::{Path, PathBuf};

use crate::AppError;

/// The file that names a checkout's store project.
pub const PROJECT_FILE: &str = "project";

/// The store project of the checkout at `root` (see the module docs).
pub fn store_project(root: &Path) -> String {
    if let Ok(p) = std::env::var("WEIR_PROJECT")
        && !p.trim().is_empty()
    {
        return p.trim().to_string();
    }
    if let Ok(text) = std::fs::read_to_string(root.join(".weir").join(PROJECT_FILE))
        && let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty())
    {
        return line.to_string();
    }
    crate::project::Project {
        root: root.to_path_buf(),
    }
    .name()
}

/// Record `name` as the store project of the checkout at `root` (`.weir/project`).
pub fn use_project(root: &Path, name: &str) -> Result<PathBuf, AppError> {
    let dir = root.join(".weir");
    std::fs::create_dir_all(&dir)
        .map_err(|e| AppError::io(format!("cannot create {}", dir.display()), e))?;
    let file = dir.join(PROJECT_FILE);
    weir_model::fsutil::write_atomic(&file, format!("{name}\n"))
        .map_err(|e| AppError::io(format!("cannot write {}", file.display()), e))?;
    Ok(file)
}

/// A job of a checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobId {
    /// The store project.
    pub project: String,
    /// The path under `jobs/`, `/`-separated, without `.ron`.
    pub path: String,
    /// The working file.
    pub file: PathBuf,
    /// The checkout's root (holds `jobs/` and `.weir/`).
    pub root: PathBuf,
}

impl JobId {
    /// `project/path`, as the store names it.
    pub fn name(&self) -> String {
        format!("{}/{}", self.project, self.path)
    }

    /// The job of the checkout at `root` whose path under `jobs/` is `path`
    /// (`sub/name`, without `.ron`).
    pub fn of_path(root: &Path, path: &str) -> JobId {
        let path = path.trim_matches('/').trim_end_matches(".ron").to_string();
        JobId {
            project: store_project(root),
            file: root.join("jobs").join(format!("{path}.ron")),
            path,
            root: root.to_path_buf(),
        }
    }

    /// The job a command-line argument names, seen from `cwd`: a job file
    /// (`jobs/clickstream_pv.ron`, any path to a `.ron` under a project's `jobs/`) or a
    /// path under `jobs/` (`clickstream_pv`, `sub/name`). The file need not exist (a
    /// checkout of a version may create it).
    pub fn resolve(arg: &str, cwd: &Path) -> Result<JobId, AppError> {
        let arg = arg.trim();
        if arg.is_empty() {
            return Err(AppError::User(
                "no job given; name a job file (jobs/name.ron) or its path under jobs/ (name)"
                    .into(),
            ));
        }
        let as_file = cwd.join(arg);
        if arg.ends_with(".ron") || as_file.is_file() {
            let file = std::fs::canonicalize(&as_file).unwrap_or(as_file);
            let root = crate::project_root(file.parent().unwrap_or(cwd));
            let jobs = root.join("jobs");
            let Ok(rel) = file.strip_prefix(&jobs) else {
                return Err(AppError::User(format!(
                    "{} is not under a project's jobs/ folder; versions are kept for the jobs of a project (move it under {})",
                    file.display(),
                    jobs.display()
                )));
            };
            let path = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            return Ok(JobId {
                project: store_project(&root),
                path,
                file,
                root,
            });
        }
        let root = crate::project_root(cwd);
        if arg.contains("..") || arg.starts_with('/') {
            return Err(AppError::User(format!(
                "`{arg}` is not a job path; name a job by its path under jobs/ (sub/name)"
            )));
        }
        Ok(JobId::of_path(&root, arg))
    }
}

/// Which text of a job a command means: `JOB@4` (a version), `working` (the file),
/// `live` (the live release's version) or `latest` (the newest version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Version number N.
    Version(i64),
    /// The working file.
    Working,
    /// The version of the job's live release.
    Live,
    /// The newest version.
    Latest,
}

impl Which {
    /// Parses `4`, `v4`, `working`, `live`, `latest`.
    pub fn parse(s: &str) -> Result<Which, AppError> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "working" | "work" | "file" => Ok(Which::Working),
            "live" | "prod" => Ok(Which::Live),
            "latest" | "head" => Ok(Which::Latest),
            _ => t
                .trim_start_matches('v')
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .map(Which::Version)
                .ok_or_else(|| {
                    AppError::User(format!(
                        "`{s}` is not a version; use a version number (4), working, live or latest"
                    ))
                }),
        }
    }

    /// How people see it.
    pub fn label(self) -> String {
        match self {
            Which::Version(n) => format!("version {n}"),
            Which::Working => "the working file".into(),
            Which::Live => "the live version".into(),
            Which::Latest => "the latest version".into(),
        }
    }
}

/// Splits `JOB@4` into the job argument and the version (`None` without `@`).
pub fn split_at_version(arg: &str) -> Result<(&str, Option<Which>), AppError> {
    match arg.rsplit_once('@') {
        Some((job, v)) => Ok((job, Some(Which::parse(v)?))),
        None => Ok((arg, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(Which::parse("4").unwrap(), Which::Version(4));
        assert_eq!(Which::parse("v12").unwrap(), Which::Version(12));
        assert_eq!(Which::parse("working").unwrap(), Which::Working);
        assert_eq!(Which::parse("LIVE").unwrap(), Which::Live);
        assert!(Which::parse("0").is_err());
        assert!(Which::parse("x").is_err());
        let (job, v) = split_at_version("jobs/a.ron@3").unwrap();
        assert_eq!((job, v), ("jobs/a.ron", Some(Which::Version(3))));
    }

    #[test]
    fn a_job_is_named_by_file_or_by_path() {
        let dir = std::env::temp_dir().join(format!("weir-ident-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("jobs/sub")).unwrap();
        std::fs::create_dir_all(dir.join(".weir")).unwrap();
        std::fs::write(dir.join(".weir/project"), "shop\n").unwrap();
        std::fs::write(dir.join("jobs/sub/a.ron"), "Job()").unwrap();
        let dir = std::fs::canonicalize(&dir).unwrap();
        let by_file = JobId::resolve("jobs/sub/a.ron", &dir).unwrap();
        let by_path = JobId::resolve("sub/a", &dir).unwrap();
        assert_eq!(by_file.path, "sub/a");
        assert_eq!(by_file, by_path);
        if std::env::var_os("WEIR_PROJECT").is_none() {
            assert_eq!(by_file.name(), "shop/sub/a");
        }
        assert!(JobId::resolve("../x", &dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
