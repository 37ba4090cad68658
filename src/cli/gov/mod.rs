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

use super::{Global, fail, print_json};
use weir_app::AppError;
use weir_app::governance::Governance;

/// Open the store as the acting user, run `body`, and turn its outcome into an exit
/// code: errors go to stderr as `error: …` (the message says what to do), with the exit
/// code of their fault (`cli::exit::of`).
pub(crate) fn with_store<F, Fut>(global: &Global, body: F) -> i32
where
    F: FnOnce(Governance) -> Fut,
    Fut: Future<Output = Result<i32, AppError>>,
{
    let runtime = match weir_app::runtime() {
        Ok(rt) => rt,
        Err(e) => return fail(global, &e),
    };
    let outcome = runtime.block_on(async {
        let gov = Governance::open_default(global.store.as_ref()).await?;
        let closer = gov.closer();
        let code = body(gov).await;
        closer.close().await;
        code
    });
    match outcome {
        Ok(code) => code,
        Err(e) => fail(global, &e),
    }
}

/// Print `value` as JSON, or `text` for people. The text is weir's lines around
/// user-supplied names and free text: whatever in it a terminal would obey (an escape
/// sequence, a carriage return, a bidirectional override) is escaped on the way out
/// (`weir_model::text::printable_lines`); only its line breaks stay, so free text that
/// may hold line breaks is escaped where it is formatted, with `printable`.
pub(crate) fn emit<T: Serialize>(global: &Global, value: &T, text: impl FnOnce() -> String) {
    if global.json {
        print_json(&serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
    } else {
        outp!("{}", weir_model::text::printable_lines(&text()));
    }
}

/// As [`emit`], for text in weir's own colours (a diff): printed as it is, so whoever
/// composes it escapes its user-supplied parts (`weir_model::text::printable`).
pub(crate) fn emit_styled<T: Serialize>(global: &Global, value: &T, text: impl FnOnce() -> String) {
    if global.json {
        print_json(&serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
    } else {
        outp!("{}", text());
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

/// Every table of `--table` arguments (repeated or comma-separated).
pub(crate) async fn table_refs(
    gov: &Governance,
    args: &[String],
) -> Result<Vec<weir_app::governance::TableRef>, AppError> {
    let mut out = Vec::new();
    for t in args.iter().flat_map(|t| split_list(t)) {
        out.push(gov.table_ref(&t).await?);
    }
    Ok(out)
}
