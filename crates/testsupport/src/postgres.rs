//! A PostgreSQL database of the test's own on 127.0.0.1:5432, and login roles for it.
//! Roles are global to the server, so their names carry the database's random suffix
//! (`wt<hex>_<login>`); the database and the roles are dropped at the end.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::PgPool;

use crate::{finish_in_background, quote_ident, random_hex};

/// The server, as its superuser (trust authentication on 127.0.0.1).
pub const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// A database that exists for one test.
#[derive(Debug)]
pub struct PgDatabase {
    name: String,
    suffix: String,
    roles: Mutex<Vec<String>>,
    removed: AtomicBool,
}

impl PgDatabase {
    /// Creates the database `<prefix>_<random>` (owned by the superuser).
    pub async fn create(prefix: &str) -> PgDatabase {
        let suffix = random_hex();
        let name = format!("{prefix}_{suffix}");
        let admin = connect(&format!("{SERVER}/postgres")).await;
        run(
            &admin,
            &format!("CREATE DATABASE {}", quote_ident(&name, '"')),
        )
        .await;
        admin.close().await;
        PgDatabase {
            name,
            suffix,
            roles: Mutex::new(Vec::new()),
            removed: AtomicBool::new(false),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of this database as the superuser.
    pub fn url(&self) -> String {
        format!("{SERVER}/{}", self.name)
    }

    /// The URL of this database as `role` (no password: trust authentication).
    pub fn url_as(&self, role: &str) -> String {
        format!("postgres://{role}@127.0.0.1:5432/{}", self.name)
    }

    /// The name of this test's login role for `login`: `wt<hex>_<login>`.
    pub fn role(&self, login: &str) -> String {
        format!("wt{}_{login}", self.suffix)
    }

    /// Creates login role `role` (no password) unless this test already did, runs
    /// `grants` on this database as the superuser, and returns the URL to connect as it.
    /// The role is dropped with the database.
    pub async fn login(&self, role: &str, grants: &[String]) -> String {
        if !self.knows(role) {
            let admin = self.pool().await;
            run(
                &admin,
                &format!("CREATE ROLE {} LOGIN", quote_ident(role, '"')),
            )
            .await;
            self.adopt_role(role);
            for sql in grants {
                run(&admin, sql).await;
            }
            admin.close().await;
        }
        self.url_as(role)
    }

    /// Drops `role` with the database at the end; for roles made by the code under test.
    pub fn adopt_role(&self, role: &str) {
        if let Ok(mut roles) = self.roles.lock()
            && !roles.iter().any(|r| r == role)
        {
            roles.push(role.to_string());
        }
    }

    fn knows(&self, role: &str) -> bool {
        self.roles
            .lock()
            .map(|roles| roles.iter().any(|r| r == role))
            .unwrap_or(false)
    }

    /// A pool on this database as the superuser; close it when done.
    pub async fn pool(&self) -> PgPool {
        connect(&self.url()).await
    }

    /// Runs `sql` (one or more statements) on this database as the superuser.
    pub async fn execute(&self, sql: &str) {
        let pool = self.pool().await;
        run(&pool, sql).await;
        pool.close().await;
    }

    /// Drops the database (closing whatever is still connected to it) and the roles.
    /// Dropping the `PgDatabase` does the same.
    pub async fn remove(&self) {
        if !self.removed.swap(true, Ordering::SeqCst) {
            remove(self.name.clone(), self.take_roles()).await;
        }
    }

    fn take_roles(&self) -> Vec<String> {
        self.roles
            .lock()
            .map(|mut roles| std::mem::take(&mut *roles))
            .unwrap_or_default()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if !self.removed.swap(true, Ordering::SeqCst) {
            finish_in_background(remove(self.name.clone(), self.take_roles()));
        }
    }
}

/// Best effort: what cannot be dropped stays for a person to see.
async fn remove(database: String, roles: Vec<String>) {
    let Ok(admin) = PgPool::connect(&format!("{SERVER}/postgres")).await else {
        eprintln!("weir-testsupport: cannot connect to drop database {database}");
        return;
    };
    let drops = std::iter::once(format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_ident(&database, '"')
    ))
    .chain(
        roles
            .iter()
            .map(|r| format!("DROP ROLE IF EXISTS {}", quote_ident(r, '"'))),
    );
    for sql in drops {
        if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&admin)
            .await
        {
            eprintln!("weir-testsupport: {sql}: {e}");
        }
    }
    admin.close().await;
}

async fn connect(url: &str) -> PgPool {
    match PgPool::connect(url).await {
        Ok(pool) => pool,
        Err(e) => panic!("weir-testsupport: connect to {url} (PostgreSQL for tests): {e}"),
    }
}

async fn run(pool: &PgPool, sql: &str) {
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
    {
        panic!("weir-testsupport: {sql}: {e}");
    }
}
