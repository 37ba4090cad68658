//! Releases as use cases: request a version's release, list releases, review one (the
//! diff against the live version and the hash being approved), approve with a hash
//! check, go live and take offline. The store keeps the state machine
//! (`formats/governance.md`) and checks every rule.

use serde::Serialize;

use super::diff::{JobDiffReport, Side, between};
use super::{GoLiveSpec, JobId, Release, ReleaseFilter, ReleaseState, WentLive, Which};
use crate::AppError;
use crate::governance::{Decided, Governance, Request};

/// What an approver reviews: the release, the version live now, and the diff from it.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseReview {
    /// The release asked for.
    pub release: Release,
    /// The version live now, if any.
    pub live_version: Option<i64>,
    /// From the live version (or from nothing, for a first release) to the proposed one.
    pub diff: JobDiffReport,
    /// What the release does to the state of the live release's production instance
    /// (None for a first release).
    pub state: Option<super::StatePreview>,
}

impl Governance {
    /// Ask for version `which` (a number or `latest`) of `job` to go to production.
    pub async fn request_release(
        &self,
        job: &JobId,
        which: Which,
        note: &str,
    ) -> Result<Request, AppError> {
        let number = match which {
            Which::Version(n) => n,
            Which::Latest => {
                self.job_version(&job.name(), Which::Latest)
                    .await?
                    .info
                    .number
            }
            Which::Working | Which::Live => {
                return Err(AppError::User(format!(
                    "a release names a submitted version ({}@4 or {}@latest), not {}",
                    job.path,
                    job.path,
                    which.label()
                )));
            }
        };
        Ok(self
            .session()
            .request_release(&job.name(), number, note)
            .await?)
    }

    /// Releases, newest first, filtered by job and state.
    pub async fn releases(&self, filter: &ReleaseFilter) -> Result<Vec<Release>, AppError> {
        Ok(self.session().releases(filter).await?)
    }

    /// One release.
    pub async fn release(&self, id: i64) -> Result<Release, AppError> {
        Ok(self.session().release(id).await?)
    }

    /// The live release of `job` (`project/path`), if any.
    pub async fn live_release(&self, job: &str) -> Result<Option<Release>, AppError> {
        let live = self
            .releases(&ReleaseFilter {
                job: Some(job.to_string()),
                state: Some(ReleaseState::Live),
            })
            .await?;
        Ok(live.into_iter().next())
    }

    /// Release `id` with the diff from the job's live version to the proposed one.
    pub async fn review_release(&self, id: i64) -> Result<ReleaseReview, AppError> {
        let release = self.release(id).await?;
        let proposed = self
            .job_version(&release.job, Which::Version(release.version))
            .await?;
        let live = self.live_release(&release.job).await?;
        let (a_side, a_text, state) = match &live {
            Some(l) => {
                let v = self
                    .job_version(&release.job, Which::Version(l.version))
                    .await?;
                let project = std::env::current_dir()
                    .map(|d| crate::project_root(&d))
                    .unwrap_or_default();
                let state = self
                    .state_preview(l, &v.text, &proposed.text, &project)
                    .await;
                (
                    Side {
                        label: format!("live version {} ({})", v.info.number, v.info.short_hash()),
                        hash: v.info.hash,
                    },
                    v.text,
                    Some(state),
                )
            }
            None => (
                Side {
                    label: "nothing live".into(),
                    hash: String::new(),
                },
                empty_job(&proposed.text),
                None,
            ),
        };
        let diff = between(
            &release.job,
            (a_side, &a_text),
            (
                Side {
                    label: format!(
                        "version {} ({})",
                        proposed.info.number,
                        proposed.info.short_hash()
                    ),
                    hash: proposed.info.hash.clone(),
                },
                &proposed.text,
            ),
        )?;
        Ok(ReleaseReview {
            live_version: live.map(|l| l.version),
            release,
            diff,
            state,
        })
    }

    /// Approve request `id`; with `hash`, only if it is a release whose content hash
    /// starts with it (so a script approves exactly what a person reviewed).
    pub async fn approve_checked(
        &self,
        id: i64,
        opinion: &str,
        hash: Option<&str>,
    ) -> Result<Decided, AppError> {
        match hash {
            None => self.approve(id, opinion).await,
            Some(prefix) => Ok(self
                .session()
                .approve_release_checked(id, opinion, prefix)
                .await?),
        }
    }

    /// Take approved release `id` live: a production instance record in state
    /// `created`; the job's previously live release is marked replaced.
    pub async fn go_live(&self, id: i64, spec: &GoLiveSpec) -> Result<WentLive, AppError> {
        Ok(self.session().go_live(id, spec).await?)
    }

    /// Take live release `id` offline.
    pub async fn take_offline(&self, id: i64) -> Result<Release, AppError> {
        Ok(self.session().take_offline(id).await?)
    }
}

/// The "before" of a first release: the proposed job without its graph (no nodes,
/// edges, positions or data sources), so the diff shows every operator as added and no
/// made-up changes of name or config.
fn empty_job(text: &str) -> String {
    let Some(mut job) = weir_model::jobfile::check_source("version", text).job else {
        return String::new();
    };
    job.nodes.clear();
    job.edges.clear();
    job.positions.clear();
    job.datasources.clear();
    weir_model::jobfile::to_ron(&job)
}

/// How a start position reads: `latest`, `earliest`, `at 1796637600000 ms`.
pub fn start_label(s: super::StartPosition) -> String {
    use super::StartPosition;
    match s {
        StartPosition::Latest => "latest".into(),
        StartPosition::Earliest => "earliest".into(),
        StartPosition::Timestamp(ms) => format!("at {ms} ms"),
    }
}

/// What a go-live did, in one line for people (`weir release golive` and `:releases`):
/// `release #7 is live: production instance #3 of shop/pv version 2 (2 tasks, 512 MiB,
/// start latest) is created; release #5 (version 1) is replaced`.
pub fn describe_went_live(went: &WentLive) -> String {
    let (r, i) = (&went.release, &went.instance);
    let mut msg = format!(
        "release #{} is live: production instance #{} of {} version {} ({} task{}, {} MiB, start {}) is {}",
        r.id,
        i.id,
        r.job,
        r.version,
        i.parallelism,
        if i.parallelism == 1 { "" } else { "s" },
        i.memory_mib,
        start_label(i.start),
        i.state
    );
    if let Some(old) = &went.replaced {
        msg.push_str(&format!(
            "; release #{} (version {}) is replaced",
            old.id, old.version
        ));
    }
    msg
}

/// Job parameters of a go-live from `NAME=VALUE` items (blank items skipped), as a JSON
/// object of strings. A name is one word and given once.
pub fn parse_params<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<serde_json::Value, AppError> {
    let mut map = serde_json::Map::new();
    for part in items.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        let bad = |why: String| AppError::User(why);
        let Some((name, value)) = part.split_once('=') else {
            return Err(bad(format!("`{part}` has no `=`; write NAME=VALUE")));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(bad(format!(
                "`{part}` has no name before `=`; write NAME=VALUE"
            )));
        }
        if name.chars().any(char::is_whitespace) {
            return Err(bad(format!(
                "the name `{name}` has a space; names are one word"
            )));
        }
        if map.contains_key(name) {
            return Err(bad(format!("`{name}` is given twice; keep one value")));
        }
        map.insert(
            name.to_string(),
            serde_json::Value::String(value.trim().to_string()),
        );
    }
    Ok(serde_json::Value::Object(map))
}

/// Parses `512MiB`, `1GiB`, `2g`, `300m` or a plain number of MiB.
pub fn parse_memory(s: &str) -> Result<i64, AppError> {
    let t = s.trim().to_ascii_lowercase();
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    let unit = t[digits.len()..].trim();
    let n: i64 = digits.parse().map_err(|_| bad_memory(s))?;
    let mib = match unit {
        "" | "m" | "mb" | "mib" => n,
        "g" | "gb" | "gib" => n.checked_mul(1024).ok_or_else(|| bad_memory(s))?,
        _ => return Err(bad_memory(s)),
    };
    if mib < 1 {
        return Err(bad_memory(s));
    }
    Ok(mib)
}

fn bad_memory(s: &str) -> AppError {
    AppError::User(format!(
        "`{s}` is not a memory size; write it like 512MiB or 2GiB"
    ))
}

/// Parses a start position: `latest`, `earliest`, epoch milliseconds, or an RFC 3339
/// time (`2026-12-07T10:00:00Z`).
pub fn parse_start(s: &str) -> Result<super::StartPosition, AppError> {
    use super::StartPosition;
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "latest" | "now" => return Ok(StartPosition::Latest),
        "earliest" => return Ok(StartPosition::Earliest),
        _ => {}
    }
    if let Ok(ms) = t.parse::<i64>() {
        return Ok(StartPosition::Timestamp(ms));
    }
    humantime::parse_rfc3339_weak(t)
        .ok()
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .map(StartPosition::Timestamp)
        .ok_or_else(|| {
            AppError::User(format!(
                "`{s}` is not a start position; use latest, earliest, epoch milliseconds or a time like 2026-12-07T10:00:00Z"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("512MiB").unwrap(), 512);
        assert_eq!(parse_memory("2GiB").unwrap(), 2048);
        assert_eq!(parse_memory("300").unwrap(), 300);
        assert!(parse_memory("0").is_err());
        assert!(parse_memory("lots").is_err());
        assert!(parse_memory("5TB").is_err());
    }

    #[test]
    fn start_positions() {
        use super::super::StartPosition;
        assert_eq!(parse_start("latest").unwrap(), StartPosition::Latest);
        assert_eq!(parse_start("EARLIEST").unwrap(), StartPosition::Earliest);
        assert_eq!(
            parse_start("2026-12-07T10:00:00Z").unwrap(),
            StartPosition::Timestamp(1_796_637_600_000)
        );
        assert_eq!(parse_start("1000").unwrap(), StartPosition::Timestamp(1000));
        assert!(parse_start("yesterday").is_err());
    }
}
