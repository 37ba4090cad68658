//! The publication workflow: publish to test or prod, decide, withdraw.

use weir_model::model::DataSourceKind;

use crate::Session;
use crate::audit::{self, NONE};
use crate::datasources::{self, Env};
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};
use crate::identity::roles;
use crate::projects;
use crate::requests::{self, Request, RequestKind};

use super::design::{by_id, by_name};
use super::{DEVS, TopicCreation, TopicState};

/// Sets a topic's state (and optionally its datasource and opinion) inside `tx`; used by
/// publish, decide and withdraw.
pub(crate) async fn set_state(
    tx: &mut Tx,
    topic_id: i64,
    from: TopicState,
    to: TopicState,
    opinion: Option<&str>,
) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE topics SET state = $3, last_opinion = COALESCE($4, last_opinion), updated_at = $5 \
             WHERE id = $1 AND state = $2",
            &args![topic_id, from.as_str(), to.as_str(), opinion, now()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::wrong_state(format!(
            "topic #{topic_id} is no longer {}; reload and try again",
            from.as_str()
        )));
    }
    Ok(())
}

/// Approving or rejecting a publication: moves the topic; on approval records the
/// data source and returns what to create.
pub(crate) async fn on_decided(
    tx: &mut Tx,
    request_id: i64,
    approved: bool,
    opinion: &str,
) -> Result<Option<TopicCreation>> {
    let (topic_id, env, ds_id): (i64, String, i64) = tx
        .one(
            "SELECT topic_id, env, datasource_id FROM topic_publications WHERE request_id = $1",
            &args![request_id],
        )
        .await?;
    let env = Env::parse(&env)?;
    let (pending, ok, back) = match env {
        Env::Prod => (TopicState::PendingProd, TopicState::Prod, TopicState::Test),
        _ => (
            TopicState::PendingTest,
            TopicState::Test,
            TopicState::Design,
        ),
    };
    if !approved {
        set_state(tx, topic_id, pending, back, Some(opinion)).await?;
        return Ok(None);
    }
    set_state(tx, topic_id, pending, ok, None).await?;
    let column_sql = match env {
        Env::Prod => "UPDATE topics SET prod_datasource_id = $2 WHERE id = $1",
        _ => "UPDATE topics SET test_datasource_id = $2 WHERE id = $1",
    };
    tx.execute(column_sql, &args![topic_id, ds_id]).await?;
    let topic = by_id(tx, topic_id).await?;
    let datasource = datasources::by_id(tx, ds_id).await?;
    Ok(Some(TopicCreation {
        partitions: topic.partitions,
        lifecycle_days: topic.lifecycle_days,
        topic,
        env,
        datasource,
    }))
}

/// Withdrawing a publication moves the topic back to where it was.
pub(crate) async fn on_withdrawn(tx: &mut Tx, request_id: i64) -> Result<()> {
    let (topic_id, env): (i64, String) = tx
        .one(
            "SELECT topic_id, env FROM topic_publications WHERE request_id = $1",
            &args![request_id],
        )
        .await?;
    match Env::parse(&env)? {
        Env::Prod => {
            set_state(
                tx,
                topic_id,
                TopicState::PendingProd,
                TopicState::Test,
                None,
            )
            .await
        }
        _ => {
            set_state(
                tx,
                topic_id,
                TopicState::PendingTest,
                TopicState::Design,
                None,
            )
            .await
        }
    }
}

impl Session {
    /// Submits a topic for publication to `env` (`Env::Test` from design, `Env::Prod` from
    /// test) on a kafka data source serving that environment. Returns the request.
    pub async fn publish_topic(&self, name: &str, env: Env, datasource: &str) -> Result<Request> {
        let mut tx = self.pool.write().await?;
        let topic = by_name(&mut tx, name).await?;
        let p = projects::active(&mut tx, &topic.project).await?;
        roles(&mut tx, &self.actor).await?.require_in_project(
            &p.name,
            DEVS,
            &[],
            "publish topics",
        )?;
        let (from, to) = match env {
            Env::Test => (TopicState::Design, TopicState::PendingTest),
            Env::Prod => (TopicState::Test, TopicState::PendingProd),
            Env::Both => {
                return Err(StoreError::invalid(
                    "env",
                    "a topic is published to one environment at a time",
                    "publish to test first, then to prod",
                ));
            }
        };
        if topic.state != from {
            return Err(StoreError::wrong_state(format!(
                "topic {name} is {}; publishing to {} needs it in {}",
                topic.state.as_str(),
                env.as_str(),
                from.as_str()
            )));
        }
        let ds = datasources::by_name(&mut tx, datasource).await?;
        if ds.kind != DataSourceKind::Kafka {
            return Err(StoreError::invalid(
                "datasource",
                format!(
                    "{} is a {} data source",
                    ds.name,
                    datasources::kind_str(ds.kind)
                ),
                "choose a kafka data source",
            ));
        }
        let serves = match env {
            Env::Test => ds.env.has_test(),
            _ => ds.env.has_prod(),
        };
        if !serves {
            return Err(StoreError::invalid(
                "datasource",
                format!("{} serves {} only", ds.name, ds.env.as_str()),
                format!("choose a kafka data source for {}", env.as_str()),
            ));
        }
        let id =
            requests::insert(&mut tx, RequestKind::TopicPublish, &self.actor, Some(p.id)).await?;
        tx.execute(
            "INSERT INTO topic_publications (request_id, topic_id, env, datasource_id) VALUES ($1, $2, $3, $4)",
            &args![id, topic.id, env.as_str(), ds.id],
        )
        .await?;
        set_state(&mut tx, topic.id, from, to, None).await?;
        let request = requests::load(&mut tx, id).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "topic.publish",
            "request",
            id,
            NONE,
            Some(&request),
        )
        .await?;
        tx.commit().await?;
        Ok(request)
    }
}
