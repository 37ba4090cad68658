//! A Redis key prefix of the test's own on 127.0.0.1:6379; its keys are deleted at the end.

use std::sync::atomic::{AtomicBool, Ordering};

use ::redis::aio::MultiplexedConnection;

use crate::{finish_in_background, unique};

/// The server.
pub const URL: &str = "redis://127.0.0.1:6379";

/// The keys one test writes: `<prefix>_<random>:…`.
#[derive(Debug)]
pub struct RedisPrefix {
    prefix: String,
    removed: AtomicBool,
}

impl RedisPrefix {
    /// A new prefix `<prefix>_<random>` (letters, digits and `_` only in `prefix`).
    pub fn new(prefix: &str) -> RedisPrefix {
        RedisPrefix {
            prefix: unique(prefix),
            removed: AtomicBool::new(false),
        }
    }

    /// The prefix itself.
    pub fn as_str(&self) -> &str {
        &self.prefix
    }

    /// A key under the prefix: `<prefix>:<rest>`.
    pub fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    /// A connection to the server.
    pub async fn connection(&self) -> MultiplexedConnection {
        match connect().await {
            Ok(c) => c,
            Err(e) => panic!("weir-testsupport: connect to {URL} (Redis for tests): {e}"),
        }
    }

    /// Deletes every key that starts with the prefix; dropping the `RedisPrefix` does the
    /// same.
    pub async fn remove(&self) {
        if !self.removed.swap(true, Ordering::SeqCst) {
            remove(self.prefix.clone()).await;
        }
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        if !self.removed.swap(true, Ordering::SeqCst) {
            finish_in_background(remove(self.prefix.clone()));
        }
    }
}

async fn connect() -> ::redis::RedisResult<MultiplexedConnection> {
    ::redis::Client::open(URL)?
        .get_multiplexed_async_connection()
        .await
}

/// Best effort: keys that cannot be deleted stay for a person to see.
async fn remove(prefix: String) {
    if let Err(e) = delete_keys(&prefix).await {
        eprintln!("weir-testsupport: cannot delete the keys {prefix}*: {e}");
    }
}

async fn delete_keys(prefix: &str) -> ::redis::RedisResult<()> {
    let mut con = connect().await?;
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = ::redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut con)
            .await?;
        if !keys.is_empty() {
            let () = ::redis::cmd("DEL").arg(&keys).query_async(&mut con).await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}
