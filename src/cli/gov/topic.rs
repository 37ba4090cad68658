//! `weir topic create|list|show|publish`.

use clap::{Args, Subcommand};
use weir_app::governance::{Env, TopicField, TopicFormat, TopicSpec};

use super::{emit, with_store};
use crate::cli::{Global, exit, table};
use weir_app::AppError;
use weir_model::text::printable;

#[derive(Debug, Args)]
pub struct TopicArgs {
    #[command(subcommand)]
    pub command: TopicCommand,
}

#[derive(Debug, Subcommand)]
pub enum TopicCommand {
    /// Design a new Kafka topic (it exists on no cluster until a publication is approved).
    Create {
        /// Letters, digits and `_`, starting with a letter, 2 to 35 characters.
        name: String,
        #[arg(long)]
        project: String,
        /// json or csv.
        #[arg(long, default_value = "json")]
        format: String,
        #[arg(long, default_value_t = 1)]
        partitions: i64,
        /// Retention in days.
        #[arg(long, default_value_t = 7)]
        lifecycle_days: i64,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// A field NAME:TYPE[:COMMENT]; repeatable, in record order.
        #[arg(long = "field", value_name = "NAME:TYPE")]
        fields: Vec<String>,
    },
    /// List topics (of one project with --project).
    List {
        #[arg(long)]
        project: Option<String>,
    },
    /// Show a topic with its fields and lifecycle state.
    Show { name: String },
    /// Ask for the topic to go to test or production (a data admin approves).
    Publish {
        name: String,
        /// test or prod.
        #[arg(long)]
        env: String,
        /// The Kafka data source to create it on (default: the one used in test, for prod).
        #[arg(long)]
        datasource: Option<String>,
    },
}

fn field(s: &str) -> Result<TopicField, AppError> {
    let mut parts = s.splitn(3, ':');
    let name = parts.next().unwrap_or("").trim();
    let ty = parts.next().unwrap_or("").trim();
    if name.is_empty() || ty.is_empty() {
        return Err(AppError::User(format!(
            "field `{s}` is not NAME:TYPE[:COMMENT], e.g. user_id:string or ts:timestamp:event time"
        )));
    }
    Ok(TopicField {
        name: name.into(),
        data_type: ty.into(),
        comment: parts.next().unwrap_or("").trim().into(),
    })
}

pub fn run(global: &Global, args: &TopicArgs) -> i32 {
    with_store(global, |gov| async move {
        let s = &gov;
        match &args.command {
            TopicCommand::Create {
                name,
                project,
                format,
                partitions,
                lifecycle_days,
                display_name,
                description,
                fields,
            } => {
                let spec = TopicSpec {
                    name: name.clone(),
                    project: project.clone(),
                    display_name: display_name.clone().unwrap_or_else(|| name.clone()),
                    format: TopicFormat::parse(format)?,
                    partitions: *partitions,
                    lifecycle_days: *lifecycle_days,
                    description: description.clone(),
                    fields: fields.iter().map(|f| field(f)).collect::<Result<_, _>>()?,
                };
                let t = s.create_topic(&spec).await?;
                emit(global, &t, || {
                    format!(
                        "created topic {} in {} (state: {})\n",
                        t.name,
                        t.project,
                        t.state.as_str()
                    )
                });
            }
            TopicCommand::List { project } => {
                let ts = s.topics(project.as_deref()).await?;
                emit(global, &ts, || {
                    let rows: Vec<Vec<String>> = ts
                        .iter()
                        .map(|t| {
                            vec![
                                t.name.clone(),
                                t.project.clone(),
                                t.state.as_str().into(),
                                t.format.as_str().into(),
                                t.partitions.to_string(),
                                t.test_datasource.clone().unwrap_or_else(|| "-".into()),
                                t.prod_datasource.clone().unwrap_or_else(|| "-".into()),
                            ]
                        })
                        .collect();
                    table::render(
                        &[
                            "NAME",
                            "PROJECT",
                            "STATE",
                            "FORMAT",
                            "PARTITIONS",
                            "TEST ON",
                            "PROD ON",
                        ],
                        &rows,
                    )
                });
            }
            TopicCommand::Show { name } => {
                let t = s.topic(name).await?;
                emit(global, &t, || {
                    let mut out = format!(
                        "name:       {}\ndisplay:    {}\nproject:    {}\nstate:      {}\nformat:     {}\npartitions: {}\nlifecycle:  {} days\ntest on:    {}\nprod on:    {}\n",
                        t.name,
                        printable(&t.display_name),
                        t.project,
                        t.state.as_str(),
                        t.format.as_str(),
                        t.partitions,
                        t.lifecycle_days,
                        t.test_datasource.as_deref().unwrap_or("-"),
                        t.prod_datasource.as_deref().unwrap_or("-"),
                    );
                    if let Some(o) = &t.last_opinion {
                        out.push_str(&format!("last opinion: {}\n", printable(o)));
                    }
                    let rows: Vec<Vec<String>> = t
                        .fields
                        .iter()
                        .map(|f| vec![f.name.clone(), f.data_type.clone(), f.comment.clone()])
                        .collect();
                    out.push_str(&table::render(&["FIELD", "TYPE", "COMMENT"], &rows));
                    out
                });
            }
            TopicCommand::Publish {
                name,
                env,
                datasource,
            } => {
                let env = Env::parse(env)?;
                let ds = match (datasource, env) {
                    (Some(d), _) => d.clone(),
                    (None, Env::Prod) => {
                        let t = s.topic(name).await?;
                        t.test_datasource.ok_or_else(|| {
                            AppError::User(format!(
                                "topic {name} is not in test yet; name the Kafka data source with --datasource"
                            ))
                        })?
                    }
                    (None, _) => {
                        return Err(AppError::User(
                            "choose the Kafka data source to publish to with --datasource NAME"
                                .into(),
                        ));
                    }
                };
                let r = s.publish_topic(name, env, &ds).await?;
                emit(global, &r, || {
                    format!(
                        "request #{}: {} (waiting for a data admin)\n",
                        r.id,
                        printable(&r.summary)
                    )
                });
            }
        }
        Ok(exit::OK)
    })
}
