//! Generated events to files (json-lines or csv, one file per kind) and to Kafka.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::generator::{EventKind, Generator, event_kind};
use super::model::{Auction, Bid, Event, Person};
use crate::error::{EngineError, Result};
use weir_model::fsutil::AtomicFile;
use weir_model::model::DataSourceKind;

/// The text format of generated files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `DIR/bid.jsonl`, ... one JSON object per line.
    Json,
    /// `DIR/bid.csv`, ... with a header line.
    Csv,
}

impl FileFormat {
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Json => "jsonl",
            FileFormat::Csv => "csv",
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    pub persons: u64,
    pub auctions: u64,
    pub bids: u64,
    /// The files, person, auction, bid (empty for Kafka).
    pub files: Vec<PathBuf>,
}

fn io(path: &Path, source: std::io::Error) -> EngineError {
    EngineError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One generated file, written under a temporary name and put in place by `finish`, so
/// that an interrupted generation never leaves a short file under the final name.
struct Out {
    path: PathBuf,
    w: BufWriter<AtomicFile>,
}

impl Out {
    fn create(dir: &Path, name: &str, format: FileFormat, header: &[&str]) -> Result<Out> {
        let path = dir.join(format!("{name}.{}", format.extension()));
        let f = AtomicFile::create(&path).map_err(|e| io(&path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        if format == FileFormat::Csv {
            writeln!(w, "{}", header.join(",")).map_err(|e| io(&path, e))?;
        }
        Ok(Out { path, w })
    }
    fn line(&mut self, line: &str) -> Result<()> {
        self.w
            .write_all(line.as_bytes())
            .and_then(|_| self.w.write_all(b"\n"))
            .map_err(|e| io(&self.path, e))
    }
    fn finish(self) -> Result<PathBuf> {
        let Out { path, w } = self;
        w.into_inner()
            .map_err(|e| io(&path, e.into_error()))?
            .commit()
            .map_err(|e| io(&path, e))?;
        Ok(path)
    }
}

/// Writes events `0..events` to `dir/{person,auction,bid}.{jsonl,csv}` (created or
/// replaced); `progress` is called with the number of events done every 100 000.
pub fn write_files(
    generator: &Generator,
    events: u64,
    dir: &Path,
    format: FileFormat,
    mut progress: impl FnMut(u64),
) -> Result<Written> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut person = Out::create(dir, "person", format, &Person::COLUMNS)?;
    let mut auction = Out::create(dir, "auction", format, &Auction::COLUMNS)?;
    let mut bid = Out::create(dir, "bid", format, &Bid::COLUMNS)?;
    let mut written = Written::default();
    let mut line = String::with_capacity(1024);
    for n in 0..events {
        line.clear();
        let json = format == FileFormat::Json;
        match generator.event(n) {
            Event::Person(p) => {
                if json {
                    p.push_json(&mut line)
                } else {
                    p.push_csv(&mut line)
                }
                person.line(&line)?;
                written.persons += 1;
            }
            Event::Auction(a) => {
                if json {
                    a.push_json(&mut line)
                } else {
                    a.push_csv(&mut line)
                }
                auction.line(&line)?;
                written.auctions += 1;
            }
            Event::Bid(b) => {
                if json {
                    b.push_json(&mut line)
                } else {
                    b.push_csv(&mut line)
                }
                bid.line(&line)?;
                written.bids += 1;
            }
        }
        if (n + 1).is_multiple_of(100_000) {
            progress(n + 1);
        }
    }
    written.files = vec![person.finish()?, auction.finish()?, bid.finish()?];
    progress(events);
    Ok(written)
}

/// Produces the bids among events `0..events` as JSON to `topic` at `bootstrap`,
/// round-robin over `partitions` partitions (the topic must exist), and waits until every
/// record is acknowledged. Returns the number of bids.
pub fn produce_bids(
    generator: &Generator,
    events: u64,
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    mut progress: impl FnMut(u64),
) -> Result<u64> {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let target = weir_model::model::Connection::new(DataSourceKind::Kafka, bootstrap);
    let producer: BaseProducer = crate::kafka_client::client_config("nexmark", &target)?
        .set("queue.buffering.max.messages", "1000000")
        .set("linger.ms", "5")
        .create()?;
    let partitions = partitions.max(1) as u64;
    let mut line = String::with_capacity(256);
    let mut bids = 0u64;
    for n in 0..events {
        if event_kind(n) != EventKind::Bid {
            continue;
        }
        let Some(b) = generator.bid(n) else { continue };
        line.clear();
        b.push_json(&mut line);
        let mut rec = BaseRecord::<(), str>::to(topic)
            .payload(line.as_str())
            .partition((bids % partitions) as i32);
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((e, back)) => {
                    if !matches!(
                        e.rdkafka_error_code(),
                        Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
                    ) {
                        return Err(EngineError::at(
                            format!("Kafka (producing to topic {topic})"),
                            bootstrap,
                            e,
                        ));
                    }
                    producer.poll(Duration::from_millis(5));
                    rec = back;
                }
            }
        }
        bids += 1;
        if bids.is_multiple_of(10_000) {
            producer.poll(Duration::ZERO);
            progress(n + 1);
        }
    }
    producer
        .flush(Duration::from_secs(120))
        .map_err(|e| EngineError::at(format!("Kafka (flushing to topic {topic})"), bootstrap, e))?;
    progress(events);
    Ok(bids)
}
