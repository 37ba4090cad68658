//! The append-only audit log: one row per write, in the write's own transaction.
//!
//! There is no update or delete here; the database refuses them too (triggers on both
//! backends), so a row once written stays.

use serde::Serialize;

use crate::Session;
use crate::db::{Tx, args, now};
use crate::error::Result;

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Monotonic id.
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What, as `object.verb` (`project.create`, `request.approve`).
    pub action: String,
    /// Kind of object touched (`project`, `topic`, `request`, …).
    pub object_kind: String,
    /// Its id or name.
    pub object_id: String,
    /// JSON of the object before the write, if it existed.
    pub before_json: Option<String>,
    /// JSON of the object after the write, if it still exists.
    pub after_json: Option<String>,
}

/// Appends one row inside `tx`.
pub(crate) async fn append<B: Serialize, A: Serialize>(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    object_kind: &str,
    object_id: impl ToString,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<()> {
    let before = before.map(|b| serde_json::to_string(b).unwrap_or_default());
    let after = after.map(|a| serde_json::to_string(a).unwrap_or_default());
    tx.execute(
        "INSERT INTO audit (at, actor, action, object_kind, object_id, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &args![
            now(),
            actor,
            action,
            object_kind,
            object_id.to_string(),
            before,
            after
        ],
    )
    .await?;
    Ok(())
}

/// Placeholder type for "no before/after".
pub(crate) const NONE: Option<&()> = None;

type AuditRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

impl Session {
    /// The audit log, oldest first, optionally only rows with id > `after_id`.
    pub async fn audit(&self, after_id: i64) -> Result<Vec<AuditEntry>> {
        let mut tx = self.pool.read().await?;
        let rows: Vec<AuditRow> = tx
            .all(
                "SELECT id, at, actor, action, object_kind, object_id, before_json, after_json \
                 FROM audit WHERE id > $1 ORDER BY id",
                &args![after_id],
            )
            .await?;
        Ok(entries(rows))
    }

    /// The workflow history of request `id`: its audit rows (created, approved, rejected,
    /// withdrawn), oldest first. Fails with `NotFound` for an unknown request.
    pub async fn request_history(&self, id: i64) -> Result<Vec<AuditEntry>> {
        self.request(id).await?;
        let mut tx = self.pool.read().await?;
        let rows: Vec<AuditRow> = tx
            .all(
                "SELECT id, at, actor, action, object_kind, object_id, before_json, after_json \
                 FROM audit WHERE object_kind = 'request' AND object_id = $1 ORDER BY id",
                &args![id.to_string()],
            )
            .await?;
        Ok(entries(rows))
    }
}

fn entries(rows: Vec<AuditRow>) -> Vec<AuditEntry> {
    rows.into_iter()
        .map(|r| AuditEntry {
            id: r.0,
            at: r.1,
            actor: r.2,
            action: r.3,
            object_kind: r.4,
            object_id: r.5,
            before_json: r.6,
            after_json: r.7,
        })
        .collect()
}
