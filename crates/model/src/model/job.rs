//! A job: config, operators (`nodes`) and the edges between them (format v1, see
//! formats/job-v1.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::alert::AlertRule;
use super::operator::Node;

/// The job file format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename = "Job")]
pub struct Job {
    pub version: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub mode: JobMode,
    #[serde(default)]
    pub config: JobConfig,
    /// Package mode only: the prebuilt plugin that is the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    /// Data sources declared in the job itself, for running it without a metadata store.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub datasources: BTreeMap<String, DataSourceDecl>,
    #[serde(default)]
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub edges: Vec<(String, String)>,
    /// Where the graph editor placed each node (column, row); absent = automatic layout.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub positions: BTreeMap<String, (u32, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum JobMode {
    /// A graph of operators, SQL and scripts, edited in weir.
    #[default]
    Online,
    /// A prebuilt plugin (the counterpart of the original's JAR mode).
    Package,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct JobConfig {
    #[serde(default)]
    pub time: TimeCharacteristic,
    /// 0 turns checkpoints off.
    #[serde(default = "default_checkpoint_interval")]
    pub checkpoint_interval_ms: u64,
    /// Default parallelism of operators that do not set their own.
    #[serde(default = "default_parallelism")]
    pub parallelism: u32,
    /// Custom environment parameters, passed to operators and the engine.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Alert rules of the job's running instances (SPEC R-mon); absent from the
    /// canonical text when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<AlertRule>,
}

pub fn default_checkpoint_interval() -> u64 {
    60_000
}

pub fn default_parallelism() -> u32 {
    1
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            time: TimeCharacteristic::default(),
            checkpoint_interval_ms: default_checkpoint_interval(),
            parallelism: default_parallelism(),
            env: BTreeMap::new(),
            alerts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum TimeCharacteristic {
    /// Records are processed by the wall clock of the machine.
    #[default]
    Processing,
    /// Records are processed by a time field they carry, with watermarks.
    Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Package {
    /// Path of the plugin file, relative to the project.
    pub path: String,
    /// Entry point (symbol or class) inside the plugin.
    pub entry: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

/// A data source as a job may declare it inline. Teams normally register data sources in
/// the metadata store instead; a job-local declaration wins for `weir run` and `weir test`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct DataSourceDecl {
    pub kind: DataSourceKind,
    /// host:port, URL or broker list, depending on the kind.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A reference, never the secret itself: `env:WEIR_SECRET_NAME` or `file:NAME` (weir's
    /// namespace, see [`super::secret`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum DataSourceKind {
    Mysql,
    Oracle,
    Postgres,
    Hive,
    Hbase,
    Elasticsearch,
    Ftp,
    S3,
    Kafka,
    Redis,
    Http,
}

impl DataSourceKind {
    pub const ALL: [DataSourceKind; 11] = [
        DataSourceKind::Mysql,
        DataSourceKind::Oracle,
        DataSourceKind::Postgres,
        DataSourceKind::Hive,
        DataSourceKind::Hbase,
        DataSourceKind::Elasticsearch,
        DataSourceKind::Ftp,
        DataSourceKind::S3,
        DataSourceKind::Kafka,
        DataSourceKind::Redis,
        DataSourceKind::Http,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DataSourceKind::Mysql => "Mysql",
            DataSourceKind::Oracle => "Oracle",
            DataSourceKind::Postgres => "Postgres",
            DataSourceKind::Hive => "Hive",
            DataSourceKind::Hbase => "Hbase",
            DataSourceKind::Elasticsearch => "Elasticsearch",
            DataSourceKind::Ftp => "Ftp",
            DataSourceKind::S3 => "S3",
            DataSourceKind::Kafka => "Kafka",
            DataSourceKind::Redis => "Redis",
            DataSourceKind::Http => "Http",
        }
    }
}

impl Job {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id() == id)
    }

    /// Ids of the nodes that feed `id`, in edge order.
    pub fn inputs<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.edges
            .iter()
            .filter(move |(_, to)| to == id)
            .map(|(from, _)| from.as_str())
    }

    /// Ids of the nodes that `id` feeds, in edge order.
    pub fn outputs<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.edges
            .iter()
            .filter(move |(from, _)| from == id)
            .map(|(_, to)| to.as_str())
    }
}
