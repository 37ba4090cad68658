//! `StoreError`: every way a store call can fail, phrased for the person who made it.
//!
//! Who is at fault: `NotFound`, `Forbidden`, `Invalid`, `Archived` and `Conflict` are the
//! user's (fix the input or ask someone with the role); `Db` is external (the database
//! failed; a retry may help when the connection dropped), except for decoding failures,
//! which are bugs; `Unreachable` is external, or the user's when the login was refused; `Effect` carries the fault of the app's failed effect.
//! [`StoreError::fault`] says which.

use std::fmt;

use weir_model::Fault;

/// Result of every store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One error type for the whole store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A name or id that does not exist; `suggestion` is the closest existing name.
    #[error("no {kind} named `{name}`{}", did_you_mean(suggestion))]
    NotFound {
        /// "project", "data source", "topic", "user", "request", "grant".
        kind: &'static str,
        /// The name (or `#id`) that was looked up.
        name: String,
        /// The closest existing name, when one is close enough.
        suggestion: Option<String>,
    },
    /// The actor lacks the role the action needs.
    #[error("only {needed} can {action}; you are {actual}")]
    Forbidden {
        /// What was attempted ("approve", "create a project").
        action: String,
        /// The role(s) that may do it ("a data admin").
        needed: String,
        /// The actor's roles as words ("developer of p", "no role").
        actual: String,
    },
    /// A rule forbids this action regardless of role (own request, data admin requesting).
    #[error("{0}")]
    NotAllowed(String),
    /// The action collides with the current state.
    #[error("{0}")]
    Conflict(Conflict),
    /// An input field breaks a rule.
    #[error("{field}: {problem}; {fix}")]
    Invalid {
        /// The field at fault ("name", "password", "perms").
        field: &'static str,
        /// What is wrong with it.
        problem: String,
        /// How to fix it.
        fix: String,
    },
    /// The project is archived and read-only.
    #[error("project {project} is archived; a system admin can restore it")]
    Archived {
        /// Project name.
        project: String,
    },
    /// The database failed (external): connection lost, disk full, constraint we did not expect.
    /// (A refusal by the store's rules in PostgreSQL becomes `NotAllowed` instead; see
    /// the `From<sqlx::Error>` impl.)
    #[error("metadata store failed: {0} (a retry may help if the connection dropped)")]
    Db(#[source] sqlx::Error),
    /// The store's database could not be reached, or refused the login, when the store
    /// was opened: external, or the user's when the login was refused.
    #[error("cannot connect to the metadata store at {url}: {reason}; {fix}")]
    Unreachable {
        /// The store's URL, without a password.
        url: String,
        /// The cause first ("connection refused", "no such host", "authentication
        /// failed"), then the driver's words.
        reason: String,
        /// What to check.
        fix: &'static str,
        /// The database answered and refused the login, the password or the database
        /// name (the user's to fix).
        login_refused: bool,
    },
    /// A decision's effect outside the store failed (the app's [`crate::EffectFailed`]);
    /// the decision was rolled back and the request stays pending.
    #[error("request #{request} stays pending: {failed}")]
    Effect {
        /// The request whose decision was rolled back.
        request: i64,
        /// What failed, and whose fault it is.
        failed: EffectFailed,
    },
}

/// The SQLSTATE with which the rules of PostgreSQL migration 6 refuse a write
/// (`migrations/postgres/0006_rules.sql`).
pub(crate) const RULE_REFUSED: &str = "WR001";

impl From<sqlx::Error> for StoreError {
    /// A refusal by the store's rules in PostgreSQL (a login role tried a write weir would
    /// refuse, or a rule and the Rust code disagree) is the user's: `NotAllowed`, saying
    /// what was refused and what to do. Every other database error is `Db`.
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(d) = &e
            && d.code().as_deref() == Some(RULE_REFUSED)
        {
            let what = d.message();
            let what = what.strip_prefix("weir refused: ").unwrap_or(what);
            let hint = d
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|p| p.hint());
            return StoreError::NotAllowed(match hint {
                Some(fix) => format!("the store's rules refused this: {what}; {fix}"),
                None => format!("the store's rules refused this: {what}"),
            });
        }
        StoreError::Db(e)
    }
}

/// Why the app could not carry out a decision's effect (e.g. create the topic on Kafka).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EffectFailed {
    /// Full sentence: what failed, where, and what to do.
    pub message: String,
    /// Whose fault it is (usually external: the cluster did not answer).
    pub fault: Fault,
}

impl StoreError {
    /// Whose fault this error is: the database's failures and failed effects are
    /// external (or what the effect says); everything else is the user's input or role.
    pub fn fault(&self) -> Fault {
        match self {
            StoreError::Db(sqlx::Error::Protocol(_) | sqlx::Error::Decode(_))
            | StoreError::Db(sqlx::Error::ColumnDecode { .. })
            | StoreError::Db(sqlx::Error::TypeNotFound { .. })
            | StoreError::Db(sqlx::Error::ColumnNotFound(_))
            | StoreError::Db(sqlx::Error::ColumnIndexOutOfBounds { .. }) => Fault::Internal,
            StoreError::Db(_) => Fault::External,
            StoreError::Unreachable { login_refused, .. } => {
                if *login_refused {
                    Fault::User
                } else {
                    Fault::External
                }
            }
            StoreError::Effect { failed, .. } => failed.fault,
            _ => Fault::User,
        }
    }
}

/// Collisions with the current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Someone else decided (or withdrew) the request first.
    AlreadyDecided {
        /// Request id.
        request: i64,
        /// "approved", "rejected" or "withdrawn".
        state: String,
        /// Who did it.
        by: String,
        /// When (RFC 3339, UTC).
        at: String,
    },
    /// A thing with this name exists already.
    Exists {
        /// What kind of thing.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// The object is not in a state that allows the action.
    WrongState {
        /// Full sentence: what is, and what would be needed.
        message: String,
    },
    /// The object is still referenced.
    InUse {
        /// Full sentence naming the users.
        message: String,
    },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::AlreadyDecided {
                request,
                state,
                by,
                at,
            } => write!(f, "request #{request} was already {state} by {by} at {at}"),
            Conflict::Exists { kind, name } => {
                write!(
                    f,
                    "a {kind} named `{name}` exists already; choose another name"
                )
            }
            Conflict::WrongState { message } | Conflict::InUse { message } => f.write_str(message),
        }
    }
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

impl StoreError {
    /// A `NotFound` with the closest of `candidates` as suggestion.
    pub(crate) fn not_found<I, S>(kind: &'static str, name: &str, candidates: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        StoreError::NotFound {
            kind,
            name: name.to_string(),
            suggestion: closest(name, candidates),
        }
    }

    /// An `Invalid` error.
    pub(crate) fn invalid(
        field: &'static str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        StoreError::Invalid {
            field,
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// A `Conflict::WrongState` error.
    pub(crate) fn wrong_state(message: impl Into<String>) -> Self {
        StoreError::Conflict(Conflict::WrongState {
            message: message.into(),
        })
    }
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
pub(crate) fn closest<I, S>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| {
            let c = c.as_ref().to_string();
            (strsim::damerau_levenshtein(name, &c), c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)))
        .map(|(_, c)| c)
}
