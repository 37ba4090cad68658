//! Authorization: whitelist, blacklist and public grants on tables and topics, effective
//! rights, and the tables the store knows of (`tables.rs`).

use super::{Decision, Governance, Grant, GrantSpec, Perm, TableRef};
use crate::AppError;

mod tables;

pub use tables::KnownTable;

impl Governance {
    /// Set grants (data admin): one row per table and grantee in `spec`.
    pub async fn set_grants(&self, spec: &GrantSpec) -> Result<Vec<Grant>, AppError> {
        Ok(self.session.set_grants(spec).await?)
    }

    /// Revoke one grant row by id (data admin).
    pub async fn revoke_grant(&self, id: i64) -> Result<(), AppError> {
        Ok(self.session.revoke_grant(id).await?)
    }

    /// Every grant row of one table.
    pub async fn grants(&self, target: &TableRef) -> Result<Vec<Grant>, AppError> {
        Ok(self.session.grants(target).await?)
    }

    /// May `user`, acting in `project` (if any), do `op` on `target` (restricted to
    /// `columns`, if given)?
    pub async fn check(
        &self,
        user: &str,
        project: Option<&str>,
        target: &TableRef,
        op: Perm,
        columns: &[String],
    ) -> Result<Decision, AppError> {
        Ok(self
            .session
            .check(user, project, target, op, columns)
            .await?)
    }
}
