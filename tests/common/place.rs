//! An isolated metadata store for workbench tests, on SQLite (a file of its own) or on the
//! PostgreSQL at 127.0.0.1:5432 (a database of its own and real login roles, since the
//! actor there is the session user), plus a seeded governance world:
//! - `root` system admin (the first actor), `dana` data admin, `dev` developer of `shop`,
//!   `pat` project admin of `shop`;
//! - data sources `kafka_main` (kafka, test and prod addresses), `mysql_orders` (mysql at
//!   the machine's MariaDB, test only), owned by nobody.
#![allow(dead_code)]

use weir::app::governance::Governance;
use weir::app::project::Project;
use weir::app::store_link::StoreLink;
use weir::tui::keymap::Keymap;
use weir::tui::theme::Theme;
use weir::tui::workbench::{Env, Workbench};
use weir_store::{DataSourceSpec, Endpoint, GlobalRole, ProjectRole};
use weir_testsupport::postgres::PgDatabase;

pub struct Place {
    /// One runtime for every store call of the test: pools live on the runtime that
    /// opened them.
    pub rt: tokio::runtime::Runtime,
    /// The test's database and login roles on PostgreSQL (dropped with the place).
    pub pg: Option<PgDatabase>,
    pub sqlite: Option<std::path::PathBuf>,
}

/// A runtime of its own; store handles opened on it die with it (use `Place::block_on`).
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

impl Place {
    pub fn new(postgres: bool) -> Place {
        let rt = rt();
        if postgres {
            let db = rt.block_on(async {
                let db = PgDatabase::create("weir_t").await;
                let owner = weir_store::Store::open(&db.url()).await.unwrap();
                owner.close().await;
                db
            });
            Place {
                rt,
                pg: Some(db),
                sqlite: None,
            }
        } else {
            let name = format!("{}.db", weir_testsupport::unique("weir_t"));
            Place {
                rt,
                pg: None,
                sqlite: Some(std::env::temp_dir().join(name)),
            }
        }
    }

    /// Run a store call on the place's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The name the store knows `login` by (prefixed on PostgreSQL, where roles are global).
    pub fn who(&self, login: &str) -> String {
        match &self.pg {
            Some(db) => db.role(login),
            None => login.to_string(),
        }
    }

    /// The store URL to act as `login` (a login role with the store's grants on
    /// PostgreSQL).
    pub fn url(&self, login: &str) -> String {
        match (&self.pg, &self.sqlite) {
            (Some(db), _) => {
                let role = db.role(login);
                let grants = weir_store::login_statements("public", &role).unwrap().grant;
                self.rt.block_on(db.login(&role, &grants))
            }
            (None, Some(path)) => format!("sqlite://{}", path.display()),
            _ => unreachable!(),
        }
    }

    /// The app layer acting as `login`.
    pub fn gov(&self, login: &str) -> Governance {
        self.rt
            .block_on(Governance::open(&self.url(login), &self.who(login)))
            .unwrap()
    }

    /// A workbench on a scratch copy of the example project, acting as `login`.
    pub fn app(&self, name: &str, login: &str) -> Workbench {
        let root = super::scratch_project(name);
        let mut app = Workbench::new(
            Project { root },
            Theme::default(),
            Keymap::defaults(),
            Env::Test,
            self.who(login),
        );
        let link = StoreLink::open(&self.url(login), &self.who(login)).unwrap();
        app.attach_store(link);
        app
    }

    /// The seeded world of the module doc (root first, so root is the system admin).
    pub fn seed(&self) {
        let root = self.gov("root");
        let w = |l: &str| self.who(l);
        self.rt.block_on(async {
            let s = &root;
            s.add_user(&w("dana"), "Dana Data", &[GlobalRole::DataAdmin])
                .await
                .unwrap();
            s.add_user(&w("dev"), "Dev Eloper", &[]).await.unwrap();
            s.add_user(&w("pat"), "Pat Admin", &[]).await.unwrap();
            s.create_project("shop", "the web shop").await.unwrap();
            s.add_member("shop", &w("dev"), ProjectRole::Developer)
                .await
                .unwrap();
            s.add_member("shop", &w("pat"), ProjectRole::ProjectAdmin)
                .await
                .unwrap();
            s.add_data_source(&DataSourceSpec {
                name: "kafka_main".into(),
                kind: weir_store::parse_kind("kafka").unwrap(),
                env: weir_store::Env::parse("both").unwrap(),
                test: Some(Endpoint {
                    address: "127.0.0.1:1".into(),
                    options: serde_json::json!({}),
                }),
                prod: Some(Endpoint {
                    address: "127.0.0.1:2".into(),
                    options: serde_json::json!({}),
                }),
                user: None,
                password: None,
                managed: true,
                owner_project: None,
                description: "main Kafka cluster".into(),
            })
            .await
            .unwrap();
            s.add_data_source(&DataSourceSpec {
                name: "mysql_orders".into(),
                kind: weir_store::parse_kind("mysql").unwrap(),
                env: weir_store::Env::parse("test").unwrap(),
                test: Some(Endpoint {
                    address: "127.0.0.1:3306".into(),
                    options: serde_json::json!({"database": "test"}),
                }),
                prod: None,
                user: Some("root".into()),
                password: None,
                managed: false,
                owner_project: None,
                description: "orders database".into(),
            })
            .await
            .unwrap();
            root.closer().close().await;
        });
    }

    /// Drop the database and roles (also done on drop, so a failed test leaves nothing).
    pub fn cleanup(self) {}
}

impl Drop for Place {
    fn drop(&mut self) {
        // The PostgreSQL database and roles go when `pg` drops (weir-testsupport).
        if let Some(p) = &self.sqlite {
            for s in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{s}", p.display()));
            }
        }
    }
}
