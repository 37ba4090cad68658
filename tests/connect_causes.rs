//! A database that cannot be reached is reported within seconds with its cause in plain
//! words (issue 15 item 13): the data source checks of MySQL and PostgreSQL say
//! "connection refused" for a closed port and "no such host" for a name that does not
//! resolve. (The store: tests/store_location.rs; the JDBC sink: tests/engine_cli.rs.)
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use weir::app::connectivity::test as check;
use weir_model::model::{Connection, DataSourceKind};

/// The error of checking a `kind` data source at `address`, which must fail within 15 s.
async fn failure(kind: DataSourceKind, address: &str) -> String {
    let started = Instant::now();
    let c = check("db", &Connection::new(kind, address)).await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{address}: took {:?}",
        started.elapsed()
    );
    assert!(!c.ok, "{c:?}");
    c.error.unwrap()
}

#[tokio::test]
async fn database_checks_name_the_cause() {
    for kind in [DataSourceKind::Mysql, DataSourceKind::Postgres] {
        let e = failure(kind, "127.0.0.1:1").await;
        assert!(e.contains("127.0.0.1:1"), "{kind:?}: {e}");
        assert!(e.contains(": connection refused ("), "{kind:?}: {e}");
        let e = failure(kind, "no-such-host.invalid:5432").await;
        assert!(e.contains(": no such host ("), "{kind:?}: {e}");
    }
}
