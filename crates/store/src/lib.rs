//! weir-store: the metadata store and the governance rules of weir.
//!
//! Every SQL statement of weir lives in this crate. SQLite (embedded, one file under the
//! project's `.weir/`) and PostgreSQL (for teams) run the same statements (see [`db`]).
//! A [`Store`] is a connection pool; a [`Session`] is the store seen by one actor. Every
//! write checks the actor's role inside the transaction that makes it and appends to the
//! append-only audit log in that same transaction.
//!
//! Identity: on SQLite the actor is the login the app passes (OS login or `WEIR_USER`);
//! on PostgreSQL it is `SELECT session_user` and a passed login is ignored, so it cannot be
//! spoofed. The first actor of a new store becomes its system admin.
//!
//! State machines (also in `README.md`): topics go design → pending_test → test →
//! pending_prod → prod; requests go pending → approved | rejected | withdrawn; a job's
//! edit lock has one holder; releases go pending → approved | rejected | withdrawn, then
//! approved → live → offline | replaced (`jobs/`, `README.md`); instances go created →
//! starting → running → stopping → stopped, or failed, run by workers that claim them
//! (`jobs/instances.rs`).

mod audit;
mod changes;
mod checks;
mod datasource_tests;
mod datasources;
mod db;
mod deploy;
mod error;
mod identity;
mod jobs;
mod migrate;
mod permissions;
mod projects;
mod requests;
mod topics;
mod user_add;

pub use audit::AuditEntry;
pub use changes::Changes;
pub use datasource_tests::{DataSourceTest, TestOutcome};
pub use datasources::{DataSource, DataSourceSpec, Endpoint, Env, parse_kind};
pub use db::Backend;
pub use deploy::{
    AppliedMigration, LoginGranted, LoginRevoked, LoginStatements, SchemaInit, login_statements,
};
pub use error::{Conflict, EffectFailed, Result, StoreError};
pub use identity::{GlobalRole, ProjectRole, Roles, User};
pub use jobs::{
    Alert, AlertFilter, AlertFiring, AlertRuleRow, AlertRuleSpec, AlertState, AlertTarget,
    DesiredState, GoLiveSpec, Heartbeat, Held, Instance, InstanceFilter, InstanceState, JobLock,
    JobStatus, JobVersion, LOG_LINES_KEPT, LockTaken, LockTakeover, LogLevel, LogLine, MetricPoint,
    NewVersion, Release, ReleaseFilter, ReleaseState, Savepoint, SavepointRequest,
    SavepointRequestState, StartPosition, Submitted, TakenSavepoint, TestInstanceSpec, TestResult,
    Validation, VersionInfo, WentLive, Worker, WorkingFile,
};
pub use migrate::SCHEMA_VERSION;
pub use permissions::{
    Decision, Grant, GrantList, GrantSpec, Grantee, Perm, PermissionRequestSpec, RequestFor,
    TableRef,
};
pub use projects::{ArchiveEffects, Member, Project};
pub use requests::{
    Decided, Effect, InboxItem, Request, RequestDetail, RequestFilter, RequestKind, RequestState,
};
pub use topics::{
    Topic, TopicCreation, TopicField, TopicFormat, TopicSpec, TopicState, check_topic_name,
};
pub use user_add::{RoleToAdd, UserRoleAdded};
pub use weir_model::model::secret::SecretRef;
pub use weir_model::model::{Connection, DataSourceKind};

use db::Pool;

/// The metadata store: a connection pool with the schema applied.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Opens `sqlite://path` (creating the file; WAL; foreign keys on) or `postgres://…`
    /// and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let pool = Pool::connect(url).await?;
        migrate::run(&pool).await?;
        Ok(Store { pool })
    }

    /// Which backend this store is on.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// The store as seen by one actor. On SQLite `login` is the actor; on PostgreSQL the
    /// actor is the connection's `session_user` and `login` is ignored. If the store has
    /// no system admin yet, this actor becomes it.
    pub async fn session(&self, login: &str) -> Result<Session> {
        let actor = match self.pool.backend() {
            Backend::Sqlite => login.trim().to_string(),
            Backend::Postgres => {
                let mut tx = self.pool.read().await?;
                let (user,): (String,) = tx.one("SELECT CAST(session_user AS TEXT)", &[]).await?;
                user
            }
        };
        if actor.is_empty() {
            return Err(StoreError::invalid(
                "login",
                "no login given",
                "set WEIR_USER or run as an OS user with a login name",
            ));
        }
        checks::name("login", &actor)?;
        let session = Session {
            pool: self.pool.clone(),
            actor,
        };
        identity::bootstrap(&session).await?;
        Ok(session)
    }

    /// Closes the pool (waits for connections to return).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The store as seen by one actor; every call acts as [`Session::actor`].
#[derive(Debug, Clone)]
pub struct Session {
    pool: Pool,
    actor: String,
}
