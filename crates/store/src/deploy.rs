//! Deploying the store: applying its migrations on request (`weir store init`) and, on
//! PostgreSQL, giving a person's login role what a weir user needs (`weir store grant`) or
//! taking it back (`weir store revoke`).
//!
//! What a login may do in the database is listed in one function, [`login_statements`]:
//! reading the store and, per table, only the kinds of write weir runs there. Which rows
//! a login may write is decided by the triggers of PostgreSQL migration 6
//! (`migrations/postgres/0006_rules.sql`), which check each row against the same rules as
//! the Rust code (`identity.rs`, `requests.rs`, `jobs/`…), so plain SQL in `psql` can do
//! nothing weir would refuse. SQLite has no login roles: anyone who can write the file
//! acts as the login the app passes.

use serde::Serialize;

mod statements;

pub use statements::login_statements;
use statements::{TABLE_RIGHTS, check_role_name, quote_ident};

use crate::audit::{self, NONE};
use crate::db::{Backend, Pool, Tx, args};
use crate::error::{Result, StoreError};
use crate::identity::{GlobalRole, roles};
use crate::migrate::{self, SCHEMA_VERSION};
use crate::{Session, Store};

/// The comment weir puts on a login role it creates, so that `revoke` drops only those.
const CREATED_BY_WEIR: &str = "weir login role (created by weir store grant)";

/// Advisory lock that serialises grants and revokes on one store ("weir" + 2; the
/// migrations hold "weir" + 1).
const LOGIN_LOCK: &str = "SELECT pg_advisory_xact_lock(7265697202)";

/// What [`Store::init`] did to the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaInit {
    /// The schema version before (0: a new store).
    pub from_version: i64,
    /// The schema version now.
    pub version: i64,
    /// The newest version this build knows; a store ahead of it was migrated by a newer weir.
    pub known_version: i64,
    /// The migrations applied, oldest first; empty when the store was already up to date.
    pub applied: Vec<AppliedMigration>,
}

/// One migration that [`Store::init`] applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedMigration {
    /// Its schema version.
    pub version: i64,
    /// What it adds.
    pub description: String,
}

/// The SQL that gives one login role what a weir user needs, and the SQL that takes it
/// back (see [`login_statements`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginStatements {
    /// Run in order by `grant`; idempotent.
    pub grant: Vec<String>,
    /// Run in order by `revoke`: exactly what `grant` gave.
    pub revoke: Vec<String>,
}

/// What [`Session::grant_login`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginGranted {
    /// The login role.
    pub login: String,
    /// Whether the role was missing and this call created it (`LOGIN`, no password: the
    /// server's own authentication applies).
    pub created_role: bool,
    /// The database holding the store.
    pub database: String,
    /// The schema holding the store's tables.
    pub schema: String,
    /// Every statement run, in order (also in the audit row).
    pub statements: Vec<String>,
    /// Whether the login is a registered weir user; if not, a system admin registers it
    /// with a role before it can do more than read.
    pub registered: bool,
}

/// What [`Session::revoke_login`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginRevoked {
    /// The login role.
    pub login: String,
    /// The database holding the store.
    pub database: String,
    /// The schema holding the store's tables.
    pub schema: String,
    /// Every statement run, in order (also in the audit row).
    pub statements: Vec<String>,
    /// Whether the role itself was dropped: only when weir created it and it has no
    /// other uses.
    pub dropped_role: bool,
    /// Why the role was kept, one sentence per reason (empty when dropped).
    pub kept_because: Vec<String>,
    /// Whether the login is still a registered weir user (its roles and history stay).
    pub registered: bool,
}

/// The refusal on the embedded store, which has no login roles.
fn no_login_roles() -> StoreError {
    StoreError::NotAllowed(
        "the embedded SQLite store has no login roles: weir acts as your OS login (or \
         WEIR_USER), and whoever can write the file can use it; register people with \
         `weir user add LOGIN --role ROLE`, or put the store on PostgreSQL \
         (WEIR_DATABASE_URL=postgres://…) to give each person a login role"
            .into(),
    )
}

impl Store {
    /// Opens the store at `url` like [`Store::open`] and says which migrations that
    /// applied: run by the database owner when deploying, so that the schema is in place
    /// before anyone without `CREATE` rights connects.
    pub async fn init(url: &str) -> Result<(Store, SchemaInit)> {
        let pool = Pool::connect(url).await?;
        let from_version = migrate::applied(&pool).await?;
        migrate::run(&pool).await.map_err(|e| {
            refused(
                e,
                "apply the migrations connected as the database's owner (a role that may \
                 create tables in its schema)",
            )
        })?;
        let version = migrate::applied(&pool).await?;
        let applied = if version > from_version {
            let mut tx = pool.read().await?;
            let rows: Vec<(i64, String)> = tx
                .all(
                    "SELECT version, description FROM weir_schema WHERE version > $1 \
                     ORDER BY version",
                    &args![from_version],
                )
                .await?;
            rows.into_iter()
                .map(|(version, description)| AppliedMigration {
                    version,
                    description,
                })
                .collect()
        } else {
            Vec::new()
        };
        let init = SchemaInit {
            from_version,
            version,
            known_version: SCHEMA_VERSION,
            applied,
        };
        Ok((Store { pool }, init))
    }

    /// Fails on the embedded SQLite store, which has no login roles; lets a caller say so
    /// before it opens a session.
    pub fn require_login_roles(&self) -> Result<()> {
        match self.pool.backend() {
            Backend::Sqlite => Err(no_login_roles()),
            Backend::Postgres => Ok(()),
        }
    }
}

/// A login role as PostgreSQL knows it.
struct RoleInfo {
    can_login: bool,
    superuser: bool,
    /// CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS in words, where held.
    powers: Vec<&'static str>,
    created_by_weir: bool,
}

/// Where the store lives: (database, schema).
async fn place(tx: &mut Tx) -> Result<(String, String)> {
    tx.one(
        "SELECT CAST(current_database() AS TEXT), CAST(current_schema() AS TEXT)",
        &[],
    )
    .await
}

async fn role_info(tx: &mut Tx, name: &str) -> Result<Option<RoleInfo>> {
    type Row = (bool, bool, bool, bool, bool, bool, String);
    let row: Option<Row> = tx
        .opt(
            "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, \
             rolbypassrls, COALESCE(shobj_description(oid, 'pg_authid'), '') \
             FROM pg_roles WHERE CAST(rolname AS TEXT) = $1",
            &args![name],
        )
        .await?;
    Ok(row.map(
        |(can_login, superuser, createdb, createrole, replication, bypassrls, comment)| {
            let powers = [
                (createdb, "create databases"),
                (createrole, "create roles"),
                (replication, "replicate"),
                (bypassrls, "bypass row security"),
            ]
            .into_iter()
            .filter_map(|(held, words)| held.then_some(words))
            .collect();
            RoleInfo {
                can_login,
                superuser,
                powers,
                created_by_weir: comment == CREATED_BY_WEIR,
            }
        },
    ))
}

/// Refuses roles that need no grants: a superuser, or the role owning the store.
async fn refuse_owner(tx: &mut Tx, name: &str, info: &RoleInfo) -> Result<()> {
    let (owns,): (i64,) = tx
        .one(
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() \
             AND tablename = 'weir_schema' AND CAST(tableowner AS TEXT) = $1",
            &args![name],
        )
        .await?;
    if info.superuser || owns > 0 {
        let what = if info.superuser {
            "a superuser"
        } else {
            "the owner of the store's tables"
        };
        return Err(StoreError::invalid(
            "login",
            format!("`{name}` is {what} and needs no grants; revoking would lock it out"),
            "grant and revoke the logins of the people who use weir",
        ));
    }
    Ok(())
}

/// Runs one statement built by this module (identifiers quoted, names checked).
async fn ddl(tx: &mut Tx, sql: &str) -> Result<()> {
    match tx {
        Tx::Postgres(t) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut **t)
                .await
                .map_err(|e| {
                    refused(
                        StoreError::Db(e),
                        "grant and revoke need a connection as the store's owner (the role \
                         that applied its migrations) with CREATEROLE",
                    )
                })?;
            Ok(())
        }
        Tx::Sqlite(_) => Err(no_login_roles()),
    }
}

/// A "permission denied" from the server (SQLSTATE 42501), said with what to do about
/// it: the user connected as the wrong role, not an outage.
fn refused(e: StoreError, fix: &str) -> StoreError {
    match &e {
        StoreError::Db(sqlx::Error::Database(d)) if d.code().as_deref() == Some("42501") => {
            StoreError::NotAllowed(format!("the database refused: {}; {fix}", d.message()))
        }
        _ => e,
    }
}

/// Tables of the store the login still cannot read after the grants: the grants were
/// ignored because the connection neither owns the tables nor holds grant options.
async fn unreadable_tables(tx: &mut Tx, login: &str) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    for (table, _) in TABLE_RIGHTS {
        let (readable,): (Option<bool>,) = tx
            .one(
                "SELECT has_table_privilege(CAST($1 AS NAME), \
                 to_regclass(quote_ident(current_schema()) || '.' || quote_ident($2)), 'SELECT')",
                &args![login, *table],
            )
            .await?;
        if readable != Some(true) {
            missing.push((*table).to_string());
        }
    }
    Ok(missing)
}

async fn registered(tx: &mut Tx, login: &str) -> Result<bool> {
    let row: Option<(String,)> = tx
        .opt("SELECT login FROM users WHERE login = $1", &args![login])
        .await?;
    Ok(row.is_some())
}

impl Session {
    /// Gives PostgreSQL login role `login` what a weir user needs (system admin), creating
    /// the role (`LOGIN`, no password) if it is missing. Idempotent: granting again
    /// changes nothing and says so. The roles check, the statements and the audit row are
    /// one transaction.
    pub async fn grant_login(&self, login: &str) -> Result<LoginGranted> {
        if self.pool.backend() == Backend::Sqlite {
            return Err(no_login_roles());
        }
        check_role_name(login)?;
        let mut tx = self.pool.write().await?;
        tx.execute(LOGIN_LOCK, &[]).await?;
        roles(&mut tx, &self.actor)
            .await?
            .require(&[GlobalRole::SystemAdmin], "grant store access to a login")?;
        let (database, schema) = place(&mut tx).await?;
        let mut statements = Vec::new();
        let created_role = match role_info(&mut tx, login).await? {
            Some(info) => {
                refuse_owner(&mut tx, login, &info).await?;
                if !info.can_login {
                    return Err(StoreError::invalid(
                        "login",
                        format!("role `{login}` exists but cannot log in (NOLOGIN)"),
                        format!(
                            "weir acts as the session user, so each person needs a login \
                             role; ask a database admin to `ALTER ROLE {} LOGIN`, or use \
                             another name",
                            quote_ident(login)
                        ),
                    ));
                }
                false
            }
            None => {
                let role = quote_ident(login);
                statements.push(format!("CREATE ROLE {role} LOGIN"));
                statements.push(format!("COMMENT ON ROLE {role} IS '{CREATED_BY_WEIR}'"));
                true
            }
        };
        statements.extend(login_statements(&schema, login)?.grant);
        for sql in &statements {
            ddl(&mut tx, sql).await?;
        }
        let missing = unreadable_tables(&mut tx, login).await?;
        if !missing.is_empty() {
            return Err(StoreError::NotAllowed(format!(
                "the database granted nothing on {}: this connection neither owns the \
                 store's tables nor may grant on them; grant as the store's owner (the role \
                 that applied its migrations)",
                missing.join(", ")
            )));
        }
        let granted = LoginGranted {
            login: login.to_string(),
            created_role,
            database,
            schema,
            statements,
            registered: registered(&mut tx, login).await?,
        };
        audit::append(
            &mut tx,
            &self.actor,
            "store.grant",
            "login",
            login,
            NONE,
            Some(&granted),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            login,
            created = granted.created_role,
            "granted store access"
        );
        Ok(granted)
    }

    /// Takes back what [`Session::grant_login`] gave (system admin). The role itself is
    /// dropped only when weir created it and nothing else uses it (no objects or
    /// privileges in any database, no memberships, no powers beyond `LOGIN`); otherwise
    /// it stays and [`LoginRevoked::kept_because`] says why. The weir user, its roles and
    /// its history stay either way.
    pub async fn revoke_login(&self, login: &str) -> Result<LoginRevoked> {
        if self.pool.backend() == Backend::Sqlite {
            return Err(no_login_roles());
        }
        check_role_name(login)?;
        if login == self.actor {
            return Err(StoreError::NotAllowed(
                "you cannot revoke your own login; ask another system admin".into(),
            ));
        }
        let mut tx = self.pool.write().await?;
        tx.execute(LOGIN_LOCK, &[]).await?;
        roles(&mut tx, &self.actor)
            .await?
            .require(&[GlobalRole::SystemAdmin], "revoke store access of a login")?;
        let (database, schema) = place(&mut tx).await?;
        let Some(info) = role_info(&mut tx, login).await? else {
            let logins: Vec<(String,)> = tx
                .all(
                    "SELECT CAST(rolname AS TEXT) FROM pg_roles WHERE rolcanlogin",
                    &[],
                )
                .await?;
            return Err(StoreError::not_found(
                "login role",
                login,
                logins.into_iter().map(|(l,)| l),
            ));
        };
        refuse_owner(&mut tx, login, &info).await?;
        let mut statements = login_statements(&schema, login)?.revoke;
        for sql in &statements {
            ddl(&mut tx, sql).await?;
        }
        let kept_because = other_uses(&mut tx, login, &info).await?;
        let dropped_role = kept_because.is_empty();
        if dropped_role {
            let sql = format!("DROP ROLE {}", quote_ident(login));
            ddl(&mut tx, &sql).await?;
            statements.push(sql);
        }
        let revoked = LoginRevoked {
            login: login.to_string(),
            database,
            schema,
            statements,
            dropped_role,
            kept_because,
            registered: registered(&mut tx, login).await?,
        };
        audit::append(
            &mut tx,
            &self.actor,
            "store.revoke",
            "login",
            login,
            NONE,
            Some(&revoked),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            login,
            dropped = revoked.dropped_role,
            "revoked store access"
        );
        Ok(revoked)
    }
}

/// Why the role must outlive its weir grants, one sentence per reason (empty: drop it).
/// `pg_shdepend` records owned objects and privileges in every database of the server.
async fn other_uses(tx: &mut Tx, login: &str, info: &RoleInfo) -> Result<Vec<String>> {
    let mut reasons = Vec::new();
    if !info.created_by_weir {
        reasons.push("it was not created by `weir store grant`".to_string());
    }
    let (deps, memberships): (i64, i64) = tx
        .one(
            "SELECT \
             (SELECT COUNT(*) FROM pg_shdepend d \
              WHERE d.refclassid = CAST('pg_authid' AS regclass) AND d.refobjid = r.oid), \
             (SELECT COUNT(*) FROM pg_auth_members m WHERE m.member = r.oid) \
             FROM pg_roles r WHERE CAST(r.rolname AS TEXT) = $1",
            &args![login],
        )
        .await?;
    if deps > 0 {
        reasons.push(format!(
            "it owns objects or holds other privileges ({deps} in this server's databases)"
        ));
    }
    if memberships > 0 {
        reasons.push(format!("it is a member of {memberships} other role(s)"));
    }
    if !info.powers.is_empty() {
        reasons.push(format!("it may {}", info.powers.join(", ")));
    }
    Ok(reasons)
}
