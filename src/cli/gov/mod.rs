//! The governance commands (SPEC R-roles, R-proj, R-ds, R-topic, R-perm): one file per
//! command group, all on `app::governance`. Every data-printing command takes `--json`.

pub mod approvals;
pub mod datasource;
pub mod perm;
pub mod project;
pub mod topic;
pub mod user;

use std::future::Future;

use serde::Serialize;

use super::{Global, exit, print_json};
use crate::app::AppError;
use crate::app::governance::Governance;

/// Open the store as the acting user, run `body`, and turn its outcome into an exit
/// code: errors go to stderr as `error: …` (the message says what to do) and exit 2.
pub(crate) fn with_store<F, Fut>(global: &Global, body: F) -> i32
where
    F: FnOnce(Governance) -> Fut,
    Fut: Future<Output = Result<i32, AppError>>,
{
    let runtime = match crate::app::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID;
        }
    };
    let outcome = runtime.block_on(async {
        let gov = Governance::open_default(global.store.as_ref()).await?;
        let store = gov.store.clone();
        let code = body(gov).await;
        store.close().await;
        code
    });
    match outcome {
        Ok(code) => code,
        Err(e) => {
            if global.json {
                print_json(&serde_json::json!({ "error": e.to_string() }));
            } else {
                eprintln!("error: {e}");
            }
            exit::INVALID
        }
    }
}

/// Print `value` as JSON, or `text` for people.
pub(crate) fn emit<T: Serialize>(global: &Global, value: &T, text: impl FnOnce() -> String) {
    if global.json {
        print_json(&serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
    } else {
        print!("{}", text());
    }
}

/// `a,b, c` → `["a", "b", "c"]`, empty parts dropped.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) use crate::app::tables::table_ref;

/// Every table of `--table` arguments (repeated or comma-separated).
pub(crate) async fn table_refs(
    session: &weir_store::Session,
    args: &[String],
) -> Result<Vec<weir_store::TableRef>, AppError> {
    let mut out = Vec::new();
    for t in args.iter().flat_map(|t| split_list(t)) {
        out.push(table_ref(session, &t).await?);
    }
    Ok(out)
}
