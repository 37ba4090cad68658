//! Test environments: every case runs once on SQLite (a temp file) and once on PostgreSQL
//! (a fresh database `weir_t_<random>` on 127.0.0.1:5432; actors are real login roles
//! named `<prefix>_<login>`, connected with trust auth). Databases, files and roles are
//! removed at the end, also when the case panics.

#![allow(dead_code)]

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use sqlx::{Executor, PgPool, SqlitePool};
use tokio::sync::Mutex;
use weir_store::{Backend, Session, Store};

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

/// One isolated store plus a way to act as any user on it.
pub struct Env {
    pub backend: Backend,
    prefix: String,
    /// sqlite: file path; postgres: database name.
    place: String,
    stores: Mutex<HashMap<String, Store>>,
    roles: Mutex<Vec<String>>,
}

fn random() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

impl Env {
    pub async fn new(backend: Backend) -> Env {
        let r = random();
        let place = match backend {
            Backend::Sqlite => std::env::temp_dir()
                .join(format!("weir_t_{r}.db"))
                .to_string_lossy()
                .into_owned(),
            Backend::Postgres => {
                let db = format!("weir_t_{r}");
                let admin = PgPool::connect(PG_ADMIN)
                    .await
                    .expect("postgres on 127.0.0.1:5432");
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                    .await
                    .expect("create test database");
                admin.close().await;
                db
            }
        };
        let env = Env {
            backend,
            prefix: format!("wt{r}"),
            place,
            stores: Mutex::new(HashMap::new()),
            roles: Mutex::new(Vec::new()),
        };
        // Apply the schema as the owner (superuser on PostgreSQL), like an installer would.
        let owner = Store::open(&env.owner_url()).await.expect("open store");
        owner.close().await;
        env
    }

    pub fn owner_url(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.place),
            Backend::Postgres => format!("postgres://postgres@127.0.0.1:5432/{}", self.place),
        }
    }

    /// The actor name `login` gets on this backend.
    pub fn name(&self, login: &str) -> String {
        match self.backend {
            Backend::Sqlite => login.to_string(),
            Backend::Postgres => format!("{}_{login}", self.prefix),
        }
    }

    /// A store connected as `login` (its own pool, like a separate process).
    pub async fn store(&self, login: &str) -> Store {
        let mut stores = self.stores.lock().await;
        if let Some(s) = stores.get(login) {
            return s.clone();
        }
        let url = match self.backend {
            Backend::Sqlite => self.owner_url(),
            Backend::Postgres => {
                let role = self.name(login);
                let admin = self.raw_pg().await;
                let _ = admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE ROLE {role} LOGIN")))
                    .await;
                for sql in [
                    format!("GRANT USAGE ON SCHEMA public TO {role}"),
                    format!(
                        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
                    ),
                    format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
                    format!("REVOKE UPDATE, DELETE ON audit FROM {role}"),
                ] {
                    admin
                        .execute(sqlx::AssertSqlSafe(sql))
                        .await
                        .expect("grant");
                }
                admin.close().await;
                self.roles.lock().await.push(role.clone());
                format!("postgres://{role}@127.0.0.1:5432/{}", self.place)
            }
        };
        let s = Store::open(&url).await.expect("open store as user");
        stores.insert(login.to_string(), s.clone());
        s
    }

    /// A session acting as `login`.
    pub async fn as_(&self, login: &str) -> Session {
        self.store(login)
            .await
            .session(login)
            .await
            .expect("session")
    }

    /// Superuser pool on the PostgreSQL test database.
    pub async fn raw_pg(&self) -> PgPool {
        PgPool::connect(&format!(
            "postgres://postgres@127.0.0.1:5432/{}",
            self.place
        ))
        .await
        .expect("connect as postgres")
    }

    /// Direct pool on the SQLite file.
    pub async fn raw_sqlite(&self) -> SqlitePool {
        SqlitePool::connect(&format!("sqlite://{}", self.place))
            .await
            .expect("open sqlite file")
    }

    /// Runs one scalar count query as the owner.
    pub async fn count(&self, sql: &'static str) -> i64 {
        match self.backend {
            Backend::Sqlite => {
                let p = self.raw_sqlite().await;
                let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&p).await.expect("count");
                p.close().await;
                n
            }
            Backend::Postgres => {
                let p = self.raw_pg().await;
                let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&p).await.expect("count");
                p.close().await;
                n
            }
        }
    }

    /// Runs a statement as the owner; returns the error text if it failed.
    pub async fn raw_exec(&self, sql: &'static str) -> Result<(), String> {
        match self.backend {
            Backend::Sqlite => {
                let p = self.raw_sqlite().await;
                let r = p.execute(sql).await.map(|_| ()).map_err(|e| e.to_string());
                p.close().await;
                r
            }
            Backend::Postgres => {
                let p = self.raw_pg().await;
                let r = p.execute(sql).await.map(|_| ()).map_err(|e| e.to_string());
                p.close().await;
                r
            }
        }
    }

    pub async fn cleanup(&self) {
        for (_, s) in self.stores.lock().await.drain() {
            s.close().await;
        }
        match self.backend {
            Backend::Sqlite => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.place));
                }
            }
            Backend::Postgres => {
                if let Ok(admin) = PgPool::connect(PG_ADMIN).await {
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                            self.place
                        )))
                        .await;
                    for role in self.roles.lock().await.iter() {
                        let _ = admin
                            .execute(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
                            .await;
                    }
                    admin.close().await;
                }
            }
        }
    }
}

/// Runs `case` on a fresh environment and cleans up even if it panics.
pub async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(Arc<Env>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let env = Arc::new(Env::new(backend).await);
    let result = tokio::spawn(case(env.clone())).await;
    env.cleanup().await;
    if let Err(e) = result {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("case did not finish: {e}");
    }
}

/// `both!(case_a, case_b)` makes `case_a::sqlite` and `case_a::postgres` tests.
#[macro_export]
macro_rules! both {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::common::run(weir_store::Backend::Sqlite, super::$case).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::common::run(weir_store::Backend::Postgres, super::$case).await;
                }
            }
        )*
    };
}

use weir_store::{
    DataSourceKind, DataSourceSpec, Endpoint, GlobalRole, ProjectRole, StoreError, TopicField,
    TopicFormat, TopicSpec,
};

/// The usual people: admin (first user, system admin), dan and erin (data admins), pat
/// (project admin of p), bob (developer of p), olga (ops), biz (business), and data
/// sources kmain (kafka, both), ktest (kafka, test only), shop (mysql, both).
pub struct Cast {
    pub admin: Session,
    pub dan: Session,
    pub erin: Session,
    pub pat: Session,
    pub bob: Session,
    pub olga: Session,
    pub biz: Session,
}

pub async fn cast(env: &Env) -> Cast {
    let admin = env.as_("admin").await;
    for (login, roles) in [
        ("dan", vec![GlobalRole::DataAdmin]),
        ("erin", vec![GlobalRole::DataAdmin]),
        ("pat", vec![]),
        ("bob", vec![]),
        ("olga", vec![GlobalRole::Ops]),
        ("biz", vec![GlobalRole::Business]),
    ] {
        admin
            .add_user(&env.name(login), login, &roles)
            .await
            .expect("add user");
    }
    admin
        .create_project("p", "clickstream")
        .await
        .expect("project p");
    admin
        .add_member("p", &env.name("pat"), ProjectRole::ProjectAdmin)
        .await
        .expect("pat");
    let pat = env.as_("pat").await;
    pat.add_member("p", &env.name("bob"), ProjectRole::Developer)
        .await
        .expect("bob");
    let dan = env.as_("dan").await;
    dan.add_data_source(&ds("kmain", DataSourceKind::Kafka, weir_store::Env::Both))
        .await
        .expect("kmain");
    dan.add_data_source(&ds("ktest", DataSourceKind::Kafka, weir_store::Env::Test))
        .await
        .expect("ktest");
    dan.add_data_source(&ds("shop", DataSourceKind::Mysql, weir_store::Env::Both))
        .await
        .expect("shop");
    Cast {
        admin,
        dan,
        erin: env.as_("erin").await,
        pat,
        bob: env.as_("bob").await,
        olga: env.as_("olga").await,
        biz: env.as_("biz").await,
    }
}

pub fn ds(name: &str, kind: DataSourceKind, env: weir_store::Env) -> DataSourceSpec {
    let ep = |a: &str| Endpoint {
        address: a.to_string(),
        options: serde_json::json!({"timeout_ms": 500}),
    };
    DataSourceSpec {
        name: name.to_string(),
        kind,
        env,
        test: env.has_test().then(|| ep("test-host:9092")),
        prod: env.has_prod().then(|| ep("prod-host:9092")),
        user: Some("weir".into()),
        password: Some("env:WEIR_PW".into()),
        managed: true,
        owner_project: None,
        description: format!("{name} for tests"),
    }
}

pub fn topic(name: &str) -> TopicSpec {
    TopicSpec {
        name: name.to_string(),
        project: "p".into(),
        display_name: format!("{name} events"),
        format: TopicFormat::Json,
        partitions: 3,
        lifecycle_days: 7,
        description: "page views".into(),
        fields: vec![
            TopicField {
                name: "url".into(),
                data_type: "string".into(),
                comment: "page".into(),
            },
            TopicField {
                name: "ts".into(),
                data_type: "bigint".into(),
                comment: String::new(),
            },
        ],
    }
}

/// The error's message, or a panic if it was Ok.
pub fn err<T: std::fmt::Debug>(r: Result<T, StoreError>) -> StoreError {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}
