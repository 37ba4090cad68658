//! `weir project create|list|members|archive|restore`.

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
    /// Make a project read-only and stop its instances (system admin).
    Archive { name: String },
    /// Make an archived project writable again (system admin).
    Restore { name: String },
}

pub fn run(global: &Global, args: &ProjectArgs) -> i32 {
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
        }
        Ok(exit::OK)
    })
}
