//! PostgreSQL enforces weir's rules itself (migration 6): a person's login role, used in
//! `psql` with plain SQL, can do nothing weir would refuse. Every probe runs as a real
//! login role of the test's cast, must be refused, and must leave every table of the
//! store exactly as it was. The legitimate paths are the rest of the suite, which acts
//! as the same kind of login roles.
//!
//! Long because each probe is spelled out as the SQL a person would type in `psql`, next
//! to what it attacks; the cases share one scene built through weir.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{Cast, Env, cast, topic};
use sqlx::PgPool;
use weir_store::{
    Backend, GoLiveSpec, NewVersion, Perm, PermissionRequestSpec, ProjectRole, RequestFor,
    StartPosition, Store, StoreError, TableRef, Validation,
};

/// Every table of the store, in the order a snapshot lists them.
const TABLES: &[&str] = &[
    "weir_schema",
    "bootstrap",
    "users",
    "user_roles",
    "projects",
    "project_members",
    "data_sources",
    "topics",
    "requests",
    "topic_publications",
    "permission_requests",
    "grants",
    "audit",
    "jobs",
    "job_locks",
    "job_versions",
    "releases",
    "instances",
    "workers",
    "instance_metrics",
    "instance_logs",
    "alert_rules",
    "alerts",
];

/// The whole store as text, read as the superuser: equal snapshots, unchanged store.
async fn snapshot(env: &Env) -> Vec<String> {
    let pool = env.raw_pg().await;
    let mut out = Vec::new();
    for t in TABLES {
        let sql = format!(
            "SELECT COALESCE(string_agg(CAST(x AS TEXT), E'\\n' ORDER BY CAST(x AS TEXT)), '') \
             FROM {t} x"
        );
        let (rows,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .unwrap();
        out.push(format!("{t}:\n{rows}"));
    }
    pool.close().await;
    out
}

/// A pool connected as `login`'s own role, as a person in `psql` would be.
async fn psql(env: &Env, login: &str) -> PgPool {
    let db = env.pg().expect("a PostgreSQL environment");
    PgPool::connect(&db.url_as(&env.name(login))).await.unwrap()
}

/// Runs `sql` as `who`: it must fail (a rule's refusal, WR001, or a missing privilege,
/// 42501) and leave the store unchanged. Returns the refusal as weir shows it.
async fn refused(env: &Env, who: &PgPool, what: &str, sql: &str) -> String {
    let before = snapshot(env).await;
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(who)
        .await;
    let after = snapshot(env).await;
    let Err(e) = result else {
        panic!("probe `{what}` was allowed: {sql}");
    };
    let code = match &e {
        sqlx::Error::Database(d) => d.code().map(|c| c.to_string()).unwrap_or_default(),
        other => panic!("probe `{what}` failed, but not by a refusal: {other}"),
    };
    assert!(
        code == "WR001" || code == "42501",
        "probe `{what}` failed with {code}, not a refusal: {e}"
    );
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a, "probe `{what}` changed the store");
    }
    StoreError::from(e).to_string()
}

fn version(text: &str, hash: char) -> NewVersion {
    NewVersion {
        text: text.to_string(),
        hash: hash.to_string().repeat(64),
        message: "change".into(),
        validation: Validation {
            passed: true,
            report: "[]".into(),
        },
        test: None,
    }
}

fn go_live_spec() -> GoLiveSpec {
    GoLiveSpec {
        parallelism: 1,
        memory_mib: 256,
        start: StartPosition::Latest,
        params: serde_json::json!({}),
    }
}

/// What the probes aim at, made through weir as the cast would.
struct Scene {
    c: Cast,
    /// bob's pending publication of topic `clicks` to test.
    bob_publication: i64,
    /// erin (data admin and developer of p) published `views`: her own request.
    erin_publication: i64,
    /// bob's permission request, approved by dan.
    decided_permission: i64,
    /// A release of p/j@1, approved by admin, not live.
    approved_release: i64,
    /// p/j@2's release request, pending, by admin (a system admin who is also a developer).
    admin_release: i64,
    /// A live release of p/k and its production instance.
    live_release: i64,
    prod_instance: i64,
}

async fn scene(env: &Env) -> Scene {
    let c = cast(env).await;
    let (admin, erin) = (env.name("admin"), env.name("erin"));
    c.admin
        .add_member("p", &erin, ProjectRole::Developer)
        .await
        .unwrap();
    c.admin
        .add_member("p", &admin, ProjectRole::Developer)
        .await
        .unwrap();
    let erin_s = env.as_("erin").await;
    c.bob.create_topic(&topic("clicks")).await.unwrap();
    let bob_publication = c
        .bob
        .publish_topic("clicks", weir_store::Env::Test, "kmain")
        .await
        .unwrap()
        .id;
    erin_s.create_topic(&topic("views")).await.unwrap();
    let erin_publication = erin_s
        .publish_topic("views", weir_store::Env::Test, "kmain")
        .await
        .unwrap()
        .id;
    let asked = c
        .bob
        .request_permission(&PermissionRequestSpec {
            target: TableRef::new("shop", "orders"),
            for_whom: RequestFor::Person,
            perms: vec![Perm::Select],
            columns: Vec::new(),
            reason: "daily report".into(),
        })
        .await
        .unwrap();
    let decided_permission = asked[0].id;
    c.dan.approve(decided_permission, "ok").await.unwrap();
    c.bob
        .submit_version("p/j", &version("one", 'a'))
        .await
        .unwrap();
    c.bob
        .submit_version("p/j", &version("two", 'b'))
        .await
        .unwrap();
    let approved_release = c.bob.request_release("p/j", 1, "first").await.unwrap().id;
    c.admin.approve(approved_release, "ok").await.unwrap();
    c.admin.take_over_lock("p/j").await.unwrap();
    let admin_release = c.admin.request_release("p/j", 2, "mine").await.unwrap().id;
    c.bob
        .submit_version("p/k", &version("kay", 'c'))
        .await
        .unwrap();
    let live_release = c.bob.request_release("p/k", 1, "k").await.unwrap().id;
    c.admin.approve(live_release, "ok").await.unwrap();
    let went = c.bob.go_live(live_release, &go_live_spec()).await.unwrap();
    Scene {
        c,
        bob_publication,
        erin_publication,
        decided_permission,
        approved_release,
        admin_release,
        live_release,
        prod_instance: went.instance.id,
    }
}

async fn the_issue_probes_are_refused_and_change_nothing(env: Arc<Env>) {
    let s = scene(&env).await;
    let (admin, bob) = (env.name("admin"), env.name("bob"));
    let as_bob = psql(&env, "bob").await;

    // A developer makes himself a system admin.
    let why = refused(
        &env,
        &as_bob,
        "system admin by INSERT",
        &format!("INSERT INTO user_roles (login, role) VALUES ('{bob}', 'system_admin')"),
    )
    .await;
    assert!(
        why.contains("only a system admin can change roles") && why.contains("developer of p"),
        "{why}"
    );
    // An audit row "by" someone else.
    let why = refused(
        &env,
        &as_bob,
        "forged audit actor",
        &format!(
            "INSERT INTO audit (at, actor, action, object_kind, object_id) \
             VALUES ('2026-01-01T00:00:00.000Z', '{admin}', 'user.add', 'user', '{bob}')"
        ),
    )
    .await;
    assert!(why.contains("an audit row names who wrote it"), "{why}");
    // Someone else's user row.
    refused(
        &env,
        &as_bob,
        "UPDATE users of another",
        &format!("UPDATE users SET display_name = 'pwned' WHERE login = '{admin}'"),
    )
    .await;
    // The requester of a request, to approve one's own.
    let as_erin = psql(&env, "erin").await;
    let why = refused(
        &env,
        &as_erin,
        "UPDATE requests SET requester",
        &format!(
            "UPDATE requests SET requester = '{bob}' WHERE id = {}",
            s.erin_publication
        ),
    )
    .await;
    assert!(why.contains("requester"), "{why}");
    let why = refused(
        &env,
        &as_erin,
        "self-approval by UPDATE",
        &format!(
            "UPDATE requests SET state = 'approved', decided_by = CAST(session_user AS TEXT), \
             decided_at = '2026-01-01T00:00:00.000Z' WHERE id = {}",
            s.erin_publication
        ),
    )
    .await;
    assert!(why.contains("is your own"), "{why}");
    // The same through weir is refused too, before the database is asked.
    let e = env
        .as_("erin")
        .await
        .approve(s.erin_publication, "")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotAllowed(_)), "{e:?}");
    as_bob.close().await;
    as_erin.close().await;
}

async fn requests_and_decisions_stay_as_decided(env: Arc<Env>) {
    let s = scene(&env).await;
    let as_bob = psql(&env, "bob").await;
    let as_dan = psql(&env, "dan").await;
    let as_admin = psql(&env, "admin").await;
    refused(&env, &as_bob, "DELETE requests", "DELETE FROM requests").await;
    refused(
        &env,
        &as_bob,
        "bob approves his own publication",
        &format!(
            "UPDATE requests SET state = 'approved', decided_by = CAST(session_user AS TEXT), \
             decided_at = 'x' WHERE id = {}",
            s.bob_publication
        ),
    )
    .await;
    let why = refused(
        &env,
        &as_dan,
        "a decision rewritten afterwards",
        &format!(
            "UPDATE requests SET opinion = 'never mind', state = 'rejected' WHERE id = {}",
            s.decided_permission
        ),
    )
    .await;
    assert!(why.contains("was already approved"), "{why}");
    let why = refused(
        &env,
        &as_dan,
        "a decision without its effect (the topic stays pending)",
        &format!(
            "UPDATE requests SET state = 'approved', decided_by = CAST(session_user AS TEXT), \
             decided_at = 'x' WHERE id = {}",
            s.bob_publication
        ),
    )
    .await;
    assert!(why.contains("what goes with it is missing"), "{why}");
    refused(
        &env,
        &as_dan,
        "a decision in someone else's name",
        &format!(
            "UPDATE requests SET state = 'approved', decided_by = 'someone', decided_at = 'x' \
             WHERE id = {}",
            s.bob_publication
        ),
    )
    .await;
    refused(
        &env,
        &as_admin,
        "a system admin approves his own release by UPDATE",
        &format!(
            "UPDATE requests SET state = 'approved', decided_by = CAST(session_user AS TEXT), \
             decided_at = 'x' WHERE id = {}",
            s.admin_release
        ),
    )
    .await;
    refused(
        &env,
        &as_dan,
        "a release approved by a data admin",
        &format!(
            "UPDATE requests SET state = 'approved', decided_by = CAST(session_user AS TEXT), \
             decided_at = 'x' WHERE id = {}",
            s.admin_release
        ),
    )
    .await;
    refused(
        &env,
        &as_bob,
        "a request born approved",
        "INSERT INTO requests (kind, state, requester, project_id, created_at) \
         SELECT 'release', 'approved', CAST(session_user AS TEXT), id, 'x' FROM projects",
    )
    .await;
    refused(
        &env,
        &as_bob,
        "a request in someone else's name",
        "INSERT INTO requests (kind, state, requester, project_id, created_at) \
         SELECT 'topic_publish', 'pending', 'someone', id, 'x' FROM projects",
    )
    .await;
    // Topics move only with their publication request.
    refused(
        &env,
        &as_bob,
        "topic jumps to prod",
        "UPDATE topics SET state = 'prod' WHERE name = 'clicks'",
    )
    .await;
    refused(
        &env,
        &as_dan,
        "topic approved without its request",
        "UPDATE topics SET state = 'test' WHERE name = 'clicks'",
    )
    .await;
    refused(
        &env,
        &as_bob,
        "topic created already in prod",
        "INSERT INTO topics (name, project_id, display_name, format, partitions, lifecycle_days, \
         description, fields, state, created_by, created_at, updated_at) SELECT 'x', id, 'x', \
         'json', 1, 1, '', '[]', 'prod', CAST(session_user AS TEXT), 'x', 'x' FROM projects",
    )
    .await;
    // Grants: only data and system admins, in their own name.
    refused(
        &env,
        &as_bob,
        "bob whitelists himself",
        "INSERT INTO grants (list, datasource_id, table_name, grantee_kind, login, perms, \
         columns, granted_by, granted_at) SELECT 'whitelist', id, 'orders', 'user', \
         CAST(session_user AS TEXT), 'select,delete', '[]', CAST(session_user AS TEXT), 'x' \
         FROM data_sources WHERE name = 'shop'",
    )
    .await;
    refused(&env, &as_bob, "bob deletes grants", "DELETE FROM grants").await;
    refused(
        &env,
        &as_dan,
        "a grant widened afterwards",
        "UPDATE grants SET perms = 'select,insert,update,delete'",
    )
    .await;
    refused(
        &env,
        &as_bob,
        "a data source rewritten",
        "UPDATE data_sources SET password_ref = 'env:WEIR_SECRET_MINE'",
    )
    .await;
    for pool in [as_bob, as_dan, as_admin] {
        pool.close().await;
    }
}

async fn roles_members_and_the_audit_log_hold(env: Arc<Env>) {
    let s = scene(&env).await;
    let (bob, biz) = (env.name("bob"), env.name("biz"));
    let as_bob = psql(&env, "bob").await;
    let as_biz = psql(&env, "biz").await;
    let as_pat = psql(&env, "pat").await;
    refused(
        &env,
        &as_biz,
        "biz joins project p",
        &format!(
            "INSERT INTO project_members (project_id, login, role, added_by, added_at) \
             SELECT id, '{biz}', 'developer', '{biz}', 'x' FROM projects WHERE name = 'p'"
        ),
    )
    .await;
    refused(
        &env,
        &as_bob,
        "bob promotes himself",
        &format!("UPDATE project_members SET role = 'project_admin' WHERE login = '{bob}'"),
    )
    .await;
    refused(
        &env,
        &as_pat,
        "a project admin adds a user",
        "INSERT INTO users (login, display_name, created_by, created_at) \
         VALUES ('ghost', 'g', CAST(session_user AS TEXT), 'x')",
    )
    .await;
    refused(
        &env,
        &as_pat,
        "a project's description rewritten",
        "UPDATE projects SET description = 'mine'",
    )
    .await;
    refused(&env, &as_bob, "bob archives p", "UPDATE projects SET archived = TRUE, archived_by = CAST(session_user AS TEXT), archived_at = 'x'").await;
    refused(
        &env,
        &as_bob,
        "bootstrap taken over",
        "UPDATE bootstrap SET login = CAST(session_user AS TEXT)",
    )
    .await;
    refused(&env, &as_bob, "bootstrap removed", "DELETE FROM bootstrap").await;
    refused(&env, &as_bob, "audit deleted", "DELETE FROM audit").await;
    refused(&env, &as_bob, "audit truncated", "TRUNCATE audit").await;
    refused(
        &env,
        &as_bob,
        "audit rewritten",
        "UPDATE audit SET actor = 'x'",
    )
    .await;
    refused(
        &env,
        &as_bob,
        "schema version forged",
        "INSERT INTO weir_schema VALUES (99, 'x', 'x')",
    )
    .await;
    // A temporary table cannot stand in for the rules' own reads.
    let mut conn = as_bob.acquire().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TEMP TABLE user_roles (login TEXT, role TEXT); \
         INSERT INTO user_roles VALUES ('{bob}', 'system_admin'); \
         SET search_path = pg_temp, public"
    )))
    .execute(&mut *conn)
    .await
    .unwrap();
    let before = snapshot(&env).await;
    let shadowed = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO public.user_roles (login, role) VALUES ('{bob}', 'data_admin')"
    )))
    .execute(&mut *conn)
    .await;
    assert!(shadowed.is_err(), "a temporary table fooled the rules");
    assert_eq!(before, snapshot(&env).await);
    drop(conn);
    // Appending to the audit log in one's own name is what weir does with every write;
    // the time is the server's, whatever the row says.
    sqlx::query(
        "INSERT INTO audit (at, actor, action, object_kind, object_id) \
         VALUES ('1999-01-01T00:00:00.000Z', CAST(session_user AS TEXT), 'note', 'user', 'x')",
    )
    .execute(&as_bob)
    .await
    .unwrap();
    let last = s.c.admin.audit(0).await.unwrap();
    let last = last.last().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.action.as_str()),
        (bob.as_str(), "note")
    );
    assert!(
        last.at.starts_with("20") && !last.at.starts_with("1999"),
        "{}",
        last.at
    );
    for pool in [as_bob, as_biz, as_pat] {
        pool.close().await;
    }
}

async fn jobs_releases_and_instances_hold(env: Arc<Env>) {
    let s = scene(&env).await;
    let as_bob = psql(&env, "bob").await;
    let as_biz = psql(&env, "biz").await;
    let as_pat = psql(&env, "pat").await;
    refused(
        &env,
        &as_bob,
        "a version edited",
        "UPDATE job_versions SET text = 'evil'",
    )
    .await;
    refused(
        &env,
        &as_bob,
        "a version deleted",
        "DELETE FROM job_versions",
    )
    .await;
    refused(
        &env,
        &as_bob,
        "a version without the lock",
        "INSERT INTO job_versions (job_id, number, text, hash, author, created_at, message, \
         validation_passed, validation) SELECT id, 3, 'x', repeat('d', 64), \
         CAST(session_user AS TEXT), 'x', 'm', TRUE, '[]' FROM jobs WHERE path = 'j'",
    )
    .await;
    refused(
        &env,
        &as_biz,
        "an edit lock stolen",
        "UPDATE job_locks SET holder = CAST(session_user AS TEXT)",
    )
    .await;
    refused(
        &env,
        &as_bob,
        "an edit lock dropped",
        "DELETE FROM job_locks",
    )
    .await;
    let why = refused(
        &env,
        &as_bob,
        "a production instance without a live release",
        &format!(
            "INSERT INTO instances (job_id, version_id, release_id, env, parallelism, memory_mib, \
             start_position, params, state, created_by, created_at) SELECT job_id, version_id, \
             request_id, 'prod', 1, 1, 'latest', '{{}}', 'created', CAST(session_user AS TEXT), \
             'x' FROM releases WHERE request_id = {}",
            s.approved_release
        ),
    )
    .await;
    assert!(why.contains("production instance"), "{why}");
    refused(
        &env,
        &as_bob,
        "a second production instance of a live release",
        &format!(
            "INSERT INTO instances (job_id, version_id, release_id, env, parallelism, memory_mib, \
             start_position, params, state, created_by, created_at) SELECT job_id, version_id, \
             request_id, 'prod', 1, 1, 'latest', '{{}}', 'created', CAST(session_user AS TEXT), \
             'x' FROM releases WHERE request_id = {}",
            s.live_release
        ),
    )
    .await;
    refused(
        &env,
        &as_bob,
        "a release taken live by hand",
        &format!(
            "UPDATE releases SET state = 'live', live_by = CAST(session_user AS TEXT), \
             live_at = 'x' WHERE request_id = {}",
            s.admin_release
        ),
    )
    .await;
    refused(
        &env,
        &as_bob,
        "a release rebound to another version",
        &format!(
            "UPDATE releases SET hash = repeat('e', 64) WHERE request_id = {}",
            s.approved_release
        ),
    )
    .await;
    refused(
        &env,
        &as_bob,
        "a developer stops a production instance",
        &format!(
            "UPDATE instances SET desired = 'stopped' WHERE id = {}",
            s.prod_instance
        ),
    )
    .await;
    refused(
        &env,
        &as_pat,
        "a project admin runs the instance himself",
        &format!(
            "UPDATE instances SET state = 'running' WHERE id = {}",
            s.prod_instance
        ),
    )
    .await;
    refused(&env, &as_bob, "instances deleted", "DELETE FROM instances").await;
    // Workers: only system admins and ops register them; only the registering login
    // acts for one.
    refused(
        &env,
        &as_bob,
        "bob registers a worker",
        "INSERT INTO workers (id, login, host, pid, slots, started_at, heartbeat_at) \
         VALUES ('wb', CAST(session_user AS TEXT), 'h', 1, 1, 'x', 'x')",
    )
    .await;
    let olga = env.as_("olga").await;
    olga.register_worker("w1", "h", 1, 2).await.unwrap();
    let claimed = olga
        .claim_instances("w1", 5, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert!(claimed.iter().any(|i| i.id == s.prod_instance));
    let as_admin = psql(&env, "admin").await;
    refused(
        &env,
        &as_admin,
        "a system admin reports for olga's worker",
        &format!(
            "UPDATE instances SET state = 'running' WHERE id = {}",
            s.prod_instance
        ),
    )
    .await;
    refused(
        &env,
        &as_admin,
        "metrics written for olga's worker",
        &format!(
            "INSERT INTO instance_metrics (instance_id, at_ms, snapshot) VALUES ({}, 1, '{{}}')",
            s.prod_instance
        ),
    )
    .await;
    refused(
        &env,
        &as_admin,
        "an alert fired for olga's worker",
        &format!(
            "INSERT INTO alerts (instance_id, rule, kind, state, message, fired_at) \
             VALUES ({}, 'r', 'lag', 'firing', 'm', 'x')",
            s.prod_instance
        ),
    )
    .await;
    refused(
        &env,
        &as_bob,
        "a worker's login changed",
        "UPDATE workers SET login = CAST(session_user AS TEXT)",
    )
    .await;
    refused(&env, &as_bob, "a worker removed", "DELETE FROM workers").await;
    // The worker's own login does what weir does for it.
    let running = olga
        .set_instance_state(
            "w1",
            s.prod_instance,
            weir_store::InstanceState::Running,
            None,
        )
        .await
        .unwrap();
    assert_eq!(running.state, weir_store::InstanceState::Running);
    for pool in [as_bob, as_biz, as_pat, as_admin] {
        pool.close().await;
    }
}

/// Logins granted before version 6 hold the old broad rights until granted again; the
/// triggers refuse their probes all the same, and granting again narrows the rights.
async fn old_broad_grants_are_held_by_the_triggers_and_narrowed_by_granting_again(env: Arc<Env>) {
    let s = scene(&env).await;
    let db = env.pg().expect("postgres");
    let (bob, admin) = (env.name("bob"), env.name("admin"));
    db.execute(&format!(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{bob}\"; \
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO \"{bob}\""
    ))
    .await;
    let as_bob = psql(&env, "bob").await;
    for (what, sql) in [
        (
            "UPDATE users",
            format!("UPDATE users SET display_name = 'x' WHERE login = '{admin}'"),
        ),
        ("DELETE user_roles", "DELETE FROM user_roles".to_string()),
        ("DELETE requests", "DELETE FROM requests".to_string()),
        (
            "UPDATE requests",
            format!(
                "UPDATE requests SET requester = 'x' WHERE id = {}",
                s.bob_publication
            ),
        ),
        ("DELETE job_locks", "DELETE FROM job_locks".to_string()),
        (
            "UPDATE weir_schema",
            "UPDATE weir_schema SET version = 99".to_string(),
        ),
        (
            "UPDATE grants",
            "UPDATE grants SET perms = 'select,delete'".to_string(),
        ),
        ("DELETE releases", "DELETE FROM releases".to_string()),
    ] {
        let why = refused(&env, &as_bob, what, &sql).await;
        assert!(
            why.contains("the store's rules refused this"),
            "{what}: {why}"
        );
    }
    as_bob.close().await;
    // The owner (here the superuser, made a system admin) grants again: exactly the
    // rights of `login_statements`.
    s.c.admin
        .add_user("postgres", "owner", &[weir_store::GlobalRole::SystemAdmin])
        .await
        .unwrap();
    let owner_store = Store::open(&env.owner_url()).await.unwrap();
    let owner = owner_store.session("").await.unwrap();
    owner.grant_login(&bob).await.unwrap();
    let pool = env.raw_pg().await;
    let (update_users, delete_requests, insert_requests, read_audit, seq): (
        bool,
        bool,
        bool,
        bool,
        bool,
    ) = sqlx::query_as(
        "SELECT has_table_privilege(CAST($1 AS NAME), 'users', 'UPDATE'), \
         has_table_privilege(CAST($1 AS NAME), 'requests', 'DELETE'), \
         has_table_privilege(CAST($1 AS NAME), 'requests', 'INSERT'), \
         has_table_privilege(CAST($1 AS NAME), 'audit', 'SELECT'), \
         has_sequence_privilege(CAST($1 AS NAME), 'requests_id_seq', 'USAGE')",
    )
    .bind(&bob)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(
        (
            update_users,
            delete_requests,
            insert_requests,
            read_audit,
            seq
        ),
        (false, false, true, true, false)
    );
    // bob still works through weir with the narrowed rights.
    s.c.bob.create_topic(&topic("after")).await.unwrap();
    owner_store.close().await;
}

/// A refusal read through weir is the user's fault and says what was refused and what
/// to do.
async fn a_refusal_reads_well_through_weir(env: Arc<Env>) {
    let _s = scene(&env).await;
    let as_bob = psql(&env, "bob").await;
    let e = sqlx::query("UPDATE project_members SET role = 'project_admin'")
        .execute(&as_bob)
        .await
        .unwrap_err();
    let e = StoreError::from(e);
    assert!(matches!(e, StoreError::NotAllowed(_)), "{e:?}");
    assert_eq!(e.fault().as_str(), "user");
    let text = e.to_string();
    assert_eq!(
        text,
        format!(
            "the store's rules refused this: only a project admin of project p or a system \
             admin can change project members; you are {} (developer of p); use weir with the \
             right role, or ask someone who has it",
            env.name("bob")
        )
    );
    as_bob.close().await;
}

macro_rules! postgres_only {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                common::run(Backend::Postgres, super::$case).await;
            }
        )*
    };
}

mod postgres {
    postgres_only!(
        the_issue_probes_are_refused_and_change_nothing,
        requests_and_decisions_stay_as_decided,
        roles_members_and_the_audit_log_hold,
        jobs_releases_and_instances_hold,
        old_broad_grants_are_held_by_the_triggers_and_narrowed_by_granting_again,
        a_refusal_reads_well_through_weir,
    );
    use super::{Backend, common};
}
