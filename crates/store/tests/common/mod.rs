//! Test environments: every case runs once on SQLite (a temp file) and once on PostgreSQL
//! (a fresh database on 127.0.0.1:5432; actors are real login roles with the grants of
//! `weir_store::login_statements`, connected with trust auth). Databases, files and roles
//! are removed at the end, also when the case panics (`weir_testsupport`).

#![allow(dead_code)]
// Helpers outside `#[test]` fail the test the way a test does: by panicking.
#![allow(clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use sqlx::{Executor, PgPool, SqlitePool};
use tokio::sync::Mutex;
use weir_store::{Backend, Session, Store};
use weir_testsupport::postgres::PgDatabase;

/// One isolated store plus a way to act as any user on it.
pub struct Env {
    pub backend: Backend,
    place: Place,
    stores: Mutex<HashMap<String, Store>>,
}

enum Place {
    Sqlite(PathBuf),
    Postgres(PgDatabase),
}

impl Env {
    pub async fn new(backend: Backend) -> Env {
        let place = match backend {
            Backend::Sqlite => Place::Sqlite(
                std::env::temp_dir().join(format!("{}.db", weir_testsupport::unique("weir_t"))),
            ),
            Backend::Postgres => Place::Postgres(PgDatabase::create("weir_t").await),
        };
        let env = Env {
            backend,
            place,
            stores: Mutex::new(HashMap::new()),
        };
        // Apply the schema as the owner (superuser on PostgreSQL), like an installer would.
        let owner = Store::open(&env.owner_url()).await.expect("open store");
        owner.close().await;
        env
    }

    pub fn owner_url(&self) -> String {
        match &self.place {
            Place::Sqlite(path) => format!("sqlite://{}", path.display()),
            Place::Postgres(db) => db.url(),
        }
    }

    /// The test database on PostgreSQL (None on SQLite).
    pub fn pg(&self) -> Option<&PgDatabase> {
        match &self.place {
            Place::Sqlite(_) => None,
            Place::Postgres(db) => Some(db),
        }
    }

    /// The actor name `login` gets on this backend.
    pub fn name(&self, login: &str) -> String {
        match &self.place {
            Place::Sqlite(_) => login.to_string(),
            Place::Postgres(db) => db.role(login),
        }
    }

    /// A store connected as `login` (its own pool, like a separate process).
    pub async fn store(&self, login: &str) -> Store {
        let mut stores = self.stores.lock().await;
        if let Some(s) = stores.get(login) {
            return s.clone();
        }
        let url = match &self.place {
            Place::Sqlite(_) => self.owner_url(),
            Place::Postgres(db) => {
                let role = db.role(login);
                let grants = weir_store::login_statements("public", &role)
                    .expect("a valid role name")
                    .grant;
                db.login(&role, &grants).await
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
        self.pg().expect("a PostgreSQL environment").pool().await
    }

    /// Direct pool on the SQLite file.
    pub async fn raw_sqlite(&self) -> SqlitePool {
        SqlitePool::connect(&self.owner_url())
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
        match &self.place {
            Place::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Place::Postgres(db) => db.remove().await,
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
        password: Some("env:WEIR_SECRET_PW".into()),
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

/// A stand-in for sha256: 64 hex digits from the text.
pub fn hash(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    (0..4u8)
        .map(|salt| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (salt, text).hash(&mut h);
            format!("{:016x}", h.finish())
        })
        .collect()
}

/// Submits `text` as a new version of `job` (validation passed); its number.
pub async fn submit(s: &Session, job: &str, text: &str) -> i64 {
    let new = weir_store::NewVersion {
        text: text.to_string(),
        hash: hash(text),
        message: "change".into(),
        validation: weir_store::Validation {
            passed: true,
            report: "[]".into(),
        },
        test: None,
    };
    match s.submit_version(job, &new).await.expect("submit") {
        weir_store::Submitted::Created { version, .. } => version.number,
        other => panic!("expected a new version, got {other:?}"),
    }
}

/// A test instance of version `n`, from the earliest offsets.
pub fn of_version(n: i64) -> weir_store::TestInstanceSpec {
    weir_store::TestInstanceSpec {
        version: Some(n),
        working: None,
        parallelism: 1,
        memory_mib: 256,
        start: weir_store::StartPosition::Earliest,
        params: serde_json::json!({}),
    }
}
