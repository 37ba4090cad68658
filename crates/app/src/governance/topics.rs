//! Kafka topics of the catalog: design them, then publish them to test and production
//! (a publication is a request that a data admin decides, see `decide.rs`).

use super::{Env, Governance, Request, Topic, TopicSpec};
use crate::AppError;

impl Governance {
    /// Design a new topic (developer of its project).
    pub async fn create_topic(&self, spec: &TopicSpec) -> Result<Topic, AppError> {
        Ok(self.session.create_topic(spec).await?)
    }

    /// Change a topic still in design.
    pub async fn update_topic(&self, name: &str, spec: &TopicSpec) -> Result<Topic, AppError> {
        Ok(self.session.update_topic(name, spec).await?)
    }

    /// Delete a topic still in design.
    pub async fn delete_topic(&self, name: &str) -> Result<(), AppError> {
        Ok(self.session.delete_topic(name).await?)
    }

    /// One topic.
    pub async fn topic(&self, name: &str) -> Result<Topic, AppError> {
        Ok(self.session.topic(name).await?)
    }

    /// Every topic, or those of one project.
    pub async fn topics(&self, project: Option<&str>) -> Result<Vec<Topic>, AppError> {
        Ok(self.session.topics(project).await?)
    }

    /// Ask to publish a topic to `env` on the Kafka data source `datasource`.
    pub async fn publish_topic(
        &self,
        name: &str,
        env: Env,
        datasource: &str,
    ) -> Result<Request, AppError> {
        Ok(self.session.publish_topic(name, env, datasource).await?)
    }
}
