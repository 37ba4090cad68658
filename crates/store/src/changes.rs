//! Change notifications: a workbench learns that someone else wrote to the store (a new
//! request in its inbox, a decision on its own request) without re-reading everything.
//!
//! Every write appends an audit row in the transaction that makes it, so the newest audit
//! id is the store's change counter. On PostgreSQL a trigger sends `NOTIFY weir_changes`
//! with that id on commit (migration 2) and [`Changes::next`] waits on `LISTEN`; on
//! SQLite, which has no cross-process notification, it polls `MAX(id)` at a fixed
//! interval, and only when the store's files changed since the last read (a `stat` is
//! much cheaper than a query, and an idle worker polls all day).

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

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
        files: Option<FileStamp>,
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
            Pool::Sqlite(sqlite) => Inner::Poll {
                pool: self.pool.clone(),
                every: poll_every.max(Duration::from_millis(10)),
                files: FileStamp::of(sqlite.connect_options().get_filename()),
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
                Inner::Poll { pool, every, files } => {
                    tokio::time::sleep(*every).await;
                    if let Some(files) = files
                        && !files.changed()
                    {
                        continue;
                    }
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

/// The length and modification time of a SQLite store's files (the database and its
/// write-ahead log): a commit appends to the log (or, without one, writes the database),
/// so while they look the same the change counter has not moved.
struct FileStamp {
    paths: [PathBuf; 2],
    seen: [Option<(u64, SystemTime)>; 2],
    read_at: Instant,
}

impl FileStamp {
    /// How long an unchanged look is trusted: file times are coarse (a clock tick), and a
    /// log restarted after a checkpoint may keep its length, so two commits close together
    /// can look alike; a read at least this often bounds such a miss.
    const TRUSTED: Duration = Duration::from_secs(1);

    /// None for a store without a file of its own (in memory): it is always read.
    fn of(db: &std::path::Path) -> Option<FileStamp> {
        if !db.is_file() {
            return None;
        }
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let paths = [db.to_path_buf(), PathBuf::from(wal)];
        Some(FileStamp {
            seen: paths.each_ref().map(|p| look(p)),
            paths,
            // stamped before `changes` reads the counter, so a commit after shows
            read_at: Instant::now(),
        })
    }

    /// Whether the store is to be read now: its files changed, or the last read is older
    /// than [`Self::TRUSTED`]. Looks before the read, so a commit during it shows next time.
    fn changed(&mut self) -> bool {
        let now = self.paths.each_ref().map(|p| look(p));
        if now == self.seen && self.read_at.elapsed() < Self::TRUSTED {
            return false;
        }
        self.seen = now;
        self.read_at = Instant::now();
        true
    }
}

fn look(path: &std::path::Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

async fn last_change(pool: &Pool) -> Result<i64> {
    let mut tx = pool.read().await?;
    let (id,): (Option<i64>,) = tx
        .one("SELECT MAX(id) FROM audit WHERE id > $1", &args![0i64])
        .await?;
    Ok(id.unwrap_or(0))
}
