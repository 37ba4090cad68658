//! Jobs in the store (issue 13): versions and their numbering, the edit lock, immutability
//! enforced by the database, the release state machine up to the production instance
//! record, the approval race and every refusal. On SQLite and PostgreSQL.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use common::{Env, cast, err};
use weir_store::{
    Backend, Conflict, Effect, GlobalRole, GoLiveSpec, NewVersion, ProjectRole, ReleaseFilter,
    ReleaseState, RequestDetail, RequestKind, RequestState, Session, StartPosition, StoreError,
    Submitted, TestResult, Validation, VersionInfo,
};

both!(
    versions_are_numbered_and_identical_text_makes_none,
    submitting_needs_the_lock_and_a_take_over_is_audited,
    versions_cannot_be_changed_or_removed,
    a_release_goes_from_request_to_live_and_is_replaced,
    each_refusal_names_its_rule,
    of_two_admins_approving_a_release_one_wins,
    two_go_lives_at_once_leave_one_live,
);

/// A stand-in for sha256 (the app computes the real one): 64 hex digits from the text.
fn hash(text: &str) -> String {
    (0..4u8)
        .map(|salt| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (salt, text).hash(&mut h);
            format!("{:016x}", h.finish())
        })
        .collect()
}

fn new_version(text: &str, message: &str) -> NewVersion {
    NewVersion {
        text: text.to_string(),
        hash: hash(text),
        message: message.to_string(),
        validation: Validation {
            passed: true,
            report: "[]".into(),
        },
        test: None,
    }
}

async fn submit(s: &Session, job: &str, text: &str) -> VersionInfo {
    match s
        .submit_version(job, &new_version(text, "change"))
        .await
        .expect("submit")
    {
        Submitted::Created { version, .. } => version,
        other => panic!("expected a new version, got {other:?}"),
    }
}

fn spec(start: StartPosition) -> GoLiveSpec {
    GoLiveSpec {
        parallelism: 2,
        memory_mib: 512,
        start,
        params: serde_json::json!({"region": "eu"}),
    }
}

async fn versions_are_numbered_and_identical_text_makes_none(env: Arc<Env>) {
    let c = cast(&env).await;
    let first = c
        .bob
        .submit_version("p/clicks", &new_version("job v1", "first"))
        .await
        .expect("first submit");
    let Submitted::Created { version, took_lock } = first else {
        panic!("{first:?}");
    };
    assert_eq!((version.number, took_lock), (1, true));
    assert_eq!(version.job, "p/clicks");
    assert_eq!(version.author, env.name("bob"));
    assert_eq!(version.hash, hash("job v1"));
    assert_eq!(version.short_hash(), &hash("job v1")[..12]);
    let status = c.olga.job_status("p/clicks").await.expect("status");
    assert!(status.known);
    assert_eq!(status.lock.expect("locked").holder, env.name("bob"));
    assert_eq!(status.latest.expect("latest").number, 1);

    // The same text again: no new version, nothing written.
    let audit = env.count("SELECT COUNT(*) FROM audit").await;
    let again = c
        .bob
        .submit_version("p/clicks", &new_version("job v1", "again"))
        .await
        .expect("same text");
    assert!(
        matches!(&again, Submitted::Unchanged { latest } if latest.number == 1),
        "{again:?}"
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM audit").await, audit);

    // A second version with a test result.
    let mut v2 = new_version("job v2", "  window of 5 minutes ");
    v2.test = Some(TestResult {
        seed: 42,
        passed: false,
        report: "{\"failed\": 1}".into(),
    });
    let second = c.bob.submit_version("p/clicks", &v2).await.expect("v2");
    assert!(
        matches!(&second, Submitted::Created { version, took_lock: false } if version.number == 2),
        "{second:?}"
    );
    let listed = c.biz.versions("p/clicks").await.expect("versions");
    assert_eq!(
        listed.iter().map(|v| v.number).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(listed[1].message, "window of 5 minutes");
    assert_eq!(
        listed[1].test,
        Some(TestResult {
            seed: 42,
            passed: false,
            report: "{\"failed\": 1}".into()
        })
    );
    assert_eq!(listed[0].test, None);
    assert!(listed[0].validation.passed);
    let v = c.biz.version("p/clicks", 2).await.expect("version 2");
    assert_eq!(v.text, "job v2");
    let latest = c.biz.latest_version("p/clicks").await.expect("latest");
    assert_eq!(latest.map(|v| v.info.number), Some(2));
    // A third version may go back to the text of the first: only the latest counts.
    assert_eq!(submit(&c.bob, "p/clicks", "job v1").await.number, 3);

    // Unknown versions and jobs.
    let e = err(c.biz.version("p/clicks", 9).await);
    assert_eq!(
        e.to_string(),
        "no version named `p/clicks@9`; did you mean `p/clicks@3`?"
    );
    let e = err(c.biz.version("p/clickz", 1).await);
    assert!(e.to_string().contains("did you mean `p/clicks`"), "{e}");
    assert!(c.biz.versions("p/views").await.expect("none").is_empty());
    assert!(
        c.biz
            .latest_version("p/views")
            .await
            .expect("none")
            .is_none()
    );
    let status = c.biz.job_status("p/views").await.expect("status");
    assert!(!status.known && status.lock.is_none() && status.latest.is_none());
    assert!(matches!(
        err(c.biz.versions("q/clicks").await),
        StoreError::NotFound {
            kind: "project",
            ..
        }
    ));

    // Bad input.
    for (job, problem) in [
        ("clicks", "names no project"),
        ("p/clicks.ron", "ends with .ron"),
        ("p/a b", "is not a job path"),
        ("p/", "is not a job path"),
        ("p/a//b", "is not a job path"),
    ] {
        let e = err(c.bob.submit_version(job, &new_version("x", "m")).await);
        assert!(
            matches!(&e, StoreError::Invalid { field: "job", .. })
                && e.to_string().contains(problem),
            "{job}: {e}"
        );
    }
    let mut invalid = new_version("broken", "m");
    invalid.validation.passed = false;
    let e = err(c.bob.submit_version("p/clicks", &invalid).await);
    assert!(e.to_string().contains("does not validate"), "{e}");
    let mut bad_hash = new_version("other", "m");
    bad_hash.hash = "3f9a1c".into();
    let e = err(c.bob.submit_version("p/clicks", &bad_hash).await);
    assert!(
        matches!(e, StoreError::Invalid { field: "hash", .. }),
        "{e}"
    );
    let e = err(c
        .bob
        .submit_version("p/clicks", &new_version("other", " "))
        .await);
    assert!(
        matches!(
            e,
            StoreError::Invalid {
                field: "message",
                ..
            }
        ),
        "{e}"
    );
    for s in [&c.olga, &c.dan, &c.admin] {
        let e = err(s
            .submit_version("p/clicks", &new_version("other", "m"))
            .await);
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    }
    assert_eq!(c.biz.versions("p/clicks").await.expect("versions").len(), 3);

    // Every write was audited with its after image.
    let audit = c.biz.audit(0).await.expect("audit");
    let actions: Vec<&str> = audit
        .iter()
        .filter(|a| a.object_kind == "job" || a.object_kind == "job_version")
        .map(|a| a.action.as_str())
        .collect();
    assert_eq!(
        actions,
        vec![
            "job.create",
            "job.lock",
            "job.submit",
            "job.submit",
            "job.submit"
        ]
    );
    let submit_row = audit
        .iter()
        .find(|a| a.action == "job.submit")
        .expect("row");
    assert_eq!(submit_row.object_id, "p/clicks@1");
    assert!(submit_row.before_json.is_none());
    assert!(
        submit_row
            .after_json
            .as_deref()
            .is_some_and(|j| j.contains(&hash("job v1")))
    );
}

async fn submitting_needs_the_lock_and_a_take_over_is_audited(env: Arc<Env>) {
    let c = cast(&env).await;
    let lock = c.bob.lock_job("p/views").await.expect("bob locks");
    assert_eq!(lock.holder, env.name("bob"));
    assert_eq!(lock.job, "p/views");
    // Locking what one holds changes nothing.
    let audit = env.count("SELECT COUNT(*) FROM audit").await;
    assert_eq!(c.bob.lock_job("p/views").await.expect("again"), lock);
    assert_eq!(env.count("SELECT COUNT(*) FROM audit").await, audit);

    let e = err(c.pat.lock_job("p/views").await);
    assert!(
        matches!(&e, StoreError::Conflict(Conflict::WrongState { .. }))
            && e.to_string()
                .contains(&format!("locked by {}", env.name("bob")))
            && e.to_string().contains("weir job unlock p/views"),
        "{e}"
    );
    let e = err(c
        .pat
        .submit_version("p/views", &new_version("v", "m"))
        .await);
    assert!(
        e.to_string()
            .contains(&format!("job p/views is locked by {}", env.name("bob")))
            && e.to_string().contains("submitting needs its edit lock"),
        "{e}"
    );
    assert!(c.pat.versions("p/views").await.expect("none").is_empty());

    // pat takes it over: audited, and bob learns of it.
    let taken = c.pat.take_over_lock("p/views").await.expect("take over");
    assert_eq!(taken.lock.holder, env.name("pat"));
    assert_eq!(
        taken.previous.as_ref().map(|l| l.holder.clone()),
        Some(env.name("bob"))
    );
    let audit = c.biz.audit(0).await.expect("audit");
    let row = audit
        .iter()
        .find(|a| a.action == "job.lock.take_over")
        .expect("take-over audited");
    assert_eq!(row.actor, env.name("pat"));
    assert_eq!(row.object_id, "p/views");
    assert!(
        row.before_json
            .as_deref()
            .unwrap()
            .contains(&env.name("bob"))
    );
    assert!(
        row.after_json
            .as_deref()
            .unwrap()
            .contains(&env.name("pat"))
    );
    let notices = c.bob.locks_taken_from_me(0).await.expect("notices");
    assert_eq!(notices.len(), 1);
    assert_eq!(
        (notices[0].job.as_str(), notices[0].by.clone()),
        ("p/views", env.name("pat"))
    );
    assert!(
        c.bob
            .locks_taken_from_me(notices[0].audit_id)
            .await
            .expect("none newer")
            .is_empty()
    );
    assert!(c.pat.locks_taken_from_me(0).await.expect("none").is_empty());

    // Now bob is the one refused, and pat submits.
    let e = err(c
        .bob
        .submit_version("p/views", &new_version("v", "m"))
        .await);
    assert!(
        e.to_string()
            .contains(&format!("locked by {}", env.name("pat"))),
        "{e}"
    );
    let s = c
        .pat
        .submit_version("p/views", &new_version("v", "m"))
        .await
        .expect("pat submits");
    assert!(
        matches!(
            s,
            Submitted::Created {
                took_lock: false,
                ..
            }
        ),
        "{s:?}"
    );
    // Taking over a free or own lock reports no previous holder.
    let own = c.pat.take_over_lock("p/views").await.expect("own");
    assert!(own.previous.is_none());
    let fresh = c.bob.take_over_lock("p/other").await.expect("free");
    assert!(fresh.previous.is_none());
    assert_eq!(
        c.bob
            .job_status("p/views")
            .await
            .expect("status")
            .lock
            .map(|l| l.holder),
        Some(env.name("pat"))
    );

    // Roles and archived projects.
    for s in [&c.olga, &c.dan, &c.admin, &c.biz] {
        let e = err(s.lock_job("p/views").await);
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
        let e = err(s.take_over_lock("p/views").await);
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    }
    c.pat.archive_project("p").await.expect("archive");
    let e = err(c.bob.take_over_lock("p/views").await);
    assert!(matches!(e, StoreError::Archived { .. }), "{e}");
    let e = err(c
        .pat
        .submit_version("p/views", &new_version("v2", "m"))
        .await);
    assert!(matches!(e, StoreError::Archived { .. }), "{e}");
}

async fn versions_cannot_be_changed_or_removed(env: Arc<Env>) {
    let c = cast(&env).await;
    submit(&c.bob, "p/clicks", "job v1").await;
    let upd = env
        .raw_exec("UPDATE job_versions SET text = 'forged'")
        .await;
    assert!(
        upd.as_ref()
            .is_err_and(|e| e.contains("job versions are immutable")),
        "{upd:?}"
    );
    let del = env.raw_exec("DELETE FROM job_versions").await;
    assert!(
        del.as_ref()
            .is_err_and(|e| e.contains("job versions are immutable")),
        "{del:?}"
    );
    if env.backend == Backend::Postgres {
        let tr = env.raw_exec("TRUNCATE job_versions CASCADE").await;
        assert!(
            tr.as_ref()
                .is_err_and(|e| e.contains("job versions are immutable")),
            "{tr:?}"
        );
    }
    assert_eq!(
        c.bob.version("p/clicks", 1).await.expect("kept").text,
        "job v1"
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM job_versions").await, 1);
}

async fn a_release_goes_from_request_to_live_and_is_replaced(env: Arc<Env>) {
    let c = cast(&env).await;
    let v1 = submit(&c.bob, "p/clicks", "job v1").await;
    let v2 = submit(&c.bob, "p/clicks", "job v2").await;

    let r1 = c
        .bob
        .request_release("p/clicks", 1, "first release")
        .await
        .expect("request");
    assert_eq!(
        (r1.kind, r1.state),
        (RequestKind::Release, RequestState::Pending)
    );
    assert_eq!(r1.project.as_deref(), Some("p"));
    assert_eq!(
        r1.summary,
        format!("release p/clicks version 1 ({})", v1.short_hash())
    );
    let (_, detail) = c.bob.request(r1.id).await.expect("detail");
    assert_eq!(
        detail,
        RequestDetail::Release {
            job: "p/clicks".into(),
            version: 1,
            hash: v1.hash.clone(),
            note: "first release".into()
        }
    );
    let e = err(c.bob.request_release("p/clicks", 1, "again").await);
    assert!(
        e.to_string()
            .contains(&format!("already has release #{}, which is pending", r1.id)),
        "{e}"
    );
    let e = err(c.bob.request_release("p/clicks", 7, "none").await);
    assert!(
        matches!(
            &e,
            StoreError::NotFound {
                kind: "version",
                ..
            }
        ),
        "{e}"
    );

    // The system admin's inbox holds it; data admins and the requester do not see it.
    let inbox: Vec<i64> = c
        .admin
        .inbox()
        .await
        .expect("inbox")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(inbox, vec![r1.id]);
    assert!(c.dan.inbox().await.expect("dan").is_empty());
    assert!(c.bob.inbox().await.expect("bob").is_empty());
    assert_eq!(
        c.bob
            .my_requests(weir_store::RequestFilter::InProgress)
            .await
            .expect("mine")
            .len(),
        1
    );

    // Not yet approved: no go-live.
    let e = err(c.bob.go_live(r1.id, &spec(StartPosition::Latest)).await);
    assert_eq!(
        e.to_string(),
        format!(
            "release #{} is pending; only an approved release can go live",
            r1.id
        )
    );

    // Approve, bound to the reviewed hash.
    let e = err(c
        .admin
        .approve_release_checked(r1.id, "ok", "deadbeef")
        .await);
    assert!(
        matches!(&e, StoreError::Invalid { field: "hash", .. })
            && e.to_string().contains("does not start with deadbeef"),
        "{e}"
    );
    assert_eq!(
        c.bob.release(r1.id).await.expect("r1").state,
        ReleaseState::Pending
    );
    let d = c
        .admin
        .approve_release_checked(r1.id, "looks right", v1.short_hash())
        .await
        .expect("approve");
    assert_eq!(d.request.state, RequestState::Approved);
    assert_eq!(d.effect, Effect::None);
    let rel = c.bob.release(r1.id).await.expect("r1");
    assert_eq!(rel.state, ReleaseState::Approved);
    assert_eq!(rel.approved_hash.as_deref(), Some(v1.hash.as_str()));
    assert_eq!(rel.decided_by, Some(env.name("admin")));
    assert_eq!(rel.opinion.as_deref(), Some("looks right"));
    let approved = c
        .biz
        .releases(&ReleaseFilter {
            job: None,
            state: Some(ReleaseState::Approved),
        })
        .await
        .expect("approved");
    assert_eq!(
        approved.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![r1.id]
    );

    // Go live: the instance record starts in `created`.
    let bad = GoLiveSpec {
        parallelism: 0,
        ..spec(StartPosition::Latest)
    };
    let e = err(c.bob.go_live(r1.id, &bad).await);
    assert!(
        matches!(
            e,
            StoreError::Invalid {
                field: "parallelism",
                ..
            }
        ),
        "{e}"
    );
    let live = c
        .bob
        .go_live(r1.id, &spec(StartPosition::Latest))
        .await
        .expect("go live");
    assert_eq!(live.release.state, ReleaseState::Live);
    assert_eq!(live.release.live_by, Some(env.name("bob")));
    assert!(live.replaced.is_none());
    let inst = &live.instance;
    assert_eq!(
        (
            inst.job.as_str(),
            inst.version,
            inst.release,
            inst.env.as_str(),
            inst.state.as_str()
        ),
        ("p/clicks", Some(1), Some(r1.id), "prod", "created")
    );
    assert_eq!((inst.parallelism, inst.memory_mib), (2, 512));
    assert_eq!(inst.start, StartPosition::Latest);
    assert_eq!(inst.params, serde_json::json!({"region": "eu"}));
    assert_eq!(live.release.instance, Some(inst.id));
    assert_eq!(&c.olga.instance(inst.id).await.expect("instance"), inst);

    // A newer release replaces it.
    let r2 = c.bob.request_release("p/clicks", 2, "").await.expect("r2");
    c.admin.approve(r2.id, "").await.expect("approve r2");
    let live2 = c
        .pat
        .go_live(r2.id, &spec(StartPosition::Timestamp(1_765_000_000_000)))
        .await
        .expect("go live r2");
    assert_eq!(live2.instance.version, Some(v2.number));
    assert_eq!(
        live2.instance.start,
        StartPosition::Timestamp(1_765_000_000_000)
    );
    let replaced = live2.replaced.expect("r1 replaced");
    assert_eq!(
        (replaced.id, replaced.state),
        (r1.id, ReleaseState::Replaced)
    );
    assert_eq!(replaced.ended_by, Some(env.name("pat")));
    let live_now = c
        .biz
        .releases(&ReleaseFilter {
            job: Some("p/clicks".into()),
            state: Some(ReleaseState::Live),
        })
        .await
        .expect("live");
    assert_eq!(
        live_now.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![r2.id]
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM instances").await, 2);

    // Offline only from live.
    let e = err(c.bob.take_offline(r1.id).await);
    assert!(
        e.to_string()
            .contains("is replaced; only a live release can be taken offline"),
        "{e}"
    );
    let off = c.admin.take_offline(r2.id).await.expect("offline");
    assert_eq!(off.state, ReleaseState::Offline);
    assert_eq!(off.ended_by, Some(env.name("admin")));
    let e = err(c.bob.go_live(r2.id, &spec(StartPosition::Earliest)).await);
    assert!(
        e.to_string()
            .contains("is offline; only an approved release can go live"),
        "{e}"
    );

    // Rejected and withdrawn requests.
    let r3 = c
        .bob
        .request_release("p/clicks", 2, "again")
        .await
        .expect("r3");
    c.admin.reject(r3.id, "not now").await.expect("reject");
    assert_eq!(
        c.bob.release(r3.id).await.expect("r3").state,
        ReleaseState::Rejected
    );
    let r4 = c
        .bob
        .request_release("p/clicks", 2, "once more")
        .await
        .expect("r4");
    c.bob.withdraw(r4.id).await.expect("withdraw");
    assert_eq!(
        c.bob.release(r4.id).await.expect("r4").state,
        ReleaseState::Withdrawn
    );
    let all = c
        .biz
        .releases(&ReleaseFilter::default())
        .await
        .expect("all");
    assert_eq!(
        all.iter().map(|r| r.state).collect::<Vec<_>>(),
        vec![
            ReleaseState::Withdrawn,
            ReleaseState::Rejected,
            ReleaseState::Offline,
            ReleaseState::Replaced
        ]
    );

    // Only members and system admins move releases.
    for s in [&c.olga, &c.dan, &c.biz] {
        let e = err(s.take_offline(r2.id).await);
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    }
    let e = err(c.olga.request_release("p/clicks", 2, "x").await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");

    // The workflow is in the request's history, before and after each step.
    let history: Vec<String> = c
        .biz
        .request_history(r2.id)
        .await
        .expect("history")
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        history,
        vec![
            "release.request",
            "request.approve",
            "release.go_live",
            "release.offline"
        ]
    );
    let audit = c.biz.audit(0).await.expect("audit");
    assert!(audit.iter().any(|a| a.action == "release.replace"
        && a.object_id == r1.id.to_string()
        && a.before_json.is_some()
        && a.after_json.is_some()));
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "instance.create")
            .count(),
        2
    );
}

async fn each_refusal_names_its_rule(env: Arc<Env>) {
    let c = cast(&env).await;
    // The system admin is also a developer of p, so may request a release.
    c.pat
        .add_member("p", &env.name("admin"), ProjectRole::Developer)
        .await
        .expect("admin joins p");
    let v = submit(&c.admin, "p/clicks", "job v1").await;
    submit(&c.admin, "p/clicks", "job v2").await;
    let own = c
        .admin
        .request_release("p/clicks", 1, "mine")
        .await
        .expect("own");
    let e = err(c.admin.approve(own.id, "").await);
    assert_eq!(
        e.to_string(),
        format!(
            "request #{} is your own; nobody approves or rejects their own request",
            own.id
        )
    );
    let e = err(c
        .admin
        .approve_release_checked(own.id, "", v.short_hash())
        .await);
    assert!(matches!(e, StoreError::NotAllowed(_)), "{e}");
    // A data admin is not the approver of releases.
    let e = err(c.dan.approve(own.id, "").await);
    assert!(
        e.to_string().starts_with("only a system admin can approve"),
        "{e}"
    );
    // --hash on another kind of request.
    c.bob
        .create_topic(&common::topic("clicks"))
        .await
        .expect("topic");
    let t = c
        .bob
        .publish_topic("clicks", weir_store::Env::Test, "ktest")
        .await
        .expect("publish");
    let e = err(c.dan.approve_release_checked(t.id, "", "abc").await);
    assert!(
        e.to_string()
            .contains("is not a release; only releases carry a hash"),
        "{e}"
    );
    c.admin
        .add_user(&env.name("sam"), "sam", &[GlobalRole::SystemAdmin])
        .await
        .expect("sam");
    let sam = env.as_("sam").await;
    let e = err(sam.approve_release_checked(own.id, "", "xyz").await);
    assert!(e.to_string().contains("is not a hex hash prefix"), "{e}");

    // An archived project: no approval, no go-live.
    sam.approve(own.id, "")
        .await
        .expect("sam approves admin's release");
    let pending = c
        .bob
        .request_release("p/clicks", 2, "second")
        .await
        .expect("r2");
    c.pat.archive_project("p").await.expect("archive");
    let e = err(sam.approve(pending.id, "").await);
    assert_eq!(
        e.to_string(),
        "project p is archived; a system admin can restore it"
    );
    let e = err(c.bob.go_live(own.id, &spec(StartPosition::Latest)).await);
    assert!(matches!(e, StoreError::Archived { .. }), "{e}");
    let e = err(c.bob.request_release("p/clicks", 2, "third").await);
    assert!(matches!(e, StoreError::Archived { .. }), "{e}");
    assert_eq!(
        c.bob.release(pending.id).await.expect("r2").state,
        ReleaseState::Pending
    );
    assert_eq!(
        c.bob.release(own.id).await.expect("own").state,
        ReleaseState::Approved
    );
    c.admin.restore_project("p").await.expect("restore");
    c.bob
        .go_live(own.id, &spec(StartPosition::Latest))
        .await
        .expect("live after restore");

    // Unknown releases.
    let e = err(c.bob.go_live(9999, &spec(StartPosition::Latest)).await);
    assert_eq!(e.to_string(), "no release named `#9999`");
    let e = err(c.bob.go_live(t.id, &spec(StartPosition::Latest)).await);
    assert!(
        matches!(
            e,
            StoreError::NotFound {
                kind: "release",
                ..
            }
        ),
        "{e}"
    );
}

async fn of_two_admins_approving_a_release_one_wins(env: Arc<Env>) {
    let c = cast(&env).await;
    c.admin
        .add_user(&env.name("sam"), "sam", &[GlobalRole::SystemAdmin])
        .await
        .expect("sam");
    let sam = env.as_("sam").await;
    let v = submit(&c.bob, "p/clicks", "job v1").await;
    let r = c
        .bob
        .request_release("p/clicks", 1, "")
        .await
        .expect("request");
    let (a, b) = tokio::join!(
        c.admin.approve(r.id, "from admin"),
        sam.approve_release_checked(r.id, "from sam", v.short_hash()),
    );
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {b:?}"
    );
    let (winner, loser) = if a.is_ok() {
        (c.admin.actor().to_string(), b)
    } else {
        (sam.actor().to_string(), a)
    };
    let e = err(loser);
    assert!(
        matches!(&e, StoreError::Conflict(Conflict::AlreadyDecided { by, .. }) if *by == winner),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains(&format!("was already approved by {winner}")),
        "{e}"
    );
    let rel = c.bob.release(r.id).await.expect("release");
    assert_eq!(
        (rel.state, rel.decided_by),
        (ReleaseState::Approved, Some(winner))
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM audit WHERE action = 'request.approve'")
            .await,
        1
    );
}

async fn two_go_lives_at_once_leave_one_live(env: Arc<Env>) {
    let c = cast(&env).await;
    submit(&c.bob, "p/clicks", "job v1").await;
    submit(&c.bob, "p/clicks", "job v2").await;
    let r1 = c.bob.request_release("p/clicks", 1, "").await.expect("r1");
    let r2 = c.bob.request_release("p/clicks", 2, "").await.expect("r2");
    c.admin.approve(r1.id, "").await.expect("approve r1");
    c.admin.approve(r2.id, "").await.expect("approve r2");
    let (s1, s2) = (spec(StartPosition::Latest), spec(StartPosition::Earliest));
    let (a, b) = tokio::join!(c.bob.go_live(r1.id, &s1), c.pat.go_live(r2.id, &s2));
    let (a, b) = (a.expect("r1 live"), b.expect("r2 live"));
    // They ran one after the other: the second replaced the first.
    let replaced = [&a, &b]
        .iter()
        .filter_map(|w| w.replaced.as_ref().map(|r| r.id))
        .collect::<Vec<_>>();
    assert_eq!(replaced.len(), 1, "{a:?} {b:?}");
    let live = c
        .biz
        .releases(&ReleaseFilter {
            job: Some("p/clicks".into()),
            state: Some(ReleaseState::Live),
        })
        .await
        .expect("live");
    assert_eq!(live.len(), 1);
    assert_ne!(live[0].id, replaced[0]);
    assert_eq!(env.count("SELECT COUNT(*) FROM instances").await, 2);
}
