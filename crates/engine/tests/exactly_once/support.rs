//! Set-up shared by the exactly-once tests: sink nodes from job text, batches, data
//! sources, and reading a table back.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use weir_engine::resolve::DataSource;
use weir_model::model::{DataSourceKind, Node};

/// The schema of the rows the direct tests commit: `id`, `name`, `n`.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("n", DataType::Int64, false),
    ]))
}

/// One row per id: name `k<id % 2>`, n = id.
pub fn batch(ids: &[i64]) -> RecordBatch {
    let names: Vec<String> = ids.iter().map(|i| format!("k{}", i % 2)).collect();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.to_vec())),
        Arc::new(StringArray::from(names)),
        Arc::new(Int64Array::from(ids.to_vec())),
    ];
    RecordBatch::try_new(schema(), cols).unwrap()
}

/// The node `id` of a job made of `nodes` (RON text of the nodes, no edges).
pub fn node(nodes: &str, id: &str) -> Node {
    let text = format!(r#"Job(version: 1, name: "eo", nodes: [{nodes}], edges: [])"#);
    let checked = weir_model::jobfile::check_source("eo.ron", &text);
    let job = checked
        .job
        .unwrap_or_else(|| panic!("job text: {:?}", checked.diagnostics));
    job.node(id).cloned().unwrap()
}

pub fn ds(kind: DataSourceKind, address: &str) -> DataSource {
    DataSource {
        kind,
        address: address.into(),
        user: None,
        password: None,
        options: BTreeMap::new(),
    }
}

/// The two JDBC backends.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Pg,
    Maria,
}

/// A database of the test's own on one backend.
pub enum TestDb {
    Pg(weir_testsupport::postgres::PgDatabase),
    Maria(weir_testsupport::mariadb::MariaDatabase),
}

impl TestDb {
    pub async fn create(db: Db) -> TestDb {
        match db {
            Db::Pg => TestDb::Pg(weir_testsupport::postgres::PgDatabase::create("weir_eo").await),
            Db::Maria => {
                TestDb::Maria(weir_testsupport::mariadb::MariaDatabase::create("weir_eo").await)
            }
        }
    }

    pub fn kind(&self) -> DataSourceKind {
        match self {
            TestDb::Pg(_) => DataSourceKind::Postgres,
            TestDb::Maria(_) => DataSourceKind::Mysql,
        }
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Pg(d) => d.url(),
            TestDb::Maria(d) => d.url(),
        }
    }

    pub async fn execute(&self, sql: &str) {
        match self {
            TestDb::Pg(d) => d.execute(sql).await,
            TestDb::Maria(d) => d.execute(sql).await,
        }
    }

    /// The values of an integer column, sorted (`sql` selects one BIGINT column).
    pub async fn ints(&self, sql: &str) -> Vec<i64> {
        let mut v: Vec<i64> = match self {
            TestDb::Pg(d) => {
                let pool = d.pool().await;
                let v = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                pool.close().await;
                v
            }
            TestDb::Maria(d) => {
                let pool = d.pool().await;
                let v = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                pool.close().await;
                v
            }
        };
        v.sort_unstable();
        v
    }

    pub async fn remove(&self) {
        match self {
            TestDb::Pg(d) => d.remove().await,
            TestDb::Maria(d) => d.remove().await,
        }
    }
}
