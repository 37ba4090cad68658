//! Credential references and the rules that keep secrets in weir's own namespace. weir
//! never stores or prints a secret: a data source names where the secret is
//! (`env:WEIR_SECRET_NAME` or `file:NAME` under weir's secrets directory) and the secret is
//! read only at the moment of use. This module parses, checks and shows references and
//! masks credentials in text ([`scrub`], the one masking function); reading a secret is
//! I/O and lives where it is used (`weir_engine::resolve::password`).
//!
//! Why a namespace: a data source is written by a data admin and its secret is read by
//! whoever connects. Were any variable or file allowed, `env:AWS_SECRET_ACCESS_KEY` or
//! `file:/home/bob/.ssh/id_rsa` would send a developer's own secrets to a server of the
//! admin's choosing. Only `WEIR_SECRET_*` variables and files in the secrets directory,
//! which a person puts there for weir, are ever read.

use std::ffi::OsString;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

/// Every environment variable weir reads a secret from starts with this.
pub const ENV_PREFIX: &str = "WEIR_SECRET_";

/// The variable that moves weir's secrets directory.
pub const SECRETS_DIR_VAR: &str = "WEIR_SECRETS_DIR";

/// What replaces a credential in any output.
pub const MASK: &str = "••••";

/// Where a secret is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SecretRef {
    /// An environment variable of the process that uses the secret (`WEIR_SECRET_…`).
    Env(String),
    /// A file, relative to weir's secrets directory, whose content (without a trailing
    /// line break) is the secret.
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
    /// `env:NAME` where NAME does not start with [`ENV_PREFIX`].
    #[error("weir reads secrets only from environment variables named WEIR_SECRET_…")]
    EnvOutsideNamespace,
    /// `file:PATH` with an absolute path, `~` or `..`.
    #[error(
        "weir reads secret files only inside its secrets directory (no absolute path, `~` or `..`)"
    )]
    FileOutsideDir,
}

impl SecretError {
    /// How to fix the reference, in one sentence.
    pub fn fix(&self) -> &'static str {
        match self {
            SecretError::NotAReference => {
                "write env:WEIR_SECRET_<NAME> (an environment variable holding the password) \
                 or file:NAME (a file in weir's secrets directory); plain-text passwords are \
                 never stored"
            }
            SecretError::BadEnvName => "use letters, digits and `_`, not starting with a digit",
            SecretError::NoPath => {
                "write file:NAME with the name of a file in weir's secrets directory"
            }
            SecretError::EnvOutsideNamespace => {
                "export the value as WEIR_SECRET_<something> and write \
                 env:WEIR_SECRET_<something>"
            }
            SecretError::FileOutsideDir => {
                "put the file in weir's secrets directory ($WEIR_SECRETS_DIR, by default \
                 ~/.config/weir/secrets/) and write file:NAME, its name there"
            }
        }
    }
}

impl SecretRef {
    /// Parse `env:NAME` (letters, digits and `_`, not starting with a digit) or
    /// `file:PATH` (a path that is not blank); anything else is refused, so that a plain
    /// password never reaches the store or a job file. Spaces around the whole text are
    /// ignored. This is the syntax only: it reads old store rows too. New references are
    /// taken with [`SecretRef::parse_new`], and every use checks [`SecretRef::check_namespace`].
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

    /// Parse a reference given now (a data source added or edited, a job file, `--set`):
    /// the syntax of [`SecretRef::parse`] and weir's namespace.
    pub fn parse_new(text: &str) -> Result<SecretRef, SecretError> {
        let r = SecretRef::parse(text)?;
        r.check_namespace()?;
        Ok(r)
    }

    /// Whether this reference stays in weir's namespace: an environment variable named
    /// `WEIR_SECRET_…`, or a relative path without `..` (resolved in the secrets
    /// directory; symbolic links leading outside are refused when the file is read).
    pub fn check_namespace(&self) -> Result<(), SecretError> {
        match self {
            SecretRef::Env(name) => {
                if name.len() > ENV_PREFIX.len() && name.starts_with(ENV_PREFIX) {
                    Ok(())
                } else {
                    Err(SecretError::EnvOutsideNamespace)
                }
            }
            SecretRef::File(path) => {
                let p = Path::new(path.trim());
                let inside = !path.trim().starts_with('~')
                    && p.components()
                        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
                    && p.components().any(|c| matches!(c, Component::Normal(_)));
                if inside {
                    Ok(())
                } else {
                    Err(SecretError::FileOutsideDir)
                }
            }
        }
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

    /// How a confirmation names the secret: the variable (`WEIR_SECRET_PG`) or the file
    /// (`file:pg.pw`).
    pub fn label(&self) -> String {
        match self {
            SecretRef::Env(n) => n.clone(),
            SecretRef::File(p) => format!("file:{p}"),
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

/// The user's config directory: `$WEIR_CONFIG_DIR`, else `$XDG_CONFIG_HOME/weir`, else
/// `$HOME/.config/weir`, reading variables through `var` (empty values count as unset);
/// `None` when none is set. The same rule as the workbench's keymaps and themes.
pub fn config_dir_with(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let get = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = get("WEIR_CONFIG_DIR") {
        return Some(dir);
    }
    // the XDG spec ignores relative values
    if let Some(xdg) = get("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
        return Some(xdg.join("weir"));
    }
    get("HOME").map(|home| home.join(".config").join("weir"))
}

/// weir's secrets directory: `$WEIR_SECRETS_DIR`, else `secrets/` in the config
/// directory ([`config_dir_with`]); `None` when nothing says where it is.
pub fn secrets_dir_with(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    match var(SECRETS_DIR_VAR).filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => config_dir_with(var).map(|d| d.join("secrets")),
    }
}

/// Whether an option key names a credential (`password`, `sasl.password`,
/// `ssl.key.password`, anything with `secret`, `token`, `credential`, …): such options
/// are refused at input and their values masked in output.
pub fn is_sensitive_key(key: &str) -> bool {
    const WORDS: [&str; 11] = [
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "credential",
        "apikey",
        "api_key",
        "api-key",
        "private",
        "key.pem",
    ];
    let key = key.trim().to_ascii_lowercase();
    WORDS.iter().any(|w| key.contains(w))
}

/// Why an address or an option is refused: it carries a credential in plain text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlainCredential {
    /// `scheme://user:password@host`, `user:password@host:port` (also in a broker list).
    #[error("the address holds a password (user:password@…; not shown)")]
    InAddress,
    /// `--option password=…` and the like.
    #[error("option `{0}` would keep a credential in plain text")]
    InOption(String),
}

impl PlainCredential {
    /// How to give the credential instead.
    pub fn fix(&self) -> &'static str {
        match self {
            PlainCredential::InAddress => {
                "drop the password from the address (a user name may stay, or give --user) \
                 and give the password as a reference: --password env:WEIR_SECRET_<NAME>"
            }
            PlainCredential::InOption(_) => {
                "drop the option and give the password as a reference: \
                 --password env:WEIR_SECRET_<NAME>"
            }
        }
    }
}

/// Refuses an address with a userinfo password: a URL (`mysql://u:pw@h/db`,
/// `redis://:pw@h`), a bare `u:pw@host:port`, or any member of a Kafka broker list. A user
/// name without a password is fine.
pub fn check_address(address: &str) -> Result<(), PlainCredential> {
    let leaks = address
        .split([',', ' ', ';'])
        .any(|member| userinfo_password(member).is_some());
    if leaks {
        Err(PlainCredential::InAddress)
    } else {
        Ok(())
    }
}

/// Refuses an option key that names a credential ([`is_sensitive_key`]).
pub fn check_option(key: &str) -> Result<(), PlainCredential> {
    if is_sensitive_key(key) {
        Err(PlainCredential::InOption(key.trim().to_string()))
    } else {
        Ok(())
    }
}

/// The byte range of the password in the userinfo of `token` (`scheme://u:pw@h`,
/// `u:pw@h`), when there is a non-empty one.
fn userinfo_password(token: &str) -> Option<(usize, usize)> {
    let start = token.find("://").map_or(0, |i| i + 3);
    let rest = &token[start..];
    let at = rest.rfind('@')?;
    let userinfo = &rest[..at];
    let colon = userinfo.find(':')?;
    let user = &userinfo[..colon];
    if user.contains(['/', '?', '#']) || colon + 1 == userinfo.len() {
        return None;
    }
    Some((start + colon + 1, start + at))
}

/// How a credential field is shown in any output: the reference kind and name with the
/// secret masked, e.g. `env:WEIR_SECRET_PG (••••)`; `None` shows as `-`.
pub fn masked(reference: Option<&str>) -> String {
    match reference {
        None => "-".into(),
        Some(r) => match SecretRef::parse(r) {
            Ok(r) => format!("{r} ({MASK})"),
            Err(_) => MASK.into(),
        },
    }
}

/// The one masking function for text that may carry a credential (addresses shown by
/// `datasource show` and `list`, errors of the connectivity checks and of the engine's
/// connections): every occurrence of `secret` (when not empty), the password of every
/// userinfo (`mysql://u:pw@h` → `mysql://u:••••@h`) and the value of every sensitive
/// `key=value` pair (`password=…`, `sasl.password=…`) become `••••`.
pub fn scrub(text: &str, secret: &str) -> String {
    let text = if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, MASK)
    };
    let mut out = String::with_capacity(text.len());
    let mut token_start = 0;
    let is_separator = |c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ',' | ';' | '(' | ')' | '<' | '>')
    };
    for (i, c) in text.char_indices() {
        if is_separator(c) {
            out.push_str(&scrub_token(&text[token_start..i]));
            out.push(c);
            token_start = i + c.len_utf8();
        }
    }
    out.push_str(&scrub_token(&text[token_start..]));
    out
}

/// [`scrub`] of one token without separators: its userinfo password, then its sensitive
/// `key=value` parts (split at `?` and `&`).
fn scrub_token(token: &str) -> String {
    let token = match userinfo_password(token) {
        Some((from, to)) => format!("{}{MASK}{}", &token[..from], &token[to..]),
        None => token.to_string(),
    };
    if !token.contains('=') {
        return token;
    }
    let mut out = String::with_capacity(token.len());
    let mut part_start = 0;
    let push_part = |out: &mut String, part: &str| match part.split_once('=') {
        Some((key, _)) if is_sensitive_key(key.trim_start_matches(['{', '['])) => {
            out.push_str(key);
            out.push('=');
            out.push_str(MASK);
        }
        _ => out.push_str(part),
    };
    for (i, c) in token.char_indices() {
        if matches!(c, '?' | '&') {
            push_part(&mut out, &token[part_start..i]);
            out.push(c);
            part_start = i + 1;
        }
    }
    push_part(&mut out, &token[part_start..]);
    out
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
    fn new_references_stay_in_weirs_namespace() {
        assert_eq!(
            SecretRef::parse_new("env:WEIR_SECRET_PG"),
            Ok(SecretRef::Env("WEIR_SECRET_PG".into()))
        );
        for outside in ["env:HOME", "env:AWS_SECRET_ACCESS_KEY", "env:WEIR_SECRET_"] {
            assert_eq!(
                SecretRef::parse_new(outside),
                Err(SecretError::EnvOutsideNamespace),
                "{outside}"
            );
        }
        assert_eq!(
            SecretRef::parse_new("file:pg.pw"),
            Ok(SecretRef::File("pg.pw".into()))
        );
        assert!(SecretRef::parse_new("file:team/pg.pw").is_ok());
        for outside in [
            "file:/etc/passwd",
            "file:../x",
            "file:a/../../x",
            "file:~/.ssh/id_rsa",
            "file:.",
        ] {
            assert_eq!(
                SecretRef::parse_new(outside),
                Err(SecretError::FileOutsideDir),
                "{outside}"
            );
        }
        let e = SecretError::EnvOutsideNamespace;
        assert!(e.fix().contains("WEIR_SECRET_<something>"), "{}", e.fix());
    }

    #[test]
    fn errors_never_repeat_the_value() {
        for text in [
            "hunter2",
            "env:hunter 2",
            "env:2hunter",
            "envy:hunter2",
            "env:hunter2",
        ] {
            let e = SecretRef::parse_new(text).unwrap_err();
            let shown = format!("{e}; {}", e.fix());
            assert!(!shown.contains("hunter"), "{shown}");
        }
    }

    #[test]
    fn directories_follow_the_config_rule() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            secrets_dir_with(vars(&[("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/weir/secrets"))
        );
        assert_eq!(
            secrets_dir_with(vars(&[("HOME", "/h"), ("WEIR_SECRETS_DIR", "/s")])),
            Some(PathBuf::from("/s"))
        );
        assert_eq!(
            config_dir_with(vars(&[("HOME", "/h"), ("WEIR_CONFIG_DIR", "/c")])),
            Some(PathBuf::from("/c"))
        );
        assert_eq!(secrets_dir_with(vars(&[])), None);
    }

    #[test]
    fn userinfo_passwords_and_sensitive_options_are_refused() {
        for bad in [
            "mysql://u:pw@host/db",
            "postgres://app:s3cret@db:5432/app",
            "redis://:pw@127.0.0.1:6379",
            "u:pw@host:3306",
            "b1:9092,svc:pw@b2:9092",
            "SASL_SSL://svc:pw@b1:9093",
        ] {
            assert_eq!(check_address(bad), Err(PlainCredential::InAddress), "{bad}");
        }
        for good in [
            "mysql://u@host/db",
            "host:3306",
            "b1:9092,b2:9092",
            "http://127.0.0.1:8080/path?q=a:b",
            "[::1]:5432",
        ] {
            assert_eq!(check_address(good), Ok(()), "{good}");
        }
        for key in [
            "password",
            "sasl.password",
            "ssl.key.password",
            "client_secret",
            "auth_token",
            "Password",
            "ssl.key.pem",
        ] {
            assert!(check_option(key).is_err(), "{key}");
        }
        for key in [
            "database",
            "db",
            "security.protocol",
            "ssl.ca.location",
            "sasl.mechanism",
        ] {
            assert!(check_option(key).is_ok(), "{key}");
        }
        let e = check_option("sasl.password").unwrap_err();
        assert!(
            e.to_string().contains("sasl.password")
                && e.fix().contains("--password env:WEIR_SECRET_")
        );
        assert!(!PlainCredential::InAddress.to_string().contains("pw"));
    }

    #[test]
    fn references_show_and_mask() {
        let r = SecretRef::parse("file:/run/pw").unwrap();
        assert_eq!(r.as_reference(), "file:/run/pw");
        assert_eq!(SecretRef::parse(&r.as_reference()), Ok(r));
        assert_eq!(masked(Some("env:PW")), "env:PW (••••)");
        assert_eq!(masked(Some("oops-plain")), "••••");
        assert_eq!(masked(None), "-");
        assert_eq!(
            SecretRef::Env("WEIR_SECRET_X".into()).label(),
            "WEIR_SECRET_X"
        );
        assert_eq!(SecretRef::File("pg".into()).label(), "file:pg");
    }

    #[test]
    fn scrub_masks_secrets_userinfo_and_sensitive_pairs() {
        assert_eq!(scrub("mysql://u:s3cret@h", "s3cret"), "mysql://u:••••@h");
        assert_eq!(scrub("mysql://u:s3cret@h/db", ""), "mysql://u:••••@h/db");
        assert_eq!(
            scrub("cannot connect to `redis://:Zz9@127.0.0.1:1`: refused", ""),
            "cannot connect to `redis://:••••@127.0.0.1:1`: refused"
        );
        assert_eq!(
            scrub("b1:9092,svc:Zz9@b2:9092", ""),
            "b1:9092,svc:••••@b2:9092"
        );
        assert_eq!(
            scrub("options {\"password\"=x} sasl.password=Zz9 db=3", ""),
            "options {\"password\"=x} sasl.password=•••• db=3"
        );
        assert_eq!(
            scrub("postgres://h/db?user=a&password=Zz9&x=1", ""),
            "postgres://h/db?user=a&password=••••&x=1"
        );
        let plain = "logged in to 127.0.0.1:5432 as bob@example.com; ok";
        assert_eq!(scrub(plain, ""), plain);
        assert_eq!(scrub("ünïcode: a:b@c", ""), "ünïcode: a:••••@c");
    }
}
