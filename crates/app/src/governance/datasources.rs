//! Data sources: the data admin's catalog of clusters and databases, and their
//! connectivity tests with the last result of each recorded in the store.

use weir_store::{DataSourceTest, TestOutcome};

use super::{DataSource, DataSourceSpec, Env, Governance};
use crate::AppError;
use crate::catalog::{self, TableInfo};
use crate::connectivity::{self, Connectivity};

/// A connectivity test as it ran, and as it was recorded in the store.
#[derive(Debug, Clone)]
pub struct TestedDataSource {
    pub data_source: DataSource,
    pub result: Connectivity,
    /// The stored last test, or why it could not be stored (e.g. the tester is not a
    /// registered user); the test itself ran either way.
    pub recorded: Result<DataSourceTest, String>,
}

impl Governance {
    /// Register a data source (data admin).
    pub async fn add_data_source(&self, spec: &DataSourceSpec) -> Result<DataSource, AppError> {
        crate::secrets::check_spec(spec)?;
        Ok(self.session.add_data_source(spec).await?)
    }

    /// Replace every field of data source `name` (which may rename it).
    pub async fn update_data_source(
        &self,
        name: &str,
        spec: &DataSourceSpec,
    ) -> Result<DataSource, AppError> {
        crate::secrets::check_spec(spec)?;
        Ok(self.session.update_data_source(name, spec).await?)
    }

    /// One data source.
    pub async fn data_source(&self, name: &str) -> Result<DataSource, AppError> {
        Ok(self.session.data_source(name).await?)
    }

    /// Every data source.
    pub async fn data_sources(&self) -> Result<Vec<DataSource>, AppError> {
        Ok(self.session.data_sources().await?)
    }

    /// Delete a data source that nothing uses.
    pub async fn delete_data_source(&self, name: &str) -> Result<(), AppError> {
        Ok(self.session.delete_data_source(name).await?)
    }

    /// Test the connectivity of data source `name` in `env` (test or prod), once its
    /// secret, if any, may be sent there ([`crate::secrets::require`] with `consent`), and
    /// record the result in the store as the last test of that environment, so that every
    /// workbench shows it.
    pub async fn test_data_source(
        &self,
        name: &str,
        env: Env,
        consent: &crate::secrets::Consent,
    ) -> Result<TestedDataSource, AppError> {
        let ds = self.session.data_source(name).await?;
        let connection = ds.connection(env)?;
        let secret_use = crate::secrets::SecretUse::of(&ds.name, &connection);
        crate::secrets::require(secret_use.as_slice(), consent)?;
        let result = connectivity::test(&ds.name, &connection).await;
        let outcome = TestOutcome {
            ok: result.ok,
            latency_ms: result.latency_ms.round() as i64,
            message: match (&result.error, result.ok) {
                (Some(e), false) => e.clone(),
                _ => result.checked.clone(),
            },
            not_checked: result.not_checked.clone(),
        };
        // the test ran whatever happens here: a failure to record it is said, not raised
        let recorded = self
            .session
            .record_data_source_test(&ds.name, env, &outcome)
            .await
            .map_err(|e| format!("the result was not recorded: {e}"));
        Ok(TestedDataSource {
            data_source: ds,
            result,
            recorded,
        })
    }

    /// The last recorded connectivity test of every data source, per environment.
    pub async fn data_source_tests(&self) -> Result<Vec<DataSourceTest>, AppError> {
        Ok(self.session.data_source_tests().await?)
    }

    /// The tables of relational data source `name` in `env`, read from the database
    /// itself (it may be slow or down: run it off the UI thread).
    pub async fn data_source_tables(
        &self,
        name: &str,
        env: Env,
    ) -> Result<Vec<TableInfo>, AppError> {
        let ds = self.session.data_source(name).await?;
        let connection = ds.connection(env)?;
        let secret_use = crate::secrets::SecretUse::of(&ds.name, &connection);
        crate::secrets::require_confirmed(secret_use.as_slice())?;
        catalog::tables(&ds.name, &connection).await
    }

    /// The secret that testing data source `name` in `env` would send and that this
    /// person has not confirmed yet (the workbench asks before it tests).
    pub async fn unconfirmed_secret(
        &self,
        name: &str,
        env: Env,
    ) -> Result<Option<crate::secrets::SecretUse>, AppError> {
        let ds = self.session.data_source(name).await?;
        let connection = ds.connection(env)?;
        let secret_use = crate::secrets::SecretUse::of(&ds.name, &connection);
        Ok(crate::secrets::pending(secret_use.as_slice())?
            .into_iter()
            .next())
    }
}
