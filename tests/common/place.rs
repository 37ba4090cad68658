//! An isolated metadata store for workbench tests, on SQLite (a file of its own) or on the
//! PostgreSQL at 127.0.0.1:5432 (a database of its own and real login roles, since the
//! actor there is the session user), plus a seeded governance world:
//! - `root` system admin (the first actor), `dana` data admin, `dev` developer of `shop`,
//!   `pat` project admin of `shop`;
//! - data sources `kafka_main` (kafka, test and prod addresses), `mysql_orders` (mysql at
//!   the machine's MariaDB, test only), owned by nobody.
#![allow(dead_code)]

use sqlx::Executor;
use weir::app::governance::Governance;
use weir::app::project::Project;
use weir::tui::app::{App, Env};
use weir::tui::keymap::Keymap;
use weir::tui::store_link::StoreLink;
use weir::tui::theme::Theme;
use weir_store::{DataSourceSpec, Endpoint, GlobalRole, ProjectRole};

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

pub struct Place {
    /// One runtime for every store call of the test: pools live on the runtime that
    /// opened them.
    pub rt: tokio::runtime::Runtime,
    /// (database, role prefix) on PostgreSQL.
    pub pg: Option<(String, String)>,
    pub sqlite: Option<std::path::PathBuf>,
    logins: std::cell::RefCell<Vec<String>>,
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}{:x}", nanos & 0xffff_ffff_ffff, std::process::id())
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
        let u = unique();
        let rt = rt();
        if postgres {
            let db = format!("weir_t_{u}");
            rt.block_on(async {
                let admin = sqlx::PgPool::connect(PG_ADMIN).await.unwrap();
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                    .await
                    .unwrap();
                admin.close().await;
                let owner =
                    weir_store::Store::open(&format!("postgres://postgres@127.0.0.1:5432/{db}"))
                        .await
                        .unwrap();
                owner.close().await;
            });
            Place {
                rt,
                pg: Some((db, format!("wt{u}"))),
                sqlite: None,
                logins: Default::default(),
            }
        } else {
            Place {
                rt,
                pg: None,
                sqlite: Some(std::env::temp_dir().join(format!("weir_t_{u}.db"))),
                logins: Default::default(),
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
            Some((_, prefix)) => format!("{prefix}_{login}"),
            None => login.to_string(),
        }
    }

    /// The store URL to act as `login` (a login role with table grants on PostgreSQL).
    pub fn url(&self, login: &str) -> String {
        match (&self.pg, &self.sqlite) {
            (Some((db, _)), _) => {
                let role = self.who(login);
                if !self.logins.borrow().contains(&role) {
                    self.rt.block_on(async {
                        let admin = sqlx::PgPool::connect(&format!(
                            "postgres://postgres@127.0.0.1:5432/{db}"
                        ))
                        .await
                        .unwrap();
                        let _ = admin
                            .execute(sqlx::AssertSqlSafe(format!("CREATE ROLE {role} LOGIN")))
                            .await;
                        for sql in [
                            format!("GRANT USAGE ON SCHEMA public TO {role}"),
                            format!(
                                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
                            ),
                            format!(
                                "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"
                            ),
                            format!("REVOKE UPDATE, DELETE ON audit FROM {role}"),
                        ] {
                            admin.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
                        }
                        admin.close().await;
                    });
                    self.logins.borrow_mut().push(role.clone());
                }
                format!("postgres://{role}@127.0.0.1:5432/{db}")
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
    pub fn app(&self, name: &str, login: &str) -> App {
        let root = super::scratch_project(name);
        let mut app = App::new(
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
            let s = &root.session;
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
            root.store.close().await;
        });
    }

    /// Drop the database and roles (also done on drop, so a failed test leaves nothing).
    pub fn cleanup(self) {}
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some((db, _)) = &self.pg {
            let logins = self.logins.borrow().clone();
            self.rt.block_on(async {
                let Ok(admin) = sqlx::PgPool::connect(PG_ADMIN).await else {
                    return;
                };
                let _ = admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                    )))
                    .await;
                for role in logins {
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
                        .await;
                }
                admin.close().await;
            });
        }
        if let Some(p) = &self.sqlite {
            for s in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{s}", p.display()));
            }
        }
    }
}
