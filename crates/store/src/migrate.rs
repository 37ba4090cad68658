//! Schema migrations, embedded in the binary and applied on open.
//!
//! Each backend has its own SQL files (`migrations/{sqlite,postgres}/`) because DDL differs
//! (identity columns, triggers); the versions and the resulting tables and columns are the
//! same, which `tests/schema.rs` asserts. Applied versions are recorded in `weir_schema`.
//! On PostgreSQL an advisory lock makes concurrent opens apply each migration once; on
//! SQLite `BEGIN IMMEDIATE` does the same.

use crate::db::{Backend, Pool, Tx, args};
use crate::error::Result;

struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "governance: users, projects, data sources, topics, requests, grants, audit",
        sqlite: include_str!("../migrations/sqlite/0001_governance.sql"),
        postgres: include_str!("../migrations/postgres/0001_governance.sql"),
    },
    Migration {
        version: 2,
        description: "change notifications (PostgreSQL NOTIFY per audit row), audit by object",
        sqlite: include_str!("../migrations/sqlite/0002_changes.sql"),
        postgres: include_str!("../migrations/postgres/0002_changes.sql"),
    },
    Migration {
        version: 3,
        description: "jobs: versions (immutable), edit locks, releases, instance records",
        sqlite: include_str!("../migrations/sqlite/0003_versions.sql"),
        postgres: include_str!("../migrations/postgres/0003_versions.sql"),
    },
    Migration {
        version: 4,
        description: "instances: run and desired state, test instances, workers",
        sqlite: include_str!("../migrations/sqlite/0004_instances.sql"),
        postgres: include_str!("../migrations/postgres/0004_instances.sql"),
    },
    Migration {
        version: 5,
        description: "monitoring: metric snapshots, instance logs, alert rules, alerts",
        sqlite: include_str!("../migrations/sqlite/0005_monitoring.sql"),
        postgres: include_str!("../migrations/postgres/0005_monitoring.sql"),
    },
    Migration {
        version: 6,
        description: "rules: PostgreSQL triggers enforce weir's rules on every login role",
        sqlite: include_str!("../migrations/sqlite/0006_rules.sql"),
        postgres: include_str!("../migrations/postgres/0006_rules.sql"),
    },
    Migration {
        version: 7,
        description: "savepoints: recorded savepoints, savepoint requests to workers",
        sqlite: include_str!("../migrations/sqlite/0007_savepoints.sql"),
        postgres: include_str!("../migrations/postgres/0007_savepoints.sql"),
    },
    Migration {
        version: 8,
        description: "alerts: the checkpoint_failed kind",
        sqlite: include_str!("../migrations/sqlite/0008_checkpoint_alerts.sql"),
        postgres: include_str!("../migrations/postgres/0008_checkpoint_alerts.sql"),
    },
    Migration {
        version: 9,
        description: "data sources: the last connectivity test per environment, when and by whom",
        sqlite: include_str!("../migrations/sqlite/0009_datasource_tests.sql"),
        postgres: include_str!("../migrations/postgres/0009_datasource_tests.sql"),
    },
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 9;

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS weir_schema (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

/// Applies every migration not yet recorded. Cheap when the schema is current (one read,
/// no DDL), so a role without CREATE rights can open an up-to-date PostgreSQL store.
pub(crate) async fn run(pool: &Pool) -> Result<()> {
    if applied(pool).await? >= SCHEMA_VERSION {
        return Ok(());
    }
    let mut tx = pool.write().await?;
    if tx.backend() == Backend::Postgres {
        tx.execute("SELECT pg_advisory_xact_lock(7265697201)", &[])
            .await?;
    }
    tx.execute_script(VERSION_TABLE).await?;
    let (current,): (Option<i64>,) = tx.one("SELECT MAX(version) FROM weir_schema", &[]).await?;
    let current = current.unwrap_or(0);
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        apply(&mut tx, m).await?;
        tracing::info!(version = m.version, "applied store migration");
    }
    tx.commit().await
}

async fn apply(tx: &mut Tx, m: &Migration) -> Result<()> {
    let sql = match tx.backend() {
        Backend::Sqlite => m.sqlite,
        Backend::Postgres => m.postgres,
    };
    tx.execute_script(sql).await?;
    tx.execute(
        "INSERT INTO weir_schema (version, description, applied_at) VALUES ($1, $2, $3)",
        &args![m.version, m.description, crate::db::now()],
    )
    .await?;
    Ok(())
}

/// The newest applied schema version (0: none yet).
pub(crate) async fn applied(pool: &Pool) -> Result<i64> {
    let mut tx = pool.read().await?;
    let exists_sql = match tx.backend() {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'weir_schema'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'weir_schema'"
        }
    };
    let (exists,): (i64,) = tx.one(exists_sql, &[]).await?;
    if exists == 0 {
        return Ok(0);
    }
    let (v,): (Option<i64>,) = tx.one("SELECT MAX(version) FROM weir_schema", &[]).await?;
    Ok(v.unwrap_or(0))
}
