//! JdbcSink's transactional commits ([`crate::sink::Delivery::Transactional`]): the rows
//! of a checkpoint and the checkpoint's id, in one database transaction. The id goes to
//! `weir_commits(sink, checkpoint)` in the sink's database (beside the table when the
//! node names a database), created the first time it is needed; a restore reads it back
//! and writes again only the checkpoints after it.
//!
//! The node's `on_error` holds as for direct writes: `Retry` retries the whole
//! transaction; with `Skip` (or once the retries are spent) a statement the database
//! refuses is rolled back to a savepoint and its rows tried one by one, so that only the
//! rows it refuses go to the dead-letter file (after the transaction committed);
//! with `Fail` a refusal fails the commit and the run.

use std::time::Duration;

use arrow::record_batch::RecordBatch;
use sha2::{Digest, Sha256};
use sqlx::{MySql, Postgres, Transaction};
use weir_model::model::ErrorPolicy;

use super::{JdbcSink, Pool, SqlValue};
use crate::error::{EngineError, Result};

/// The table of commit markers.
const COMMITS: &str = "weir_commits";

/// The longest marker key (`weir_commits.sink` is a VARCHAR(255)).
const KEY_MAX: usize = 255;

/// A row the database refused, with its reason.
type Refused = (usize, String);

/// `key` as stored in `weir_commits.sink`: itself, or `sha256:<hex>` when it is longer
/// than the column.
fn marker_key(key: &str) -> String {
    if key.len() <= KEY_MAX {
        key.to_string()
    } else {
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}

/// Runs a statement without values on the pool, over the text protocol.
async fn plain(pool: &Pool, sql: String) -> std::result::Result<(), sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(sql);
    match pool {
        Pool::Pg(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Pool::My(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
}

/// An open transaction on the sink's database.
enum Tx {
    Pg(Transaction<'static, Postgres>),
    My(Transaction<'static, MySql>),
}

impl Tx {
    async fn begin(pool: &Pool) -> std::result::Result<Tx, sqlx::Error> {
        Ok(match pool {
            Pool::Pg(p) => Tx::Pg(p.begin().await?),
            Pool::My(p) => Tx::My(p.begin().await?),
        })
    }

    /// Runs `sql` with every value of `rows` bound.
    async fn rows(
        &mut self,
        sql: &str,
        rows: &[Vec<SqlValue>],
    ) -> std::result::Result<(), sqlx::Error> {
        match self {
            Tx::Pg(tx) => bind_rows!(sqlx::query(sqlx::AssertSqlSafe(sql)), rows)
                .execute(&mut **tx)
                .await
                .map(|_| ()),
            Tx::My(tx) => bind_rows!(sqlx::query(sqlx::AssertSqlSafe(sql)), rows)
                .execute(&mut **tx)
                .await
                .map(|_| ()),
        }
    }

    /// Runs a statement without values over the text protocol (savepoints).
    async fn plain(&mut self, sql: &str) -> std::result::Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self {
            Tx::Pg(tx) => sqlx::raw_sql(sql).execute(&mut **tx).await.map(|_| ()),
            Tx::My(tx) => sqlx::raw_sql(sql).execute(&mut **tx).await.map(|_| ()),
        }
    }

    /// Records `checkpoint` as the last one committed under `key`.
    async fn mark(
        &mut self,
        sql: &str,
        key: &str,
        checkpoint: i64,
    ) -> std::result::Result<(), sqlx::Error> {
        match self {
            Tx::Pg(tx) => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(key)
                .bind(checkpoint)
                .execute(&mut **tx)
                .await
                .map(|_| ()),
            Tx::My(tx) => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(key)
                .bind(checkpoint)
                .execute(&mut **tx)
                .await
                .map(|_| ()),
        }
    }

    async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        match self {
            Tx::Pg(tx) => tx.commit().await,
            Tx::My(tx) => tx.commit().await,
        }
    }

    /// Runs `sql` inside savepoint `name`; a refusal rolls back to the savepoint (the
    /// transaction stays usable) and is returned as `Ok(Err(_))`. A failure to roll
    /// back (a lost connection) is the outer error.
    async fn guarded(
        &mut self,
        name: &str,
        sql: &str,
        rows: &[Vec<SqlValue>],
    ) -> std::result::Result<std::result::Result<(), sqlx::Error>, sqlx::Error> {
        self.plain(&format!("SAVEPOINT {name}")).await?;
        match self.rows(sql, rows).await {
            Ok(()) => {
                self.plain(&format!("RELEASE SAVEPOINT {name}")).await?;
                Ok(Ok(()))
            }
            Err(e) => {
                self.plain(&format!("ROLLBACK TO SAVEPOINT {name}")).await?;
                self.plain(&format!("RELEASE SAVEPOINT {name}")).await?;
                Ok(Err(e))
            }
        }
    }
}

impl JdbcSink {
    /// `weir_commits`, qualified and quoted as the sink's table is.
    fn commits_table(&self) -> String {
        match &self.node.database {
            Some(db) => format!("{}.{}", self.quote(db), self.quote(COMMITS)),
            None => self.quote(COMMITS),
        }
    }

    /// What a commit failure names: the data source, the table and the checkpoint.
    fn commit_what(&self, epoch: u64) -> String {
        format!(
            "{} (committing checkpoint {epoch} to table {})",
            self.what, self.node.table
        )
    }

    /// Creates `weir_commits` unless this sink already saw it.
    async fn ensure_commits_table(&mut self) -> Result<()> {
        if self.commits_ready {
            return Ok(());
        }
        let table = self.commits_table();
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {table} ({} VARCHAR(255) PRIMARY KEY, {} BIGINT NOT NULL)",
            self.quote("sink"),
            self.quote("checkpoint")
        );
        let probe = format!("SELECT 1 FROM {table} WHERE 1 = 0");
        if let Err(e) = plain(&self.pool, create).await {
            // another sink on the same database may have created it at the same moment
            if plain(&self.pool, probe).await.is_err() {
                return Err(EngineError::at(
                    format!(
                        "{} (creating the commit marker table {table}; the sink's login needs CREATE on its database, or create it: {COMMITS}(sink VARCHAR(255) PRIMARY KEY, checkpoint BIGINT NOT NULL))",
                        self.what
                    ),
                    &self.address,
                    e,
                ));
            }
        }
        self.commits_ready = true;
        Ok(())
    }

    /// The checkpoint last committed under `key` (0: none).
    async fn read_marker(&self, key: &str) -> std::result::Result<u64, sqlx::Error> {
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = {}",
            self.quote("checkpoint"),
            self.commits_table(),
            self.quote("sink"),
            if matches!(self.pool, Pool::Pg(_)) {
                "$1"
            } else {
                "?"
            }
        );
        let key = marker_key(key);
        let found: Option<i64> = match &self.pool {
            Pool::Pg(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(key)
                    .fetch_optional(p)
                    .await?
            }
            Pool::My(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(key)
                    .fetch_optional(p)
                    .await?
            }
        };
        Ok(found.and_then(|c| u64::try_from(c).ok()).unwrap_or(0))
    }

    /// [`crate::sink::Sink::committed_epoch`].
    pub(super) async fn committed(&mut self, key: &str) -> Result<u64> {
        self.ensure_commits_table().await?;
        self.read_marker(key).await.map_err(|e| {
            EngineError::at(
                format!(
                    "{} (reading the last committed checkpoint from {})",
                    self.what,
                    self.commits_table()
                ),
                &self.address,
                e,
            )
        })
    }

    /// The statement that records a commit marker.
    fn mark_statement(&self) -> String {
        let (sink, checkpoint) = (self.quote("sink"), self.quote("checkpoint"));
        match self.pool {
            Pool::Pg(_) => format!(
                "INSERT INTO {} ({sink}, {checkpoint}) VALUES ($1, $2) ON CONFLICT ({sink}) DO UPDATE SET {checkpoint} = EXCLUDED.{checkpoint}",
                self.commits_table()
            ),
            Pool::My(_) => format!(
                "INSERT INTO {} ({sink}, {checkpoint}) VALUES (?, ?) ON DUPLICATE KEY UPDATE {checkpoint} = VALUES({checkpoint})",
                self.commits_table()
            ),
        }
    }

    /// [`crate::sink::Sink::commit_epoch`]: `batches` and `epoch` under `key`, in one
    /// transaction, retried and dead-lettered per the node's `on_error`.
    pub(super) async fn commit_rows(
        &mut self,
        key: &str,
        epoch: u64,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        let checkpoint = i64::try_from(epoch).map_err(|_| {
            EngineError::Internal(format!(
                "{}: checkpoint id {epoch} does not fit weir_commits.checkpoint (BIGINT)",
                self.node.id
            ))
        })?;
        self.ensure_commits_table().await?;
        let rows: Vec<Vec<SqlValue>> = batches.iter().flat_map(|b| self.rows_of(b)).collect();
        let origins = vec![None; rows.len()];
        let (rows, _) = self.last_per_key(rows, origins);
        let (retries, mut backoff) = match self.node.on_error {
            ErrorPolicy::Retry { max, backoff_ms } => (max, backoff_ms),
            _ => (0, 0),
        };
        let mut attempt = 0;
        loop {
            let isolate = self.node.on_error != ErrorPolicy::Fail && attempt == retries;
            match self.try_commit(key, checkpoint, &rows, isolate).await {
                Ok(refused) => {
                    for (i, error) in refused {
                        if let Some(row) = rows.get(i) {
                            self.dead_letter(row, None, &error);
                        }
                    }
                    return Ok(());
                }
                Err(e) if attempt < retries => {
                    tracing::warn!(
                        "{}: commit of checkpoint {epoch} failed (attempt {}): {e}",
                        self.node.id,
                        attempt + 1
                    );
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                    // the commit may have gone through with only its answer lost
                    if self.read_marker(key).await.ok() == Some(epoch) {
                        return Ok(());
                    }
                }
                Err(e) => return Err(EngineError::at(self.commit_what(epoch), &self.address, e)),
            }
        }
    }

    /// One attempt: every row and the marker in one transaction. With `isolate`, a
    /// statement the database refuses is rolled back to a savepoint and its rows tried
    /// one by one; the refused ones are returned (by index) and left out.
    async fn try_commit(
        &self,
        key: &str,
        checkpoint: i64,
        rows: &[Vec<SqlValue>],
        isolate: bool,
    ) -> std::result::Result<Vec<Refused>, sqlx::Error> {
        let mut tx = Tx::begin(&self.pool).await?;
        let mut refused = Vec::new();
        let per_statement = self.rows_per_statement();
        for (n, chunk) in rows.chunks(per_statement).enumerate() {
            let sql = self.statement(chunk.len());
            if !isolate {
                tx.rows(&sql, chunk).await?;
                continue;
            }
            if tx.guarded("weir_chunk", &sql, chunk).await?.is_ok() {
                continue;
            }
            let one = self.statement(1);
            for (i, row) in chunk.iter().enumerate() {
                if let Err(e) = tx
                    .guarded("weir_row", &one, std::slice::from_ref(row))
                    .await?
                {
                    refused.push((n * per_statement + i, e.to_string()));
                }
            }
        }
        tx.mark(&self.mark_statement(), &marker_key(key), checkpoint)
            .await?;
        tx.commit().await?;
        Ok(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_marker_keys_are_hashed_to_fit_the_column() {
        assert_eq!(marker_key("lineage/out"), "lineage/out");
        let long = "x".repeat(300);
        let k = marker_key(&long);
        assert!(k.starts_with("sha256:") && k.len() == 71, "{k}");
        assert_eq!(k, marker_key(&long));
    }
}
