//! Deciding requests: approve, reject, withdraw. This is where the approve use case
//! lives for the CLI (`weir approve`) and the workbench's inbox alike.
//!
//! An approval is one store transaction that carries out its effect inside: the store
//! checks the approver's role, that the request is still pending and not their own, and
//! computes the effect; the app then carries it out (a topic publication creates the
//! topic on its Kafka cluster) while the transaction is still open, and the decision is
//! committed only when that succeeds. If the cluster refuses or does not answer, nothing is
//! recorded: the request stays pending and no audit row is written.

use weir_store::EffectFailed;

use super::{Decided, Effect, Governance, Request};
use crate::AppError;
use crate::kafka_topics;

impl Governance {
    /// Approve request `id` (data admin; opinion optional), carrying out its effect.
    pub async fn approve(&self, id: i64, opinion: &str) -> Result<Decided, AppError> {
        Ok(self.session.approve_with(id, opinion, carry_out).await?)
    }

    /// Reject request `id` with an opinion for the requester (required).
    pub async fn reject(&self, id: i64, opinion: &str) -> Result<Decided, AppError> {
        Ok(self.session.reject(id, opinion).await?)
    }

    /// Withdraw my own pending request.
    pub async fn withdraw(&self, id: i64) -> Result<Request, AppError> {
        Ok(self.session.withdraw(id).await?)
    }
}

/// Carry out what a decision asks of systems outside the store.
async fn carry_out(effect: Effect) -> Result<(), EffectFailed> {
    let Effect::CreateTopic(c) = effect else {
        return Ok(());
    };
    let connection = c.datasource.connection(c.env).map_err(|e| EffectFailed {
        message: e.to_string(),
        fault: e.fault(),
    })?;
    kafka_topics::create(
        &c.datasource.name,
        &connection,
        &c.topic.name,
        c.partitions,
        c.lifecycle_days,
    )
    .await
    .map_err(|e| EffectFailed {
        message: format!("cannot create topic `{}`: {e}", c.topic.name),
        fault: e.fault(),
    })
}

/// What a decision did beyond the store, in one line for people ("created topic clicks
/// with 3 partition(s) on kafka_main (test)"); `None` when it did nothing more.
pub fn describe_effect(effect: &Effect) -> Option<String> {
    match effect {
        Effect::CreateTopic(c) => Some(format!(
            "created topic {} with {} partition(s) on {} ({})",
            c.topic.name,
            c.partitions,
            c.datasource.name,
            c.env.as_str()
        )),
        Effect::Granted(g) => Some(format!(
            "granted {} on {}.{} to {}",
            g.perms
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(","),
            g.target.datasource,
            g.target.table,
            g.grantee.describe()
        )),
        Effect::None => None,
    }
}
