//! Users and their roles, projects and their members, and the audit log.

use super::{
    ArchiveEffects, AuditEntry, GlobalRole, Governance, Member, Project, ProjectRole, RoleToAdd,
    Roles, User, UserRoleAdded,
};
use crate::AppError;

impl Governance {
    /// The acting user's roles.
    pub async fn whoami(&self) -> Result<Roles, AppError> {
        Ok(self.session.whoami().await?)
    }

    /// Register a user with global roles (system admin).
    pub async fn add_user(
        &self,
        login: &str,
        display_name: &str,
        global: &[GlobalRole],
    ) -> Result<User, AppError> {
        Ok(self.session.add_user(login, display_name, global).await?)
    }

    /// `weir user add`: register `login` if new and give them one more role, global or in
    /// a project, in one store transaction, so a failed command (a project that does not
    /// exist, a role the actor lacks) leaves no user and no audit row.
    pub async fn add_user_role(
        &self,
        login: &str,
        display_name: &str,
        role: RoleToAdd<'_>,
    ) -> Result<UserRoleAdded, AppError> {
        Ok(self
            .session
            .add_user_role(login, display_name, role)
            .await?)
    }

    /// Replace a user's global roles (system admin).
    pub async fn set_user_roles(
        &self,
        login: &str,
        global: &[GlobalRole],
    ) -> Result<User, AppError> {
        Ok(self.session.set_user_roles(login, global).await?)
    }

    /// One user.
    pub async fn user(&self, login: &str) -> Result<User, AppError> {
        Ok(self.session.user(login).await?)
    }

    /// Every user.
    pub async fn users(&self) -> Result<Vec<User>, AppError> {
        Ok(self.session.users().await?)
    }

    /// Create a project (system admin).
    pub async fn create_project(&self, name: &str, description: &str) -> Result<Project, AppError> {
        Ok(self.session.create_project(name, description).await?)
    }

    /// Every project.
    pub async fn projects(&self) -> Result<Vec<Project>, AppError> {
        Ok(self.session.projects().await?)
    }

    /// One project.
    pub async fn project(&self, name: &str) -> Result<Project, AppError> {
        Ok(self.session.project(name).await?)
    }

    /// The members of a project with their roles.
    pub async fn members(&self, project: &str) -> Result<Vec<Member>, AppError> {
        Ok(self.session.members(project).await?)
    }

    /// Add a member or change their role.
    pub async fn add_member(
        &self,
        project: &str,
        login: &str,
        role: ProjectRole,
    ) -> Result<Member, AppError> {
        Ok(self.session.add_member(project, login, role).await?)
    }

    /// Remove a member.
    pub async fn remove_member(&self, project: &str, login: &str) -> Result<(), AppError> {
        Ok(self.session.remove_member(project, login).await?)
    }

    /// Archive a project (read-only from then on).
    pub async fn archive_project(&self, name: &str) -> Result<ArchiveEffects, AppError> {
        Ok(self.session.archive_project(name).await?)
    }

    /// Restore an archived project.
    pub async fn restore_project(&self, name: &str) -> Result<Project, AppError> {
        Ok(self.session.restore_project(name).await?)
    }

    /// The audit log after entry `after_id`, oldest first.
    pub async fn audit(&self, after_id: i64) -> Result<Vec<AuditEntry>, AppError> {
        Ok(self.session.audit(after_id).await?)
    }
}
