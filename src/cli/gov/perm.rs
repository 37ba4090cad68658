//! `weir perm request|requests|withdraw|grant|deny|public|list|revoke|check`.

use clap::{Args, Subcommand};
use serde_json::json;
use weir_app::governance::{
    GrantList, GrantSpec, Grantee, Perm, PermissionRequestSpec, RequestFilter, RequestFor,
};

use super::{emit, split_list, table_refs, with_store};
use crate::cli::{Global, exit, table};
use weir_app::AppError;
use weir_model::text::printable;

#[derive(Debug, Args)]
pub struct PermArgs {
    #[command(subcommand)]
    pub command: PermCommand,
}

/// Tables, grantees and operations of a batch authorization.
#[derive(Debug, Args)]
pub struct GrantArgs {
    /// DATASOURCE.TABLE; repeat or separate with commas for a batch over many tables.
    #[arg(long = "table", value_name = "DS.TABLE", required = true)]
    pub tables: Vec<String>,
    /// A project; repeatable.
    #[arg(long = "project")]
    pub projects: Vec<String>,
    /// A user; repeatable.
    #[arg(long = "user")]
    pub users: Vec<String>,
    /// select,insert,update,delete (Kafka topics: select, insert).
    #[arg(long)]
    pub perms: String,
    /// Column level (user whitelist only, not Kafka).
    #[arg(long)]
    pub columns: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PermCommand {
    /// Ask for permissions on a table or topic.
    Request {
        /// DATASOURCE.TABLE, e.g. kafka_main.clicks.
        #[arg(long)]
        table: String,
        /// project:P, person:U (yourself) or both:P,U.
        #[arg(long = "for", value_name = "project:P|person:U|both:P,U")]
        for_whom: String,
        /// select,insert,update,delete (Kafka topics: select, insert).
        #[arg(long)]
        perms: String,
        /// Column level, for a person only (not Kafka).
        #[arg(long)]
        columns: Option<String>,
        #[arg(long)]
        reason: String,
    },
    /// My requests: in progress (default), --finished or --all.
    Requests {
        #[arg(long, conflicts_with = "all")]
        finished: bool,
        #[arg(long)]
        all: bool,
    },
    /// Withdraw a pending request of mine.
    Withdraw { id: i64 },
    /// Whitelist projects/users on tables (data admin).
    Grant(GrantArgs),
    /// Blacklist projects/users on tables (data admin); beats every other grant.
    Deny(GrantArgs),
    /// Make tables public for some operations (data admin).
    Public {
        #[arg(long = "table", value_name = "DS.TABLE", required = true)]
        tables: Vec<String>,
        #[arg(long)]
        perms: String,
    },
    /// The whitelists, blacklist and public setting of a table.
    List {
        #[arg(long)]
        table: String,
    },
    /// Remove one grant by id (data admin).
    Revoke { id: i64 },
    /// The effective right of a user, acting in a project, on a table, and why.
    Check {
        #[arg(long)]
        user: String,
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        table: String,
        /// select, insert, update or delete.
        #[arg(long)]
        op: String,
        #[arg(long)]
        columns: Option<String>,
    },
}

fn perms(s: &str) -> Result<Vec<Perm>, AppError> {
    let list = split_list(s);
    if list.is_empty() {
        return Err(AppError::User(
            "--perms is empty; give e.g. select,insert".into(),
        ));
    }
    Ok(list
        .iter()
        .map(|p| Perm::parse(p))
        .collect::<Result<_, _>>()?)
}

fn for_whom(s: &str, actor: &str) -> Result<RequestFor, AppError> {
    let person = |u: &str| {
        if u.trim() == actor {
            Ok(())
        } else {
            Err(AppError::User(format!(
                "a person request is for yourself ({actor}), not for `{u}`; {u} asks themselves"
            )))
        }
    };
    match s.split_once(':') {
        Some(("project", p)) if !p.trim().is_empty() => Ok(RequestFor::Project(p.trim().into())),
        Some(("person", u)) => {
            person(u)?;
            Ok(RequestFor::Person)
        }
        Some(("both", pu)) => match pu.split_once(',') {
            Some((p, u)) if !p.trim().is_empty() => {
                person(u)?;
                Ok(RequestFor::Both(p.trim().into()))
            }
            _ => Err(AppError::User(format!("`{s}`: write both:PROJECT,USER"))),
        },
        _ => Err(AppError::User(format!(
            "`{s}` is not a target; write project:P, person:U or both:P,U"
        ))),
    }
}

async fn grant_spec(
    gov: &weir_app::governance::Governance,
    list: GrantList,
    a: &GrantArgs,
) -> Result<GrantSpec, AppError> {
    let tables = table_refs(gov, &a.tables).await?;
    let mut grantees: Vec<Grantee> = a
        .projects
        .iter()
        .map(|p| Grantee::Project(p.clone()))
        .collect();
    grantees.extend(a.users.iter().map(|u| Grantee::User(u.clone())));
    if grantees.is_empty() {
        return Err(AppError::User(
            "name who with --project P and/or --user U".into(),
        ));
    }
    Ok(GrantSpec {
        list,
        tables,
        grantees,
        perms: perms(&a.perms)?,
        columns: a.columns.as_deref().map(split_list).unwrap_or_default(),
    })
}

fn print_requests(global: &Global, rs: &[weir_app::governance::Request]) {
    emit(global, &rs, || {
        let rows: Vec<Vec<String>> = rs
            .iter()
            .map(|r| {
                vec![
                    format!("#{}", r.id),
                    r.state.as_str().into(),
                    r.created_at.clone(),
                    r.summary.clone(),
                    r.decided_by.clone().unwrap_or_default(),
                    r.opinion.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table::render(
            &["ID", "STATE", "ASKED", "WHAT", "DECIDED BY", "OPINION"],
            &rows,
        )
    });
}

pub fn run(global: &Global, args: &PermArgs) -> i32 {
    with_store(global, |gov| async move {
        let s = &gov;
        match &args.command {
            PermCommand::Request {
                table,
                for_whom: f,
                perms: p,
                columns,
                reason,
            } => {
                let spec = PermissionRequestSpec {
                    target: s.table_ref(table).await?,
                    for_whom: for_whom(f, s.actor())?,
                    perms: perms(p)?,
                    columns: columns.as_deref().map(split_list).unwrap_or_default(),
                    reason: reason.clone(),
                };
                let created = s.request_permission(&spec).await?;
                emit(global, &created, || {
                    created
                        .iter()
                        .map(|r| format!("request #{}: {}\n", r.id, printable(&r.summary)))
                        .collect()
                });
            }
            PermCommand::Requests { finished, all } => {
                let filter = if *all {
                    RequestFilter::All
                } else if *finished {
                    RequestFilter::Finished
                } else {
                    RequestFilter::InProgress
                };
                let rs = s.my_requests(filter).await?;
                print_requests(global, &rs);
            }
            PermCommand::Withdraw { id } => {
                let r = s.withdraw(*id).await?;
                emit(global, &r, || format!("withdrew request #{}\n", r.id));
            }
            PermCommand::Grant(a) | PermCommand::Deny(a) => {
                let list = if matches!(args.command, PermCommand::Grant(_)) {
                    GrantList::Whitelist
                } else {
                    GrantList::Blacklist
                };
                let gs = s.set_grants(&grant_spec(s, list, a).await?).await?;
                emit(global, &gs, || format!("added {} grant row(s)\n", gs.len()));
            }
            PermCommand::Public { tables, perms: p } => {
                let spec = GrantSpec {
                    list: GrantList::Public,
                    tables: table_refs(s, tables).await?,
                    grantees: vec![],
                    perms: perms(p)?,
                    columns: vec![],
                };
                let gs = s.set_grants(&spec).await?;
                emit(global, &gs, || {
                    format!("made {} table(s) public\n", gs.len())
                });
            }
            PermCommand::List { table } => {
                let gs = s.grants(&s.table_ref(table).await?).await?;
                emit(global, &gs, || {
                    let rows: Vec<Vec<String>> = gs
                        .iter()
                        .map(|g| {
                            vec![
                                g.id.to_string(),
                                format!("{:?}", g.list).to_lowercase(),
                                g.grantee.describe(),
                                g.perms
                                    .iter()
                                    .map(|p| p.as_str())
                                    .collect::<Vec<_>>()
                                    .join(","),
                                if g.columns.is_empty() {
                                    "*".into()
                                } else {
                                    g.columns.join(",")
                                },
                                g.request.map(|r| format!("#{r}")).unwrap_or_default(),
                                g.granted_by.clone(),
                            ]
                        })
                        .collect();
                    table::render(
                        &["ID", "LIST", "WHO", "PERMS", "COLUMNS", "REQUEST", "BY"],
                        &rows,
                    )
                });
            }
            PermCommand::Revoke { id } => {
                s.revoke_grant(*id).await?;
                emit(global, &json!({ "revoked": id }), || {
                    format!("revoked grant {id}\n")
                });
            }
            PermCommand::Check {
                user,
                project,
                table,
                op,
                columns,
            } => {
                let op = Perm::parse(op)?;
                let cols = columns.as_deref().map(split_list).unwrap_or_default();
                let d = s
                    .check(
                        user,
                        project.as_deref(),
                        &s.table_ref(table).await?,
                        op,
                        &cols,
                    )
                    .await?;
                emit(global, &d, || {
                    format!(
                        "{}: {}\n",
                        if d.allowed { "allowed" } else { "denied" },
                        printable(&d.reason)
                    )
                });
                return Ok(if d.allowed {
                    exit::OK
                } else {
                    exit::CHECK_FAILED
                });
            }
        }
        Ok(exit::OK)
    })
}
