//! `weir project create|list|members|remove-member|archive|restore`.

use clap::{Args, Subcommand};

use super::{emit, with_store};
use crate::cli::{Global, exit, table};

#[derive(Debug, Args)]
pub struct ProjectArgs {
    #[command(subcommand)]
    pub command: ProjectCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project (system admin).
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List projects.
    List,
    /// List a project's members and their roles.
    Members { name: String },
    /// Remove a member from a project (system admin or project admin; audited). Their
    /// grants through the project's whitelist end with it.
    RemoveMember {
        /// The project.
        project: String,
        /// The member's login.
        login: String,
    },
    /// Make a project read-only and stop its instances (system admin).
    Archive { name: String },
    /// Make an archived project writable again (system admin).
    Restore { name: String },
    /// Make NAME the store project of this checkout's jobs (writes .weir/project).
    Use { name: String },
}

pub fn run(global: &Global, args: &ProjectArgs) -> i32 {
    if let ProjectCommand::Use { name } = &args.command {
        return use_project(global, name);
    }
    with_store(global, |gov| async move {
        let s = &gov;
        match &args.command {
            ProjectCommand::Create { name, description } => {
                let p = s.create_project(name, description).await?;
                emit(global, &p, || format!("created project {}\n", p.name));
            }
            ProjectCommand::List => {
                let ps = s.projects().await?;
                emit(global, &ps, || {
                    let rows: Vec<Vec<String>> = ps
                        .iter()
                        .map(|p| {
                            vec![
                                p.name.clone(),
                                if p.archived { "archived" } else { "active" }.into(),
                                p.created_by.clone(),
                                p.description.clone(),
                            ]
                        })
                        .collect();
                    table::render(&["NAME", "STATE", "CREATED BY", "DESCRIPTION"], &rows)
                });
            }
            ProjectCommand::Members { name } => {
                let ms = s.members(name).await?;
                emit(global, &ms, || {
                    let rows: Vec<Vec<String>> = ms
                        .iter()
                        .map(|m| vec![m.login.clone(), m.role.as_str().into()])
                        .collect();
                    table::render(&["LOGIN", "ROLE"], &rows)
                });
            }
            ProjectCommand::RemoveMember { project, login } => {
                let before = s
                    .members(project)
                    .await?
                    .into_iter()
                    .find(|m| &m.login == login);
                s.remove_member(project, login).await?;
                let removed = serde_json::json!({
                    "project": project,
                    "login": login,
                    "role": before.map(|m| m.role.as_str()),
                    "removed": true,
                });
                emit(global, &removed, || {
                    format!("removed {login} from project {project}\n")
                });
            }
            ProjectCommand::Archive { name } => {
                let effects = s.archive_project(name).await?;
                // Stopping instances plugs in here once instances exist (issue: instances).
                emit(global, &effects, || {
                    format!(
                        "archived project {name}: read-only until a system admin restores it; {} running instance(s) stopped\n",
                        effects.instances_to_stop.len()
                    )
                });
            }
            ProjectCommand::Restore { name } => {
                let p = s.restore_project(name).await?;
                emit(global, &p, || format!("restored project {}\n", p.name));
            }
            ProjectCommand::Use { .. } => {}
        }
        Ok(exit::OK)
    })
}

/// `weir project use NAME`: the checkout's jobs are NAME's from now on. The project
/// must exist in the store (so a typo is caught here, not at the first submit).
fn use_project(global: &Global, name: &str) -> i32 {
    with_store(global, |gov| async move {
        let p = gov.project(name).await?;
        let cwd = std::env::current_dir()
            .map_err(|e| weir_app::AppError::io("no current directory", e))?;
        let root = weir_app::project_root(&cwd);
        let file = weir_app::jobs::use_project(&root, &p.name)?;
        let value = serde_json::json!({ "project": p.name, "file": file.display().to_string() });
        emit(global, &value, || {
            let mut out = format!(
                "the jobs of {} belong to project {} ({})\n",
                root.display(),
                p.name,
                file.display()
            );
            if let Ok(env) = std::env::var("WEIR_PROJECT")
                && env.trim() != p.name
            {
                out.push_str(&format!(
                    "note: WEIR_PROJECT={env} is set and takes precedence in this shell\n"
                ));
            }
            out
        });
        Ok(exit::OK)
    })
}
