//! The embedded Kafka broker: librdkafka's mock cluster, owned by one thread (its handle
//! is not Send) that takes commands over a channel. Optionally reachable on a fixed port
//! through a small TCP forwarder (the mock listens on a random port; its advertised
//! listener is moved to the fixed port with `rd_kafka_mock_broker_set_host_port`), and
//! a control endpoint (one line per command, localhost) so that other weir processes can
//! create topics: the mock ignores the CreateTopics API. Creating a topic that exists
//! already succeeds, as everywhere in weir (formats/governance.md).
//!
//! The one `ClientConfig` here creates the mock cluster itself; clients of a broker build
//! theirs from a data source with [`crate::kafka_client::client_config`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::types::RDKafkaErrorCode;

use crate::error::{EngineError, Result};

enum Command {
    CreateTopic {
        name: String,
        partitions: i32,
        reply: mpsc::Sender<Result<()>>,
    },
    Stop,
}

/// A running embedded broker; dropped = stopped.
pub struct Broker {
    tx: mpsc::Sender<Command>,
    bootstrap: String,
    control: Option<String>,
    info_file: Option<PathBuf>,
}

/// The broker's own thread or cluster broke (a bug, or librdkafka without mock support).
fn internal(e: impl std::fmt::Display) -> EngineError {
    EngineError::Internal(format!("embedded broker: {e}"))
}

/// A thread or socket of the broker could not be set up; the fault follows the I/O error.
fn io(what: &str, source: std::io::Error) -> EngineError {
    EngineError::Io {
        path: format!("embedded broker: {what}"),
        source,
    }
}

/// What the project's `weir broker` is called in messages.
const CONTROL: &str = "the project's weir broker (its control endpoint)";

impl Broker {
    /// Starts a one-broker mock cluster on a random port.
    pub fn start() -> Result<Broker> {
        Self::start_on(None)
    }

    /// Starts a mock cluster; with `port`, clients reach it on 127.0.0.1:`port`.
    pub fn start_on(port: Option<u16>) -> Result<Broker> {
        let (tx, rx) = mpsc::channel::<Command>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String>>();
        thread::Builder::new()
            .name("weir-broker".into())
            .spawn(move || {
                let producer: BaseProducer = match ClientConfig::new()
                    .set("test.mock.num.brokers", "1")
                    .create()
                {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                let Some(cluster) = producer.client().mock_cluster() else {
                    let _ =
                        ready_tx.send(Err(internal("librdkafka did not create a mock cluster")));
                    return;
                };
                let mut bootstrap = cluster.bootstrap_servers();
                if let Some(port) = port {
                    match forward(port, &bootstrap) {
                        Ok(()) => {
                            let host = std::ffi::CString::new("127.0.0.1").unwrap_or_default();
                            // SAFETY: the mock cluster belongs to `producer`, alive on this
                            // thread; the call copies the host string under the cluster lock.
                            #[allow(unsafe_code)]
                            unsafe {
                                let mc = rdkafka::bindings::rd_kafka_handle_mock_cluster(
                                    producer.client().native_ptr(),
                                );
                                rdkafka::bindings::rd_kafka_mock_broker_set_host_port(
                                    mc,
                                    1,
                                    host.as_ptr(),
                                    port as i32,
                                );
                            }
                            bootstrap = format!("127.0.0.1:{port}");
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    }
                }
                let _ = ready_tx.send(Ok(bootstrap));
                while let Ok(cmd) = rx.recv() {
                    match cmd {
                        Command::CreateTopic {
                            name,
                            partitions,
                            reply,
                        } => {
                            let r = match cluster.create_topic(&name, partitions, 1) {
                                Err(KafkaError::MockCluster(
                                    RDKafkaErrorCode::TopicAlreadyExists,
                                )) => Ok(()),
                                r => r.map_err(EngineError::from),
                            };
                            let _ = reply.send(r);
                        }
                        Command::Stop => break,
                    }
                }
            })
            .map_err(|e| io("starting its thread", e))?;
        let bootstrap = ready_rx
            .recv()
            .map_err(|_| internal("its thread ended while starting"))??;
        Ok(Broker {
            tx,
            bootstrap,
            control: None,
            info_file: None,
        })
    }

    /// The address clients bootstrap from.
    pub fn bootstrap_servers(&self) -> String {
        self.bootstrap.clone()
    }

    /// Creates a topic (the mock does not take CreateTopics requests); one that exists
    /// already counts as created.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        let (reply, rx) = mpsc::channel();
        self.tx
            .send(Command::CreateTopic {
                name: name.to_string(),
                partitions,
                reply,
            })
            .map_err(|_| internal("the broker has stopped"))?;
        rx.recv().map_err(|_| internal("the broker has stopped"))?
    }

    /// Starts the control endpoint and writes `<project>/.weir/broker.json`
    /// (`{bootstrap, control}`), removed again when the broker is dropped.
    pub fn serve_control(&mut self, project: &Path) -> Result<String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| io("control endpoint", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| io("control endpoint", e))?
            .to_string();
        let tx = self.tx.clone();
        thread::Builder::new()
            .name("weir-broker-control".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let tx = tx.clone();
                    thread::spawn(move || serve_control_client(stream, tx));
                }
            })
            .map_err(|e| io("starting the control thread", e))?;
        let file = project.join(".weir").join("broker.json");
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|source| EngineError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let info = serde_json::json!({ "bootstrap": self.bootstrap, "control": addr });
        weir_model::fsutil::write_atomic(&file, info.to_string()).map_err(|source| {
            EngineError::Io {
                path: file.display().to_string(),
                source,
            }
        })?;
        self.control = Some(addr.clone());
        self.info_file = Some(file);
        Ok(addr)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.tx.send(Command::Stop);
        if let Some(f) = &self.info_file {
            let _ = std::fs::remove_file(f);
        }
    }
}

fn serve_control_client(stream: TcpStream, tx: mpsc::Sender<Command>) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["create", name, partitions] => match partitions.parse::<i32>() {
                Ok(n) if n > 0 => {
                    let (reply, rx) = mpsc::channel();
                    let sent = tx.send(Command::CreateTopic {
                        name: name.to_string(),
                        partitions: n,
                        reply,
                    });
                    match sent.ok().and_then(|_| rx.recv().ok()) {
                        Some(Ok(())) => "ok".to_string(),
                        Some(Err(e)) => format!("error {e}"),
                        None => "error the broker has stopped".to_string(),
                    }
                }
                _ => format!("error bad partition count {partitions}"),
            },
            ["ping"] => "ok".to_string(),
            _ => "error expected: create TOPIC PARTITIONS".to_string(),
        };
        if writeln!(out, "{answer}").is_err() {
            return;
        }
    }
}

/// The broker of `project`, as `weir broker` wrote it: (bootstrap, control address).
pub fn running(project: &Path) -> Result<(String, String)> {
    let file = project.join(".weir").join("broker.json");
    let text = std::fs::read_to_string(&file).map_err(|_| {
        EngineError::Config(format!("no embedded broker is running for this project ({} is missing); start one with `weir broker`", file.display()))
    })?;
    let broken = |problem: String| {
        EngineError::Config(format!(
            "{}: {problem}; remove it and start `weir broker` again",
            file.display()
        ))
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| broken(format!("not JSON: {e}")))?;
    let get = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    match (get("bootstrap"), get("control")) {
        (Some(b), Some(c)) => Ok((b, c)),
        _ => Err(broken("no bootstrap or control address".into())),
    }
}

/// Creates a topic on the embedded broker another weir process runs for `project`; one
/// that exists already counts as created. A broker that does not answer is `Unavailable`,
/// one that refuses is `Config`.
pub fn create_topic_remote(project: &Path, topic: &str, partitions: i32) -> Result<()> {
    let (_, control) = running(project)?;
    let unavailable = |e: std::io::Error| EngineError::Unavailable {
        what: CONTROL.into(),
        address: control.clone(),
        reason: e.to_string(),
    };
    let mut s = TcpStream::connect(&control).map_err(unavailable)?;
    writeln!(s, "create {topic} {partitions}").map_err(unavailable)?;
    let mut line = String::new();
    BufReader::new(s)
        .read_line(&mut line)
        .map_err(unavailable)?;
    match line.trim() {
        "ok" => Ok(()),
        "" => Err(EngineError::Unavailable {
            what: CONTROL.into(),
            address: control.clone(),
            reason: "it closed the connection without an answer".into(),
        }),
        answer => Err(EngineError::Config(format!(
            "{CONTROL} at {control} refused to create topic {topic}: {}",
            answer.strip_prefix("error ").unwrap_or(answer)
        ))),
    }
}

/// Listens on 127.0.0.1:`port` and pipes every connection to `target`.
fn forward(port: u16, target: &str) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        EngineError::Config(format!(
            "the embedded broker cannot listen on 127.0.0.1:{port}: {e}; is another broker \
             running there? choose another port"
        ))
    })?;
    let target = target.split(',').next().unwrap_or(target).to_string();
    thread::Builder::new()
        .name("weir-broker-forward".into())
        .spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                thread::spawn(move || pipe(client, server));
                thread::spawn(move || pipe(s2, c2));
            }
        })
        .map_err(|e| io("starting the port forwarder", e))?;
    Ok(())
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}
