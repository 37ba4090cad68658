//! RedisSink: one command per row (incr, incrByFloat, set, sadd, zadd, rpush, lpush,
//! hset), key = key_prefix + key fields joined by the separator, optional TTL; one
//! pipeline per batch. Under checkpoints INCR, INCRBYFLOAT and the list pushes commit each
//! checkpoint's commands and its id (`weir:commit:<key>`) in one MULTI/EXEC block.

use std::time::Duration;

use arrow::record_batch::RecordBatch;
use futures::future::BoxFuture;
use weir_model::model::{RedisCommand, RedisSink as Node};

use super::Sink;
use crate::error::{EngineError, Result};
use crate::resolve::Connection;
use crate::rows::{batch_to_json, plain_text};

/// Writes rows to Redis.
pub struct RedisSink {
    node: Node,
    con: redis::aio::MultiplexedConnection,
    /// "Redis data source `x` of sink `y`", for errors.
    what: String,
    /// The data source's address, for errors.
    address: String,
}

impl RedisSink {
    /// Connects to `ds` (`host:port` or a `redis://` URL).
    pub async fn connect(node: &Node, ds_name: &str, ds: &Connection) -> Result<Self> {
        let mut url = if ds.address.contains("://") {
            ds.address.clone()
        } else {
            format!("redis://{}", ds.address)
        };
        if let Some(p) = crate::resolve::password(ds_name, ds)? {
            let user = ds.user.clone().unwrap_or_default();
            if let Some(rest) = url.strip_prefix("redis://") {
                url = format!("redis://{user}:{p}@{rest}");
            }
        }
        let what = format!("Redis data source `{ds_name}` of sink `{}`", node.id);
        let err = |e: redis::RedisError| EngineError::at(what.clone(), &ds.address, e);
        let client = redis::Client::open(url.as_str()).map_err(err)?;
        let con = client
            .get_multiplexed_async_connection()
            .await
            .map_err(err)?;
        Ok(RedisSink {
            node: node.clone(),
            con,
            what,
            address: ds.address.clone(),
        })
    }

    /// The key of a row.
    pub fn key(node: &Node, row: &serde_json::Map<String, serde_json::Value>) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(p) = &node.key_prefix {
            parts.push(p.clone());
        }
        for k in &node.key {
            parts.push(row.get(k).map(plain_text).unwrap_or_default());
        }
        parts.join(&node.separator)
    }
}

/// The key that holds the last checkpoint committed under `key` (a sink's
/// `<lineage>/<node>`).
pub fn commit_key(key: &str) -> String {
    format!("weir:commit:{key}")
}

impl RedisSink {
    /// Adds the commands of `batch`'s rows to `pipe`, their replies ignored.
    fn add_rows(&self, pipe: &mut redis::Pipeline, batch: &RecordBatch) {
        for row in batch_to_json(batch) {
            let key = Self::key(&self.node, &row);
            let value = |name: &str| row.get(name).map(plain_text).unwrap_or_default();
            let first = self
                .node
                .value
                .first()
                .map(|v| value(v))
                .unwrap_or_default();
            let cmd = match self.node.command {
                RedisCommand::Incr => pipe.cmd("INCRBY").arg(&key).arg(&first),
                RedisCommand::IncrByFloat => pipe.cmd("INCRBYFLOAT").arg(&key).arg(&first),
                RedisCommand::Set => pipe.cmd("SET").arg(&key).arg(&first),
                RedisCommand::Sadd => pipe.cmd("SADD").arg(&key).arg(&first),
                RedisCommand::Rpush => pipe.cmd("RPUSH").arg(&key).arg(&first),
                RedisCommand::Lpush => pipe.cmd("LPUSH").arg(&key).arg(&first),
                RedisCommand::Zadd => {
                    let score = self
                        .node
                        .score
                        .as_deref()
                        .map(value)
                        .unwrap_or_else(|| "0".into());
                    pipe.cmd("ZADD").arg(&key).arg(&score).arg(&first)
                }
                RedisCommand::Hset => {
                    let c = pipe.cmd("HSET").arg(&key);
                    for v in &self.node.value {
                        c.arg(v).arg(value(v));
                    }
                    c
                }
            };
            cmd.ignore();
            if let Some(ttl) = self.node.ttl_ms {
                pipe.cmd("PEXPIRE").arg(&key).arg(ttl).ignore();
            }
        }
    }

    fn error(&self, doing: &str, e: redis::RedisError) -> EngineError {
        if doing.is_empty() {
            EngineError::at(self.what.clone(), &self.address, e)
        } else {
            EngineError::at(format!("{} ({doing})", self.what), &self.address, e)
        }
    }
}

impl Sink for RedisSink {
    fn write<'a>(&'a mut self, batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut pipe = redis::pipe();
            self.add_rows(&mut pipe, batch);
            pipe.query_async::<()>(&mut self.con)
                .await
                .map_err(|e| self.error("", e))
        })
    }

    /// MULTI, the rows' commands, SET of the marker, EXEC: Redis applies the block as a
    /// whole or (the connection lost before EXEC) not at all. A command that fails inside
    /// EXEC (INCRBY on a key that holds text) does not undo the others: Redis has no
    /// rollback; the error fails the commit and the run.
    fn commit_epoch<'a>(
        &'a mut self,
        key: &'a str,
        epoch: u64,
        batches: Vec<RecordBatch>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for batch in &batches {
                self.add_rows(&mut pipe, batch);
            }
            pipe.cmd("SET").arg(commit_key(key)).arg(epoch).ignore();
            pipe.query_async::<()>(&mut self.con)
                .await
                .map_err(|e| self.error(&format!("committing checkpoint {epoch}"), e))
        })
    }

    fn committed_epoch<'a>(&'a mut self, key: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let marker = commit_key(key);
            let found: Option<String> = redis::cmd("GET")
                .arg(&marker)
                .query_async(&mut self.con)
                .await
                .map_err(|e| self.error(&format!("reading {marker}"), e))?;
            match found {
                None => Ok(0),
                Some(text) => text.parse().map_err(|_| {
                    EngineError::Config(format!(
                        "{}: key {marker} holds `{text}`, not a checkpoint id; weir keeps its commit marker there (delete the key to write every held checkpoint again)",
                        self.what
                    ))
                }),
            }
        })
    }

    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn flush_interval(&self) -> Option<Duration> {
        None
    }
}
