//! Where data sources are: name → [`Connection`] (kind, address, user, password
//! reference, options). Layers, later ones winning: the metadata store (added by the app
//! with [`Resolver::extend_missing`], see `weir_app::engine::store_sources`), the job's
//! own `datasources`, then `--set` overrides. Passwords stay references (`env:NAME`,
//! `file:PATH`) until a connector reads them with [`password`], and are never printed.

use std::collections::BTreeMap;

use weir_model::model::secret::SecretRef;
use weir_model::model::{DataSourceKind, Job, Node};

use crate::error::{EngineError, Result};

pub use weir_model::model::Connection;
/// The name the connectors and tests have long used for a [`Connection`]; the same type.
pub use weir_model::model::Connection as DataSource;

/// The password of data source `name`, read now: a reference from its environment
/// variable or file, a `--set` literal as given. Errors (`Config`, the user's to fix)
/// name the data source and the reference, never the secret.
pub fn password(name: &str, connection: &Connection) -> Result<Option<String>> {
    let Some(text) = &connection.password else {
        return Ok(None);
    };
    if !SecretRef::looks_like_one(text) {
        return Ok(Some(text.clone()));
    }
    let reference =
        SecretRef::parse(text).map_err(|e| unreadable(name, format!("{e}; {}", e.fix())))?;
    match &reference {
        SecretRef::Env(var) => std::env::var(var).map_err(|_| {
            unreadable(
                name,
                format!("environment variable `{var}` is not set; export it before running weir"),
            )
        }),
        SecretRef::File(path) => std::fs::read_to_string(path)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|e| unreadable(name, format!("cannot read credential file `{path}`: {e}"))),
    }
    .map(Some)
}

/// Why the password of data source `name` could not be had (the user's to fix).
fn unreadable(name: &str, problem: String) -> EngineError {
    EngineError::Config(format!("data source `{name}`: password: {problem}"))
}

/// Data source name → where it is.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    sources: BTreeMap<String, Connection>,
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
    pub fn extend_missing(&mut self, sources: impl IntoIterator<Item = (String, Connection)>) {
        for (name, d) in sources {
            self.sources.entry(name).or_insert(d);
        }
    }

    /// Adds or replaces one data source.
    pub fn insert(&mut self, name: impl Into<String>, source: Connection) {
        self.sources.insert(name.into(), source);
    }

    /// Applies one `--set` override: `NAME=ADDRESS`, `NAME.address=..`, `NAME.user=..`,
    /// `NAME.password=env:X`, `NAME.kind=postgres`, `NAME.<option>=..`. A new name takes
    /// its kind from `NAME.kind`, the address scheme, or the operators of `job` using it.
    pub fn set(&mut self, job: &Job, assignment: &str) -> Result<()> {
        let (lhs, value) = assignment.split_once('=').ok_or_else(|| {
            EngineError::Config(format!(
                "--set {assignment}: expected NAME=ADDRESS or NAME.user=USER, NAME.password=env:VAR"
            ))
        })?;
        let (name, key) = lhs.split_once('.').unwrap_or((lhs, "address"));
        if name.is_empty() {
            return Err(EngineError::Config(format!(
                "--set {assignment}: the data source name is empty"
            )));
        }
        if !self.sources.contains_key(name) {
            let kind = if key == "kind" {
                parse_kind(value)?
            } else {
                infer_kind(job, name, if key == "address" { value } else { "" }).ok_or_else(|| {
                    EngineError::Config(format!(
                        "--set {assignment}: cannot tell what kind of data source `{name}` is; add --set {name}.kind=mysql|postgres|kafka|redis"
                    ))
                })?
            };
            self.sources
                .insert(name.to_string(), Connection::new(kind, String::new()));
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
            "password" => {
                // a reference is checked now; anything else is a literal given on purpose
                if SecretRef::looks_like_one(value) {
                    SecretRef::parse(value).map_err(|e| {
                        EngineError::Config(format!("--set {name}.password: {e}; {}", e.fix()))
                    })?;
                }
                d.password = Some(value.to_string());
            }
            "kind" => d.kind = parse_kind(value)?,
            option => {
                d.options.insert(option.to_string(), value.to_string());
            }
        }
        Ok(())
    }

    /// The data source `name`, used by node `node`; the error says how to give it.
    pub fn get(&self, node: &str, name: &str) -> Result<&Connection> {
        match self.sources.get(name) {
            Some(d) if !d.address.is_empty() => Ok(d),
            _ => Err(EngineError::Config(format!(
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
        .ok_or_else(|| EngineError::Config(format!("unknown data source kind `{s}`")))
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
        let err = password("mysql_ops", my).unwrap_err().to_string();
        assert!(err.contains("WEIR_TEST_NOT_SET_X"), "{err}");
        assert!(err.contains("data source `mysql_ops`"), "{err}");
        let err = r.get("to_pg", "pg_x").unwrap_err().to_string();
        assert!(err.contains("--set pg_x=ADDRESS"), "{err}");
        assert!(r.set(&job, "other=somewhere").is_err());
    }

    #[test]
    fn passwords_are_read_at_use_and_set_literals_pass() {
        let job = job();
        let mut r = Resolver::from_job(&job);
        r.set(&job, "kafka_iot=127.0.0.1:9092").unwrap();
        let err = r
            .set(&job, "kafka_iot.password=env:9BAD")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not an environment variable name"), "{err}");
        assert!(!err.contains("9BAD"), "{err}");
        r.set(&job, "kafka_iot.password=literal-pw").unwrap();
        let k = r.get("n", "kafka_iot").unwrap();
        assert_eq!(
            password("kafka_iot", k).unwrap().as_deref(),
            Some("literal-pw")
        );
        let dir = std::env::temp_dir().join(format!("weir-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        r.set(&job, &format!("kafka_iot.password=file:{}", file.display()))
            .unwrap();
        let k = r.get("n", "kafka_iot").unwrap();
        assert_eq!(
            password("kafka_iot", k).unwrap().as_deref(),
            Some("from-file")
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let mut missing = k.clone();
        missing.password = Some("file:/nonexistent/weir/pw".into());
        let err = password("kafka_iot", &missing).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/weir/pw"), "{err}");
    }
}
