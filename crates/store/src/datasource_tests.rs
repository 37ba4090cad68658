//! The last connectivity test of each data source per environment (issue 17): ok or
//! failed, what it said, what it could not check, how long it took, when and by whom.
//! `weir datasource test` and the workbench's `t`/`T` record it through the app, so every
//! workbench shows the last result, not only the session that ran it. A new test replaces
//! the row of its data source and environment; deleting the data source deletes its rows
//! (a foreign key), and changing its address, options or login forgets the results it
//! made stale. Any registered user may test and so record; the record is audited
//! (`datasource.test`), which is also how open workbenches hear of it (the change feed).
//! The test itself and the masking of secrets in its message are the app's.

use serde::Serialize;

use crate::Session;
use crate::audit::{self, NONE};
use crate::datasources::{DataSource, Env, by_name};
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};
use crate::identity::roles;

/// The outcome of one connectivity test, as the app hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    pub ok: bool,
    /// Time from the start of the check to its answer, rounded.
    pub latency_ms: i64,
    /// What was verified, or why the check failed; secrets masked.
    pub message: String,
    /// What the check could not verify for this kind of data source.
    pub not_checked: Option<String>,
}

/// The last recorded test of a data source in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataSourceTest {
    /// The data source's name.
    pub data_source: String,
    /// `Test` or `Prod`.
    pub env: Env,
    pub ok: bool,
    pub latency_ms: i64,
    /// What was verified, or why the check failed.
    pub message: String,
    pub not_checked: Option<String>,
    pub tested_by: String,
    /// RFC 3339 UTC.
    pub tested_at: String,
}

type Row = (
    String,
    String,
    bool,
    i64,
    String,
    Option<String>,
    String,
    String,
);

fn from_row(r: Row) -> Result<DataSourceTest> {
    let (data_source, env, ok, latency_ms, message, not_checked, tested_by, tested_at) = r;
    Ok(DataSourceTest {
        data_source,
        env: Env::parse(&env)?,
        ok,
        latency_ms,
        message,
        not_checked,
        tested_by,
        tested_at,
    })
}

/// The columns of a [`Row`] from the results joined with their data sources, then `$tail`.
macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT d.name, t.env, t.ok, t.latency_ms, t.message, t.not_checked, t.tested_by, ",
            "t.tested_at FROM data_source_tests t JOIN data_sources d ON d.id = t.data_source_id",
            $tail
        )
    };
}

/// Forget the last tests an update of a data source made stale: an environment whose
/// kind, address or options changed, or both when the user or the password changed.
/// Runs in the update's transaction (a data admin's, who may delete results).
pub(crate) async fn forget_stale(
    tx: &mut Tx,
    before: &DataSource,
    after: &DataSource,
) -> Result<()> {
    let login_changed =
        before.kind != after.kind || before.user != after.user || before.password != after.password;
    for env in [Env::Test, Env::Prod] {
        if login_changed || before.endpoint(env) != after.endpoint(env) {
            tx.execute(
                "DELETE FROM data_source_tests WHERE data_source_id = $1 AND env = $2",
                &args![before.id, env.as_str()],
            )
            .await?;
        }
    }
    Ok(())
}

impl Session {
    /// Record the outcome of a test of data source `name` in `env` (test or prod) by the
    /// actor, replacing the last one of that environment (any registered user).
    pub async fn record_data_source_test(
        &self,
        name: &str,
        env: Env,
        outcome: &TestOutcome,
    ) -> Result<DataSourceTest> {
        if env == Env::Both {
            return Err(StoreError::invalid(
                "env",
                "a connectivity test is of one environment",
                "record it for test or for prod",
            ));
        }
        let mut tx = self.pool.write().await?;
        let who = roles(&mut tx, &self.actor).await?;
        if !who.registered {
            return Err(who.forbidden("record connectivity tests", "a registered user".to_string()));
        }
        let ds = by_name(&mut tx, name).await?;
        tx.execute(
            "INSERT INTO data_source_tests \
             (data_source_id, env, ok, latency_ms, message, not_checked, tested_by, tested_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (data_source_id, env) DO UPDATE SET ok = excluded.ok, \
             latency_ms = excluded.latency_ms, message = excluded.message, \
             not_checked = excluded.not_checked, tested_by = excluded.tested_by, \
             tested_at = excluded.tested_at",
            &args![
                ds.id,
                env.as_str(),
                outcome.ok,
                outcome.latency_ms.max(0),
                outcome.message.as_str(),
                outcome.not_checked.clone(),
                self.actor.as_str(),
                now()
            ],
        )
        .await?;
        let row: Row = tx
            .one(
                select!(" WHERE t.data_source_id = $1 AND t.env = $2"),
                &args![ds.id, env.as_str()],
            )
            .await?;
        let recorded = from_row(row)?;
        audit::append(
            &mut tx,
            &self.actor,
            "datasource.test",
            "data_source",
            name,
            NONE,
            Some(&recorded),
        )
        .await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// The last test of every data source in each environment it was tested in, by data
    /// source name, test before prod.
    pub async fn data_source_tests(&self) -> Result<Vec<DataSourceTest>> {
        let mut tx = self.pool.read().await?;
        let rows: Vec<Row> = tx.all(select!(" ORDER BY d.name, t.env DESC"), &[]).await?;
        rows.into_iter().map(from_row).collect()
    }
}
