//! How quickly an unbounded Kafka source asks the broker again when a fetch finds nothing.
//!
//! A fetch that finds no records waits at the broker for up to `fetch.wait.max.ms`. A real
//! broker answers it as soon as a record arrives, so a long wait (500 ms) costs a record no
//! time and keeps an idle source cheap: two requests a second instead of a hundred.
//! librdkafka's mock cluster, weir's embedded broker, holds an empty fetch for the whole
//! wait and does not wake it on a produce ("If there was no data, delay up to MaxWait",
//! `rdkafka_mock_handlers.c`). There, a record that arrives during a held fetch waits up to
//! 500 ms, and an instance's first row comes half a second late.
//!
//! So against the mock cluster (its cluster id starts with `mockCluster`) the partitions
//! are read by a quick consumer, whose fetches wait [`QUICK_WAIT_MS`], from the start and
//! while records flow. After [`QUIET`] without a record they go back to the patient
//! consumer (the source's own, 500 ms), and the quick one is closed, so twenty idle
//! instances cost what they cost before. A record on the patient consumer brings a quick
//! one back. The handover happens between batches, at the positions the source reached, so
//! no record is lost or read twice; what the other consumer had fetched ahead is dropped.

use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::error::Result;

/// The fetch wait of the quick consumer.
pub const QUICK_WAIT_MS: &str = "50";
/// How long without a record before the partitions go back to the patient consumer.
pub const QUIET: Duration = Duration::from_secs(2);

/// The quick consumer of one source task, when its broker needs one.
pub struct Pace {
    /// The configuration of a quick consumer; None: the broker answers held fetches as
    /// soon as records arrive, and the patient consumer reads all the time.
    quick_config: Option<ClientConfig>,
    /// The quick consumer, while it holds the partitions.
    quick: Option<BaseConsumer>,
    last_record: Instant,
}

impl Pace {
    /// The pace of a source whose patient consumer is `patient`, created from `config`.
    /// `paced`: the source is unbounded and its fetch wait is weir's choice, not the user's.
    pub fn new(patient: &BaseConsumer, config: &ClientConfig, paced: bool) -> Pace {
        let holds = paced
            && patient
                .client()
                .fetch_cluster_id(Duration::from_secs(1))
                .is_some_and(|id| id.starts_with("mockCluster"));
        let quick_config = holds.then(|| {
            let mut c = config.clone();
            c.set("fetch.wait.max.ms", QUICK_WAIT_MS);
            c
        });
        Pace {
            quick_config,
            quick: None,
            last_record: Instant::now(),
        }
    }

    /// The consumer to poll.
    pub fn polled<'a>(&'a self, patient: &'a BaseConsumer) -> &'a BaseConsumer {
        self.quick.as_ref().unwrap_or(patient)
    }

    /// Assigns the partitions at their start positions: to a quick consumer when the
    /// broker needs one (an instance's first rows come at once), else to `patient`.
    pub fn assign(&mut self, patient: &BaseConsumer, tpl: &TopicPartitionList) -> Result<()> {
        self.last_record = Instant::now();
        if let Some(quick) = self.open_quick()
            && quick.assign(tpl).is_ok()
        {
            self.quick = Some(quick);
            return Ok(());
        }
        patient.assign(tpl)?;
        Ok(())
    }

    /// After one batch (`records`: it had any): hands the partitions over at `positions`
    /// (next offset of each of `partitions` of `topic`) when due.
    pub fn after_batch(
        &mut self,
        patient: &BaseConsumer,
        records: bool,
        topic: &str,
        partitions: &[i32],
        positions: &[AtomicI64],
    ) -> Result<()> {
        if self.quick_config.is_none() {
            return Ok(());
        }
        if records {
            self.last_record = Instant::now();
        }
        let here = || -> Result<TopicPartitionList> {
            let mut tpl = TopicPartitionList::new();
            for (p, o) in partitions.iter().zip(positions) {
                tpl.add_partition_offset(topic, *p, Offset::Offset(o.load(Relaxed)))?;
            }
            Ok(tpl)
        };
        match self.quick.take() {
            Some(quick) if self.last_record.elapsed() >= QUIET => {
                quick.unassign()?;
                patient.assign(&here()?)?;
                close(quick);
            }
            Some(quick) => self.quick = Some(quick),
            None if records => {
                if let Some(quick) = self.open_quick() {
                    patient.unassign()?;
                    let tpl = here()?;
                    if quick.assign(&tpl).is_ok() {
                        self.quick = Some(quick);
                    } else {
                        // the patient one reads on
                        patient.assign(&tpl)?;
                        close(quick);
                    }
                }
            }
            None => {}
        }
        Ok(())
    }

    /// A new quick consumer; None (the patient one reads on) when it cannot be created.
    fn open_quick(&self) -> Option<BaseConsumer> {
        let config = self.quick_config.as_ref()?;
        match config.create::<BaseConsumer>() {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::debug!("no quick consumer ({e}); the patient one reads");
                None
            }
        }
    }
}

/// Closes a consumer off the source's thread: closing waits for librdkafka's threads.
fn close(consumer: BaseConsumer) {
    let closing = std::thread::Builder::new()
        .name("weir-close".into())
        .spawn(move || drop(consumer));
    if let Err(e) = closing {
        // the consumer went down with the failed spawn's closure, on this thread
        tracing::debug!("closing a quick consumer on the source's thread: {e}");
    }
}
