//! A job use case that writes (a lock, a take-over, a checkout) running in the background
//! through the store link: the status bar's spinner says what runs, and when it ends the
//! screen that started it gets one status message, the store's refusal included.

use std::future::Future;
use std::sync::Arc;

use weir_app::AppError;
use weir_app::governance::Governance;
use weir_app::store_link::{Pending, StoreLink};

use crate::action::{Action, Level};
use crate::screens::gov::error_text;

/// What a finished piece of work says.
pub type Said = Result<(Level, String), AppError>;

/// Work on its way.
pub struct Work {
    what: String,
    pending: Pending<Said>,
}

impl Work {
    /// Start `work` under `label` (the spinner's words, `taking the lock of …`); `what`
    /// names it for "wait for it" messages.
    pub fn start<Fut>(
        link: &StoreLink,
        what: impl Into<String>,
        work: impl FnOnce(Arc<Governance>) -> Fut,
    ) -> Work
    where
        Fut: Future<Output = Said> + Send + 'static,
    {
        let what = what.into();
        let pending = link.spawn(format!("{what}…"), |gov, _progress| work(gov));
        Work { what, pending }
    }

    /// What runs: `checking out version 2`.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// The message once the work is done (None while it runs). Any outcome counts as a
    /// store write: the counters and the tree's markers are read again.
    pub fn poll(&mut self) -> Option<Action> {
        match self.pending.poll() {
            Some(Ok((level, msg))) => Some(Action::StoreWritten(level, msg)),
            Some(Err(e)) => Some(Action::StoreWritten(Level::Error, error_text(&e))),
            None if !self.pending.running() => Some(Action::StoreWritten(
                Level::Error,
                format!(
                    "{} stopped without an answer (a bug in weir; please report it)",
                    self.what
                ),
            )),
            None => None,
        }
    }
}
