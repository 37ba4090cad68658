//! The coordinator of one run's checkpoints: triggers them (every interval, or asked
//! for), collects the tasks' acknowledgements, writes complete checkpoints, aborts the
//! ones that time out or cannot complete, takes the final one of a drained run, and
//! tells the sinks (`Done`). One checkpoint is in flight at a time.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use super::storage::{self, Kind, Manifest, Restored, TaskState};
use super::{CheckpointOptions, CheckpointStats, Completed, Done};
use crate::error::{EngineError, Result};

enum Event {
    Ack {
        id: u64,
        task: String,
        state: TaskState,
        alignment_ms: u64,
    },
    Decline {
        id: u64,
        task: String,
        reason: String,
    },
    Finished {
        task: String,
        state: Option<TaskState>,
    },
    Trigger {
        kind: Kind,
        stop: bool,
        reply: oneshot::Sender<Result<Completed>>,
    },
    /// The run failed: every task counts as ended without state.
    Abandon,
}

/// The checkpoints of one run.
pub struct Coordinator {
    pending: AtomicU64,
    stop_after: AtomicU64,
    next: AtomicU64,
    tx: mpsc::UnboundedSender<Event>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Event>>>,
    done_tx: watch::Sender<Done>,
    stats: Mutex<CheckpointStats>,
    registered: Mutex<BTreeSet<String>>,
    opts: CheckpointOptions,
    lineage: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Coordinator {
    /// A coordinator for one run; ids continue after the restored checkpoint's.
    pub fn new(opts: CheckpointOptions) -> Result<Arc<Coordinator>> {
        let (first, lineage) = match &opts.restore {
            Some(r) => {
                if r.manifest.job != opts.job {
                    return Err(EngineError::Config(format!(
                        "{} in {} was taken of job `{}`, not of `{}`: start from a checkpoint or savepoint of this job",
                        r.dir,
                        opts.location.shown(),
                        r.manifest.job,
                        opts.job
                    )));
                }
                let lineage = if opts.fork {
                    crate::deadletter::new_run_id()
                } else {
                    r.manifest.lineage.clone()
                };
                (r.manifest.id + 1, lineage)
            }
            None => (1, crate::deadletter::new_run_id()),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let (done_tx, _) = watch::channel(Done::default());
        Ok(Arc::new(Coordinator {
            pending: AtomicU64::new(0),
            stop_after: AtomicU64::new(0),
            next: AtomicU64::new(first),
            tx,
            rx: Mutex::new(Some(rx)),
            done_tx,
            stats: Mutex::new(CheckpointStats::default()),
            registered: Mutex::new(BTreeSet::new()),
            opts,
            lineage,
        }))
    }

    /// The line of checkpoints this run continues (transactional sinks' commit markers).
    pub fn lineage(&self) -> &str {
        &self.lineage
    }

    /// The checkpoint this run started from.
    pub fn restored(&self) -> Option<&Arc<Restored>> {
        self.opts.restore.as_ref()
    }

    /// The state task `task` had in the restored checkpoint.
    pub fn restored_state(&self, task: &str) -> Option<&TaskState> {
        self.opts.restore.as_ref().and_then(|r| r.tasks.get(task))
    }

    /// Registers a task that acknowledges every checkpoint; before [`Coordinator::start`].
    pub fn register(&self, task: &str) {
        lock(&self.registered).insert(task.to_string());
    }

    /// The barrier sources should send next (0: none asked for yet).
    pub fn pending(&self) -> u64 {
        self.pending.load(Relaxed)
    }

    /// Whether a source should stop after sending barrier `id` (stop with a savepoint).
    pub fn stop_after(&self, id: u64) -> bool {
        id != 0 && self.stop_after.load(Relaxed) == id
    }

    /// Task `task` snapshotted its state for checkpoint `id`.
    pub fn ack(&self, id: u64, task: &str, state: TaskState, alignment_ms: u64) {
        let _ = self.tx.send(Event::Ack {
            id,
            task: task.to_string(),
            state,
            alignment_ms,
        });
    }

    /// Task `task` could not snapshot checkpoint `id`: it is aborted.
    pub fn decline(&self, id: u64, task: &str, reason: impl Into<String>) {
        let _ = self.tx.send(Event::Decline {
            id,
            task: task.to_string(),
            reason: reason.into(),
        });
    }

    /// Task `task` ended: with its final state when drained, None when stopped or failed.
    pub fn finished(&self, task: &str, state: Option<TaskState>) {
        let _ = self.tx.send(Event::Finished {
            task: task.to_string(),
            state,
        });
    }

    /// The run failed: no checkpoint can complete any more; whoever waits is released.
    pub fn abandon(&self) {
        let _ = self.tx.send(Event::Abandon);
    }

    /// Takes a checkpoint or savepoint now (after the one in flight); with `stop`, the
    /// sources end after its barrier. Resolves when it is complete, or with why not.
    pub async fn trigger(&self, kind: Kind, stop: bool) -> Result<Completed> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Event::Trigger { kind, stop, reply })
            .map_err(|_| EngineError::Config("the run has ended: nothing to checkpoint".into()))?;
        rx.await.map_err(|_| {
            EngineError::Config("the run ended before the checkpoint completed".into())
        })?
    }

    /// What the sinks watch: completed and settled checkpoints, and the final one.
    pub fn subscribe(&self) -> watch::Receiver<Done> {
        self.done_tx.subscribe()
    }

    /// How long a checkpoint may take before it is aborted.
    pub fn timeout(&self) -> Duration {
        self.opts.timeout
    }

    /// The figures so far.
    pub fn stats(&self) -> CheckpointStats {
        lock(&self.stats).clone()
    }

    /// Starts the coordinating task; call once, after every task registered.
    pub fn start(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let rx = lock(&self.rx).take()?;
        let me = self.clone();
        Some(tokio::spawn(async move { me.run(rx).await }))
    }

    async fn run(self: Arc<Self>, mut rx: mpsc::UnboundedReceiver<Event>) {
        let tasks: BTreeSet<String> = lock(&self.registered).clone();
        let mut run = Run {
            tasks: tasks.iter().map(|t| (t.clone(), None)).collect(),
            in_flight: None,
            queue: VecDeque::new(),
            final_done: false,
        };
        let periodic = !self.opts.interval.is_zero();
        let mut tick = tokio::time::interval(if periodic {
            self.opts.interval
        } else {
            Duration::from_secs(3600)
        });
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            let deadline = run.in_flight.as_ref().map(|f| f.deadline);
            tokio::select! {
                ev = rx.recv() => {
                    let Some(ev) = ev else { break };
                    self.handle(&mut run, ev);
                }
                _ = tick.tick(), if periodic => {
                    if run.in_flight.is_none() && !run.all_ended() {
                        self.begin(&mut run, Kind::Checkpoint, false, None);
                    }
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    let secs = self.opts.timeout.as_secs_f64();
                    self.abort(&mut run, format!("it did not complete within its timeout ({secs:.0} s)"));
                }
            }
            self.progress(&mut run).await;
        }
    }

    fn handle(&self, run: &mut Run, ev: Event) {
        match ev {
            Event::Ack {
                id,
                task,
                state,
                alignment_ms,
            } => {
                if let Some(f) = run.in_flight.as_mut().filter(|f| f.id == id) {
                    f.alignment_ms = f.alignment_ms.max(alignment_ms);
                    f.acks.insert(task, state);
                }
            }
            Event::Decline { id, task, reason } => {
                if run.in_flight.as_ref().is_some_and(|f| f.id == id) {
                    self.abort(
                        run,
                        format!("{task} could not snapshot its state: {reason}"),
                    );
                }
            }
            Event::Finished { task, state } => {
                run.tasks.insert(task, Some(state));
            }
            Event::Abandon => {
                for t in run.tasks.values_mut() {
                    if t.is_none() {
                        *t = Some(None);
                    }
                }
            }
            Event::Trigger { kind, stop, reply } => {
                if run.all_ended() {
                    let _ = reply.send(Err(EngineError::Config(
                        "the run has ended: nothing to checkpoint".into(),
                    )));
                } else {
                    run.queue.push_back((kind, stop, reply));
                }
            }
        }
    }

    fn begin(
        &self,
        run: &mut Run,
        kind: Kind,
        stop: bool,
        reply: Option<oneshot::Sender<Result<Completed>>>,
    ) {
        let id = self.next.fetch_add(1, Relaxed);
        if stop {
            self.stop_after.store(id, Relaxed);
        }
        run.in_flight = Some(InFlight {
            id,
            kind,
            started: Instant::now(),
            deadline: tokio::time::Instant::now() + self.opts.timeout,
            acks: BTreeMap::new(),
            alignment_ms: 0,
            reply,
        });
        lock(&self.stats).in_progress = Some(id);
        self.pending.store(id, Relaxed);
    }

    fn abort(&self, run: &mut Run, why: String) {
        let Some(f) = run.in_flight.take() else {
            return;
        };
        let what = format!("{} {} was aborted: {why}", kind_word(f.kind), f.id);
        tracing::warn!("{what}");
        {
            let mut s = lock(&self.stats);
            s.failed += 1;
            s.failing += 1;
            s.last_failure = Some(what.clone());
            s.in_progress = None;
        }
        self.done_tx
            .send_modify(|d| d.settled = d.settled.max(f.id));
        if let Some(reply) = f.reply {
            let _ = reply.send(Err(EngineError::Config(what)));
        }
    }

    /// Completes or aborts the checkpoint in flight when its acknowledgements allow,
    /// starts a queued one, and takes the final checkpoint once every task ended.
    async fn progress(&self, run: &mut Run) {
        loop {
            if let Some(f) = &run.in_flight {
                let mut missing_stopped = None;
                let mut complete = true;
                for (task, ended) in &run.tasks {
                    if f.acks.contains_key(task) {
                        continue;
                    }
                    match ended {
                        Some(Some(_)) => {}
                        Some(None) => {
                            missing_stopped = Some(task.clone());
                            complete = false;
                        }
                        None => complete = false,
                    }
                }
                if let Some(task) = missing_stopped {
                    self.abort(run, format!("{task} ended before it reached the barrier"));
                    continue;
                }
                if !complete {
                    return;
                }
                if let Some(f) = run.in_flight.take() {
                    let id = f.id;
                    let ok = self.complete(run, f).await;
                    if ok && run.all_ended() && !run.final_done {
                        run.final_done = true;
                        self.done_tx.send_modify(|d| d.finished = Some(id));
                    }
                }
                continue;
            }
            if let Some((kind, stop, reply)) = run.queue.pop_front() {
                if run.all_ended() {
                    let _ = reply.send(Err(EngineError::Config(
                        "the run has ended: nothing to checkpoint".into(),
                    )));
                    continue;
                }
                self.begin(run, kind, stop, Some(reply));
                continue;
            }
            if run.all_ended() && !run.final_done {
                if run.tasks.values().all(|t| matches!(t, Some(Some(_)))) {
                    // every task drained: one last checkpoint commits what sinks hold
                    self.begin(run, Kind::Checkpoint, false, None);
                    continue;
                }
                run.final_done = true;
                self.done_tx.send_modify(|d| d.finished = Some(0));
            }
            return;
        }
    }

    /// Writes checkpoint `f` from its acknowledgements and the ended tasks' final
    /// states; tells the sinks, keeps the newest `retain`. Returns whether it completed.
    async fn complete(&self, run: &Run, f: InFlight) -> bool {
        let mut states = f.acks;
        for (task, ended) in &run.tasks {
            if let (false, Some(Some(state))) = (states.contains_key(task), ended) {
                states.insert(task.clone(), state.clone());
            }
        }
        let mut manifest = Manifest {
            format: storage::FORMAT.into(),
            version: storage::VERSION,
            id: f.id,
            kind: f.kind,
            lineage: self.lineage.clone(),
            job: self.opts.job.clone(),
            job_hash: self.opts.job_hash.clone(),
            created_ms: crate::source::now_ms(),
            duration_ms: 0,
            alignment_ms: f.alignment_ms,
            size: 0,
            tasks: BTreeMap::new(),
        };
        manifest.duration_ms = f.started.elapsed().as_millis() as u64;
        let location = &self.opts.location;
        let dir = f.kind.dir(f.id);
        match location.write(&mut manifest, &states).await {
            Ok(size) => {
                let duration_ms = f.started.elapsed().as_millis() as u64;
                {
                    let mut s = lock(&self.stats);
                    s.last_id = Some(f.id);
                    s.last_dir = Some(dir.clone());
                    s.last_completed_ms = Some(crate::source::now_ms());
                    s.last_duration_ms = duration_ms;
                    s.last_size = size;
                    s.last_alignment_ms = f.alignment_ms;
                    s.completed += 1;
                    s.failing = 0;
                    s.in_progress = None;
                }
                self.done_tx.send_modify(|d| {
                    d.completed = d.completed.max(f.id);
                    d.settled = d.settled.max(f.id);
                });
                if let Some(hook) = self.opts.after_complete.clone() {
                    let m = manifest.clone();
                    let _ = tokio::task::spawn_blocking(move || hook(&m)).await;
                }
                if f.kind == Kind::Checkpoint
                    && let Err(e) = location.retain(self.opts.retain).await
                {
                    tracing::warn!("removing old checkpoints: {e}");
                }
                if let Some(reply) = f.reply {
                    let _ = reply.send(Ok(Completed {
                        id: f.id,
                        kind: f.kind,
                        path: format!("{}/{dir}", location.shown()),
                        dir,
                        size,
                        duration_ms,
                    }));
                }
                true
            }
            Err(e) => {
                let what = format!("{} {} failed: {e}", kind_word(f.kind), f.id);
                tracing::warn!("{what}");
                {
                    let mut s = lock(&self.stats);
                    s.failed += 1;
                    s.failing += 1;
                    s.last_failure = Some(what.clone());
                    s.in_progress = None;
                }
                if let Err(e) = location.delete(&dir).await {
                    tracing::warn!("removing the failed {dir}: {e}");
                }
                self.done_tx
                    .send_modify(|d| d.settled = d.settled.max(f.id));
                if let Some(reply) = f.reply {
                    let _ = reply.send(Err(EngineError::Config(what)));
                }
                false
            }
        }
    }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Checkpoint => "checkpoint",
        Kind::Savepoint => "savepoint",
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

struct InFlight {
    id: u64,
    kind: Kind,
    started: Instant,
    deadline: tokio::time::Instant,
    acks: BTreeMap<String, TaskState>,
    alignment_ms: u64,
    reply: Option<oneshot::Sender<Result<Completed>>>,
}

struct Run {
    /// Every task: None while running, Some(final state or None) once ended.
    tasks: BTreeMap<String, Option<Option<TaskState>>>,
    in_flight: Option<InFlight>,
    queue: VecDeque<(Kind, bool, oneshot::Sender<Result<Completed>>)>,
    final_done: bool,
}

impl Run {
    fn all_ended(&self) -> bool {
        self.tasks.values().all(Option::is_some)
    }
}
