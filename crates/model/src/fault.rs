//! Whose fault an error is: the one vocabulary that the store's, the engine's and the
//! app's errors share, so that every layer can say whether the user should fix the input,
//! retry later, or report a bug, and the CLI can pick its exit code.

use serde::Serialize;

/// Who is at fault for an error, and so what the person who saw it can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Bad input: a wrong job, bad SQL, a missing name, a role the actor lacks. Fix the
    /// input (the message says how) and try again.
    User,
    /// A system outside weir failed or did not answer: Kafka, a database, the network, the
    /// file system. A retry may help once it is back.
    External,
    /// A bug in weir. Please report it with the message.
    Internal,
}

impl Fault {
    /// The word used in `--json` output and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::User => "user",
            Fault::External => "external",
            Fault::Internal => "internal",
        }
    }
}
