//! One-second metric snapshots of instances: written in batches by workers, read by the
//! workbench, `weir top` and the alert evaluation. See the module doc of `mod.rs`.

use serde::Serialize;

use crate::Session;
use crate::db::args;
use crate::error::Result;

use super::logs::LOG_LINES_KEPT;
use super::{check_limit, instance_exists, own_worker};

/// One snapshot of one instance's metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricPoint {
    /// Instance id.
    pub instance: i64,
    /// When it was taken, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The figures, as the worker's metrics collector writes them (a JSON object).
    pub snapshot: serde_json::Value,
}

/// Parses a stored snapshot; a row that is not JSON (written by hand) reads as `null`.
fn parse_snapshot(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

impl Session {
    /// Records the snapshots of worker `worker`'s instances in one transaction (the
    /// worker batches all its instances every second). Only the worker's own login may;
    /// points of instances the worker does not hold (starting, running or stopping) are
    /// skipped, not refused (it may have just lost one to a take-over). A second point of
    /// the same instance and millisecond replaces the first. Not audited. Returns how
    /// many points were written.
    pub async fn record_metrics(&self, worker: &str, points: &[MetricPoint]) -> Result<usize> {
        if points.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool.write().await?;
        own_worker(&mut tx, &self.actor, worker).await?;
        let held: Vec<(i64,)> = tx
            .all(
                "SELECT id FROM instances WHERE worker = $1 \
                 AND state IN ('starting', 'running', 'stopping')",
                &args![worker],
            )
            .await?;
        let held: std::collections::HashSet<i64> = held.into_iter().map(|(id,)| id).collect();
        let mut written = 0;
        for p in points.iter().filter(|p| held.contains(&p.instance)) {
            tx.execute(
                "INSERT INTO instance_metrics (instance_id, at_ms, snapshot) VALUES ($1, $2, $3) \
                 ON CONFLICT (instance_id, at_ms) DO UPDATE SET snapshot = excluded.snapshot",
                &args![p.instance, p.at_ms, p.snapshot.to_string()],
            )
            .await?;
            written += 1;
        }
        tx.commit().await?;
        Ok(written)
    }

    /// Prunes the monitoring tables for worker `worker` (its own login): deletes the
    /// snapshots of every instance taken before `older_than_ms` (ms since the epoch; the
    /// worker passes now minus its window, default 1 h) and trims every instance's log to
    /// its last [`LOG_LINES_KEPT`] lines. Not audited. Returns the snapshots deleted.
    pub async fn prune_metrics(&self, worker: &str, older_than_ms: i64) -> Result<u64> {
        let mut tx = self.pool.write().await?;
        own_worker(&mut tx, &self.actor, worker).await?;
        let deleted = tx
            .execute(
                "DELETE FROM instance_metrics WHERE at_ms < $1",
                &args![older_than_ms],
            )
            .await?;
        tx.execute(
            "DELETE FROM instance_logs WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() \
             OVER (PARTITION BY instance_id ORDER BY id DESC) AS n FROM instance_logs) ranked \
             WHERE n > $1)",
            &args![LOG_LINES_KEPT],
        )
        .await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Instance `id`'s snapshots, oldest first: the last `limit` taken at or after
    /// `since_ms` (all kept ones without it). `NotFound` for an unknown instance.
    pub async fn instance_metrics(
        &self,
        id: i64,
        since_ms: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MetricPoint>> {
        check_limit(limit)?;
        let mut tx = self.pool.read().await?;
        instance_exists(&mut tx, id).await?;
        let rows: Vec<(i64, String)> = tx
            .all(
                "SELECT at_ms, snapshot FROM (SELECT at_ms, snapshot FROM instance_metrics \
                 WHERE instance_id = $1 AND ($2 IS NULL OR at_ms >= $2) \
                 ORDER BY at_ms DESC LIMIT $3) newest ORDER BY at_ms",
                &args![id, since_ms, limit],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(at_ms, s)| MetricPoint {
                instance: id,
                at_ms,
                snapshot: parse_snapshot(&s),
            })
            .collect())
    }

    /// The snapshots of several instances in one read: for each of `ids`, the last
    /// `limit` taken at or after `since_ms`, oldest first, grouped by instance in the order
    /// of `ids` (the list of `:instances` asks this every second; one query instead of one
    /// per instance). Unknown ids and instances without snapshots are left out.
    pub async fn metrics_of(
        &self,
        ids: &[i64],
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<MetricPoint>> {
        check_limit(limit)?;
        let (Some(&lo), Some(&hi)) = (ids.iter().min(), ids.iter().max()) else {
            return Ok(Vec::new());
        };
        let mut tx = self.pool.read().await?;
        // one static statement for any number of ids: the range of ids narrows the key
        // (instance_id, at_ms), and the ids between the wanted ones are dropped here
        let rows: Vec<(i64, i64, String)> = tx
            .all(
                "SELECT instance_id, at_ms, snapshot FROM instance_metrics \
                 WHERE instance_id >= $1 AND instance_id <= $2 AND at_ms >= $3 \
                 ORDER BY instance_id, at_ms",
                &args![lo, hi, since_ms],
            )
            .await?;
        let mut by_id: std::collections::HashMap<i64, Vec<(i64, String)>> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        for (id, at_ms, s) in rows {
            if let Some(points) = by_id.get_mut(&id) {
                points.push((at_ms, s));
            }
        }
        let mut out = Vec::new();
        for id in ids {
            let Some(points) = by_id.remove(id) else {
                continue;
            };
            let skip = points.len().saturating_sub(limit as usize);
            out.extend(points.into_iter().skip(skip).map(|(at_ms, s)| MetricPoint {
                instance: *id,
                at_ms,
                snapshot: parse_snapshot(&s),
            }));
        }
        Ok(out)
    }

    /// The newest snapshot of each of `ids`, in the order of `ids`; an instance without
    /// one (or unknown) is left out.
    pub async fn latest_metrics(&self, ids: &[i64]) -> Result<Vec<MetricPoint>> {
        let mut tx = self.pool.read().await?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let row: Option<(i64, String)> = tx
                .opt(
                    "SELECT at_ms, snapshot FROM instance_metrics WHERE instance_id = $1 \
                     ORDER BY at_ms DESC LIMIT 1",
                    &args![id],
                )
                .await?;
            if let Some((at_ms, s)) = row {
                out.push(MetricPoint {
                    instance: id,
                    at_ms,
                    snapshot: parse_snapshot(&s),
                });
            }
        }
        Ok(out)
    }
}
