//! Parameter rules of the sink kinds: JDBC, HBase, Kafka, Redis, Elasticsearch, Hive,
//! temp tables and print.

use std::collections::BTreeSet;

use crate::jobfile::validate::{Checker, identifier_problem};
use crate::model::*;

impl Checker<'_> {
    /// Table, columns, an upsert key among the columns, batch size and retry count.
    pub(super) fn jdbc_sink(&mut self, i: usize, j: &JdbcSink) {
        self.non_empty(i, "table", &j.table);
        if let Some(cols) = &j.columns {
            self.columns(i, "columns", cols);
        }
        if let JdbcOperation::Upsert { key } = &j.operation {
            if key.is_empty() {
                self.error(
                    self.at(i, &["operation"]),
                    "empty-columns",
                    "an upsert needs a non-empty `key`".into(),
                    "Upsert(key: [\"id\"])".to_string(),
                );
            }
            if let Some(cols) = &j.columns {
                for k in key.iter().filter(|k| !cols.contains(k)) {
                    self.error(
                        self.at(i, &["operation"]),
                        "unknown-column",
                        format!("upsert key `{k}` is not among `columns`"),
                        None,
                    );
                }
            }
        }
        self.batch(i, j.batch_size);
        if let ErrorPolicy::Retry { max, .. } = j.on_error
            && !(1..=100).contains(&max)
        {
            self.error(
                self.at(i, &["on_error", "max"]),
                "retry",
                format!("retry count {max} is out of range"),
                "use 1 to 100, or Skip / Fail".to_string(),
            );
        }
    }

    /// Table, column family, row key and batch size.
    pub(super) fn hbase_sink(&mut self, i: usize, h: &HbaseSink) {
        self.non_empty(i, "table", &h.table);
        self.non_empty(i, "family", &h.family);
        self.non_empty(i, "rowkey", &h.rowkey);
        self.batch(i, h.batch_size);
    }

    /// Topic name, client properties and the key columns.
    pub(super) fn kafka_sink(&mut self, i: usize, k: &KafkaSink) {
        self.topic(i, &k.topic);
        self.properties(i, &k.properties);
        if let Some(key) = &k.key {
            self.columns(i, "key", key);
        }
    }

    /// Key and value columns, separator, what each command takes (one value, a score)
    /// and the key TTL.
    pub(super) fn redis_sink(&mut self, i: usize, r: &RedisSink) {
        self.columns(i, "key", &r.key);
        self.columns(i, "value", &r.value);
        if r.separator.is_empty() {
            self.error(
                self.at(i, &["separator"]),
                "empty",
                "the key separator is empty".into(),
                "use e.g. \":\"".to_string(),
            );
        }
        if r.value.len() > 1 && r.command != RedisCommand::Hset {
            self.error(
                self.at(i, &["value"]),
                "redis-value",
                format!(
                    "{:?} takes one value field, found {}",
                    r.command,
                    r.value.len()
                ),
                "only Hset writes several fields".to_string(),
            );
        }
        match (r.command, &r.score) {
            (RedisCommand::Zadd, None) => self.error(
                self.at(i, &["command"]),
                "redis-score",
                "Zadd needs a score field".into(),
                "add score: Some(\"weight\")".to_string(),
            ),
            (RedisCommand::Zadd, Some(s)) if s.trim().is_empty() => self.error(
                self.at(i, &["score"]),
                "redis-score",
                "the score field is empty".into(),
                None,
            ),
            (cmd, Some(_)) if cmd != RedisCommand::Zadd => self.error(
                self.at(i, &["score"]),
                "redis-score",
                format!("`score` is only used by Zadd, not {cmd:?}"),
                "remove it".to_string(),
            ),
            _ => {}
        }
        if r.ttl_ms == Some(0) {
            self.error(
                self.at(i, &["ttl_ms"]),
                "redis-ttl",
                "ttl_ms 0 would expire keys at once".into(),
                "leave ttl_ms out for keys that never expire".to_string(),
            );
        }
    }

    /// A lowercase index name, batch size and flush interval within Elasticsearch's
    /// limits.
    pub(super) fn es_sink(&mut self, i: usize, e: &EsSink) {
        self.non_empty(i, "index", &e.index);
        if e.index.chars().any(|c| c.is_ascii_uppercase()) {
            self.error(
                self.at(i, &["index"]),
                "es-index",
                format!("Elasticsearch index `{}` has capital letters", e.index),
                format!("index names are lowercase: \"{}\"", e.index.to_lowercase()),
            );
        }
        if e.batch_size == 0 || e.batch_size > ES_MAX_BATCH {
            self.error(
                self.at(i, &["batch_size"]),
                "batch-size",
                format!("Elasticsearch batch size {} is out of range", e.batch_size),
                format!("use 1 to {ES_MAX_BATCH}"),
            );
        }
        if e.flush_interval_ms > ES_MAX_FLUSH_MS {
            self.error(
                self.at(i, &["flush_interval_ms"]),
                "flush-interval",
                format!(
                    "Elasticsearch flush interval {} ms is too long",
                    e.flush_interval_ms
                ),
                format!("use 0 (off) to {ES_MAX_FLUSH_MS} ms"),
            );
        }
    }

    /// Database, table, distinct partition columns and a non-zero rollover.
    pub(super) fn hive_sink(&mut self, i: usize, h: &HiveSink) {
        self.non_empty(i, "database", &h.database);
        self.non_empty(i, "table", &h.table);
        let mut seen = BTreeSet::new();
        for (k, p) in h.partition_by.iter().enumerate() {
            if !seen.insert(p) {
                self.error(
                    self.at_item(i, "partition_by", k),
                    "duplicate-column",
                    format!("partition column `{p}` appears twice"),
                    None,
                );
            }
        }
        if h.rollover_ms == 0 {
            self.error(
                self.at(i, &["rollover_ms"]),
                "rollover",
                "`rollover_ms` is 0".into(),
                "use e.g. 300000 (five minutes)".to_string(),
            );
        }
    }

    /// The table name is an identifier.
    pub(super) fn temp_table_sink(&mut self, i: usize, t: &TempTableSink) {
        if let Some(msg) = identifier_problem("temp table name", &t.name) {
            self.error(self.at(i, &["name"]), "table-name", msg, None);
        }
    }

    /// A file path, when given, is not empty.
    pub(super) fn print_sink(&mut self, i: usize, p: &PrintSink) {
        if let Some(path) = &p.path {
            self.non_empty(i, "path", path);
        }
    }
}
