//! The two backends behind one small interface.
//!
//! Every statement of weir is written once, with `$1`-style placeholders: PostgreSQL
//! requires them and SQLite accepts them (`$NNN` binds by index), so one SQL text serves
//! both. Values go in as [`Arg`]s and rows come back as tuples (`sqlx::FromRow` is
//! implemented for tuples on every backend), so a query is typed once and checked at
//! run time; nothing here needs a live database at build time. Types are kept to those
//! both backends decode the same way: `BIGINT`/`INTEGER` ↔ `i64`, `TEXT` ↔ `String`
//! (JSON is stored as text), `BOOLEAN` ↔ `bool`. `sqlx::Any` was not used because it
//! drops booleans and needs its own driver registry.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{FromRow, Postgres, Sqlite, Transaction};

use crate::error::{Result, StoreError};

/// Which database holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded file (`sqlite://path`).
    Sqlite,
    /// Team server (`postgres://…`).
    Postgres,
}

/// A connection pool of either backend.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction of either backend. Dropping it without `commit` rolls back.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// One bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(i64),
    OptI64(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
    OptBool(Option<bool>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::I64(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptI64(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::OptText(v.map(str::to_string))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<Option<bool>> for Arg {
    fn from(v: Option<bool>) -> Self {
        Arg::OptBool(v)
    }
}

/// `args![a, b]` → `[Arg::from(a), Arg::from(b)]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => { [$($crate::db::Arg::from($v)),*] };
}
pub(crate) use args;

/// Binds `$args` in order onto a `query` / `query_as` of either backend.
macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(*v),
                Arg::OptI64(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
                Arg::OptText(v) => q.bind(v.clone()),
                Arg::Bool(v) => q.bind(*v),
                Arg::OptBool(v) => q.bind(*v),
            };
        }
        q
    }};
}

/// Rows decodable from both backends (tuples of `i64`, `String`, `bool`, `Option<_>`).
pub(crate) trait BothRows:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> BothRows for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl Pool {
    /// Opens `sqlite://path` (file created, WAL, foreign keys on) or `postgres://…` (one
    /// connection tried first, so that an unreachable database fails within seconds
    /// naming the cause; the app decides where a new SQLite file may be made).
    pub(crate) async fn connect(url: &str) -> Result<Pool> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or(path);
            if path.is_empty() {
                return Err(StoreError::invalid(
                    "url",
                    "the sqlite URL has no file path",
                    "write sqlite://path/to/weir.db",
                ));
            }
            if let Some(dir) = std::path::Path::new(path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::invalid(
                        "url",
                        format!("cannot create the directory {}: {e}", dir.display()),
                        "choose a path you can write to",
                    )
                })?;
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?;
            Ok(Pool::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| {
                StoreError::invalid(
                    "url",
                    format!(
                        "`{}` is not a PostgreSQL URL weir can read: {e}",
                        redact(url)
                    ),
                    "write postgres://USER@HOST:PORT/DATABASE",
                )
            })?;
            probe(&options).await.map_err(|e| unreachable(url, &e))?;
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(|e| unreachable(url, &e))?;
            Ok(Pool::Postgres(pool))
        } else {
            Err(StoreError::invalid(
                "url",
                format!(
                    "`{}` is neither a sqlite:// nor a postgres:// URL",
                    redact(url)
                ),
                "use sqlite://path/to/weir.db or postgres://user@host/db",
            ))
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so that a read-then-write never fails half way with "busy".
    pub(crate) async fn write(&self) -> Result<Tx> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A transaction that only reads (one consistent snapshot for a multi-query read).
    pub(crate) async fn read(&self) -> Result<Tx> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// How long the first connection to a PostgreSQL store may take before the store counts
/// as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call waits for a connection of the pool (all busy, or the database gone)
/// before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens and closes one connection, so that a database that is down or refuses the
/// login fails at once with its reason: the pool would retry a refused connection until
/// its timeout and then report only "pool timed out".
async fn probe(options: &PgConnectOptions) -> std::result::Result<(), sqlx::Error> {
    use sqlx::{ConnectOptions, Connection};
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(connection)) => connection.close().await,
        Ok(Err(e)) => Err(e),
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        ))),
    }
}

/// The failure to open the store at `url`, its cause in plain words first.
fn unreachable(url: &str, e: &sqlx::Error) -> StoreError {
    // the server answered and said no: a login, a password or a database name to fix
    let login_refused = matches!(e, sqlx::Error::Database(_))
        || weir_model::connect_error::cause(e)
            == Some(weir_model::connect_error::Cause::LoginRefused);
    StoreError::Unreachable {
        url: redact(url),
        reason: weir_model::connect_error::describe(e),
        fix: if login_refused {
            "check the user, the password (PGPASSWORD, ~/.pgpass) and the database name, or ask the store's owner for a login (weir store grant)"
        } else {
            "check that the database runs and that the host and port are right, then retry"
        },
        login_refused,
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs a statement; returns the number of rows it touched.
    pub(crate) async fn execute(&mut self, sql: &'static str, args: &[Arg]) -> Result<u64> {
        Ok(match self {
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            Tx::Postgres(t) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **t)
                .await?
                .rows_affected(),
        })
    }

    /// Runs several statements of trusted, constant SQL (migrations).
    pub(crate) async fn execute_script(&mut self, sql: &'static str) -> Result<()> {
        match self {
            Tx::Sqlite(t) => {
                sqlx::raw_sql(sql).execute(&mut **t).await?;
            }
            Tx::Postgres(t) => {
                sqlx::raw_sql(sql).execute(&mut **t).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn all<T: BothRows>(
        &mut self,
        sql: &'static str,
        args: &[Arg],
    ) -> Result<Vec<T>> {
        Ok(match self {
            Tx::Sqlite(t) => {
                bind_all!(sqlx::query_as::<Sqlite, T>(sql), args)
                    .fetch_all(&mut **t)
                    .await?
            }
            Tx::Postgres(t) => {
                bind_all!(sqlx::query_as::<Postgres, T>(sql), args)
                    .fetch_all(&mut **t)
                    .await?
            }
        })
    }

    pub(crate) async fn opt<T: BothRows>(
        &mut self,
        sql: &'static str,
        args: &[Arg],
    ) -> Result<Option<T>> {
        Ok(match self {
            Tx::Sqlite(t) => {
                bind_all!(sqlx::query_as::<Sqlite, T>(sql), args)
                    .fetch_optional(&mut **t)
                    .await?
            }
            Tx::Postgres(t) => {
                bind_all!(sqlx::query_as::<Postgres, T>(sql), args)
                    .fetch_optional(&mut **t)
                    .await?
            }
        })
    }

    pub(crate) async fn one<T: BothRows>(&mut self, sql: &'static str, args: &[Arg]) -> Result<T> {
        Ok(match self {
            Tx::Sqlite(t) => {
                bind_all!(sqlx::query_as::<Sqlite, T>(sql), args)
                    .fetch_one(&mut **t)
                    .await?
            }
            Tx::Postgres(t) => {
                bind_all!(sqlx::query_as::<Postgres, T>(sql), args)
                    .fetch_one(&mut **t)
                    .await?
            }
        })
    }
}

/// The URL without a password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Now, as RFC 3339 UTC with milliseconds (`2026-12-01T23:01:45.123Z`). Text sorts in time
/// order and reads the same on both backends.
pub(crate) fn now() -> String {
    format_time(std::time::SystemTime::now())
}

/// The time `age` ago, formatted like [`now`] (for "heartbeat older than" comparisons).
pub(crate) fn ago(age: Duration) -> String {
    let t = std::time::SystemTime::now();
    format_time(t.checked_sub(age).unwrap_or(std::time::UNIX_EPOCH))
}

/// `t` as RFC 3339 UTC with milliseconds.
fn format_time(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}
