//! Which secret goes where, confirmed by the person whose secret it is. Before weir reads
//! a secret to send it (`weir datasource test`, `weir run`, the workbench's data source
//! test and table listing), the person is shown "secret WEIR_SECRET_PG will be sent to
//! postgres at db:5432 (data source pg)" once per (data source, address, reference) and
//! must confirm it: at a terminal (y/N), in the workbench (y/n), or with `--yes`. The
//! confirmations are remembered in the person's own config directory
//! (`~/.config/weir/trusted-secrets`), never in the shared store, which a data admin can
//! write: a data source moved to another address asks again.
//!
//! A worker does not ask: its instances use the secrets of the worker process itself
//! (its `WEIR_SECRET_*` variables and secrets directory), configured by whoever started it.
//! Reading a secret is the engine's (`weir_engine::resolve::password`); this module only
//! decides whether it may be sent.

use std::collections::BTreeSet;
use std::fmt;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use weir_engine::resolve::Resolver;
use weir_model::model::secret::{self, SecretRef};
use weir_model::model::{Connection, DataSourceKind, Job};

use crate::AppError;

/// The file, in the config directory, that remembers confirmed secret uses.
pub const TRUSTED_FILE: &str = "trusted-secrets";

/// One secret about to be sent: its reference, the data source and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUse {
    /// The data source's name.
    pub source: String,
    pub kind: DataSourceKind,
    /// The address as configured (the memory's key; shown masked).
    pub address: String,
    pub reference: SecretRef,
}

impl SecretUse {
    /// The use of `connection`'s password by data source `source`; `None` without a
    /// password or with one that is no reference (the engine refuses those at use).
    pub fn of(source: &str, connection: &Connection) -> Option<SecretUse> {
        let reference = SecretRef::parse(connection.password.as_deref()?).ok()?;
        Some(SecretUse {
            source: source.to_string(),
            kind: connection.kind,
            address: connection.address.clone(),
            reference,
        })
    }

    /// Where the secret goes: `host:port`, or the broker list of a Kafka data source.
    pub fn place(&self) -> String {
        let default = match self.kind {
            DataSourceKind::Mysql => 3306,
            DataSourceKind::Postgres => 5432,
            DataSourceKind::Redis => 6379,
            DataSourceKind::Oracle => 1521,
            DataSourceKind::Hive => 10000,
            DataSourceKind::Hbase => 2181,
            DataSourceKind::Ftp => 21,
            DataSourceKind::Elasticsearch => 9200,
            _ if self.address.starts_with("https://") => 443,
            _ => 80,
        };
        match (
            self.kind,
            crate::connectivity::host_port(&self.address, default),
        ) {
            (DataSourceKind::Kafka, _) | (_, Err(_)) => secret::scrub(&self.address, ""),
            (_, Ok((host, port))) if host.contains(':') => format!("[{host}]:{port}"),
            (_, Ok((host, port))) => format!("{host}:{port}"),
        }
    }

    /// "secret WEIR_SECRET_X will be sent to postgres at db:5432 (data source pg)".
    pub fn message(&self) -> String {
        format!(
            "secret {} will be sent to {} at {} (data source {})",
            self.reference.label(),
            self.kind.name().to_ascii_lowercase(),
            self.place(),
            self.source
        )
    }

    /// The memory's key: data source, address, reference.
    fn key(&self) -> (String, String, String) {
        (
            self.source.clone(),
            self.address.clone(),
            self.reference.as_reference(),
        )
    }
}

/// The secrets a run of `job` sends: the password references of the data sources its
/// operators use, as `resolver` resolves them (one per data source).
pub fn uses_of_job(job: &Job, resolver: &Resolver) -> Vec<SecretUse> {
    let mut seen = BTreeSet::new();
    job.nodes
        .iter()
        .filter_map(|n| {
            let ds = n.datasource()?;
            let connection = resolver.get(n.id(), ds).ok()?;
            seen.insert(ds.to_string())
                .then(|| SecretUse::of(ds, connection))
                .flatten()
        })
        .collect()
}

/// How uses not confirmed before are confirmed now.
#[derive(Clone, Default)]
pub enum Consent {
    /// No one to ask and no `--yes`: only uses confirmed before pass.
    #[default]
    Refuse,
    /// `--yes`: every use is confirmed (and remembered).
    Yes,
    /// Ask the person about each use; `true` confirms it.
    Ask(Arc<dyn Fn(&SecretUse) -> bool + Send + Sync>),
}

impl fmt::Debug for Consent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Consent::Refuse => "Refuse",
            Consent::Yes => "Yes",
            Consent::Ask(_) => "Ask",
        })
    }
}

impl Consent {
    /// A command's consent: `--yes`, else a y/N question on the terminal (stdin and
    /// stderr both terminals), else none.
    pub fn for_command_line(yes: bool) -> Consent {
        if yes {
            Consent::Yes
        } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            Consent::Ask(Arc::new(ask_on_terminal))
        } else {
            Consent::Refuse
        }
    }
}

/// Asks on stderr and reads the answer from stdin; anything but y/yes is a no.
fn ask_on_terminal(use_: &SecretUse) -> bool {
    let mut err = std::io::stderr();
    let _ = write!(err, "{}. Send it? [y/N] ", use_.message());
    let _ = err.flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// The confirmations file set by [`set_trusted_file`].
static TRUSTED_PATH: RwLock<Option<PathBuf>> = RwLock::new(None);

/// Sets this process's confirmations file, over the config directory's: for tests and
/// programs that embed weir, which cannot change their own environment safely.
pub fn set_trusted_file(path: impl Into<PathBuf>) {
    if let Ok(mut p) = TRUSTED_PATH.write() {
        *p = Some(path.into());
    }
}

/// Where this person's confirmations are kept: `trusted-secrets` in their config
/// directory (`$WEIR_CONFIG_DIR`, `$XDG_CONFIG_HOME/weir`, `~/.config/weir`), unless
/// [`set_trusted_file`] said otherwise.
pub fn trusted_file() -> Option<PathBuf> {
    if let Some(p) = TRUSTED_PATH.read().ok().and_then(|p| p.clone()) {
        return Some(p);
    }
    secret::config_dir_with(|name| std::env::var_os(name)).map(|d| d.join(TRUSTED_FILE))
}

/// The confirmed uses: one JSON array `[source, address, reference]` per line.
#[derive(Debug, Default)]
struct Trusted {
    path: Option<PathBuf>,
    keys: BTreeSet<(String, String, String)>,
}

impl Trusted {
    /// The person's confirmations; none when the file does not exist. Lines that do not
    /// read are ignored (their uses are asked about again).
    fn load() -> Result<Trusted, AppError> {
        let path = trusted_file();
        let mut keys = BTreeSet::new();
        if let Some(p) = &path {
            match std::fs::read_to_string(p) {
                Ok(text) => {
                    for line in text.lines() {
                        if let Ok((s, a, r)) = serde_json::from_str(line) {
                            keys.insert((s, a, r));
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(AppError::io(
                        format!("cannot read confirmed secrets {}", p.display()),
                        e,
                    ));
                }
            }
        }
        Ok(Trusted { path, keys })
    }

    fn contains(&self, u: &SecretUse) -> bool {
        self.keys.contains(&u.key())
    }

    /// Writes the file anew, atomically (`weir_model::fsutil`); without a config
    /// directory the confirmation holds for this command only.
    fn save(&self) -> Result<(), AppError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let io = |what: &str, e| AppError::io(format!("{what} {}", path.display()), e);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("cannot create the directory of", e))?;
        }
        let mut text = String::new();
        for (s, a, r) in &self.keys {
            let line = serde_json::to_string(&(s, a, r))
                .map_err(|e| AppError::Internal(format!("confirmed secrets: {e}")))?;
            text.push_str(&line);
            text.push('\n');
        }
        weir_model::fsutil::write_atomic(path, text).map_err(|e| io("cannot write", e))
    }
}

/// The uses among `uses` this person has not confirmed yet. A reference outside weir's
/// namespace (an old store row or job file) is refused here, before anyone is asked
/// about it, in the engine's words.
pub fn pending(uses: &[SecretUse]) -> Result<Vec<SecretUse>, AppError> {
    for u in uses {
        u.reference.check_namespace().map_err(|e| {
            AppError::User(format!(
                "data source `{}`: password: {} is refused and was not read: {e}; {}",
                u.source,
                u.reference,
                e.fix()
            ))
        })?;
    }
    let trusted = Trusted::load()?;
    Ok(uses
        .iter()
        .filter(|u| !trusted.contains(u))
        .cloned()
        .collect())
}

/// Remembers `uses` as confirmed by this person.
pub fn trust(uses: &[SecretUse]) -> Result<(), AppError> {
    let mut trusted = Trusted::load()?;
    let before = trusted.keys.len();
    trusted.keys.extend(uses.iter().map(SecretUse::key));
    if trusted.keys.len() == before {
        return Ok(());
    }
    trusted.save()
}

/// Lets `uses` go ahead: those confirmed before pass; the others are confirmed by
/// `consent` (and remembered), or refused with what would have been sent, before any
/// secret is read.
pub fn require(uses: &[SecretUse], consent: &Consent) -> Result<(), AppError> {
    let pending = pending(uses)?;
    if pending.is_empty() {
        return Ok(());
    }
    match consent {
        Consent::Yes => {}
        Consent::Ask(ask) => {
            for u in &pending {
                if !ask(u) {
                    return Err(AppError::User(format!(
                        "not confirmed: {}; nothing was sent",
                        u.message()
                    )));
                }
            }
        }
        Consent::Refuse => {
            let where_ = trusted_file()
                .map(|p| format!(" (confirmations are remembered in {})", p.display()))
                .unwrap_or_default();
            let lines: Vec<String> = pending.iter().map(SecretUse::message).collect();
            return Err(AppError::User(format!(
                "{}, which you have not confirmed; nothing was sent. Confirm it by running \
                 the command at a terminal (weir asks y/N), or pass --yes in a script{where_}",
                lines.join("; ")
            )));
        }
    }
    trust(&pending)
}

/// Lets `uses` go ahead only when confirmed before, for use cases that cannot ask (the
/// workbench's table listing): a refusal says to test the data source first, which asks.
pub fn require_confirmed(uses: &[SecretUse]) -> Result<(), AppError> {
    let pending = pending(uses)?;
    match pending.first() {
        None => Ok(()),
        Some(u) => Err(AppError::User(format!(
            "{}, which you have not confirmed; nothing was sent. Test the data source first \
             (t in :datasources, or weir datasource test {}), which asks",
            u.message(),
            u.source
        ))),
    }
}

/// Refuses plain credentials in a data source being added or edited: a password that is
/// no reference in weir's namespace, an address with `user:password@`, an option that
/// names a credential. The messages never repeat the credential.
pub fn check_spec(spec: &crate::governance::DataSourceSpec) -> Result<(), AppError> {
    // a value that is no reference at all is refused by the store, in its order of fields
    if let Some(Ok(r)) = spec.password.as_deref().map(SecretRef::parse) {
        r.check_namespace()
            .map_err(|e| AppError::User(format!("password: {e}; {}", e.fix())))?;
    }
    for (env, endpoint) in [("test", &spec.test), ("prod", &spec.prod)] {
        let Some(endpoint) = endpoint else { continue };
        secret::check_address(&endpoint.address)
            .map_err(|e| AppError::User(format!("{env} address: {e}; {}", e.fix())))?;
        if let Some(options) = endpoint.options.as_object() {
            for key in options.keys() {
                secret::check_option(key)
                    .map_err(|e| AppError::User(format!("{env} options: {e}; {}", e.fix())))?;
            }
        }
    }
    Ok(())
}

/// A data source's options for output: the value of every option that names a
/// credential (an old row may hold one) masked.
pub fn masked_options(options: &serde_json::Value) -> serde_json::Value {
    match options {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if secret::is_sensitive_key(k) {
                        serde_json::Value::String(secret::MASK.into())
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(address: &str) -> Connection {
        let mut c = Connection::new(DataSourceKind::Postgres, address);
        c.password = Some("env:WEIR_SECRET_PG".into());
        c
    }

    #[test]
    fn a_use_says_which_secret_goes_where() {
        let u = SecretUse::of("pg", &pg("postgres://app@db.example:5433/x")).unwrap();
        assert_eq!(
            u.message(),
            "secret WEIR_SECRET_PG will be sent to postgres at db.example:5433 (data source pg)"
        );
        assert_eq!(SecretUse::of("pg", &pg("db")).unwrap().place(), "db:5432");
        let mut k = Connection::new(DataSourceKind::Kafka, "b1:9092,b2:9092");
        k.password = Some("file:kafka.pw".into());
        let u = SecretUse::of("k", &k).unwrap();
        assert_eq!(
            u.message(),
            "secret file:kafka.pw will be sent to kafka at b1:9092,b2:9092 (data source k)"
        );
        let mut h = Connection::new(DataSourceKind::Http, "https://[::1]/x");
        h.password = Some("env:WEIR_SECRET_H".into());
        assert_eq!(SecretUse::of("h", &h).unwrap().place(), "[::1]:443");
        assert!(SecretUse::of("n", &Connection::new(DataSourceKind::Redis, "r")).is_none());
    }

    #[test]
    fn consent_shows_without_its_closure() {
        assert_eq!(format!("{:?}", Consent::Ask(Arc::new(|_| true))), "Ask");
        assert_eq!(format!("{:?}", Consent::default()), "Refuse");
    }
}
