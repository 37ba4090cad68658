//! Log lines of instances, as their workers report them (`weir instance logs`, the
//! instance view's last errors). See the module doc of `mod.rs`.

use serde::Serialize;

use crate::Session;
use crate::db::{args, now};
use crate::error::{Result, StoreError};

use super::{check_limit, holder, instance_exists, own_worker};

/// How many log lines of an instance [`Session::prune_metrics`] keeps.
pub const LOG_LINES_KEPT: i64 = 2000;

/// The longest message kept, in characters; longer ones are cut with `…`.
const MAX_MESSAGE_CHARS: usize = 4000;

/// How serious a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Normal progress.
    Info,
    /// Something to look at.
    Warn,
    /// Something failed.
    Error,
}

impl LogLevel {
    /// Every level, least serious first.
    pub const ALL: [LogLevel; 3] = [LogLevel::Info, LogLevel::Warn, LogLevel::Error];

    /// The stored word (`info`, `warn`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }

    /// Parses a stored or typed word (any case; `warning` for `warn`).
    pub fn parse(s: &str) -> Result<LogLevel> {
        let w = s.trim().to_ascii_lowercase();
        let w = if w == "warning" {
            "warn".to_string()
        } else {
            w
        };
        LogLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == w)
            .ok_or_else(|| {
                StoreError::invalid(
                    "level",
                    format!("`{s}` is not a log level"),
                    "use info, warn or error",
                )
            })
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Its id: grows with every line (`weir instance logs --follow` asks for lines after
    /// the last one it showed).
    pub id: i64,
    /// Instance id.
    pub instance: i64,
    /// When it was stored (RFC 3339, UTC).
    pub at: String,
    /// How serious.
    pub level: LogLevel,
    /// The text.
    pub message: String,
}

fn cut(message: &str) -> String {
    let m = message.trim_end();
    if m.chars().count() <= MAX_MESSAGE_CHARS {
        return m.to_string();
    }
    let mut s: String = m.chars().take(MAX_MESSAGE_CHARS - 1).collect();
    s.push('…');
    s
}

impl Session {
    /// Stores log lines `(instance, level, message)` of worker `worker` in one
    /// transaction. Only the worker's own login; only lines of instances the worker holds
    /// or last held (a worker logs a failure after reporting the instance failed); lines
    /// of other or unknown instances are skipped. Messages longer than 4000 characters
    /// are cut. Not audited.
    pub async fn log_instance(
        &self,
        worker: &str,
        lines: &[(i64, LogLevel, String)],
    ) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.write().await?;
        own_worker(&mut tx, &self.actor, worker).await?;
        let at = now();
        let mut mine = std::collections::HashMap::new();
        for (id, level, message) in lines {
            let ok = match mine.get(id) {
                Some(ok) => *ok,
                None => {
                    let ok = match holder(&mut tx, *id).await {
                        Ok(w) => w.as_deref() == Some(worker),
                        Err(StoreError::NotFound { .. }) => false,
                        Err(e) => return Err(e),
                    };
                    mine.insert(*id, ok);
                    ok
                }
            };
            if !ok {
                continue;
            }
            tx.execute(
                "INSERT INTO instance_logs (instance_id, at, level, message) VALUES ($1, $2, $3, $4)",
                &args![*id, &at, level.as_str(), cut(message)],
            )
            .await?;
        }
        tx.commit().await
    }

    /// Instance `id`'s log lines, oldest first: with `after`, the first `limit` lines
    /// whose id is greater (following a log); without it, the last `limit` lines.
    /// `NotFound` for an unknown instance.
    pub async fn instance_logs(
        &self,
        id: i64,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<LogLine>> {
        check_limit(limit)?;
        let mut tx = self.pool.read().await?;
        instance_exists(&mut tx, id).await?;
        let rows: Vec<(i64, String, String, String)> = match after {
            Some(after) => {
                tx.all(
                    "SELECT id, at, level, message FROM instance_logs \
                     WHERE instance_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                    &args![id, after, limit],
                )
                .await?
            }
            None => {
                tx.all(
                    "SELECT id, at, level, message FROM (SELECT id, at, level, message \
                     FROM instance_logs WHERE instance_id = $1 ORDER BY id DESC LIMIT $2) last \
                     ORDER BY id",
                    &args![id, limit],
                )
                .await?
            }
        };
        rows.into_iter()
            .map(|(lid, at, level, message)| {
                Ok(LogLine {
                    id: lid,
                    instance: id,
                    at,
                    level: LogLevel::parse(&level)?,
                    message,
                })
            })
            .collect()
    }
}
