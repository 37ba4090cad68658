//! Whitelists, blacklists, the public list, and the effective right (`check`).

use crate::Session;
use crate::audit::{self, NONE};
use crate::datasources::{self, DataSource};
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};
use crate::identity::{GlobalRole, load_user, roles};
use crate::projects;

use super::{
    Decision, Grant, GrantList, GrantSpec, Grantee, Perm, TableRef, check_perms_for, check_table,
    parse_perms, perms_text,
};

pub(super) type GrantRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<i64>,
    String,
    String,
);

const GRANTS_OF_TABLE: &str = "SELECT g.id, g.list, g.table_name, g.grantee_kind, p.name, g.login, g.perms, \
     g.columns, g.request_id, g.granted_by, g.granted_at \
     FROM grants g LEFT JOIN projects p ON p.id = g.project_id \
     WHERE g.datasource_id = $1 AND g.table_name = $2 ORDER BY g.id";

const GRANT_BY_ID: &str = "SELECT g.id, g.list, g.table_name, g.grantee_kind, p.name, g.login, g.perms, \
     g.columns, g.request_id, g.granted_by, g.granted_at \
     FROM grants g LEFT JOIN projects p ON p.id = g.project_id WHERE g.id = $1";

pub(super) fn to_grant(ds: &str, r: GrantRow) -> Grant {
    let grantee = match (r.3.as_str(), r.4, r.5) {
        ("project", Some(p), _) => Grantee::Project(p),
        ("user", _, Some(u)) => Grantee::User(u),
        _ => Grantee::Public,
    };
    Grant {
        id: r.0,
        list: GrantList::parse(&r.1),
        target: TableRef::new(ds, &r.2),
        grantee,
        perms: parse_perms(&r.6),
        columns: serde_json::from_str(&r.7).unwrap_or_default(),
        request: r.8,
        granted_by: r.9,
        granted_at: r.10,
    }
}

async fn grant_by_id(tx: &mut Tx, id: i64) -> Result<Grant> {
    let row: Option<GrantRow> = tx.opt(GRANT_BY_ID, &args![id]).await?;
    let Some(r) = row else {
        return Err(StoreError::NotFound {
            kind: "grant",
            name: format!("#{id}"),
            suggestion: None,
        });
    };
    let (ds_id,): (i64,) = tx
        .one("SELECT datasource_id FROM grants WHERE id = $1", &args![id])
        .await?;
    let ds = datasources::by_id(tx, ds_id).await?;
    Ok(to_grant(&ds.name, r))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_grant(
    tx: &mut Tx,
    list: GrantList,
    ds: &DataSource,
    table: &str,
    grantee: &Grantee,
    perms: &[Perm],
    columns: &[String],
    request: Option<i64>,
    by: &str,
) -> Result<Grant> {
    let (kind, project_id, login) = match grantee {
        Grantee::Project(p) => ("project", Some(projects::active(tx, p).await?.id), None),
        Grantee::User(u) => ("user", None, Some(load_user(tx, u).await?.login)),
        Grantee::Public => ("public", None, None),
    };
    let cols = serde_json::to_string(columns).unwrap_or_else(|_| "[]".into());
    let (id,): (i64,) = tx
        .one(
            "INSERT INTO grants (list, datasource_id, table_name, grantee_kind, project_id, login, perms, \
             columns, request_id, granted_by, granted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &args![
                list.as_str(),
                ds.id,
                table,
                kind,
                project_id,
                login,
                perms_text(perms),
                cols,
                request,
                by,
                now()
            ],
        )
        .await?;
    grant_by_id(tx, id).await
}

impl Session {
    /// Sets whitelist, blacklist or public rows over many tables at once, all or nothing
    /// (data admin or system admin).
    pub async fn set_grants(&self, spec: &GrantSpec) -> Result<Vec<Grant>> {
        if spec.tables.is_empty() {
            return Err(StoreError::invalid(
                "tables",
                "no table chosen",
                "choose one or more tables",
            ));
        }
        match spec.list {
            GrantList::Public if !spec.grantees.is_empty() => {
                return Err(StoreError::invalid(
                    "grantees",
                    "a public setting applies to everyone",
                    "drop the projects and users",
                ));
            }
            GrantList::Whitelist | GrantList::Blacklist if spec.grantees.is_empty() => {
                return Err(StoreError::invalid(
                    "grantees",
                    "no project or user chosen",
                    "choose one or more projects or users",
                ));
            }
            _ => {}
        }
        if !spec.columns.is_empty() && spec.list != GrantList::Whitelist {
            return Err(StoreError::invalid(
                "columns",
                format!("a {} entry covers whole tables", spec.list.as_str()),
                "drop the columns",
            ));
        }
        for g in &spec.grantees {
            match g {
                Grantee::Project(p) => crate::checks::name("project", p)?,
                Grantee::User(u) => crate::checks::name("user", u)?,
                Grantee::Public => {}
            }
        }
        let mut tx = self.pool.write().await?;
        roles(&mut tx, &self.actor).await?.require(
            &[GlobalRole::DataAdmin, GlobalRole::SystemAdmin],
            "set whitelists, blacklists or public tables",
        )?;
        let grantees = if spec.list == GrantList::Public {
            vec![Grantee::Public]
        } else {
            spec.grantees.clone()
        };
        let mut out = Vec::new();
        for t in &spec.tables {
            check_table(t)?;
            let ds = datasources::by_name(&mut tx, &t.datasource).await?;
            for g in &grantees {
                let person = matches!(g, Grantee::User(_));
                check_perms_for(&ds, &spec.perms, &spec.columns, person)?;
                let grant = insert_grant(
                    &mut tx,
                    spec.list,
                    &ds,
                    t.table.trim(),
                    g,
                    &spec.perms,
                    &spec.columns,
                    None,
                    &self.actor,
                )
                .await?;
                let action = format!("grant.{}", spec.list.as_str());
                audit::append(
                    &mut tx,
                    &self.actor,
                    &action,
                    "grant",
                    grant.id,
                    NONE,
                    Some(&grant),
                )
                .await?;
                out.push(grant);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Removes a grant row (data admin or system admin).
    pub async fn revoke_grant(&self, id: i64) -> Result<()> {
        let mut tx = self.pool.write().await?;
        roles(&mut tx, &self.actor).await?.require(
            &[GlobalRole::DataAdmin, GlobalRole::SystemAdmin],
            "revoke grants",
        )?;
        let before = grant_by_id(&mut tx, id).await?;
        tx.execute("DELETE FROM grants WHERE id = $1", &args![id])
            .await?;
        audit::append(
            &mut tx,
            &self.actor,
            "grant.revoke",
            "grant",
            id,
            Some(&before),
            NONE,
        )
        .await?;
        tx.commit().await
    }

    /// Every grant on a table: project and user whitelists, blacklist, public.
    pub async fn grants(&self, target: &TableRef) -> Result<Vec<Grant>> {
        let mut tx = self.pool.read().await?;
        let ds = datasources::by_name(&mut tx, &target.datasource).await?;
        let rows: Vec<GrantRow> = tx
            .all(GRANTS_OF_TABLE, &args![ds.id, &target.table])
            .await?;
        Ok(rows.into_iter().map(|r| to_grant(&ds.name, r)).collect())
    }

    /// May `user`, acting in `project` (if any), do `op` on `target` (restricted to
    /// `columns`, if given)? Blacklist beats everything; then user whitelist, project
    /// whitelist via membership, public.
    pub async fn check(
        &self,
        user: &str,
        project: Option<&str>,
        target: &TableRef,
        op: Perm,
        columns: &[String],
    ) -> Result<Decision> {
        let mut tx = self.pool.read().await?;
        let ds = datasources::by_name(&mut tx, &target.datasource).await?;
        let who = roles(&mut tx, user).await?;
        if let Some(p) = project {
            projects::by_name(&mut tx, p).await?;
        }
        let member_of = project.filter(|p| who.in_project(p).is_some());
        let rows: Vec<GrantRow> = tx
            .all(GRANTS_OF_TABLE, &args![ds.id, &target.table])
            .await?;
        let grants: Vec<Grant> = rows.into_iter().map(|r| to_grant(&ds.name, r)).collect();
        let has_op = |g: &&Grant| g.perms.contains(&op);
        let deny = |reason: String| Decision {
            allowed: false,
            reason,
        };
        let allow = |reason: String| Decision {
            allowed: true,
            reason,
        };
        for g in grants
            .iter()
            .filter(|g| g.list == GrantList::Blacklist)
            .filter(has_op)
        {
            match &g.grantee {
                Grantee::User(u) if u == user => {
                    return Ok(deny(format!("blacklisted for user {user}")));
                }
                Grantee::Project(p) if project == Some(p.as_str()) => {
                    return Ok(deny(format!("blacklisted for project {p}")));
                }
                _ => {}
            }
        }
        let covers = |g: &Grant| {
            g.columns.is_empty()
                || (!columns.is_empty() && columns.iter().all(|c| g.columns.contains(c)))
        };
        let source = |g: &Grant| match g.request {
            Some(r) => format!("granted by request #{r}"),
            None => format!("set by {} (grant #{})", g.granted_by, g.id),
        };
        let whitelist = || {
            grants
                .iter()
                .filter(|g| g.list == GrantList::Whitelist)
                .filter(has_op)
        };
        if let Some(g) =
            whitelist().find(|g| g.grantee == Grantee::User(user.to_string()) && covers(g))
        {
            return Ok(allow(format!("user whitelist: {}", source(g))));
        }
        if let Some(p) = member_of
            && whitelist().any(|g| g.grantee == Grantee::Project(p.to_string()))
        {
            return Ok(allow(format!(
                "project whitelist of project {p} via membership"
            )));
        }
        if grants
            .iter()
            .filter(|g| g.list == GrantList::Public)
            .any(|g| has_op(&g))
        {
            return Ok(allow("public".to_string()));
        }
        let mut reason = "no grant".to_string();
        if let Some(p) = project
            && member_of.is_none()
        {
            reason = format!("no grant ({user} is not a member of project {p})");
        }
        Ok(deny(reason))
    }
}
