//! Permission requests: who may ask for what, and what approval grants.

use crate::Session;
use crate::audit::{self, NONE};
use crate::datasources;
use crate::db::{Tx, args};
use crate::error::{Result, StoreError};
use crate::identity::{GlobalRole, roles};
use crate::projects;
use crate::requests::{self, Request, RequestDetail, RequestKind};

use super::grants::insert_grant;
use super::{
    Grant, GrantList, Grantee, PermissionRequestSpec, RequestFor, check_perms_for, check_table,
    parse_perms, perms_text,
};

/// The permission part of request `id`.
pub(crate) async fn request_detail(tx: &mut Tx, id: i64) -> Result<RequestDetail> {
    let (ds_id, table, kind, project, login, perms, columns, reason): (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
    ) = tx
        .one(
            "SELECT r.datasource_id, r.table_name, r.grantee_kind, p.name, r.login, r.perms, r.columns, r.reason \
             FROM permission_requests r LEFT JOIN projects p ON p.id = r.project_id WHERE r.request_id = $1",
            &args![id],
        )
        .await?;
    let grantee = match (kind.as_str(), project, login) {
        ("project", Some(p), _) => Grantee::Project(p),
        (_, _, Some(u)) => Grantee::User(u),
        _ => Grantee::Public,
    };
    Ok(RequestDetail::Permission {
        datasource: datasources::by_id(tx, ds_id).await?.name,
        table,
        grantee,
        perms: parse_perms(&perms),
        columns: serde_json::from_str(&columns).unwrap_or_default(),
        reason,
    })
}

/// On approval: the whitelist row the request asked for.
pub(crate) async fn on_approved(tx: &mut Tx, id: i64, approver: &str) -> Result<Grant> {
    let RequestDetail::Permission {
        datasource,
        table,
        grantee,
        perms,
        columns,
        ..
    } = request_detail(tx, id).await?
    else {
        return Err(StoreError::wrong_state(format!(
            "request #{id} is not a permission request"
        )));
    };
    let ds = datasources::by_name(tx, &datasource).await?;
    let grant = insert_grant(
        tx,
        GrantList::Whitelist,
        &ds,
        &table,
        &grantee,
        &perms,
        &columns,
        Some(id),
        approver,
    )
    .await?;
    Ok(grant)
}

impl Session {
    /// Requests permissions on a table or topic. Returns one request, or two when asking
    /// for both a project and oneself.
    pub async fn request_permission(&self, spec: &PermissionRequestSpec) -> Result<Vec<Request>> {
        check_table(&spec.target)?;
        if spec.reason.trim().is_empty() {
            return Err(StoreError::invalid(
                "reason",
                "no reason given",
                "say why the permission is needed; the data admin reads it",
            ));
        }
        crate::checks::free_text("reason", &spec.reason)?;
        let mut tx = self.pool.write().await?;
        let me = roles(&mut tx, &self.actor).await?;
        if !me.registered {
            return Err(me.forbidden("request permissions", "a registered user".into()));
        }
        if me.has(GlobalRole::DataAdmin) {
            return Err(StoreError::NotAllowed(
                "data admins may not request permissions; grant them directly with a whitelist entry".into(),
            ));
        }
        let ds = datasources::by_name(&mut tx, &spec.target.datasource).await?;
        let person = matches!(spec.for_whom, RequestFor::Person);
        check_perms_for(&ds, &spec.perms, &spec.columns, person)?;
        if matches!(spec.for_whom, RequestFor::Both(_)) && !spec.columns.is_empty() {
            return Err(StoreError::invalid(
                "columns",
                "column-level permissions are only for a person, and this request is also for a project",
                "request the columns for yourself only, or drop them",
            ));
        }
        let mut grantees: Vec<(Grantee, Option<i64>)> = Vec::new();
        if let RequestFor::Project(p) | RequestFor::Both(p) = &spec.for_whom {
            let project = projects::active(&mut tx, p).await?;
            if me.in_project(&project.name).is_none() {
                return Err(me.forbidden(
                    &format!("request permissions for project {}", project.name),
                    format!("a member of project {}", project.name),
                ));
            }
            grantees.push((Grantee::Project(project.name.clone()), Some(project.id)));
        }
        if matches!(spec.for_whom, RequestFor::Person | RequestFor::Both(_)) {
            grantees.push((Grantee::User(self.actor.clone()), None));
        }
        let mut out = Vec::new();
        for (grantee, project_id) in grantees {
            let id =
                requests::insert(&mut tx, RequestKind::Permission, &self.actor, project_id).await?;
            let (kind, login) = match &grantee {
                Grantee::Project(_) => ("project", None),
                _ => ("user", Some(self.actor.clone())),
            };
            tx.execute(
                "INSERT INTO permission_requests (request_id, datasource_id, table_name, grantee_kind, \
                 project_id, login, perms, columns, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &args![
                    id,
                    ds.id,
                    spec.target.table.trim(),
                    kind,
                    project_id,
                    login,
                    perms_text(&spec.perms),
                    serde_json::to_string(&spec.columns).unwrap_or_else(|_| "[]".into()),
                    spec.reason.trim()
                ],
            )
            .await?;
            let r = requests::load(&mut tx, id).await?;
            audit::append(
                &mut tx,
                &self.actor,
                "permission.request",
                "request",
                id,
                NONE,
                Some(&r),
            )
            .await?;
            out.push(r);
        }
        tx.commit().await?;
        Ok(out)
    }
}
