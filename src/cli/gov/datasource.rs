//! `weir datasource add|show|list|test|delete`.

use clap::{Args, Subcommand};
use serde_json::json;
use weir_app::governance::{DataSource, DataSourceSpec, DataSourceTest, Endpoint, Env};
use weir_app::secrets::{Consent, masked_options};
use weir_model::model::secret::{masked, scrub};

use super::{emit, with_store};
use crate::cli::{Global, exit, table};
use weir_app::AppError;

#[derive(Debug, Args)]
pub struct DataSourceArgs {
    #[command(subcommand)]
    pub command: DataSourceCommand,
}

#[derive(Debug, Subcommand)]
pub enum DataSourceCommand {
    /// Register a data source (data admin).
    Add(Box<AddArgs>),
    /// Show one data source (credentials masked) and its last connectivity tests.
    Show { name: String },
    /// List data sources.
    List,
    /// Check that weir can reach and log in to a data source in one environment; the
    /// result is kept in the store as its last test (shown by `list` and the workbench).
    /// Its secret is sent only once you confirm where it goes (asked at a terminal).
    Test {
        name: String,
        /// test or prod.
        #[arg(long, default_value = "test")]
        env: String,
        /// Confirm sending the data source's secret without asking (for scripts); weir
        /// remembers it in your config directory (trusted-secrets).
        #[arg(long)]
        yes: bool,
    },
    /// Remove a data source (data admin).
    Delete { name: String },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    pub name: String,
    /// mysql, oracle, postgres, hive, hbase, elasticsearch, ftp, s3 (ks3), kafka, redis, http.
    #[arg(long)]
    pub kind: String,
    /// test, prod or both.
    #[arg(long)]
    pub env: String,
    #[arg(long, value_name = "A")]
    pub test_address: Option<String>,
    #[arg(long, value_name = "B")]
    pub prod_address: Option<String>,
    #[arg(long)]
    pub user: Option<String>,
    /// A reference, never the secret: env:WEIR_SECRET_NAME (an environment variable) or
    /// file:NAME (a file in weir's secrets directory, $WEIR_SECRETS_DIR or
    /// ~/.config/weir/secrets/).
    #[arg(long, value_name = "env:WEIR_SECRET_NAME|file:NAME")]
    pub password: Option<String>,
    /// An option for both environments, KEY=VALUE (e.g. database=report); repeatable.
    #[arg(long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// An option for the test environment only; repeatable.
    #[arg(long = "test-option", value_name = "KEY=VALUE")]
    pub test_options: Vec<String>,
    /// An option for production only; repeatable.
    #[arg(long = "prod-option", value_name = "KEY=VALUE")]
    pub prod_options: Vec<String>,
    /// Fully managed: weir may create tables and govern permissions on it.
    #[arg(long)]
    pub managed: bool,
    /// Owning project.
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long, default_value = "")]
    pub description: String,
    /// Replace an existing data source of that name instead of failing.
    #[arg(long)]
    pub update: bool,
}

fn options(common: &[String], own: &[String]) -> Result<serde_json::Value, AppError> {
    let mut map = serde_json::Map::new();
    for kv in common.iter().chain(own) {
        let (k, v) = kv.split_once('=').ok_or_else(|| {
            AppError::User(format!(
                "option `{kv}` is not KEY=VALUE, e.g. database=report"
            ))
        })?;
        map.insert(k.trim().to_string(), json!(v.trim()));
    }
    Ok(serde_json::Value::Object(map))
}

fn spec(a: &AddArgs) -> Result<DataSourceSpec, AppError> {
    let endpoint = |addr: &Option<String>, own: &[String]| -> Result<Option<Endpoint>, AppError> {
        Ok(match addr {
            Some(address) => Some(Endpoint {
                address: address.clone(),
                options: options(&a.options, own)?,
            }),
            None => None,
        })
    };
    Ok(DataSourceSpec {
        name: a.name.clone(),
        kind: weir_app::governance::parse_kind(&a.kind)?,
        env: Env::parse(&a.env)?,
        test: endpoint(&a.test_address, &a.test_options)?,
        prod: endpoint(&a.prod_address, &a.prod_options)?,
        user: a.user.clone(),
        password: a.password.clone(),
        managed: a.managed,
        owner_project: a.project.clone(),
        description: a.description.clone(),
    })
}

/// An endpoint for output: a password in its address (an old row) and the values of
/// options that name a credential masked.
fn shown_endpoint(e: &Endpoint) -> Endpoint {
    Endpoint {
        address: scrub(&e.address, ""),
        options: masked_options(&e.options),
    }
}

/// A data source for output: the password as its masked reference, any credential in an
/// address or an option masked.
fn shown(ds: &DataSource) -> serde_json::Value {
    let ds = &DataSource {
        test: ds.test.as_ref().map(shown_endpoint),
        prod: ds.prod.as_ref().map(shown_endpoint),
        ..ds.clone()
    };
    let mut v = serde_json::to_value(ds).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = v.as_object_mut() {
        let pw = ds.password.as_ref().map(|p| p.as_reference());
        obj.insert("password".into(), json!(masked(pw.as_deref())));
        obj.insert("kind".into(), json!(ds.kind.name().to_ascii_lowercase()));
    }
    v
}

fn describe(ds: &DataSource) -> String {
    let pw = ds.password.as_ref().map(|p| p.as_reference());
    let ep = |e: &Option<Endpoint>| {
        e.as_ref().map(shown_endpoint).map_or("-".to_string(), |e| {
            if e.options.as_object().is_some_and(|o| !o.is_empty()) {
                format!("{}  {}", e.address, e.options)
            } else {
                e.address.clone()
            }
        })
    };
    format!(
        "name:        {}\nkind:        {}\nenv:         {}\ntest:        {}\nprod:        {}\nuser:        {}\npassword:    {}\nmanaged:     {}\nproject:     {}\ndescription: {}\ncreated:     {} by {}\n",
        ds.name,
        ds.kind.name().to_ascii_lowercase(),
        ds.env.as_str(),
        ep(&ds.test),
        ep(&ds.prod),
        ds.user.as_deref().unwrap_or("-"),
        masked(pw.as_deref()),
        if ds.managed { "yes" } else { "no" },
        ds.owner_project.as_deref().unwrap_or("-"),
        weir_model::text::printable(&ds.description),
        ds.created_at,
        ds.created_by,
    )
}

/// `last test:   test ok at T by bob in 12 ms: what was checked`, one line per
/// environment tested; `not tested yet` when none was.
fn last_tests(tests: &[DataSourceTest]) -> String {
    if tests.is_empty() {
        return "last test:   not tested yet (weir datasource test NAME)\n".into();
    }
    let mut out = String::new();
    for (i, t) in tests.iter().enumerate() {
        out.push_str(&format!(
            "{:<13}{} {} at {} by {} in {} ms: {}\n",
            if i == 0 { "last test:" } else { "" },
            t.env.as_str(),
            if t.ok { "ok" } else { "FAILED" },
            t.tested_at,
            t.tested_by,
            t.latency_ms,
            weir_model::text::printable(&t.message),
        ));
    }
    out
}

pub fn run(global: &Global, args: &DataSourceArgs) -> i32 {
    with_store(global, |gov| async move {
        let s = &gov;
        match &args.command {
            DataSourceCommand::Add(a) => {
                let spec = spec(a)?;
                let ds = if a.update {
                    s.update_data_source(&a.name, &spec).await?
                } else {
                    s.add_data_source(&spec).await?
                };
                emit(global, &shown(&ds), || {
                    format!(
                        "{} data source {}\n",
                        if a.update { "updated" } else { "added" },
                        ds.name
                    )
                });
            }
            DataSourceCommand::Show { name } => {
                let ds = s.data_source(name).await?;
                let tests: Vec<DataSourceTest> = s
                    .data_source_tests()
                    .await?
                    .into_iter()
                    .filter(|t| t.data_source == ds.name)
                    .collect();
                let mut value = shown(&ds);
                if let Some(obj) = value.as_object_mut() {
                    obj.insert("last_tests".into(), json!(tests));
                }
                emit(global, &value, || {
                    let mut text = describe(&ds);
                    text.push_str(&last_tests(&tests));
                    text
                });
            }
            DataSourceCommand::List => {
                let all = s.data_sources().await?;
                let json: Vec<_> = all.iter().map(shown).collect();
                emit(global, &json, || {
                    let rows: Vec<Vec<String>> = all
                        .iter()
                        .map(|d| {
                            vec![
                                d.name.clone(),
                                d.kind.name().to_ascii_lowercase(),
                                d.env.as_str().into(),
                                d.test
                                    .as_ref()
                                    .map_or("-".into(), |e| scrub(&e.address, "")),
                                d.prod
                                    .as_ref()
                                    .map_or("-".into(), |e| scrub(&e.address, "")),
                                d.owner_project.clone().unwrap_or_else(|| "-".into()),
                            ]
                        })
                        .collect();
                    table::render(&["NAME", "KIND", "ENV", "TEST", "PROD", "PROJECT"], &rows)
                });
            }
            DataSourceCommand::Test { name, env, yes } => {
                let env = match Env::parse(env)? {
                    Env::Both => {
                        return Err(AppError::User(
                            "test one environment at a time: --env test or --env prod".into(),
                        ));
                    }
                    e => e,
                };
                let consent = Consent::for_command_line(*yes);
                let tested = gov.test_data_source(name, env, &consent).await?;
                let (ds, r) = (&tested.data_source, &tested.result);
                let value = json!({
                    "datasource": ds.name,
                    "env": env.as_str(),
                    "result": r,
                    "recorded": match &tested.recorded {
                        Ok(t) => json!({ "tested_by": t.tested_by, "tested_at": t.tested_at }),
                        Err(e) => json!({ "error": e }),
                    },
                });
                emit(global, &value, || {
                    let mut out = if r.ok {
                        format!(
                            "ok    {} ({}) in {:.0} ms: {}\n",
                            ds.name,
                            env.as_str(),
                            r.latency_ms,
                            r.checked
                        )
                    } else {
                        format!(
                            "FAIL  {} ({}) after {:.0} ms: {}\n",
                            ds.name,
                            env.as_str(),
                            r.latency_ms,
                            r.error.as_deref().unwrap_or("")
                        )
                    };
                    if let Some(n) = &r.not_checked {
                        out.push_str(&format!("      not checked: {n}\n"));
                    }
                    if let Err(e) = &tested.recorded {
                        out.push_str(&format!("      {e}\n"));
                    }
                    out
                });
                return Ok(if r.ok { exit::OK } else { exit::CHECK_FAILED });
            }
            DataSourceCommand::Delete { name } => {
                s.delete_data_source(name).await?;
                emit(global, &json!({ "deleted": name }), || {
                    format!("deleted data source {name}\n")
                });
            }
        }
        Ok(exit::OK)
    })
}
