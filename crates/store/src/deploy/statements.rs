//! What a login role may do in the store: the one list of rights ([`TABLE_RIGHTS`]), the
//! statements that grant and revoke them ([`login_statements`]), and the check and quoting
//! of role names they use. Which rows a login may write is not decided here but by the
//! rules of PostgreSQL migration 6 (`migrations/postgres/0006_rules.sql`).

use crate::error::{Result, StoreError};

use super::LoginStatements;

/// The store's tables and what a login may do to each beyond `SELECT`: only the
/// statements weir itself runs (e.g. no `UPDATE` of `users`, no `DELETE` of `requests`),
/// and nothing on `weir_schema` but reading it. The rules that decide *which* rows a login
/// may write are the triggers of PostgreSQL migration 6 (`0006_rules.sql`); these grants
/// are the coarse outer wall. `TRUNCATE`, `REFERENCES` and `TRIGGER` are never granted.
pub(crate) const TABLE_RIGHTS: &[(&str, &str)] = &[
    ("weir_schema", ""),
    ("bootstrap", "INSERT"),
    ("users", "INSERT"),
    ("user_roles", "INSERT, DELETE"),
    ("projects", "INSERT, UPDATE"),
    ("project_members", "INSERT, UPDATE, DELETE"),
    ("data_sources", "INSERT, UPDATE, DELETE"),
    ("data_source_tests", "INSERT, UPDATE, DELETE"),
    ("topics", "INSERT, UPDATE, DELETE"),
    ("requests", "INSERT, UPDATE"),
    ("topic_publications", "INSERT"),
    ("permission_requests", "INSERT"),
    ("grants", "INSERT, DELETE"),
    ("audit", "INSERT"),
    ("jobs", "INSERT, UPDATE"),
    ("job_locks", "INSERT, UPDATE"),
    ("job_versions", "INSERT"),
    ("releases", "INSERT, UPDATE"),
    ("instances", "INSERT, UPDATE"),
    ("workers", "INSERT, UPDATE, DELETE"),
    ("instance_metrics", "INSERT, UPDATE, DELETE"),
    ("instance_logs", "INSERT, DELETE"),
    ("alert_rules", "INSERT, DELETE"),
    ("alerts", "INSERT, UPDATE"),
    ("savepoints", "INSERT, DELETE"),
    ("savepoint_requests", "INSERT, UPDATE"),
];

/// The identity sequences of the store's tables. Inserting needs no right on them;
/// logins granted by weir before schema version 6 had `USAGE, SELECT`, which granting
/// again takes back.
const SEQUENCES: &[&str] = &[
    "projects_id_seq",
    "data_sources_id_seq",
    "topics_id_seq",
    "requests_id_seq",
    "grants_id_seq",
    "audit_id_seq",
    "jobs_id_seq",
    "job_versions_id_seq",
    "instances_id_seq",
    "instance_logs_id_seq",
    "alert_rules_id_seq",
    "alerts_id_seq",
    "savepoints_id_seq",
    "savepoint_requests_id_seq",
];

/// The statements that give login role `role` what a weir user needs in the store in
/// `schema`, and those that take it back. The one place that says what a login may do:
/// use the schema, read the store's tables and run on each only the kinds of write weir
/// runs there ([`TABLE_RIGHTS`]); the triggers of migration 6 check every row written
/// against weir's rules, so plain SQL can do nothing weir would refuse. Granting first
/// revokes everything on the store's tables and sequences, so running it again after an
/// upgrade narrows the broad rights older versions granted. `CONNECT` on the database is
/// left to the server (PUBLIC has it by default), so revoking never cuts a role's other
/// uses of the same database; rights on tables outside the store are never touched.
pub fn login_statements(schema: &str, role: &str) -> Result<LoginStatements> {
    check_role_name(role)?;
    let (schema, role) = (quote_ident(schema), quote_ident(role));
    let all_tables = qualified(&schema, TABLE_RIGHTS.iter().map(|(t, _)| *t));
    let sequences = qualified(&schema, SEQUENCES.iter().copied());
    let mut grant = vec![
        format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        format!("REVOKE ALL ON TABLE {all_tables} FROM {role}"),
        format!("REVOKE ALL ON SEQUENCE {sequences} FROM {role}"),
        format!("GRANT SELECT ON TABLE {all_tables} TO {role}"),
    ];
    for right in ["INSERT", "UPDATE", "DELETE"] {
        let tables = qualified(
            &schema,
            TABLE_RIGHTS
                .iter()
                .filter(|(_, rights)| rights.split(", ").any(|r| r == right))
                .map(|(t, _)| *t),
        );
        grant.push(format!("GRANT {right} ON TABLE {tables} TO {role}"));
    }
    Ok(LoginStatements {
        grant,
        revoke: vec![
            format!("REVOKE ALL ON SEQUENCE {sequences} FROM {role}"),
            format!("REVOKE ALL ON TABLE {all_tables} FROM {role}"),
            format!("REVOKE USAGE ON SCHEMA {schema} FROM {role}"),
        ],
    })
}

/// `"schema"."a", "schema"."b"`: `names` qualified by the quoted `schema`.
fn qualified<'a>(schema: &str, names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|t| format!("{schema}.{}", quote_ident(t)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A login role name weir accepts: what a weir login may be (1 to 63 letters, digits,
/// `_`, `-`, `.`, `@`), minus the names PostgreSQL reserves. Names are also quoted in SQL;
/// this check keeps them to what a person can type in a connection URL.
pub(super) fn check_role_name(name: &str) -> Result<()> {
    let fits = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if !fits {
        return Err(StoreError::invalid(
            "login",
            format!("{name:?} is not a valid login role name"),
            "use 1 to 63 letters, digits, `_`, `-`, `.` or `@`, as in a weir login",
        ));
    }
    let lower = name.to_ascii_lowercase();
    let reserved = [
        "public",
        "none",
        "current_user",
        "session_user",
        "current_role",
    ];
    if lower.starts_with("pg_") || reserved.contains(&lower.as_str()) {
        return Err(StoreError::invalid(
            "login",
            format!("`{name}` is a name PostgreSQL reserves"),
            "use the person's own login name",
        ));
    }
    Ok(())
}

/// `name` as a quoted SQL identifier (`"a""b"`), whatever it holds.
pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
