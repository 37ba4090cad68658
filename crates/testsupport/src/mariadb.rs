//! A MariaDB database of the test's own on 127.0.0.1:3306 (user `root`, no password),
//! dropped at the end.

use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::MySqlPool;

use crate::{finish_in_background, quote_ident, unique};

/// The server, as `root`.
pub const SERVER: &str = "mysql://root@127.0.0.1:3306";

/// A database that exists for one test.
#[derive(Debug)]
pub struct MariaDatabase {
    name: String,
    removed: AtomicBool,
}

impl MariaDatabase {
    /// Creates the database `<prefix>_<random>`.
    pub async fn create(prefix: &str) -> MariaDatabase {
        let name = unique(prefix);
        let admin = connect(SERVER).await;
        run(
            &admin,
            &format!("CREATE DATABASE {}", quote_ident(&name, '`')),
        )
        .await;
        admin.close().await;
        MariaDatabase {
            name,
            removed: AtomicBool::new(false),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of this database as `root`.
    pub fn url(&self) -> String {
        format!("{SERVER}/{}", self.name)
    }

    /// A pool on this database; close it when done.
    pub async fn pool(&self) -> MySqlPool {
        connect(&self.url()).await
    }

    /// Runs `sql` (one or more statements) on this database.
    pub async fn execute(&self, sql: &str) {
        let pool = self.pool().await;
        run(&pool, sql).await;
        pool.close().await;
    }

    /// Drops the database; dropping the `MariaDatabase` does the same.
    pub async fn remove(&self) {
        if !self.removed.swap(true, Ordering::SeqCst) {
            remove(self.name.clone()).await;
        }
    }
}

impl Drop for MariaDatabase {
    fn drop(&mut self) {
        if !self.removed.swap(true, Ordering::SeqCst) {
            finish_in_background(remove(self.name.clone()));
        }
    }
}

/// Best effort: a database that cannot be dropped stays for a person to see.
async fn remove(database: String) {
    let sql = format!("DROP DATABASE IF EXISTS {}", quote_ident(&database, '`'));
    match MySqlPool::connect(SERVER).await {
        Ok(admin) => {
            if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&admin)
                .await
            {
                eprintln!("weir-testsupport: {sql}: {e}");
            }
            admin.close().await;
        }
        Err(e) => eprintln!("weir-testsupport: cannot connect to drop {database}: {e}"),
    }
}

async fn connect(url: &str) -> MySqlPool {
    match MySqlPool::connect(url).await {
        Ok(pool) => pool,
        Err(e) => panic!("weir-testsupport: connect to {url} (MariaDB for tests): {e}"),
    }
}

async fn run(pool: &MySqlPool, sql: &str) {
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
    {
        panic!("weir-testsupport: {sql}: {e}");
    }
}
