//! Why a connection to a server failed, in the words a person checks first: "connection
//! refused", "no such host", "no answer", "authentication failed". The cause is found in
//! the error chain of any client library (sqlx for the store and the JDBC sink, the
//! connectivity checks) by the `std::io::Error` kinds and the resolver's and servers'
//! well-known messages, so this module depends on none of them.

use std::error::Error;
use std::io::ErrorKind;

/// The plain cause of a failed connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Nothing listens at the address (wrong port, or the server is down).
    Refused,
    /// The host name does not resolve.
    NoSuchHost,
    /// The host or its network cannot be reached.
    Unreachable,
    /// No answer in time.
    TimedOut,
    /// The server answered and refused the login (user, password or role).
    LoginRefused,
}

impl Cause {
    /// The cause in words, as messages start it.
    pub fn words(self) -> &'static str {
        match self {
            Cause::Refused => "connection refused",
            Cause::NoSuchHost => "no such host",
            Cause::Unreachable => "host unreachable",
            Cause::TimedOut => "no answer (timed out)",
            Cause::LoginRefused => "authentication failed",
        }
    }
}

/// The cause of `err`, looking through its whole chain of sources; `None` when it is
/// none of the above (the library's own message then says it).
pub fn cause(err: &(dyn Error + 'static)) -> Option<Cause> {
    let mut next: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused => return Some(Cause::Refused),
                ErrorKind::TimedOut => return Some(Cause::TimedOut),
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                    return Some(Cause::Unreachable);
                }
                _ => {}
            }
        }
        if let Some(c) = cause_in_text(&e.to_string()) {
            return Some(c);
        }
        next = e.source();
    }
    None
}

/// `err`'s message, led by its cause in plain words when one is known:
/// "connection refused (error communicating with database: Connection refused (os error 111))".
pub fn describe(err: &(dyn Error + 'static)) -> String {
    let text = err.to_string();
    match cause(err) {
        Some(c) if text.to_ascii_lowercase().starts_with(c.words()) => text,
        Some(c) => format!("{} ({text})", c.words()),
        None => text,
    }
}

/// The cause a message names: resolver messages (glibc, macOS, Windows) and the login
/// refusals of PostgreSQL and MySQL.
fn cause_in_text(text: &str) -> Option<Cause> {
    let t = text.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| t.contains(n));
    if any(&["connection refused", "actively refused"]) {
        Some(Cause::Refused)
    } else if any(&[
        "failed to lookup address",
        "name or service not known",
        "nodename nor servname",
        "no address associated with hostname",
        "temporary failure in name resolution",
        "no such host",
    ]) {
        Some(Cause::NoSuchHost)
    } else if any(&[
        "password authentication failed",
        "authentication failed",
        "access denied for user",
        "no password was provided",
        "no pg_hba.conf entry",
    ]) || (t.contains("role \"") && t.contains("does not exist"))
    {
        Some(Cause::LoginRefused)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error communicating with database: {}", self.0)
        }
    }

    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn finds_the_cause_in_the_chain() {
        let refused = Wrapped(std::io::Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(cause(&refused), Some(Cause::Refused));
        assert!(describe(&refused).starts_with("connection refused ("));
        let dns = Wrapped(std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        ));
        assert_eq!(cause(&dns), Some(Cause::NoSuchHost));
        assert!(
            describe(&dns).starts_with("no such host (error communicating"),
            "{}",
            describe(&dns)
        );
    }

    #[test]
    fn names_refused_logins_of_both_databases() {
        for text in [
            "error returned from database: password authentication failed for user \"x\"",
            "error returned from database: 1045 (28000): Access denied for user 'x'@'localhost'",
            "error returned from database: role \"ghost\" does not exist",
        ] {
            let e = std::io::Error::other(text);
            assert_eq!(cause(&e), Some(Cause::LoginRefused), "{text}");
        }
        let other = std::io::Error::other("relation \"t\" does not exist");
        assert_eq!(cause(&other), None);
        assert_eq!(describe(&other), "relation \"t\" does not exist");
    }
}
