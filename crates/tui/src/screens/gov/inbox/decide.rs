//! Deciding requests in the background: one task approves or rejects the chosen requests
//! one after the other through `Governance::approve` / `reject` (an approval may wait on a
//! Kafka cluster for its timeout), saying on the status bar which one runs and how far a
//! bulk approval is ("approving #4 · 2 of 3…"). When it ends, one message for all of them:
//! what was decided with each approval's effect as the CLI prints it, and every refusal
//! or failure with whose fault it is. A release is approved bound to the content hash the
//! approver was shown (`approve_checked`), so what was reviewed is what is approved.
//! C-c cancels the run (`StoreLink::spawn_cancellable`): the decisions made so far stand
//! and are reported; the one running is dropped with its store transaction (R shows
//! whether it got through), the rest are not decided.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use weir_app::AppError;
use weir_app::governance::{Decided, describe_effect};
use weir_app::store_link::{Pending, StoreLink};

use crate::action::{Action, Level};
use crate::screens::gov::error_text;

type Results = Vec<(i64, Result<Decided, AppError>)>;

/// The decisions made so far, shared with a cancel.
type Made = Arc<Mutex<Results>>;

fn take(made: &Made) -> Results {
    // a panic elsewhere leaves the list as it was: keep using it
    std::mem::take(&mut *made.lock().unwrap_or_else(PoisonError::into_inner))
}

/// What a cancelled run reports: the decisions made before the cancel, the request that
/// was running, and those not started.
fn cancelled(made: &Made, ids: &[i64]) -> Results {
    let mut out = take(made);
    let mut running = true;
    for id in ids {
        if out.iter().any(|(done, _)| done == id) {
            continue;
        }
        let why = if running {
            format!(
                "#{id} was running when you cancelled (C-c): R reads the inbox again to show whether it was decided"
            )
        } else {
            format!("#{id} not decided: cancelled (C-c) before its turn")
        };
        running = false;
        out.push((*id, Err(AppError::User(why))));
    }
    out
}

/// A release request as the approver saw it: the hash its approval is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Bound {
    /// The content hash shown (64 hex digits).
    pub hash: String,
    /// `shop/pv version 2`.
    pub what: String,
}

/// Release requests among the ids, by id.
pub(super) type Releases = HashMap<i64, Bound>;

/// Decisions on their way.
pub(super) struct Deciding {
    approve: bool,
    ids: Vec<i64>,
    releases: Releases,
    pending: Pending<Results>,
}

/// The status bar's words for deciding request `id`, the `at`-th of `n`.
fn label(approve: bool, id: i64, at: usize, n: usize) -> String {
    let verb = if approve { "approving" } else { "rejecting" };
    if n == 1 {
        format!("{verb} #{id}…")
    } else {
        format!("{verb} #{id} · {at} of {n}…")
    }
}

impl Deciding {
    /// Start deciding `ids` (approve or reject, with `opinion`) in the background; the
    /// approval of a release among `releases` is bound to the hash shown.
    pub(super) fn start(
        link: &StoreLink,
        approve: bool,
        ids: Vec<i64>,
        opinion: String,
        releases: Releases,
    ) -> Deciding {
        let n = ids.len();
        let first = label(approve, ids.first().copied().unwrap_or_default(), 1, n);
        let work = ids.clone();
        let hashes: HashMap<i64, String> = releases
            .iter()
            .map(|(id, b)| (*id, b.hash.clone()))
            .collect();
        let made: Made = Arc::default();
        let (in_work, on_cancel, all) = (made.clone(), made, ids.clone());
        let pending = link.spawn_cancellable(
            first,
            move || cancelled(&on_cancel, &all),
            move |gov, progress| async move {
                for (i, id) in work.into_iter().enumerate() {
                    progress.say(label(approve, id, i + 1, n));
                    let result = if approve {
                        let hash = hashes.get(&id).map(String::as_str);
                        gov.approve_checked(id, &opinion, hash).await
                    } else {
                        gov.reject(id, &opinion).await
                    };
                    in_work
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((id, result));
                }
                take(&in_work)
            },
        );
        Deciding {
            approve,
            ids,
            releases,
            pending,
        }
    }

    /// Whether request `id` is among those being decided.
    pub(super) fn has(&self, id: i64) -> bool {
        self.ids.contains(&id)
    }

    /// The requests being decided.
    pub(super) fn ids(&self) -> &[i64] {
        &self.ids
    }

    /// What runs, for "wait for it" messages: `approving #3`, `approving 3 requests`.
    pub(super) fn what(&self) -> String {
        let verb = if self.approve {
            "approving"
        } else {
            "rejecting"
        };
        match self.ids.as_slice() {
            [id] => format!("{verb} #{id}"),
            ids => format!("{verb} {} requests", ids.len()),
        }
    }

    /// The message for the status bar once the decisions are done (None while they run).
    pub(super) fn poll(&mut self) -> Option<Action> {
        match self.pending.poll() {
            Some(results) => {
                let (level, msg) = message(self.approve, &results, &self.releases);
                // even a refusal means the store moved on: fresh counters either way
                Some(Action::StoreWritten(level, msg))
            }
            None if !self.pending.running() => Some(Action::StoreWritten(
                Level::Error,
                format!(
                    "{} stopped without an answer (a bug in weir; please report it); R reads the inbox again",
                    self.what()
                ),
            )),
            None => None,
        }
    }
}

/// `approved #3: created topic clicks with 3 partition(s) on kafka_main (test)`, or for
/// several `approved #4 #5: #4 granted …; #5 granted …`, then every failure. An approved
/// release says the hash it was bound to and that it may go live.
fn message(approve: bool, results: &Results, releases: &Releases) -> (Level, String) {
    let verb = if approve { "approved" } else { "rejected" };
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for (id, result) in results {
        match result {
            Ok(d) => {
                let effect = describe_effect(&d.effect).or_else(|| {
                    let b = releases.get(id).filter(|_| approve)?;
                    Some(format!(
                        "{} (hash {}) may go live: g in :releases",
                        b.what,
                        b.hash.get(..12).unwrap_or(&b.hash)
                    ))
                });
                done.push((*id, effect))
            }
            Err(e) => failed.push(error_text(e)),
        }
    }
    let mut msg = String::new();
    if !done.is_empty() {
        let ids: Vec<String> = done.iter().map(|(id, _)| format!("#{id}")).collect();
        msg = format!("{verb} {}", ids.join(" "));
        let several = done.len() > 1;
        let effects: Vec<String> = done
            .iter()
            .filter_map(|(id, effect)| {
                let e = effect.as_ref()?;
                Some(if several {
                    format!("#{id} {e}")
                } else {
                    e.clone()
                })
            })
            .collect();
        if !effects.is_empty() {
            msg.push_str(": ");
            msg.push_str(&effects.join("; "));
        }
    }
    if !failed.is_empty() {
        if !msg.is_empty() {
            msg.push_str("; ");
        }
        msg.push_str(&failed.join("; "));
    }
    let level = match (done.is_empty(), failed.is_empty()) {
        (false, true) => Level::Ok,
        (true, false) => Level::Error,
        _ => Level::Warning,
    };
    (level, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_count_a_bulk_approval() {
        assert_eq!(label(true, 3, 1, 1), "approving #3…");
        assert_eq!(label(true, 4, 2, 3), "approving #4 · 2 of 3…");
        assert_eq!(label(false, 5, 1, 1), "rejecting #5…");
    }

    #[test]
    fn a_cancelled_run_reports_what_was_decided_and_what_was_not() {
        let made: Made = Arc::default();
        made.lock()
            .unwrap()
            .push((4, Err(AppError::User("request #4 is your own".into()))));
        let out = cancelled(&made, &[4, 5, 6]);
        let ids: Vec<i64> = out.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [4, 5, 6]);
        let (_, msg) = message(true, &out, &Releases::new());
        assert!(msg.contains("#5 was running when you cancelled"), "{msg}");
        assert!(msg.contains("#6 not decided: cancelled (C-c)"), "{msg}");
    }

    #[test]
    fn failures_say_whose_fault_they_are() {
        let results: Results = vec![
            (
                4,
                Err(AppError::External(
                    "kafka_main at 127.0.0.1:1 did not answer".into(),
                )),
            ),
            (5, Err(AppError::User("request #5 is your own".into()))),
        ];
        let (level, msg) = message(true, &results, &Releases::new());
        assert_eq!(level, Level::Error);
        assert_eq!(
            msg,
            "kafka_main at 127.0.0.1:1 did not answer; retry when it is back; request #5 is your own"
        );
    }
}
