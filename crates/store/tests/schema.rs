//! Both backends end with the same tables and columns after migration.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::Env;
use weir_store::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_have_the_same_tables_and_columns() {
    let lite = Env::new(Backend::Sqlite).await;
    let pg = Env::new(Backend::Postgres).await;

    let p = lite.raw_sqlite().await;
    let mut sqlite_cols: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&p)
    .await
    .expect("sqlite columns");
    p.close().await;

    let p = pg.raw_pg().await;
    let mut pg_cols: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = 'public'",
    )
    .fetch_all(&p)
    .await
    .expect("postgres columns");
    p.close().await;

    sqlite_cols.sort();
    pg_cols.sort();
    assert!(sqlite_cols.len() > 60, "only {} columns", sqlite_cols.len());
    assert_eq!(sqlite_cols, pg_cols);

    // Opening again is a no-op (schema current), and the version is recorded once.
    for env in [&lite, &pg] {
        let again = weir_store::Store::open(&env.owner_url())
            .await
            .expect("reopen");
        again.close().await;
        assert_eq!(
            env.count("SELECT COUNT(*) FROM weir_schema").await,
            weir_store::SCHEMA_VERSION
        );
    }
    // The embedded store runs in WAL mode (persistent in the file).
    let p = lite.raw_sqlite().await;
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&p)
        .await
        .expect("journal mode");
    p.close().await;
    assert_eq!(mode, "wal");
    lite.cleanup().await;
    pg.cleanup().await;
}

#[tokio::test]
async fn sqlite_open_creates_missing_directories_and_rejects_unknown_urls() {
    let dir = std::env::temp_dir().join(format!("weir_t_dir_{}", std::process::id()));
    let url = format!("sqlite://{}/.weir/weir.db", dir.display());
    let store = weir_store::Store::open(&url)
        .await
        .expect("open creates .weir/");
    assert_eq!(store.backend(), Backend::Sqlite);
    store.close().await;
    assert!(dir.join(".weir/weir.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
    let e = weir_store::Store::open("mysql://root:secret@localhost/x")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("neither a sqlite:// nor a postgres:// URL"),
        "{e}"
    );
    assert!(!e.contains("secret"), "password leaked: {e}");
}
