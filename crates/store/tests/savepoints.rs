//! Savepoints in the store (issue 16): a request to the worker holding the instance,
//! recorded savepoints with their audit rows, the refusals (roles, a stopped instance, a
//! worker that does not hold the instance, a savepoint of another job as a start), a stop
//! request that also stops the instance, listing and deleting. On SQLite and PostgreSQL
//! (where migration 7's rules check the same writes).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Env, cast, err, hash, of_version, submit};
use weir_store::{
    DesiredState, InstanceState, SavepointRequestState, StoreError, TakenSavepoint,
    TestInstanceSpec, WorkingFile,
};

both!(savepoints_are_requested_taken_listed_started_from_and_deleted,);

fn taken(request: i64, id: i64) -> TakenSavepoint {
    TakenSavepoint {
        request,
        text_hash: hash("job v1"),
        path: format!("/p/.weir/checkpoints/1/sp-{id}"),
        checkpoint_id: id,
        size: 1234,
    }
}

async fn savepoints_are_requested_taken_listed_started_from_and_deleted(env: Arc<Env>) {
    let c = cast(&env).await;
    submit(&c.bob, "p/clicks", "job v1").await;
    let a = c
        .bob
        .start_test_instance("p/clicks", &of_version(1))
        .await
        .unwrap();

    // nobody runs it yet: no savepoint
    let e = err(c.bob.request_savepoint(a.id, false).await);
    assert!(e.to_string().contains("is created"), "{e}");

    c.admin.register_worker("w1", "laptop", 1, 4).await.unwrap();
    c.admin
        .claim_instances("w1", 4, Duration::from_secs(10))
        .await
        .unwrap();
    c.admin
        .set_instance_state("w1", a.id, InstanceState::Running, None)
        .await
        .unwrap();

    // who may ask: the project's developers, not business
    let e = err(c.biz.request_savepoint(a.id, false).await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");

    let req = c.bob.request_savepoint(a.id, false).await.unwrap();
    assert_eq!(req.state, SavepointRequestState::Pending);
    assert!(!req.stop);
    // one at a time: asking again answers with the pending request
    let again = c.pat.request_savepoint(a.id, false).await.unwrap();
    assert_eq!(again.id, req.id);
    let pending = c.admin.pending_savepoint_requests("w1").await.unwrap();
    assert_eq!(
        pending.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![req.id]
    );
    // only the worker's login reads them and records
    assert!(c.bob.pending_savepoint_requests("w1").await.is_err());
    let e = err(c.bob.record_savepoint("w1", &taken(req.id, 3)).await);
    assert!(matches!(e, StoreError::NotAllowed(_)), "{e}");

    let sp = c
        .admin
        .record_savepoint("w1", &taken(req.id, 3))
        .await
        .unwrap();
    assert_eq!(
        (sp.instance, sp.job.as_str(), sp.checkpoint_id, sp.size),
        (a.id, "p/clicks", 3, 1234)
    );
    assert_eq!(
        sp.created_by,
        env.name("bob"),
        "recorded as taken by who asked"
    );
    let done = c.bob.savepoint_request(req.id).await.unwrap();
    assert_eq!(
        (done.state, done.savepoint),
        (SavepointRequestState::Done, Some(sp.id))
    );
    assert!(done.done_at.is_some());
    // settled once
    assert!(
        c.admin
            .record_savepoint("w1", &taken(req.id, 4))
            .await
            .is_err()
    );
    assert!(
        c.admin
            .pending_savepoint_requests("w1")
            .await
            .unwrap()
            .is_empty()
    );

    // listed, by job or all
    let listed = c.biz.savepoints(Some("p/clicks")).await.unwrap();
    assert_eq!(listed, vec![sp.clone()]);
    assert_eq!(c.biz.savepoints(None).await.unwrap().len(), 1);
    assert_eq!(c.biz.savepoint(sp.id).await.unwrap(), sp);

    // a new instance of the same job starts from it; another job's is refused
    let b = c
        .bob
        .start_test_instance_from("p/clicks", &of_version(1), Some(sp.id))
        .await
        .unwrap();
    assert_eq!(
        c.biz.instance_start_savepoint(b.id).await.unwrap(),
        Some(sp.id)
    );
    assert_eq!(c.biz.instance_start_savepoint(a.id).await.unwrap(), None);
    let other = TestInstanceSpec {
        version: None,
        working: Some(WorkingFile {
            path: "jobs/other.ron".into(),
            text: "other".into(),
            hash: hash("other"),
        }),
        ..of_version(1)
    };
    let e = err(c
        .bob
        .start_test_instance_from("p/other", &other, Some(sp.id))
        .await);
    let m = e.to_string();
    assert!(
        m.contains("p/clicks") && m.contains("p/other"),
        "names both jobs: {m}"
    );
    let e = err(c
        .bob
        .start_test_instance_from("p/clicks", &of_version(1), Some(999))
        .await);
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");

    // stop with a savepoint: desired stopped in the same write; the worker fails it here
    let stop = c.bob.request_savepoint(a.id, true).await.unwrap();
    assert!(stop.stop);
    let inst = c.bob.instance(a.id).await.unwrap();
    assert_eq!(inst.desired, DesiredState::Stopped);
    let e = err(c.bob.request_savepoint(a.id, false).await);
    assert!(e.to_string().contains("stopping"), "{e}");
    let failed = c
        .admin
        .fail_savepoint_request("w1", stop.id, "the savepoint failed: disk full")
        .await
        .unwrap();
    assert_eq!(failed.state, SavepointRequestState::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("the savepoint failed: disk full")
    );

    // delete: business may not; a developer may
    let e = err(c.biz.delete_savepoint(sp.id).await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    let gone = c.bob.delete_savepoint(sp.id).await.unwrap();
    assert_eq!(gone.id, sp.id);
    assert!(matches!(
        err(c.biz.savepoint(sp.id).await),
        StoreError::NotFound { .. }
    ));
    assert!(c.biz.savepoints(None).await.unwrap().is_empty());
    // the instance started from it keeps the record of where it came from
    assert_eq!(
        c.biz.instance_start_savepoint(b.id).await.unwrap(),
        Some(sp.id)
    );

    let actions: Vec<String> = c
        .admin
        .audit(0)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .filter(|a| a.starts_with("savepoint."))
        .collect();
    assert_eq!(
        actions,
        vec![
            "savepoint.request",
            "savepoint.take",
            "savepoint.request",
            "savepoint.fail",
            "savepoint.delete"
        ]
    );
}
