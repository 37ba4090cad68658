//! Data permissions: requests, whitelists, blacklists, public tables and the effective
//! right (SPEC R-perm).
//!
//! Rules held here:
//! - anyone but a data admin may request; for a project (member of it), for themselves,
//!   or both (two request rows, two approvals);
//! - Kafka topics: table level only, `insert` and `select` only;
//! - column level only for a person and not on Kafka; a reason is required;
//! - approval by a data admin adds a project or user whitelist row;
//! - data admins (and system admins) set whitelist / blacklist / public directly, in batch;
//! - effective right: blacklist beats everything, then user whitelist, project whitelist
//!   (through membership), public.

//!
//! `request.rs` holds permission requests, `grants.rs` the lists and the effective right;
//! this file the shared types and rules.

use serde::Serialize;
use weir_model::model::DataSourceKind;

use crate::checks;
use crate::datasources::DataSource;
use crate::error::{Result, StoreError};

mod grants;
mod request;

pub(crate) use request::{on_approved, request_detail};

/// An operation on a table or topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Perm {
    /// Read.
    Select,
    /// Write new rows / produce.
    Insert,
    /// Change rows.
    Update,
    /// Remove rows.
    Delete,
}

impl Perm {
    /// Every operation.
    pub const ALL: [Perm; 4] = [Perm::Select, Perm::Insert, Perm::Update, Perm::Delete];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Perm::Select => "select",
            Perm::Insert => "insert",
            Perm::Update => "update",
            Perm::Delete => "delete",
        }
    }

    /// Parses `select`, `insert`, `update`, `delete` (any case).
    pub fn parse(s: &str) -> Result<Perm> {
        let l = s.trim().to_ascii_lowercase();
        Perm::ALL
            .into_iter()
            .find(|p| p.as_str() == l)
            .ok_or_else(|| {
                StoreError::invalid(
                    "perms",
                    format!("`{s}` is not a permission"),
                    "use select, insert, update or delete",
                )
            })
    }
}

pub(crate) fn perms_text(perms: &[Perm]) -> String {
    let mut v = perms.to_vec();
    v.sort();
    v.dedup();
    v.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
}

pub(crate) fn parse_perms(s: &str) -> Vec<Perm> {
    s.split(',').filter_map(|p| Perm::parse(p).ok()).collect()
}

/// A table (or Kafka topic) of a data source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct TableRef {
    /// Data source name.
    pub datasource: String,
    /// Table or topic name.
    pub table: String,
}

impl TableRef {
    /// `TableRef { datasource, table }`.
    pub fn new(datasource: &str, table: &str) -> TableRef {
        TableRef {
            datasource: datasource.to_string(),
            table: table.to_string(),
        }
    }
}

/// Who a permission request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestFor {
    /// The named project (its whitelist).
    Project(String),
    /// The requester.
    Person,
    /// Both: two requests, two approvals.
    Both(String),
}

/// What a requester fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionRequestSpec {
    /// The table or topic.
    pub target: TableRef,
    /// For whom.
    pub for_whom: RequestFor,
    /// Operations wanted.
    pub perms: Vec<Perm>,
    /// Columns (person only, not Kafka); empty = whole table.
    pub columns: Vec<String>,
    /// Why (required).
    pub reason: String,
}

/// Who holds a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Grantee {
    /// A project (every member acting in it).
    Project(String),
    /// One user.
    User(String),
    /// Everyone (public list).
    Public,
}

impl Grantee {
    /// "project p", "user bob", "everyone".
    pub fn describe(&self) -> String {
        match self {
            Grantee::Project(p) => format!("project {p}"),
            Grantee::User(u) => format!("user {u}"),
            Grantee::Public => "everyone".to_string(),
        }
    }
}

/// Which list a grant is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantList {
    /// Allows.
    Whitelist,
    /// Denies; beats everything.
    Blacklist,
    /// Allows everyone.
    Public,
}

impl GrantList {
    fn as_str(self) -> &'static str {
        match self {
            GrantList::Whitelist => "whitelist",
            GrantList::Blacklist => "blacklist",
            GrantList::Public => "public",
        }
    }

    fn parse(s: &str) -> GrantList {
        match s {
            "blacklist" => GrantList::Blacklist,
            "public" => GrantList::Public,
            _ => GrantList::Whitelist,
        }
    }
}

/// A batch authorization by a data admin: every table × every grantee gets one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantSpec {
    /// Which list.
    pub list: GrantList,
    /// Tables (one transaction for all).
    pub tables: Vec<TableRef>,
    /// Projects and users (ignored, and must be empty, for `Public`).
    pub grantees: Vec<Grantee>,
    /// Operations.
    pub perms: Vec<Perm>,
    /// Columns (user whitelist only, not Kafka); empty = whole table.
    pub columns: Vec<String>,
}

/// A row of a whitelist, blacklist or the public list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Id.
    pub id: i64,
    /// List.
    pub list: GrantList,
    /// Table.
    pub target: TableRef,
    /// Holder.
    pub grantee: Grantee,
    /// Operations.
    pub perms: Vec<Perm>,
    /// Columns; empty = whole table.
    pub columns: Vec<String>,
    /// The request it came from, if any.
    pub request: Option<i64>,
    /// Who granted it (approver or data admin).
    pub granted_by: String,
    /// When.
    pub granted_at: String,
}

/// The effective right and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Allowed or not.
    pub allowed: bool,
    /// "blacklisted for user bob", "user whitelist: granted by request #12", "public",
    /// "project whitelist of project p via membership", "no grant".
    pub reason: String,
}

pub(crate) fn check_perms_for(
    ds: &DataSource,
    perms: &[Perm],
    columns: &[String],
    person: bool,
) -> Result<()> {
    if perms.is_empty() {
        return Err(StoreError::invalid(
            "perms",
            "no permission chosen",
            "choose one or more of select, insert, update, delete",
        ));
    }
    if ds.kind == DataSourceKind::Kafka {
        if let Some(p) = perms
            .iter()
            .find(|p| !matches!(p, Perm::Select | Perm::Insert))
        {
            return Err(StoreError::invalid(
                "perms",
                format!(
                    "{} is a kafka data source and `{}` does not apply to topics",
                    ds.name,
                    p.as_str()
                ),
                "a topic takes select and insert only",
            ));
        }
        if !columns.is_empty() {
            return Err(StoreError::invalid(
                "columns",
                format!(
                    "{} is a kafka data source; topics are granted as a whole",
                    ds.name
                ),
                "drop the columns",
            ));
        }
    }
    if !person && !columns.is_empty() {
        return Err(StoreError::invalid(
            "columns",
            "column-level permissions are only for a person",
            "request for yourself, or drop the columns to request the whole table",
        ));
    }
    if columns.iter().any(|c| c.trim().is_empty()) {
        return Err(StoreError::invalid(
            "columns",
            "a column name is empty",
            "name every column",
        ));
    }
    checks::names("columns", columns)
}

pub(crate) fn check_table(t: &TableRef) -> Result<()> {
    if t.table.trim().is_empty() {
        return Err(StoreError::invalid(
            "table",
            "no table given",
            "name the table or topic",
        ));
    }
    checks::name("table", &t.table)
}
