//! The workbench's link to the metadata store. The TUI is synchronous and the store is
//! async: the link owns a small tokio runtime, runs short store calls to completion
//! (`call`, a local SQLite or a team PostgreSQL answers in milliseconds) and slow work
//! such as a connectivity test in the background (`spawn`, polled by the screen that
//! asked, so the UI never freezes). It also keeps the acting user's roles and the status
//! bar's counters (my inbox, my requests in progress) and refreshes them when anyone
//! writes to the store: LISTEN/NOTIFY on PostgreSQL, polling on SQLite
//! (`weir_store::Changes`).

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::watch;
use weir_store::{GlobalRole, RequestFilter, Roles};

use crate::app::AppError;
use crate::app::governance::Governance;

/// How often the embedded (SQLite) store is polled for changes made by others.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// The status bar's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests waiting for my decision.
    pub inbox: usize,
    /// My own requests still pending.
    pub mine: usize,
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

pub struct StoreLink {
    rt: tokio::runtime::Runtime,
    gov: Arc<Governance>,
    roles: Roles,
    counters: Counters,
    /// "listen/notify" or "polling 500ms".
    how: String,
    changes: watch::Receiver<i64>,
    /// The change counter the roles and counters were last read at.
    seen: i64,
    /// The last failure to refresh; the app shows it once in the status bar.
    pub problem: Option<String>,
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
        let gov = rt.block_on(Governance::open(url, login))?;
        let store = gov.store.clone();
        let (tx, changes) = watch::channel(0i64);
        let feed = rt.block_on(store.changes(POLL_EVERY));
        let how = match &feed {
            Ok(f) => f.how(),
            Err(e) => format!("no change notifications: {e}"),
        };
        rt.spawn(async move {
            let mut feed = feed.ok();
            loop {
                let next = match feed.as_mut() {
                    Some(f) => f.next().await,
                    None => match store.changes(POLL_EVERY).await {
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
            gov: Arc::new(gov),
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
        let url = crate::app::governance::store_url(store_flag, project_root)?;
        StoreLink::open(&url, &crate::app::governance::os_login())
    }

    /// Run a short store call to completion.
    pub fn call<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The store and session, for `call` and `spawn`.
    pub fn gov(&self) -> &Governance {
        &self.gov
    }

    /// Start slow work in the background; poll the returned handle from `tick`.
    pub fn spawn<T, Fut>(&self, work: impl FnOnce(Arc<Governance>) -> Fut) -> Pending<T>
    where
        T: Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let fut = work(self.gov.clone());
        self.rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        Pending { rx, done: false }
    }

    /// The acting user's login.
    pub fn login(&self) -> &str {
        self.gov.session.actor()
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

    /// Re-read roles and counters now (after an action of our own).
    pub fn refresh(&mut self) {
        let gov = self.gov.clone();
        let read = self.rt.block_on(async move {
            let roles = gov.session.whoami().await?;
            let inbox = gov.session.inbox().await?.len();
            let mine = gov
                .session
                .my_requests(RequestFilter::InProgress)
                .await?
                .len();
            let at = gov.session.last_change().await?;
            Ok::<_, weir_store::StoreError>((roles, Counters { inbox, mine }, at))
        });
        match read {
            Ok((roles, counters, at)) => {
                self.roles = roles;
                self.counters = counters;
                self.seen = at;
                self.problem = None;
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
