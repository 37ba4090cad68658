//! The last connectivity test of a data source per environment (issue 17), on SQLite and
//! PostgreSQL: recorded by whoever tested, replaced by the next test of the same
//! environment, read by everyone, audited, refused for an unregistered login, forgotten
//! when an update makes it stale, deleted with its data source; on PostgreSQL a login cannot forge another's result in `psql`.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{Env, cast, ds, err};
use weir_store::{Backend, DataSourceKind, Endpoint, StoreError, TestOutcome};

fn outcome(ok: bool, message: &str) -> TestOutcome {
    TestOutcome {
        ok,
        latency_ms: 12,
        message: message.into(),
        not_checked: ok.then(|| "the login (a TCP check only)".into()),
    }
}

async fn a_test_is_recorded_per_environment_and_replaced(env: Arc<Env>) {
    let c = cast(&env).await;
    let test = weir_store::Env::Test;
    let prod = weir_store::Env::Prod;
    assert!(c.bob.data_source_tests().await.unwrap().is_empty());

    // a developer tests; everyone reads it, with who and when
    let first = c
        .bob
        .record_data_source_test("kmain", test, &outcome(true, "listed 3 topics"))
        .await
        .unwrap();
    assert_eq!(first.tested_by, env.name("bob"));
    assert!(first.ok);
    assert_eq!(first.latency_ms, 12);
    assert_eq!(first.message, "listed 3 topics");
    assert!(first.tested_at.starts_with("20"), "{}", first.tested_at);
    let seen = c.olga.data_source_tests().await.unwrap();
    assert_eq!(seen, std::slice::from_ref(&first));
    assert_eq!(
        env.count("SELECT COUNT(*) FROM audit WHERE action = 'datasource.test'")
            .await,
        1
    );

    // the next test of the same environment replaces it; prod is kept apart
    c.dan
        .record_data_source_test("kmain", prod, &outcome(true, "prod ok"))
        .await
        .unwrap();
    let second = c
        .olga
        .record_data_source_test("kmain", test, &outcome(false, "connection refused"))
        .await
        .unwrap();
    let all = c.bob.data_source_tests().await.unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0], second, "test first");
    assert_eq!(all[0].tested_by, env.name("olga"));
    assert!(!all[0].ok);
    assert_eq!(all[0].not_checked, None);
    assert_eq!((all[1].env, all[1].message.as_str()), (prod, "prod ok"));

    // one environment at a time; a data source that exists
    let e = err(c
        .bob
        .record_data_source_test("kmain", weir_store::Env::Both, &outcome(true, "x"))
        .await);
    assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
    let e = err(c
        .bob
        .record_data_source_test("nope", test, &outcome(true, "x"))
        .await);
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");

    // an update that changes nothing keeps both; a new test address forgets test's
    let mut spec = ds("kmain", DataSourceKind::Kafka, weir_store::Env::Both);
    c.dan.update_data_source("kmain", &spec).await.unwrap();
    assert_eq!(c.bob.data_source_tests().await.unwrap().len(), 2);
    spec.test = Some(Endpoint {
        address: "elsewhere:9092".into(),
        options: serde_json::json!({"timeout_ms": 500}),
    });
    c.dan.update_data_source("kmain", &spec).await.unwrap();
    let left = c.bob.data_source_tests().await.unwrap();
    assert_eq!(left.iter().map(|t| t.env).collect::<Vec<_>>(), [prod]);

    // deleting the data source deletes its results
    c.dan
        .record_data_source_test("ktest", test, &outcome(true, "ok"))
        .await
        .unwrap();
    c.dan.delete_data_source("ktest").await.unwrap();
    let left = c.bob.data_source_tests().await.unwrap();
    assert!(left.iter().all(|t| t.data_source == "kmain"), "{left:?}");
}

async fn an_unregistered_login_records_nothing(env: Arc<Env>) {
    let c = cast(&env).await;
    let stranger = env.as_("stranger").await;
    let e = err(stranger
        .record_data_source_test("kmain", weir_store::Env::Test, &outcome(true, "x"))
        .await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    assert!(c.admin.data_source_tests().await.unwrap().is_empty());
}

both!(
    a_test_is_recorded_per_environment_and_replaced,
    an_unregistered_login_records_nothing
);

/// In `psql`, bob can record only his own results: not as someone else, not moved to
/// another data source, and not deleted (a data admin's right).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refuses_forged_results() {
    common::run(Backend::Postgres, |env| async move {
        let c = cast(&env).await;
        c.bob
            .record_data_source_test("kmain", weir_store::Env::Test, &outcome(true, "ok"))
            .await
            .unwrap();
        let db = env.pg().unwrap();
        let bob = sqlx::PgPool::connect(&db.url_as(&env.name("bob")))
            .await
            .unwrap();
        let olga = env.name("olga");
        for (what, sql) in [
            (
                "as someone else",
                format!("UPDATE data_source_tests SET tested_by = '{olga}', ok = FALSE"),
            ),
            (
                "to another data source",
                "UPDATE data_source_tests SET data_source_id = \
                 (SELECT id FROM data_sources WHERE name = 'shop')"
                    .to_string(),
            ),
            ("deleted", "DELETE FROM data_source_tests".to_string()),
        ] {
            let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&bob)
                .await;
            let Err(sqlx::Error::Database(e)) = result else {
                panic!("forging a result {what} was allowed: {sql}");
            };
            assert_eq!(e.code().as_deref(), Some("WR001"), "{what}: {e}");
        }
        bob.close().await;
        let left = c.admin.data_source_tests().await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].tested_by, env.name("bob"));
        assert!(left[0].ok);
    })
    .await;
}
