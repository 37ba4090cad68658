//! An approval whose effect fails records nothing: the decision, the topic's new state
//! and the audit row are rolled back together, and the request stays pending. Of two
//! approvers at once, only the winner runs the effect. On SQLite and PostgreSQL.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Env, cast, err, topic};
use weir_model::Fault;
use weir_store::{
    Conflict, Effect, EffectFailed, Env as DsEnv, RequestState, StoreError, TopicState,
};

both!(
    failed_effect_leaves_the_request_pending,
    only_the_winner_runs_the_effect
);

async fn failed_effect_leaves_the_request_pending(env: Arc<Env>) {
    let c = cast(&env).await;
    c.bob.create_topic(&topic("clicks")).await.expect("design");
    let r = c
        .bob
        .publish_topic("clicks", DsEnv::Test, "ktest")
        .await
        .expect("publish");
    let audit_before = env.count("SELECT COUNT(*) FROM audit").await;
    let e = err(c
        .dan
        .approve_with(r.id, "ok", |effect| async move {
            assert!(matches!(effect, Effect::CreateTopic(_)), "{effect:?}");
            Err(EffectFailed {
                message: "the cluster at test-host:9092 did not answer".into(),
                fault: Fault::External,
            })
        })
        .await);
    assert!(
        matches!(&e, StoreError::Effect { request, .. } if *request == r.id),
        "{e:?}"
    );
    assert_eq!(e.fault(), Fault::External);
    assert_eq!(
        e.to_string(),
        format!(
            "request #{} stays pending: the cluster at test-host:9092 did not answer",
            r.id
        )
    );
    let (after, _) = c.bob.request(r.id).await.expect("request");
    assert_eq!(after.state, RequestState::Pending);
    assert_eq!(after.decided_by, None);
    assert_eq!(
        c.bob.topic("clicks").await.expect("topic").state,
        TopicState::PendingTest
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM audit").await,
        audit_before,
        "a failed approval writes no audit row"
    );

    // Once the cluster answers, the same request is approved as usual.
    let d = c
        .dan
        .approve_with(r.id, "ok", |_| async { Ok(()) })
        .await
        .expect("approve");
    assert_eq!(d.request.state, RequestState::Approved);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM audit").await,
        audit_before + 1
    );
}

async fn only_the_winner_runs_the_effect(env: Arc<Env>) {
    let c = cast(&env).await;
    c.bob.create_topic(&topic("views")).await.expect("design");
    let r = c
        .bob
        .publish_topic("views", DsEnv::Test, "ktest")
        .await
        .expect("publish");
    let runs = Arc::new(AtomicUsize::new(0));
    let effect = |runs: Arc<AtomicUsize>| {
        move |_: Effect| async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    };
    let (a, b) = tokio::join!(
        c.dan.approve_with(r.id, "", effect(runs.clone())),
        c.erin.approve_with(r.id, "", effect(runs.clone())),
    );
    let outcomes = [a.is_ok(), b.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a };
    assert!(
        matches!(
            loser,
            Err(StoreError::Conflict(Conflict::AlreadyDecided { .. }))
        ),
        "{loser:?}"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "only the winner creates the topic"
    );
}
