//! Monitoring in the store (issue 14): metric snapshots (batches, skipped instances,
//! upsert, limit, since, pruning), instance logs (after/limit, trimming), alert rules
//! (add, list, remove, rights, validation) and alerts (idempotent firing, clearing, the
//! firing count per member), their audit rows, the change feed, and ON DELETE behaviour.
//! On SQLite and PostgreSQL.
//!
//! Long because the five subjects share one cast and instance set-up, and each test reads
//! as one story of its subject (the version and instance helpers are in tests/common).
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Cast, Env, cast, err, of_version, submit};
use weir_model::model::{AlertKind, AlertRule};
use weir_store::{
    AlertFilter, AlertFiring, AlertRuleSpec, AlertState, AlertTarget, InstanceState,
    LOG_LINES_KEPT, LogLevel, MetricPoint, ProjectRole, Session, StoreError,
};

both!(
    metrics_are_recorded_in_batches_by_the_holding_worker,
    logs_follow_and_pruning_keeps_the_window,
    alert_rules_are_added_listed_and_removed_by_the_project,
    alerts_fire_once_clear_and_count_for_members,
    deleting_an_instance_takes_its_monitoring_rows_along,
    checkpoint_failed_rules_and_alerts_are_stored,
);

const LONG: Duration = Duration::from_secs(10);

/// `n` test instances of p/clicks, the first `held` claimed by worker w1 (olga, ops);
/// w2 (admin) is registered and holds nothing.
async fn instances(c: &Cast, n: usize, held: i64) -> Vec<i64> {
    submit(&c.bob, "p/clicks", "job v1").await;
    let mut ids = Vec::new();
    for _ in 0..n {
        let i = c
            .bob
            .start_test_instance("p/clicks", &of_version(1))
            .await
            .unwrap();
        ids.push(i.id);
    }
    c.olga.register_worker("w1", "h1", 1, 8).await.unwrap();
    c.admin.register_worker("w2", "h2", 2, 8).await.unwrap();
    let got = c.olga.claim_instances("w1", held, LONG).await.unwrap();
    assert_eq!(got.len() as i64, held);
    ids
}

/// quinn, a developer of project q (not of p).
async fn quinn(env: &Env, c: &Cast) -> Session {
    c.admin
        .add_user(&env.name("quinn"), "quinn", &[])
        .await
        .unwrap();
    c.admin.create_project("q", "other team").await.unwrap();
    c.admin
        .add_member("q", &env.name("quinn"), ProjectRole::Developer)
        .await
        .unwrap();
    env.as_("quinn").await
}

fn point(instance: i64, at_ms: i64, rate: i64) -> MetricPoint {
    MetricPoint {
        instance,
        at_ms,
        snapshot: serde_json::json!({"records_in_per_s": rate}),
    }
}

async fn audit_actions(s: &Session, kind: &str) -> Vec<(String, String)> {
    s.audit(0)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.object_kind == kind)
        .map(|a| (a.action, a.object_id))
        .collect()
}

fn is_invalid(e: &StoreError, field: &str) -> bool {
    matches!(e, StoreError::Invalid { field: f, .. } if *f == field)
}

async fn metrics_are_recorded_in_batches_by_the_holding_worker(env: Arc<Env>) {
    let c = cast(&env).await;
    let ids = instances(&c, 3, 2).await;
    let (a, b, unheld) = (ids[0], ids[1], ids[2]);
    let before = c.biz.last_change().await.unwrap();

    // One batch of every instance: the one w1 does not hold is skipped.
    let batch = vec![
        point(a, 1_000, 1),
        point(b, 1_000, 10),
        point(unheld, 1_000, 99),
        point(a, 2_000, 2),
        point(b, 2_000, 20),
    ];
    assert_eq!(c.olga.record_metrics("w1", &batch).await.unwrap(), 4);
    assert!(
        c.olga
            .instance_metrics(unheld, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A point of the same millisecond replaces the first.
    assert_eq!(
        c.olga
            .record_metrics("w1", &[point(a, 2_000, 3), point(a, 3_000, 4)])
            .await
            .unwrap(),
        2
    );
    let got = c.biz.instance_metrics(a, None, 10).await.unwrap();
    assert_eq!(
        got,
        vec![point(a, 1_000, 1), point(a, 2_000, 3), point(a, 3_000, 4)]
    );
    // The last `limit` points, oldest first; `since` narrows from below.
    let at = |v: Vec<MetricPoint>| v.into_iter().map(|p| p.at_ms).collect::<Vec<_>>();
    assert_eq!(
        at(c.biz.instance_metrics(a, None, 2).await.unwrap()),
        vec![2_000, 3_000]
    );
    assert_eq!(
        at(c.biz.instance_metrics(a, Some(2_000), 10).await.unwrap()),
        vec![2_000, 3_000]
    );
    assert_eq!(
        at(c.biz.instance_metrics(a, Some(1_500), 1).await.unwrap()),
        vec![3_000]
    );
    // The newest of each, in the order asked; one without points is left out.
    assert_eq!(
        c.biz.latest_metrics(&[b, unheld, a]).await.unwrap(),
        vec![point(b, 2_000, 20), point(a, 3_000, 4)]
    );
    // Several instances in one read: by instance in the order asked, oldest first, the
    // last `limit` of each since `since`.
    assert_eq!(
        c.biz.metrics_of(&[b, a], 1_500, 10).await.unwrap(),
        vec![point(b, 2_000, 20), point(a, 2_000, 3), point(a, 3_000, 4)]
    );
    assert_eq!(
        c.biz.metrics_of(&[a, b], 0, 1).await.unwrap(),
        vec![point(a, 3_000, 4), point(b, 2_000, 20)]
    );
    assert_eq!(c.biz.metrics_of(&[a], 0, 10).await.unwrap().len(), 3);
    assert!(c.biz.metrics_of(&[], 0, 10).await.unwrap().is_empty());
    assert!(is_invalid(
        &err(c.biz.metrics_of(&[a], 0, 0).await),
        "limit"
    ));

    // Metric writes do not wake the change feed (they come every second), nor audit.
    assert_eq!(c.biz.last_change().await.unwrap(), before);

    // Refusals: another login for w1, an unknown worker, an unknown instance, a bad limit.
    assert!(matches!(
        err(c.admin.record_metrics("w1", &[point(a, 4_000, 5)]).await),
        StoreError::NotAllowed(_)
    ));
    assert!(matches!(
        err(c.olga.record_metrics("w9", &[point(a, 4_000, 5)]).await),
        StoreError::NotFound { kind: "worker", .. }
    ));
    assert!(matches!(
        err(c.biz.instance_metrics(9_999, None, 10).await),
        StoreError::NotFound {
            kind: "instance",
            ..
        }
    ));
    assert!(is_invalid(
        &err(c.biz.instance_metrics(a, None, 0).await),
        "limit"
    ));
    // w2 holds nothing: all its points are skipped.
    assert_eq!(
        c.admin
            .record_metrics("w2", &[point(a, 5_000, 6)])
            .await
            .unwrap(),
        0
    );

    // Once stopped, the instance's points are skipped too.
    c.bob.stop_instance(b).await.unwrap();
    c.olga
        .set_instance_state("w1", b, InstanceState::Stopped, None)
        .await
        .unwrap();
    assert_eq!(
        c.olga
            .record_metrics("w1", &[point(b, 9_000, 1)])
            .await
            .unwrap(),
        0
    );

    // Pruning deletes older points of every instance, and only the worker's login prunes.
    assert!(matches!(
        err(c.biz.prune_metrics("w1", 2_500).await),
        StoreError::NotAllowed(_)
    ));
    assert_eq!(c.olga.prune_metrics("w1", 2_500).await.unwrap(), 4);
    assert_eq!(
        at(c.biz.instance_metrics(a, None, 10).await.unwrap()),
        vec![3_000]
    );
    assert!(
        c.biz
            .instance_metrics(b, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn logs_follow_and_pruning_keeps_the_window(env: Arc<Env>) {
    let c = cast(&env).await;
    let ids = instances(&c, 3, 2).await;
    let (a, b, unheld) = (ids[0], ids[1], ids[2]);
    let before = c.biz.last_change().await.unwrap();
    c.olga
        .log_instance(
            "w1",
            &[
                (a, LogLevel::Info, "started".into()),
                (unheld, LogLevel::Info, "not mine".into()),
                (b, LogLevel::Warn, "slow source".into()),
                (a, LogLevel::Error, "bad record at offset 7".into()),
            ],
        )
        .await
        .unwrap();
    let lines = c.biz.instance_logs(a, None, 10).await.unwrap();
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.instance, l.level, l.message.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (a, LogLevel::Info, "started"),
            (a, LogLevel::Error, "bad record at offset 7")
        ]
    );
    assert!(
        c.biz
            .instance_logs(unheld, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        c.biz.last_change().await.unwrap(),
        before,
        "logs are not audited"
    );

    // Following: lines after the last one seen, at most `limit`.
    let first = lines[0].id;
    let after = c.biz.instance_logs(a, Some(first), 10).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].message, "bad record at offset 7");
    assert!(
        c.biz
            .instance_logs(a, Some(after[0].id), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A worker logs the failure of an instance it last held, after reporting it failed.
    c.olga
        .set_instance_state("w1", b, InstanceState::Failed, Some("broker down"))
        .await
        .unwrap();
    c.olga
        .log_instance(
            "w1",
            &[(b, LogLevel::Error, "broker kmain unreachable".into())],
        )
        .await
        .unwrap();
    assert_eq!(
        c.biz.instance_logs(b, None, 1).await.unwrap()[0].message,
        "broker kmain unreachable"
    );
    // Another worker's lines about it are skipped; another login is refused.
    c.admin
        .log_instance("w2", &[(b, LogLevel::Info, "not mine".into())])
        .await
        .unwrap();
    assert_eq!(c.biz.instance_logs(b, None, 10).await.unwrap().len(), 2);
    assert!(matches!(
        err(c
            .admin
            .log_instance("w1", &[(a, LogLevel::Info, "x".into())])
            .await),
        StoreError::NotAllowed(_)
    ));

    // Levels parse from their words; others are refused with the words to use.
    assert_eq!(LogLevel::parse("WARNING").unwrap(), LogLevel::Warn);
    assert!(is_invalid(&err(LogLevel::parse("debug")), "level"));

    // Trimming keeps the last LOG_LINES_KEPT lines of each instance.
    let many: Vec<(i64, LogLevel, String)> = (0..LOG_LINES_KEPT + 5)
        .map(|n| (a, LogLevel::Info, format!("line {n}")))
        .collect();
    c.olga.log_instance("w1", &many).await.unwrap();
    c.olga.prune_metrics("w1", 0).await.unwrap();
    let kept = c.biz.instance_logs(a, None, 5_000).await.unwrap();
    assert_eq!(kept.len() as i64, LOG_LINES_KEPT);
    assert_eq!(kept[0].message, "line 5");
    assert_eq!(
        kept[kept.len() - 1].message,
        format!("line {}", LOG_LINES_KEPT + 4)
    );
    // The last `limit` lines, oldest first.
    let last: Vec<String> = c
        .biz
        .instance_logs(a, None, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.message)
        .collect();
    assert_eq!(
        last,
        vec![
            format!("line {}", LOG_LINES_KEPT + 3),
            format!("line {}", LOG_LINES_KEPT + 4)
        ]
    );
    // Another instance's lines stay.
    assert_eq!(c.biz.instance_logs(b, None, 10).await.unwrap().len(), 2);
}

fn lag(above: f64, webhook: Option<&str>) -> AlertRule {
    AlertRule {
        kind: AlertKind::Lag,
        above,
        for_secs: 30,
        webhook: webhook.map(str::to_string),
    }
}

fn on_job(rule: AlertRule) -> AlertRuleSpec {
    AlertRuleSpec {
        target: AlertTarget::Job("p/clicks".into()),
        rule,
    }
}

async fn alert_rules_are_added_listed_and_removed_by_the_project(env: Arc<Env>) {
    let c = cast(&env).await;
    let quinn = quinn(&env, &c).await;
    let ids = instances(&c, 2, 1).await;
    let (a, b) = (ids[0], ids[1]);
    let before = c.biz.last_change().await.unwrap();

    let job_rule = c
        .bob
        .add_alert_rule(&on_job(lag(1000.5, Some("https://hooks.example.com/weir"))))
        .await
        .expect("a developer adds a rule");
    assert_eq!(
        (job_rule.job.as_deref(), job_rule.instance, &job_rule.rule),
        (
            Some("p/clicks"),
            None,
            &lag(1000.5, Some("https://hooks.example.com/weir"))
        )
    );
    assert_eq!(job_rule.created_by, env.name("bob"));
    assert!(
        c.biz.last_change().await.unwrap() > before,
        "the change feed moves"
    );
    let inst_rule = c
        .olga
        .add_alert_rule(&AlertRuleSpec {
            target: AlertTarget::Instance(a),
            rule: AlertRule {
                kind: AlertKind::NoOutput,
                above: 7.0,
                for_secs: 60,
                webhook: None,
            },
        })
        .await
        .expect("ops adds a rule");
    // Kinds without a threshold store none.
    assert_eq!((inst_rule.instance, inst_rule.rule.above), (Some(a), 0.0));
    let admin_rule = c
        .admin
        .add_alert_rule(&AlertRuleSpec {
            target: AlertTarget::Instance(b),
            rule: AlertRule {
                kind: AlertKind::Failed,
                above: 0.0,
                for_secs: 0,
                webhook: Some("http://127.0.0.1:9/hook".into()),
            },
        })
        .await
        .expect("a system admin adds a rule");

    // Listing: all, of a job, of an instance; for an instance its own and its job's.
    let rid = |v: Vec<weir_store::AlertRuleRow>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        rid(c.biz.alert_rules(None).await.unwrap()),
        vec![job_rule.id, inst_rule.id, admin_rule.id]
    );
    assert_eq!(
        rid(c
            .biz
            .alert_rules(Some(&AlertTarget::Job("p/clicks".into())))
            .await
            .unwrap()),
        vec![job_rule.id]
    );
    assert_eq!(
        rid(c
            .biz
            .alert_rules(Some(&AlertTarget::Instance(a)))
            .await
            .unwrap()),
        vec![inst_rule.id]
    );
    assert_eq!(
        rid(c.olga.rules_for_instance(a).await.unwrap()),
        vec![job_rule.id, inst_rule.id]
    );
    assert_eq!(
        rid(c.olga.rules_for_instance(b).await.unwrap()),
        vec![job_rule.id, admin_rule.id]
    );
    assert!(matches!(
        err(c.olga.rules_for_instance(9_999).await),
        StoreError::NotFound {
            kind: "instance",
            ..
        }
    ));

    // Rights: a developer of another project, business and a data admin are refused.
    for s in [&quinn, &c.biz, &c.dan] {
        let e = err(s.add_alert_rule(&on_job(lag(5.0, None))).await);
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
        assert!(e.to_string().contains("project p"), "{e}");
    }
    assert!(matches!(
        err(quinn.remove_alert_rule(job_rule.id).await),
        StoreError::Forbidden { .. }
    ));

    // Validation, each naming its field.
    for (rule, field) in [
        (lag(-1.0, None), "above"),
        (lag(f64::NAN, None), "above"),
        (lag(f64::INFINITY, None), "above"),
        (lag(10.0, Some("ftp://x")), "webhook"),
        (lag(10.0, Some("https://")), "webhook"),
        (lag(10.0, Some("hooks.example.com")), "webhook"),
        (
            AlertRule {
                for_secs: u64::MAX,
                ..lag(10.0, None)
            },
            "for_secs",
        ),
    ] {
        let e = err(c.bob.add_alert_rule(&on_job(rule)).await);
        assert!(is_invalid(&e, field), "{field}: {e}");
    }
    let e = err(c
        .bob
        .add_alert_rule(&AlertRuleSpec {
            target: AlertTarget::Job("p/clickz".into()),
            rule: lag(1.0, None),
        })
        .await);
    assert!(e.to_string().contains("p/clicks"), "suggests the job: {e}");
    assert!(matches!(
        err(c
            .bob
            .add_alert_rule(&AlertRuleSpec {
                target: AlertTarget::Instance(9_999),
                rule: lag(1.0, None),
            })
            .await),
        StoreError::NotFound {
            kind: "instance",
            ..
        }
    ));

    // Removing: the project's admin; the rule is gone, an unknown one is NotFound.
    let removed = c.pat.remove_alert_rule(job_rule.id).await.unwrap();
    assert_eq!(removed, job_rule);
    assert_eq!(
        rid(c.biz.alert_rules(None).await.unwrap()),
        vec![inst_rule.id, admin_rule.id]
    );
    assert!(matches!(
        err(c.pat.remove_alert_rule(job_rule.id).await),
        StoreError::NotFound {
            kind: "alert rule",
            ..
        }
    ));

    // Audit rows, with the rule after adding and before removing.
    assert_eq!(
        audit_actions(&c.biz, "alert_rule").await,
        vec![
            ("alert_rule.add".to_string(), job_rule.id.to_string()),
            ("alert_rule.add".to_string(), inst_rule.id.to_string()),
            ("alert_rule.add".to_string(), admin_rule.id.to_string()),
            ("alert_rule.remove".to_string(), job_rule.id.to_string()),
        ]
    );
    let last = c.biz.audit(0).await.unwrap().pop().unwrap();
    assert!(last.before_json.unwrap().contains("hooks.example.com"));
}

fn firing(instance: i64, rule_id: Option<i64>, rule: &str, value: f64) -> AlertFiring {
    AlertFiring {
        instance,
        rule_id,
        rule: rule.to_string(),
        kind: AlertKind::Lag,
        value: Some(value),
        message: format!("lag is {value} records"),
    }
}

async fn alerts_fire_once_clear_and_count_for_members(env: Arc<Env>) {
    let c = cast(&env).await;
    let quinn = quinn(&env, &c).await;
    let ids = instances(&c, 2, 1).await;
    let (a, unheld) = (ids[0], ids[1]);
    let rule = c
        .bob
        .add_alert_rule(&on_job(lag(1000.0, None)))
        .await
        .unwrap();
    let other = c
        .bob
        .add_alert_rule(&AlertRuleSpec {
            target: AlertTarget::Instance(unheld),
            rule: lag(5.0, None),
        })
        .await
        .unwrap();
    let text = rule.rule.describe();
    assert_eq!(text, "lag > 1000 records for 30s");

    let before = c.biz.last_change().await.unwrap();
    let (alert, new) = c
        .olga
        .fire_alert("w1", &firing(a, Some(rule.id), &text, 1500.5))
        .await
        .unwrap();
    assert!(new);
    assert!(
        c.biz.last_change().await.unwrap() > before,
        "the change feed moves"
    );
    assert_eq!(
        (
            alert.instance,
            alert.job.as_str(),
            alert.env.as_str(),
            alert.rule_id,
            alert.rule.as_str(),
            alert.kind,
            alert.state,
            alert.value,
            alert.cleared_at.as_deref()
        ),
        (
            a,
            "p/clicks",
            "test",
            Some(rule.id),
            text.as_str(),
            AlertKind::Lag,
            AlertState::Firing,
            Some(1500.5),
            None
        )
    );
    let json = serde_json::to_value(&alert).unwrap();
    assert_eq!(
        (json["kind"].as_str(), json["state"].as_str()),
        (Some("lag"), Some("firing"))
    );

    // Firing again while it fires returns the same alert, unchanged, not new.
    let (again, new) = c
        .olga
        .fire_alert("w1", &firing(a, Some(rule.id), &text, 2000.0))
        .await
        .unwrap();
    assert!(!new);
    assert_eq!(again, alert);

    // The count: members of p, system admins and ops see it; a member of q does not.
    for s in [&c.bob, &c.pat, &c.admin, &c.olga] {
        assert_eq!(s.firing_alert_count().await.unwrap(), 1, "{}", s.actor());
    }
    assert_eq!(quinn.firing_alert_count().await.unwrap(), 0);
    assert_eq!(c.biz.firing_alert_count().await.unwrap(), 0);
    let listed = quinn
        .alerts(&AlertFilter {
            firing_only: true,
            ..AlertFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(listed, vec![alert.clone()]);

    // Refusals: another worker, another login, a rule of another instance, no rule text,
    // an instance the worker never ran.
    assert!(matches!(
        err(c.admin.fire_alert("w2", &firing(a, None, &text, 1.0)).await),
        StoreError::NotAllowed(_)
    ));
    assert!(matches!(
        err(c.admin.fire_alert("w1", &firing(a, None, &text, 1.0)).await),
        StoreError::NotAllowed(_)
    ));
    assert!(is_invalid(
        &err(c
            .olga
            .fire_alert("w1", &firing(a, Some(other.id), "lag > 5", 9.0))
            .await),
        "rule_id"
    ));
    assert!(is_invalid(
        &err(c.olga.fire_alert("w1", &firing(a, None, " ", 9.0)).await),
        "rule"
    ));
    assert!(is_invalid(
        &err(c
            .olga
            .fire_alert("w1", &firing(a, None, "x", f64::NAN))
            .await),
        "value"
    ));
    assert!(matches!(
        err(c
            .olga
            .fire_alert("w1", &firing(unheld, None, "lag > 5", 9.0))
            .await),
        StoreError::NotAllowed(_)
    ));

    // Clearing: firing → cleared, with the figure at clearing time; twice is refused.
    let cleared = c
        .olga
        .clear_alert("w1", alert.id, Some(10.0))
        .await
        .unwrap();
    assert_eq!(
        (cleared.state, cleared.value),
        (AlertState::Cleared, Some(10.0))
    );
    assert!(cleared.cleared_at.is_some());
    let e = err(c.olga.clear_alert("w1", alert.id, None).await);
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    assert!(e.to_string().contains("already cleared"), "{e}");
    assert!(matches!(
        err(c.olga.clear_alert("w1", 9_999, None).await),
        StoreError::NotFound { kind: "alert", .. }
    ));
    assert_eq!(c.bob.firing_alert_count().await.unwrap(), 0);

    // It can fire again: a new alert. A failed instance's worker still fires about it.
    let (second, new) = c
        .olga
        .fire_alert("w1", &firing(a, Some(rule.id), &text, 3000.0))
        .await
        .unwrap();
    assert!(new && second.id != alert.id);
    c.olga
        .set_instance_state("w1", a, InstanceState::Failed, Some("broker down"))
        .await
        .unwrap();
    let (failed, new) = c
        .olga
        .fire_alert(
            "w1",
            &AlertFiring {
                instance: a,
                rule_id: None,
                rule: "failed".into(),
                kind: AlertKind::Failed,
                value: None,
                message: "broker down".into(),
            },
        )
        .await
        .unwrap();
    assert!(new);
    assert_eq!((failed.kind, failed.value), (AlertKind::Failed, None));

    // Newest first; firing only; per instance; limit.
    let all = c.biz.alerts(&AlertFilter::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![failed.id, second.id, alert.id]
    );
    let firing_ids: Vec<i64> = c
        .biz
        .alerts(&AlertFilter {
            firing_only: true,
            instance: Some(a),
            limit: Some(1),
        })
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(firing_ids, vec![failed.id]);
    assert!(
        c.biz
            .alerts(&AlertFilter {
                instance: Some(unheld),
                ..AlertFilter::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(c.pat.firing_alert_count().await.unwrap(), 2);

    // Removing the rule keeps its alerts, without the rule.
    c.pat.remove_alert_rule(rule.id).await.unwrap();
    let all = c.biz.alerts(&AlertFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|x| x.rule_id.is_none()));
    assert_eq!(all[2].rule, text);

    // Audit rows: one fire per new alert, one clear.
    assert_eq!(
        audit_actions(&c.biz, "alert").await,
        vec![
            ("alert.fire".to_string(), alert.id.to_string()),
            ("alert.clear".to_string(), alert.id.to_string()),
            ("alert.fire".to_string(), second.id.to_string()),
            ("alert.fire".to_string(), failed.id.to_string()),
        ]
    );
}

async fn deleting_an_instance_takes_its_monitoring_rows_along(env: Arc<Env>) {
    let c = cast(&env).await;
    let ids = instances(&c, 2, 2).await;
    let (a, b) = (ids[0], ids[1]);
    let mut rules = Vec::new();
    for i in [a, b] {
        c.olga
            .record_metrics("w1", &[point(i, 1_000, 1)])
            .await
            .unwrap();
        c.olga
            .log_instance("w1", &[(i, LogLevel::Info, "started".into())])
            .await
            .unwrap();
        let r = c
            .bob
            .add_alert_rule(&AlertRuleSpec {
                target: AlertTarget::Instance(i),
                rule: lag(1.0, None),
            })
            .await
            .unwrap();
        c.olga
            .fire_alert("w1", &firing(i, Some(r.id), &r.rule.describe(), 2.0))
            .await
            .unwrap();
        rules.push(r);
    }
    // The store never deletes instances; the owner may, and the rows go with it.
    env.raw_exec("DELETE FROM instances WHERE id = (SELECT MAX(id) FROM instances)")
        .await
        .expect("delete an instance");
    assert_eq!(b, a + 1);
    for sql in [
        "SELECT COUNT(*) FROM instance_metrics",
        "SELECT COUNT(*) FROM instance_logs",
        "SELECT COUNT(*) FROM alert_rules",
        "SELECT COUNT(*) FROM alerts",
    ] {
        assert_eq!(
            env.count(sql).await,
            1,
            "{sql}: only instance #{a}'s row is left"
        );
    }
    assert_eq!(
        c.biz.alert_rules(None).await.unwrap(),
        vec![rules[0].clone()]
    );
}

/// Schema version 8: `checkpoint_failed` is a kind the store keeps, for rules and alerts.
async fn checkpoint_failed_rules_and_alerts_are_stored(env: Arc<Env>) {
    let c = cast(&env).await;
    let ids = instances(&c, 1, 1).await;
    let rule = c
        .bob
        .add_alert_rule(&AlertRuleSpec {
            target: AlertTarget::Instance(ids[0]),
            rule: AlertRule {
                kind: AlertKind::CheckpointFailed,
                above: 0.0,
                for_secs: 0,
                webhook: None,
            },
        })
        .await
        .expect("a developer adds a checkpoint rule");
    assert_eq!(rule.rule.kind, AlertKind::CheckpointFailed);
    let mut f = firing(ids[0], Some(rule.id), &rule.rule.describe(), 2.0);
    f.kind = AlertKind::CheckpointFailed;
    let (alert, new) = c.olga.fire_alert("w1", &f).await.expect("fires");
    assert!(new);
    assert_eq!(alert.kind, AlertKind::CheckpointFailed);
}
