//! Change notifications and request history, on SQLite (polling) and PostgreSQL
//! (LISTEN/NOTIFY): a workbench waiting on `Store::changes` learns of another session's
//! write, a rolled-back write wakes nobody, and the history of a request lists its steps.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Env, cast};
use weir_store::{Perm, PermissionRequestSpec, RequestFor, TableRef};

both!(
    another_sessions_write_is_noticed,
    request_history_lists_the_workflow
);

fn spec() -> PermissionRequestSpec {
    PermissionRequestSpec {
        target: TableRef::new("shop", "orders"),
        for_whom: RequestFor::Project("p".into()),
        perms: vec![Perm::Select],
        columns: Vec::new(),
        reason: "daily report".into(),
    }
}

async fn another_sessions_write_is_noticed(env: Arc<Env>) {
    let c = cast(&env).await;
    let watcher = env.store("dan").await;
    let mut changes = watcher
        .changes(Duration::from_millis(20))
        .await
        .expect("change feed");
    let before = changes.last();
    assert!(before > 0, "the cast's writes are in the audit log");
    // nothing happens: no change within a while
    let idle = tokio::time::timeout(Duration::from_millis(300), changes.next()).await;
    assert!(idle.is_err(), "a change without a write: {idle:?}");
    // a refused write (bob asking for a non-existent data source) writes nothing
    let mut bad = spec();
    bad.target = TableRef::new("nope", "orders");
    assert!(c.bob.request_permission(&bad).await.is_err());
    let idle = tokio::time::timeout(Duration::from_millis(300), changes.next()).await;
    assert!(idle.is_err(), "a refused write was announced: {idle:?}");
    // another session's request arrives
    let made = c.bob.request_permission(&spec()).await.expect("request");
    let id = tokio::time::timeout(Duration::from_secs(10), changes.next())
        .await
        .expect("noticed within 10 s")
        .expect("feed works");
    assert!(id > before);
    assert_eq!(c.dan.inbox().await.expect("inbox").len(), made.len());
    assert_eq!(c.dan.last_change().await.expect("last change"), id);
    let how = changes.how();
    match env.backend {
        weir_store::Backend::Postgres => assert_eq!(how, "listen/notify"),
        weir_store::Backend::Sqlite => assert!(how.starts_with("polling"), "{how}"),
    }
    // the listener holds a connection of the pool: close waits for it
    drop(changes);
    watcher.close().await;
}

async fn request_history_lists_the_workflow(env: Arc<Env>) {
    let c = cast(&env).await;
    let id = c.bob.request_permission(&spec()).await.expect("request")[0].id;
    c.dan
        .reject(id, "name the columns you need")
        .await
        .expect("reject");
    let h = c.bob.request_history(id).await.expect("history");
    let steps: Vec<(&str, String)> = h
        .iter()
        .map(|e| (e.action.as_str(), e.actor.clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("permission.request", env.name("bob")),
            ("request.reject", env.name("dan")),
        ]
    );
    assert!(
        h[1].after_json
            .as_deref()
            .is_some_and(|j| j.contains("name the columns you need"))
    );
    let missing = c.bob.request_history(99_999).await;
    assert!(
        matches!(missing, Err(weir_store::StoreError::NotFound { .. })),
        "{missing:?}"
    );
}
