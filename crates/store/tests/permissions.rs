//! Permission requests, authorization, the effective right, the inbox, concurrency,
//! atomicity and the audit log, on SQLite and PostgreSQL.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{Env, cast, err, topic};
use weir_store::{
    Backend, Conflict, Effect, Env as DsEnv, GrantList, GrantSpec, Grantee, Perm,
    PermissionRequestSpec, RequestFilter, RequestFor, RequestKind, RequestState, StoreError,
    TableRef,
};

both!(
    permission_request_rules,
    request_for_both_makes_two_requests_and_approvals,
    withdraw_and_my_requests,
    authorization_and_effective_right,
    batch_grants_are_all_or_nothing,
    inbox_one_id_space_oldest_first,
    concurrent_approvals_exactly_one_wins,
    audit_holds_every_write_and_refuses_changes,
);

fn req(ds: &str, table: &str, for_whom: RequestFor, perms: &[Perm]) -> PermissionRequestSpec {
    PermissionRequestSpec {
        target: TableRef::new(ds, table),
        for_whom,
        perms: perms.to_vec(),
        columns: Vec::new(),
        reason: "daily report".into(),
    }
}

async fn permission_request_rules(env: Arc<Env>) {
    let c = cast(&env).await;
    let p = || RequestFor::Project("p".into());
    // Data admins may not request.
    let e = err(c
        .dan
        .request_permission(&req("shop", "orders", RequestFor::Person, &[Perm::Select]))
        .await);
    assert_eq!(
        e.to_string(),
        "data admins may not request permissions; grant them directly with a whitelist entry"
    );
    // Kafka: insert and select only, no columns.
    let e = err(c
        .bob
        .request_permission(&req("kmain", "clicks", p(), &[Perm::Update]))
        .await);
    assert_eq!(
        e.to_string(),
        "perms: kmain is a kafka data source and `update` does not apply to topics; a topic takes select and insert only"
    );
    let mut r = req("kmain", "clicks", RequestFor::Person, &[Perm::Select]);
    r.columns = vec!["url".into()];
    let e = err(c.bob.request_permission(&r).await);
    assert!(
        e.to_string()
            .starts_with("columns: kmain is a kafka data source"),
        "{e}"
    );
    // Columns only for a person.
    let mut r = req("shop", "orders", p(), &[Perm::Select]);
    r.columns = vec!["amount".into()];
    let e = err(c.bob.request_permission(&r).await);
    assert!(
        e.to_string()
            .starts_with("columns: column-level permissions are only for a person"),
        "{e}"
    );
    r.for_whom = RequestFor::Both("p".into());
    assert!(matches!(
        err(c.bob.request_permission(&r).await),
        StoreError::Invalid {
            field: "columns",
            ..
        }
    ));
    // Reason, perms and table required.
    let mut r = req("shop", "orders", p(), &[Perm::Select]);
    r.reason = " ".into();
    assert!(
        err(c.bob.request_permission(&r).await)
            .to_string()
            .starts_with("reason: no reason given")
    );
    let r = req("shop", "orders", p(), &[]);
    assert!(
        err(c.bob.request_permission(&r).await)
            .to_string()
            .starts_with("perms: no permission chosen")
    );
    let r = req("shop", "", p(), &[Perm::Select]);
    assert!(matches!(
        err(c.bob.request_permission(&r).await),
        StoreError::Invalid { field: "table", .. }
    ));
    // Unknown data source suggests; a project request needs membership.
    let e = err(c
        .bob
        .request_permission(&req("shpo", "orders", p(), &[Perm::Select]))
        .await);
    assert_eq!(
        e.to_string(),
        "no data source named `shpo`; did you mean `shop`?"
    );
    let e = err(c
        .olga
        .request_permission(&req("shop", "orders", p(), &[Perm::Select]))
        .await);
    assert_eq!(
        e.to_string(),
        "only a member of project p can request permissions for project p; you are ops"
    );
    // A person may ask for columns; approval needs a data admin, not the requester.
    let mut r = req(
        "shop",
        "orders",
        RequestFor::Person,
        &[Perm::Select, Perm::Update],
    );
    r.columns = vec!["id".into(), "amount".into()];
    let made = c
        .olga
        .request_permission(&r)
        .await
        .expect("olga asks for herself");
    assert_eq!(made.len(), 1);
    assert_eq!(
        made[0].summary,
        format!(
            "select, update on shop.orders (id, amount) for user {}",
            env.name("olga")
        )
    );
    let e = err(c.pat.approve(made[0].id, "").await);
    assert_eq!(
        e.to_string(),
        "only a data admin can approve; you are project admin of p"
    );
    let e = err(c.admin.approve(made[0].id, "").await);
    assert_eq!(
        e.to_string(),
        "only a data admin can approve; you are system admin"
    );
    let d = c.dan.approve(made[0].id, "fine").await.expect("approve");
    let Effect::Granted(g) = d.effect else {
        panic!("expected a grant")
    };
    assert_eq!(g.list, GrantList::Whitelist);
    assert_eq!(g.grantee, Grantee::User(env.name("olga")));
    assert_eq!(g.request, Some(made[0].id));
    assert_eq!(g.columns, ["id", "amount"]);
    // Nobody approves their own request: a data admin who is also a developer publishes.
    c.pat
        .add_member("p", &env.name("dan"), weir_store::ProjectRole::Developer)
        .await
        .expect("dan joins");
    c.dan
        .create_topic(&topic("orders_rt"))
        .await
        .expect("topic");
    let own = c
        .dan
        .publish_topic("orders_rt", DsEnv::Test, "kmain")
        .await
        .expect("publish");
    let e = err(c.dan.approve(own.id, "").await);
    assert_eq!(
        e.to_string(),
        format!(
            "request #{} is your own; nobody approves or rejects their own request",
            own.id
        )
    );
    assert!(
        c.dan
            .inbox()
            .await
            .expect("inbox")
            .iter()
            .all(|i| i.id != own.id)
    );
    assert!(
        c.erin
            .inbox()
            .await
            .expect("inbox")
            .iter()
            .any(|i| i.id == own.id)
    );
    let e = err(c.dan.approve(9999, "").await);
    assert_eq!(e.to_string(), "no request named `#9999`");
}

async fn request_for_both_makes_two_requests_and_approvals(env: Arc<Env>) {
    let c = cast(&env).await;
    let made = c
        .bob
        .request_permission(&req(
            "kmain",
            "clicks",
            RequestFor::Both("p".into()),
            &[Perm::Select, Perm::Insert],
        ))
        .await
        .expect("both");
    assert_eq!(made.len(), 2);
    assert_eq!(made[0].project.as_deref(), Some("p"));
    assert_eq!(made[1].project, None);
    let (_, d0) = c.bob.request(made[0].id).await.expect("detail");
    let (_, d1) = c.bob.request(made[1].id).await.expect("detail");
    match (d0, d1) {
        (
            weir_store::RequestDetail::Permission {
                grantee: g0,
                reason,
                ..
            },
            weir_store::RequestDetail::Permission { grantee: g1, .. },
        ) => {
            assert_eq!(g0, Grantee::Project("p".into()));
            assert_eq!(g1, Grantee::User(env.name("bob")));
            assert_eq!(reason, "daily report");
        }
        other => panic!("unexpected detail {other:?}"),
    }
    // Two approvals: approving one leaves the other pending.
    c.dan.approve(made[0].id, "").await.expect("project part");
    let inbox: Vec<i64> = c
        .erin
        .inbox()
        .await
        .expect("inbox")
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(inbox, [made[1].id]);
    c.erin
        .reject(made[1].id, "use the project grant")
        .await
        .expect("reject person part");
    let t = TableRef::new("kmain", "clicks");
    let d = c
        .bob
        .check(&env.name("bob"), Some("p"), &t, Perm::Insert, &[])
        .await
        .expect("check");
    assert!(d.allowed);
    assert_eq!(d.reason, "project whitelist of project p via membership");
    let d = c
        .bob
        .check(&env.name("bob"), None, &t, Perm::Select, &[])
        .await
        .expect("check");
    assert_eq!((d.allowed, d.reason.as_str()), (false, "no grant"));
}

async fn withdraw_and_my_requests(env: Arc<Env>) {
    let c = cast(&env).await;
    let a = c
        .bob
        .request_permission(&req("shop", "a", RequestFor::Person, &[Perm::Select]))
        .await
        .expect("a");
    let b = c
        .bob
        .request_permission(&req("shop", "b", RequestFor::Person, &[Perm::Select]))
        .await
        .expect("b");
    let cc = c
        .bob
        .request_permission(&req("shop", "c", RequestFor::Person, &[Perm::Select]))
        .await
        .expect("c");
    let e = err(c.pat.withdraw(a[0].id).await);
    assert_eq!(
        e.to_string(),
        format!(
            "request #{} belongs to {}; only the requester can withdraw it",
            a[0].id,
            env.name("bob")
        )
    );
    let w = c.bob.withdraw(a[0].id).await.expect("withdraw");
    assert_eq!(w.state, RequestState::Withdrawn);
    let e = err(c.bob.withdraw(a[0].id).await);
    assert!(
        e.to_string().starts_with(&format!(
            "request #{} was already withdrawn by {} at ",
            a[0].id,
            env.name("bob")
        )),
        "{e}"
    );
    let e = err(c.dan.approve(a[0].id, "").await);
    assert!(
        matches!(e, StoreError::Conflict(Conflict::AlreadyDecided { .. })),
        "{e}"
    );
    c.dan.approve(b[0].id, "").await.expect("approve b");
    let e = err(c.bob.withdraw(b[0].id).await);
    assert!(
        e.to_string()
            .contains(&format!("was already approved by {}", env.name("dan"))),
        "{e}"
    );
    let ids = |v: Vec<weir_store::Request>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(c
            .bob
            .my_requests(RequestFilter::InProgress)
            .await
            .expect("in progress")),
        [cc[0].id]
    );
    assert_eq!(
        ids(c
            .bob
            .my_requests(RequestFilter::Finished)
            .await
            .expect("finished")),
        [a[0].id, b[0].id]
    );
    assert_eq!(
        c.bob
            .my_requests(RequestFilter::All)
            .await
            .expect("all")
            .len(),
        3
    );
    assert!(
        c.pat
            .my_requests(RequestFilter::All)
            .await
            .expect("none")
            .is_empty()
    );
}

async fn authorization_and_effective_right(env: Arc<Env>) {
    let c = cast(&env).await;
    let orders = TableRef::new("shop", "orders");
    let bob = env.name("bob");
    let check = |user: String, project: Option<&'static str>, op: Perm, cols: Vec<String>| {
        let s = c.biz.clone();
        let t = orders.clone();
        async move { s.check(&user, project, &t, op, &cols).await.expect("check") }
    };
    assert_eq!(
        check(bob.clone(), None, Perm::Select, vec![]).await.reason,
        "no grant"
    );
    assert_eq!(
        check(env.name("olga"), Some("p"), Perm::Select, vec![])
            .await
            .reason,
        format!(
            "no grant ({} is not a member of project p)",
            env.name("olga")
        )
    );
    // Only data admins (or system admins) authorize directly.
    let spec = |list, grantees: Vec<Grantee>, perms: &[Perm]| GrantSpec {
        list,
        tables: vec![orders.clone()],
        grantees,
        perms: perms.to_vec(),
        columns: vec![],
    };
    let e = err(c
        .pat
        .set_grants(&spec(GrantList::Public, vec![], &[Perm::Select]))
        .await);
    assert_eq!(
        e.to_string(),
        "only a data admin or a system admin can set whitelists, blacklists or public tables; you are project admin of p"
    );
    let public = c
        .dan
        .set_grants(&spec(GrantList::Public, vec![], &[Perm::Select]))
        .await
        .expect("public");
    assert_eq!(
        check(bob.clone(), None, Perm::Select, vec![]).await.reason,
        "public"
    );
    assert!(!check(bob.clone(), None, Perm::Insert, vec![]).await.allowed);
    // Project whitelist via membership.
    c.dan
        .set_grants(&spec(
            GrantList::Whitelist,
            vec![Grantee::Project("p".into())],
            &[Perm::Insert],
        ))
        .await
        .expect("project whitelist");
    let d = check(bob.clone(), Some("p"), Perm::Insert, vec![]).await;
    assert_eq!(
        (d.allowed, d.reason.as_str()),
        (true, "project whitelist of project p via membership")
    );
    assert!(!check(bob.clone(), None, Perm::Insert, vec![]).await.allowed);
    // User whitelist, column level.
    let mut cols = spec(
        GrantList::Whitelist,
        vec![Grantee::User(bob.clone())],
        &[Perm::Update],
    );
    cols.columns = vec!["status".into()];
    let g = c
        .admin
        .set_grants(&cols)
        .await
        .expect("column grant by system admin");
    assert!(
        !check(bob.clone(), None, Perm::Update, vec![]).await.allowed,
        "whole table not covered"
    );
    let d = check(bob.clone(), None, Perm::Update, vec!["status".into()]).await;
    assert_eq!(
        (d.allowed, d.reason),
        (
            true,
            format!(
                "user whitelist: set by {} (grant #{})",
                env.name("admin"),
                g[0].id
            )
        )
    );
    assert!(
        !check(
            bob.clone(),
            None,
            Perm::Update,
            vec!["status".into(), "amount".into()]
        )
        .await
        .allowed
    );
    // Blacklist beats whitelist and public.
    let bl = c
        .dan
        .set_grants(&spec(
            GrantList::Blacklist,
            vec![Grantee::User(bob.clone())],
            &[Perm::Select, Perm::Update],
        ))
        .await
        .expect("blacklist");
    let d = check(bob.clone(), Some("p"), Perm::Select, vec![]).await;
    assert_eq!(
        (d.allowed, d.reason),
        (false, format!("blacklisted for user {bob}"))
    );
    assert!(
        !check(bob.clone(), None, Perm::Update, vec!["status".into()])
            .await
            .allowed
    );
    assert!(
        check(bob.clone(), Some("p"), Perm::Insert, vec![])
            .await
            .allowed
    );
    c.dan
        .set_grants(&spec(
            GrantList::Blacklist,
            vec![Grantee::Project("p".into())],
            &[Perm::Insert],
        ))
        .await
        .expect("project blacklist");
    let d = check(bob.clone(), Some("p"), Perm::Insert, vec![]).await;
    assert_eq!(
        (d.allowed, d.reason.as_str()),
        (false, "blacklisted for project p")
    );
    // Revoke, list per table.
    c.dan.revoke_grant(bl[0].id).await.expect("revoke");
    assert_eq!(
        check(bob.clone(), None, Perm::Select, vec![]).await.reason,
        "public"
    );
    let listed = c.biz.grants(&orders).await.expect("grants");
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[0].id, public[0].id);
    assert!(matches!(
        err(c.dan.revoke_grant(bl[0].id).await),
        StoreError::NotFound { .. }
    ));
    // Grant from a request names the request.
    let r = c
        .bob
        .request_permission(&req("shop", "refunds", RequestFor::Person, &[Perm::Delete]))
        .await
        .expect("req");
    c.erin.approve(r[0].id, "").await.expect("approve");
    let d = c
        .biz
        .check(
            &bob,
            None,
            &TableRef::new("shop", "refunds"),
            Perm::Delete,
            &[],
        )
        .await
        .expect("check");
    assert_eq!(
        d.reason,
        format!("user whitelist: granted by request #{}", r[0].id)
    );
    // Rules on direct grants.
    let mut bad = spec(
        GrantList::Public,
        vec![Grantee::User(bob.clone())],
        &[Perm::Select],
    );
    assert!(matches!(
        err(c.dan.set_grants(&bad).await),
        StoreError::Invalid {
            field: "grantees",
            ..
        }
    ));
    bad = spec(GrantList::Whitelist, vec![], &[Perm::Select]);
    assert!(matches!(
        err(c.dan.set_grants(&bad).await),
        StoreError::Invalid {
            field: "grantees",
            ..
        }
    ));
    bad = spec(
        GrantList::Whitelist,
        vec![Grantee::Project("p".into())],
        &[Perm::Select],
    );
    bad.columns = vec!["x".into()];
    assert!(matches!(
        err(c.dan.set_grants(&bad).await),
        StoreError::Invalid {
            field: "columns",
            ..
        }
    ));
    bad = spec(
        GrantList::Whitelist,
        vec![Grantee::Project("p".into())],
        &[Perm::Delete],
    );
    bad.tables = vec![TableRef::new("kmain", "clicks")];
    assert!(matches!(
        err(c.dan.set_grants(&bad).await),
        StoreError::Invalid { field: "perms", .. }
    ));
}

async fn batch_grants_are_all_or_nothing(env: Arc<Env>) {
    let c = cast(&env).await;
    let tables = vec![
        TableRef::new("shop", "orders"),
        TableRef::new("shop", "refunds"),
        TableRef::new("kmain", "clicks"),
    ];
    let users = vec![
        Grantee::Project("p".into()),
        Grantee::User(env.name("olga")),
    ];
    let made = c
        .dan
        .set_grants(&GrantSpec {
            list: GrantList::Whitelist,
            tables: tables.clone(),
            grantees: users.clone(),
            perms: vec![Perm::Select],
            columns: vec![],
        })
        .await
        .expect("batch");
    assert_eq!(made.len(), 6);
    let before = env.count("SELECT COUNT(*) FROM grants").await;
    let audit_before = env.count("SELECT COUNT(*) FROM audit").await;
    // The third table is Kafka, where delete is not allowed: nothing of the batch stays.
    let e = err(c
        .dan
        .set_grants(&GrantSpec {
            list: GrantList::Whitelist,
            tables,
            grantees: users,
            perms: vec![Perm::Delete],
            columns: vec![],
        })
        .await);
    assert!(
        matches!(e, StoreError::Invalid { field: "perms", .. }),
        "{e}"
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM grants").await, before);
    assert_eq!(env.count("SELECT COUNT(*) FROM audit").await, audit_before);
    // Unknown table source in a batch: the same.
    let e = err(c
        .dan
        .set_grants(&GrantSpec {
            list: GrantList::Blacklist,
            tables: vec![TableRef::new("shop", "x"), TableRef::new("nope", "y")],
            grantees: vec![Grantee::User(env.name("olga"))],
            perms: vec![Perm::Select],
            columns: vec![],
        })
        .await);
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    assert_eq!(env.count("SELECT COUNT(*) FROM grants").await, before);
}

async fn inbox_one_id_space_oldest_first(env: Arc<Env>) {
    let c = cast(&env).await;
    c.bob.create_topic(&topic("clicks")).await.expect("topic");
    let p1 = c
        .bob
        .request_permission(&req("shop", "orders", RequestFor::Person, &[Perm::Select]))
        .await
        .expect("p1");
    let t1 = c
        .bob
        .publish_topic("clicks", DsEnv::Test, "kmain")
        .await
        .expect("t1");
    let p2 = c
        .olga
        .request_permission(&req("kmain", "clicks", RequestFor::Person, &[Perm::Select]))
        .await
        .expect("p2");
    let inbox = c.dan.inbox().await.expect("inbox");
    let got: Vec<(i64, RequestKind)> = inbox.iter().map(|i| (i.id, i.kind)).collect();
    assert_eq!(
        got,
        [
            (p1[0].id, RequestKind::Permission),
            (t1.id, RequestKind::TopicPublish),
            (p2[0].id, RequestKind::Permission)
        ]
    );
    assert!(p1[0].id < t1.id && t1.id < p2[0].id);
    assert!(
        c.admin
            .inbox()
            .await
            .expect("system admin inbox")
            .is_empty()
    );
    assert!(c.olga.inbox().await.expect("ops inbox").is_empty());
    c.dan.approve(t1.id, "").await.expect("approve");
    assert_eq!(c.erin.inbox().await.expect("inbox").len(), 2);
}

async fn concurrent_approvals_exactly_one_wins(env: Arc<Env>) {
    let c = cast(&env).await;
    let (dan, erin) = (env.name("dan"), env.name("erin"));
    for i in 0..20 {
        let r = c
            .bob
            .request_permission(&req(
                "shop",
                &format!("t{i}"),
                RequestFor::Person,
                &[Perm::Select],
            ))
            .await
            .expect("request");
        let id = r[0].id;
        let (a, b) = tokio::join!(
            c.dan.approve(id, "dan says yes"),
            c.erin.approve(id, "erin says yes")
        );
        let (winner, loser) = match (a, b) {
            (Ok(w), Err(l)) => (w, l),
            (Err(l), Ok(w)) => (w, l),
            (a, b) => panic!("round {i}: expected exactly one winner, got {a:?} and {b:?}"),
        };
        let by = winner.request.decided_by.clone().expect("decided_by");
        assert!(by == dan || by == erin);
        let msg = loser.to_string();
        assert!(
            msg.starts_with(&format!("request #{id} was already approved by {by} at ")),
            "round {i}: {msg}"
        );
        assert!(matches!(
            loser,
            StoreError::Conflict(Conflict::AlreadyDecided { .. })
        ));
    }
    // Exactly one whitelist row per request, one approve audit row per request.
    assert_eq!(
        env.count("SELECT COUNT(*) FROM grants WHERE request_id IS NOT NULL")
            .await,
        20
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM audit WHERE action = 'request.approve'")
            .await,
        20
    );
}

async fn audit_holds_every_write_and_refuses_changes(env: Arc<Env>) {
    let start = env.count("SELECT COUNT(*) FROM audit").await;
    assert_eq!(start, 0);
    let c = cast(&env).await;
    c.bob.create_topic(&topic("clicks")).await.expect("topic");
    let t = c
        .bob
        .publish_topic("clicks", DsEnv::Test, "kmain")
        .await
        .expect("publish");
    c.dan.approve(t.id, "ok").await.expect("approve");
    let r = c
        .bob
        .request_permission(&req(
            "shop",
            "orders",
            RequestFor::Both("p".into()),
            &[Perm::Select],
        ))
        .await
        .expect("req");
    c.dan.reject(r[0].id, "no").await.expect("reject");
    c.bob.withdraw(r[1].id).await.expect("withdraw");
    let g = c
        .dan
        .set_grants(&GrantSpec {
            list: GrantList::Public,
            tables: vec![TableRef::new("shop", "orders")],
            grantees: vec![],
            perms: vec![Perm::Select],
            columns: vec![],
        })
        .await
        .expect("public");
    c.dan.revoke_grant(g[0].id).await.expect("revoke");
    c.admin.archive_project("p").await.expect("archive");
    c.admin.restore_project("p").await.expect("restore");
    c.pat
        .remove_member("p", &env.name("bob"))
        .await
        .expect("remove");
    c.admin
        .set_user_roles(&env.name("biz"), &[])
        .await
        .expect("roles");
    // Failed writes leave nothing.
    let _ = c
        .bob
        .create_topic(&topic("x"))
        .await
        .expect_err("bob left p");
    let _ = c.dan.approve(t.id, "").await.expect_err("decided");

    let audit = c.biz.audit(0).await.expect("audit");
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "store.bootstrap",
            "user.add",
            "user.add",
            "user.add",
            "user.add",
            "user.add",
            "user.add",
            "project.create",
            "member.add",
            "member.add",
            "datasource.add",
            "datasource.add",
            "datasource.add",
            "topic.create",
            "topic.publish",
            "request.approve",
            "permission.request",
            "permission.request",
            "request.reject",
            "request.withdraw",
            "grant.public",
            "grant.revoke",
            "project.archive",
            "project.restore",
            "member.remove",
            "user.set_roles",
        ]
    );
    let admin = env.name("admin");
    assert!(
        audit
            .iter()
            .all(|a| !a.at.is_empty() && !a.actor.is_empty())
    );
    assert_eq!(audit[0].actor, admin);
    let approve = &audit[15];
    assert_eq!(approve.actor, env.name("dan"));
    assert_eq!(approve.object_kind, "request");
    assert_eq!(approve.object_id, t.id.to_string());
    let before: serde_json::Value =
        serde_json::from_str(approve.before_json.as_deref().expect("before")).expect("json");
    let after: serde_json::Value =
        serde_json::from_str(approve.after_json.as_deref().expect("after")).expect("json");
    assert_eq!(
        (before["state"].as_str(), after["state"].as_str()),
        (Some("pending"), Some("approved"))
    );
    let removed = &audit[24];
    assert!(removed.before_json.is_some() && removed.after_json.is_none());
    assert!(
        audit
            .windows(2)
            .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at)
    );
    assert_eq!(c.biz.audit(audit[24].id).await.expect("tail").len(), 1);

    // The database refuses to change or remove audit rows, even for the owner.
    let upd = env.raw_exec("UPDATE audit SET actor = 'mallory'").await;
    assert!(
        upd.as_ref().is_err_and(|e| e.contains("append-only")),
        "{upd:?}"
    );
    let del = env.raw_exec("DELETE FROM audit").await;
    assert!(
        del.as_ref().is_err_and(|e| e.contains("append-only")),
        "{del:?}"
    );
    if env.backend == Backend::Postgres {
        let tr = env.raw_exec("TRUNCATE audit").await;
        assert!(
            tr.as_ref().is_err_and(|e| e.contains("append-only")),
            "{tr:?}"
        );
    }
    assert_eq!(
        env.count("SELECT COUNT(*) FROM audit").await as usize,
        audit.len()
    );
}

/// PostgreSQL: the actor is `session_user`; a passed login is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_actor_is_session_user_not_the_passed_login() {
    common::run(Backend::Postgres, |env| async move {
        let c = cast(&env).await;
        let spoof = env
            .store("bob")
            .await
            .session(&env.name("admin"))
            .await
            .expect("session");
        assert_eq!(spoof.actor(), env.name("bob"));
        let e = err(spoof.create_project("q", "").await);
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
        drop(c);
    })
    .await;
}

/// PostgreSQL: killing the backend mid-transaction (after the first request row was
/// written, while the second waits on a lock) leaves no half-written request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_connection_mid_transaction_leaves_nothing() {
    common::run(Backend::Postgres, |env| async move {
        let c = cast(&env).await;
        let before = env.count("SELECT COUNT(*) FROM requests").await;
        let audit_before = env.count("SELECT COUNT(*) FROM audit").await;
        let raw = env.raw_pg().await;
        let mut locker = raw.begin().await.expect("begin");
        sqlx::query("LOCK TABLE permission_requests IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *locker)
            .await
            .expect("lock");
        let bob = c.bob.clone();
        let pending = tokio::spawn(async move {
            bob.request_permission(&req(
                "shop",
                "orders",
                RequestFor::Both("p".into()),
                &[Perm::Select],
            ))
            .await
        });
        // Wait until bob's transaction has written its first row and blocks.
        let role = env.name("bob");
        let mut pid = None;
        for _ in 0..200 {
            let row: Option<(i32,)> = sqlx::query_as(
                "SELECT pid FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'",
            )
            .bind(&role)
            .fetch_optional(&raw)
            .await
            .expect("activity");
            if let Some((p,)) = row {
                pid = Some(p);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let pid = pid.expect("bob's transaction never blocked");
        let (killed,): (bool,) = sqlx::query_as("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&raw)
            .await
            .expect("terminate");
        assert!(killed);
        let result = pending.await.expect("task");
        assert!(matches!(result, Err(StoreError::Db(_))), "{result:?}");
        locker.rollback().await.expect("unlock");
        raw.close().await;
        assert_eq!(env.count("SELECT COUNT(*) FROM requests").await, before);
        assert_eq!(
            env.count("SELECT COUNT(*) FROM permission_requests").await,
            0
        );
        assert_eq!(env.count("SELECT COUNT(*) FROM audit").await, audit_before);
        // The pool recovers and the same request goes through.
        let made = c
            .bob
            .request_permission(&req(
                "shop",
                "orders",
                RequestFor::Both("p".into()),
                &[Perm::Select],
            ))
            .await
            .expect("retry");
        assert_eq!(made.len(), 2);
    })
    .await;
}

/// SQLite: a failure after the first of two request rows rolls back the whole request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failure_mid_transaction_leaves_nothing() {
    common::run(Backend::Sqlite, |env| async move {
        let c = cast(&env).await;
        env.raw_exec(
            "CREATE TRIGGER fail_second BEFORE INSERT ON permission_requests \
             WHEN (SELECT COUNT(*) FROM permission_requests) >= 1 \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        )
        .await
        .expect("trigger");
        let before = env.count("SELECT COUNT(*) FROM requests").await;
        let audit_before = env.count("SELECT COUNT(*) FROM audit").await;
        let r = c
            .bob
            .request_permission(&req(
                "shop",
                "orders",
                RequestFor::Both("p".into()),
                &[Perm::Select],
            ))
            .await;
        assert!(
            matches!(&r, Err(StoreError::Db(e)) if e.to_string().contains("injected failure")),
            "{r:?}"
        );
        assert_eq!(env.count("SELECT COUNT(*) FROM requests").await, before);
        assert_eq!(
            env.count("SELECT COUNT(*) FROM permission_requests").await,
            0
        );
        assert_eq!(env.count("SELECT COUNT(*) FROM audit").await, audit_before);
    })
    .await;
}
