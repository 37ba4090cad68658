//! Each place exists while the test holds it and is gone afterwards, whether the test
//! removes it, drops it, or panics while holding it.

#![allow(clippy::unwrap_used)]

use weir_testsupport::mariadb::MariaDatabase;
use weir_testsupport::postgres::{PgDatabase, SERVER};
use weir_testsupport::redis::RedisPrefix;

async fn pg_count(sql: &str, name: &str) -> i64 {
    let pool = sqlx::PgPool::connect(&format!("{SERVER}/postgres"))
        .await
        .unwrap();
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(name)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

async fn database_exists(name: &str) -> bool {
    pg_count("SELECT COUNT(*) FROM pg_database WHERE datname = $1", name).await > 0
}

async fn role_exists(name: &str) -> bool {
    pg_count("SELECT COUNT(*) FROM pg_roles WHERE rolname = $1", name).await > 0
}

async fn maria_exists(name: &str) -> bool {
    let pool = sqlx::MySqlPool::connect(weir_testsupport::mariadb::SERVER)
        .await
        .unwrap();
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?")
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    n > 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_and_its_login_roles_go_away_together() {
    let db = PgDatabase::create("weir_ts").await;
    assert!(db.name().starts_with("weir_ts_"));
    assert!(database_exists(db.name()).await);
    let role = db.role("ann");
    assert!(role.starts_with("wt") && role.ends_with("_ann"), "{role}");
    db.execute("CREATE TABLE t (x INT)").await;
    let url = db
        .login(&role, &[format!("GRANT SELECT ON t TO \"{role}\"")])
        .await;
    // A second call neither fails on the existing role nor runs the grants again.
    assert_eq!(db.login(&role, &[]).await, url);
    let as_ann = sqlx::PgPool::connect(&url).await.unwrap();
    let (who,): (String,) = sqlx::query_as("SELECT CAST(session_user AS TEXT)")
        .fetch_one(&as_ann)
        .await
        .unwrap();
    assert_eq!(who, role);
    let rows: Vec<(i32,)> = sqlx::query_as("SELECT x FROM t")
        .fetch_all(&as_ann)
        .await
        .unwrap();
    assert!(rows.is_empty());
    let name = db.name().to_string();
    // Removing works with connections still open.
    db.remove().await;
    as_ann.close().await;
    assert!(!database_exists(&name).await);
    assert!(!role_exists(&role).await);
}

#[test]
fn a_postgres_database_goes_away_when_the_test_panics() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(PgDatabase::create("weir_ts"));
    let (name, role) = (db.name().to_string(), db.role("bo"));
    rt.block_on(db.login(&role, &[]));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _held = db;
        panic!("the test fails while holding its database");
    }));
    assert!(outcome.is_err());
    assert!(!rt.block_on(database_exists(&name)));
    assert!(!rt.block_on(role_exists(&role)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_database_goes_away_when_dropped() {
    let db = MariaDatabase::create("weir_ts").await;
    let name = db.name().to_string();
    db.execute("CREATE TABLE t (x INT)").await;
    db.execute("INSERT INTO t VALUES (1)").await;
    let pool = db.pool().await;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM t")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(n, 1);
    assert!(db.url().ends_with(&format!("/{name}")));
    assert!(maria_exists(&name).await);
    drop(db);
    assert!(!maria_exists(&name).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_prefix_takes_its_keys_with_it() {
    let keys = RedisPrefix::new("weir_ts");
    let other = RedisPrefix::new("weir_ts");
    assert_ne!(keys.as_str(), other.as_str());
    let mut con = keys.connection().await;
    for k in ["a", "b:c"] {
        let () = redis::cmd("SET")
            .arg(keys.key(k))
            .arg("1")
            .query_async(&mut con)
            .await
            .unwrap();
    }
    let () = redis::cmd("SET")
        .arg(other.key("a"))
        .arg("1")
        .query_async(&mut con)
        .await
        .unwrap();
    keys.remove().await;
    let left: Vec<Option<String>> = redis::cmd("MGET")
        .arg(keys.key("a"))
        .arg(keys.key("b:c"))
        .arg(other.key("a"))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(left, vec![None, None, Some("1".to_string())]);
    let other_key = other.key("a");
    drop(other);
    let gone: Option<String> = redis::cmd("GET")
        .arg(other_key)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(gone, None);
}
