//! `weir nexmark gen`: Nexmark events to files or to the project's `weir broker`, for
//! benchmarks that read them (ours, or a Flink peer reading the same files).

use std::path::Path;

use serde::Serialize;
use weir_app::AppError;
use weir_engine::nexmark::{Config, FileFormat, Generator};

pub use weir_engine::nexmark::Written;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct GenRequest {
    /// Same seed, same events.
    pub seed: u64,
    /// Events per second of event time.
    pub event_rate: u64,
    /// Out-of-orderness bound, milliseconds.
    pub ooo_ms: u64,
    /// How many events (all kinds).
    pub events: u64,
}

impl GenRequest {
    fn generator(&self) -> Generator {
        Generator::new(Config {
            seed: self.seed,
            event_rate: self.event_rate,
            ooo_ms: self.ooo_ms,
            ..Default::default()
        })
    }
}

/// Bids written to a topic of the project's broker.
#[derive(Debug, Clone, Serialize)]
pub struct Produced {
    pub bootstrap: String,
    pub topic: String,
    pub partitions: i32,
    pub bids: u64,
}

/// Write the events as files (`person`, `auction`, `bid`) under `dir`.
pub fn to_files(
    req: &GenRequest,
    dir: &Path,
    csv: bool,
    progress: impl FnMut(u64),
) -> Result<Written, AppError> {
    let format = if csv {
        FileFormat::Csv
    } else {
        FileFormat::Json
    };
    Ok(weir_engine::nexmark::write_files(
        &req.generator(),
        req.events,
        dir,
        format,
        progress,
    )?)
}

/// Produce the bids to `topic` on the `weir broker` of `project` (created with
/// `partitions`, or enough to stay under the mock broker's per-partition limit; a topic
/// that exists already is used as it is).
pub fn to_broker(
    req: &GenRequest,
    project: &Path,
    topic: &str,
    partitions: Option<i32>,
    progress: impl FnMut(u64),
) -> Result<Produced, AppError> {
    let (bootstrap, _) = weir_engine::broker::running(project)?;
    let bids = crate::bids_in(req.events);
    let partitions =
        partitions.unwrap_or(bids.div_ceil(crate::BROKER_RECORDS_PER_PARTITION).max(1) as i32);
    if let Err(e) = weir_engine::broker::create_topic_remote(project, topic, partitions)
        && !e.to_string().contains("exists")
    {
        return Err(AppError::External(format!("creating topic {topic}: {e}")));
    }
    let n = weir_engine::nexmark::produce_bids(
        &req.generator(),
        req.events,
        &bootstrap,
        topic,
        partitions,
        progress,
    )?;
    Ok(Produced {
        bootstrap,
        topic: topic.to_string(),
        partitions,
        bids: n,
    })
}
