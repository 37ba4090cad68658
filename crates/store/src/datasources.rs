// Long because of its unit tests (the last ~75 lines): the statements themselves fit in
// about 550 lines.
//! Data sources: where jobs read and write, per environment; credentials only as references.
//!
//! A password is never stored: the data source holds `env:NAME` (read from the environment
//! of whoever connects) or `file:PATH` (read from a file), and anything else is refused
//! without echoing it. The app takes new references only in weir's namespace
//! (`env:WEIR_SECRET_…`, `file:NAME` in the secrets directory); older rows still read
//! here, and the engine refuses them at use.

use serde::Serialize;
use serde_json::Value;
use weir_model::model::secret::SecretRef;
use weir_model::model::{Connection, DataSourceKind};

use crate::Session;
use crate::audit::{self, NONE};
use crate::checks;
use crate::db::{Tx, args, now};
use crate::error::{Conflict, Result, StoreError};
use crate::identity::{GlobalRole, roles};
use crate::projects;

/// Which environments a data source serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Env {
    /// Test only.
    Test,
    /// Production only.
    Prod,
    /// Both, each with its own address.
    Both,
}

impl Env {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Env::Test => "test",
            Env::Prod => "prod",
            Env::Both => "both",
        }
    }

    /// Parses `test`, `prod`, `both`.
    pub fn parse(s: &str) -> Result<Env> {
        match s.trim() {
            "test" => Ok(Env::Test),
            "prod" => Ok(Env::Prod),
            "both" => Ok(Env::Both),
            _ => Err(StoreError::invalid(
                "env",
                format!("`{s}` is not an environment"),
                "use test, prod or both",
            )),
        }
    }

    /// Serves the test environment.
    pub fn has_test(self) -> bool {
        matches!(self, Env::Test | Env::Both)
    }

    /// Serves the production environment.
    pub fn has_prod(self) -> bool {
        matches!(self, Env::Prod | Env::Both)
    }
}

/// Address and options of one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    /// Server address (`host:port`, URL, bootstrap servers).
    pub address: String,
    /// Kind-specific options (a JSON object).
    pub options: Value,
}

/// What a data admin types to add or update a data source.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSourceSpec {
    /// Unique name.
    pub name: String,
    /// Kind.
    pub kind: DataSourceKind,
    /// Environments served.
    pub env: Env,
    /// Test address; required when `env` serves test.
    pub test: Option<Endpoint>,
    /// Production address; required when `env` serves prod.
    pub prod: Option<Endpoint>,
    /// User name, if any.
    pub user: Option<String>,
    /// `env:NAME` or `file:PATH`.
    pub password: Option<String>,
    /// Fully managed: weir may create tables and govern permissions on it.
    pub managed: bool,
    /// Owning project, if any.
    pub owner_project: Option<String>,
    /// Free text.
    pub description: String,
}

/// A stored data source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSource {
    /// Store id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Kind.
    pub kind: DataSourceKind,
    /// Environments served.
    pub env: Env,
    /// Test endpoint.
    pub test: Option<Endpoint>,
    /// Production endpoint.
    pub prod: Option<Endpoint>,
    /// User name.
    pub user: Option<String>,
    /// Password reference.
    pub password: Option<SecretRef>,
    /// Fully managed.
    pub managed: bool,
    /// Owning project.
    pub owner_project: Option<String>,
    /// Free text.
    pub description: String,
    /// Creator.
    pub created_by: String,
    /// Creation time.
    pub created_at: String,
    /// Last update time.
    pub updated_at: String,
}

impl DataSource {
    /// The endpoint for `env` (`Env::Test` or `Env::Prod`).
    pub fn endpoint(&self, env: Env) -> Option<&Endpoint> {
        match env {
            Env::Test => self.test.as_ref(),
            Env::Prod => self.prod.as_ref(),
            Env::Both => self.test.as_ref().or(self.prod.as_ref()),
        }
    }

    /// How to reach this data source in `env`: its endpoint there, its user and its
    /// password reference; options as text (JSON strings as they are, other values as
    /// JSON, nulls left out). Refused when the data source has no address in `env`.
    pub fn connection(&self, env: Env) -> Result<Connection> {
        let Some(ep) = self.endpoint(env) else {
            let env_name = env.as_str();
            return Err(StoreError::invalid(
                "env",
                format!(
                    "data source `{}` has no {env_name} address (it serves {})",
                    self.name,
                    self.env.as_str()
                ),
                format!(
                    "give it a {env_name} address (and set env to both), or use the {} environment",
                    self.env.as_str()
                ),
            ));
        };
        let options = match &ep.options {
            Value::Object(map) => map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect(),
            _ => Default::default(),
        };
        Ok(Connection {
            kind: self.kind,
            address: ep.address.clone(),
            user: self.user.clone(),
            password: self.password.as_ref().map(SecretRef::as_reference),
            options,
        })
    }
}

/// A password reference, parsed by the model's one rule; the error never repeats the
/// value and says how to write a reference.
fn parse_password(text: &str) -> Result<SecretRef> {
    SecretRef::parse(text).map_err(|e| StoreError::invalid("password", e.to_string(), e.fix()))
}

/// Stored kind name (`mysql`).
pub(crate) fn kind_str(k: DataSourceKind) -> String {
    k.name().to_ascii_lowercase()
}

/// Parses a kind name, case-insensitive; `ks3` is S3.
pub fn parse_kind(s: &str) -> Result<DataSourceKind> {
    let s = s.trim();
    let s = if s.eq_ignore_ascii_case("ks3") {
        "s3"
    } else {
        s
    };
    DataSourceKind::ALL
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            let names: Vec<String> = DataSourceKind::ALL.into_iter().map(kind_str).collect();
            StoreError::invalid(
                "kind",
                format!("`{s}` is not a data source kind"),
                format!("use one of {}", names.join(", ")),
            )
        })
}

type DsRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    bool,
    Option<i64>,
    String,
    String,
    String,
    String,
);

async fn to_ds(tx: &mut Tx, r: DsRow) -> Result<DataSource> {
    let endpoint = |addr: Option<String>, opts: String| {
        addr.map(|address| Endpoint {
            address,
            options: serde_json::from_str(&opts).unwrap_or(Value::Object(Default::default())),
        })
    };
    let owner = match r.11 {
        Some(id) => Some(projects::by_id(tx, id).await?.name),
        None => None,
    };
    Ok(DataSource {
        id: r.0,
        name: r.1,
        kind: parse_kind(&r.2)?,
        env: Env::parse(&r.3)?,
        test: endpoint(r.4, r.5),
        prod: endpoint(r.6, r.7),
        user: r.8,
        password: r.9.as_deref().map(parse_password).transpose()?,
        managed: r.10,
        owner_project: owner,
        description: r.12,
        created_by: r.13,
        created_at: r.14,
        updated_at: r.15,
    })
}

/// The data source named `name`, with a "did you mean" if missing.
pub(crate) async fn by_name(tx: &mut Tx, name: &str) -> Result<DataSource> {
    const SQL: &str = concat!(
        "SELECT id, name, kind, env, test_address, test_options, prod_address, prod_options, ",
        "username, password_ref, managed, owner_project_id, description, created_by, created_at, updated_at ",
        "FROM data_sources WHERE name = $1"
    );
    let row: Option<DsRow> = tx.opt(SQL, &args![name]).await?;
    match row {
        Some(r) => to_ds(tx, r).await,
        None => {
            let all: Vec<(String,)> = tx.all("SELECT name FROM data_sources", &[]).await?;
            Err(StoreError::not_found(
                "data source",
                name,
                all.into_iter().map(|r| r.0),
            ))
        }
    }
}

/// The data source with id `id`.
pub(crate) async fn by_id(tx: &mut Tx, id: i64) -> Result<DataSource> {
    const SQL: &str = concat!(
        "SELECT id, name, kind, env, test_address, test_options, prod_address, prod_options, ",
        "username, password_ref, managed, owner_project_id, description, created_by, created_at, updated_at ",
        "FROM data_sources WHERE id = $1"
    );
    let r: DsRow = tx.one(SQL, &args![id]).await?;
    to_ds(tx, r).await
}

struct Checked {
    password: Option<String>,
    owner: Option<i64>,
    test: (Option<String>, String),
    prod: (Option<String>, String),
}

async fn check_spec(tx: &mut Tx, spec: &DataSourceSpec) -> Result<Checked> {
    projects::check_name("data source name", &spec.name)?;
    checks::free_text("description", &spec.description)?;
    if let Some(user) = &spec.user {
        checks::name("user", user)?;
    }
    let password = spec
        .password
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| parse_password(p).map(|r| r.as_reference()))
        .transpose()?;
    let endpoint = |field: &'static str,
                    wanted: bool,
                    e: &Option<Endpoint>|
     -> Result<(Option<String>, String)> {
        match (wanted, e) {
            (true, Some(e)) if !e.address.trim().is_empty() => {
                if !e.options.is_object() {
                    return Err(StoreError::invalid(
                        field,
                        "options are not a JSON object",
                        "write options as {\"key\": \"value\", …}",
                    ));
                }
                checks::endpoint(field, e)?;
                Ok((Some(e.address.trim().to_string()), e.options.to_string()))
            }
            (true, _) => Err(StoreError::invalid(
                field,
                format!(
                    "the environment is {} but no {field} is given",
                    spec.env.as_str()
                ),
                format!("give the {field}, or change env"),
            )),
            (false, Some(_)) => Err(StoreError::invalid(
                field,
                format!(
                    "the environment is {}, which has no {field}",
                    spec.env.as_str()
                ),
                "drop it, or set env to both",
            )),
            (false, None) => Ok((None, "{}".to_string())),
        }
    };
    let test = endpoint("test address", spec.env.has_test(), &spec.test)?;
    let prod = endpoint("prod address", spec.env.has_prod(), &spec.prod)?;
    let owner = match &spec.owner_project {
        Some(p) => Some(projects::active(tx, p).await?.id),
        None => None,
    };
    Ok(Checked {
        password,
        owner,
        test,
        prod,
    })
}

impl Session {
    /// Adds a data source (data admin or system admin).
    pub async fn add_data_source(&self, spec: &DataSourceSpec) -> Result<DataSource> {
        let mut tx = self.pool.write().await?;
        roles(&mut tx, &self.actor).await?.require(
            &[GlobalRole::DataAdmin, GlobalRole::SystemAdmin],
            "add data sources",
        )?;
        let c = check_spec(&mut tx, spec).await?;
        let exists: Option<(i64,)> = tx
            .opt(
                "SELECT id FROM data_sources WHERE name = $1",
                &args![&spec.name],
            )
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(Conflict::Exists {
                kind: "data source",
                name: spec.name.clone(),
            }));
        }
        let at = now();
        tx.execute(
            "INSERT INTO data_sources (name, kind, env, test_address, test_options, prod_address, \
             prod_options, username, password_ref, managed, owner_project_id, description, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
            &args![
                &spec.name,
                kind_str(spec.kind),
                spec.env.as_str(),
                c.test.0,
                c.test.1,
                c.prod.0,
                c.prod.1,
                spec.user.clone(),
                c.password,
                spec.managed,
                c.owner,
                &spec.description,
                &self.actor,
                at
            ],
        )
        .await?;
        let ds = by_name(&mut tx, &spec.name).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "datasource.add",
            "data_source",
            &spec.name,
            NONE,
            Some(&ds),
        )
        .await?;
        tx.commit().await?;
        Ok(ds)
    }

    /// Replaces every field of data source `name` with `spec` (which may rename it).
    pub async fn update_data_source(
        &self,
        name: &str,
        spec: &DataSourceSpec,
    ) -> Result<DataSource> {
        let mut tx = self.pool.write().await?;
        roles(&mut tx, &self.actor).await?.require(
            &[GlobalRole::DataAdmin, GlobalRole::SystemAdmin],
            "update data sources",
        )?;
        let before = by_name(&mut tx, name).await?;
        let c = check_spec(&mut tx, spec).await?;
        if spec.name != name {
            let exists: Option<(i64,)> = tx
                .opt(
                    "SELECT id FROM data_sources WHERE name = $1",
                    &args![&spec.name],
                )
                .await?;
            if exists.is_some() {
                return Err(StoreError::Conflict(Conflict::Exists {
                    kind: "data source",
                    name: spec.name.clone(),
                }));
            }
        }
        if spec.kind != before.kind && in_use(&mut tx, before.id).await? > 0 {
            return Err(StoreError::Conflict(Conflict::InUse {
                message: format!(
                    "data source {name} is used by topics, requests or grants; its kind cannot change"
                ),
            }));
        }
        tx.execute(
            "UPDATE data_sources SET name = $2, kind = $3, env = $4, test_address = $5, test_options = $6, \
             prod_address = $7, prod_options = $8, username = $9, password_ref = $10, managed = $11, \
             owner_project_id = $12, description = $13, updated_at = $14 WHERE id = $1",
            &args![
                before.id,
                &spec.name,
                kind_str(spec.kind),
                spec.env.as_str(),
                c.test.0,
                c.test.1,
                c.prod.0,
                c.prod.1,
                spec.user.clone(),
                c.password,
                spec.managed,
                c.owner,
                &spec.description,
                now()
            ],
        )
        .await?;
        let after = by_id(&mut tx, before.id).await?;
        crate::datasource_tests::forget_stale(&mut tx, &before, &after).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "datasource.update",
            "data_source",
            name,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// One data source.
    pub async fn data_source(&self, name: &str) -> Result<DataSource> {
        let mut tx = self.pool.read().await?;
        by_name(&mut tx, name).await
    }

    /// Every data source, by name.
    pub async fn data_sources(&self) -> Result<Vec<DataSource>> {
        const SQL: &str = concat!(
            "SELECT id, name, kind, env, test_address, test_options, prod_address, prod_options, ",
            "username, password_ref, managed, owner_project_id, description, created_by, created_at, updated_at ",
            "FROM data_sources ORDER BY name"
        );
        let mut tx = self.pool.read().await?;
        let rows: Vec<DsRow> = tx.all(SQL, &[]).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(to_ds(&mut tx, r).await?);
        }
        Ok(out)
    }

    /// Deletes a data source that nothing refers to (data admin or system admin).
    pub async fn delete_data_source(&self, name: &str) -> Result<()> {
        let mut tx = self.pool.write().await?;
        roles(&mut tx, &self.actor).await?.require(
            &[GlobalRole::DataAdmin, GlobalRole::SystemAdmin],
            "delete data sources",
        )?;
        let before = by_name(&mut tx, name).await?;
        let n = in_use(&mut tx, before.id).await?;
        if n > 0 {
            return Err(StoreError::Conflict(Conflict::InUse {
                message: format!(
                    "data source {name} is used by {n} topics, requests or grants; remove those first"
                ),
            }));
        }
        tx.execute("DELETE FROM data_sources WHERE id = $1", &args![before.id])
            .await?;
        audit::append(
            &mut tx,
            &self.actor,
            "datasource.delete",
            "data_source",
            name,
            Some(&before),
            NONE,
        )
        .await?;
        tx.commit().await
    }
}

async fn in_use(tx: &mut Tx, id: i64) -> Result<i64> {
    let (n,): (i64,) = tx
        .one(
            "SELECT (SELECT COUNT(*) FROM topics WHERE test_datasource_id = $1 OR prod_datasource_id = $1) \
             + (SELECT COUNT(*) FROM topic_publications WHERE datasource_id = $1) \
             + (SELECT COUNT(*) FROM permission_requests WHERE datasource_id = $1) \
             + (SELECT COUNT(*) FROM grants WHERE datasource_id = $1)",
            &args![id],
        )
        .await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka_both() -> DataSource {
        let ep = |address: &str, options: Value| {
            Some(Endpoint {
                address: address.into(),
                options,
            })
        };
        DataSource {
            id: 1,
            name: "kafka_main".into(),
            kind: DataSourceKind::Kafka,
            env: Env::Both,
            test: ep(
                "kt:9092",
                serde_json::json!({"security.protocol": "SASL_SSL", "retries": 3, "gone": null}),
            ),
            prod: ep("kp:9092", serde_json::json!({})),
            user: Some("svc".into()),
            password: Some(SecretRef::Env("WEIR_SECRET_KAFKA".into())),
            managed: true,
            owner_project: None,
            description: String::new(),
            created_by: "dan".into(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_connection_per_environment_keeps_the_password_a_reference() {
        let ds = kafka_both();
        let test = ds.connection(Env::Test).unwrap();
        assert_eq!(test.kind, DataSourceKind::Kafka);
        assert_eq!(test.address, "kt:9092");
        assert_eq!(test.user.as_deref(), Some("svc"));
        assert_eq!(test.password.as_deref(), Some("env:WEIR_SECRET_KAFKA"));
        assert_eq!(test.options["security.protocol"], "SASL_SSL");
        assert_eq!(test.options["retries"], "3");
        assert!(!test.options.contains_key("gone"));
        let prod = ds.connection(Env::Prod).unwrap();
        assert_eq!(prod.address, "kp:9092");
        assert!(prod.options.is_empty());
    }

    #[test]
    fn an_environment_without_an_address_is_refused_in_words() {
        let mut ds = kafka_both();
        ds.env = Env::Test;
        ds.prod = None;
        let e = ds.connection(Env::Prod).unwrap_err();
        assert_eq!(
            e.to_string(),
            "env: data source `kafka_main` has no prod address (it serves test); give it a \
             prod address (and set env to both), or use the test environment"
        );
        assert_eq!(e.fault(), weir_model::Fault::User);
    }

    #[test]
    fn passwords_follow_the_models_rule_without_echoing_them() {
        let e = parse_password("hunter2").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.starts_with("password: the value is neither"), "{e}");
        let e = parse_password("env:9hunter").unwrap_err().to_string();
        assert!(e.contains("not an environment variable name"), "{e}");
        assert!(!e.contains("9hunter"), "{e}");
        assert_eq!(
            parse_password("file:/run/pw").unwrap(),
            SecretRef::File("/run/pw".into())
        );
    }
}
