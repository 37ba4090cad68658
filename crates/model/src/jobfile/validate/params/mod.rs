//! Parameter rules of each operator kind (SPEC R-job): topic names, column lists,
//! batch and flush limits, Redis command rules, event time and watermarks.
//! This file holds the dispatch and the rules several kinds share; each kind's own rules
//! are one function in the file of its family. Graph shape and SQL live elsewhere.

mod sinks;
mod sources;
mod transforms;

use std::collections::{BTreeMap, BTreeSet};

use super::{Checker, MAX_PARALLELISM, identifier_problem, topic_name_problem};
use crate::jobfile::de::did_you_mean;
use crate::model::*;

impl Checker<'_> {
    /// Parallelism, when set, is 1 to [`MAX_PARALLELISM`].
    fn parallelism(&mut self, i: usize, p: Option<u32>) {
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

    /// A required text field holds more than blanks.
    fn non_empty(&mut self, i: usize, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.error(
                self.at(i, &[field]),
                "empty",
                format!("`{field}` is empty"),
                None,
            );
        }
    }

    /// A column list is non-empty, without blank or repeated names.
    fn columns(&mut self, i: usize, field: &str, cols: &[String]) {
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

    /// Declared fields: valid decimals, at least one, valid names, none twice (any case).
    fn fields(&mut self, i: usize, field: &str, fields: &[Field]) {
        for (k, f) in fields.iter().enumerate() {
            if let FieldType::Decimal(p, sc) = f.ty
                && crate::values::decimal_problem(p, sc).is_some()
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

    /// Event time agrees with the job's time characteristic and names a Timestamp or
    /// BigInt field; a watermark without event time is a warning.
    fn event_time(
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

    /// A topic name follows SPEC R-topic.
    fn topic(&mut self, i: usize, topic: &str) {
        if let Some(msg) = topic_name_problem(topic) {
            self.error(
                self.at(i, &["topic"]),
                "topic-name",
                msg,
                "letters, digits and `_`, starting with a letter, 2 to 35 characters".to_string(),
            );
        }
    }

    /// A batch holds at least one row.
    fn batch(&mut self, i: usize, batch: u32) {
        if batch == 0 {
            self.error(
                self.at(i, &["batch_size"]),
                "batch-size",
                "`batch_size` is 0".into(),
                "use 1 or more rows per batch".to_string(),
            );
        }
    }

    /// The parameter rules of node `i`: the ones every kind shares, then its kind's own,
    /// in this order (the corpus snapshots pin the order of diagnostics).
    pub(super) fn operator(&mut self, i: usize, node: &Node) {
        self.parallelism(i, node.parallelism());
        if let Some(ds) = node.datasource() {
            self.non_empty(i, "datasource", ds);
        }
        match node {
            Node::KafkaSource(k) => self.kafka_source(i, k),
            Node::TempTableSource(t) => self.temp_table_source(i, t),
            // its query is checked with the whole job's SQL (query.rs)
            Node::Sql(_) => {}
            Node::Etl(e) => self.etl(i, e),
            Node::Custom(c) => self.custom(i, c),
            Node::Lookup(l) => self.lookup(i, l),
            Node::JdbcSink(j) => self.jdbc_sink(i, j),
            Node::HbaseSink(h) => self.hbase_sink(i, h),
            Node::KafkaSink(k) => self.kafka_sink(i, k),
            Node::RedisSink(r) => self.redis_sink(i, r),
            Node::EsSink(e) => self.es_sink(i, e),
            Node::HiveSink(h) => self.hive_sink(i, h),
            Node::TempTableSink(t) => self.temp_table_sink(i, t),
            Node::PrintSink(p) => self.print_sink(i, p),
        }
    }

    /// librdkafka client properties: no empty names.
    fn properties(&mut self, i: usize, properties: &BTreeMap<String, String>) {
        if properties.keys().any(|p| p.trim().is_empty()) {
            self.error(
                self.at(i, &["properties"]),
                "empty",
                "a client property has an empty name".into(),
                None,
            );
        }
    }
}
