//! `weir user add|list|roles`, `weir whoami`.

use clap::{Args, Subcommand};

use super::{emit, with_store};
use crate::cli::{Global, exit, table};
use weir_app::AppError;
use weir_app::governance::{GlobalRole, ProjectRole, RoleToAdd, User};

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Register a user, or give an existing user one more role.
    Add {
        /// The user's login (OS login, or PostgreSQL role on a team store).
        login: String,
        /// system_admin, data_admin, ops, business; or project_admin, developer with --project.
        #[arg(long)]
        role: String,
        /// The project of a project role.
        #[arg(long)]
        project: Option<String>,
        /// Name shown in lists (default: the login).
        #[arg(long)]
        name: Option<String>,
    },
    /// List users and their roles: global ones and ROLE@PROJECT per project.
    List,
}

pub fn run(global: &Global, args: &UserArgs) -> i32 {
    with_store(global, |gov| async move {
        let s = &gov;
        match &args.command {
            UserCommand::Add {
                login,
                role,
                project,
                name,
            } => {
                let display = name.clone().unwrap_or_else(|| login.clone());
                // one store transaction: registered and given the role, or nothing
                match (project, GlobalRole::parse(role), ProjectRole::parse(role)) {
                    (None, Ok(g), _) => {
                        let added = s
                            .add_user_role(login, &display, RoleToAdd::Global(g))
                            .await?;
                        emit(global, &added.user, || {
                            format!("{login} is now {}\n", g.words())
                        });
                    }
                    (Some(p), _, Ok(r)) => {
                        let to_add = RoleToAdd::Project {
                            project: p,
                            role: r,
                        };
                        let added = s.add_user_role(login, &display, to_add).await?;
                        let member = added.member.ok_or_else(|| {
                            AppError::Internal("the store added no membership".into())
                        })?;
                        emit(global, &member, || {
                            format!("{login} is now {} of {p}\n", r.words())
                        });
                    }
                    (None, Err(_), Ok(_)) => {
                        return Err(AppError::User(format!(
                            "`{role}` is a project role; name the project with --project P"
                        )));
                    }
                    (Some(_), Ok(_), _) => {
                        return Err(AppError::User(format!(
                            "`{role}` is a global role; leave out --project"
                        )));
                    }
                    (_, Err(e), Err(_)) => {
                        return Err(AppError::User(format!(
                            "{e}; project roles are project_admin and developer (with --project)"
                        )));
                    }
                }
            }
            UserCommand::List => {
                let users = s.users().await?;
                emit(global, &users, || {
                    let rows = users
                        .iter()
                        .map(|u| vec![u.login.clone(), u.display_name.clone(), roles_text(u)])
                        .collect::<Vec<_>>();
                    table::render(&["LOGIN", "NAME", "ROLES"], &rows)
                });
            }
        }
        Ok(exit::OK)
    })
}

/// A user's roles for the ROLES column: global roles, then `ROLE@PROJECT` for each
/// membership (`ops,developer@shop`); `-` for none.
fn roles_text(u: &User) -> String {
    let roles: Vec<String> = u
        .roles
        .iter()
        .map(|r| r.as_str().to_string())
        .chain(
            u.projects
                .iter()
                .map(|(p, r)| format!("{}@{p}", r.as_str())),
        )
        .collect();
    if roles.is_empty() {
        "-".into()
    } else {
        roles.join(",")
    }
}

/// `weir whoami`: the acting user and their roles.
pub fn whoami(global: &Global) -> i32 {
    with_store(global, |gov| async move {
        let roles = gov.whoami().await?;
        emit(global, &roles, || {
            format!("{}: {}\n", roles.login, roles.describe())
        });
        Ok(exit::OK)
    })
}
