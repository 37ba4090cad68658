//! Topics as stored: reading, creating, editing, deleting (design state only).

use crate::Session;
use crate::audit::{self, NONE};
use crate::datasources;
use crate::db::{Tx, args, now};
use crate::error::{Conflict, Result, StoreError};
use crate::identity::roles;
use crate::projects;

use super::{DEVS, Topic, TopicFormat, TopicSpec, TopicState, check_spec};

type TopicRow = (
    i64,
    String,
    i64,
    String,
    String,
    i64,
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
    String,
    String,
);

async fn ds_name(tx: &mut Tx, id: Option<i64>) -> Result<Option<String>> {
    Ok(match id {
        Some(id) => Some(datasources::by_id(tx, id).await?.name),
        None => None,
    })
}

async fn to_topic(tx: &mut Tx, r: TopicRow) -> Result<Topic> {
    let project = projects::by_id(tx, r.2).await?.name;
    let test_datasource = ds_name(tx, r.10).await?;
    let prod_datasource = ds_name(tx, r.11).await?;
    Ok(Topic {
        id: r.0,
        name: r.1,
        project,
        display_name: r.3,
        format: TopicFormat::parse(&r.4)?,
        partitions: r.5,
        lifecycle_days: r.6,
        description: r.7,
        fields: serde_json::from_str(&r.8).unwrap_or_default(),
        state: TopicState::parse(&r.9),
        test_datasource,
        prod_datasource,
        last_opinion: r.12,
        created_by: r.13,
        created_at: r.14,
        updated_at: r.15,
    })
}

/// The topic named `name`.
pub(crate) async fn by_name(tx: &mut Tx, name: &str) -> Result<Topic> {
    const SQL: &str = concat!(
        "SELECT id, name, project_id, display_name, format, partitions, lifecycle_days, description, ",
        "fields, state, test_datasource_id, prod_datasource_id, last_opinion, created_by, created_at, ",
        "updated_at FROM topics WHERE name = $1"
    );
    let row: Option<TopicRow> = tx.opt(SQL, &args![name]).await?;
    match row {
        Some(r) => to_topic(tx, r).await,
        None => {
            let all: Vec<(String,)> = tx.all("SELECT name FROM topics", &[]).await?;
            Err(StoreError::not_found(
                "topic",
                name,
                all.into_iter().map(|r| r.0),
            ))
        }
    }
}

/// The topic with id `id`.
pub(crate) async fn by_id(tx: &mut Tx, id: i64) -> Result<Topic> {
    const SQL: &str = concat!(
        "SELECT id, name, project_id, display_name, format, partitions, lifecycle_days, description, ",
        "fields, state, test_datasource_id, prod_datasource_id, last_opinion, created_by, created_at, ",
        "updated_at FROM topics WHERE id = $1"
    );
    let r: TopicRow = tx.one(SQL, &args![id]).await?;
    to_topic(tx, r).await
}

impl Session {
    /// Creates a topic in design (project admin or developer of its project).
    pub async fn create_topic(&self, spec: &TopicSpec) -> Result<Topic> {
        check_spec(spec)?;
        let mut tx = self.pool.write().await?;
        let p = projects::active(&mut tx, &spec.project).await?;
        roles(&mut tx, &self.actor).await?.require_in_project(
            &p.name,
            DEVS,
            &[],
            "create topics",
        )?;
        let exists: Option<(i64,)> = tx
            .opt("SELECT id FROM topics WHERE name = $1", &args![&spec.name])
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(Conflict::Exists {
                kind: "topic",
                name: spec.name.clone(),
            }));
        }
        let fields = serde_json::to_string(&spec.fields).unwrap_or_else(|_| "[]".into());
        tx.execute(
            "INSERT INTO topics (name, project_id, display_name, format, partitions, lifecycle_days, \
             description, fields, state, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'design', $9, $10, $10)",
            &args![
                &spec.name,
                p.id,
                &spec.display_name,
                spec.format.as_str(),
                spec.partitions,
                spec.lifecycle_days,
                &spec.description,
                fields,
                &self.actor,
                now()
            ],
        )
        .await?;
        let t = by_name(&mut tx, &spec.name).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "topic.create",
            "topic",
            &spec.name,
            NONE,
            Some(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Replaces a topic's design (only in design; the project cannot change).
    pub async fn update_topic(&self, name: &str, spec: &TopicSpec) -> Result<Topic> {
        check_spec(spec)?;
        let mut tx = self.pool.write().await?;
        let before = by_name(&mut tx, name).await?;
        let p = projects::active(&mut tx, &before.project).await?;
        roles(&mut tx, &self.actor)
            .await?
            .require_in_project(&p.name, DEVS, &[], "edit topics")?;
        if spec.project != before.project {
            return Err(StoreError::invalid(
                "project",
                format!("topic {name} belongs to project {}", before.project),
                "a topic cannot move to another project; create a new topic there",
            ));
        }
        if before.state != TopicState::Design {
            return Err(StoreError::wrong_state(format!(
                "topic {name} is {}; only a topic in design can be edited",
                before.state.as_str()
            )));
        }
        if spec.name != name {
            let exists: Option<(i64,)> = tx
                .opt("SELECT id FROM topics WHERE name = $1", &args![&spec.name])
                .await?;
            if exists.is_some() {
                return Err(StoreError::Conflict(Conflict::Exists {
                    kind: "topic",
                    name: spec.name.clone(),
                }));
            }
        }
        let fields = serde_json::to_string(&spec.fields).unwrap_or_else(|_| "[]".into());
        tx.execute(
            "UPDATE topics SET name = $2, display_name = $3, format = $4, partitions = $5, \
             lifecycle_days = $6, description = $7, fields = $8, updated_at = $9 WHERE id = $1",
            &args![
                before.id,
                &spec.name,
                &spec.display_name,
                spec.format.as_str(),
                spec.partitions,
                spec.lifecycle_days,
                &spec.description,
                fields,
                now()
            ],
        )
        .await?;
        let after = by_id(&mut tx, before.id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "topic.update",
            "topic",
            name,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a topic in design that was never submitted for publication.
    pub async fn delete_topic(&self, name: &str) -> Result<()> {
        let mut tx = self.pool.write().await?;
        let before = by_name(&mut tx, name).await?;
        let p = projects::active(&mut tx, &before.project).await?;
        roles(&mut tx, &self.actor).await?.require_in_project(
            &p.name,
            DEVS,
            &[],
            "delete topics",
        )?;
        if before.state != TopicState::Design {
            return Err(StoreError::wrong_state(format!(
                "topic {name} is {}; only a topic in design can be deleted",
                before.state.as_str()
            )));
        }
        let (n,): (i64,) = tx
            .one(
                "SELECT COUNT(*) FROM topic_publications WHERE topic_id = $1",
                &args![before.id],
            )
            .await?;
        if n > 0 {
            return Err(StoreError::Conflict(Conflict::InUse {
                message: format!(
                    "topic {name} has {n} publication requests on record; it cannot be deleted"
                ),
            }));
        }
        tx.execute("DELETE FROM topics WHERE id = $1", &args![before.id])
            .await?;
        audit::append(
            &mut tx,
            &self.actor,
            "topic.delete",
            "topic",
            name,
            Some(&before),
            NONE,
        )
        .await?;
        tx.commit().await
    }

    /// One topic.
    pub async fn topic(&self, name: &str) -> Result<Topic> {
        let mut tx = self.pool.read().await?;
        by_name(&mut tx, name).await
    }

    /// Topics, by name; only those of `project` if given.
    pub async fn topics(&self, project: Option<&str>) -> Result<Vec<Topic>> {
        let mut tx = self.pool.read().await?;
        let pid = match project {
            Some(p) => Some(projects::by_name(&mut tx, p).await?.id),
            None => None,
        };
        let ids: Vec<(i64,)> = tx
            .all(
                "SELECT id FROM topics WHERE $1 IS NULL OR project_id = $1 ORDER BY name",
                &args![pid],
            )
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(by_id(&mut tx, id).await?);
        }
        Ok(out)
    }
}
