//! Projects and their members; archive and restore.
//!
//! An archived project is read-only: every write that touches it fails with
//! [`StoreError::Archived`]. Archiving also stops the project's instances: in its
//! transaction their desired state becomes `stopped` (those no worker holds are stopped at
//! once), and [`Session::archive_project`] returns [`ArchiveEffects`] naming those a
//! worker still has to stop.

use serde::Serialize;

use crate::Session;
use crate::audit::{self, NONE};
use crate::db::{Tx, args, now};
use crate::error::{Conflict, Result, StoreError};
use crate::identity::{GlobalRole, ProjectRole, load_user, roles};

/// A project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// Store id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Read-only until restored.
    pub archived: bool,
    /// Creator.
    pub created_by: String,
    /// Creation time.
    pub created_at: String,
    /// Who archived it, while archived.
    pub archived_by: Option<String>,
    /// When it was archived, while archived.
    pub archived_at: Option<String>,
}

/// A project member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Project name.
    pub project: String,
    /// Member login.
    pub login: String,
    /// Role in the project.
    pub role: ProjectRole,
}

/// What the caller must do after an archive commits: the instances named are asked to
/// stop (desired `stopped`, set in the archive's transaction) and their workers stop them;
/// the app may wait for that or report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveEffects {
    /// The project as archived.
    pub project: Project,
    /// Ids of instances still held by a worker, now asked to stop.
    pub instances_to_stop: Vec<i64>,
}

type ProjectRow = (
    i64,
    String,
    String,
    bool,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn to_project(r: ProjectRow) -> Project {
    Project {
        id: r.0,
        name: r.1,
        description: r.2,
        archived: r.3,
        created_by: r.4,
        created_at: r.5,
        archived_by: r.6,
        archived_at: r.7,
    }
}

/// The project named `name`, with a suggestion if it does not exist.
pub(crate) async fn by_name(tx: &mut Tx, name: &str) -> Result<Project> {
    let row: Option<ProjectRow> = tx
        .opt(
            "SELECT id, name, description, archived, created_by, created_at, archived_by, archived_at \
             FROM projects WHERE name = $1",
            &args![name],
        )
        .await?;
    match row {
        Some(r) => Ok(to_project(r)),
        None => {
            let all: Vec<(String,)> = tx.all("SELECT name FROM projects", &[]).await?;
            Err(StoreError::not_found(
                "project",
                name,
                all.into_iter().map(|r| r.0),
            ))
        }
    }
}

/// The project with id `id`.
pub(crate) async fn by_id(tx: &mut Tx, id: i64) -> Result<Project> {
    let row: ProjectRow = tx
        .one(
            "SELECT id, name, description, archived, created_by, created_at, archived_by, archived_at \
             FROM projects WHERE id = $1",
            &args![id],
        )
        .await?;
    Ok(to_project(row))
}

/// The project named `name`, refusing an archived one (for writes).
pub(crate) async fn active(tx: &mut Tx, name: &str) -> Result<Project> {
    let p = by_name(tx, name).await?;
    ensure_active(&p)?;
    Ok(p)
}

pub(crate) fn ensure_active(p: &Project) -> Result<()> {
    if p.archived {
        Err(StoreError::Archived {
            project: p.name.clone(),
        })
    } else {
        Ok(())
    }
}

/// Names: a letter first, then letters, digits, `_` or `-`; 1 to 64 characters.
pub(crate) fn check_name(field: &'static str, name: &str) -> Result<()> {
    let fix = "use 1 to 64 letters, digits, `_` or `-`, starting with a letter";
    let shown = weir_model::text::printable(name);
    let n = name.chars().count();
    if !(1..=64).contains(&n) {
        return Err(StoreError::invalid(
            field,
            format!("`{shown}` has {n} characters"),
            fix,
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(StoreError::invalid(
            field,
            format!("`{shown}` does not start with a letter"),
            fix,
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
    {
        return Err(StoreError::invalid(
            field,
            format!(
                "`{shown}` contains `{}`",
                weir_model::text::printable(&c.to_string())
            ),
            fix,
        ));
    }
    Ok(())
}

async fn members_of(tx: &mut Tx, project: &Project) -> Result<Vec<Member>> {
    let rows: Vec<(String, String)> = tx
        .all(
            "SELECT login, role FROM project_members WHERE project_id = $1 ORDER BY login",
            &args![project.id],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(login, role)| {
            ProjectRole::parse(&role).ok().map(|role| Member {
                project: project.name.clone(),
                login,
                role,
            })
        })
        .collect())
}

/// Makes registered user `login` a member of `p` with `role` (or changes their role)
/// inside `tx`, audited as done by `actor`; the caller has checked that `p` is active
/// and the actor's role.
pub(crate) async fn put_member(
    tx: &mut Tx,
    actor: &str,
    p: &Project,
    login: &str,
    role: ProjectRole,
) -> Result<Member> {
    load_user(tx, login).await?;
    let before: Option<(String,)> = tx
        .opt(
            "SELECT role FROM project_members WHERE project_id = $1 AND login = $2",
            &args![p.id, login],
        )
        .await?;
    let before = before
        .and_then(|(r,)| ProjectRole::parse(&r).ok())
        .map(|role| Member {
            project: p.name.clone(),
            login: login.to_string(),
            role,
        });
    if before.is_some() {
        tx.execute(
            "UPDATE project_members SET role = $3 WHERE project_id = $1 AND login = $2",
            &args![p.id, login, role.as_str()],
        )
        .await?;
    } else {
        tx.execute(
            "INSERT INTO project_members (project_id, login, role, added_by, added_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &args![p.id, login, role.as_str(), actor, now()],
        )
        .await?;
    }
    let after = Member {
        project: p.name.clone(),
        login: login.to_string(),
        role,
    };
    let id = format!("{}/{login}", p.name);
    audit::append(
        tx,
        actor,
        "member.add",
        "member",
        id,
        before.as_ref(),
        Some(&after),
    )
    .await?;
    Ok(after)
}

impl Session {
    /// Creates a project (system admin).
    pub async fn create_project(&self, name: &str, description: &str) -> Result<Project> {
        check_name("project name", name)?;
        crate::checks::free_text("description", description)?;
        let mut tx = self.pool.write().await?;
        roles(&mut tx, &self.actor)
            .await?
            .require(&[GlobalRole::SystemAdmin], "create a project")?;
        let exists: Option<(i64,)> = tx
            .opt("SELECT id FROM projects WHERE name = $1", &args![name])
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(Conflict::Exists {
                kind: "project",
                name: name.to_string(),
            }));
        }
        tx.execute(
            "INSERT INTO projects (name, description, archived, created_by, created_at) \
             VALUES ($1, $2, FALSE, $3, $4)",
            &args![name, description, &self.actor, now()],
        )
        .await?;
        let p = by_name(&mut tx, name).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "project.create",
            "project",
            name,
            NONE,
            Some(&p),
        )
        .await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Every project, by name (archived ones included).
    pub async fn projects(&self) -> Result<Vec<Project>> {
        let mut tx = self.pool.read().await?;
        let rows: Vec<ProjectRow> = tx
            .all(
                "SELECT id, name, description, archived, created_by, created_at, archived_by, archived_at \
                 FROM projects ORDER BY name",
                &[],
            )
            .await?;
        Ok(rows.into_iter().map(to_project).collect())
    }

    /// One project.
    pub async fn project(&self, name: &str) -> Result<Project> {
        let mut tx = self.pool.read().await?;
        by_name(&mut tx, name).await
    }

    /// The members of a project, by login.
    pub async fn members(&self, project: &str) -> Result<Vec<Member>> {
        let mut tx = self.pool.read().await?;
        let p = by_name(&mut tx, project).await?;
        members_of(&mut tx, &p).await
    }

    /// Adds a member or changes their role (system admin or project admin of the project).
    pub async fn add_member(
        &self,
        project: &str,
        login: &str,
        role: ProjectRole,
    ) -> Result<Member> {
        let mut tx = self.pool.write().await?;
        let p = active(&mut tx, project).await?;
        roles(&mut tx, &self.actor).await?.require_in_project(
            &p.name,
            &[ProjectRole::ProjectAdmin],
            &[GlobalRole::SystemAdmin],
            "add project members",
        )?;
        let after = put_member(&mut tx, &self.actor, &p, login, role).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes a member (system admin or project admin of the project).
    pub async fn remove_member(&self, project: &str, login: &str) -> Result<()> {
        let mut tx = self.pool.write().await?;
        let p = active(&mut tx, project).await?;
        roles(&mut tx, &self.actor).await?.require_in_project(
            &p.name,
            &[ProjectRole::ProjectAdmin],
            &[GlobalRole::SystemAdmin],
            "remove project members",
        )?;
        let members = members_of(&mut tx, &p).await?;
        let Some(before) = members.iter().find(|m| m.login == login) else {
            return Err(StoreError::not_found(
                "member of project",
                login,
                members.iter().map(|m| m.login.clone()),
            ));
        };
        tx.execute(
            "DELETE FROM project_members WHERE project_id = $1 AND login = $2",
            &args![p.id, login],
        )
        .await?;
        let id = format!("{}/{login}", p.name);
        audit::append(
            &mut tx,
            &self.actor,
            "member.remove",
            "member",
            id,
            Some(before),
            NONE,
        )
        .await?;
        tx.commit().await
    }

    /// Archives a project: it becomes read-only and its instances must stop (see
    /// [`ArchiveEffects`]). System admin or project admin of the project.
    pub async fn archive_project(&self, name: &str) -> Result<ArchiveEffects> {
        let mut tx = self.pool.write().await?;
        let before = active(&mut tx, name).await?;
        roles(&mut tx, &self.actor).await?.require_in_project(
            &before.name,
            &[ProjectRole::ProjectAdmin],
            &[GlobalRole::SystemAdmin],
            "archive a project",
        )?;
        tx.execute(
            "UPDATE projects SET archived = TRUE, archived_by = $2, archived_at = $3 WHERE id = $1",
            &args![before.id, &self.actor, now()],
        )
        .await?;
        let instances_to_stop =
            crate::jobs::stop_for_archive(&mut tx, &self.actor, before.id).await?;
        let after = by_id(&mut tx, before.id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "project.archive",
            "project",
            name,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(ArchiveEffects {
            project: after,
            instances_to_stop,
        })
    }

    /// Restores an archived project (system admin).
    pub async fn restore_project(&self, name: &str) -> Result<Project> {
        let mut tx = self.pool.write().await?;
        let before = by_name(&mut tx, name).await?;
        roles(&mut tx, &self.actor)
            .await?
            .require(&[GlobalRole::SystemAdmin], "restore a project")?;
        if !before.archived {
            return Err(StoreError::wrong_state(format!(
                "project {name} is not archived"
            )));
        }
        tx.execute(
            "UPDATE projects SET archived = FALSE, archived_by = NULL, archived_at = NULL WHERE id = $1",
            &args![before.id],
        )
        .await?;
        let after = by_id(&mut tx, before.id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "project.restore",
            "project",
            name,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
