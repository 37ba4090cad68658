//! Requests that wait for an approver, of every kind, in one id space.
//!
//! One `requests` row per request (kind, state, requester, decision) and one detail row per
//! kind (`topic_publications`, `permission_requests`, `releases`). States:
//!
//! | state     | action                                 | next state | who                    |
//! |-----------|----------------------------------------|------------|------------------------|
//! | pending   | approve (opinion optional)             | approved   | approver, not requester |
//! | pending   | reject (opinion required)              | rejected   | approver, not requester |
//! | pending   | withdraw                               | withdrawn  | requester only          |
//!
//! Deciding is a conditional `UPDATE … WHERE state = 'pending'` checked by rows affected,
//! inside the same transaction as the effect (topic state, whitelist row) and the audit
//! row: of two approvers at the same moment exactly one wins, and the other is told who
//! decided and when.
//!
//! Long because the decision is one transaction for every kind of request (its checks,
//! the conditional update, the effect and the audit row read best in one place); the
//! kinds' own rows live in `topics/`, `permissions/` and `jobs/releases.rs`.

use serde::Serialize;

use crate::Session;
use crate::audit;
use crate::datasources::{self, Env};
use crate::db::{Tx, args, now};
use std::future::Future;

use crate::error::{Conflict, EffectFailed, Result, StoreError};
use crate::identity::{GlobalRole, roles};
use crate::jobs;
use crate::permissions::{self, Grant, Grantee, Perm};
use crate::projects;
use crate::topics::{self, TopicCreation};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Publish a topic to test or production.
    TopicPublish,
    /// Grant data permissions.
    Permission,
    /// Take a job version to production.
    Release,
}

impl RequestKind {
    fn as_str(self) -> &'static str {
        match self {
            RequestKind::TopicPublish => "topic_publish",
            RequestKind::Permission => "permission",
            RequestKind::Release => "release",
        }
    }

    fn parse(s: &str) -> RequestKind {
        match s {
            "topic_publish" => RequestKind::TopicPublish,
            "release" => RequestKind::Release,
            _ => RequestKind::Permission,
        }
    }

    /// Every kind.
    const ALL: [RequestKind; 3] = [
        RequestKind::TopicPublish,
        RequestKind::Permission,
        RequestKind::Release,
    ];

    /// Who may decide requests of this kind: data admins decide topic publications and
    /// permissions; system admins decide releases (the manual's 发布审批).
    fn approver(self) -> GlobalRole {
        match self {
            RequestKind::TopicPublish | RequestKind::Permission => GlobalRole::DataAdmin,
            RequestKind::Release => GlobalRole::SystemAdmin,
        }
    }
}

/// Where a request is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Waiting for an approver.
    Pending,
    /// Approved; the effect was applied.
    Approved,
    /// Rejected with an opinion.
    Rejected,
    /// Withdrawn by the requester.
    Withdrawn,
}

impl RequestState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Approved => "approved",
            RequestState::Rejected => "rejected",
            RequestState::Withdrawn => "withdrawn",
        }
    }

    fn parse(s: &str) -> RequestState {
        match s {
            "approved" => RequestState::Approved,
            "rejected" => RequestState::Rejected,
            "withdrawn" => RequestState::Withdrawn,
            _ => RequestState::Pending,
        }
    }
}

/// Which of my requests to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFilter {
    /// Pending.
    InProgress,
    /// Approved, rejected or withdrawn.
    Finished,
    /// Everything.
    All,
}

/// A request with its decision and a one-line summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// Id, shared by every kind.
    pub id: i64,
    /// Kind.
    pub kind: RequestKind,
    /// State.
    pub state: RequestState,
    /// Who asked.
    pub requester: String,
    /// The project concerned, if any.
    pub project: Option<String>,
    /// When it was asked.
    pub created_at: String,
    /// Approver's opinion.
    pub opinion: Option<String>,
    /// Who approved, rejected or withdrew it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// One line: "publish topic clicks to test on kafka_main".
    pub summary: String,
}

/// The inbox lists requests.
pub type InboxItem = Request;

/// The kind-specific part of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RequestDetail {
    /// A topic publication.
    TopicPublish {
        /// Topic name.
        topic: String,
        /// `Env::Test` or `Env::Prod`.
        env: Env,
        /// Kafka data source chosen.
        datasource: String,
    },
    /// A permission request.
    Permission {
        /// Data source name.
        datasource: String,
        /// Table or topic.
        table: String,
        /// Project or the requester.
        grantee: Grantee,
        /// Operations asked for.
        perms: Vec<Perm>,
        /// Columns (person, non-kafka only); empty = whole table.
        columns: Vec<String>,
        /// Why.
        reason: String,
    },
    /// A job version proposed for production.
    Release {
        /// `project/path`.
        job: String,
        /// Version number.
        version: i64,
        /// The version's content hash (64 hex digits) the request is bound to.
        hash: String,
        /// The requester's note.
        note: String,
    },
}

/// What follows from a decision; the app carries out what the store cannot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Effect {
    /// Nothing more to do.
    None,
    /// Create the topic on the Kafka cluster.
    CreateTopic(Box<TopicCreation>),
    /// A whitelist row was added.
    Granted(Grant),
}

/// The outcome of approve / reject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decided {
    /// The request after the decision.
    pub request: Request,
    /// What follows.
    pub effect: Effect,
}

/// Inserts a pending request row; returns its id.
pub(crate) async fn insert(
    tx: &mut Tx,
    kind: RequestKind,
    requester: &str,
    project_id: Option<i64>,
) -> Result<i64> {
    let (id,): (i64,) = tx
        .one(
            "INSERT INTO requests (kind, state, requester, project_id, created_at) \
             VALUES ($1, 'pending', $2, $3, $4) RETURNING id",
            &args![kind.as_str(), requester, project_id, now()],
        )
        .await?;
    Ok(id)
}

type RequestRow = (
    i64,
    String,
    String,
    String,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The request `id` with its summary; `NotFound` if there is none.
pub(crate) async fn load(tx: &mut Tx, id: i64) -> Result<Request> {
    let row: Option<RequestRow> = tx
        .opt(
            "SELECT id, kind, state, requester, project_id, created_at, opinion, decided_by, decided_at \
             FROM requests WHERE id = $1",
            &args![id],
        )
        .await?;
    let Some(r) = row else {
        return Err(StoreError::NotFound {
            kind: "request",
            name: format!("#{id}"),
            suggestion: None,
        });
    };
    let project = match r.4 {
        Some(pid) => Some(projects::by_id(tx, pid).await?.name),
        None => None,
    };
    let kind = RequestKind::parse(&r.1);
    let detail = detail(tx, id, kind).await?;
    Ok(Request {
        id: r.0,
        kind,
        state: RequestState::parse(&r.2),
        requester: r.3,
        project,
        created_at: r.5,
        opinion: r.6,
        decided_by: r.7,
        decided_at: r.8,
        summary: summary(&detail),
    })
}

fn summary(d: &RequestDetail) -> String {
    match d {
        RequestDetail::TopicPublish {
            topic,
            env,
            datasource,
        } => format!("publish topic {topic} to {} on {datasource}", env.as_str()),
        RequestDetail::Permission {
            datasource,
            table,
            grantee,
            perms,
            columns,
            ..
        } => {
            let perms: Vec<&str> = perms.iter().map(|p| p.as_str()).collect();
            let cols = if columns.is_empty() {
                String::new()
            } else {
                format!(" ({})", columns.join(", "))
            };
            format!(
                "{} on {datasource}.{table}{cols} for {}",
                perms.join(", "),
                grantee.describe()
            )
        }
        RequestDetail::Release {
            job, version, hash, ..
        } => format!(
            "release {job} version {version} ({})",
            hash.get(..12).unwrap_or(hash)
        ),
    }
}

async fn detail(tx: &mut Tx, id: i64, kind: RequestKind) -> Result<RequestDetail> {
    match kind {
        RequestKind::TopicPublish => {
            let (topic_id, env, ds): (i64, String, i64) = tx
                .one(
                    "SELECT topic_id, env, datasource_id FROM topic_publications WHERE request_id = $1",
                    &args![id],
                )
                .await?;
            Ok(RequestDetail::TopicPublish {
                topic: topics::by_id(tx, topic_id).await?.name,
                env: Env::parse(&env)?,
                datasource: datasources::by_id(tx, ds).await?.name,
            })
        }
        RequestKind::Permission => permissions::request_detail(tx, id).await,
        RequestKind::Release => jobs::request_detail(tx, id).await,
    }
}

async fn list(tx: &mut Tx, ids: Vec<(i64,)>) -> Result<Vec<Request>> {
    let mut out = Vec::with_capacity(ids.len());
    for (id,) in ids {
        out.push(load(tx, id).await?);
    }
    Ok(out)
}

impl Session {
    /// One request with its kind-specific detail.
    pub async fn request(&self, id: i64) -> Result<(Request, RequestDetail)> {
        let mut tx = self.pool.read().await?;
        let r = load(&mut tx, id).await?;
        let d = detail(&mut tx, id, r.kind).await?;
        Ok((r, d))
    }

    /// Everything the actor can decide, oldest first (their own requests excluded).
    pub async fn inbox(&self) -> Result<Vec<Request>> {
        let mut tx = self.pool.read().await?;
        let me = roles(&mut tx, &self.actor).await?;
        let kinds: Vec<&str> = RequestKind::ALL
            .into_iter()
            .filter(|k| me.registered && me.has(k.approver()))
            .map(|k| k.as_str())
            .collect();
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let pending: Vec<(i64, String)> = tx
            .all(
                "SELECT id, kind FROM requests WHERE state = 'pending' AND requester <> $1 \
                 ORDER BY id",
                &args![&self.actor],
            )
            .await?;
        let ids = pending
            .into_iter()
            .filter(|(_, kind)| kinds.contains(&kind.as_str()))
            .map(|(id, _)| (id,))
            .collect();
        list(&mut tx, ids).await
    }

    /// Requests the actor approved or rejected, newest first.
    pub async fn decided_by_me(&self) -> Result<Vec<Request>> {
        let mut tx = self.pool.read().await?;
        let ids: Vec<(i64,)> = tx
            .all(
                "SELECT id FROM requests WHERE decided_by = $1 AND state IN ('approved', 'rejected') \
                 ORDER BY decided_at DESC, id DESC",
                &args![&self.actor],
            )
            .await?;
        list(&mut tx, ids).await
    }

    /// The actor's own requests, oldest first.
    pub async fn my_requests(&self, filter: RequestFilter) -> Result<Vec<Request>> {
        let sql = match filter {
            RequestFilter::InProgress => {
                "SELECT id FROM requests WHERE requester = $1 AND state = 'pending' ORDER BY id"
            }
            RequestFilter::Finished => {
                "SELECT id FROM requests WHERE requester = $1 AND state <> 'pending' ORDER BY id"
            }
            RequestFilter::All => "SELECT id FROM requests WHERE requester = $1 ORDER BY id",
        };
        let mut tx = self.pool.read().await?;
        let ids: Vec<(i64,)> = tx.all(sql, &args![&self.actor]).await?;
        list(&mut tx, ids).await
    }

    /// Approves request `id` (opinion optional). The decision's effect is left to the
    /// caller; [`Session::approve_with`] carries it out inside the decision.
    pub async fn approve(&self, id: i64, opinion: &str) -> Result<Decided> {
        self.decide(id, true, opinion, None, no_effect).await
    }

    /// Approves release request `id` only if its content hash starts with `hash_prefix`
    /// (`weir approve ID --hash PREFIX`), so a script approves exactly what a person
    /// reviewed. Checked inside the decision's transaction; a mismatch records nothing.
    /// The effect of a release approval is [`Effect::None`].
    pub async fn approve_release_checked(
        &self,
        id: i64,
        opinion: &str,
        hash_prefix: &str,
    ) -> Result<Decided> {
        self.decide(id, true, opinion, Some(hash_prefix), no_effect)
            .await
    }

    /// Approves request `id` and carries out its effect with `carry_out` while the
    /// decision's transaction is still open: the roles, the request's state and the effect
    /// are decided once, inside the transaction, and the decision is committed only when
    /// `carry_out` succeeds. If it fails, nothing is recorded (no state change, no audit
    /// row) and the error says the request stays pending. Of two approvers at once, only
    /// the one whose conditional update wins runs the effect.
    pub async fn approve_with<F, Fut>(
        &self,
        id: i64,
        opinion: &str,
        carry_out: F,
    ) -> Result<Decided>
    where
        F: FnOnce(Effect) -> Fut,
        Fut: Future<Output = std::result::Result<(), EffectFailed>>,
    {
        self.decide(id, true, opinion, None, carry_out).await
    }

    /// Rejects request `id`; the opinion goes back to the requester and is required.
    pub async fn reject(&self, id: i64, opinion: &str) -> Result<Decided> {
        if opinion.trim().is_empty() {
            return Err(StoreError::invalid(
                "opinion",
                "a rejection needs a reason",
                "say what the requester should change",
            ));
        }
        self.decide(id, false, opinion, None, no_effect).await
    }

    async fn decide<F, Fut>(
        &self,
        id: i64,
        approve: bool,
        opinion: &str,
        hash_prefix: Option<&str>,
        carry_out: F,
    ) -> Result<Decided>
    where
        F: FnOnce(Effect) -> Fut,
        Fut: Future<Output = std::result::Result<(), EffectFailed>>,
    {
        let verb = if approve { "approve" } else { "reject" };
        crate::checks::free_text("opinion", opinion)?;
        let mut tx = self.pool.write().await?;
        let before = load(&mut tx, id).await?;
        roles(&mut tx, &self.actor)
            .await?
            .require(&[before.kind.approver()], verb)?;
        if before.requester == self.actor {
            return Err(StoreError::NotAllowed(format!(
                "request #{id} is your own; nobody approves or rejects their own request"
            )));
        }
        if let Some(p) = &before.project {
            projects::active(&mut tx, p).await?;
        }
        if let Some(prefix) = hash_prefix {
            if before.kind != RequestKind::Release {
                return Err(StoreError::invalid(
                    "hash",
                    format!("request #{id} is not a release; only releases carry a hash"),
                    "approve it without --hash",
                ));
            }
            if before.state == RequestState::Pending {
                jobs::check_hash(&mut tx, id, prefix).await?;
            }
        }
        let state = if approve {
            RequestState::Approved
        } else {
            RequestState::Rejected
        };
        let opinion = opinion.trim();
        let won = tx
            .execute(
                "UPDATE requests SET state = $2, opinion = $3, decided_by = $4, decided_at = $5 \
                 WHERE id = $1 AND state = 'pending'",
                &args![id, state.as_str(), opinion, &self.actor, now()],
            )
            .await?;
        if won == 0 {
            return Err(already_decided(&mut tx, id).await);
        }
        let effect = match before.kind {
            RequestKind::TopicPublish => {
                match topics::on_decided(&mut tx, id, approve, opinion).await? {
                    Some(c) => Effect::CreateTopic(Box::new(c)),
                    None => Effect::None,
                }
            }
            RequestKind::Permission if approve => {
                Effect::Granted(permissions::on_approved(&mut tx, id, &self.actor).await?)
            }
            RequestKind::Permission => Effect::None,
            RequestKind::Release => {
                jobs::on_decided(&mut tx, id, approve).await?;
                Effect::None
            }
        };
        let after = load(&mut tx, id).await?;
        let action = if approve {
            "request.approve"
        } else {
            "request.reject"
        };
        audit::append(
            &mut tx,
            &self.actor,
            action,
            "request",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        if let Err(failed) = carry_out(effect.clone()).await {
            // Dropping the open transaction rolls the decision and its audit row back.
            drop(tx);
            return Err(StoreError::Effect {
                request: id,
                failed,
            });
        }
        tx.commit().await?;
        Ok(Decided {
            request: after,
            effect,
        })
    }

    /// Withdraws a pending request (requester only).
    pub async fn withdraw(&self, id: i64) -> Result<Request> {
        let mut tx = self.pool.write().await?;
        let before = load(&mut tx, id).await?;
        if before.requester != self.actor {
            return Err(StoreError::NotAllowed(format!(
                "request #{id} belongs to {}; only the requester can withdraw it",
                before.requester
            )));
        }
        if let Some(p) = &before.project {
            projects::active(&mut tx, p).await?;
        }
        let won = tx
            .execute(
                "UPDATE requests SET state = 'withdrawn', decided_by = $2, decided_at = $3 \
                 WHERE id = $1 AND state = 'pending'",
                &args![id, &self.actor, now()],
            )
            .await?;
        if won == 0 {
            return Err(already_decided(&mut tx, id).await);
        }
        match before.kind {
            RequestKind::TopicPublish => topics::on_withdrawn(&mut tx, id).await?,
            RequestKind::Release => jobs::on_withdrawn(&mut tx, id).await?,
            RequestKind::Permission => {}
        }
        let after = load(&mut tx, id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "request.withdraw",
            "request",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// The effect runner of a decision whose effect the caller carries out itself.
async fn no_effect(_: Effect) -> std::result::Result<(), EffectFailed> {
    Ok(())
}

/// The error for a request that is no longer pending: who decided it and when.
async fn already_decided(tx: &mut Tx, id: i64) -> StoreError {
    type Decision = (String, Option<String>, Option<String>);
    let row: Result<Option<Decision>> = tx
        .opt(
            "SELECT state, decided_by, decided_at FROM requests WHERE id = $1",
            &args![id],
        )
        .await;
    match row {
        Ok(Some((state, by, at))) => StoreError::Conflict(Conflict::AlreadyDecided {
            request: id,
            state,
            by: by.unwrap_or_else(|| "someone".into()),
            at: at.unwrap_or_else(|| "an unknown time".into()),
        }),
        Ok(None) => StoreError::NotFound {
            kind: "request",
            name: format!("#{id}"),
            suggestion: None,
        },
        Err(e) => e,
    }
}
