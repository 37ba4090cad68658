//! Credential references. weir never stores or prints a secret: a data source names where
//! the secret is (`env:NAME` or `file:PATH`) and the secret is read only at the moment of
//! use. This module parses and shows references; reading them is I/O and lives where they
//! are used (`weir_engine::resolve::password`).

use std::fmt;

use serde::Serialize;

/// Where a secret is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SecretRef {
    /// An environment variable of the process that uses the secret.
    Env(String),
    /// A file whose content (without a trailing line break) is the secret.
    File(String),
}

/// Why a credential reference was refused. No message repeats the text it was given: a
/// plain password typed where a reference belongs must not end up in a log or an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Neither `env:` nor `file:`.
    #[error("the value is neither an env: nor a file: reference (not shown)")]
    NotAReference,
    /// `env:` followed by nothing, or by something that is no variable name.
    #[error("the text after `env:` is not an environment variable name (not shown)")]
    BadEnvName,
    /// `file:` followed by nothing.
    #[error("`file:` has no path")]
    NoPath,
}

impl SecretError {
    /// How to fix the reference, in one sentence.
    pub fn fix(&self) -> &'static str {
        match self {
            SecretError::NotAReference => {
                "write env:NAME (an environment variable holding the password) or \
                 file:PATH (a file holding it); plain-text passwords are never stored"
            }
            SecretError::BadEnvName => "use letters, digits and `_`, not starting with a digit",
            SecretError::NoPath => "write file:PATH with the path of a file holding the password",
        }
    }
}

impl SecretRef {
    /// Parse `env:NAME` (letters, digits and `_`, not starting with a digit) or
    /// `file:PATH` (a path that is not blank); anything else is refused, so that a plain
    /// password never reaches the store or a job file. Spaces around the whole text are
    /// ignored.
    pub fn parse(text: &str) -> Result<SecretRef, SecretError> {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("env:") {
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            return if valid {
                Ok(SecretRef::Env(name.to_string()))
            } else {
                Err(SecretError::BadEnvName)
            };
        }
        if let Some(path) = text.strip_prefix("file:") {
            return if path.trim().is_empty() {
                Err(SecretError::NoPath)
            } else {
                Ok(SecretRef::File(path.to_string()))
            };
        }
        Err(SecretError::NotAReference)
    }

    /// Whether `text` is meant as a reference (starts with `env:` or `file:`), valid or not.
    pub fn looks_like_one(text: &str) -> bool {
        let text = text.trim_start();
        text.starts_with("env:") || text.starts_with("file:")
    }

    /// The stored text (`env:NAME`, `file:PATH`); the same as `Display`.
    pub fn as_reference(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for SecretRef {
    /// The reference itself (safe to show: it names a place, not the secret).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(n) => write!(f, "env:{n}"),
            SecretRef::File(p) => write!(f, "file:{p}"),
        }
    }
}

/// How a credential field is shown in any output: the reference kind and name with the
/// secret masked, e.g. `env:PG_PASSWORD (••••)`; `None` shows as `-`.
pub fn masked(reference: Option<&str>) -> String {
    match reference {
        None => "-".into(),
        Some(r) => match SecretRef::parse(r) {
            Ok(r) => format!("{r} (••••)"),
            Err(_) => "••••".into(),
        },
    }
}

/// Replace every occurrence of `secret` in `text` by `••••` (for error messages of
/// drivers that may echo a connection string).
pub fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, "••••")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_plain_text_is_refused() {
        assert_eq!(
            SecretRef::parse("env:PG_PW"),
            Ok(SecretRef::Env("PG_PW".into()))
        );
        assert_eq!(
            SecretRef::parse(" env:_pw2 "),
            Ok(SecretRef::Env("_pw2".into()))
        );
        assert_eq!(
            SecretRef::parse("file:/run/secrets/pg"),
            Ok(SecretRef::File("/run/secrets/pg".into()))
        );
        assert_eq!(SecretRef::parse("hunter2"), Err(SecretError::NotAReference));
        assert_eq!(
            SecretRef::parse("pass:word"),
            Err(SecretError::NotAReference)
        );
        assert_eq!(SecretRef::parse("env:"), Err(SecretError::BadEnvName));
        assert_eq!(SecretRef::parse("env:9X"), Err(SecretError::BadEnvName));
        assert_eq!(SecretRef::parse("env:a b"), Err(SecretError::BadEnvName));
        assert_eq!(SecretRef::parse("file:  "), Err(SecretError::NoPath));
        assert!(SecretRef::looks_like_one("env:9X") && !SecretRef::looks_like_one("pw"));
    }

    #[test]
    fn errors_never_repeat_the_value() {
        for text in ["hunter2", "env:hunter 2", "env:2hunter", "envy:hunter2"] {
            let e = SecretRef::parse(text).unwrap_err();
            let shown = format!("{e}; {}", e.fix());
            assert!(!shown.contains("hunter"), "{shown}");
        }
    }

    #[test]
    fn references_show_and_mask() {
        let r = SecretRef::parse("file:/run/pw").unwrap();
        assert_eq!(r.as_reference(), "file:/run/pw");
        assert_eq!(SecretRef::parse(&r.as_reference()), Ok(r));
        assert_eq!(masked(Some("env:PW")), "env:PW (••••)");
        assert_eq!(masked(Some("oops-plain")), "••••");
        assert_eq!(masked(None), "-");
        assert_eq!(scrub("mysql://u:s3cret@h", "s3cret"), "mysql://u:••••@h");
    }
}
