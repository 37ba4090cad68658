//! `weir user add`: registering a user when new and giving them one more role, global
//! or in a project, as one transaction. Before, the command registered the user and then
//! added the membership in a second call, so a project that did not exist left a
//! registered user and an audit row behind a command that failed.

use serde::Serialize;

use crate::Session;
use crate::audit;
use crate::db::{Tx, args};
use crate::error::Result;
use crate::identity::{GlobalRole, ProjectRole, User, check_login, insert_user, load_user, roles};
use crate::projects::{Member, active, put_member};

/// The role `weir user add` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleToAdd<'a> {
    /// A global role (system admin, data admin, ops, business).
    Global(GlobalRole),
    /// A role in a project.
    Project {
        /// The project's name.
        project: &'a str,
        /// The role in it.
        role: ProjectRole,
    },
}

/// What [`Session::add_user_role`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRoleAdded {
    /// The user with their global roles, as now stored.
    pub user: User,
    /// The user was registered by this call.
    pub registered: bool,
    /// The membership, for a project role.
    pub member: Option<Member>,
}

impl Session {
    /// Registers `login` if new (named `display_name`) and gives them `role`, in one
    /// transaction: when any step fails (a project that does not exist or is archived, a
    /// role the actor lacks) nothing is written, no user and no audit row. Registering
    /// and global roles need a system admin; a project role a system admin or a project
    /// admin of the project (who may only add registered users).
    pub async fn add_user_role(
        &self,
        login: &str,
        display_name: &str,
        role: RoleToAdd<'_>,
    ) -> Result<UserRoleAdded> {
        check_login(login)?;
        crate::checks::name("display name", display_name)?;
        let mut tx = self.pool.write().await?;
        let actor = roles(&mut tx, &self.actor).await?;
        let (registered, member) = match role {
            RoleToAdd::Global(g) => {
                let registered = !is_registered(&mut tx, login).await?;
                let action = if registered {
                    "add users"
                } else {
                    "change roles"
                };
                actor.require(&[GlobalRole::SystemAdmin], action)?;
                if registered {
                    insert_user(&mut tx, &self.actor, login, display_name, &[g]).await?;
                } else {
                    add_global_role(&mut tx, &self.actor, login, g).await?;
                }
                (registered, None)
            }
            RoleToAdd::Project { project, role } => {
                // the project first: a mistyped name is the likeliest failure
                let p = active(&mut tx, project).await?;
                let registered = !is_registered(&mut tx, login).await?;
                if registered {
                    actor.require(&[GlobalRole::SystemAdmin], "add users")?;
                    insert_user(&mut tx, &self.actor, login, display_name, &[]).await?;
                }
                actor.require_in_project(
                    &p.name,
                    &[ProjectRole::ProjectAdmin],
                    &[GlobalRole::SystemAdmin],
                    "add project members",
                )?;
                let member = put_member(&mut tx, &self.actor, &p, login, role).await?;
                (registered, Some(member))
            }
        };
        let user = load_user(&mut tx, login).await?;
        tx.commit().await?;
        Ok(UserRoleAdded {
            user,
            registered,
            member,
        })
    }
}

/// Whether `login` is a registered user.
async fn is_registered(tx: &mut Tx, login: &str) -> Result<bool> {
    let known: Option<(String,)> = tx
        .opt("SELECT login FROM users WHERE login = $1", &args![login])
        .await?;
    Ok(known.is_some())
}

/// Gives registered user `login` global role `g` too, audited like a change of roles;
/// nothing is written when they have it already.
async fn add_global_role(tx: &mut Tx, actor: &str, login: &str, g: GlobalRole) -> Result<()> {
    let before = load_user(tx, login).await?;
    if before.roles.contains(&g) {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO user_roles (login, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &args![login, g.as_str()],
    )
    .await?;
    let after = load_user(tx, login).await?;
    audit::append(
        tx,
        actor,
        "user.set_roles",
        "user",
        login,
        Some(&before),
        Some(&after),
    )
    .await
}
