//! The workbench's link to the metadata store (it lives in the app so that the TUI needs
//! no store of its own). The TUI is synchronous and the store is async: the link owns a
//! small tokio runtime, runs short store calls to completion
//! (`call`, a local SQLite or a team PostgreSQL answers in milliseconds) and everything
//! that may wait on the network (an approval that creates a topic on Kafka, a
//! connectivity test, reading a database's tables) in the background (`spawn`, polled by
//! the screen that asked, so the UI never freezes). Background work carries a label
//! ("approving #3…") that the status bar shows with a spinner while it runs
//! ([`StoreLink::running`]). It also keeps the acting user's roles and the status
//! bar's counters (my inbox, my requests in progress) and refreshes them when anyone
//! writes to the store: LISTEN/NOTIFY on PostgreSQL, polling on SQLite
//! ([`Governance::changes`]). On each such refresh it also words what happened to the
//! acting person since the last one (a request of theirs decided, an alert firing:
//! [`crate::notices`]), which the workbench shows on every screen ([`StoreLink::take_notices`]).
//! Work started with [`StoreLink::spawn_cancellable`] can be cancelled
//! ([`StoreLink::cancel`]): its future is dropped and the screen receives the value the
//! caller gave for that case.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::AppError;
use crate::governance::{GlobalRole, Governance, RequestFilter, Roles};
use crate::notices::{Notice, Tracker};

/// How often the embedded (SQLite) store is polled for changes made by others.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// The status bar's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests waiting for my decision.
    pub inbox: usize,
    /// My own requests still pending.
    pub mine: usize,
    /// Alerts firing now (written by the workers; the change feed reports them).
    pub alerts: i64,
}

/// Work running in the background; the screen that started it polls for the result.
pub struct Pending<T> {
    rx: mpsc::Receiver<T>,
    done: bool,
}

impl<T> Pending<T> {
    /// The result, once (None while it runs and after it was taken).
    pub fn poll(&mut self) -> Option<T> {
        if self.done {
            return None;
        }
        match self.rx.try_recv() {
            Ok(v) => {
                self.done = true;
                Some(v)
            }
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => {
                self.done = true;
                None
            }
        }
    }

    /// Still running.
    pub fn running(&self) -> bool {
        !self.done
    }
}

/// A piece of work on the board: its id, its label, and how to cancel it (for work
/// started with `spawn_cancellable`).
struct Entry {
    id: u64,
    label: String,
    cancel: Option<Arc<tokio::sync::Notify>>,
}

/// The labels of the work running in the background, oldest first.
#[derive(Clone, Default)]
struct Board {
    next: Arc<AtomicU64>,
    entries: Arc<Mutex<Vec<Entry>>>,
}

impl Board {
    fn with<R>(&self, f: impl FnOnce(&mut Vec<Entry>) -> R) -> R {
        // a panic elsewhere leaves the list as it was: keep using it
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut entries)
    }

    fn add(&self, label: String, cancel: Option<Arc<tokio::sync::Notify>>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.with(|e| e.push(Entry { id, label, cancel }));
        id
    }
}

/// Takes a piece of work off the board when it ends (also when it panics).
struct OnBoard {
    board: Board,
    id: u64,
}

impl Drop for OnBoard {
    fn drop(&mut self) {
        let id = self.id;
        self.board.with(|e| e.retain(|entry| entry.id != id));
    }
}

/// What a piece of background work says while it runs: its label on the status bar,
/// which it may change to report progress ("approving #4 · 2 of 5…").
pub struct Progress {
    board: Board,
    id: u64,
}

impl Progress {
    /// Replace the work's label.
    pub fn say(&self, label: impl Into<String>) {
        let (id, label) = (self.id, label.into());
        self.board.with(|e| {
            if let Some(entry) = e.iter_mut().find(|entry| entry.id == id) {
                entry.label = label;
            }
        });
    }
}

pub struct StoreLink {
    rt: tokio::runtime::Runtime,
    /// The store's URL (a worker started for this store is pointed at it).
    url: String,
    gov: Arc<Governance>,
    /// Background work still running, for the status bar.
    board: Board,
    roles: Roles,
    counters: Counters,
    /// "listen/notify" or "polling 500ms".
    how: String,
    changes: watch::Receiver<i64>,
    /// The change counter the roles and counters were last read at.
    seen: i64,
    /// The last failure to refresh; the app shows it once in the status bar.
    pub problem: Option<String>,
    /// What the last refresh saw of my requests and the alerts, for notices.
    tracker: Tracker,
    /// Notices not taken by the workbench yet.
    notices: Vec<Notice>,
}

impl StoreLink {
    /// Open the store at `url` as `login` (the session user on PostgreSQL).
    pub fn open(url: &str, login: &str) -> Result<StoreLink, AppError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("weir-store")
            .enable_all()
            .build()
            .map_err(|e| AppError::io("cannot start the async runtime", e))?;
        let gov = Arc::new(rt.block_on(Governance::open(url, login))?);
        let (tx, changes) = watch::channel(0i64);
        let feed = rt.block_on(gov.changes(POLL_EVERY));
        let feeder = gov.clone();
        let how = match &feed {
            Ok(f) => f.how(),
            Err(e) => format!("no change notifications: {e}"),
        };
        rt.spawn(async move {
            let mut feed = feed.ok();
            loop {
                let next = match feed.as_mut() {
                    Some(f) => f.next().await.map_err(AppError::from),
                    None => match feeder.changes(POLL_EVERY).await {
                        Ok(f) => {
                            feed = Some(f);
                            continue;
                        }
                        Err(e) => Err(e),
                    },
                };
                match next {
                    Ok(id) => {
                        if tx.send(id).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!("store change feed: {e}; retrying");
                        feed = None;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        let mut link = StoreLink {
            rt,
            url: url.to_string(),
            gov,
            board: Board::default(),
            roles: Roles {
                login: login.to_string(),
                registered: false,
                global: Vec::new(),
                projects: Vec::new(),
            },
            counters: Counters::default(),
            how,
            changes,
            seen: -1,
            problem: None,
            tracker: Tracker::default(),
            notices: Vec::new(),
        };
        link.refresh();
        Ok(link)
    }

    /// Open the store the command line names (`--store`, `WEIR_STORE`,
    /// `WEIR_DATABASE_URL`, else the project's `.weir/weir.db`) as the OS login or
    /// `WEIR_USER`.
    pub fn open_default(
        store_flag: Option<&std::path::Path>,
        project_root: &std::path::Path,
    ) -> Result<StoreLink, AppError> {
        let url = crate::governance::store_url(store_flag, project_root)?;
        StoreLink::open(&url, &crate::governance::os_login())
    }

    /// Run a short store call to completion.
    pub fn call<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The URL of the store the link is open on (`sqlite://…`, `postgres://…`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The use cases, for `call` and `spawn`.
    pub fn gov(&self) -> &Governance {
        &self.gov
    }

    /// Start work that may wait on the network in the background, under `label` (what the
    /// status bar shows while it runs, e.g. "approving #3…"); poll the returned handle
    /// from `Screen::tick`. The label is gone before the result can be polled.
    pub fn spawn<T, Fut>(
        &self,
        label: impl Into<String>,
        work: impl FnOnce(Arc<Governance>, Progress) -> Fut,
    ) -> Pending<T>
    where
        T: Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        self.launch(label.into(), None, work)
    }

    /// Like [`StoreLink::spawn`], for work that may be cancelled at any point without
    /// harm (a read: a connectivity test, listing a database's tables): on
    /// [`StoreLink::cancel`] the work's future is dropped, which stops it where it
    /// waits, and the handle yields `on_cancel()` instead of its result.
    pub fn spawn_cancellable<T, Fut>(
        &self,
        label: impl Into<String>,
        on_cancel: impl FnOnce() -> T + Send + 'static,
        work: impl FnOnce(Arc<Governance>, Progress) -> Fut,
    ) -> Pending<T>
    where
        T: Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let stop = Arc::new(tokio::sync::Notify::new());
        self.launch(label.into(), Some((stop, Box::new(on_cancel))), work)
    }

    /// `work` on the link's runtime under `label` on the board, cancellable when `cancel`
    /// gives the signal and what to yield then.
    #[allow(clippy::type_complexity)]
    fn launch<T, Fut>(
        &self,
        label: String,
        cancel: Option<(Arc<tokio::sync::Notify>, Box<dyn FnOnce() -> T + Send>)>,
        work: impl FnOnce(Arc<Governance>, Progress) -> Fut,
    ) -> Pending<T>
    where
        T: Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let id = self
            .board
            .add(label, cancel.as_ref().map(|(stop, _)| stop.clone()));
        let on_board = OnBoard {
            board: self.board.clone(),
            id,
        };
        let progress = Progress {
            board: self.board.clone(),
            id,
        };
        let fut = work(self.gov.clone(), progress);
        self.rt.spawn(async move {
            let out = match cancel {
                None => fut.await,
                Some((stop, on_cancel)) => tokio::select! {
                    out = fut => out,
                    () = stop.notified() => on_cancel(),
                },
            };
            drop(on_board);
            let _ = tx.send(out);
        });
        Pending { rx, done: false }
    }

    /// Cancel the newest cancellable work still running; its label, if there was one.
    pub fn cancel(&self) -> Option<String> {
        self.board.with(|e| {
            let entry = e.iter_mut().rev().find(|entry| entry.cancel.is_some())?;
            let stop = entry.cancel.take()?;
            // a permit is kept if the task is not waiting yet: it stops at its next look
            stop.notify_one();
            let label = entry.label.clone();
            entry.label = format!("cancelling {}", label.trim_end_matches('…'));
            Some(label)
        })
    }

    /// Whether some running work can be cancelled (the status bar says how).
    pub fn cancellable(&self) -> bool {
        self.board
            .with(|e| e.iter().any(|entry| entry.cancel.is_some()))
    }

    /// The labels of the work running in the background, oldest first.
    pub fn running(&self) -> Vec<String> {
        self.board
            .with(|e| e.iter().map(|entry| entry.label.clone()).collect())
    }

    /// Notices found since the last call (a request of mine decided, an alert fired),
    /// oldest first.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// The acting user's login.
    pub fn login(&self) -> &str {
        self.gov.actor()
    }

    pub fn roles(&self) -> &Roles {
        &self.roles
    }

    pub fn has(&self, role: GlobalRole) -> bool {
        self.roles.has(role)
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// How changes by others are noticed.
    pub fn how(&self) -> &str {
        &self.how
    }

    /// The user with their first role, for the status bar: `zoe (data admin)`.
    pub fn who(&self) -> String {
        let r = &self.roles;
        let first = r
            .global
            .first()
            .map(|g| g.words().to_string())
            .or_else(|| {
                r.projects
                    .first()
                    .map(|(p, role)| format!("{} of {p}", role.words()))
            })
            .unwrap_or_else(|| "no role".into());
        format!("{} ({first})", self.login())
    }

    /// Re-read roles and counters now (after an action of our own), and look for
    /// notices.
    pub fn refresh(&mut self) {
        let gov = self.gov.clone();
        let read = self.rt.block_on(async move {
            let roles = gov.whoami().await?;
            let inbox = gov.inbox().await?.len();
            let mine = gov.my_requests(RequestFilter::InProgress).await?;
            let alerts = gov.firing_alert_count().await?;
            let at = gov.last_change().await?;
            let seen = Tracker::read(&gov, &mine, &roles, at).await;
            Ok::<_, AppError>((
                roles,
                Counters {
                    inbox,
                    mine: mine.len(),
                    alerts,
                },
                at,
                seen,
            ))
        });
        match read {
            Ok((roles, counters, at, seen)) => {
                self.roles = roles;
                self.counters = counters;
                self.seen = at;
                self.problem = None;
                let gov = self.gov.clone();
                let tracker = &mut self.tracker;
                let found = self.rt.block_on(tracker.compare(&gov, seen));
                self.notices.extend(found);
            }
            Err(e) => self.problem = Some(format!("cannot read the store: {e}")),
        }
    }

    /// Called on every turn of the event loop: true when someone wrote to the store since
    /// the last look (roles and counters are then fresh).
    pub fn tick(&mut self) -> bool {
        let latest = *self.changes.borrow_and_update();
        if latest > self.seen {
            self.refresh();
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// The result of background work, polled as a screen would (at most 10 s).
    fn result_of<T>(pending: &mut Pending<T>) -> T {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(v) = pending.poll() {
                return v;
            }
            assert!(Instant::now() < end, "the work did not end");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn background_work_is_listed_with_its_progress_until_it_ends() {
        let path = std::env::temp_dir().join(format!("weir-link-{}.db", std::process::id()));
        let link = StoreLink::open(&format!("sqlite://{}", path.display()), "tester").unwrap();
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let (said, heard) = std::sync::mpsc::channel();
        let mut pending = link.spawn("approving #3…", move |gov, progress| async move {
            progress.say("approving #3 · 1 of 2…");
            let _ = said.send(());
            let _ = wait.await;
            gov.actor().to_string()
        });
        heard.recv().unwrap();
        assert_eq!(link.running(), ["approving #3 · 1 of 2…"]);
        assert!(pending.running());
        assert_eq!(pending.poll(), None);
        go.send(()).unwrap();
        let got = result_of(&mut pending);
        assert_eq!(got, "tester");
        // the label is gone before the result can be polled
        assert!(link.running().is_empty());
        assert!(!pending.running());
        drop(link);
        for s in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{s}", path.display()));
        }
    }

    #[test]
    fn cancelled_work_stops_and_yields_the_value_for_a_cancel() {
        let path = std::env::temp_dir().join(format!("weir-link-cancel-{}.db", std::process::id()));
        let link = StoreLink::open(&format!("sqlite://{}", path.display()), "tester").unwrap();
        assert!(!link.cancellable());
        assert_eq!(link.cancel(), None);
        let mut pending = link.spawn_cancellable(
            "testing slow (test)…",
            || "cancelled".to_string(),
            |_, _| async move {
                tokio::time::sleep(Duration::from_secs(600)).await;
                "answered".to_string()
            },
        );
        assert!(link.cancellable());
        assert_eq!(link.cancel().as_deref(), Some("testing slow (test)…"));
        let got = result_of(&mut pending);
        assert_eq!(got, "cancelled");
        assert!(link.running().is_empty());
        assert!(!link.cancellable());
        drop(link);
        for s in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{s}", path.display()));
        }
    }
}
