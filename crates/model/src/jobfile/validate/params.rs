//! Parameter rules of each operator kind (SPEC R-job): topic names, column lists,
//! batch and flush limits, Redis command rules, event time and watermarks.

use std::collections::BTreeSet;

use super::{Checker, MAX_PARALLELISM, identifier_problem, topic_name_problem};
use crate::jobfile::de::did_you_mean;
use crate::model::*;

impl Checker<'_> {
    pub(super) fn parallelism(&mut self, i: usize, p: Option<u32>) {
        if let Some(p) = p
            && (p == 0 || p > MAX_PARALLELISM)
        {
            self.error(
                self.at(i, &["parallelism"]),
                "parallelism",
                format!("parallelism {p} is out of range"),
                format!("use 1 to {MAX_PARALLELISM}, or leave it out for the job default"),
            );
        }
    }

    pub(super) fn non_empty(&mut self, i: usize, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.error(
                self.at(i, &[field]),
                "empty",
                format!("`{field}` is empty"),
                None,
            );
        }
    }

    pub(super) fn columns(&mut self, i: usize, field: &str, cols: &[String]) {
        if cols.is_empty() {
            self.error(
                self.at(i, &[field]),
                "empty-columns",
                format!("the column list `{field}` is empty"),
                "name at least one column".to_string(),
            );
        }
        let mut seen = BTreeSet::new();
        for (k, c) in cols.iter().enumerate() {
            if c.trim().is_empty() {
                self.error(
                    self.at_item(i, field, k),
                    "empty",
                    format!("`{field}` holds an empty column name"),
                    None,
                );
            } else if !seen.insert(c.as_str()) {
                self.error(
                    self.at_item(i, field, k),
                    "duplicate-column",
                    format!("column `{c}` appears twice in `{field}`"),
                    None,
                );
            }
        }
    }

    pub(super) fn fields(&mut self, i: usize, field: &str, fields: &[Field]) {
        for (k, f) in fields.iter().enumerate() {
            if let FieldType::Decimal(p, sc) = f.ty
                && (p == 0 || p > 38 || sc > p)
            {
                self.error(
                    self.at_item(i, field, k),
                    "decimal",
                    format!(
                        "Decimal({p}, {sc}) of field `{}` is not a valid type",
                        f.name
                    ),
                    "precision is 1 to 38 and scale at most the precision, e.g. Decimal(10, 2)"
                        .to_string(),
                );
            }
        }
        if fields.is_empty() {
            self.error(
                self.at(i, &[field]),
                "empty-columns",
                format!("the field list `{field}` is empty"),
                "declare at least one field: (name: \"id\", type: String)".to_string(),
            );
        }
        let mut seen = BTreeSet::new();
        for (k, f) in fields.iter().enumerate() {
            if let Some(msg) = identifier_problem("field name", &f.name) {
                self.error(self.at_item(i, field, k), "field-name", msg, None);
            } else if !seen.insert(f.name.to_lowercase()) {
                self.error(
                    self.at_item(i, field, k),
                    "duplicate-column",
                    format!("field `{}` is declared twice in `{field}`", f.name),
                    None,
                );
            }
        }
    }

    pub(super) fn event_time(
        &mut self,
        i: usize,
        event_time: &Option<String>,
        watermark_ms: u64,
        fields: Option<&[Field]>,
    ) {
        let id = self.job.nodes[i].id().to_string();
        let kind = self.job.nodes[i].kind();
        // a broken `config` was left out: its default time characteristic would mislead
        let config_known = !self.d.head_dropped.contains("config");
        match (self.job.config.time, event_time) {
            _ if !config_known => {}
            (TimeCharacteristic::Event, None) => self.error(
                self.d.node_values[i].head_span(),
                "event-time",
                format!("{kind} `{id}` has no `event_time`, but the job uses event time"),
                "name the record's time field: event_time: Some(\"ts\")".to_string(),
            ),
            (TimeCharacteristic::Processing, Some(_)) => self.warn(
                self.at(i, &["event_time"]),
                "event-time",
                format!("{kind} `{id}` sets `event_time`, but the job uses processing time, so it is ignored"),
                "set config: (time: Event, ...) to use it".to_string(),
            ),
            _ => {}
        }
        if event_time.is_none() && watermark_ms > 0 {
            self.warn(
                self.at(i, &["watermark_ms"]),
                "watermark",
                format!("`watermark_ms` of `{id}` has no effect without `event_time`"),
                None,
            );
        }
        if let (Some(et), Some(fields)) = (event_time, fields) {
            match fields.iter().find(|f| f.name == *et) {
                None => {
                    let hint = did_you_mean(et, fields.iter().map(|f| f.name.as_str()))
                        .map(|m| format!("did you mean `{m}`?"));
                    self.error(
                        self.at(i, &["event_time"]),
                        "event-time",
                        format!("event-time field `{et}` is not among the fields of `{id}`"),
                        hint,
                    );
                }
                Some(f) if !matches!(f.ty, FieldType::Timestamp | FieldType::BigInt) => self.error(
                    self.at(i, &["event_time"]),
                    "event-time",
                    format!("event-time field `{et}` has type {:?}", f.ty),
                    "an event-time field is a Timestamp or epoch milliseconds (BigInt)".to_string(),
                ),
                _ => {}
            }
        }
    }

    pub(super) fn topic(&mut self, i: usize, topic: &str) {
        if let Some(msg) = topic_name_problem(topic) {
            self.error(
                self.at(i, &["topic"]),
                "topic-name",
                msg,
                "letters, digits and `_`, starting with a letter, 2 to 35 characters".to_string(),
            );
        }
    }

    pub(super) fn batch(&mut self, i: usize, batch: u32) {
        if batch == 0 {
            self.error(
                self.at(i, &["batch_size"]),
                "batch-size",
                "`batch_size` is 0".into(),
                "use 1 or more rows per batch".to_string(),
            );
        }
    }

    pub(super) fn operator(&mut self, i: usize, node: &Operator) {
        self.parallelism(i, node.parallelism());
        if let Some(ds) = node.datasource() {
            self.non_empty(i, "datasource", ds);
        }
        match node {
            Operator::KafkaSource(k) => {
                self.topic(i, &k.topic);
                if let Some(f) = &k.fields {
                    self.fields(i, "fields", f);
                }
                self.event_time(i, &k.event_time, k.watermark_ms, k.fields.as_deref());
                if let Some(g) = &k.group {
                    self.non_empty(i, "group", g);
                }
                if k.properties.keys().any(|p| p.trim().is_empty()) {
                    self.error(
                        self.at(i, &["properties"]),
                        "empty",
                        "a client property has an empty name".into(),
                        None,
                    );
                }
            }
            Operator::TempTableSource(t) => {
                if let Some(msg) = identifier_problem("temp table name", &t.name) {
                    self.error(self.at(i, &["name"]), "table-name", msg, None);
                }
                self.fields(i, "fields", &t.fields);
                self.event_time(i, &t.event_time, t.watermark_ms, Some(&t.fields));
            }
            Operator::Sql(_) => {}
            Operator::Etl(e) => {
                self.code(i, &e.code);
                self.fields(i, "output", &e.output);
            }
            Operator::Custom(c) => {
                self.non_empty(i, "package", &c.package);
                self.non_empty(i, "entry", &c.entry);
                match (&c.output, c.role) {
                    (None, Role::Source | Role::Transform) => self.error(
                        self.d.node_values[i].head_span(),
                        "custom-output",
                        format!(
                            "Custom `{}` acts as a {:?} and needs its `output` schema",
                            c.id, c.role
                        ),
                        "add output: Some([(name: \"...\", type: String)])".to_string(),
                    ),
                    (Some(f), _) => self.fields(i, "output", f),
                    _ => {}
                }
            }
            Operator::Lookup(l) => {
                self.non_empty(i, "table", &l.table);
                self.fields(i, "fields", &l.fields);
                self.columns(i, "key", &l.key);
                for (k, key) in l.key.iter().enumerate() {
                    if !l.fields.iter().any(|f| f.name == *key) && !key.trim().is_empty() {
                        self.error(
                            self.at_item(i, "key", k),
                            "unknown-column",
                            format!("lookup key `{key}` is not among the fields of `{}`", l.id),
                            None,
                        );
                    }
                }
                match l.cache {
                    Cache::Lru { size: 0, .. } => self.error(
                        self.at(i, &["cache", "size"]),
                        "cache",
                        "LRU cache size is 0".into(),
                        "use at least 1 entry".to_string(),
                    ),
                    Cache::All { ttl_ms: 0 } | Cache::Lru { ttl_ms: 0, .. } => self.warn(
                        self.at(i, &["cache", "ttl_ms"]),
                        "cache",
                        "cache `ttl_ms` is 0: entries never expire".into(),
                        None,
                    ),
                    _ => {}
                }
            }
            Operator::JdbcSink(j) => {
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
            Operator::HbaseSink(h) => {
                self.non_empty(i, "table", &h.table);
                self.non_empty(i, "family", &h.family);
                self.non_empty(i, "rowkey", &h.rowkey);
                self.batch(i, h.batch_size);
            }
            Operator::KafkaSink(k) => {
                self.topic(i, &k.topic);
                if k.properties.keys().any(|p| p.trim().is_empty()) {
                    self.error(
                        self.at(i, &["properties"]),
                        "empty",
                        "a client property has an empty name".into(),
                        None,
                    );
                }
                if let Some(key) = &k.key {
                    self.columns(i, "key", key);
                }
            }
            Operator::RedisSink(r) => {
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
            Operator::EsSink(e) => {
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
            Operator::HiveSink(h) => {
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
            Operator::TempTableSink(t) => {
                if let Some(msg) = identifier_problem("temp table name", &t.name) {
                    self.error(self.at(i, &["name"]), "table-name", msg, None);
                }
            }
            Operator::PrintSink(p) => {
                if let Some(path) = &p.path {
                    self.non_empty(i, "path", path);
                }
            }
        }
    }

    pub(super) fn code(&mut self, i: usize, code: &Code) {
        match code {
            Code::Script(s) if s.trim().is_empty() => self.error(
                self.at(i, &["code"]),
                "empty",
                "the ETL script is empty".into(),
                None,
            ),
            Code::Package { path, entry } if path.trim().is_empty() || entry.trim().is_empty() => {
                self.error(
                    self.at(i, &["code"]),
                    "empty",
                    "the ETL package needs a path and an entry".into(),
                    None,
                )
            }
            _ => {}
        }
    }
}
