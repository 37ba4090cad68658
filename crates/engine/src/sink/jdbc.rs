//! JdbcSink over sqlx: MySQL/MariaDB and PostgreSQL, INSERT or upsert (`ON DUPLICATE KEY
//! UPDATE` / `ON CONFLICT (key) DO UPDATE`). Rows are buffered up to `batch_size` (or
//! until `flush_interval_ms` or the end of the input), keeping only the last row per key
//! for an upsert, written in multi-row statements of at most 60 000 bound values, retried
//! per `on_error`, and rows that still fail are written one by one so that only the bad
//! ones go to the dead-letter file. Timestamps
//! are bound as text and cast to SQL timestamps (sqlx is built without chrono).
//! Under checkpoints an Insert sink commits each checkpoint's rows with its id in one
//! transaction (`jdbc/commit.rs`).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, *};
use arrow::record_batch::RecordBatch;
use futures::future::BoxFuture;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use weir_model::model::{DataSourceKind, ErrorPolicy, JdbcOperation, JdbcSink as Node};

use super::Sink;
use crate::deadletter::DeadLetter;
use crate::error::{EngineError, Result};
use crate::metrics::NodeMetrics;
use crate::resolve::Connection;
use crate::rows::format_ts_ms;

/// Binds every value of `$rows` (rows of [`SqlValue`]s) to the query `$q`, in order.
macro_rules! bind_rows {
    ($q:expr, $rows:expr) => {{
        let mut q = $q;
        for row in $rows {
            for v in row {
                q = match v {
                    SqlValue::I64(x) => q.bind(*x),
                    SqlValue::F64(x) => q.bind(*x),
                    SqlValue::Bool(x) => q.bind(*x),
                    SqlValue::Text(x) | SqlValue::Timestamp(x) => q.bind(x.clone()),
                };
            }
        }
        q
    }};
}

mod commit;

/// One value to bind, typed so that NULLs carry the right SQL type.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    I64(Option<i64>),
    F64(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    /// `YYYY-MM-DD HH:MM:SS.mmm`, cast to TIMESTAMP in the statement.
    Timestamp(Option<String>),
}

/// Where a row came from: (partition, offset) of its source record, when known.
type Origin = Option<(i32, i64)>;

enum Pool {
    Pg(PgPool),
    My(MySqlPool),
}

/// A JDBC-style sink to one table.
pub struct JdbcSink {
    node: Node,
    pool: Pool,
    columns: Vec<String>,
    /// Rows not yet written, as bound values in `columns` order; `write` flushes them
    /// once there are `batch_size`, and `flush` (on the node's interval, and at the end)
    /// writes the rest.
    buffer: Vec<Vec<SqlValue>>,
    /// The source record of each buffered row, where known (the sink reads a source).
    origins: Vec<Option<(i32, i64)>>,
    /// The origin of the next batch's rows ([`Sink::set_origin`]).
    origin: Option<Arc<Vec<(i32, i64)>>>,
    key_index: Vec<usize>,
    deadletter: Arc<DeadLetter>,
    metrics: Arc<NodeMetrics>,
    ts_columns: Vec<bool>,
    /// Whether `weir_commits` is known to exist (created on the first commit).
    commits_ready: bool,
    /// "database data source `x` of sink `y`", for errors.
    what: String,
    /// The data source's address, for errors.
    address: String,
}

/// How long the first connection may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a write waits for a connection of the pool before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A failure to connect to the sink's database, its cause in plain words first
/// ("connection refused", "no such host"); a refusal by the database itself (a login, a
/// database name) stays the user's to fix.
fn connect_error(what: &str, address: &str, e: sqlx::Error) -> EngineError {
    let reason = weir_model::connect_error::describe(&e);
    match EngineError::at(what, address, e) {
        EngineError::Unavailable { what, address, .. } => EngineError::Unavailable {
            what,
            address,
            reason,
        },
        other => other,
    }
}

/// Opens and closes one connection, so that a database that is down fails the start at
/// once with its reason (the pool would retry a refused connection for 30 s and then
/// report only its own timeout).
async fn probe<O>(options: &O) -> std::result::Result<(), sqlx::Error>
where
    O: sqlx::ConnectOptions,
    O::Connection: Sized,
{
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(connection)) => sqlx::Connection::close(connection).await,
        Ok(Err(e)) => Err(e),
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        ))),
    }
}

impl JdbcSink {
    /// Connects to the data source; `schema` is the upstream's output schema.
    pub async fn connect(
        node: &Node,
        ds_name: &str,
        ds: &Connection,
        schema: &Schema,
        deadletter: Arc<DeadLetter>,
        metrics: Arc<NodeMetrics>,
    ) -> Result<Self> {
        let columns: Vec<String> = match &node.columns {
            Some(c) => c.clone(),
            None => schema.fields().iter().map(|f| f.name().clone()).collect(),
        };
        for c in &columns {
            if schema.column_with_name(c).is_none() {
                return Err(EngineError::Plan(format!(
                    "{}: column `{c}` is not in the upstream's output ({})",
                    node.id,
                    schema
                        .fields()
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let key_index = match &node.operation {
            JdbcOperation::Insert => vec![],
            JdbcOperation::Upsert { key } => key
                .iter()
                .map(|k| {
                    columns.iter().position(|c| c == k).ok_or_else(|| {
                        EngineError::Plan(format!(
                            "{}: upsert key `{k}` is not one of the written columns",
                            node.id
                        ))
                    })
                })
                .collect::<Result<_>>()?,
        };
        let ts_columns = columns
            .iter()
            .map(|c| {
                schema
                    .field_with_name(c)
                    .map(|f| matches!(f.data_type(), DataType::Timestamp(_, _)))
                    .unwrap_or(false)
            })
            .collect();
        let password = crate::resolve::password(ds_name, ds)?;
        let url = if ds.address.contains("://") {
            ds.address.clone()
        } else {
            let scheme = if ds.kind == DataSourceKind::Postgres {
                "postgres"
            } else {
                "mysql"
            };
            let db = ds.options.get("database").map(String::as_str).unwrap_or("");
            format!("{scheme}://{}/{db}", ds.address)
        };
        let what = format!("database data source `{ds_name}` of sink `{}`", node.id);
        let connect_err = |e: sqlx::Error| connect_error(&what, &ds.address, e);
        let pool = match ds.kind {
            DataSourceKind::Postgres => {
                let mut o = PgConnectOptions::from_str(&url).map_err(connect_err)?;
                if let Some(u) = &ds.user {
                    o = o.username(u);
                }
                if let Some(p) = &password {
                    o = o.password(p);
                }
                probe(&o).await.map_err(connect_err)?;
                Pool::Pg(
                    PgPoolOptions::new()
                        .max_connections(2)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_with(o)
                        .await
                        .map_err(connect_err)?,
                )
            }
            DataSourceKind::Mysql => {
                let mut o = MySqlConnectOptions::from_str(&url).map_err(connect_err)?;
                if let Some(u) = &ds.user {
                    o = o.username(u);
                }
                if let Some(p) = &password {
                    o = o.password(p);
                }
                probe(&o).await.map_err(connect_err)?;
                Pool::My(
                    MySqlPoolOptions::new()
                        .max_connections(2)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_with(o)
                        .await
                        .map_err(connect_err)?,
                )
            }
            other => {
                return Err(EngineError::unsupported(
                    format!("JdbcSink `{}` to a {} data source", node.id, other.name()),
                    Some("weir writes JDBC rows to Mysql and Postgres"),
                ));
            }
        };
        Ok(JdbcSink {
            node: node.clone(),
            pool,
            what,
            address: ds.address.clone(),
            columns,
            buffer: vec![],
            origins: vec![],
            origin: None,
            key_index,
            deadletter,
            metrics,
            ts_columns,
            commits_ready: false,
        })
    }

    fn quote(&self, ident: &str) -> String {
        match self.pool {
            Pool::Pg(_) => format!("\"{}\"", ident.replace('"', "\"\"")),
            Pool::My(_) => format!("`{}`", ident.replace('`', "``")),
        }
    }

    fn table(&self) -> String {
        match &self.node.database {
            Some(db) => format!("{}.{}", self.quote(db), self.quote(&self.node.table)),
            None => self.quote(&self.node.table),
        }
    }

    /// The statement for `rows` rows.
    fn statement(&self, rows: usize) -> String {
        let pg = matches!(self.pool, Pool::Pg(_));
        let cols: Vec<String> = self.columns.iter().map(|c| self.quote(c)).collect();
        let mut sql = format!("INSERT INTO {} ({}) VALUES ", self.table(), cols.join(", "));
        let mut n = 0;
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (c, ts) in self.ts_columns.iter().enumerate() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                let p = if pg { format!("${n}") } else { "?".to_string() };
                if *ts && pg {
                    sql.push_str(&format!("CAST({p} AS TIMESTAMP)"));
                } else {
                    sql.push_str(&p);
                }
            }
            sql.push(')');
        }
        if let JdbcOperation::Upsert { key } = &self.node.operation {
            let rest: Vec<&String> = self.columns.iter().filter(|c| !key.contains(c)).collect();
            if pg {
                let keys: Vec<String> = key.iter().map(|k| self.quote(k)).collect();
                if rest.is_empty() {
                    sql.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", keys.join(", ")));
                } else {
                    let set: Vec<String> = rest
                        .iter()
                        .map(|c| format!("{0} = EXCLUDED.{0}", self.quote(c)))
                        .collect();
                    sql.push_str(&format!(
                        " ON CONFLICT ({}) DO UPDATE SET {}",
                        keys.join(", "),
                        set.join(", ")
                    ));
                }
            } else {
                let set: Vec<String> = if rest.is_empty() {
                    vec![format!("{0} = {0}", self.quote(&key[0]))]
                } else {
                    rest.iter()
                        .map(|c| format!("{0} = VALUES({0})", self.quote(c)))
                        .collect()
                };
                sql.push_str(&format!(" ON DUPLICATE KEY UPDATE {}", set.join(", ")));
            }
        }
        sql
    }

    async fn execute(&self, rows: &[Vec<SqlValue>]) -> std::result::Result<(), sqlx::Error> {
        // identifiers are quoted (quotes doubled) and every value is bound
        let sql = self.statement(rows.len());
        match &self.pool {
            Pool::Pg(p) => bind_rows!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), rows)
                .execute(p)
                .await
                .map(|_| ()),
            Pool::My(p) => bind_rows!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), rows)
                .execute(p)
                .await
                .map(|_| ()),
        }
    }

    /// The rows of `batch` as bound values in `columns` order.
    fn rows_of(&self, batch: &RecordBatch) -> Vec<Vec<SqlValue>> {
        let cols: Vec<ArrayRef> = self
            .columns
            .iter()
            .filter_map(|c| batch.column_by_name(c).cloned())
            .collect();
        (0..batch.num_rows())
            .map(|i| cols.iter().map(|c| sql_value(c, i)).collect())
            .collect()
    }

    /// For an upsert, the last row per key with its origin (one statement must not touch
    /// a key twice); other operations keep every row.
    fn last_per_key(
        &self,
        rows: Vec<Vec<SqlValue>>,
        origins: Vec<Origin>,
    ) -> (Vec<Vec<SqlValue>>, Vec<Origin>) {
        if self.key_index.is_empty() {
            return (rows, origins);
        }
        let mut seen = std::collections::HashSet::new();
        let mut kept: Vec<Vec<SqlValue>> = Vec::with_capacity(rows.len());
        let mut kept_origins = Vec::with_capacity(rows.len());
        for (row, origin) in rows.into_iter().zip(origins).rev() {
            let key: Vec<String> = self
                .key_index
                .iter()
                .map(|k| format!("{:?}", row[*k]))
                .collect();
            if seen.insert(key) {
                kept.push(row);
                kept_origins.push(origin);
            }
        }
        kept.reverse();
        kept_origins.reverse();
        (kept, kept_origins)
    }

    /// How many rows one statement writes (at most 60 000 bound values).
    fn rows_per_statement(&self) -> usize {
        (60_000 / self.columns.len().max(1)).max(1)
    }

    /// Writes `row` (which the database refused with `error`) to the dead-letter file.
    fn dead_letter(&self, row: &[SqlValue], origin: Option<(i32, i64)>, error: &str) {
        self.metrics.errors.fetch_add(1, Relaxed);
        let payload = serde_json::Value::Object(
            self.columns
                .iter()
                .cloned()
                .zip(row.iter().map(sql_json))
                .collect(),
        )
        .to_string();
        self.deadletter.write(
            origin.map(|o| o.0),
            origin.map(|o| o.1),
            error,
            payload.as_bytes(),
        );
        self.metrics.dead_letters.fetch_add(1, Relaxed);
    }

    async fn write_with_policy(
        &self,
        rows: &[Vec<SqlValue>],
        origins: &[Option<(i32, i64)>],
    ) -> Result<()> {
        let (retries, mut backoff) = match self.node.on_error {
            ErrorPolicy::Retry { max, backoff_ms } => (max, backoff_ms),
            _ => (0, 0),
        };
        let mut attempt = 0;
        let err = loop {
            match self.execute(rows).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt < retries => {
                    tracing::warn!(
                        "{}: write failed (attempt {}): {e}",
                        self.node.id,
                        attempt + 1
                    );
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                }
                Err(e) => break e,
            }
        };
        if self.node.on_error == ErrorPolicy::Fail {
            return Err(EngineError::at(
                format!("{} (writing to table {})", self.what, self.node.table),
                &self.address,
                err,
            ));
        }
        // isolate the failing rows
        for (i, row) in rows.iter().enumerate() {
            if let Err(e) = self.execute(std::slice::from_ref(row)).await {
                self.dead_letter(row, origins.get(i).copied().flatten(), &e.to_string());
            }
        }
        Ok(())
    }
}

fn sql_json(v: &SqlValue) -> serde_json::Value {
    match v {
        SqlValue::I64(x) => serde_json::json!(x),
        SqlValue::F64(x) => serde_json::json!(x),
        SqlValue::Bool(x) => serde_json::json!(x),
        SqlValue::Text(x) | SqlValue::Timestamp(x) => serde_json::json!(x),
    }
}

/// Row `i` of `column` as a bindable value.
pub fn sql_value(column: &ArrayRef, i: usize) -> SqlValue {
    let null = column.is_null(i);
    macro_rules! int {
        ($t:ty) => {
            SqlValue::I64((!null).then(|| column.as_primitive::<$t>().value(i) as i64))
        };
    }
    match column.data_type() {
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float32 => {
            SqlValue::F64((!null).then(|| column.as_primitive::<Float32Type>().value(i) as f64))
        }
        DataType::Float64 => {
            SqlValue::F64((!null).then(|| column.as_primitive::<Float64Type>().value(i)))
        }
        DataType::Boolean => SqlValue::Bool((!null).then(|| column.as_boolean().value(i))),
        DataType::Timestamp(_, _) => {
            SqlValue::Timestamp((!null).then(|| match crate::rows::value_at(column, i) {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }))
        }
        _ => SqlValue::Text(
            (!null).then(|| crate::rows::plain_text(&crate::rows::value_at(column, i))),
        ),
    }
}

impl Sink for JdbcSink {
    fn write<'a>(&'a mut self, batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let origin = self.origin.take();
            for (i, row) in self.rows_of(batch).into_iter().enumerate() {
                self.buffer.push(row);
                self.origins
                    .push(origin.as_ref().and_then(|o| o.get(i).copied()));
                if self.buffer.len() >= self.node.batch_size.max(1) as usize {
                    self.flush().await?;
                }
            }
            Ok(())
        })
    }

    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            if self.buffer.is_empty() {
                return Ok(());
            }
            let rows = std::mem::take(&mut self.buffer);
            let mut origins = std::mem::take(&mut self.origins);
            origins.resize(rows.len(), None);
            let (rows, origins) = self.last_per_key(rows, origins);
            let per_statement = self.rows_per_statement();
            for (chunk, origins) in rows
                .chunks(per_statement)
                .zip(origins.chunks(per_statement))
            {
                self.write_with_policy(chunk, origins).await?;
            }
            Ok(())
        })
    }

    fn flush_interval(&self) -> Option<Duration> {
        (self.node.flush_interval_ms > 0)
            .then(|| Duration::from_millis(self.node.flush_interval_ms))
    }

    fn set_origin(&mut self, origin: Option<Arc<Vec<(i32, i64)>>>) {
        self.origin = origin;
    }

    fn commit_epoch<'a>(
        &'a mut self,
        key: &'a str,
        epoch: u64,
        batches: Vec<RecordBatch>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.commit_rows(key, epoch, batches))
    }

    fn committed_epoch<'a>(&'a mut self, key: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(self.committed(key))
    }
}

/// Whether a Timestamp value formats as SQL text (used by tests).
pub fn sql_timestamp(ms: i64) -> String {
    format_ts_ms(ms)
}
