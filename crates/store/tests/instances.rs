//! Instances and workers in the store (issue 14): the instance state machine and its
//! audit rows, the refusals (roles, stopping twice, a production start without a live
//! release, a worker reporting on an instance it does not hold), claiming by racing
//! workers, take-over after a stale heartbeat, and archive stopping instances. On SQLite
//! and PostgreSQL.
//!
//! Long because each test walks one rule of the state machine end to end through the
//! store's API (a story per test reads better than helpers split across files).
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::{Env, cast, err, hash, of_version, submit};
use weir_store::{
    Backend, DesiredState, GoLiveSpec, InstanceFilter, InstanceState, Session, StartPosition,
    StoreError, TestInstanceSpec, WorkingFile,
};

both!(
    an_instance_goes_through_its_states_and_each_step_is_audited,
    each_refusal_names_its_rule,
    two_workers_racing_claim_each_instance_once,
    a_silent_worker_s_instances_are_taken_over,
    a_worker_restarted_under_its_id_takes_its_instances_back_at_once,
    archiving_a_project_stops_its_instances,
);

const LONG: Duration = Duration::from_secs(10);

fn of_file(text: &str) -> TestInstanceSpec {
    TestInstanceSpec {
        version: None,
        working: Some(WorkingFile {
            path: "jobs/clicks.ron".into(),
            text: text.to_string(),
            hash: hash(text),
        }),
        parallelism: 2,
        memory_mib: 128,
        start: StartPosition::Latest,
        params: serde_json::json!({"region": "eu"}),
    }
}

/// The audit actions about instance `id`, oldest first.
async fn actions(s: &Session, id: i64) -> Vec<String> {
    s.audit(0)
        .await
        .expect("audit")
        .into_iter()
        .filter(|a| a.object_kind == "instance" && a.object_id == id.to_string())
        .map(|a| a.action)
        .collect()
}

fn message(e: &StoreError) -> String {
    e.to_string()
}

async fn an_instance_goes_through_its_states_and_each_step_is_audited(env: Arc<Env>) {
    let c = cast(&env).await;
    submit(&c.bob, "p/clicks", "job v1").await;

    // A test instance of a version, and one of the working file.
    let a = c
        .bob
        .start_test_instance("p/clicks", &of_version(1))
        .await
        .expect("start of a version");
    assert_eq!(
        (a.env.as_str(), a.version, a.state, a.desired),
        (
            "test",
            Some(1),
            InstanceState::Created,
            DesiredState::Running
        )
    );
    assert_eq!(
        (a.worker.as_deref(), a.source_path.as_deref()),
        (None, None)
    );
    assert_eq!(a.created_by, env.name("bob"));
    assert_eq!(c.biz.instance_text(a.id).await.unwrap(), "job v1");
    let b = c
        .pat
        .start_test_instance("p/clicks", &of_file("job being edited"))
        .await
        .expect("start of the working file");
    assert_eq!(b.version, None);
    assert_eq!(b.source_path.as_deref(), Some("jobs/clicks.ron"));
    assert_eq!(
        b.text_hash.as_deref(),
        Some(hash("job being edited").as_str())
    );
    assert_eq!(b.params, serde_json::json!({"region": "eu"}));
    assert_eq!(
        c.olga.instance_text(b.id).await.unwrap(),
        "job being edited"
    );
    // The working file of a job the store does not know yet creates the job.
    let n = c
        .bob
        .start_test_instance("p/new_job", &of_file("new job"))
        .await
        .expect("a new job's file");
    assert_eq!(n.job, "p/new_job");

    // A worker claims them.
    let w = c
        .admin
        .register_worker("w1", "laptop", 4242, 4)
        .await
        .expect("register");
    assert_eq!(
        (w.login.as_str(), w.slots, w.stopping),
        (env.name("admin").as_str(), 4, false)
    );
    let claimed = c.admin.claim_instances("w1", 2, LONG).await.expect("claim");
    assert_eq!(
        claimed.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    for i in &claimed {
        assert_eq!(
            (i.state, i.worker.as_deref()),
            (InstanceState::Starting, Some("w1"))
        );
        assert!(i.heartbeat_at.is_some());
    }
    let workers = c.biz.workers().await.expect("workers");
    assert_eq!(workers.len(), 1);
    assert_eq!(workers[0].instances, vec![a.id, b.id]);

    let running = c
        .admin
        .set_instance_state("w1", a.id, InstanceState::Running, None)
        .await
        .expect("running");
    assert_eq!(running.state, InstanceState::Running);
    assert!(running.started_at.is_some());

    // Lists: active ones by default, narrowed by job, env and state.
    let all_active = c.biz.instances(&InstanceFilter::default()).await.unwrap();
    assert_eq!(
        all_active.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![a.id, b.id, n.id]
    );
    let by_job = c
        .biz
        .instances(&InstanceFilter {
            job: Some("p/new_job".into()),
            ..InstanceFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_job.iter().map(|i| i.id).collect::<Vec<_>>(), vec![n.id]);
    let starting = c
        .biz
        .instances(&InstanceFilter {
            state: Some(InstanceState::Starting),
            env: Some("test".into()),
            ..InstanceFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        starting.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![b.id]
    );

    // Stop: desired stopped; the worker hears it in its heartbeat and carries it out.
    let stopping = c.bob.stop_instance(a.id).await.expect("stop");
    assert_eq!(
        (stopping.state, stopping.desired),
        (InstanceState::Running, DesiredState::Stopped)
    );
    let hb = c.admin.worker_heartbeat("w1").await.expect("heartbeat");
    assert!(!hb.stopping);
    let seen: Vec<_> = hb.instances.iter().map(|h| (h.id, h.desired)).collect();
    assert_eq!(
        seen,
        vec![(a.id, DesiredState::Stopped), (b.id, DesiredState::Running)]
    );
    c.admin
        .set_instance_state("w1", a.id, InstanceState::Stopping, None)
        .await
        .expect("stopping");
    let stopped = c
        .admin
        .set_instance_state("w1", a.id, InstanceState::Stopped, None)
        .await
        .expect("stopped");
    assert_eq!(stopped.state, InstanceState::Stopped);
    assert!(stopped.stopped_at.is_some());
    let e = err(c.bob.stop_instance(a.id).await);
    assert!(
        message(&e).starts_with(&format!("instance #{} is already stopped", a.id)),
        "{e}"
    );

    // One nobody holds stops at once.
    let quick = c.bob.stop_instance(n.id).await.expect("stop unclaimed");
    assert_eq!(
        (quick.state, quick.desired),
        (InstanceState::Stopped, DesiredState::Stopped)
    );

    // Restart: back to created, without a worker; claimed again, then it fails.
    let again = c.bob.start_instance(a.id).await.expect("restart");
    assert_eq!(
        (
            again.state,
            again.desired,
            again.worker.as_deref(),
            again.stopped_at.as_deref()
        ),
        (InstanceState::Created, DesiredState::Running, None, None)
    );
    let claimed = c.admin.claim_instances("w1", 5, LONG).await.expect("claim");
    assert_eq!(claimed.iter().map(|i| i.id).collect::<Vec<_>>(), vec![a.id]);
    let e = err(c
        .admin
        .set_instance_state("w1", a.id, InstanceState::Failed, Some("  "))
        .await);
    assert!(
        matches!(e, StoreError::Invalid { field: "error", .. }),
        "{e}"
    );
    let failed = c
        .admin
        .set_instance_state(
            "w1",
            a.id,
            InstanceState::Failed,
            Some("source kmain at test-host:9092 is unreachable"),
        )
        .await
        .expect("failed");
    assert_eq!(failed.state, InstanceState::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("source kmain at test-host:9092 is unreachable")
    );
    let e = err(c.bob.stop_instance(a.id).await);
    assert!(message(&e).contains("it failed (source kmain"), "{e}");
    let all = c
        .biz
        .instances(&InstanceFilter {
            all: true,
            ..InstanceFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let active = c.biz.instances(&InstanceFilter::default()).await.unwrap();
    assert_eq!(active.iter().map(|i| i.id).collect::<Vec<_>>(), vec![b.id]);

    // Every transition wrote an audit row, with before and after.
    assert_eq!(
        actions(&c.admin, a.id).await,
        vec![
            "instance.create",
            "instance.claim",
            "instance.state",
            "instance.stop",
            "instance.state",
            "instance.state",
            "instance.start",
            "instance.claim",
            "instance.state",
        ]
    );
    assert_eq!(
        actions(&c.admin, n.id).await,
        vec!["instance.create", "instance.stop"]
    );
    let rows = c.admin.audit(0).await.unwrap();
    let last = rows
        .iter()
        .rev()
        .find(|r| r.object_kind == "instance" && r.object_id == a.id.to_string())
        .unwrap();
    assert!(
        last.before_json
            .as_deref()
            .unwrap()
            .contains("\"starting\"")
    );
    assert!(last.after_json.as_deref().unwrap().contains("\"failed\""));
    assert!(
        rows.iter()
            .any(|r| r.action == "worker.register" && r.object_id == "w1")
    );

    // Unregistering hands the held instance back to be claimed again.
    let back = c.admin.unregister_worker("w1").await.expect("unregister");
    assert_eq!(back, vec![b.id]);
    let b_now = c.biz.instance(b.id).await.unwrap();
    assert_eq!((b_now.state, b_now.worker), (InstanceState::Created, None));
    assert!(c.biz.workers().await.unwrap().is_empty());
}

async fn each_refusal_names_its_rule(env: Arc<Env>) {
    let c = cast(&env).await;
    submit(&c.bob, "p/clicks", "job v1").await;

    // Who may start test instances: developers and project admins only.
    for s in [&c.biz, &c.olga, &c.admin] {
        let e = err(s.start_test_instance("p/clicks", &of_version(1)).await);
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
        assert!(message(&e).contains("start test instances"), "{e}");
    }
    // Bad specs.
    let mut both = of_version(1);
    both.working = of_file("x").working;
    let e = err(c.bob.start_test_instance("p/clicks", &both).await);
    assert!(
        matches!(
            e,
            StoreError::Invalid {
                field: "source",
                ..
            }
        ),
        "{e}"
    );
    let mut bad = of_file("x");
    bad.working.as_mut().unwrap().hash = "abc".into();
    let e = err(c.bob.start_test_instance("p/clicks", &bad).await);
    assert!(
        matches!(e, StoreError::Invalid { field: "hash", .. }),
        "{e}"
    );
    let mut bad = of_version(1);
    bad.parallelism = 0;
    let e = err(c.bob.start_test_instance("p/clicks", &bad).await);
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
    let e = err(c.bob.start_test_instance("p/clicks", &of_version(9)).await);
    assert!(
        matches!(
            e,
            StoreError::NotFound {
                kind: "version",
                ..
            }
        ),
        "{e}"
    );
    let e = err(c.bob.stop_instance(999).await);
    assert!(
        matches!(
            e,
            StoreError::NotFound {
                kind: "instance",
                ..
            }
        ),
        "{e}"
    );

    // A test instance: others of the project cannot stop it.
    let t = c
        .bob
        .start_test_instance("p/clicks", &of_version(1))
        .await
        .unwrap();
    let e = err(c.olga.stop_instance(t.id).await);
    assert!(message(&e).contains("stop test instances"), "{e}");
    let e = err(c.bob.start_instance(t.id).await);
    assert!(
        message(&e).contains("is created and is already running or waiting for a worker"),
        "{e}"
    );

    // Production: from a live release only; stopped by the project admin or system admin.
    let r1 = c.bob.request_release("p/clicks", 1, "").await.unwrap();
    c.admin.approve(r1.id, "").await.unwrap();
    let spec = GoLiveSpec {
        parallelism: 1,
        memory_mib: 512,
        start: StartPosition::Latest,
        params: serde_json::json!({}),
    };
    let live = c.bob.go_live(r1.id, &spec).await.unwrap();
    let prod = live.instance;
    assert_eq!(
        (prod.env.as_str(), prod.state, prod.desired),
        ("prod", InstanceState::Created, DesiredState::Running)
    );
    let e = err(c.bob.stop_instance(prod.id).await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    assert!(
        message(&e).contains(
            "only a project admin of project p or a system admin can stop production instances"
        ),
        "{e}"
    );
    let stopped = c.pat.stop_instance(prod.id).await.expect("pat stops");
    assert_eq!(stopped.state, InstanceState::Stopped);
    let e = err(c.admin.stop_instance(prod.id).await);
    assert!(message(&e).contains("already stopped"), "{e}");
    let e = err(c.bob.start_instance(prod.id).await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    // While live, the project admin restarts it; offline, nobody can.
    c.pat
        .start_instance(prod.id)
        .await
        .expect("restart while live");
    c.admin.stop_instance(prod.id).await.expect("admin stops");
    c.bob.take_offline(r1.id).await.unwrap();
    let e = err(c.admin.start_instance(prod.id).await);
    assert!(
        message(&e).contains(&format!(
            "belongs to release #{}, which is offline; only the instance of a live release can start",
            r1.id
        )),
        "{e}"
    );

    // Workers: who may run one depends on the backend (see the module doc).
    let e = c.biz.register_worker("wb", "h", 1, 1).await;
    match env.backend {
        Backend::Postgres => {
            let e = err(e);
            assert!(message(&e).contains("run a worker"), "{e}");
        }
        Backend::Sqlite => {
            e.expect("any registered user runs a worker on SQLite");
        }
    }
    let e = err(c.olga.register_worker("bad id!", "h", 1, 1).await);
    assert!(
        matches!(
            e,
            StoreError::Invalid {
                field: "worker",
                ..
            }
        ),
        "{e}"
    );
    let e = err(c.olga.register_worker("w", "h", 1, 0).await);
    assert!(
        matches!(e, StoreError::Invalid { field: "slots", .. }),
        "{e}"
    );
    c.olga.register_worker("wo", "h", 1, 2).await.unwrap();
    c.admin.register_worker("wa", "h", 2, 2).await.unwrap();
    // A worker id belongs to its login.
    let e = err(c.admin.register_worker("wo", "h", 3, 2).await);
    assert!(
        message(&e).contains("is taken by a worker running as"),
        "{e}"
    );
    let e = err(c.admin.worker_heartbeat("wo").await);
    assert!(
        message(&e).contains("only that login can act for it"),
        "{e}"
    );
    let e = err(c.admin.claim_instances("wo", 1, LONG).await);
    assert!(matches!(e, StoreError::NotAllowed(_)), "{e}");
    let e = err(c.olga.worker_heartbeat("nope").await);
    assert!(
        matches!(e, StoreError::NotFound { kind: "worker", .. }),
        "{e}"
    );

    // Only the holding worker reports states; transitions follow the machine.
    let got = c.olga.claim_instances("wo", 5, LONG).await.unwrap();
    assert_eq!(got.iter().map(|i| i.id).collect::<Vec<_>>(), vec![t.id]);
    let e = err(c
        .admin
        .set_instance_state("wa", t.id, InstanceState::Running, None)
        .await);
    assert!(
        message(&e).contains(&format!(
            "worker wa does not hold instance #{}: it is held by worker wo",
            t.id
        )),
        "{e}"
    );
    let e = err(c
        .olga
        .set_instance_state("wo", t.id, InstanceState::Stopping, None)
        .await);
    assert!(message(&e).contains("should keep running"), "{e}");
    c.olga
        .set_instance_state("wo", t.id, InstanceState::Running, None)
        .await
        .unwrap();
    let e = err(c
        .olga
        .set_instance_state("wo", t.id, InstanceState::Created, None)
        .await);
    assert!(
        message(&e).contains("cannot go from running to created"),
        "{e}"
    );
    // Stopping twice: the second says it is already stopping.
    c.bob.stop_instance(t.id).await.unwrap();
    let e = err(c.bob.stop_instance(t.id).await);
    assert!(
        message(&e).contains("is already stopping; worker wo"),
        "{e}"
    );

    // Asking a worker to stop, which its heartbeat reports; it then claims nothing.
    let e = err(c.bob.stop_worker("wo").await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    c.admin.stop_worker("wo").await.unwrap();
    assert!(c.olga.worker_heartbeat("wo").await.unwrap().stopping);
    c.bob
        .start_test_instance("p/clicks", &of_version(1))
        .await
        .unwrap();
    assert!(
        c.olga
            .claim_instances("wo", 5, LONG)
            .await
            .unwrap()
            .is_empty()
    );
    let e = err(c.bob.unregister_worker("wo").await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
}

async fn two_workers_racing_claim_each_instance_once(env: Arc<Env>) {
    let c = cast(&env).await;
    submit(&c.bob, "p/clicks", "job v1").await;
    const N: usize = 50;
    let mut ids = BTreeSet::new();
    for _ in 0..N {
        let i = c
            .bob
            .start_test_instance("p/clicks", &of_version(1))
            .await
            .unwrap();
        ids.insert(i.id);
    }
    c.admin.register_worker("w1", "h1", 1, 50).await.unwrap();
    c.olga.register_worker("w2", "h2", 2, 50).await.unwrap();
    // Two sessions (two pools, like two processes) claim concurrently, a few at a time.
    let race = |s: Session, w: &'static str| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = s.claim_instances(w, 3, LONG).await.expect("claim");
                if got.is_empty() {
                    break;
                }
                for i in got {
                    assert_eq!(i.worker.as_deref(), Some(w));
                    mine.push(i.id);
                }
                // Workers poll; a pause lets the other in (SQLite's busy wait is unfair).
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            mine
        })
    };
    let (one, two) = tokio::join!(race(c.admin.clone(), "w1"), race(c.olga.clone(), "w2"));
    let (one, two) = (one.unwrap(), two.unwrap());
    assert!(
        !one.is_empty() && !two.is_empty(),
        "both workers took part: {} and {}",
        one.len(),
        two.len()
    );
    let mut seen = BTreeSet::new();
    for id in one.iter().chain(two.iter()) {
        assert!(seen.insert(*id), "instance #{id} was claimed twice");
    }
    assert_eq!(seen, ids, "every instance claimed exactly once");
    // The store agrees with what each worker was told.
    for i in c.biz.instances(&InstanceFilter::default()).await.unwrap() {
        let expected = if one.contains(&i.id) { "w1" } else { "w2" };
        assert_eq!(
            (i.state, i.worker.as_deref()),
            (InstanceState::Starting, Some(expected))
        );
    }
    assert_eq!(
        env.count("SELECT COUNT(*) FROM audit WHERE action = 'instance.claim'")
            .await,
        N as i64
    );

    // On PostgreSQL a claim skips a row another transaction holds instead of waiting.
    if env.backend == Backend::Postgres {
        let x = c
            .bob
            .start_test_instance("p/clicks", &of_version(1))
            .await
            .unwrap();
        let y = c
            .bob
            .start_test_instance("p/clicks", &of_version(1))
            .await
            .unwrap();
        let raw = env.raw_pg().await;
        let mut holder = raw.begin().await.unwrap();
        sqlx::query("SELECT id FROM instances WHERE id = $1 FOR UPDATE")
            .bind(x.id)
            .execute(&mut *holder)
            .await
            .unwrap();
        let got = tokio::time::timeout(
            Duration::from_secs(5),
            c.admin.claim_instances("w1", 1, LONG),
        )
        .await
        .expect("a claim does not wait for a locked row")
        .unwrap();
        assert_eq!(got.iter().map(|i| i.id).collect::<Vec<_>>(), vec![y.id]);
        holder.rollback().await.unwrap();
        raw.close().await;
        let got = c.olga.claim_instances("w2", 5, LONG).await.unwrap();
        assert_eq!(got.iter().map(|i| i.id).collect::<Vec<_>>(), vec![x.id]);
    }
}

async fn a_silent_worker_s_instances_are_taken_over(env: Arc<Env>) {
    let c = cast(&env).await;
    submit(&c.bob, "p/clicks", "job v1").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            c.bob
                .start_test_instance("p/clicks", &of_version(1))
                .await
                .unwrap()
                .id,
        );
    }
    c.admin.register_worker("w1", "h1", 1, 4).await.unwrap();
    c.olga.register_worker("w2", "h2", 2, 4).await.unwrap();
    let got = c.admin.claim_instances("w1", 3, LONG).await.unwrap();
    assert_eq!(got.len(), 3);
    c.admin
        .set_instance_state("w1", ids[0], InstanceState::Running, None)
        .await
        .unwrap();
    // The third is asked to stop before w1 goes silent.
    c.bob.stop_instance(ids[2]).await.unwrap();

    // While w1's heartbeat is fresh, w2 takes nothing.
    assert!(
        c.olga
            .claim_instances("w2", 5, LONG)
            .await
            .unwrap()
            .is_empty()
    );
    let short = Duration::from_millis(300);
    c.admin.worker_heartbeat("w1").await.unwrap();
    assert!(
        c.olga
            .claim_instances("w2", 5, short)
            .await
            .unwrap()
            .is_empty()
    );

    // w1 goes silent; past the take-over age w2 takes the running ones over, and the
    // one asked to stop is stopped (nobody is left to stop it).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let taken = c.olga.claim_instances("w2", 5, short).await.unwrap();
    assert_eq!(
        taken.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![ids[0], ids[1]]
    );
    for i in &taken {
        assert_eq!(
            (i.state, i.worker.as_deref()),
            (InstanceState::Starting, Some("w2"))
        );
        assert_eq!(
            actions(&c.admin, i.id).await.last().map(String::as_str),
            Some("instance.take_over")
        );
    }
    let third = c.biz.instance(ids[2]).await.unwrap();
    assert_eq!(third.state, InstanceState::Stopped);

    // w1 comes back: it holds nothing and may not report on what it lost.
    let hb = c.admin.worker_heartbeat("w1").await.unwrap();
    assert!(hb.instances.is_empty(), "{hb:?}");
    let e = err(c
        .admin
        .set_instance_state("w1", ids[0], InstanceState::Running, None)
        .await);
    assert!(
        message(&e).contains(&format!(
            "worker w1 does not hold instance #{}: it is held by worker w2",
            ids[0]
        )),
        "{e}"
    );
    let e = err(c
        .admin
        .set_instance_state("w1", ids[2], InstanceState::Stopped, None)
        .await);
    assert!(message(&e).contains("stopped and held by no worker"), "{e}");
    let w2 = c
        .biz
        .workers()
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.id == "w2")
        .unwrap();
    assert_eq!(w2.instances, vec![ids[0], ids[1]]);
}

async fn a_worker_restarted_under_its_id_takes_its_instances_back_at_once(env: Arc<Env>) {
    let c = cast(&env).await;
    submit(&c.bob, "p/clicks", "job v1").await;
    let v1 = of_version(1);
    let (a, b) = (
        c.bob.start_test_instance("p/clicks", &v1).await.unwrap(),
        c.bob.start_test_instance("p/clicks", &v1).await.unwrap(),
    );
    c.admin.register_worker("w1", "h1", 100, 4).await.unwrap();
    let got = c.admin.claim_instances("w1", 4, LONG).await.unwrap();
    assert_eq!(got.len(), 2);
    c.admin
        .set_instance_state("w1", a.id, InstanceState::Running, None)
        .await
        .unwrap();
    c.bob.stop_instance(b.id).await.unwrap();

    // The process dies with -9 and a new one registers under the same id at once: its
    // heartbeat is fresh, yet nothing runs the instances. The registration hands them
    // back: the running one is claimed again now (no take-over wait), and the one asked
    // to stop is stopped.
    c.admin.register_worker("w1", "h1", 101, 4).await.unwrap();
    let again = c.admin.claim_instances("w1", 4, LONG).await.unwrap();
    assert_eq!(again.iter().map(|i| i.id).collect::<Vec<_>>(), vec![a.id]);
    assert_eq!(
        (again[0].state, again[0].worker.as_deref()),
        (InstanceState::Starting, Some("w1"))
    );
    let audit = actions(&c.admin, a.id).await;
    assert_eq!(
        audit[audit.len() - 2..],
        ["instance.release".to_string(), "instance.claim".to_string()]
    );
    assert_eq!(
        c.biz.instance(b.id).await.unwrap().state,
        InstanceState::Stopped
    );
    let hb = c.admin.worker_heartbeat("w1").await.unwrap();
    assert_eq!(
        hb.instances.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![a.id]
    );
}

async fn archiving_a_project_stops_its_instances(env: Arc<Env>) {
    let c = cast(&env).await;
    submit(&c.bob, "p/clicks", "job v1").await;
    // One held by a worker and running, one waiting for a worker, one already stopped.
    let held = c
        .bob
        .start_test_instance("p/clicks", &of_file("job draft"))
        .await
        .unwrap();
    c.admin.register_worker("w1", "h1", 1, 4).await.unwrap();
    let got = c.admin.claim_instances("w1", 1, LONG).await.unwrap();
    assert_eq!(got.iter().map(|i| i.id).collect::<Vec<_>>(), vec![held.id]);
    c.admin
        .set_instance_state("w1", held.id, InstanceState::Running, None)
        .await
        .unwrap();
    let waiting = c
        .bob
        .start_test_instance("p/clicks", &of_version(1))
        .await
        .unwrap();
    let done = c
        .bob
        .start_test_instance("p/clicks", &of_version(1))
        .await
        .unwrap();
    c.bob.stop_instance(done.id).await.unwrap();
    let audit_of_done = actions(&c.admin, done.id).await;

    let effects = c.pat.archive_project("p").await.expect("archive");
    assert_eq!(effects.instances_to_stop, vec![held.id]);
    let w = c.biz.instance(waiting.id).await.unwrap();
    assert_eq!(
        (w.state, w.desired),
        (InstanceState::Stopped, DesiredState::Stopped)
    );
    let h = c.biz.instance(held.id).await.unwrap();
    assert_eq!(
        (h.state, h.desired),
        (InstanceState::Running, DesiredState::Stopped)
    );
    assert_eq!(
        actions(&c.admin, held.id).await.last().map(String::as_str),
        Some("instance.stop")
    );
    // The worker carries the stop out in the archived project; nobody restarts there.
    let hb = c.admin.worker_heartbeat("w1").await.unwrap();
    assert_eq!(hb.instances.len(), 1);
    assert_eq!(hb.instances[0].desired, DesiredState::Stopped);
    c.admin
        .set_instance_state("w1", held.id, InstanceState::Stopped, None)
        .await
        .expect("stop in an archived project");
    assert_eq!(actions(&c.admin, done.id).await, audit_of_done);
    let e = err(c.bob.start_instance(held.id).await);
    assert!(matches!(e, StoreError::Archived { .. }), "{e}");
    let e = err(c.bob.start_test_instance("p/clicks", &of_version(1)).await);
    assert!(matches!(e, StoreError::Archived { .. }), "{e}");
}
