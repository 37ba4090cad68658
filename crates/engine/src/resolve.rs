//! Where data sources are: name → (kind, address, user, password reference, options).
//! Layers, later ones winning: the metadata store (`extend`, when it lands), the job's
//! own `datasources`, then `--set` overrides. Passwords stay references (`env:NAME`,
//! `file:PATH`) until a connector needs them, and are never printed.

use std::collections::BTreeMap;
use std::fmt;

use weir_model::model::{DataSourceDecl, DataSourceKind, Job, Operator as Node};

use crate::error::{EngineError, Result};

/// One resolved data source.
#[derive(Clone, PartialEq)]
pub struct DataSource {
    pub kind: DataSourceKind,
    pub address: String,
    pub user: Option<String>,
    /// A reference (`env:NAME`, `file:PATH`) or, from `--set`, a literal.
    pub password: Option<String>,
    pub options: BTreeMap<String, String>,
}

impl fmt::Debug for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataSource")
            .field("kind", &self.kind)
            .field("address", &self.address)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("options", &self.options)
            .finish()
    }
}

impl From<&DataSourceDecl> for DataSource {
    fn from(d: &DataSourceDecl) -> Self {
        DataSource {
            kind: d.kind,
            address: d.address.clone(),
            user: d.user.clone(),
            password: d.password.clone(),
            options: d.options.clone(),
        }
    }
}

impl DataSource {
    /// The password, with `env:`/`file:` references read now. Errors name the reference
    /// but never the secret.
    pub fn password(&self, name: &str) -> Result<Option<String>> {
        let Some(p) = &self.password else {
            return Ok(None);
        };
        if p.starts_with("env:") || p.starts_with("file:") {
            let secret = weir_model::model::secret::SecretRef::parse(p)
                .and_then(|r| r.resolve())
                .map_err(|e| EngineError::Other(format!("data source `{name}`: password: {e}")))?;
            return Ok(Some(secret));
        }
        Ok(Some(p.clone()))
    }
}

/// Data source name → where it is.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    sources: BTreeMap<String, DataSource>,
}

impl Resolver {
    /// The job's own data sources.
    pub fn from_job(job: &Job) -> Self {
        let mut r = Resolver::default();
        for (name, d) in &job.datasources {
            r.sources.insert(name.clone(), d.into());
        }
        r
    }

    /// Adds data sources from another layer (the metadata store) without overriding the
    /// ones already known: call this after `from_job` and before `set`.
    pub fn extend_missing(&mut self, sources: impl IntoIterator<Item = (String, DataSource)>) {
        for (name, d) in sources {
            self.sources.entry(name).or_insert(d);
        }
    }

    /// Adds or replaces one data source.
    pub fn insert(&mut self, name: impl Into<String>, source: DataSource) {
        self.sources.insert(name.into(), source);
    }

    /// Applies one `--set` override: `NAME=ADDRESS`, `NAME.address=..`, `NAME.user=..`,
    /// `NAME.password=env:X`, `NAME.kind=postgres`, `NAME.<option>=..`. A new name takes
    /// its kind from `NAME.kind`, the address scheme, or the operators of `job` using it.
    pub fn set(&mut self, job: &Job, assignment: &str) -> Result<()> {
        let (lhs, value) = assignment.split_once('=').ok_or_else(|| {
            EngineError::Other(format!(
                "--set {assignment}: expected NAME=ADDRESS or NAME.user=USER, NAME.password=env:VAR"
            ))
        })?;
        let (name, key) = lhs.split_once('.').unwrap_or((lhs, "address"));
        if name.is_empty() {
            return Err(EngineError::Other(format!(
                "--set {assignment}: the data source name is empty"
            )));
        }
        if !self.sources.contains_key(name) {
            let kind = if key == "kind" {
                parse_kind(value)?
            } else {
                infer_kind(job, name, if key == "address" { value } else { "" }).ok_or_else(|| {
                    EngineError::Other(format!(
                        "--set {assignment}: cannot tell what kind of data source `{name}` is; add --set {name}.kind=mysql|postgres|kafka|redis"
                    ))
                })?
            };
            self.sources.insert(
                name.to_string(),
                DataSource {
                    kind,
                    address: String::new(),
                    user: None,
                    password: None,
                    options: BTreeMap::new(),
                },
            );
        }
        let Some(d) = self.sources.get_mut(name) else {
            return Ok(());
        };
        match key {
            "address" => {
                d.address = value.to_string();
                if let Some(kind) = scheme_kind(value) {
                    d.kind = kind;
                }
            }
            "user" => d.user = Some(value.to_string()),
            "password" => d.password = Some(value.to_string()),
            "kind" => d.kind = parse_kind(value)?,
            option => {
                d.options.insert(option.to_string(), value.to_string());
            }
        }
        Ok(())
    }

    /// The data source `name`, used by node `node`; the error says how to give it.
    pub fn get(&self, node: &str, name: &str) -> Result<&DataSource> {
        match self.sources.get(name) {
            Some(d) if !d.address.is_empty() => Ok(d),
            _ => Err(EngineError::Other(format!(
                "operator `{node}`: data source `{name}` is not known; declare it in the job's `datasources`, register it in the metadata store, or pass --set {name}=ADDRESS"
            ))),
        }
    }

    /// Every known name, for messages.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sources.keys().map(String::as_str)
    }
}

fn parse_kind(s: &str) -> Result<DataSourceKind> {
    DataSourceKind::ALL
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(s))
        .or(match s.to_ascii_lowercase().as_str() {
            "mariadb" => Some(DataSourceKind::Mysql),
            "postgresql" | "pg" => Some(DataSourceKind::Postgres),
            _ => None,
        })
        .ok_or_else(|| EngineError::Other(format!("unknown data source kind `{s}`")))
}

fn scheme_kind(address: &str) -> Option<DataSourceKind> {
    let scheme = address.split_once("://")?.0.to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => Some(DataSourceKind::Postgres),
        "mysql" | "mariadb" => Some(DataSourceKind::Mysql),
        "redis" | "rediss" => Some(DataSourceKind::Redis),
        _ => None,
    }
}

fn infer_kind(job: &Job, name: &str, address: &str) -> Option<DataSourceKind> {
    if let Some(k) = scheme_kind(address) {
        return Some(k);
    }
    job.nodes
        .iter()
        .filter(|n| n.datasource() == Some(name))
        .find_map(|n| match n {
            Node::KafkaSource(_) | Node::KafkaSink(_) => Some(DataSourceKind::Kafka),
            Node::RedisSink(_) => Some(DataSourceKind::Redis),
            Node::HbaseSink(_) => Some(DataSourceKind::Hbase),
            Node::EsSink(_) => Some(DataSourceKind::Elasticsearch),
            Node::HiveSink(_) => Some(DataSourceKind::Hive),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../jobs/iot_alerts.ron");
        let checked = weir_model::jobfile::check_file(&path);
        checked.job.expect("the example job reads")
    }

    #[test]
    fn set_infers_kinds_and_hides_passwords() {
        let job = job();
        let mut r = Resolver::from_job(&job);
        r.set(&job, "kafka_iot=127.0.0.1:9092").unwrap();
        r.set(&job, "mysql_ops=mysql://root@127.0.0.1:3306/test")
            .unwrap();
        r.set(&job, "mysql_ops.password=env:WEIR_TEST_NOT_SET_X")
            .unwrap();
        assert_eq!(r.get("n", "kafka_iot").unwrap().kind, DataSourceKind::Kafka);
        let my = r.get("n", "mysql_ops").unwrap();
        assert_eq!(my.kind, DataSourceKind::Mysql);
        assert!(!format!("{my:?}").contains("WEIR_TEST"));
        assert!(
            my.password("mysql_ops")
                .unwrap_err()
                .to_string()
                .contains("WEIR_TEST_NOT_SET_X")
        );
        let err = r.get("to_pg", "pg_x").unwrap_err().to_string();
        assert!(err.contains("--set pg_x=ADDRESS"), "{err}");
        assert!(r.set(&job, "other=somewhere").is_err());
    }
}
