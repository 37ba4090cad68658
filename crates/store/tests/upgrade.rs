//! A store at schema version 2 with requests and grants moves to version 3 (jobs and
//! releases) keeping every row, id and reference: on SQLite migration 3 rebuilds
//! `requests` and its children to widen the kind CHECK, on PostgreSQL it alters the CHECK.
//! A store at version 3 with instance records moves to version 4 (instances and workers):
//! on SQLite migration 4 rebuilds `instances` (nullable `version_id`, state CHECK).
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use sqlx::{Executor, Row};
use weir_testsupport::postgres::PgDatabase;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS weir_schema (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

/// Rows of a version 2 store: a project, a data source, two requests (a permission and a
/// topic publication), two grants of which the newer was revoked (deleted).
const DATA: &str = "
INSERT INTO weir_schema VALUES (1, 'governance', 't'), (2, 'changes', 't');
INSERT INTO users (login, display_name, created_by, created_at) VALUES ('admin', 'admin', 'admin', 't');
INSERT INTO projects (name, description, archived, created_by, created_at) VALUES ('p', '', FALSE, 'admin', 't');
INSERT INTO data_sources (name, kind, env, test_options, prod_options, managed, description, created_by, created_at, updated_at)
    VALUES ('k', 'kafka', 'both', '{}', '{}', FALSE, '', 'admin', 't', 't');
INSERT INTO topics (name, project_id, display_name, format, partitions, lifecycle_days, description, fields, state, created_by, created_at, updated_at)
    VALUES ('clicks', 1, 'clicks', 'json', 1, 1, '', '[]', 'pending_test', 'admin', 't', 't');
INSERT INTO requests (kind, state, requester, project_id, created_at) VALUES ('permission', 'approved', 'admin', 1, 't');
INSERT INTO requests (kind, state, requester, project_id, created_at) VALUES ('topic_publish', 'pending', 'admin', 1, 't');
INSERT INTO permission_requests (request_id, datasource_id, table_name, grantee_kind, project_id, login, perms, columns, reason)
    VALUES (1, 1, 'clicks', 'project', 1, NULL, '[\"select\"]', '[]', 'r');
INSERT INTO topic_publications (request_id, topic_id, env, datasource_id) VALUES (2, 1, 'test', 1);
INSERT INTO grants (list, datasource_id, table_name, grantee_kind, project_id, perms, columns, request_id, granted_by, granted_at)
    VALUES ('whitelist', 1, 'clicks', 'project', 1, '[\"select\"]', '[]', 1, 'admin', 't');
INSERT INTO grants (list, datasource_id, table_name, grantee_kind, project_id, perms, columns, request_id, granted_by, granted_at)
    VALUES ('whitelist', 1, 'clicks', 'project', 1, '[\"select\"]', '[]', NULL, 'admin', 't');
DELETE FROM grants WHERE id = 2;
";

const CHECK: &str = "SELECT (SELECT COUNT(*) FROM requests) + 10 * (SELECT COUNT(*) FROM permission_requests) \
     + 100 * (SELECT COUNT(*) FROM topic_publications) + 1000 * (SELECT COUNT(*) FROM grants)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_at_version_2_upgrades_keeping_rows_and_ids() {
    let path = std::env::temp_dir().join(format!("{}.db", weir_testsupport::unique("weir_up")));
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .foreign_keys(true),
        )
        .await
        .unwrap();
    pool.execute(SCHEMA).await.unwrap();
    pool.execute(include_str!("../migrations/sqlite/0001_governance.sql"))
        .await
        .unwrap();
    pool.execute(include_str!("../migrations/sqlite/0002_changes.sql"))
        .await
        .unwrap();
    pool.execute(DATA).await.unwrap();
    pool.close().await;

    let store = weir_store::Store::open(&url).await.expect("upgrade");
    store.close().await;

    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(CHECK).fetch_one(&pool).await.unwrap();
    assert_eq!(n, 2 + 10 + 100 + 1000);
    let (v,): (i64,) = sqlx::query_as("SELECT MAX(version) FROM weir_schema")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(v, weir_store::SCHEMA_VERSION);
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(broken.is_empty(), "{} dangling references", broken.len());
    let leftovers = sqlx::query("SELECT name FROM sqlite_master WHERE name LIKE '%_v2'")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(
        leftovers.is_empty(),
        "{:?}",
        leftovers
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect::<Vec<_>>()
    );
    // The children point at the new `requests`, and a revoked grant's id stays used.
    let schema: Vec<(String,)> = sqlx::query_as(
        "SELECT sql FROM sqlite_master WHERE name IN ('topic_publications', 'permission_requests', 'grants')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(schema.len(), 3);
    assert!(
        schema
            .iter()
            .all(|(sql,)| sql.contains("REFERENCES requests (id)"))
    );
    sqlx::query(
        "INSERT INTO grants (list, datasource_id, table_name, grantee_kind, project_id, perms, columns, granted_by, granted_at) \
         VALUES ('public', 1, 'clicks', 'public', NULL, '[]', '[]', 'admin', 't')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (max,): (i64,) = sqlx::query_as("SELECT MAX(id) FROM grants")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(max, 3);
    pool.close().await;

    // The old requests still read through the store.
    let store = weir_store::Store::open(&url).await.unwrap();
    let admin = store.session("admin").await.expect("admin");
    let (r, _) = admin.request(2).await.expect("old request");
    assert_eq!(
        (r.kind, r.summary.as_str()),
        (
            weir_store::RequestKind::TopicPublish,
            "publish topic clicks to test on k"
        )
    );
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_at_version_2_upgrades_keeping_rows() {
    let db = PgDatabase::create("weir_up").await;
    let pool = db.pool().await;
    pool.execute(SCHEMA).await.unwrap();
    pool.execute(include_str!("../migrations/postgres/0001_governance.sql"))
        .await
        .unwrap();
    pool.execute(include_str!("../migrations/postgres/0002_changes.sql"))
        .await
        .unwrap();
    pool.execute(DATA).await.unwrap();
    let store = weir_store::Store::open(&db.url()).await.expect("upgrade");
    store.close().await;
    let (n,): (i64,) = sqlx::query_as(CHECK).fetch_one(&pool).await.unwrap();
    assert_eq!(n, 2 + 10 + 100 + 1000);
    sqlx::query(
        "INSERT INTO requests (kind, state, requester, created_at) VALUES ('release', 'pending', 'admin', 't')",
    )
    .execute(&pool)
    .await
    .expect("kind release accepted");
    pool.close().await;
    db.remove().await;
}

/// Rows of a version 3 store on top of [`DATA`]: a job with a version, a live release and
/// its production instance record; a second instance was deleted (its id stays used).
const DATA_V3: &str = "
INSERT INTO weir_schema VALUES (3, 'versions', 't');
INSERT INTO jobs (project_id, path, created_by, created_at, updated_at) VALUES (1, 'clicks', 'admin', 't', 't');
INSERT INTO job_versions (job_id, number, text, hash, author, created_at, message, validation_passed, validation)
    VALUES (1, 1, 'job text', 'h', 'admin', 't', 'm', TRUE, '[]');
INSERT INTO requests (kind, state, requester, project_id, created_at) VALUES ('release', 'approved', 'admin', 1, 't');
INSERT INTO releases (request_id, job_id, version_id, hash, note, state) VALUES (3, 1, 1, 'h', '', 'live');
INSERT INTO instances (job_id, version_id, release_id, env, parallelism, memory_mib, start_position, params, state, created_by, created_at)
    VALUES (1, 1, 3, 'prod', 2, 64, 'latest', '{}', 'created', 'admin', 't');
INSERT INTO instances (job_id, version_id, release_id, env, parallelism, memory_mib, start_position, params, state, created_by, created_at)
    VALUES (1, 1, 3, 'prod', 1, 64, 'earliest', '{}', 'created', 'admin', 't');
DELETE FROM instances WHERE id = 2;
";

/// After the upgrade to version 4: the instance record reads as a production instance
/// waiting for a worker, and the next instance gets a fresh id.
async fn check_v4(url: &str) {
    let store = weir_store::Store::open(url).await.expect("upgrade to 4");
    let s = store.session("admin").await.expect("session");
    let i = s.instance(1).await.expect("old instance");
    assert_eq!(
        (
            i.version,
            i.release,
            i.parallelism,
            i.state,
            i.desired,
            i.worker
        ),
        (
            Some(1),
            Some(3),
            2,
            weir_store::InstanceState::Created,
            weir_store::DesiredState::Running,
            None
        )
    );
    assert_eq!(s.instance_text(1).await.unwrap(), "job text");
    assert!(s.instance(2).await.is_err());
    store.close().await;
}

const NEXT_INSTANCE: &str = "INSERT INTO instances (job_id, version_id, release_id, env, parallelism, \
     memory_mib, start_position, params, state, created_by, created_at) \
     VALUES (1, 1, 3, 'prod', 1, 64, 'latest', '{}', 'created', 'admin', 't') RETURNING id";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_at_version_3_upgrades_its_instances() {
    let path = std::env::temp_dir().join(format!("{}.db", weir_testsupport::unique("weir_up")));
    let url = format!("sqlite://{}", path.display());
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    pool.execute(SCHEMA).await.unwrap();
    for sql in [
        include_str!("../migrations/sqlite/0001_governance.sql"),
        include_str!("../migrations/sqlite/0002_changes.sql"),
        DATA,
        include_str!("../migrations/sqlite/0003_versions.sql"),
        DATA_V3,
    ] {
        pool.execute(sql).await.unwrap();
    }
    pool.close().await;

    check_v4(&url).await;

    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(broken.is_empty(), "{} dangling references", broken.len());
    let leftovers: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE name LIKE '%_v3'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let (next,): (i64,) = sqlx::query_as(NEXT_INSTANCE)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(next, 3, "a deleted instance's id is not handed out again");
    // The new CHECK constraints hold: a state outside the machine is refused.
    let bad = sqlx::query("UPDATE instances SET state = 'sleeping' WHERE id = 1")
        .execute(&pool)
        .await;
    assert!(bad.is_err());
    pool.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_at_version_3_upgrades_its_instances() {
    let db = PgDatabase::create("weir_up").await;
    let pool = db.pool().await;
    pool.execute(SCHEMA).await.unwrap();
    for sql in [
        include_str!("../migrations/postgres/0001_governance.sql"),
        include_str!("../migrations/postgres/0002_changes.sql"),
        DATA,
        include_str!("../migrations/postgres/0003_versions.sql"),
        DATA_V3,
    ] {
        pool.execute(sql).await.unwrap();
    }
    check_v4(&db.url()).await;
    let (next,): (i64,) = sqlx::query_as(NEXT_INSTANCE)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(next, 3);
    let bad = sqlx::query("UPDATE instances SET state = 'sleeping' WHERE id = 1")
        .execute(&pool)
        .await;
    assert!(bad.is_err());
    pool.close().await;
    db.remove().await;
}
