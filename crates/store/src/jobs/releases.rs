//! Releases: a version proposed for production, approved in the inbox, taken live.
//!
//! A release is a request of kind `release` (one id space with every other request) with
//! a `releases` detail row bound to the version's content hash. Its state:
//!
//! | state    | action                              | next state | who                                   |
//! |----------|-------------------------------------|------------|---------------------------------------|
//! | —        | request (job@version, note)         | pending    | developer / project admin of the job's project |
//! | pending  | approve (`--hash PREFIX` optional)  | approved   | system admin, not the requester        |
//! | pending  | reject (opinion required)           | rejected   | system admin, not the requester        |
//! | pending  | withdraw                            | withdrawn  | the requester                          |
//! | approved | go live (resources)                 | live       | developer / project admin, system admin |
//! | live     | a newer release of the job goes live | replaced  | (the go-live)                          |
//! | live     | take offline                        | offline    | developer / project admin, system admin |
//!
//! Approving records the hash approved (`approved_hash`). Going live and offline are in
//! `golive.rs`. A partial unique index keeps at most one live release per job.

use serde::Serialize;

use crate::Session;
use crate::audit::{self, NONE};
use crate::db::{Tx, args};
use crate::error::{Result, StoreError};
use crate::identity::roles;
use crate::projects;
use crate::requests::{self, Request, RequestDetail, RequestKind};

use super::versions::id_and_hash;
use super::{DEVS, by_id as job_by_id, by_name as job_by_name, touch};

/// Where a release is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseState {
    /// Waiting for a system admin.
    Pending,
    /// Approved; may go live.
    Approved,
    /// Rejected with an opinion.
    Rejected,
    /// Withdrawn by the requester.
    Withdrawn,
    /// Live in production (at most one per job).
    Live,
    /// Taken offline.
    Offline,
    /// A newer release of the job went live.
    Replaced,
}

impl ReleaseState {
    /// Every state.
    pub const ALL: [ReleaseState; 7] = [
        ReleaseState::Pending,
        ReleaseState::Approved,
        ReleaseState::Rejected,
        ReleaseState::Withdrawn,
        ReleaseState::Live,
        ReleaseState::Offline,
        ReleaseState::Replaced,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseState::Pending => "pending",
            ReleaseState::Approved => "approved",
            ReleaseState::Rejected => "rejected",
            ReleaseState::Withdrawn => "withdrawn",
            ReleaseState::Live => "live",
            ReleaseState::Offline => "offline",
            ReleaseState::Replaced => "replaced",
        }
    }

    /// Parses a stored or typed name (`live`).
    pub fn parse(s: &str) -> Result<ReleaseState> {
        let s = s.trim().to_ascii_lowercase();
        ReleaseState::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                StoreError::invalid(
                    "state",
                    format!("`{s}` is not a release state"),
                    "use pending, approved, rejected, withdrawn, live, offline or replaced",
                )
            })
    }
}

/// A release with its request's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// The request id (one id space with every request).
    pub id: i64,
    /// `project/path`.
    pub job: String,
    /// The version number proposed.
    pub version: i64,
    /// The version's content hash (64 hex digits), bound at request time.
    pub hash: String,
    /// The requester's note.
    pub note: String,
    /// State.
    pub state: ReleaseState,
    /// Who asked.
    pub requester: String,
    /// When.
    pub requested_at: String,
    /// The approver's opinion.
    pub opinion: Option<String>,
    /// Who approved, rejected or withdrew it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// The hash the approval recorded.
    pub approved_hash: Option<String>,
    /// Who took it live.
    pub live_by: Option<String>,
    /// When.
    pub live_at: Option<String>,
    /// Who took it offline (or whose go-live replaced it).
    pub ended_by: Option<String>,
    /// When.
    pub ended_at: Option<String>,
    /// The production instance record its go-live created.
    pub instance: Option<i64>,
}

/// Which releases to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseFilter {
    /// Only this job (`project/path`).
    pub job: Option<String>,
    /// Only this state.
    pub state: Option<ReleaseState>,
}

type ReleaseRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The release `id`; `NotFound` if no release has that id.
pub(crate) async fn load(tx: &mut Tx, id: i64) -> Result<Release> {
    const SQL: &str = concat!(
        "SELECT r.request_id, r.job_id, v.number, r.hash, r.note, r.state, r.approved_hash, ",
        "r.live_by, r.live_at, r.ended_by, r.ended_at, q.requester, q.created_at, q.opinion, ",
        "q.decided_by, q.decided_at FROM releases r ",
        "JOIN job_versions v ON v.id = r.version_id JOIN requests q ON q.id = r.request_id ",
        "WHERE r.request_id = $1"
    );
    let row: Option<ReleaseRow> = tx.opt(SQL, &args![id]).await?;
    let Some(r) = row else {
        return Err(StoreError::NotFound {
            kind: "release",
            name: format!("#{id}"),
            suggestion: None,
        });
    };
    let job = job_by_id(tx, r.1).await?;
    let instance: Option<(i64,)> = tx
        .opt(
            "SELECT id FROM instances WHERE release_id = $1 ORDER BY id DESC LIMIT 1",
            &args![id],
        )
        .await?;
    Ok(Release {
        id: r.0,
        job: job.name(),
        version: r.2,
        hash: r.3,
        note: r.4,
        state: ReleaseState::parse(&r.5)?,
        approved_hash: r.6,
        live_by: r.7,
        live_at: r.8,
        ended_by: r.9,
        ended_at: r.10,
        requester: r.11,
        requested_at: r.12,
        opinion: r.13,
        decided_by: r.14,
        decided_at: r.15,
        instance: instance.map(|(i,)| i),
    })
}

/// The request detail of release `id`.
pub(crate) async fn request_detail(tx: &mut Tx, id: i64) -> Result<RequestDetail> {
    let r = load(tx, id).await?;
    Ok(RequestDetail::Release {
        job: r.job,
        version: r.version,
        hash: r.hash,
        note: r.note,
    })
}

/// `--hash PREFIX`: fails unless release `id`'s hash starts with `prefix`.
pub(crate) async fn check_hash(tx: &mut Tx, id: i64, prefix: &str) -> Result<()> {
    let prefix = prefix.trim().to_ascii_lowercase();
    if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(StoreError::invalid(
            "hash",
            format!("`{prefix}` is not a hex hash prefix"),
            "pass the start of the hash the request shows (12 hex digits)",
        ));
    }
    let r = load(tx, id).await?;
    if !r.hash.starts_with(&prefix) {
        return Err(StoreError::invalid(
            "hash",
            format!(
                "release #{id} is bound to version {} of {} with hash {}, which does not start with {prefix}",
                r.version,
                r.job,
                r.hash.get(..12).unwrap_or(&r.hash)
            ),
            "review the request again and approve the hash it shows",
        ));
    }
    Ok(())
}

/// Runs one conditional transition (`UPDATE releases … WHERE … AND state = 'from'`);
/// fails when the release was no longer in the state the transition starts from.
pub(super) async fn set_state(
    tx: &mut Tx,
    sql: &'static str,
    args: &[crate::db::Arg],
) -> Result<()> {
    let n = tx.execute(sql, args).await?;
    if n == 0 {
        return Err(StoreError::wrong_state(
            "the release changed state meanwhile; reload and try again",
        ));
    }
    Ok(())
}

/// Approving or rejecting a release request (inside the decision's transaction).
pub(crate) async fn on_decided(tx: &mut Tx, id: i64, approved: bool) -> Result<()> {
    if approved {
        set_state(
            tx,
            "UPDATE releases SET state = 'approved', approved_hash = hash \
             WHERE request_id = $1 AND state = 'pending'",
            &args![id],
        )
        .await
    } else {
        set_state(
            tx,
            "UPDATE releases SET state = 'rejected' WHERE request_id = $1 AND state = 'pending'",
            &args![id],
        )
        .await
    }
}

/// Withdrawing a release request.
pub(crate) async fn on_withdrawn(tx: &mut Tx, id: i64) -> Result<()> {
    set_state(
        tx,
        "UPDATE releases SET state = 'withdrawn' WHERE request_id = $1 AND state = 'pending'",
        &args![id],
    )
    .await
}

impl Session {
    /// Proposes version `version` of `job` for production (developer or project admin of
    /// the job's project). The request is bound to the version's hash and waits in the
    /// inbox of the system admins. Refused while a release of the same version is
    /// pending, approved or live.
    pub async fn request_release(&self, job: &str, version: i64, note: &str) -> Result<Request> {
        crate::checks::free_text("note", note)?;
        let mut tx = self.pool.write().await?;
        let j = job_by_name(&mut tx, job).await?;
        let p = projects::active(&mut tx, &j.project).await?;
        roles(&mut tx, &self.actor).await?.require_in_project(
            &p.name,
            DEVS,
            &[],
            "request releases",
        )?;
        touch(&mut tx, j.id).await?;
        let (version_id, hash) = id_and_hash(&mut tx, &j, version).await?;
        let open: Option<(i64, String)> = tx
            .opt(
                "SELECT request_id, state FROM releases WHERE version_id = $1 \
                 AND state IN ('pending', 'approved', 'live') ORDER BY request_id LIMIT 1",
                &args![version_id],
            )
            .await?;
        if let Some((other, state)) = open {
            return Err(StoreError::wrong_state(format!(
                "version {version} of {} already has release #{other}, which is {state}; \
                 a version has one open release at a time",
                j.name()
            )));
        }
        let id = requests::insert(&mut tx, RequestKind::Release, &self.actor, Some(p.id)).await?;
        tx.execute(
            "INSERT INTO releases (request_id, job_id, version_id, hash, note, state) \
             VALUES ($1, $2, $3, $4, $5, 'pending')",
            &args![id, j.id, version_id, hash, note.trim()],
        )
        .await?;
        let release = load(&mut tx, id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "release.request",
            "request",
            id,
            NONE,
            Some(&release),
        )
        .await?;
        let request = requests::load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(request)
    }

    /// One release.
    pub async fn release(&self, id: i64) -> Result<Release> {
        let mut tx = self.pool.read().await?;
        load(&mut tx, id).await
    }

    /// Releases, newest first, optionally of one job and in one state.
    pub async fn releases(&self, filter: &ReleaseFilter) -> Result<Vec<Release>> {
        let mut tx = self.pool.read().await?;
        let job_id = match &filter.job {
            Some(job) => Some(job_by_name(&mut tx, job).await?.id),
            None => None,
        };
        let ids: Vec<(i64,)> = tx
            .all(
                "SELECT request_id FROM releases WHERE ($1 IS NULL OR job_id = $1) \
                 AND ($2 IS NULL OR state = $2) ORDER BY request_id DESC",
                &args![job_id, filter.state.map(ReleaseState::as_str)],
            )
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(load(&mut tx, id).await?);
        }
        Ok(out)
    }
}
