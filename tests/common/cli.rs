//! A checkout for tests that drive the `weir` binary: a project directory of its own
//! with store project `shop` on the embedded SQLite store, users `root` (system admin,
//! the first actor) and developers `bob` and `eve`; commands run as a user, checked for
//! their exit code, or read as JSON. Child processes the test starts (workers) are
//! killed when the checkout is dropped.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Checkout {
    pub root: PathBuf,
    children: Vec<Child>,
}

impl Checkout {
    /// An empty checkout (jobs/ and .weir/project = shop) with its users.
    pub fn new(name: &str) -> Checkout {
        let root = std::env::temp_dir().join(format!("weir-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("jobs")).unwrap();
        std::fs::create_dir_all(root.join(".weir")).unwrap();
        std::fs::write(root.join(".weir/project"), "shop\n").unwrap();
        let c = Checkout {
            root,
            children: Vec::new(),
        };
        c.expect("root", &["whoami"], 0);
        c.expect("root", &["project", "create", "shop"], 0);
        for dev in ["bob", "eve"] {
            c.expect(
                "root",
                &[
                    "user",
                    "add",
                    dev,
                    "--role",
                    "developer",
                    "--project",
                    "shop",
                ],
                0,
            );
        }
        c
    }

    /// The command `weir ARGS` as `user` in the checkout.
    pub fn command(&self, user: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weir"));
        cmd.args(args)
            .current_dir(&self.root)
            .env("WEIR_USER", user)
            .env("WEIR_EXE", env!("CARGO_BIN_EXE_weir"))
            .env("NO_COLOR", "1")
            .env_remove("WEIR_DATABASE_URL")
            .env_remove("WEIR_STORE")
            .env_remove("WEIR_PROJECT");
        cmd
    }

    pub fn weir(&self, user: &str, args: &[&str]) -> Output {
        self.command(user, args).output().unwrap()
    }

    /// Runs and checks the exit code; returns stdout and stderr.
    pub fn expect(&self, user: &str, args: &[&str], code: i32) -> String {
        let out = self.weir(user, args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.status.code(),
            Some(code),
            "weir {args:?} as {user}:\n{text}"
        );
        text
    }

    /// Runs with `--json` (must succeed) and parses stdout.
    pub fn json(&self, user: &str, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.weir(user, &all);
        assert!(
            out.status.success(),
            "weir {all:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Writes `jobs/<name>`.
    pub fn write_job(&self, name: &str, text: &str) {
        std::fs::write(self.root.join("jobs").join(name), text).unwrap();
    }

    /// Starts `weir --json worker ARGS` as `user`; returns its index and the ready line.
    pub fn start_worker(&mut self, user: &str, args: &[&str]) -> (usize, serde_json::Value) {
        let mut all = vec!["--json", "worker"];
        all.extend_from_slice(args);
        let mut child = self
            .command(user, &all)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut text = String::new();
        // the ready object is pretty-printed: read until it closes
        while !text.trim_end().ends_with('}')
            || text.matches('{').count() != text.matches('}').count()
        {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                panic!("the worker ended before it was ready: {text}");
            }
            text.push_str(&line);
        }
        self.children.push(child);
        (
            self.children.len() - 1,
            serde_json::from_str(&text).unwrap(),
        )
    }

    /// The process of worker `i`.
    pub fn child(&mut self, i: usize) -> &mut Child {
        &mut self.children[i]
    }

    /// Polls `f` every 200 ms until it gives Some, at most `limit`.
    pub fn wait_for<T>(&self, what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // a local worker started by `weir instance start` runs as whoever started the
        // instance: each user asks their own to stop (and a local worker whose store file
        // is removed below stops by itself)
        for user in ["bob", "eve", "root"] {
            let _ = self
                .command(user, &["worker", "stop", "--no-wait"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// An echo job: topic `topic` of the job-local Kafka data source `k` at `bootstrap`
/// (event time `ts`, 1 s watermark, starting at `start`: `Earliest` or `Latest`), every
/// record written to `out` as JSON lines; `extra_config` is appended inside `config`
/// (`, alerts: [...]`).
pub fn echo_job(
    name: &str,
    bootstrap: &str,
    topic: &str,
    start: &str,
    out: &std::path::Path,
    extra_config: &str,
) -> String {
    format!(
        r#"Job(
    version: 1,
    name: "{name}",
    config: (time: Event, parallelism: 1{extra_config}),
    datasources: {{"k": (kind: Kafka, address: "{bootstrap}")}},
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "{topic}", start: {start}, event_time: Some("ts"), watermark_ms: 1000,
            fields: Some([(name: "id", type: BigInt), (name: "ts", type: Timestamp)])),
        Sql(id: "q", query: "SELECT id, ts FROM src"),
        PrintSink(id: "out", path: Some("{}")),
    ],
    edges: [("src", "q"), ("q", "out")],
)"#,
        out.display()
    )
}

/// Produces `payloads` to `topic` on `bootstrap`.
pub fn produce(bootstrap: &str, topic: &str, payloads: &[String]) {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let p: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    for payload in payloads {
        p.send(BaseRecord::<(), String>::to(topic).payload(payload))
            .unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();
}
