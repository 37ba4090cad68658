//! weir-testsupport: places of a test's own on the machine's services, so that tests run
//! side by side and leave nothing behind:
//! - [`postgres::PgDatabase`]: a fresh database on 127.0.0.1:5432 (user `postgres`, trust
//!   authentication) and login roles for it;
//! - [`mariadb::MariaDatabase`]: a database on 127.0.0.1:3306 (user `root`, no password);
//! - [`redis::RedisPrefix`]: a key prefix on 127.0.0.1:6379.
//!
//! Each is removed by its `remove`, or when dropped, also when the test panics. Set-up
//! failures panic with what failed: a test without its service cannot run. Only tests use
//! this crate (a dev-dependency); it holds no weir types, so any crate's tests can use it.

// The house rule against panics is for code users run; here a panic is how a test fails.
#![allow(clippy::panic)]

pub mod mariadb;
pub mod postgres;
pub mod redis;

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// `<prefix>_<12 random hex digits>`: a name no other test (or run) uses, valid as an
/// unquoted SQL identifier when `prefix` is.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", random_hex())
}

/// 12 hex digits, different on every call.
fn random_hex() -> String {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    h.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// Runs `work` to the end on a thread with a runtime of its own: a `Drop` can clean up
/// from inside or outside a runtime, and while a test panics.
fn finish_in_background<F>(work: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let thread = std::thread::spawn(move || {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(work),
            Err(e) => eprintln!("weir-testsupport: no runtime to clean up with: {e}"),
        }
    });
    if thread.join().is_err() {
        eprintln!("weir-testsupport: clean-up failed");
    }
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str, quote: char) -> String {
    let doubled = format!("{quote}{quote}");
    format!("{quote}{}{quote}", name.replace(quote, &doubled))
}
