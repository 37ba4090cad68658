//! `weir store init|grant|revoke`: deploying the metadata store. `init` applies its
//! migrations (as the database owner on PostgreSQL); `grant` and `revoke` give and take
//! back a person's PostgreSQL login role (system admin). The work is
//! `weir_app::store_admin`'s; this file parses and prints.

use clap::{Args, Subcommand};
use serde::Serialize;
use weir_app::AppError;
use weir_app::store_admin::{self, Initialized, LoginGranted, LoginRevoked};

use crate::cli::{Global, exit, fail, print_json};

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Apply the store's migrations and say what was done (on PostgreSQL, run it as the
    /// database's owner before anyone else connects).
    Init,
    /// Give a PostgreSQL login role what a weir user needs, creating the role (LOGIN, no
    /// password) if it is missing; safe to repeat (system admin, as the store's owner).
    Grant {
        /// The person's login role (their weir login).
        login: String,
    },
    /// Take back what `grant` gave; the role is dropped only if weir created it and
    /// nothing else uses it (system admin, as the store's owner).
    Revoke {
        /// The person's login role.
        login: String,
    },
}

pub fn run(global: &Global, args: &StoreArgs) -> i32 {
    let outcome = weir_app::runtime().and_then(|rt| {
        let url = store_admin::url(global.store.as_deref())?;
        rt.block_on(async {
            match &args.command {
                StoreCommand::Init => {
                    let done = store_admin::init(&url).await?;
                    emit(global, &done, init_text(&done));
                }
                StoreCommand::Grant { login } => {
                    let done = store_admin::grant_login(&url, login).await?;
                    emit(global, &done, grant_text(&done));
                }
                StoreCommand::Revoke { login } => {
                    let done = store_admin::revoke_login(&url, login).await?;
                    emit(global, &done, revoke_text(&done));
                }
            }
            Ok::<_, AppError>(exit::OK)
        })
    });
    match outcome {
        Ok(code) => code,
        Err(e) => fail(global, &e),
    }
}

/// `value` as JSON with `--json`, else `text`.
fn emit<T: Serialize>(global: &Global, value: &T, text: String) {
    if global.json {
        print_json(&serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
    } else {
        outp!("{text}");
    }
}

fn init_text(done: &Initialized) -> String {
    let s = &done.schema;
    let mut out = String::new();
    for m in &s.applied {
        out.push_str(&format!(
            "applied migration {}: {}\n",
            m.version, m.description
        ));
    }
    if s.applied.is_empty() {
        out.push_str(&format!(
            "the {} store is already up to date (schema version {})\n",
            done.backend, s.version
        ));
    } else {
        out.push_str(&format!(
            "the {} store is at schema version {} (was {})\n",
            done.backend, s.version, s.from_version
        ));
    }
    if s.version > s.known_version {
        out.push_str(&format!(
            "note: schema version {} is newer than this weir knows ({}); update weir\n",
            s.version, s.known_version
        ));
    }
    out
}

fn grant_text(done: &LoginGranted) -> String {
    let login = &done.login;
    let mut out = if done.created_role {
        format!(
            "created login role {login} (LOGIN, no password: the server's own authentication applies)\n"
        )
    } else {
        format!("login role {login} exists already\n")
    };
    out.push_str(&format!(
        "granted {login} what a weir user needs in database {}, schema {}, running:\n",
        done.database, done.schema
    ));
    for sql in &done.statements {
        out.push_str(&format!("  {sql}\n"));
    }
    if !done.registered {
        out.push_str(&format!(
            "{login} is not a weir user yet: `weir user add {login} --role ROLE` gives them a role\n"
        ));
    }
    out
}

fn revoke_text(done: &LoginRevoked) -> String {
    let login = &done.login;
    let mut out = format!(
        "revoked from {login} what weir grants in database {}, schema {}, running:\n",
        done.database, done.schema
    );
    for sql in &done.statements {
        out.push_str(&format!("  {sql}\n"));
    }
    if done.dropped_role {
        out.push_str(&format!(
            "dropped login role {login}: weir created it and nothing else used it\n"
        ));
    } else {
        out.push_str(&format!(
            "kept login role {login}: {}\n",
            done.kept_because.join("; ")
        ));
    }
    if done.registered {
        out.push_str(&format!(
            "{login} stays a weir user: their roles and history are kept\n"
        ));
    }
    out
}
