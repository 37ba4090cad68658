//! The rights a job needs before it runs (SPEC R-perm): `select` on every table or topic
//! it reads, `insert` (and `update` for an upsert) on every one it writes, checked for
//! the acting person in the job's store project with the store's own rule
//! ([`Governance::check`]: blacklist, user whitelist, project whitelist via membership,
//! public). A refusal names every missing right with the `weir perm request` command
//! that asks for it.
//!
//! Governed are the tables of data sources registered in the store: always for Kafka and
//! relational (MySQL, PostgreSQL, Oracle) data sources, and for other kinds (Redis key
//! spaces, HBase and Hive tables, Elasticsearch indexes) once the store holds a grant on
//! that table. A data source is governed by its name, also when the job declares one of
//! that name itself. Test data, print sinks, temp tables and job-declared data sources
//! of other names need no grants.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::AppError;
use crate::governance::{DataSource, DataSourceKind, Env, GlobalRole, Governance, Perm, TableRef};
use crate::model::{HbaseSink, HiveSink, JdbcOperation, Job, Node};

/// One right one node of a job needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The node that reads or writes.
    pub node: String,
    /// The table or topic.
    pub target: TableRef,
    /// What it does there.
    pub perm: Perm,
    /// The columns it touches, when the job names them (empty = the whole table).
    pub columns: Vec<String>,
}

/// Every right `job` needs, node by node, whether governed or not: Kafka sources and
/// lookups read (`select`), sinks write (`insert`; an upsert also `update`).
pub fn needs(job: &Job) -> Vec<Need> {
    let mut out = Vec::new();
    let mut push = |node: &str, ds: &str, table: String, perm: Perm, columns: Vec<String>| {
        out.push(Need {
            node: node.to_string(),
            target: TableRef::new(ds, &table),
            perm,
            columns,
        })
    };
    for n in &job.nodes {
        match n {
            Node::KafkaSource(s) => {
                push(&s.id, &s.datasource, s.topic.clone(), Perm::Select, vec![]);
            }
            Node::Lookup(l) => {
                let mut columns: Vec<String> = l.key.clone();
                for f in &l.fields {
                    if !columns.contains(&f.name) {
                        columns.push(f.name.clone());
                    }
                }
                push(&l.id, &l.datasource, l.table.clone(), Perm::Select, columns);
            }
            Node::JdbcSink(s) => {
                let table = match &s.database {
                    Some(db) => format!("{db}.{}", s.table),
                    None => s.table.clone(),
                };
                let columns = s.columns.clone().unwrap_or_default();
                push(
                    &s.id,
                    &s.datasource,
                    table.clone(),
                    Perm::Insert,
                    columns.clone(),
                );
                if matches!(s.operation, JdbcOperation::Upsert { .. }) {
                    push(&s.id, &s.datasource, table, Perm::Update, columns);
                }
            }
            Node::KafkaSink(s) => {
                push(&s.id, &s.datasource, s.topic.clone(), Perm::Insert, vec![]);
            }
            Node::RedisSink(s) => {
                if let Some(prefix) = s.key_prefix.as_deref().filter(|p| !p.is_empty()) {
                    push(
                        &s.id,
                        &s.datasource,
                        prefix.to_string(),
                        Perm::Insert,
                        vec![],
                    );
                }
            }
            Node::HbaseSink(s) => {
                push(&s.id, &s.datasource, hbase_table(s), Perm::Insert, vec![]);
            }
            Node::EsSink(s) => {
                push(&s.id, &s.datasource, s.index.clone(), Perm::Insert, vec![]);
            }
            Node::HiveSink(s) => {
                push(&s.id, &s.datasource, hive_table(s), Perm::Insert, vec![]);
            }
            Node::TempTableSource(_)
            | Node::Sql(_)
            | Node::Etl(_)
            | Node::Custom(_)
            | Node::TempTableSink(_)
            | Node::PrintSink(_) => {}
        }
    }
    out
}

fn hbase_table(s: &HbaseSink) -> String {
    match &s.namespace {
        Some(ns) => format!("{ns}:{}", s.table),
        None => s.table.clone(),
    }
}

fn hive_table(s: &HiveSink) -> String {
    format!("{}.{}", s.database, s.table)
}

/// One right checked in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RightCheck {
    /// The table or topic.
    pub target: TableRef,
    /// The operation.
    pub perm: Perm,
    /// The nodes that need it.
    pub nodes: Vec<String>,
    /// Whether the store allows it.
    pub allowed: bool,
    /// The store's reason ("project whitelist of project shop via membership", "no grant").
    pub reason: String,
}

/// A table the job touches that no grant governs, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ungoverned {
    /// The node.
    pub node: String,
    /// The table or topic.
    pub target: TableRef,
    /// Why no grant is needed.
    pub why: String,
}

/// What was checked for a job, and the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRights {
    /// The job's name.
    pub job: String,
    /// The acting person.
    pub user: String,
    /// The job's store project.
    pub project: String,
    /// The project is one of the store's (its grants count through membership).
    pub project_in_store: bool,
    /// The acting person is a member of the project.
    pub member: bool,
    /// The acting person is a registered user of the store.
    pub registered: bool,
    /// The acting person is a data admin or a system admin, who set grants themselves
    /// (and a data admin may not request).
    pub sets_grants: bool,
    /// Every governed right, allowed or not.
    pub checked: Vec<RightCheck>,
    /// Tables no grant governs.
    pub ungoverned: Vec<Ungoverned>,
}

impl JobRights {
    /// The rights the store refuses.
    pub fn missing(&self) -> impl Iterator<Item = &RightCheck> {
        self.checked.iter().filter(|c| !c.allowed)
    }

    /// Every governed right is allowed.
    pub fn allowed(&self) -> bool {
        self.missing().next().is_none()
    }

    /// The command that would give `right`: an admin who sets grants gives it to
    /// themselves; a member asks for the project, anyone else for themselves.
    pub fn request_command(&self, right: &RightCheck) -> String {
        let table = shell_word(&format!(
            "{}.{}",
            right.target.datasource, right.target.table
        ));
        let perm = right.perm.as_str();
        if self.sets_grants {
            return format!(
                "weir perm grant --table {table} --user {} --perms {perm}",
                shell_word(&self.user)
            );
        }
        let whom = if self.project_in_store && self.member {
            format!("project:{}", self.project)
        } else {
            format!("person:{}", self.user)
        };
        let verb = if right.perm == Perm::Select {
            "reads"
        } else {
            "writes"
        };
        format!(
            "weir perm request --table {table} --for {} --perms {perm} --reason {}",
            shell_word(&whom),
            shell_word(&format!("job {} {verb} it", self.job))
        )
    }

    /// The refusal when a right is missing: every missing right with why and the command
    /// that asks for it.
    pub fn refusal(&self) -> Option<String> {
        let missing: Vec<&RightCheck> = self.missing().collect();
        if missing.is_empty() {
            return None;
        }
        let acting = if self.project_in_store {
            format!("acting in project {}", self.project)
        } else {
            format!(
                "acting in no project (`{}` is not a project of the store, so only your own and public grants count; set WEIR_PROJECT or .weir/project to your project)",
                self.project
            )
        };
        let mut text = format!(
            "job {} may not run: {} ({acting}) lacks {} right{}:\n",
            self.job,
            self.user,
            missing.len(),
            if missing.len() == 1 { "" } else { "s" }
        );
        for r in &missing {
            let verb = if r.perm == Perm::Select {
                "read by"
            } else {
                "written by"
            };
            let node = if r.nodes.len() == 1 { "node" } else { "nodes" };
            text.push_str(&format!(
                "  - {} on {}.{} ({verb} {node} {}): {}\n      {}\n",
                r.perm.as_str(),
                r.target.datasource,
                r.target.table,
                r.nodes.join(", "),
                r.reason,
                self.request_command(r)
            ));
        }
        if !self.registered {
            text.push_str(&format!(
                "{} is not a registered user of the store; a system admin adds you first (weir user add {} --role developer --project {})\n",
                self.user,
                shell_word(&self.user),
                shell_word(&self.project)
            ));
        }
        text.push_str(if self.sets_grants {
            "run the job again once the grants are set"
        } else {
            "a data admin decides requests in `weir inbox`; run the job again once they are granted"
        });
        Some(text)
    }
}

/// `s` as one shell word: as is when it is plain, else in single quotes.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.,:/@=+".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Whether no grant is needed on a table of registered data source `ds`, and why: Kafka
/// and relational tables are always governed, others once the store holds a grant there.
async fn ungoverned_reason(
    gov: &Governance,
    ds: &DataSource,
    target: &TableRef,
) -> Result<Option<String>, AppError> {
    match ds.kind {
        DataSourceKind::Kafka
        | DataSourceKind::Mysql
        | DataSourceKind::Postgres
        | DataSourceKind::Oracle => Ok(None),
        other => Ok(gov.grants(target).await?.is_empty().then(|| {
            format!(
                "the store holds no grant on this {} table",
                other.name().to_ascii_lowercase()
            )
        })),
    }
}

/// A relational table as grants name it: `db.table` loses its database when that is the
/// data source's own (test endpoint's `database` option).
fn grant_table(ds: &DataSource, table: &str) -> String {
    if !matches!(
        ds.kind,
        DataSourceKind::Mysql | DataSourceKind::Postgres | DataSourceKind::Oracle
    ) {
        return table.to_string();
    }
    let home = ds
        .connection(Env::Test)
        .ok()
        .and_then(|c| c.options.get("database").cloned());
    match (home, table.split_once('.')) {
        (Some(db), Some((d, t))) if d == db => t.to_string(),
        _ => table.to_string(),
    }
}

/// What `job` needs in the store and whether the acting person has it, acting in
/// `project` (when the store has that project; otherwise only their own and public
/// grants count). Does not refuse: see [`check_job_rights`].
pub async fn job_rights(gov: &Governance, project: &str, job: &Job) -> Result<JobRights, AppError> {
    let user = gov.actor().to_string();
    let roles = gov.whoami().await?;
    let project_in_store = gov.projects().await?.iter().any(|p| p.name == project);
    let sources: BTreeMap<String, DataSource> = gov
        .data_sources()
        .await?
        .into_iter()
        .map(|d| (d.name.clone(), d))
        .collect();
    let mut rights = JobRights {
        job: job.name.clone(),
        user: user.clone(),
        project: project.to_string(),
        project_in_store,
        member: roles.in_project(project).is_some(),
        registered: roles.registered,
        sets_grants: roles.has(GlobalRole::DataAdmin) || roles.has(GlobalRole::SystemAdmin),
        checked: Vec::new(),
        ungoverned: Vec::new(),
    };
    // one check per table and operation, with every node that needs it
    let mut grouped: Vec<(TableRef, Perm, Vec<String>, Vec<String>)> = Vec::new();
    for need in needs(job) {
        let Some(ds) = sources.get(&need.target.datasource) else {
            let why = if job.datasources.contains_key(&need.target.datasource) {
                "declared in the job, not registered in the store"
            } else {
                "its data source is not registered in the store"
            };
            rights.ungoverned.push(Ungoverned {
                node: need.node,
                target: need.target,
                why: why.into(),
            });
            continue;
        };
        let target = TableRef::new(&ds.name, &grant_table(ds, &need.target.table));
        if let Some(why) = ungoverned_reason(gov, ds, &target).await? {
            rights.ungoverned.push(Ungoverned {
                node: need.node,
                target,
                why,
            });
            continue;
        }
        match grouped
            .iter_mut()
            .find(|(t, p, _, _)| *t == target && *p == need.perm)
        {
            Some((_, _, nodes, columns)) => {
                if !nodes.contains(&need.node) {
                    nodes.push(need.node);
                }
                for c in need.columns {
                    if !columns.contains(&c) {
                        columns.push(c);
                    }
                }
            }
            None => grouped.push((target, need.perm, vec![need.node], need.columns)),
        }
    }
    let acting = project_in_store.then_some(project);
    for (target, perm, nodes, columns) in grouped {
        let decision = gov.check(&user, acting, &target, perm, &columns).await?;
        rights.checked.push(RightCheck {
            target,
            perm,
            nodes,
            allowed: decision.allowed,
            reason: decision.reason,
        });
    }
    Ok(rights)
}

/// [`job_rights`], refused (a user error) when any right is missing: the message lists
/// every missing right with the `weir perm request` command that asks for it. Submit,
/// `weir run` and instance start call this before the job runs.
pub async fn check_job_rights(
    gov: &Governance,
    project: &str,
    job: &Job,
) -> Result<JobRights, AppError> {
    let rights = job_rights(gov, project, job).await?;
    match rights.refusal() {
        Some(text) => Err(AppError::User(text)),
        None => Ok(rights),
    }
}

/// [`check_job_rights`] for the synchronous command line, on the store it uses (see
/// [`crate::engine::store_in_use`]): `None` when there is no store, so nothing is
/// governed.
pub fn check_job_rights_blocking(
    store_flag: Option<&Path>,
    project: &str,
    job: &Job,
) -> Result<Option<JobRights>, AppError> {
    let Some(url) = crate::engine::store_in_use(store_flag)? else {
        return Ok(None);
    };
    crate::engine::on_store(&url, |gov| async move {
        check_job_rights(&gov, project, job).await.map(Some)
    })
}

#[cfg(test)]
mod tests;
