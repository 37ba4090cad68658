//! Blocking entry points for the application layer (which has no tokio of its own): run a
//! job until it ends or Ctrl-C, run it on test data with capture sinks, run the broker.

use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use weir_model::model::Job;

use crate::broker::Broker;
use crate::error::{EngineError, Result};
use crate::metrics::Snapshot;
use crate::pipeline::{Pipeline, RunOptions};
use crate::resolve::Resolver;
use crate::sink::capture::CapturedRow;
use crate::testing::SinkRows;

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| EngineError::Io {
            path: "starting the engine's tokio runtime".into(),
            source,
        })
}

/// Runs `job` until its sources end (bounded) or Ctrl-C; `on_stats` gets a snapshot
/// every `stats_every`. Returns the final counters.
pub fn run_job(
    job: &Job,
    resolver: &Resolver,
    opts: RunOptions,
    stats_every: Duration,
    mut on_stats: impl FnMut(&Snapshot),
) -> Result<Snapshot> {
    runtime()?.block_on(async move {
        let started = Instant::now();
        let pipeline = Pipeline::start(job, resolver, opts).await?;
        let metrics = pipeline.metrics().clone();
        let stop = pipeline.stopper();
        let stop2 = stop.clone();
        let checkpoints = pipeline.checkpoints();
        tokio::spawn(async move {
            interrupted().await;
            // with checkpoints, a last one first: the sources end after its barrier and
            // the transactional sinks commit what they hold
            if let Some(c) = checkpoints {
                let last = c.trigger(crate::checkpoint::Kind::Checkpoint, true);
                match tokio::time::timeout(Duration::from_secs(60), last).await {
                    Ok(Ok(done)) => tracing::info!("stopped with checkpoint {}", done.dir),
                    Ok(Err(e)) => tracing::warn!("no last checkpoint: {e}"),
                    Err(_) => tracing::warn!("the last checkpoint did not complete in 60 s"),
                }
            }
            stop2.store(true, Relaxed);
        });
        let mut wait = Box::pin(pipeline.wait());
        let mut tick = tokio::time::interval(stats_every);
        tick.tick().await;
        let mut last: Option<Snapshot> = None;
        let result = loop {
            tokio::select! {
                r = &mut wait => break r,
                _ = tick.tick() => {
                    let s = metrics.snapshot(started, last.as_ref());
                    on_stats(&s);
                    last = Some(s);
                }
            }
        };
        result?;
        Ok(metrics.snapshot(started, None))
    })
}

/// Ctrl-C or SIGTERM.
async fn interrupted() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Runs `job` with capture sinks (`opts.test_data` should be set); every row goes to
/// `on_row` as it arrives. Returns the rows per sink and the final counters.
pub fn test_job(
    job: &Job,
    mut opts: RunOptions,
    mut on_row: impl FnMut(&CapturedRow),
) -> Result<(SinkRows, Snapshot)> {
    runtime()?.block_on(async move {
        let started = Instant::now();
        let (tx, mut rx) = mpsc::unbounded_channel();
        opts.capture = Some(tx);
        let pipeline = Pipeline::start(job, &Resolver::default(), opts).await?;
        let metrics = pipeline.metrics().clone();
        let stop = pipeline.stopper();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Relaxed);
            }
        });
        let wait = tokio::spawn(pipeline.wait());
        let mut rows = SinkRows::new();
        while let Some(r) = rx.recv().await {
            on_row(&r);
            rows.entry(r.sink.clone()).or_default().push(r.row);
        }
        wait.await
            .map_err(|e| EngineError::Internal(format!("the pipeline task failed: {e}")))??;
        for n in &job.nodes {
            if n.role() == weir_model::model::Role::Sink {
                rows.entry(n.id().to_string()).or_default();
            }
        }
        Ok((rows, metrics.snapshot(started, None)))
    })
}

/// Runs an embedded broker until Ctrl-C: creates `topics` (name, partitions), serves the
/// control endpoint for `project`, then calls `on_ready(bootstrap, control)`.
pub fn run_broker(
    port: Option<u16>,
    topics: &[(String, i32)],
    project: &Path,
    on_ready: impl FnOnce(&str, &str),
) -> Result<()> {
    let mut broker = Broker::start_on(port)?;
    for (t, p) in topics {
        broker.create_topic(t, *p)?;
    }
    let control = broker.serve_control(project)?;
    on_ready(&broker.bootstrap_servers(), &control);
    runtime()?.block_on(async {
        tokio::signal::ctrl_c()
            .await
            .map_err(|source| EngineError::Io {
                path: "waiting for Ctrl-C".into(),
                source,
            })
    })?;
    drop(broker);
    Ok(())
}
