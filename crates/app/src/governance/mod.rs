//! Governance use cases shared by the CLI and the TUI (SPEC R-roles, R-proj, R-ds,
//! R-topic, R-perm). [`Governance`] is the store seen by one actor, and the only way the
//! CLI and the workbench reach it: one method per use case, in one file per subject —
//! `people.rs` (users, roles, projects, members, audit), `datasources.rs`, `topics.rs`,
//! `requests.rs` (inbox, my requests, permission requests, history), `decide.rs`
//! (approve, reject, withdraw; an approval carries out its effect inside the store's
//! transaction), `grants.rs` (authorization, effective rights, the tables the store
//! knows). The store checks roles and writes the audit log inside each write; the app
//! adds what crosses systems (Kafka, connectivity tests) and never checks roles itself.
//!
//! The data types that screens and commands show are re-exported here, so that neither
//! needs (nor may have) a dependency on `weir-store`.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use weir_store::{
    ArchiveEffects, AuditEntry, Backend, Changes, Conflict, Connection, DataSource, DataSourceKind,
    DataSourceSpec, Decided, Decision, Effect, Endpoint, Env, GlobalRole, Grant, GrantList,
    GrantSpec, Grantee, Member, Perm, PermissionRequestSpec, Project, ProjectRole, Request,
    RequestDetail, RequestFilter, RequestFor, RequestKind, RequestState, Roles, StoreError,
    TableRef, Topic, TopicCreation, TopicField, TopicFormat, TopicSpec, TopicState, User,
    check_topic_name, parse_kind,
};
use weir_store::{Session, Store};

use super::AppError;

mod datasources;
mod decide;
mod grants;
mod people;
mod requests;
mod topics;

pub use decide::describe_effect;
pub use grants::KnownTable;

/// Where the metadata store is, in the order weir looks: `WEIR_DATABASE_URL`
/// (PostgreSQL for teams), then `--store`/`WEIR_STORE` (a SQLite file or a URL), then
/// `<project>/.weir/weir.db`.
pub fn store_url(store_flag: Option<&Path>, cwd: &Path) -> Result<String, AppError> {
    if let Ok(url) = std::env::var("WEIR_DATABASE_URL")
        && !url.trim().is_empty()
    {
        return Ok(url);
    }
    let path = match store_flag {
        Some(p) => {
            let s = p.to_string_lossy();
            if s.starts_with("postgres://")
                || s.starts_with("postgresql://")
                || s.starts_with("sqlite:")
            {
                return Ok(s.into_owned());
            }
            p.to_path_buf()
        }
        None => crate::project_root(cwd).join(".weir").join("weir.db"),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| AppError::io(format!("cannot create {}", dir.display()), e))?;
    }
    Ok(format!("sqlite://{}", path.display()))
}

/// The login weir acts as on an embedded store: `WEIR_USER`, else the OS login.
pub fn os_login() -> String {
    ["WEIR_USER", "USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(login_from_passwd)
        .unwrap_or_else(|| "unknown".into())
}

fn login_from_passwd() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut parts = l.split(':');
        let name = parts.next()?;
        (parts.nth(1)? == uid).then(|| name.to_string())
    })
}

/// The metadata store as seen by the acting user. The store and the session stay
/// private: every use is one of the methods of this type.
pub struct Governance {
    store: Store,
    session: Session,
}

/// Closes the store's connections when a command is done with it.
pub struct Closer(Store);

impl Closer {
    /// Close every connection of the pool (waits for those in use).
    pub async fn close(self) {
        self.0.close().await;
    }
}

impl Governance {
    /// Open the store at `url` as `login` (ignored on PostgreSQL, where the database
    /// session user is the actor).
    pub async fn open(url: &str, login: &str) -> Result<Governance, AppError> {
        let store = Store::open(url).await?;
        let session = store.session(login).await?;
        Ok(Governance { store, session })
    }

    /// Open the store the command line names, as the OS login.
    pub async fn open_default(store_flag: Option<&PathBuf>) -> Result<Governance, AppError> {
        let cwd = std::env::current_dir().map_err(|e| AppError::io("no current directory", e))?;
        let url = store_url(store_flag.map(PathBuf::as_path), &cwd)?;
        Governance::open(&url, &os_login()).await
    }

    /// The store session, for the use cases of other modules of this crate (`jobs`).
    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    /// SQLite or PostgreSQL.
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Who acts: the login on SQLite, the session user on PostgreSQL.
    pub fn actor(&self) -> &str {
        self.session.actor()
    }

    /// A handle that closes the store's connections once the caller is done.
    pub fn closer(&self) -> Closer {
        Closer(self.store.clone())
    }

    /// Notifications of every write to the store from now on (by anyone): LISTEN/NOTIFY
    /// on PostgreSQL, polling every `poll_every` on SQLite.
    pub async fn changes(&self, poll_every: Duration) -> Result<Changes, AppError> {
        Ok(self.store.changes(poll_every).await?)
    }

    /// The newest change id (grows with every write).
    pub async fn last_change(&self) -> Result<i64, AppError> {
        Ok(self.session.last_change().await?)
    }
}
