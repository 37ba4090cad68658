//! Deploying the store: `Store::init` says which migrations it applied, and on PostgreSQL
//! `grant_login` / `revoke_login` give and take back what a person's login role needs.
//! Runs on a database and login roles of the test's own (127.0.0.1:5432, trust auth);
//! the owner is the superuser `postgres`, who becomes the store's first system admin.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use weir_store::{GlobalRole, SCHEMA_VERSION, Session, Store, StoreError};
use weir_testsupport::postgres::PgDatabase;

/// A new store on a database of its own, migrated by the owner, and the owner's session
/// (the first actor, so system admin).
async fn owned_store() -> (PgDatabase, Store, Session) {
    let db = PgDatabase::create("weir_d").await;
    let (store, _) = Store::init(&db.url()).await.expect("init as owner");
    let owner = store.session("ignored on postgres").await.expect("owner");
    assert_eq!(owner.actor(), "postgres");
    (db, store, owner)
}

/// Opens the store as `url`'s role and returns the actor's login as `whoami` reports it.
async fn whoami(url: &str) -> Result<String, StoreError> {
    let store = Store::open(url).await?;
    let login = store.session("spoofed").await?.whoami().await?.login;
    store.close().await;
    Ok(login)
}

fn expect_err<T: std::fmt::Debug>(r: Result<T, StoreError>) -> StoreError {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

async fn role_exists(db: &PgDatabase, role: &str) -> bool {
    let pool = db.pool().await;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM pg_roles WHERE rolname = $1")
        .bind(role)
        .fetch_one(&pool)
        .await
        .expect("count roles");
    pool.close().await;
    n > 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_says_which_migrations_it_applied_on_sqlite() {
    let path = std::env::temp_dir().join(format!("{}.db", weir_testsupport::unique("weir_d")));
    let url = format!("sqlite://{}", path.display());
    let (store, first) = Store::init(&url).await.expect("init");
    store.close().await;
    assert_eq!(first.from_version, 0);
    assert_eq!(first.version, SCHEMA_VERSION);
    assert_eq!(
        first.applied.iter().map(|m| m.version).collect::<Vec<_>>(),
        (1..=SCHEMA_VERSION).collect::<Vec<_>>()
    );
    assert!(first.applied[0].description.contains("governance"));
    let (store, again) = Store::init(&url).await.expect("init again");
    store.close().await;
    assert_eq!(
        (again.from_version, again.version, again.applied.len()),
        (SCHEMA_VERSION, SCHEMA_VERSION, 0)
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_says_which_migrations_it_applied_on_postgres() {
    let db = PgDatabase::create("weir_d").await;
    let (store, first) = Store::init(&db.url()).await.expect("init");
    store.close().await;
    assert_eq!((first.from_version, first.version), (0, SCHEMA_VERSION));
    assert_eq!(first.applied.len() as i64, SCHEMA_VERSION);
    let (store, again) = Store::init(&db.url()).await.expect("init again");
    store.close().await;
    assert!(again.applied.is_empty(), "{again:?}");
    assert_eq!(again.version, SCHEMA_VERSION);
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_by_a_role_that_may_not_create_tables_says_who_should_run_it() {
    let db = PgDatabase::create("weir_d").await;
    let url = db.login(&db.role("nobody"), &[]).await;
    let e = expect_err(Store::init(&url).await.map(|(_, init)| init));
    assert!(matches!(e, StoreError::NotAllowed(_)), "{e:?}");
    assert!(e.to_string().contains("permission denied"), "{e}");
    assert!(e.to_string().contains("database's owner"), "{e}");
    assert_eq!(e.fault().as_str(), "user");
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_has_no_login_roles() {
    let path = std::env::temp_dir().join(format!("{}.db", weir_testsupport::unique("weir_d")));
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("open");
    let lite_no = expect_err(store.require_login_roles());
    assert!(
        lite_no
            .to_string()
            .contains("SQLite store has no login roles")
    );
    let me = store.session("admin").await.expect("session");
    for e in [
        expect_err(me.grant_login("alice").await),
        expect_err(me.revoke_login("alice").await),
    ] {
        assert!(matches!(e, StoreError::NotAllowed(_)), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("no login roles"), "{text}");
        assert!(text.contains("weir user add"), "{text}");
    }
    assert_eq!(lite_no.fault().as_str(), "user");
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_login_uses_the_store_as_itself_until_revoked() {
    let (db, store, owner) = owned_store().await;
    let alice = db.role("alice");
    db.adopt_role(&alice);
    let url = db.url_as(&alice);

    // Before the grant the role does not exist: no connection.
    let before = expect_err(whoami(&url).await);
    assert!(before.to_string().contains("does not exist"), "{before}");

    let granted = owner.grant_login(&alice).await.expect("grant");
    assert!(granted.created_role);
    assert!(!granted.registered);
    assert_eq!(granted.schema, "public");
    assert_eq!(
        granted.statements[0],
        format!("CREATE ROLE \"{alice}\" LOGIN")
    );
    assert!(
        granted
            .statements
            .iter()
            .any(|s| s.starts_with("GRANT SELECT ON TABLE \"public\".\"weir_schema\"")),
        "{:?}",
        granted.statements
    );
    assert_eq!(whoami(&url).await.expect("open as alice"), alice);

    // As a registered user alice acts with her own roles; the audit log names her.
    owner
        .add_user(&alice, "Alice", &[GlobalRole::DataAdmin])
        .await
        .expect("register alice");
    let as_alice = Store::open(&url).await.expect("open as alice");
    let me = as_alice.session("root").await.expect("session");
    let roles = me.whoami().await.expect("whoami");
    assert!(roles.has(GlobalRole::DataAdmin), "{roles:?}");
    me.add_data_source(&kafka("k1"))
        .await
        .expect("write as alice");
    let audit = me.audit(0).await.expect("audit");
    let last = audit.last().expect("rows");
    assert_eq!(
        (last.actor.as_str(), last.action.as_str()),
        (alice.as_str(), "datasource.add")
    );
    // alice may read but never rewrite the audit log (grant withholds it, triggers too).
    let pool = sqlx::PgPool::connect(&url).await.expect("raw as alice");
    let rewrite = sqlx::query("UPDATE audit SET actor = 'x'")
        .execute(&pool)
        .await;
    assert!(rewrite.is_err(), "alice rewrote the audit log");
    pool.close().await;

    // Granting again changes nothing and says so.
    let again = owner.grant_login(&alice).await.expect("grant again");
    assert!(!again.created_role);
    assert!(again.registered);
    assert!(
        !again
            .statements
            .iter()
            .any(|s| s.starts_with("CREATE ROLE"))
    );
    assert_eq!(whoami(&url).await.expect("still alice"), alice);
    let grants = owner
        .audit(0)
        .await
        .expect("audit")
        .into_iter()
        .filter(|a| a.action == "store.grant" && a.object_id == alice)
        .count();
    assert_eq!(grants, 2);

    // Revoking takes it away; weir made the role and nothing else uses it: dropped.
    as_alice.close().await;
    let revoked = owner.revoke_login(&alice).await.expect("revoke");
    assert!(revoked.dropped_role, "{revoked:?}");
    assert!(revoked.kept_because.is_empty());
    assert!(revoked.registered, "the weir user and its history stay");
    assert_eq!(
        revoked.statements.last().map(String::as_str),
        Some(format!("DROP ROLE \"{alice}\"").as_str())
    );
    assert!(!role_exists(&db, &alice).await);
    assert!(whoami(&url).await.is_err());
    let last = owner.audit(0).await.expect("audit");
    let last = last.last().expect("rows");
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("store.revoke", "postgres")
    );

    // Revoking a role that is gone says so, with the closest login role.
    let gone = expect_err(owner.revoke_login(&alice).await);
    assert!(
        matches!(
            gone,
            StoreError::NotFound {
                kind: "login role",
                ..
            }
        ),
        "{gone:?}"
    );
    store.close().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_weir_did_not_create_or_that_has_other_uses_is_kept() {
    let (db, store, owner) = owned_store().await;
    // bob's role exists already (made by a database admin): it connects, but cannot open
    // the store before the grant.
    let bob = db.role("bob");
    let bob_url = db.login(&bob, &[]).await;
    let refused = expect_err(whoami(&bob_url).await);
    assert!(
        refused.to_string().contains("permission denied"),
        "{refused}"
    );
    let granted = owner.grant_login(&bob).await.expect("grant bob");
    assert!(!granted.created_role);
    assert_eq!(whoami(&bob_url).await.expect("bob opens"), bob);
    let revoked = owner.revoke_login(&bob).await.expect("revoke bob");
    assert!(!revoked.dropped_role);
    assert_eq!(
        revoked.kept_because,
        vec!["it was not created by `weir store grant`".to_string()]
    );
    assert!(role_exists(&db, &bob).await);
    assert!(
        whoami(&bob_url).await.is_err(),
        "revoke took the store away"
    );

    // carol's role was made by weir, but she also reads a table outside the store.
    let carol = db.role("carol");
    db.adopt_role(&carol);
    owner.grant_login(&carol).await.expect("grant carol");
    db.execute(&format!(
        "CREATE SCHEMA side; CREATE TABLE side.t (x INT); \
         GRANT USAGE ON SCHEMA side TO \"{carol}\"; GRANT SELECT ON side.t TO \"{carol}\""
    ))
    .await;
    let revoked = owner.revoke_login(&carol).await.expect("revoke carol");
    assert!(!revoked.dropped_role);
    assert_eq!(revoked.kept_because.len(), 1, "{:?}", revoked.kept_because);
    assert!(
        revoked.kept_because[0].contains("holds other privileges"),
        "{:?}",
        revoked.kept_because
    );
    assert!(role_exists(&db, &carol).await);
    assert!(whoami(&db.url_as(&carol)).await.is_err());
    store.close().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_system_admin_grants_and_revokes() {
    let (db, store, owner) = owned_store().await;
    let dan = db.role("dan");
    db.adopt_role(&dan);
    let erin = db.role("erin");
    db.adopt_role(&erin);
    owner.grant_login(&dan).await.expect("grant dan");
    owner
        .add_user(&dan, "Dan", &[GlobalRole::DataAdmin])
        .await
        .expect("register dan");
    let as_dan = Store::open(&db.url_as(&dan)).await.expect("open as dan");
    let me = as_dan.session("").await.expect("dan");
    let e = expect_err(me.grant_login(&erin).await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");
    assert!(
        e.to_string().contains("only a system admin can grant"),
        "{e}"
    );
    assert!(!role_exists(&db, &erin).await, "nothing created");
    let e = expect_err(me.revoke_login(&erin).await);
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");
    // A system admin who is not the owner gets the database's refusal, said plainly,
    // and nothing is recorded.
    owner
        .set_user_roles(&dan, &[GlobalRole::SystemAdmin])
        .await
        .expect("dan becomes system admin");
    let e = expect_err(me.grant_login(&erin).await);
    assert!(matches!(e, StoreError::NotAllowed(_)), "{e:?}");
    assert!(e.to_string().contains("store's owner"), "{e}");
    assert!(!role_exists(&db, &erin).await);
    let grants = owner
        .audit(0)
        .await
        .expect("audit")
        .iter()
        .filter(|a| a.action == "store.grant")
        .count();
    assert_eq!(grants, 1, "only dan's own grant");
    // Nobody revokes their own login, nor the owner's.
    let e = expect_err(me.revoke_login(&dan).await);
    assert!(e.to_string().contains("your own login"), "{e}");
    let e = expect_err(me.revoke_login("postgres").await);
    assert!(
        matches!(e, StoreError::Invalid { .. }) && e.to_string().contains("needs no grants"),
        "{e:?}"
    );
    as_dan.close().await;
    store.close().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_role_names_are_refused_before_any_sql() {
    let (db, store, owner) = owned_store().await;
    for bad in [
        "",
        "bob\"; DROP ROLE postgres; --",
        "bob' OR '1'='1",
        "two words",
        "tab\there",
        &"x".repeat(64),
        "pg_monitor2",
        "public",
        "CURRENT_USER",
    ] {
        for e in [
            expect_err(owner.grant_login(bad).await),
            expect_err(owner.revoke_login(bad).await),
        ] {
            assert!(
                matches!(e, StoreError::Invalid { field: "login", .. }),
                "{bad:?}: {e:?}"
            );
        }
    }
    let e = expect_err(owner.grant_login("bob\"; DROP ROLE postgres; --").await);
    assert!(e.to_string().contains("not a valid login role name"), "{e}");
    // The owner and superusers need no grants, and revoking would lock them out.
    let e = expect_err(owner.grant_login("postgres").await);
    assert!(e.to_string().contains("needs no grants"), "{e}");
    let e = expect_err(owner.revoke_login("postgres").await);
    assert!(e.to_string().contains("your own login"), "{e}");
    assert!(role_exists(&db, "postgres").await);
    // Nothing was written: no grant or revoke in the audit log.
    let rows = owner.audit(0).await.expect("audit");
    assert!(
        rows.iter()
            .all(|a| !a.action.starts_with("store.g") && !a.action.starts_with("store.r")),
        "{rows:?}"
    );
    store.close().await;
    db.remove().await;
}

#[test]
fn the_statements_quote_the_role_and_withhold_audit_changes() {
    let s = weir_store::login_statements("weir", "ann.lee@corp").expect("valid");
    let role = "\"ann.lee@corp\"";
    assert_eq!(
        s.grant[0],
        format!("GRANT USAGE ON SCHEMA \"weir\" TO {role}")
    );
    // Everything on the store's tables and sequences is taken back first (older grants
    // were broader), then given per table.
    assert!(s.grant[1].starts_with("REVOKE ALL ON TABLE \"weir\".\"weir_schema\", "));
    assert!(s.grant[2].starts_with("REVOKE ALL ON SEQUENCE \"weir\".\"projects_id_seq\""));
    assert!(s.grant[3].starts_with("GRANT SELECT ON TABLE \"weir\".\"weir_schema\", "));
    let on = |verb: &str| -> Vec<&str> {
        let line = s
            .grant
            .iter()
            .find(|g| g.starts_with(&format!("GRANT {verb} ON TABLE ")))
            .expect("a grant of that right");
        assert!(line.ends_with(&format!(" TO {role}")), "{line}");
        line.trim_start_matches(&format!("GRANT {verb} ON TABLE "))
            .trim_end_matches(&format!(" TO {role}"))
            .split(", ")
            .map(|t| t.trim_start_matches("\"weir\".").trim_matches('"'))
            .collect()
    };
    let (insert, update, delete) = (on("INSERT"), on("UPDATE"), on("DELETE"));
    assert!(insert.contains(&"audit") && !update.contains(&"audit") && !delete.contains(&"audit"));
    assert!(!update.contains(&"users") && !delete.contains(&"users"));
    assert!(!update.contains(&"job_versions") && !delete.contains(&"job_versions"));
    assert!(update.contains(&"requests") && !delete.contains(&"requests"));
    assert!(!insert.contains(&"weir_schema") && !update.contains(&"weir_schema"));
    assert!(
        s.grant
            .iter()
            .all(|g| !g.contains("TRUNCATE") && !g.contains("ALL TABLES"))
    );
    assert!(s.revoke.iter().all(|r| r.starts_with("REVOKE ")));
    assert_eq!(s.revoke.len(), 3);
    assert!(weir_store::login_statements("public", "a\"b").is_err());
}

fn kafka(name: &str) -> weir_store::DataSourceSpec {
    weir_store::DataSourceSpec {
        name: name.to_string(),
        kind: weir_store::DataSourceKind::Kafka,
        env: weir_store::Env::Test,
        test: Some(weir_store::Endpoint {
            address: "127.0.0.1:9092".into(),
            options: serde_json::json!({}),
        }),
        prod: None,
        user: None,
        password: None,
        managed: true,
        owner_project: None,
        description: String::new(),
    }
}
