//! Deploying the metadata store (`weir store init|grant|revoke`): applying its migrations
//! as the owner, and on PostgreSQL giving each person's login role what a weir user needs
//! or taking it back. The store checks that the actor is a system admin, inside the
//! transaction that writes, and audits; this module finds the store the way every command
//! does ([`store_url`], [`os_login`]) and refuses login roles on SQLite before a session
//! would make anyone its first system admin.

use std::path::Path;

use serde::Serialize;
use weir_store::{Backend, Session, Store};

pub use weir_store::{AppliedMigration, LoginGranted, LoginRevoked, SchemaInit};

use crate::AppError;
use crate::governance::{os_login, store_url};

/// What [`init`] did: which store, and what happened to its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Initialized {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Versions before and after, and the migrations applied.
    #[serde(flatten)]
    pub schema: SchemaInit,
}

/// The URL of the store the command line names: `WEIR_DATABASE_URL`, `--store`, or the
/// project's `.weir/weir.db`.
pub fn url(store_flag: Option<&Path>) -> Result<String, AppError> {
    let cwd = std::env::current_dir().map_err(|e| AppError::io("no current directory", e))?;
    store_url(store_flag, &cwd)
}

/// Applies the store's pending migrations (run as the database owner on PostgreSQL) and
/// says what was done.
pub async fn init(url: &str) -> Result<Initialized, AppError> {
    let (store, schema) = Store::init(url).await?;
    let backend = match store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    store.close().await;
    Ok(Initialized { backend, schema })
}

/// Gives PostgreSQL login role `login` what a weir user needs, creating it if missing
/// (system admin; idempotent).
pub async fn grant_login(url: &str, login: &str) -> Result<LoginGranted, AppError> {
    let (store, session) = login_admin(url).await?;
    let granted = session.grant_login(login).await;
    store.close().await;
    Ok(granted?)
}

/// Takes back what [`grant_login`] gave; drops the role only if weir created it and
/// nothing else uses it (system admin).
pub async fn revoke_login(url: &str, login: &str) -> Result<LoginRevoked, AppError> {
    let (store, session) = login_admin(url).await?;
    let revoked = session.revoke_login(login).await;
    store.close().await;
    Ok(revoked?)
}

/// The store and the acting session, once the store is known to have login roles.
async fn login_admin(url: &str) -> Result<(Store, Session), AppError> {
    let store = Store::open(url).await?;
    let session = match store.require_login_roles() {
        Ok(()) => store.session(&os_login()).await,
        Err(e) => Err(e),
    };
    match session {
        Ok(session) => Ok((store, session)),
        Err(e) => {
            store.close().await;
            Err(e.into())
        }
    }
}
