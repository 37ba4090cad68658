//! Where data sources are: name → [`Connection`] (kind, address, user, password
//! reference, options). Layers, later ones winning: the metadata store (added by the app
//! with [`Resolver::extend_missing`], see `weir_app::engine::store_sources`), the job's
//! own `datasources`, then `--set` overrides. Passwords stay references
//! (`env:WEIR_SECRET_NAME`, `file:NAME`) until a connector reads them with [`password`],
//! and are never printed. Only weir's namespace is read (see
//! `weir_model::model::secret`): `WEIR_SECRET_*` variables of this process and files in
//! its secrets directory; any other reference, even one stored long ago, is refused at
//! use without being read.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::RwLock;

use weir_model::model::secret::{self, SecretRef};
use weir_model::model::{DataSourceKind, Job, Node};

use crate::error::{EngineError, Result};

pub use weir_model::model::Connection;
/// The name the connectors and tests have long used for a [`Connection`]; the same type.
pub use weir_model::model::Connection as DataSource;

/// The largest secret file weir reads (a password or a key, never a data file).
pub const MAX_SECRET_FILE: u64 = 64 * 1024;

/// The secrets directory set by [`set_secrets_dir`], over `$WEIR_SECRETS_DIR`.
static SECRETS_DIR: RwLock<Option<PathBuf>> = RwLock::new(None);

/// Sets this process's secrets directory, over `$WEIR_SECRETS_DIR` and the default
/// (`~/.config/weir/secrets/`): for tests and programs that embed the engine, which
/// cannot change their own environment safely.
pub fn set_secrets_dir(dir: impl Into<PathBuf>) {
    if let Ok(mut d) = SECRETS_DIR.write() {
        *d = Some(dir.into());
    }
}

/// weir's secrets directory for this process: [`set_secrets_dir`], else
/// `$WEIR_SECRETS_DIR`, else `secrets/` in the config directory
/// (`$WEIR_CONFIG_DIR`, `$XDG_CONFIG_HOME/weir`, `~/.config/weir`).
pub fn secrets_dir() -> Option<PathBuf> {
    if let Some(d) = SECRETS_DIR.read().ok().and_then(|d| d.clone()) {
        return Some(d);
    }
    secret::secrets_dir_with(|name| std::env::var_os(name))
}

/// The password of data source `name`, read now from its reference, which must stay in
/// weir's namespace. Errors (`Config`, the user's to fix) name the data source and the
/// reference, never the secret; a refused reference is not read.
pub fn password(name: &str, connection: &Connection) -> Result<Option<String>> {
    let Some(text) = &connection.password else {
        return Ok(None);
    };
    if !SecretRef::looks_like_one(text) {
        return Err(unreadable(
            name,
            "a plain-text password is not accepted (not shown); give a reference: \
             env:WEIR_SECRET_<NAME> or file:NAME (a file in weir's secrets directory)"
                .into(),
        ));
    }
    let reference =
        SecretRef::parse(text).map_err(|e| unreadable(name, format!("{e}; {}", e.fix())))?;
    reference.check_namespace().map_err(|e| {
        unreadable(
            name,
            format!("{reference} is refused and was not read: {e}; {}", e.fix()),
        )
    })?;
    read_secret(&reference)
        .map_err(|p| unreadable(name, p))
        .map(Some)
}

/// Reads a reference that passed [`SecretRef::check_namespace`]; the error says why not.
fn read_secret(reference: &SecretRef) -> std::result::Result<String, String> {
    match reference {
        SecretRef::Env(var) => std::env::var(var).map_err(|_| {
            format!("environment variable `{var}` is not set; export it before running weir")
        }),
        SecretRef::File(path) => read_secret_file(path),
    }
}

/// The content of `path` in the secrets directory, without a trailing line break: the
/// directory and the file are resolved (symbolic links followed) and the file must stay
/// inside the directory, be a regular file and hold at most [`MAX_SECRET_FILE`] bytes.
fn read_secret_file(path: &str) -> std::result::Result<String, String> {
    let dir = secrets_dir().ok_or_else(|| {
        "weir's secrets directory is unknown (neither WEIR_SECRETS_DIR nor HOME is set); \
         set WEIR_SECRETS_DIR"
            .to_string()
    })?;
    let root = std::fs::canonicalize(&dir).map_err(|e| {
        format!(
            "weir's secrets directory {} cannot be opened ({e}); create it (mkdir -p, chmod \
             700) and put the file `{path}` there",
            dir.display()
        )
    })?;
    let file = std::fs::canonicalize(dir.join(path.trim())).map_err(|e| {
        format!(
            "cannot read credential file `{path}` in {}: {e}",
            dir.display()
        )
    })?;
    if !file.starts_with(&root) {
        return Err(format!(
            "file:{path} leads outside weir's secrets directory {} (a symbolic link?) and \
             was not read; put the file itself in the directory",
            root.display()
        ));
    }
    let meta = std::fs::metadata(&file)
        .map_err(|e| format!("cannot read credential file `{path}`: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "credential file `{path}` is not a regular file and was not read"
        ));
    }
    let mut text = String::new();
    std::fs::File::open(&file)
        .and_then(|f| f.take(MAX_SECRET_FILE + 1).read_to_string(&mut text))
        .map_err(|e| format!("cannot read credential file `{path}`: {e}"))?;
    if text.len() as u64 > MAX_SECRET_FILE {
        return Err(format!(
            "credential file `{path}` is larger than {MAX_SECRET_FILE} bytes; is it a secret?"
        ));
    }
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
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
    /// `NAME.password=env:WEIR_SECRET_X`, `NAME.kind=postgres`, `NAME.<option>=..`. A new
    /// name takes its kind from `NAME.kind`, the address scheme, or the operators of `job`
    /// using it. Plain credentials are refused: a password that is no reference (or one
    /// outside weir's namespace), an address with `user:password@`, a sensitive option.
    pub fn set(&mut self, job: &Job, assignment: &str) -> Result<()> {
        let (lhs, value) = assignment.split_once('=').ok_or_else(|| {
            EngineError::Config(format!(
                "--set {}: expected NAME=ADDRESS or NAME.user=USER, NAME.password=env:WEIR_SECRET_X",
                secret::scrub(assignment, "")
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
                        "--set {}: cannot tell what kind of data source `{name}` is; add --set {name}.kind=mysql|postgres|kafka|redis",
                        secret::scrub(assignment, "")
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
                secret::check_address(value)
                    .map_err(|e| EngineError::Config(format!("--set {name}: {e}; {}", e.fix())))?;
                d.address = value.to_string();
                if let Some(kind) = scheme_kind(value) {
                    d.kind = kind;
                }
            }
            "user" => d.user = Some(value.to_string()),
            "password" => {
                // only a reference in weir's namespace; a plain password is never taken
                SecretRef::parse_new(value).map_err(|e| {
                    EngineError::Config(format!("--set {name}.password: {e}; {}", e.fix()))
                })?;
                d.password = Some(value.trim().to_string());
            }
            "kind" => d.kind = parse_kind(value)?,
            option => {
                secret::check_option(option).map_err(|e| {
                    EngineError::Config(format!("--set {name}.{option}: {e}; {}", e.fix()))
                })?;
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

    /// This test binary's secrets directory (one per process).
    fn secrets_dir_of_tests() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weir-resolve-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("dir")).unwrap();
        set_secrets_dir(&dir);
        dir
    }

    #[test]
    fn set_infers_kinds_and_hides_passwords() {
        let job = job();
        let mut r = Resolver::from_job(&job);
        r.set(&job, "kafka_iot=127.0.0.1:9092").unwrap();
        r.set(&job, "mysql_ops=mysql://root@127.0.0.1:3306/test")
            .unwrap();
        r.set(&job, "mysql_ops.password=env:WEIR_SECRET_TEST_NOT_SET_X")
            .unwrap();
        assert_eq!(r.get("n", "kafka_iot").unwrap().kind, DataSourceKind::Kafka);
        let my = r.get("n", "mysql_ops").unwrap();
        assert_eq!(my.kind, DataSourceKind::Mysql);
        assert!(!format!("{my:?}").contains("WEIR_SECRET"));
        let err = password("mysql_ops", my).unwrap_err().to_string();
        assert!(err.contains("WEIR_SECRET_TEST_NOT_SET_X"), "{err}");
        assert!(err.contains("data source `mysql_ops`"), "{err}");
        let err = r.get("to_pg", "pg_x").unwrap_err().to_string();
        assert!(err.contains("--set pg_x=ADDRESS"), "{err}");
        assert!(r.set(&job, "other=somewhere").is_err());
    }

    #[test]
    fn set_refuses_plain_credentials_without_repeating_them() {
        let job = job();
        let mut r = Resolver::from_job(&job);
        r.set(&job, "kafka_iot=127.0.0.1:9092").unwrap();
        for (assignment, says) in [
            ("kafka_iot.password=PlainPw9", "env:WEIR_SECRET_<NAME>"),
            (
                "kafka_iot.password=env:9BAD",
                "not an environment variable name",
            ),
            ("kafka_iot.password=env:HOME", "WEIR_SECRET_<something>"),
            ("kafka_iot.password=file:/etc/passwd", "secrets directory"),
            (
                "mysql_ops=mysql://root:PlainPw9@127.0.0.1:3306/test",
                "--password env:WEIR_SECRET_",
            ),
            ("kafka_iot=svc:PlainPw9@127.0.0.1:9092", "holds a password"),
            ("kafka_iot.sasl.password=PlainPw9", "sasl.password"),
            ("kafka_iot.ssl.key.password=PlainPw9", "plain text"),
        ] {
            let err = r.set(&job, assignment).unwrap_err().to_string();
            assert!(err.contains(says), "{assignment}: {err}");
            assert!(!err.contains("PlainPw9") && !err.contains("9BAD"), "{err}");
        }
        let k = r.get("n", "kafka_iot").unwrap();
        assert_eq!(k.address, "127.0.0.1:9092");
        assert!(k.password.is_none() && k.options.is_empty(), "{k:?}");
    }

    #[test]
    fn passwords_are_read_only_from_weirs_namespace() {
        let dir = secrets_dir_of_tests();
        let job = job();
        let mut r = Resolver::from_job(&job);
        r.set(&job, "kafka_iot=127.0.0.1:9092").unwrap();
        std::fs::write(dir.join("pw"), "from-file\n").unwrap();
        std::fs::write(dir.join("dir/pw"), "nested").unwrap();
        r.set(&job, "kafka_iot.password=file:pw").unwrap();
        let k = r.get("n", "kafka_iot").unwrap().clone();
        assert_eq!(
            password("kafka_iot", &k).unwrap().as_deref(),
            Some("from-file")
        );
        let mut c = k.clone();
        c.password = Some("file:dir/pw".into());
        assert_eq!(
            password("kafka_iot", &c).unwrap().as_deref(),
            Some("nested")
        );

        // old references (a store row, a job file) are refused at use, never read
        let outside = std::env::temp_dir().join(format!("weir-outside-{}", std::process::id()));
        std::fs::write(&outside, "OUTSIDE-SECRET").unwrap();
        for (reference, says) in [
            ("env:HOME", "WEIR_SECRET_<something>"),
            ("env:PATH", "was not read"),
            (&*format!("file:{}", outside.display()), "secrets directory"),
            ("file:../x", "secrets directory"),
            ("literal-pw", "plain-text password is not accepted"),
        ] {
            c.password = Some(reference.to_string());
            let err = password("kafka_iot", &c).unwrap_err().to_string();
            assert!(err.contains(says), "{reference}: {err}");
            assert!(
                !err.contains("OUTSIDE-SECRET") && !err.contains("literal-pw"),
                "{err}"
            );
        }
        // a symbolic link inside the directory that leads outside is refused
        #[cfg(unix)]
        {
            let link = dir.join("link");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&outside, &link).unwrap();
            c.password = Some("file:link".into());
            let err = password("kafka_iot", &c).unwrap_err().to_string();
            assert!(err.contains("leads outside"), "{err}");
            assert!(!err.contains("OUTSIDE-SECRET"), "{err}");
        }
        c.password = Some("file:missing".into());
        let err = password("kafka_iot", &c).unwrap_err().to_string();
        assert!(
            err.contains("cannot read credential file `missing`"),
            "{err}"
        );
        c.password = Some("file:dir".into());
        let err = password("kafka_iot", &c).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let _ = std::fs::remove_file(&outside);
    }
}
