//! Requests: the approver's inbox, my own requests, permission requests and a request's
//! history. Deciding them is in `decide.rs`.

use super::{AuditEntry, Governance, PermissionRequestSpec, Request, RequestDetail, RequestFilter};
use crate::AppError;

impl Governance {
    /// One request with its kind-specific detail.
    pub async fn request(&self, id: i64) -> Result<(Request, RequestDetail), AppError> {
        Ok(self.session.request(id).await?)
    }

    /// Everything the actor can decide, oldest first (their own requests excluded).
    pub async fn inbox(&self) -> Result<Vec<Request>, AppError> {
        Ok(self.session.inbox().await?)
    }

    /// Requests the actor approved or rejected, newest first.
    pub async fn decided_by_me(&self) -> Result<Vec<Request>, AppError> {
        Ok(self.session.decided_by_me().await?)
    }

    /// The actor's own requests, oldest first.
    pub async fn my_requests(&self, filter: RequestFilter) -> Result<Vec<Request>, AppError> {
        Ok(self.session.my_requests(filter).await?)
    }

    /// Ask for data permissions; one request per table.
    pub async fn request_permission(
        &self,
        spec: &PermissionRequestSpec,
    ) -> Result<Vec<Request>, AppError> {
        Ok(self.session.request_permission(spec).await?)
    }

    /// The audit entries of one request, oldest first.
    pub async fn request_history(&self, id: i64) -> Result<Vec<AuditEntry>, AppError> {
        Ok(self.session.request_history(id).await?)
    }
}
