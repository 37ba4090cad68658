//! The one place a librdkafka client config is built from a data source's [`Connection`]:
//! the Kafka source's consumer, the Kafka sink's producer, the app's connectivity check and
//! its topic creation all start from [`client_config`], so credentials checked by
//! `weir datasource test` are the credentials `weir run` uses (Arroyo's `client_configs`
//! is the model). The embedded broker's own mock-cluster handle is not a client of a data
//! source and does not come from here.
//!
//! A connection becomes:
//! - every option as a librdkafka property (`security.protocol`, `ssl.ca.location`,
//!   `sasl.mechanism`, `client.id`, …), except `sasl.password`, which must be the data
//!   source's password reference instead;
//! - `bootstrap.servers` = the address (an option of that name does not override it);
//! - TLS: an `ssl.*` option without `security.protocol` means `SSL`;
//! - SASL when the connection has a user: `security.protocol` `SASL_SSL` with TLS, else
//!   `SASL_PLAINTEXT`; `sasl.mechanism` `PLAIN` unless an option names one;
//!   `sasl.username` and `sasl.password` (read now) from the connection.

use rdkafka::ClientConfig;
use weir_model::model::Connection;

use crate::error::{EngineError, Result};
use crate::resolve;

/// Option keys that name a TLS setting.
const TLS_PREFIX: &str = "ssl.";

/// The librdkafka settings every client of data source `name` starts from. Errors are
/// `Config` (the user's): an unreadable password, a password in the options, or settings
/// that would drop the credentials.
pub fn client_config(name: &str, connection: &Connection) -> Result<ClientConfig> {
    let fail =
        |problem: String| EngineError::Config(format!("Kafka data source `{name}`: {problem}"));
    let mut config = ClientConfig::new();
    for (key, value) in &connection.options {
        if key == "sasl.password" {
            return Err(fail(
                "option sasl.password would keep a password in plain text; give the data \
                 source's password as env:WEIR_SECRET_NAME or file:NAME instead"
                    .into(),
            ));
        }
        config.set(key, value);
    }
    config.set("bootstrap.servers", &connection.address);
    let tls = connection.options.keys().any(|k| k.starts_with(TLS_PREFIX));
    let protocol = connection
        .options
        .get("security.protocol")
        .map(|p| p.trim().to_ascii_uppercase());
    let password = resolve::password(name, connection)?;
    let Some(user) = &connection.user else {
        if password.is_some() {
            return Err(fail(
                "it has a password but no user; Kafka's SASL needs both (give a user)".into(),
            ));
        }
        if protocol.is_none() && tls {
            config.set("security.protocol", "SSL");
        }
        return Ok(config);
    };
    let protocol = match protocol.as_deref() {
        None if tls => "SASL_SSL",
        None => "SASL_PLAINTEXT",
        Some(p @ ("SASL_PLAINTEXT" | "SASL_SSL")) => p,
        Some(other) => {
            return Err(fail(format!(
                "it has a user, but its option security.protocol = {other} sends no \
                 credentials; use SASL_PLAINTEXT (SASL_SSL with TLS), or drop the option"
            )));
        }
    };
    config.set("security.protocol", protocol);
    let mechanism = ["sasl.mechanism", "sasl.mechanisms"]
        .iter()
        .find_map(|k| connection.options.get(*k))
        .map(|m| m.trim().to_ascii_uppercase());
    if mechanism.is_none() {
        config.set("sasl.mechanism", "PLAIN");
    }
    let needs_password = match mechanism.as_deref() {
        None | Some("PLAIN") => true,
        Some(m) => m.starts_with("SCRAM-"),
    };
    config.set("sasl.username", user);
    match password {
        Some(p) => {
            config.set("sasl.password", p);
        }
        None if needs_password => {
            return Err(fail(format!(
                "it has the user `{user}` but no password, which SASL {} needs; give the \
                 password as env:WEIR_SECRET_NAME or file:NAME",
                mechanism.as_deref().unwrap_or("PLAIN")
            )));
        }
        None => {}
    }
    Ok(config)
}

/// Sets `key` unless the config has it already (weir's defaults yield to the data
/// source's options).
pub fn set_default(config: &mut ClientConfig, key: &str, value: &str) {
    if config.get(key).is_none() {
        config.set(key, value);
    }
}
