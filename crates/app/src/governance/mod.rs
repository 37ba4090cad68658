//! Governance use cases shared by the CLI and the TUI (SPEC R-roles, R-proj, R-ds,
//! R-topic, R-perm): opening the store as the right actor, testing a data source's
//! connectivity, and approving requests whose effect reaches outside the store (a topic
//! publication creates the topic on the Kafka cluster). Everything else is a direct call
//! of `weir_store::Session`; the store checks roles and writes the audit log.

use std::path::{Path, PathBuf};

use weir_store::{
    Backend, DataSource, Decided, Env, RequestDetail, RequestState, Session, Store, StoreError,
};

use super::AppError;
use super::connectivity::{self, Connectivity, Endpoint};
use super::kafka_topics;

/// Where the metadata store is, in the order weir looks: `WEIR_DATABASE_URL`
/// (PostgreSQL for teams), then `--store`/`WEIR_STORE` (a SQLite file or a URL), then
/// `<project>/.weir/weir.db`.
pub fn store_url(store_flag: Option<&Path>, cwd: &Path) -> Result<String, AppError> {
    if let Ok(url) = std::env::var("WEIR_DATABASE_URL")
        && !url.trim().is_empty()
    {
        return Ok(url);
    }
    let path = match store_flag {
        Some(p) => {
            let s = p.to_string_lossy();
            if s.starts_with("postgres://")
                || s.starts_with("postgresql://")
                || s.starts_with("sqlite:")
            {
                return Ok(s.into_owned());
            }
            p.to_path_buf()
        }
        None => crate::logging::project_root(cwd)
            .join(".weir")
            .join("weir.db"),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| AppError::io(format!("cannot create {}", dir.display()), e))?;
    }
    Ok(format!("sqlite://{}", path.display()))
}

/// The login weir acts as on an embedded store: `WEIR_USER`, else the OS login.
pub fn os_login() -> String {
    ["WEIR_USER", "USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(login_from_passwd)
        .unwrap_or_else(|| "unknown".into())
}

fn login_from_passwd() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut parts = l.split(':');
        let name = parts.next()?;
        (parts.nth(1)? == uid).then(|| name.to_string())
    })
}

/// An open store and the session of the acting user.
pub struct Governance {
    pub store: Store,
    pub session: Session,
}

impl Governance {
    /// Open the store at `url` as `login` (ignored on PostgreSQL, where the database
    /// session user is the actor).
    pub async fn open(url: &str, login: &str) -> Result<Governance, AppError> {
        let store = Store::open(url).await.map_err(store_error)?;
        let session = store.session(login).await.map_err(store_error)?;
        Ok(Governance { store, session })
    }

    /// Open the store the command line names, as the OS login.
    pub async fn open_default(store_flag: Option<&PathBuf>) -> Result<Governance, AppError> {
        let cwd = std::env::current_dir().map_err(|e| AppError::io("no current directory", e))?;
        let url = store_url(store_flag.map(PathBuf::as_path), &cwd)?;
        Governance::open(&url, &os_login()).await
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Test the connectivity of data source `name` in `env` (test or prod).
    pub async fn test_data_source(
        &self,
        name: &str,
        env: Env,
    ) -> Result<(DataSource, Connectivity), AppError> {
        let ds = self.session.data_source(name).await.map_err(store_error)?;
        let endpoint = endpoint_of(&ds, env)?;
        let result = connectivity::test(&endpoint).await;
        Ok((ds, result))
    }

    /// Approve request `id`. A topic publication first creates the topic on the chosen
    /// Kafka cluster (creating an existing topic is not an error), so that an approval
    /// is only recorded once the topic really exists; if the cluster refuses, the request
    /// stays pending and the error says why.
    pub async fn approve(&self, id: i64, opinion: &str) -> Result<Decided, AppError> {
        let (request, detail) = self.session.request(id).await.map_err(store_error)?;
        if let RequestDetail::TopicPublish {
            topic,
            env,
            datasource,
        } = &detail
            && request.state == RequestState::Pending
        {
            // Role and self-approval are checked by the store again inside the
            // transaction; checking first avoids touching Kafka for a refused approval.
            let me = self.session.whoami().await.map_err(store_error)?;
            if !me.has(weir_store::GlobalRole::DataAdmin) {
                return Err(AppError::User(format!(
                    "only a data admin can approve; you are {}",
                    me.describe()
                )));
            }
            if request.requester == self.session.actor() {
                return Err(AppError::User(format!(
                    "request #{id} is your own; nobody approves or rejects their own request"
                )));
            }
            let t = self.session.topic(topic).await.map_err(store_error)?;
            let ds = self
                .session
                .data_source(datasource)
                .await
                .map_err(store_error)?;
            let ep = endpoint_of(&ds, *env)?;
            kafka_topics::create(&ep, &t.name, t.partitions, t.lifecycle_days)
                .await
                .map_err(|e| {
                    AppError::User(format!(
                        "request #{id} stays pending: cannot create topic `{}` on {} ({}): {e}",
                        t.name, ds.name, ep.address
                    ))
                })?;
        }
        self.session.approve(id, opinion).await.map_err(store_error)
    }
}

/// The connectivity endpoint of a stored data source in one environment.
pub fn endpoint_of(ds: &DataSource, env: Env) -> Result<Endpoint, AppError> {
    let env_name = env.as_str();
    let Some(ep) = ds.endpoint(env) else {
        return Err(AppError::User(format!(
            "data source `{}` has no {env_name} address (it serves {}); give one with `weir datasource add {} ... --{env_name}-address A`",
            ds.name,
            ds.env.as_str(),
            ds.name
        )));
    };
    let options = match &ep.options {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        _ => Default::default(),
    };
    Ok(Endpoint {
        kind: ds.kind,
        address: ep.address.clone(),
        user: ds.user.clone(),
        password: ds.password.as_ref().map(|p| p.as_reference()),
        options,
    })
}

/// A store error as an app error (its message already says what to do).
pub fn store_error(e: StoreError) -> AppError {
    AppError::Store(e)
}
