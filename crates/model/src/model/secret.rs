//! Credential references. weir never stores or prints a secret: a data source names where
//! the secret is (`env:NAME` or `file:PATH`) and the secret is read only at the moment of use.

use std::fmt;

/// Where a secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable of the process that uses the secret.
    Env(String),
    /// A file whose content (without a trailing line break) is the secret.
    File(String),
}

/// Why a credential reference was refused or could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "a credential must be a reference, not the secret itself: write `env:NAME` (an environment variable) or `file:PATH` (a file holding it)"
    )]
    NotAReference,
    #[error("`{0}` names no variable or file; write `env:NAME` or `file:PATH`")]
    Empty(String),
    #[error("environment variable `{0}` is not set; export it before running weir")]
    EnvMissing(String),
    #[error("cannot read credential file `{path}`: {reason}")]
    FileUnreadable { path: String, reason: String },
}

impl SecretRef {
    /// Parse `env:NAME` or `file:PATH`; anything else is refused, so that a plain password
    /// never reaches the store or a job file.
    pub fn parse(text: &str) -> Result<SecretRef, SecretError> {
        let text = text.trim();
        let (kind, rest) = text.split_once(':').ok_or(SecretError::NotAReference)?;
        let rest = rest.trim();
        let r = match kind {
            "env" => SecretRef::Env(rest.to_string()),
            "file" => SecretRef::File(rest.to_string()),
            _ => return Err(SecretError::NotAReference),
        };
        if rest.is_empty() {
            return Err(SecretError::Empty(text.to_string()));
        }
        if let SecretRef::Env(name) = &r
            && !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(SecretError::NotAReference);
        }
        Ok(r)
    }

    /// Read the secret now. The value is returned to the caller only; never log it.
    pub fn resolve(&self) -> Result<String, SecretError> {
        match self {
            SecretRef::Env(name) => {
                std::env::var(name).map_err(|_| SecretError::EnvMissing(name.clone()))
            }
            SecretRef::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| SecretError::FileUnreadable {
                    path: path.clone(),
                    reason: e.to_string(),
                }),
        }
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
            SecretRef::parse("file:/run/secrets/pg"),
            Ok(SecretRef::File("/run/secrets/pg".into()))
        );
        assert_eq!(SecretRef::parse("hunter2"), Err(SecretError::NotAReference));
        assert_eq!(
            SecretRef::parse("pass:word"),
            Err(SecretError::NotAReference)
        );
        assert_eq!(
            SecretRef::parse("env:"),
            Err(SecretError::Empty("env:".into()))
        );
        assert_eq!(SecretRef::parse("env:a b"), Err(SecretError::NotAReference));
    }

    #[test]
    fn resolving_reads_files_and_names_what_is_missing() {
        let dir = std::env::temp_dir().join(format!("weir-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("pw");
        std::fs::write(&f, "s3cret\n").unwrap();
        let r = SecretRef::File(f.display().to_string());
        assert_eq!(r.resolve().unwrap(), "s3cret");
        let missing = SecretRef::Env("WEIR_TEST_SURELY_UNSET_VAR".into());
        assert!(
            missing
                .resolve()
                .unwrap_err()
                .to_string()
                .contains("is not set")
        );
        assert_eq!(masked(Some("env:PW")), "env:PW (••••)");
        assert_eq!(masked(Some("oops-plain")), "••••");
        assert_eq!(scrub("mysql://u:s3cret@h", "s3cret"), "mysql://u:••••@h");
    }
}
