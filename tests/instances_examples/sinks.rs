//! The sinks of one example and the databases behind them: a MariaDB or PostgreSQL
//! database of the test's own per JDBC data source (tables built from the expected rows'
//! columns), and readers of JDBC tables, Kafka topics and Redis keys that know no
//! example by name.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use sqlx::Row;
use weir::model::{JdbcOperation, JdbcSink, RedisCommand, RedisSink};
use weir_engine::testing::SinkRows;
use weir_testsupport::mariadb::MariaDatabase;
use weir_testsupport::postgres::PgDatabase;

use crate::common::kafka::read_topic;

/// A database of the test's own for one JDBC data source.
pub enum Database {
    Maria(MariaDatabase),
    Pg(PgDatabase),
}

impl Database {
    /// MariaDB or PostgreSQL, by the data source's name.
    pub async fn for_source(job: &str, name: &str) -> Database {
        let n = name.to_lowercase();
        if n.contains("mysql") || n.contains("maria") {
            Database::Maria(MariaDatabase::create("weir_ie").await)
        } else if n.contains("pg") || n.contains("postgres") {
            Database::Pg(PgDatabase::create("weir_ie").await)
        } else {
            panic!(
                "{job}: JDBC data source `{name}`: this test tells MariaDB from PostgreSQL by the \
                 name (mysql_…, pg_…); name it so, or teach tests/instances_examples.rs its kind"
            )
        }
    }

    pub fn url(&self) -> String {
        match self {
            Database::Maria(d) => d.url(),
            Database::Pg(d) => d.url(),
        }
    }

    pub fn mysql(&self) -> bool {
        matches!(self, Database::Maria(_))
    }

    pub fn quote(&self, name: &str) -> String {
        if self.mysql() {
            format!("`{name}`")
        } else {
            format!("\"{name}\"")
        }
    }

    pub async fn execute(&self, sql: &str) {
        match self {
            Database::Maria(d) => d.execute(sql).await,
            Database::Pg(d) => d.execute(sql).await,
        }
    }

    pub async fn remove(&self) {
        match self {
            Database::Maria(d) => d.remove().await,
            Database::Pg(d) => d.remove().await,
        }
    }

    /// The SQL type of a column holding `values` (the expected rows' values).
    pub fn column_type<'a>(&self, values: impl Iterator<Item = &'a Value>) -> &'static str {
        let values: Vec<&Value> = values.filter(|v| !v.is_null()).collect();
        let my = self.mysql();
        if !values.is_empty() && values.iter().all(|v| v.is_i64() || v.is_u64()) {
            "BIGINT"
        } else if !values.is_empty() && values.iter().all(|v| v.is_number()) {
            if my { "DOUBLE" } else { "DOUBLE PRECISION" }
        } else if !values.is_empty() && values.iter().all(|v| v.is_boolean()) {
            "BOOLEAN"
        } else if !values.is_empty() && values.iter().all(|v| v.as_str().is_some_and(is_ts)) {
            if my { "DATETIME(3)" } else { "TIMESTAMP(3)" }
        } else if my {
            "VARCHAR(255)"
        } else {
            "TEXT"
        }
    }

    /// Creates the table of `sink` from the columns of its expected rows.
    pub async fn create_table(&self, sink: &JdbcSink, rows: &[Map<String, Value>]) {
        let columns = columns_of(rows);
        assert!(
            !columns.is_empty(),
            "sink `{}`: expected.jsonl holds no row to build table {} from",
            sink.id,
            sink.table
        );
        let mut defs: Vec<String> = columns
            .iter()
            .map(|c| {
                let ty = self.column_type(rows.iter().filter_map(|r| r.get(c)));
                format!("{} {ty}", self.quote(c))
            })
            .collect();
        if let JdbcOperation::Upsert { key } = &sink.operation {
            let key: Vec<String> = key.iter().map(|k| self.quote(k)).collect();
            defs.push(format!("PRIMARY KEY ({})", key.join(", ")));
        }
        self.execute(&format!(
            "CREATE TABLE {} ({})",
            sink.table,
            defs.join(", ")
        ))
        .await;
    }

    /// The rows of `table` as JSON, columns as the expected rows name them.
    pub async fn rows(
        &self,
        table: &str,
        columns: &[String],
        ts: &BTreeSet<String>,
    ) -> Vec<Map<String, Value>> {
        let select: Vec<String> = columns
            .iter()
            .map(|c| {
                let q = self.quote(c);
                match (self.mysql(), ts.contains(c)) {
                    (true, true) => format!("LEFT(DATE_FORMAT({q}, '%Y-%m-%d %H:%i:%s.%f'), 23)"),
                    (true, false) => format!("CAST({q} AS CHAR)"),
                    (false, true) => format!("to_char({q}, 'YYYY-MM-DD HH24:MI:SS.MS')"),
                    (false, false) => format!("{q}::text"),
                }
            })
            .collect();
        let sql = format!("SELECT {} FROM {table}", select.join(", "));
        let texts: Vec<Vec<Option<String>>> = match self {
            Database::Maria(d) => {
                let pool = d.pool().await;
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                rows.iter()
                    .map(|r| (0..columns.len()).map(|i| r.get(i)).collect())
                    .collect()
            }
            Database::Pg(d) => {
                let pool = d.pool().await;
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                rows.iter()
                    .map(|r| (0..columns.len()).map(|i| r.get(i)).collect())
                    .collect()
            }
        };
        texts
            .into_iter()
            .map(|values| {
                columns
                    .iter()
                    .cloned()
                    .zip(values.into_iter().map(typed))
                    .collect()
            })
            .collect()
    }
}

/// `YYYY-MM-DD HH:MM:SS.mmm`, as expected.jsonl writes timestamps.
pub fn is_ts(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 23
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

/// Every column any expected row names, in first-seen order.
pub fn columns_of(rows: &[Map<String, Value>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !out.contains(k) {
                out.push(k.clone());
            }
        }
    }
    out
}

/// Text from the database back to JSON numbers where it parses as one.
pub fn typed(s: Option<String>) -> Value {
    match s {
        None => Value::Null,
        Some(s) => {
            if let Ok(i) = s.parse::<i64>() {
                return Value::from(i);
            }
            if let Ok(f) = s.parse::<f64>() {
                return serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or(Value::Null);
            }
            Value::String(s)
        }
    }
}

/// What one example's sinks should hold and where they are.
pub struct Sinks {
    pub expected: SinkRows,
    pub jdbc: Vec<(JdbcSink, String)>,
    pub kafka: Vec<(String, String)>,
    pub redis: Vec<RedisSink>,
    pub databases: BTreeMap<String, Database>,
}

impl Sinks {
    /// (sink, rows received, rows expected) of every sink.
    pub async fn counts(&self, bootstrap: &str) -> Vec<(String, usize, usize)> {
        let actual = self.read(bootstrap, true).await;
        self.expected
            .iter()
            .map(|(s, rows)| (s.clone(), actual.get(s).map_or(0, Vec::len), rows.len()))
            .collect()
    }

    /// What the JDBC and Kafka sinks hold; Redis sinks as one row per key.
    pub async fn read(&self, bootstrap: &str, settle: bool) -> SinkRows {
        let mut actual = SinkRows::new();
        for (sink, ds) in &self.jdbc {
            let rows = &self.expected[&sink.id];
            let columns = columns_of(rows);
            let ts: BTreeSet<String> = columns
                .iter()
                .filter(|c| {
                    rows.iter()
                        .any(|r| r.get(*c).and_then(Value::as_str).is_some_and(is_ts))
                })
                .cloned()
                .collect();
            actual.insert(
                sink.id.clone(),
                self.databases[ds].rows(&sink.table, &columns, &ts).await,
            );
        }
        for (sink, topic) in &self.kafka {
            let want = if settle { self.expected[sink].len() } else { 0 };
            actual.insert(
                sink.clone(),
                read_topic(bootstrap, topic, crate::PARTITIONS, want),
            );
        }
        for r in &self.redis {
            let keys = redis_keys(r).await;
            actual.insert(
                r.id.clone(),
                keys.keys()
                    .map(|k| Map::from_iter([("key".to_string(), Value::from(k.clone()))]))
                    .collect(),
            );
        }
        actual
    }
}

/// The keys a Redis sink wrote (its key prefix is the test's own), with their members or
/// value as text and scores (ZADD).
pub async fn redis_keys(r: &RedisSink) -> BTreeMap<String, Vec<(String, f64)>> {
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let prefix = r.key_prefix.clone().unwrap_or_default();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut con)
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for k in keys {
        let members: Vec<(String, f64)> = match r.command {
            RedisCommand::Zadd => redis::cmd("ZRANGE")
                .arg(&k)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query_async(&mut con)
                .await
                .unwrap(),
            _ => Vec::new(),
        };
        out.insert(k, members);
    }
    out
}

/// The expected keys of a Redis sink, one row per key (as [`Sinks::read`] reads them).
pub fn redis_expected(r: &RedisSink, rows: &[Map<String, Value>]) -> Vec<Map<String, Value>> {
    let keys: BTreeSet<String> = rows
        .iter()
        .map(|row| weir_engine::sink::redis::RedisSink::key(r, row))
        .collect();
    keys.into_iter()
        .map(|k| Map::from_iter([("key".to_string(), Value::from(k))]))
        .collect()
}

/// ZADD: every key holds exactly the members its expected rows name, each with the score
/// of one of those rows (which one depends on the order the windows fired in).
pub async fn check_zadd(job: &str, r: &RedisSink, rows: &[Map<String, Value>]) {
    if r.command != RedisCommand::Zadd {
        return;
    }
    let mut want: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for row in rows {
        let key = weir_engine::sink::redis::RedisSink::key(r, row);
        let member = r
            .value
            .first()
            .and_then(|v| row.get(v))
            .map(weir_engine::rows::plain_text)
            .unwrap_or_default();
        let score = r
            .score
            .as_ref()
            .and_then(|s| row.get(s))
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        want.entry(key)
            .or_default()
            .entry(member)
            .or_default()
            .push(score);
    }
    let got = redis_keys(r).await;
    for (key, members) in &want {
        let held = got
            .get(key)
            .unwrap_or_else(|| panic!("{job}: Redis key {key} missing"));
        let names: BTreeSet<&String> = held.iter().map(|(m, _)| m).collect();
        assert_eq!(names, members.keys().collect(), "{job}: members of {key}");
        for (m, score) in held {
            assert!(
                members[m].contains(score),
                "{job}: {key} {m} has score {score}, expected one of {:?}",
                members[m]
            );
        }
    }
}
