//! Change notifications: a workbench learns that someone else wrote to the store (a new
//! request in its inbox, a decision on its own request) without re-reading everything.
//!
//! Every write appends an audit row in the transaction that makes it, so the newest audit
//! id is the store's change counter. On PostgreSQL a trigger sends `NOTIFY weir_changes`
//! with that id on commit (migration 2) and [`Changes::next`] waits on `LISTEN`; on
//! SQLite, which has no cross-process notification, it polls `MAX(id)` at a fixed
//! interval.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::db::{Pool, args};
use crate::error::Result;
use crate::{Session, Store};

const CHANNEL: &str = "weir_changes";

/// A stream of "the store changed" events, as audit ids.
pub struct Changes {
    inner: Inner,
    last: i64,
}

enum Inner {
    Poll {
        pool: Pool,
        every: Duration,
    },
    Listen {
        listener: Box<PgListener>,
        pool: Pool,
    },
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("how", &self.how())
            .field("last", &self.last)
            .finish()
    }
}

impl Store {
    /// Change notifications from now on: LISTEN/NOTIFY on PostgreSQL, polling every
    /// `poll_every` on SQLite.
    pub async fn changes(&self, poll_every: Duration) -> Result<Changes> {
        let inner = match &self.pool {
            Pool::Postgres(pg) => {
                let mut listener = PgListener::connect_with(pg).await?;
                listener.listen(CHANNEL).await?;
                Inner::Listen {
                    listener: Box::new(listener),
                    pool: self.pool.clone(),
                }
            }
            Pool::Sqlite(_) => Inner::Poll {
                pool: self.pool.clone(),
                every: poll_every.max(Duration::from_millis(10)),
            },
        };
        let last = last_change(&self.pool).await?;
        Ok(Changes { inner, last })
    }
}

impl Session {
    /// The newest audit id: it grows with every write to the store.
    pub async fn last_change(&self) -> Result<i64> {
        last_change(&self.pool).await
    }
}

impl Changes {
    /// How changes are noticed, for the status line ("listen/notify", "polling 1s").
    pub fn how(&self) -> String {
        match &self.inner {
            Inner::Listen { .. } => "listen/notify".into(),
            Inner::Poll { every, .. } => format!("polling {}ms", every.as_millis()),
        }
    }

    /// The last change seen.
    pub fn last(&self) -> i64 {
        self.last
    }

    /// Waits until the store changes after the last change seen; returns the newest audit
    /// id. Several writes close together may arrive as one change.
    pub async fn next(&mut self) -> Result<i64> {
        loop {
            match &mut self.inner {
                Inner::Poll { pool, every } => {
                    tokio::time::sleep(*every).await;
                    let now = last_change(pool).await?;
                    if now > self.last {
                        self.last = now;
                        return Ok(now);
                    }
                }
                Inner::Listen { listener, pool } => {
                    // `recv` reconnects after a dropped connection; notifications sent
                    // meanwhile are lost, so the counter is read again from the table.
                    let note = listener.recv().await?;
                    let id = note.payload().parse::<i64>().unwrap_or(0);
                    let now = id.max(last_change(pool).await?);
                    if now > self.last {
                        self.last = now;
                        return Ok(now);
                    }
                }
            }
        }
    }
}

async fn last_change(pool: &Pool) -> Result<i64> {
    let mut tx = pool.read().await?;
    let (id,): (Option<i64>,) = tx
        .one("SELECT MAX(id) FROM audit WHERE id > $1", &args![0i64])
        .await?;
    Ok(id.unwrap_or(0))
}
