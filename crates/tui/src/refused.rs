//! `Refused`: why the workbench did not take an input — a key script line, a key name, a
//! size, an edit of the graph, a job file it cannot open. Always the user's to fix; the
//! message says what is wrong and how to fix it, and is shown as it is.

/// An input the workbench refused, with the sentence that says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl From<String> for Refused {
    fn from(message: String) -> Self {
        Refused(message)
    }
}

impl From<&str> for Refused {
    fn from(message: &str) -> Self {
        Refused(message.to_string())
    }
}
