//! Who is acting and what they may do: users, global roles, project roles, the first
//! system admin, and the role checks every write runs inside its transaction.

use serde::Serialize;

use crate::Session;
use crate::audit::{self, NONE};
use crate::db::{Tx, args, now};
use crate::error::{Result, StoreError};

/// A role that holds across the whole store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GlobalRole {
    /// Creates projects, manages users, restores archived projects.
    SystemAdmin,
    /// Manages data sources, approves topic publications and permission requests.
    DataAdmin,
    /// Watches instances.
    Ops,
    /// Read-only.
    Business,
}

/// A role inside one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectRole {
    /// Manages the project's members; develops.
    ProjectAdmin,
    /// Builds jobs and topics in the project.
    Developer,
}

impl GlobalRole {
    /// Every global role.
    pub const ALL: [GlobalRole; 4] = [
        GlobalRole::SystemAdmin,
        GlobalRole::DataAdmin,
        GlobalRole::Ops,
        GlobalRole::Business,
    ];

    /// The stored name (`system_admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            GlobalRole::SystemAdmin => "system_admin",
            GlobalRole::DataAdmin => "data_admin",
            GlobalRole::Ops => "ops",
            GlobalRole::Business => "business",
        }
    }

    /// The role in words (`system admin`).
    pub fn words(self) -> &'static str {
        match self {
            GlobalRole::SystemAdmin => "system admin",
            GlobalRole::DataAdmin => "data admin",
            GlobalRole::Ops => "ops",
            GlobalRole::Business => "business",
        }
    }

    /// Parses a stored or typed name (`system_admin`, `system-admin`).
    pub fn parse(s: &str) -> Result<GlobalRole> {
        let norm = s.trim().replace('-', "_");
        GlobalRole::ALL
            .into_iter()
            .find(|r| r.as_str() == norm)
            .ok_or_else(|| {
                StoreError::invalid(
                    "role",
                    format!("`{s}` is not a global role"),
                    "use one of system_admin, data_admin, ops, business",
                )
            })
    }
}

impl ProjectRole {
    /// The stored name (`project_admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectRole::ProjectAdmin => "project_admin",
            ProjectRole::Developer => "developer",
        }
    }

    /// The role in words.
    pub fn words(self) -> &'static str {
        match self {
            ProjectRole::ProjectAdmin => "project admin",
            ProjectRole::Developer => "developer",
        }
    }

    /// Parses `project_admin` / `developer`.
    pub fn parse(s: &str) -> Result<ProjectRole> {
        match s.trim().replace('-', "_").as_str() {
            "project_admin" => Ok(ProjectRole::ProjectAdmin),
            "developer" => Ok(ProjectRole::Developer),
            _ => Err(StoreError::invalid(
                "role",
                format!("`{s}` is not a project role"),
                "use project_admin or developer",
            )),
        }
    }
}

/// A registered user with their global roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Login (OS login on SQLite, database role on PostgreSQL).
    pub login: String,
    /// Name shown in lists.
    pub display_name: String,
    /// Global roles, sorted.
    pub roles: Vec<GlobalRole>,
    /// (project name, role) for every membership, by project name: a developer has no
    /// global role, only these.
    pub projects: Vec<(String, ProjectRole)>,
}

/// The acting user's roles, as read inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Roles {
    /// The actor's login.
    pub login: String,
    /// Whether the login is in `users`.
    pub registered: bool,
    /// Global roles.
    pub global: Vec<GlobalRole>,
    /// (project name, role) for every membership.
    pub projects: Vec<(String, ProjectRole)>,
}

impl Roles {
    /// Has this global role.
    pub fn has(&self, role: GlobalRole) -> bool {
        self.global.contains(&role)
    }

    /// The actor's role in `project`, if a member.
    pub fn in_project(&self, project: &str) -> Option<ProjectRole> {
        self.projects
            .iter()
            .find(|(p, _)| p == project)
            .map(|(_, r)| *r)
    }

    /// The roles in words for an error: "developer of p, ops", "no role".
    pub fn describe(&self) -> String {
        if !self.registered {
            return format!(
                "not a registered user (ask a system admin to add `{}`)",
                self.login
            );
        }
        let mut parts: Vec<String> = self.global.iter().map(|r| r.words().to_string()).collect();
        parts.extend(
            self.projects
                .iter()
                .map(|(p, r)| format!("{} of {p}", r.words())),
        );
        if parts.is_empty() {
            "a user with no role".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// Fails with `Forbidden` unless the actor has one of `roles`.
    pub(crate) fn require(&self, roles: &[GlobalRole], action: &str) -> Result<()> {
        if self.registered && roles.iter().any(|r| self.has(*r)) {
            return Ok(());
        }
        Err(self.forbidden(action, needed_words(roles, &[], None)))
    }

    /// Fails unless the actor has one of `roles` in `project` or one of `global`.
    pub(crate) fn require_in_project(
        &self,
        project: &str,
        roles: &[ProjectRole],
        global: &[GlobalRole],
        action: &str,
    ) -> Result<()> {
        if self.registered
            && (self.in_project(project).is_some_and(|r| roles.contains(&r))
                || global.iter().any(|g| self.has(*g)))
        {
            return Ok(());
        }
        Err(self.forbidden(action, needed_words(global, roles, Some(project))))
    }

    pub(crate) fn forbidden(&self, action: &str, needed: String) -> StoreError {
        StoreError::Forbidden {
            action: action.to_string(),
            needed,
            actual: self.describe(),
        }
    }
}

fn needed_words(global: &[GlobalRole], project: &[ProjectRole], name: Option<&str>) -> String {
    let mut parts: Vec<String> = project
        .iter()
        .map(|r| match name {
            Some(p) => format!("{} of project {p}", r.words()),
            None => r.words().to_string(),
        })
        .collect();
    parts.extend(global.iter().map(|r| r.words().to_string()));
    let article = |s: &str| {
        if s.starts_with(['a', 'e', 'i', 'o', 'u']) {
            format!("an {s}")
        } else {
            format!("a {s}")
        }
    };
    let parts: Vec<String> = parts.iter().map(|p| article(p)).collect();
    match parts.len() {
        0 => "nobody".to_string(),
        1 => parts[0].clone(),
        n => format!("{} or {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

/// Reads the roles of `login` inside `tx`.
pub(crate) async fn roles(tx: &mut Tx, login: &str) -> Result<Roles> {
    let registered: Option<(String,)> = tx
        .opt("SELECT login FROM users WHERE login = $1", &args![login])
        .await?;
    let global: Vec<(String,)> = tx
        .all(
            "SELECT role FROM user_roles WHERE login = $1 ORDER BY role",
            &args![login],
        )
        .await?;
    let projects: Vec<(String, String)> = tx
        .all(
            "SELECT p.name, m.role FROM project_members m JOIN projects p ON p.id = m.project_id \
             WHERE m.login = $1 ORDER BY p.name",
            &args![login],
        )
        .await?;
    let mut global: Vec<GlobalRole> = global
        .iter()
        .filter_map(|(r,)| GlobalRole::parse(r).ok())
        .collect();
    global.sort();
    Ok(Roles {
        login: login.to_string(),
        registered: registered.is_some(),
        global,
        projects: projects
            .into_iter()
            .filter_map(|(p, r)| ProjectRole::parse(&r).ok().map(|r| (p, r)))
            .collect(),
    })
}

/// Makes `login` the first system admin if the store has none yet. Atomic: of two first
/// users at the same moment exactly one inserts the single `bootstrap` row.
pub(crate) async fn bootstrap(session: &Session) -> Result<bool> {
    let mut tx = session.pool.read().await?;
    let (n,): (i64,) = tx.one("SELECT COUNT(*) FROM bootstrap", &[]).await?;
    drop(tx);
    if n > 0 {
        return Ok(false);
    }
    let mut tx = session.pool.write().await?;
    let at = now();
    let won = tx
        .execute(
            "INSERT INTO bootstrap (id, login, at) VALUES (1, $1, $2) ON CONFLICT DO NOTHING",
            &args![&session.actor, &at],
        )
        .await?;
    if won == 0 {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO users (login, display_name, created_by, created_at) VALUES ($1, $1, $1, $2) \
         ON CONFLICT DO NOTHING",
        &args![&session.actor, &at],
    )
    .await?;
    tx.execute(
        "INSERT INTO user_roles (login, role) VALUES ($1, 'system_admin') ON CONFLICT DO NOTHING",
        &args![&session.actor],
    )
    .await?;
    let user = load_user(&mut tx, &session.actor).await?;
    audit::append(
        &mut tx,
        &session.actor,
        "store.bootstrap",
        "user",
        &session.actor,
        NONE,
        Some(&user),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(login = %session.actor, "first user became system admin");
    Ok(true)
}

pub(crate) async fn load_user(tx: &mut Tx, login: &str) -> Result<User> {
    let row: Option<(String, String)> = tx
        .opt(
            "SELECT login, display_name FROM users WHERE login = $1",
            &args![login],
        )
        .await?;
    let Some((login, display_name)) = row else {
        let all: Vec<(String,)> = tx.all("SELECT login FROM users", &[]).await?;
        return Err(StoreError::not_found(
            "user",
            login,
            all.into_iter().map(|r| r.0),
        ));
    };
    let r = roles(tx, &login).await?;
    Ok(User {
        login,
        display_name,
        roles: r.global,
        projects: r.projects,
    })
}

/// Registers `login` with `global` roles inside `tx`, audited as done by `actor`; the
/// caller has checked the actor's role. Refuses a login that is registered already.
pub(crate) async fn insert_user(
    tx: &mut Tx,
    actor: &str,
    login: &str,
    display_name: &str,
    global: &[GlobalRole],
) -> Result<User> {
    let exists: Option<(String,)> = tx
        .opt("SELECT login FROM users WHERE login = $1", &args![login])
        .await?;
    if exists.is_some() {
        return Err(StoreError::Conflict(crate::Conflict::Exists {
            kind: "user",
            name: login.to_string(),
        }));
    }
    let name = if display_name.trim().is_empty() {
        login
    } else {
        display_name.trim()
    };
    tx.execute(
        "INSERT INTO users (login, display_name, created_by, created_at) VALUES ($1, $2, $3, $4)",
        &args![login, name, actor, now()],
    )
    .await?;
    for r in global {
        tx.execute(
            "INSERT INTO user_roles (login, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &args![login, r.as_str()],
        )
        .await?;
    }
    let user = load_user(tx, login).await?;
    audit::append(tx, actor, "user.add", "user", login, NONE, Some(&user)).await?;
    Ok(user)
}

pub(crate) fn check_login(login: &str) -> Result<()> {
    let ok = !login.is_empty()
        && login.len() <= 63
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "login",
            format!(
                "`{}` is not a valid login",
                weir_model::text::printable(login)
            ),
            "use 1 to 63 letters, digits, `_`, `-`, `.` or `@`",
        ))
    }
}

impl Session {
    /// The acting login.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The actor's current roles.
    pub async fn whoami(&self) -> Result<Roles> {
        let mut tx = self.pool.read().await?;
        roles(&mut tx, &self.actor).await
    }

    /// Registers a user with global roles (system admin).
    pub async fn add_user(
        &self,
        login: &str,
        display_name: &str,
        global: &[GlobalRole],
    ) -> Result<User> {
        check_login(login)?;
        crate::checks::name("display name", display_name)?;
        let mut tx = self.pool.write().await?;
        roles(&mut tx, &self.actor)
            .await?
            .require(&[GlobalRole::SystemAdmin], "add users")?;
        let user = insert_user(&mut tx, &self.actor, login, display_name, global).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Replaces a user's global roles (system admin). A system admin cannot drop their own
    /// system admin role, so the store always keeps one.
    pub async fn set_user_roles(&self, login: &str, global: &[GlobalRole]) -> Result<User> {
        let mut tx = self.pool.write().await?;
        roles(&mut tx, &self.actor)
            .await?
            .require(&[GlobalRole::SystemAdmin], "change roles")?;
        let before = load_user(&mut tx, login).await?;
        if login == self.actor && !global.contains(&GlobalRole::SystemAdmin) {
            return Err(StoreError::NotAllowed(
                "you cannot remove your own system admin role; ask another system admin".into(),
            ));
        }
        tx.execute("DELETE FROM user_roles WHERE login = $1", &args![login])
            .await?;
        for r in global {
            tx.execute(
                "INSERT INTO user_roles (login, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &args![login, r.as_str()],
            )
            .await?;
        }
        let after = load_user(&mut tx, login).await?;
        audit::append(
            &mut tx,
            &self.actor,
            "user.set_roles",
            "user",
            login,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// One user.
    pub async fn user(&self, login: &str) -> Result<User> {
        let mut tx = self.pool.read().await?;
        load_user(&mut tx, login).await
    }

    /// Every user, by login.
    pub async fn users(&self) -> Result<Vec<User>> {
        let mut tx = self.pool.read().await?;
        let logins: Vec<(String,)> = tx
            .all("SELECT login FROM users ORDER BY login", &[])
            .await?;
        let mut out = Vec::with_capacity(logins.len());
        for (l,) in logins {
            out.push(load_user(&mut tx, &l).await?);
        }
        Ok(out)
    }
}
