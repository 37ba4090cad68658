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

pub use weir_store::DataSourceTest;
pub use weir_store::{
    ArchiveEffects, AuditEntry, Backend, Changes, Conflict, Connection, DataSource, DataSourceKind,
    DataSourceSpec, Decided, Decision, Effect, Endpoint, Env, GlobalRole, Grant, GrantList,
    GrantSpec, Grantee, Member, Perm, PermissionRequestSpec, Project, ProjectRole, Request,
    RequestDetail, RequestFilter, RequestFor, RequestKind, RequestState, RoleToAdd, Roles,
    StoreError, TableRef, Topic, TopicCreation, TopicField, TopicFormat, TopicSpec, TopicState,
    User, UserRoleAdded, check_topic_name, parse_kind,
};
use weir_store::{Session, Store};

use super::AppError;

mod datasources;
mod decide;
mod grants;
mod people;
mod requests;
mod topics;

pub use datasources::TestedDataSource;
pub use decide::describe_effect;
pub use grants::KnownTable;

/// Where the metadata store is, in the order weir looks: `WEIR_DATABASE_URL`
/// (PostgreSQL for teams), then `--store`/`WEIR_STORE` (a SQLite file or a URL), then
/// `<project>/.weir/weir.db`.
///
/// A new SQLite store is made only at the project's `.weir/weir.db`: anywhere else the
/// file must exist already, unless the command line said `--create` (which reaches here
/// as `sqlite://PATH?mode=rwc`, see [`creating`]), since the first person to open a new
/// store becomes its system admin and a typo should not make one. A URL of any other
/// scheme (`mysql://…`) is refused, naming those weir knows.
pub fn store_url(store_flag: Option<&Path>, cwd: &Path) -> Result<String, AppError> {
    if let Ok(url) = std::env::var("WEIR_DATABASE_URL")
        && !url.trim().is_empty()
    {
        return named_store(url.trim(), "WEIR_DATABASE_URL");
    }
    match store_flag {
        Some(p) => named_store(&p.to_string_lossy(), "--store"),
        None => {
            let path = crate::project_root(cwd).join(".weir").join("weir.db");
            sqlite_at(&path, true)
        }
    }
}

/// The store flag for `--create`: a SQLite path becomes `sqlite://PATH?mode=rwc`, so
/// that [`store_url`] (in this process and in the workers it starts) may make the store
/// there. Without `--store`, the project's default store is made anyway; a PostgreSQL
/// URL is refused, as its database is made by its owner.
pub fn creating(store_flag: Option<&Path>) -> Result<Option<PathBuf>, AppError> {
    let Some(flag) = store_flag else {
        return Ok(None);
    };
    let s = flag.to_string_lossy();
    let path = match scheme_of(&s).as_deref() {
        None => s.as_ref(),
        Some("sqlite") => sqlite_path(&s).0,
        Some("postgres" | "postgresql") => {
            return Err(AppError::User(
                "--create makes a SQLite store; a PostgreSQL store lives in a database its owner creates (then `weir store init` as the owner)".into(),
            ));
        }
        // store_url names the known schemes
        Some(_) => return Ok(Some(flag.to_path_buf())),
    };
    Ok(Some(PathBuf::from(format!("sqlite://{path}?mode=rwc"))))
}

/// The store a URL or a path names (`what` says where it came from, for messages).
fn named_store(s: &str, what: &str) -> Result<String, AppError> {
    match scheme_of(s).as_deref() {
        Some("postgres" | "postgresql") => Ok(s.to_string()),
        Some("sqlite") => {
            let (path, create) = sqlite_path(s);
            if path.is_empty() {
                return Err(AppError::User(format!(
                    "{what}: the sqlite URL names no file; write sqlite://path/to/weir.db"
                )));
            }
            sqlite_at(Path::new(path), create)
        }
        Some(other) => Err(AppError::User(format!(
            "{what}: `{other}://` is not a kind of metadata store weir knows; the store is a SQLite file (a path, or sqlite://PATH) or a PostgreSQL database (postgres://USER@HOST/DB)"
        ))),
        None => sqlite_at(Path::new(s), false),
    }
}

/// The scheme of a URL in lower case (`sqlite` for `sqlite:x.db` too); `None` for a path.
fn scheme_of(s: &str) -> Option<String> {
    if s.starts_with("sqlite:") {
        return Some("sqlite".into());
    }
    let (scheme, _) = s.split_once("://")?;
    let ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then(|| scheme.to_ascii_lowercase())
}

/// The file of a `sqlite:` URL, and whether it says to create it (`mode=rwc`).
fn sqlite_path(url: &str) -> (&str, bool) {
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest,
        None => url.strip_prefix("sqlite:").unwrap_or(url),
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let create = query.split('&').any(|kv| kv == "mode=rwc");
    (path, create)
}

/// `sqlite://PATH` for an existing store file, or for a new one where `create` allows it
/// (its directory made too).
fn sqlite_at(path: &Path, create: bool) -> Result<String, AppError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            return Err(AppError::User(format!(
                "{} is not a metadata store: it is not a file; name the store's file with --store",
                path.display()
            )));
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(AppError::io(
                format!("cannot read the store file {}", path.display()),
                e,
            ));
        }
        Err(_) if create => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| AppError::io(format!("cannot create {}", dir.display()), e))?;
            }
        }
        Err(_) => {
            return Err(AppError::User(format!(
                "no metadata store at {}: the file does not exist; name an existing store, leave out --store to use the project's .weir/weir.db, or add --create to make a new store there",
                path.display()
            )));
        }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_sqlite_urls() {
        assert_eq!(scheme_of("postgres://u@h/db").as_deref(), Some("postgres"));
        assert_eq!(scheme_of("MySQL://h/db").as_deref(), Some("mysql"));
        assert_eq!(scheme_of("sqlite:x.db").as_deref(), Some("sqlite"));
        assert_eq!(scheme_of("/tmp/x.db"), None);
        assert_eq!(scheme_of("./a://b"), None, "a path with `://` in it");
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc"),
            ("/tmp/x.db", true)
        );
        assert_eq!(sqlite_path("sqlite:x.db"), ("x.db", false));
    }

    #[test]
    fn create_turns_a_path_into_a_creating_url() {
        let url = |s: &str| creating(Some(Path::new(s))).unwrap().unwrap();
        assert_eq!(
            url("/tmp/x.db"),
            PathBuf::from("sqlite:///tmp/x.db?mode=rwc")
        );
        assert_eq!(
            url("sqlite://d/x.db"),
            PathBuf::from("sqlite://d/x.db?mode=rwc")
        );
        assert_eq!(creating(None).unwrap(), None);
        assert!(creating(Some(Path::new("postgres://u@h/db"))).is_err());
    }

    #[test]
    fn only_a_creating_url_makes_a_new_store() {
        let dir = std::env::temp_dir().join(format!("weir-store-url-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = dir.join("sub/x.db");
        let plain = file.display().to_string();
        let e = named_store(&plain, "--store").unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("no metadata store at {plain}")),
            "{e}"
        );
        assert!(!dir.exists());
        let made = named_store(&format!("sqlite://{plain}?mode=rwc"), "--store").unwrap();
        assert_eq!(made, format!("sqlite://{plain}"));
        assert!(dir.join("sub").is_dir(), "its directory is made");
        let e = named_store("mysql://h/db", "--store")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`mysql://` is not a kind of metadata store"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
