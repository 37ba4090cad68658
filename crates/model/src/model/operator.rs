// Long because it holds every operator kind's parameters and defaults side by side, which
// is what `formats/job-v1.md` documents field by field.
//! Operators of a job graph: sources, transforms and sinks, with their parameters and
//! defaults (SPEC R-job). The rules that tie parameters together live in
//! `jobfile::validate`, not here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One node of the job graph. The RON variant name is the operator kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum Node {
    KafkaSource(KafkaSource),
    TempTableSource(TempTableSource),
    Sql(Sql),
    Etl(Etl),
    Custom(Custom),
    Lookup(Lookup),
    JdbcSink(JdbcSink),
    HbaseSink(HbaseSink),
    KafkaSink(KafkaSink),
    RedisSink(RedisSink),
    EsSink(EsSink),
    HiveSink(HiveSink),
    TempTableSink(TempTableSink),
    PrintSink(PrintSink),
}

/// Where an operator may stand in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum Role {
    /// Produces records; has no inputs.
    Source,
    /// Consumes and produces records.
    Transform,
    /// Consumes records; has no outputs.
    Sink,
}

/// Every operator kind, as written in job files, with a one-line description (the graph
/// editor's palette shows these).
pub const OPERATOR_KINDS: [(&str, &str); 14] = [
    ("KafkaSource", "read a Kafka topic as a table"),
    ("TempTableSource", "read a temp table another job writes"),
    ("Sql", "Flink-style streaming SQL over upstream tables"),
    (
        "Etl",
        "per-record script or package code with a declared output schema",
    ),
    ("Custom", "package code acting as source, transform or sink"),
    (
        "Lookup",
        "dimension table for lookup joins (ALL or LRU cache)",
    ),
    ("JdbcSink", "write to MySQL, Oracle or Postgres"),
    ("HbaseSink", "put or increment HBase cells"),
    ("KafkaSink", "write to a Kafka topic"),
    ("RedisSink", "write Redis keys (set, incr, zadd, hset, ...)"),
    ("EsSink", "index documents into Elasticsearch"),
    ("HiveSink", "write partitioned files of a Hive table"),
    ("TempTableSink", "write a temp table other jobs can read"),
    ("PrintSink", "print rows to stdout or a file, for debugging"),
];

macro_rules! each_operator {
    ($self:expr, $op:ident => $body:expr) => {
        match $self {
            Node::KafkaSource($op) => $body,
            Node::TempTableSource($op) => $body,
            Node::Sql($op) => $body,
            Node::Etl($op) => $body,
            Node::Custom($op) => $body,
            Node::Lookup($op) => $body,
            Node::JdbcSink($op) => $body,
            Node::HbaseSink($op) => $body,
            Node::KafkaSink($op) => $body,
            Node::RedisSink($op) => $body,
            Node::EsSink($op) => $body,
            Node::HiveSink($op) => $body,
            Node::TempTableSink($op) => $body,
            Node::PrintSink($op) => $body,
        }
    };
}

impl Node {
    pub fn id(&self) -> &str {
        each_operator!(self, op => &op.id)
    }

    pub fn set_id(&mut self, id: String) {
        each_operator!(self, op => op.id = id)
    }

    pub fn parallelism(&self) -> Option<u32> {
        each_operator!(self, op => op.parallelism)
    }

    /// The kind as written in job files, e.g. `KafkaSource`.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::KafkaSource(_) => "KafkaSource",
            Node::TempTableSource(_) => "TempTableSource",
            Node::Sql(_) => "Sql",
            Node::Etl(_) => "Etl",
            Node::Custom(_) => "Custom",
            Node::Lookup(_) => "Lookup",
            Node::JdbcSink(_) => "JdbcSink",
            Node::HbaseSink(_) => "HbaseSink",
            Node::KafkaSink(_) => "KafkaSink",
            Node::RedisSink(_) => "RedisSink",
            Node::EsSink(_) => "EsSink",
            Node::HiveSink(_) => "HiveSink",
            Node::TempTableSink(_) => "TempTableSink",
            Node::PrintSink(_) => "PrintSink",
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Node::KafkaSource(_) | Node::TempTableSource(_) | Node::Lookup(_) => Role::Source,
            Node::Sql(_) | Node::Etl(_) => Role::Transform,
            Node::Custom(c) => c.role,
            Node::JdbcSink(_)
            | Node::HbaseSink(_)
            | Node::KafkaSink(_)
            | Node::RedisSink(_)
            | Node::EsSink(_)
            | Node::HiveSink(_)
            | Node::TempTableSink(_)
            | Node::PrintSink(_) => Role::Sink,
        }
    }

    /// The data source this operator reads or writes, if it names one.
    pub fn datasource(&self) -> Option<&str> {
        match self {
            Node::KafkaSource(o) => Some(&o.datasource),
            Node::Lookup(o) => Some(&o.datasource),
            Node::JdbcSink(o) => Some(&o.datasource),
            Node::HbaseSink(o) => Some(&o.datasource),
            Node::KafkaSink(o) => Some(&o.datasource),
            Node::RedisSink(o) => Some(&o.datasource),
            Node::EsSink(o) => Some(&o.datasource),
            Node::HiveSink(o) => Some(&o.datasource),
            _ => None,
        }
    }

    /// The table name under which this operator's output is visible to downstream SQL:
    /// a source's `table` (default: its id), or the id of an ETL/custom operator.
    pub fn table_name(&self) -> Option<&str> {
        match self {
            Node::KafkaSource(o) => Some(o.table.as_deref().unwrap_or(&o.id)),
            Node::TempTableSource(o) => Some(o.table.as_deref().unwrap_or(&o.id)),
            Node::Lookup(o) => Some(o.alias.as_deref().unwrap_or(&o.id)),
            Node::Etl(o) => Some(&o.id),
            Node::Custom(o) if o.role != Role::Sink => Some(&o.id),
            _ => None,
        }
    }

    /// The declared schema of this operator's output, when the job file states it.
    pub fn declared_fields(&self) -> Option<&[Field]> {
        match self {
            Node::KafkaSource(o) => o.fields.as_deref(),
            Node::TempTableSource(o) => Some(&o.fields),
            Node::Lookup(o) => Some(&o.fields),
            Node::Etl(o) => Some(&o.output),
            Node::Custom(o) => o.output.as_deref(),
            _ => None,
        }
    }
}

/// A column of a table or topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum FieldType {
    String,
    Boolean,
    Int,
    BigInt,
    Float,
    Double,
    /// precision, scale
    Decimal(u8, u8),
    Date,
    /// Milliseconds since the epoch in JSON numbers, or an ISO-8601 text.
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum Format {
    #[default]
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum StartOffset {
    #[default]
    Latest,
    Earliest,
    /// Milliseconds since the epoch: start at the first record at or after this time.
    Timestamp(u64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct KafkaSource {
    pub id: String,
    pub datasource: String,
    pub topic: String,
    /// Name under which the structured stream is registered as a table (default: the id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    #[serde(default)]
    pub start: StartOffset,
    /// Consumer group (default: `weir-<job>-<id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Record format (default: the topic's format, else JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// Coerce values of the wrong type where possible (`1.7` → 1 for an integer) instead
    /// of dead-lettering the record (Flink's `json.ignore-parse-errors`); default strict.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lenient: bool,
    /// Event-time field: a timestamp or epoch-millisecond field of the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    /// Maximum out-of-orderness in ms; records later than this are dropped and counted.
    #[serde(default)]
    pub watermark_ms: u64,
    /// Record schema; absent = the topic's fields from the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<Field>>,
    /// Extra librdkafka client properties.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct TempTableSource {
    pub id: String,
    /// The temp table's name, as another job's TempTableSink writes it.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    #[serde(default)]
    pub watermark_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Sql {
    pub id: String,
    /// Flink-style streaming SQL: optional `CREATE VIEW name AS ...;` statements, then
    /// one query whose rows go to every downstream node.
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum Code {
    /// Online code in weir's embedded scripting language.
    Script(String),
    /// A prebuilt plugin file and the entry point inside it.
    Package { path: String, entry: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Etl {
    pub id: String,
    pub code: Code,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// The schema of the records the code returns.
    pub output: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Custom {
    pub id: String,
    pub role: Role,
    /// Plugin file, relative to the project.
    pub package: String,
    pub entry: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// Output schema (required for sources and transforms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Vec<Field>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum Cache {
    /// Whole table in memory, reloaded every `ttl_ms`.
    All { ttl_ms: u64 },
    /// Least-recently-used cache of at most `size` keys, each kept `ttl_ms`.
    Lru { size: u64, ttl_ms: u64 },
}

impl Default for Cache {
    fn default() -> Self {
        Cache::All { ttl_ms: 600_000 }
    }
}

/// A dimension table: SQL joins a stream against it (`JOIN dim FOR SYSTEM_TIME AS OF ...`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Lookup {
    pub id: String,
    /// mysql, oracle, postgres or redis data source.
    pub datasource: String,
    /// Table in the database (for redis: the key prefix).
    pub table: String,
    /// Name under which SQL sees the table (default: the id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Columns the stream looks up by.
    pub key: Vec<String>,
    pub fields: Vec<Field>,
    #[serde(default)]
    pub cache: Cache,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum JdbcOperation {
    #[default]
    Insert,
    /// Insert, or update the row with the same key.
    Upsert { key: Vec<String> },
}

/// What a sink does with a batch that fails to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum ErrorPolicy {
    /// Stop the job.
    Fail,
    /// Write failed rows to the dead-letter file and go on.
    Skip,
    /// Retry up to `max` times, `backoff_ms` apart (doubling), then dead-letter the rows.
    Retry { max: u32, backoff_ms: u64 },
}

impl Default for ErrorPolicy {
    fn default() -> Self {
        ErrorPolicy::Retry {
            max: 3,
            backoff_ms: 200,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct JdbcSink {
    pub id: String,
    pub datasource: String,
    /// Database (schema) name; default: the data source's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    pub table: String,
    #[serde(default)]
    pub operation: JdbcOperation,
    /// Columns to write (default: every upstream column, by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    #[serde(default = "one")]
    pub batch_size: u32,
    /// 0 = off.
    #[serde(default)]
    pub flush_interval_ms: u64,
    #[serde(default)]
    pub flush_on_checkpoint: bool,
    #[serde(default)]
    pub on_error: ErrorPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

pub fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum HbaseOperation {
    #[default]
    Put,
    Incr,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct HbaseSink {
    pub id: String,
    pub datasource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub table: String,
    pub family: String,
    /// The column whose value becomes the row key.
    pub rowkey: String,
    #[serde(default)]
    pub operation: HbaseOperation,
    #[serde(default = "hbase_batch")]
    pub batch_size: u32,
    #[serde(default = "hbase_flush")]
    pub flush_interval_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

pub fn hbase_batch() -> u32 {
    1000
}

pub fn hbase_flush() -> u64 {
    100
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct KafkaSink {
    pub id: String,
    pub datasource: String,
    pub topic: String,
    #[serde(default)]
    pub format: Format,
    /// Columns whose values, joined, form the record key (default: no key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum RedisCommand {
    Incr,
    IncrByFloat,
    Set,
    Sadd,
    Zadd,
    Rpush,
    Lpush,
    Hset,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct RedisSink {
    pub id: String,
    pub datasource: String,
    pub command: RedisCommand,
    /// Text put before the key fields (joined with the separator), e.g. `interest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    /// Fields whose values, joined by `separator`, form the key.
    pub key: Vec<String>,
    #[serde(default = "redis_separator")]
    pub separator: String,
    /// The value field; several only for `Hset` (field name = column name).
    pub value: Vec<String>,
    /// Score field, required for `Zadd` and only there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
    /// Key expiry in ms (default: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

pub fn redis_separator() -> String {
    ":".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct EsSink {
    pub id: String,
    pub datasource: String,
    pub index: String,
    /// Document type (Elasticsearch 6 and older; default `_doc`).
    #[serde(rename = "type", default = "es_type")]
    pub doc_type: String,
    /// Field whose value becomes the document id (default: generated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_field: Option<String>,
    /// 1 to 100,000.
    #[serde(default = "one")]
    pub batch_size: u32,
    /// 0 (off) to 100,000,000.
    #[serde(default = "es_flush")]
    pub flush_interval_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

pub fn es_type() -> String {
    "_doc".into()
}

pub fn es_flush() -> u64 {
    10_000
}

/// Elasticsearch sink limits (SPEC R-job).
pub const ES_MAX_BATCH: u32 = 100_000;
pub const ES_MAX_FLUSH_MS: u64 = 100_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum FileFormat {
    #[default]
    Parquet,
    Orc,
    Csv,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct HiveSink {
    pub id: String,
    pub datasource: String,
    pub database: String,
    pub table: String,
    /// Partition columns, outermost first (may be empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_by: Vec<String>,
    #[serde(default)]
    pub format: FileFormat,
    /// Close a file and start the next after this many ms.
    #[serde(default = "hive_rollover")]
    pub rollover_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

pub fn hive_rollover() -> u64 {
    300_000
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct TempTableSink {
    pub id: String,
    /// The temp table's name, as other jobs' TempTableSource reads it.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct PrintSink {
    pub id: String,
    /// File to append JSON lines to (default: standard output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
}
