//! Connectivity tests of data sources (SPEC R-ds): a real check for kafka, mysql,
//! postgres, redis, http and elasticsearch, and for the other kinds a TCP check that says
//! plainly what was and was not checked. A data source is given as the one
//! [`Connection`] type (the store's `DataSource::connection`); credentials are references
//! in weir's namespace (`env:WEIR_SECRET_…`, `file:NAME` in the secrets directory), read
//! here at the moment of use by the engine's [`password`](weir_engine::resolve::password),
//! and every message goes through the model's one masking function
//! ([`scrub`]: the secret, userinfo passwords, sensitive `key=value` pairs). Whether the
//! secret may be sent at all is decided before, by the use case
//! (`Governance::test_data_source`, [`crate::secrets::require`]). Kafka is checked with
//! the engine's [`client_config`], the settings `weir run` connects with.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::Connection as _;
use weir_engine::kafka_client::client_config;
use weir_model::model::secret::scrub;
use weir_model::model::{Connection, DataSourceKind};

use crate::AppError;

/// How long one check may take before it is reported as a timeout.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// The outcome of a check, fit to print or to serialise (`--json`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Connectivity {
    pub ok: bool,
    /// Time from the start of the check to its answer.
    pub latency_ms: f64,
    /// What was verified, e.g. "logged in as report and ran SELECT VERSION(): 10.11.19-MariaDB".
    pub checked: String,
    /// What weir could not verify for this kind, said plainly; `None` when the check is complete.
    pub not_checked: Option<String>,
    /// Why the check failed, with secrets masked.
    pub error: Option<String>,
}

/// Run the check for data source `name` at `connection`. Never panics and never blocks
/// longer than [`TIMEOUT`] (plus the time to read a credential file).
pub async fn test(name: &str, connection: &Connection) -> Connectivity {
    let started = Instant::now();
    let secret = match weir_engine::resolve::password(name, connection) {
        Ok(s) => s,
        Err(e) => return failed(started, scrub(&e.to_string(), "")),
    };
    let run = check(name, connection, secret.as_deref());
    let result = match tokio::time::timeout(TIMEOUT, run).await {
        Ok(r) => r,
        Err(_) => Err(AppError::External(format!(
            "no answer from {} within {} s; check the address and that the service runs",
            connection.address,
            TIMEOUT.as_secs()
        ))),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let clean = |s: String| scrub(&s, secret.as_deref().unwrap_or(""));
    match result {
        Ok((checked, not_checked)) => Connectivity {
            ok: true,
            latency_ms,
            checked: clean(checked),
            not_checked,
            error: None,
        },
        Err(e) => Connectivity {
            ok: false,
            latency_ms,
            checked: String::new(),
            not_checked: None,
            error: Some(clean(e.to_string())),
        },
    }
}

fn failed(started: Instant, error: String) -> Connectivity {
    Connectivity {
        ok: false,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        checked: String::new(),
        not_checked: None,
        error: Some(error),
    }
}

/// What was checked and what could not be, or why the check failed.
type Outcome = Result<(String, Option<String>), AppError>;

async fn check(name: &str, ep: &Connection, secret: Option<&str>) -> Outcome {
    match ep.kind {
        DataSourceKind::Mysql => mysql(ep, secret).await,
        DataSourceKind::Postgres => postgres(ep, secret).await,
        DataSourceKind::Redis => redis_ping(ep, secret).await,
        DataSourceKind::Kafka => kafka(name, ep).await,
        DataSourceKind::Http => http(ep, secret, false).await,
        DataSourceKind::Elasticsearch => http(ep, secret, true).await,
        DataSourceKind::Ftp => ftp(ep).await,
        DataSourceKind::Oracle
        | DataSourceKind::Hive
        | DataSourceKind::Hbase
        | DataSourceKind::S3 => tcp_only(ep).await,
    }
}

/// `host:port` (default port) from an address that may be a URL with a path.
pub(crate) fn host_port(address: &str, default_port: u16) -> Result<(String, u16), AppError> {
    let rest = address.split_once("://").map_or(address, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(AppError::User(format!(
            "`{address}` has no host; write host:port"
        )));
    }
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| AppError::User(format!("`{address}`: unclosed [ in an IPv6 address")))?;
        let port = match after.strip_prefix(':') {
            Some(p) => parse_port(p, address)?,
            None => default_port,
        };
        return Ok((host.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Ok((h.to_string(), parse_port(p, address)?)),
        None => Ok((authority.to_string(), default_port)),
    }
}

fn parse_port(p: &str, address: &str) -> Result<u16, AppError> {
    p.parse().map_err(|_| {
        AppError::User(format!(
            "`{address}`: port `{p}` is not a number from 1 to 65535"
        ))
    })
}

/// A database driver's failure `doing` something: its refusal (bad login, unknown
/// database) is the user's to fix, anything else (no answer, lost connection) external.
pub(crate) fn sql_failed(doing: String, e: sqlx::Error) -> AppError {
    // the cause in plain words first: "connection refused", "no such host"
    let said = weir_model::connect_error::describe(&e);
    match e {
        sqlx::Error::Database(_) | sqlx::Error::Configuration(_) => {
            AppError::User(format!("{doing}: {said}"))
        }
        _ => AppError::External(format!("{doing}: {said}")),
    }
}

/// The database named in the options (`database`) or in the address path.
pub(crate) fn database(ep: &Connection) -> Option<String> {
    if let Some(db) = ep.options.get("database") {
        return Some(db.clone());
    }
    let rest = ep
        .address
        .split_once("://")
        .map_or(ep.address.as_str(), |(_, r)| r);
    let path = rest.split_once('/')?.1.split('?').next()?;
    (!path.is_empty()).then(|| path.to_string())
}

/// A login to a relational data source, with the words its messages use.
pub(crate) struct Login<C> {
    pub conn: C,
    pub host: String,
    pub port: u16,
    pub user: String,
}

/// Log in to a MySQL data source (user `root` unless given; the database from the options
/// or the address). The connectivity test and the catalog's table listing both use it.
pub(crate) async fn mysql_login(
    ep: &Connection,
    secret: Option<&str>,
) -> Result<Login<sqlx::mysql::MySqlConnection>, AppError> {
    let (host, port) = host_port(&ep.address, 3306)?;
    let user = ep.user.clone().unwrap_or_else(|| "root".into());
    let mut opts = sqlx::mysql::MySqlConnectOptions::new()
        .host(&host)
        .port(port)
        .username(&user);
    if let Some(s) = secret {
        opts = opts.password(s);
    }
    if let Some(db) = database(ep) {
        opts = opts.database(&db);
    }
    let conn = sqlx::mysql::MySqlConnection::connect_with(&opts)
        .await
        .map_err(|e| {
            sql_failed(
                format!("cannot log in to mysql at {host}:{port} as {user}"),
                e,
            )
        })?;
    Ok(Login {
        conn,
        host,
        port,
        user,
    })
}

/// Log in to a PostgreSQL data source (user `postgres` unless given; no `.pgpass`).
pub(crate) async fn postgres_login(
    ep: &Connection,
    secret: Option<&str>,
) -> Result<Login<sqlx::postgres::PgConnection>, AppError> {
    let (host, port) = host_port(&ep.address, 5432)?;
    let user = ep.user.clone().unwrap_or_else(|| "postgres".into());
    let mut opts = sqlx::postgres::PgConnectOptions::new_without_pgpass()
        .host(&host)
        .port(port)
        .username(&user);
    if let Some(s) = secret {
        opts = opts.password(s);
    }
    if let Some(db) = database(ep) {
        opts = opts.database(&db);
    }
    let conn = sqlx::postgres::PgConnection::connect_with(&opts)
        .await
        .map_err(|e| {
            sql_failed(
                format!("cannot log in to postgres at {host}:{port} as {user}"),
                e,
            )
        })?;
    Ok(Login {
        conn,
        host,
        port,
        user,
    })
}

async fn mysql(ep: &Connection, secret: Option<&str>) -> Outcome {
    let Login {
        mut conn,
        host,
        port,
        user,
    } = mysql_login(ep, secret).await?;
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| sql_failed("logged in, but SELECT VERSION() failed".into(), e))?;
    let _ = conn.close().await;
    Ok((
        format!("logged in to {host}:{port} as {user} and ran SELECT VERSION(): {version}"),
        None,
    ))
}

async fn postgres(ep: &Connection, secret: Option<&str>) -> Outcome {
    let Login {
        mut conn,
        host,
        port,
        user,
    } = postgres_login(ep, secret).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| sql_failed("logged in, but SHOW server_version failed".into(), e))?;
    let _ = conn.close().await;
    Ok((
        format!("logged in to {host}:{port} as {user}; server version {version}"),
        None,
    ))
}

async fn redis_ping(ep: &Connection, secret: Option<&str>) -> Outcome {
    let (host, port) = host_port(&ep.address, 6379)?;
    let db: i64 = match ep.options.get("db") {
        Some(d) => d
            .parse()
            .map_err(|_| AppError::User(format!("option db = `{d}` is not a database number")))?,
        None => 0,
    };
    let mut settings = redis::RedisConnectionInfo::default().set_db(db);
    if let Some(u) = &ep.user {
        settings = settings.set_username(u);
    }
    if let Some(s) = secret {
        settings = settings.set_password(s);
    }
    let info = redis::IntoConnectionInfo::into_connection_info(redis::ConnectionAddr::Tcp(
        host.clone(),
        port,
    ))
    .map_err(|e| AppError::User(format!("redis address: {e}")))?
    .set_redis_settings(settings);
    let client =
        redis::Client::open(info).map_err(|e| AppError::User(format!("redis address: {e}")))?;
    let redis_failed = |doing: String, e: redis::RedisError| {
        if e.is_io_error() || e.is_connection_refusal() || e.is_timeout() {
            AppError::External(format!("{doing}: {e}"))
        } else {
            AppError::User(format!("{doing}: {e}"))
        }
    };
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| redis_failed(format!("cannot connect to redis at {host}:{port}"), e))?;
    let pong: String = redis::cmd("PING")
        .query_async(&mut conn)
        .await
        .map_err(|e| redis_failed("connected, but PING failed".into(), e))?;
    Ok((
        format!("connected to {host}:{port} (db {db}); PING answered {pong}"),
        None,
    ))
}

async fn kafka(name: &str, ep: &Connection) -> Outcome {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let config = client_config(name, ep)?;
    let address = ep.address.clone();
    let answer = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = config
            .create()
            .map_err(|e| AppError::User(format!("kafka client settings: {e}")))?;
        let md = consumer
            .fetch_metadata(None, TIMEOUT - Duration::from_millis(500))
            .map_err(|e| AppError::External(format!("no metadata from kafka at {address}: {e}")))?;
        Ok::<_, AppError>((md.brokers().len(), md.topics().len()))
    })
    .await
    .map_err(|e| AppError::Internal(format!("the kafka check stopped: {e}")))??;
    Ok((
        format!(
            "fetched cluster metadata from {}: {} broker(s), {} topic(s)",
            ep.address, answer.0, answer.1
        ),
        None,
    ))
}

async fn http(ep: &Connection, secret: Option<&str>, elasticsearch: bool) -> Outcome {
    let url = if ep.address.contains("://") {
        ep.address.clone()
    } else {
        format!("http://{}", ep.address)
    };
    let auth = match (&ep.user, secret) {
        (Some(u), Some(p)) => Some(basic_auth(u, p)),
        (Some(u), None) => Some(basic_auth(u, "")),
        _ => None,
    };
    let task_url = url.clone();
    let (status, body) = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT - Duration::from_millis(500)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent.get(&task_url);
        if let Some(a) = &auth {
            req = req.header("Authorization", a);
        }
        let mut resp = req
            .call()
            .map_err(|e| AppError::External(format!("GET {task_url}: {e}")))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        Ok::<_, AppError>((status, body))
    })
    .await
    .map_err(|e| AppError::Internal(format!("the http check stopped: {e}")))??;
    if !elasticsearch {
        if status >= 500 {
            return Err(AppError::External(format!(
                "GET {url} answered HTTP {status} (server error)"
            )));
        }
        return Ok((format!("GET {url} answered HTTP {status}"), None));
    }
    if status == 401 || status == 403 {
        return Err(AppError::User(format!(
            "GET {url} answered HTTP {status}: the user or password is not accepted"
        )));
    }
    let not_es = |what: String| AppError::User(format!("GET {url} {what}"));
    if status != 200 {
        return Err(not_es(format!(
            "answered HTTP {status}, not an Elasticsearch cluster answer"
        )));
    }
    let info: serde_json::Value = serde_json::from_str(&body)
        .map_err(|_| not_es("did not answer JSON; is this Elasticsearch?".into()))?;
    let version = info
        .pointer("/version/number")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            not_es("answered JSON without version.number; is this Elasticsearch?".into())
        })?;
    let cluster = info
        .get("cluster_name")
        .and_then(|v| v.as_str())
        .unwrap_or("?");
    Ok((
        format!("GET {url}: cluster {cluster}, Elasticsearch {version}"),
        None,
    ))
}

fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

async fn ftp(ep: &Connection) -> Outcome {
    use tokio::io::AsyncBufReadExt;
    let (host, port) = host_port(&ep.address, 21)?;
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| AppError::External(format!("cannot reach {host}:{port}: {e}")))?;
    let mut line = String::new();
    tokio::io::BufReader::new(stream)
        .read_line(&mut line)
        .await
        .map_err(|e| {
            AppError::External(format!("connected to {host}:{port}, but no greeting: {e}"))
        })?;
    if !line.starts_with("220") {
        return Err(AppError::User(format!(
            "{host}:{port} answered `{}`, not an FTP greeting (220)",
            line.trim_end()
        )));
    }
    Ok((
        format!("{host}:{port} greets as an FTP server: {}", line.trim_end()),
        Some("did not log in or list a directory".into()),
    ))
}

async fn tcp_only(ep: &Connection) -> Outcome {
    let default = match ep.kind {
        DataSourceKind::Oracle => 1521,
        DataSourceKind::Hive => 10000,
        DataSourceKind::Hbase => 2181,
        DataSourceKind::S3 => {
            if ep.address.starts_with("https://") {
                443
            } else {
                80
            }
        }
        _ => 0,
    };
    let (host, port) = host_port(&ep.address, default)?;
    tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| AppError::External(format!("cannot reach {host}:{port}: {e}")))?;
    let kind = ep.kind.name().to_lowercase();
    Ok((
        format!("reached {host}:{port} over TCP"),
        Some(format!(
            "weir has no {kind} client: it did not log in, check credentials or run a query"
        )),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(host_port("db:3307", 3306).unwrap(), ("db".into(), 3307));
        assert_eq!(host_port("db", 3306).unwrap(), ("db".into(), 3306));
        assert_eq!(
            host_port("postgres://u@h:5433/app?x=1", 5432).unwrap(),
            ("h".into(), 5433)
        );
        assert_eq!(host_port("[::1]:9", 1).unwrap(), ("::1".into(), 9));
        let e = host_port("h:99999", 1).unwrap_err();
        assert!(e.to_string().contains("port `99999`"), "{e}");
        assert_eq!(e.fault(), crate::Fault::User);
        assert!(
            host_port("", 1)
                .unwrap_err()
                .to_string()
                .contains("no host")
        );
    }
}
