//! Identity, roles, projects, data sources and topics, on SQLite and PostgreSQL.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{Env, cast, ds, err, topic};
use weir_store::{
    Backend, Conflict, DataSourceKind, Effect, Env as DsEnv, GlobalRole, ProjectRole, RequestState,
    StoreError, TopicState, check_topic_name,
};

both!(
    first_actor_becomes_system_admin,
    two_first_users_at_once_one_wins,
    users_need_a_system_admin,
    projects_and_members,
    archive_makes_a_project_read_only,
    data_sources_crud_and_rules,
    topic_lifecycle_test_and_prod,
    topic_rules_and_errors,
);

async fn first_actor_becomes_system_admin(env: Arc<Env>) {
    let first = env.as_("alice").await;
    let me = first.whoami().await.expect("whoami");
    assert_eq!(me.login, env.name("alice"));
    assert_eq!(me.global, vec![GlobalRole::SystemAdmin]);
    let second = env.as_("bob").await;
    let me = second.whoami().await.expect("whoami");
    assert!(!me.registered && me.global.is_empty());
    assert_eq!(
        env.count("SELECT COUNT(*) FROM audit WHERE action = 'store.bootstrap'")
            .await,
        1
    );
}

async fn two_first_users_at_once_one_wins(env: Arc<Env>) {
    let (a, b) = (env.store("alice").await, env.store("bob").await);
    let (na, nb) = (env.name("alice"), env.name("bob"));
    let (ra, rb) = tokio::join!(a.session(&na), b.session(&nb));
    let (ra, rb) = (ra.expect("alice"), rb.expect("bob"));
    let admins = [ra.whoami().await.expect("a"), rb.whoami().await.expect("b")]
        .into_iter()
        .filter(|r| r.has(GlobalRole::SystemAdmin))
        .count();
    assert_eq!(admins, 1);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM user_roles WHERE role = 'system_admin'")
            .await,
        1
    );
}

async fn users_need_a_system_admin(env: Arc<Env>) {
    let c = cast(&env).await;
    let e = err(c.bob.add_user("zed", "", &[]).await);
    assert_eq!(
        e.to_string(),
        format!("only a system admin can add users; you are developer of p")
    );
    let e = err(c.admin.add_user(&env.name("bob"), "", &[]).await);
    assert!(
        matches!(e, StoreError::Conflict(Conflict::Exists { .. })),
        "{e}"
    );
    let e = err(c.admin.add_user("bad login!", "", &[]).await);
    assert!(
        e.to_string()
            .starts_with("login: `bad login!` is not a valid login"),
        "{e}"
    );
    let u = c
        .admin
        .set_user_roles(&env.name("olga"), &[GlobalRole::Ops, GlobalRole::Business])
        .await
        .expect("set roles");
    assert_eq!(u.roles, vec![GlobalRole::Ops, GlobalRole::Business]);
    let e = err(c.admin.set_user_roles(&env.name("admin"), &[]).await);
    assert!(
        e.to_string()
            .contains("cannot remove your own system admin role"),
        "{e}"
    );
    let e = err(c.admin.user("bobb").await);
    if env.backend == Backend::Sqlite {
        assert_eq!(e.to_string(), "no user named `bobb`; did you mean `bob`?");
    }
    assert_eq!(c.admin.users().await.expect("users").len(), 7);
    // An unregistered user is told to get registered.
    let stranger = env.as_("stranger").await;
    let e = err(stranger.create_project("q", "").await);
    assert!(e.to_string().contains("not a registered user"), "{e}");
}

async fn projects_and_members(env: Arc<Env>) {
    let c = cast(&env).await;
    let e = err(c.dan.create_project("q", "").await);
    assert_eq!(
        e.to_string(),
        "only a system admin can create a project; you are data admin"
    );
    let e = err(c.admin.create_project("p", "").await);
    assert_eq!(
        e.to_string(),
        "a project named `p` exists already; choose another name"
    );
    let e = err(c.admin.create_project("9lives", "").await);
    assert!(
        e.to_string().contains("does not start with a letter"),
        "{e}"
    );
    c.admin.create_project("q", "second").await.expect("q");
    let names: Vec<String> = c
        .bob
        .projects()
        .await
        .expect("list")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["p", "q"]);
    let e = err(c.bob.project("pp").await);
    assert_eq!(e.to_string(), "no project named `pp`; did you mean `p`?");

    // A developer cannot manage members; the project admin can.
    let e = err(c
        .bob
        .add_member("p", &env.name("olga"), ProjectRole::Developer)
        .await);
    assert_eq!(
        e.to_string(),
        "only a project admin of project p or a system admin can add project members; you are developer of p"
    );
    let e = err(c
        .pat
        .add_member("q", &env.name("olga"), ProjectRole::Developer)
        .await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    c.pat
        .add_member("p", &env.name("olga"), ProjectRole::Developer)
        .await
        .expect("olga joins");
    c.pat
        .add_member("p", &env.name("olga"), ProjectRole::ProjectAdmin)
        .await
        .expect("role change");
    let members = c.biz.members("p").await.expect("members");
    let roles: Vec<(String, ProjectRole)> =
        members.into_iter().map(|m| (m.login, m.role)).collect();
    let mut want = vec![
        (env.name("bob"), ProjectRole::Developer),
        (env.name("olga"), ProjectRole::ProjectAdmin),
        (env.name("pat"), ProjectRole::ProjectAdmin),
    ];
    want.sort();
    assert_eq!(roles, want);
    c.pat
        .remove_member("p", &env.name("olga"))
        .await
        .expect("remove");
    let e = err(c.pat.remove_member("p", &env.name("olga")).await);
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    let e = err(c
        .pat
        .add_member("p", "nobody", ProjectRole::Developer)
        .await);
    assert!(e.to_string().starts_with("no user named `nobody`"), "{e}");
}

async fn archive_makes_a_project_read_only(env: Arc<Env>) {
    let c = cast(&env).await;
    c.bob.create_topic(&topic("clicks")).await.expect("topic");
    let e = err(c.bob.archive_project("p").await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    let effects = c.pat.archive_project("p").await.expect("archive");
    assert!(effects.project.archived);
    assert_eq!(
        effects.project.archived_by.as_deref(),
        Some(env.name("pat").as_str())
    );
    assert!(effects.instances_to_stop.is_empty());
    let archived = "project p is archived; a system admin can restore it";
    assert_eq!(
        err(c.bob.create_topic(&topic("views")).await).to_string(),
        archived
    );
    assert_eq!(
        err(c.bob.update_topic("clicks", &topic("clicks")).await).to_string(),
        archived
    );
    assert_eq!(
        err(c.bob.publish_topic("clicks", DsEnv::Test, "kmain").await).to_string(),
        archived
    );
    assert_eq!(
        err(c
            .admin
            .add_member("p", &env.name("olga"), ProjectRole::Developer)
            .await)
        .to_string(),
        archived
    );
    assert_eq!(err(c.pat.archive_project("p").await).to_string(), archived);
    // Reads still work.
    assert_eq!(
        c.bob.topic("clicks").await.expect("read").state,
        TopicState::Design
    );
    let e = err(c.pat.restore_project("p").await);
    assert_eq!(
        e.to_string(),
        "only a system admin can restore a project; you are project admin of p"
    );
    let p = c.admin.restore_project("p").await.expect("restore");
    assert!(!p.archived && p.archived_by.is_none());
    let e = err(c.admin.restore_project("p").await);
    assert_eq!(e.to_string(), "project p is not archived");
    c.bob
        .create_topic(&topic("views"))
        .await
        .expect("writable again");
}

async fn data_sources_crud_and_rules(env: Arc<Env>) {
    let c = cast(&env).await;
    let e = err(c
        .bob
        .add_data_source(&ds("x1", DataSourceKind::Redis, DsEnv::Test))
        .await);
    assert_eq!(
        e.to_string(),
        "only a data admin or a system admin can add data sources; you are developer of p"
    );
    let mut spec = ds("cache", DataSourceKind::Redis, DsEnv::Test);
    spec.password = Some("hunter2".into());
    let e = err(c.dan.add_data_source(&spec).await);
    assert!(!e.to_string().contains("hunter2"), "secret leaked: {e}");
    assert!(
        e.to_string()
            .starts_with("password: the value is neither an env: nor a file: reference"),
        "{e}"
    );
    spec.password = Some("env:9X".into());
    assert!(
        err(c.dan.add_data_source(&spec).await)
            .to_string()
            .contains("not an environment variable name")
    );
    spec.password = Some("file:redis.pw".into());
    spec.prod = ds("x", DataSourceKind::Redis, DsEnv::Prod).prod;
    let e = err(c.dan.add_data_source(&spec).await);
    assert!(
        e.to_string()
            .starts_with("prod address: the environment is test, which has no prod address"),
        "{e}"
    );
    spec.prod = None;
    spec.test = None;
    let e = err(c.dan.add_data_source(&spec).await);
    assert!(
        e.to_string()
            .starts_with("test address: the environment is test but no test address is given"),
        "{e}"
    );
    spec.test = ds("x", DataSourceKind::Redis, DsEnv::Test).test;
    spec.owner_project = Some("p".into());
    let added = c
        .admin
        .add_data_source(&spec)
        .await
        .expect("system admin may add");
    assert_eq!(
        added.password,
        Some(weir_store::SecretRef::File("redis.pw".into()))
    );
    assert_eq!(added.owner_project.as_deref(), Some("p"));
    assert_eq!(
        added
            .test
            .as_ref()
            .map(|t| t.options["timeout_ms"].as_i64()),
        Some(Some(500))
    );
    let e = err(c.dan.add_data_source(&spec).await);
    assert_eq!(
        e.to_string(),
        "a data source named `cache` exists already; choose another name"
    );

    // Lookups that miss suggest the closest name.
    let e = err(c.bob.data_source("kmian").await);
    assert_eq!(
        e.to_string(),
        "no data source named `kmian`; did you mean `kmain`?"
    );
    let e = err(c.bob.data_source("zzzzzz").await);
    assert_eq!(e.to_string(), "no data source named `zzzzzz`");

    // Update (rename, change env), list, delete.
    let mut up = ds("cache2", DataSourceKind::Redis, DsEnv::Both);
    up.description = "renamed".into();
    let after = c
        .dan
        .update_data_source("cache", &up)
        .await
        .expect("update");
    assert_eq!(
        (after.name.as_str(), after.env, after.id),
        ("cache2", DsEnv::Both, added.id)
    );
    assert!(after.owner_project.is_none());
    let names: Vec<String> = c
        .biz
        .data_sources()
        .await
        .expect("list")
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["cache2", "kmain", "ktest", "shop"]);
    let e = err(c.bob.delete_data_source("cache2").await);
    assert!(matches!(e, StoreError::Forbidden { .. }));
    c.dan.delete_data_source("cache2").await.expect("delete");
    assert!(matches!(
        err(c.dan.data_source("cache2").await),
        StoreError::NotFound { .. }
    ));

    // A data source in use cannot be deleted.
    c.bob.create_topic(&topic("clicks")).await.expect("topic");
    c.bob
        .publish_topic("clicks", DsEnv::Test, "ktest")
        .await
        .expect("publish");
    let e = err(c.dan.delete_data_source("ktest").await);
    assert_eq!(
        e.to_string(),
        "data source ktest is used by 1 topics, requests or grants; remove those first"
    );
    let kinds = weir_store::parse_kind("ks3").expect("ks3 is s3");
    assert_eq!(kinds, DataSourceKind::S3);
    assert!(weir_store::parse_kind("mongo").is_err());
}

async fn topic_lifecycle_test_and_prod(env: Arc<Env>) {
    let c = cast(&env).await;
    let t = c.bob.create_topic(&topic("clicks")).await.expect("create");
    assert_eq!(t.state, TopicState::Design);

    let e = err(c.bob.publish_topic("clicks", DsEnv::Test, "shop").await);
    assert_eq!(
        e.to_string(),
        "datasource: shop is a mysql data source; choose a kafka data source"
    );
    let e = err(c.bob.publish_topic("clicks", DsEnv::Prod, "kmain").await);
    assert_eq!(
        e.to_string(),
        "topic clicks is design; publishing to prod needs it in test"
    );
    let e = err(c.biz.publish_topic("clicks", DsEnv::Test, "kmain").await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");

    let r = c
        .bob
        .publish_topic("clicks", DsEnv::Test, "ktest")
        .await
        .expect("publish");
    assert_eq!(r.summary, "publish topic clicks to test on ktest");
    assert_eq!(
        c.bob.topic("clicks").await.expect("t").state,
        TopicState::PendingTest
    );
    let e = err(c.bob.update_topic("clicks", &topic("clicks")).await);
    assert_eq!(
        e.to_string(),
        "topic clicks is pending_test; only a topic in design can be edited"
    );

    // Only a data admin decides; a rejection needs an opinion and goes back to design.
    let e = err(c.pat.approve(r.id, "").await);
    assert_eq!(
        e.to_string(),
        "only a data admin can approve; you are project admin of p"
    );
    let e = err(c.dan.reject(r.id, "  ").await);
    assert!(
        e.to_string()
            .starts_with("opinion: a rejection needs a reason")
    );
    assert_eq!(
        c.dan
            .inbox()
            .await
            .expect("inbox")
            .iter()
            .map(|i| i.id)
            .collect::<Vec<_>>(),
        [r.id]
    );
    assert!(c.bob.inbox().await.expect("bob inbox").is_empty());
    let d = c
        .dan
        .reject(r.id, "fields need comments")
        .await
        .expect("reject");
    assert_eq!(d.request.state, RequestState::Rejected);
    assert_eq!(d.effect, Effect::None);
    let t = c.bob.topic("clicks").await.expect("t");
    assert_eq!(
        (t.state, t.last_opinion.as_deref()),
        (TopicState::Design, Some("fields need comments"))
    );

    // Edit, publish again, approve: the app gets what to create.
    let mut spec = topic("clicks");
    spec.partitions = 4;
    c.bob
        .update_topic("clicks", &spec)
        .await
        .expect("edit in design");
    let r = c
        .bob
        .publish_topic("clicks", DsEnv::Test, "ktest")
        .await
        .expect("publish");
    let e = err(c.dan.approve(r.id - 1, "").await);
    assert!(
        matches!(e, StoreError::Conflict(Conflict::AlreadyDecided { .. })),
        "{e}"
    );
    let d = c.dan.approve(r.id, "ok").await.expect("approve");
    let Effect::CreateTopic(create) = d.effect else {
        panic!("expected CreateTopic, got {:?}", d.effect)
    };
    assert_eq!(create.env, DsEnv::Test);
    assert_eq!(create.partitions, 4);
    assert_eq!(create.datasource.name, "ktest");
    assert_eq!(create.topic.state, TopicState::Test);
    assert_eq!(create.topic.test_datasource.as_deref(), Some("ktest"));
    assert_eq!(
        d.request.decided_by.as_deref(),
        Some(env.name("dan").as_str())
    );
    assert_eq!(d.request.opinion.as_deref(), Some("ok"));

    // To prod: needs a source serving prod; rejection returns to test.
    let e = err(c.bob.publish_topic("clicks", DsEnv::Prod, "ktest").await);
    assert_eq!(
        e.to_string(),
        "datasource: ktest serves test only; choose a kafka data source for prod"
    );
    let r = c
        .bob
        .publish_topic("clicks", DsEnv::Prod, "kmain")
        .await
        .expect("publish prod");
    assert_eq!(
        c.bob.topic("clicks").await.expect("t").state,
        TopicState::PendingProd
    );
    c.erin
        .reject(r.id, "retention too short for prod")
        .await
        .expect("reject prod");
    assert_eq!(
        c.bob.topic("clicks").await.expect("t").state,
        TopicState::Test
    );
    // Withdraw returns the topic too.
    let r = c
        .bob
        .publish_topic("clicks", DsEnv::Prod, "kmain")
        .await
        .expect("again");
    let e = err(c.pat.withdraw(r.id).await);
    assert!(
        e.to_string().contains("only the requester can withdraw it"),
        "{e}"
    );
    c.bob.withdraw(r.id).await.expect("withdraw");
    assert_eq!(
        c.bob.topic("clicks").await.expect("t").state,
        TopicState::Test
    );
    let r = c
        .bob
        .publish_topic("clicks", DsEnv::Prod, "kmain")
        .await
        .expect("again");
    let d = c.erin.approve(r.id, "").await.expect("approve prod");
    let Effect::CreateTopic(create) = d.effect else {
        panic!("expected CreateTopic")
    };
    assert_eq!(
        (create.env, create.datasource.name.as_str()),
        (DsEnv::Prod, "kmain")
    );
    let t = c.bob.topic("clicks").await.expect("t");
    assert_eq!(t.state, TopicState::Prod);
    assert_eq!(t.prod_datasource.as_deref(), Some("kmain"));
    let e = err(c.bob.delete_topic("clicks").await);
    assert_eq!(
        e.to_string(),
        "topic clicks is prod; only a topic in design can be deleted"
    );
    assert_eq!(c.dan.decided_by_me().await.expect("mine").len(), 2);
}

async fn topic_rules_and_errors(env: Arc<Env>) {
    let c = cast(&env).await;
    let mut spec = topic("c");
    assert_eq!(
        err(c.bob.create_topic(&spec).await).to_string(),
        "topic name: `c` is too short (1 characters, at least 2); use 2 to 35 letters, digits or `_`, starting with a letter"
    );
    spec.name = "clicks".into();
    spec.partitions = 0;
    assert!(
        err(c.bob.create_topic(&spec).await)
            .to_string()
            .starts_with("partitions: 0 partitions")
    );
    spec.partitions = 2;
    spec.fields[1].name = "url".into();
    assert!(
        err(c.bob.create_topic(&spec).await)
            .to_string()
            .contains("field `url` appears twice")
    );
    spec.fields.pop();
    spec.project = "nope".into();
    assert!(matches!(
        err(c.bob.create_topic(&spec).await),
        StoreError::NotFound { .. }
    ));
    spec.project = "p".into();
    let e = err(c.olga.create_topic(&spec).await);
    assert_eq!(
        e.to_string(),
        "only a project admin of project p or a developer of project p can create topics; you are ops"
    );
    c.pat
        .create_topic(&spec)
        .await
        .expect("project admin creates");
    assert_eq!(
        err(c.bob.create_topic(&spec).await).to_string(),
        "a topic named `clicks` exists already; choose another name"
    );
    assert_eq!(
        err(c.bob.topic("clikcs").await).to_string(),
        "no topic named `clikcs`; did you mean `clicks`?"
    );
    let mut moved = spec.clone();
    moved.project = "q".into();
    assert!(
        err(c.bob.update_topic("clicks", &moved).await)
            .to_string()
            .contains("cannot move")
    );
    assert_eq!(c.biz.topics(Some("p")).await.expect("list").len(), 1);
    c.bob
        .delete_topic("clicks")
        .await
        .expect("delete in design");
    assert!(c.biz.topics(None).await.expect("list").is_empty());
}

#[test]
fn topic_name_errors_name_the_failing_part() {
    let msg = |n: &str| {
        check_topic_name(n)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(check_topic_name("ab").is_ok());
    assert!(check_topic_name("Click_Stream_2").is_ok());
    assert!(check_topic_name(&"a".repeat(35)).is_ok());
    assert!(msg("a").contains("too short (1 characters, at least 2)"));
    assert!(msg(&"a".repeat(36)).contains("too long (36 characters, at most 35)"));
    assert!(msg("1abc").contains("starts with a digit"));
    assert!(msg("_abc").contains("starts with `_`"));
    assert!(msg("ab-c").contains("has `-` at position 3"));
    assert!(msg("ab c").contains("has ` ` at position 3"));
    assert!(msg("ab.c").contains("only letters, digits and `_` are allowed"));
}
