//! The governance CLI contract (issue: metadata store), headless, on the embedded SQLite
//! store: spellings, `--json` shapes with ids, exit codes, error wording, and a topic
//! created on a `weir broker` running in another process when its publication is approved.
//!
//! Long because it is the one contract test of every governance command; moving it onto
//! the shared harness (`tests/common/cli.rs`) and splitting it by subject is issue 17's.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

struct Project {
    root: PathBuf,
}

impl Project {
    fn new(name: &str) -> Project {
        let root = std::env::temp_dir().join(format!("weir-gov-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("jobs")).unwrap();
        Project { root }
    }

    fn weir(&self, user: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(args)
            .current_dir(&self.root)
            .env("WEIR_USER", user)
            .env_remove("WEIR_DATABASE_URL")
            .env_remove("WEIR_STORE")
            .output()
            .unwrap()
    }

    /// Run, expect exit `code`, return stdout + stderr.
    fn expect(&self, user: &str, args: &[&str], code: i32) -> String {
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

    fn json(&self, user: &str, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.weir(user, &all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A `weir broker` in its own process, for the project at `root`.
struct BrokerProcess {
    child: Child,
    bootstrap: String,
}

impl BrokerProcess {
    #[expect(
        clippy::zombie_processes,
        reason = "the child is killed and waited for in Drop"
    )]
    fn start(root: &Path) -> BrokerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(["broker"])
            .current_dir(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let info = root.join(".weir").join("broker.json");
        let start = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&info)
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
                && let Some(b) = v.get("bootstrap").and_then(|b| b.as_str())
            {
                return BrokerProcess {
                    child,
                    bootstrap: b.to_string(),
                };
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("weir broker did not start");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn partitions_on(bootstrap: &str, topic: &str) -> usize {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .unwrap();
    md.topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map_or(0, |t| t.partitions().len())
}

fn setup(p: &Project) {
    p.expect("alice", &["whoami"], 0);
    p.expect("alice", &["project", "create", "shop"], 0);
    p.expect(
        "alice",
        &[
            "user",
            "add",
            "bob",
            "--role",
            "developer",
            "--project",
            "shop",
        ],
        0,
    );
    p.expect("alice", &["user", "add", "dora", "--role", "data_admin"], 0);
    p.expect("alice", &["user", "add", "olga", "--role", "ops"], 0);
}

#[test]
fn roles_projects_and_data_sources() {
    let p = Project::new("roles");
    let me = p.expect("alice", &["whoami"], 0);
    assert!(
        me.contains("alice: system admin"),
        "the first actor is system admin: {me}"
    );
    setup(&p);
    let e = p.expect("bob", &["project", "create", "other"], 2);
    assert!(
        e.contains("only a system admin can") && e.contains("developer of shop"),
        "{e}"
    );
    let e = p.expect("alice", &["user", "add", "carl", "--role", "developer"], 2);
    assert!(e.contains("--project"), "{e}");

    // Credentials only as references; masked everywhere.
    let e = p.expect(
        "dora",
        &[
            "datasource",
            "add",
            "pg",
            "--kind",
            "postgres",
            "--env",
            "test",
            "--test-address",
            "127.0.0.1:5432",
            "--password",
            "hunter2",
        ],
        2,
    );
    assert!(
        !e.contains("hunter2") && e.contains("env:WEIR_SECRET_<NAME>"),
        "{e}"
    );
    p.expect(
        "dora",
        &[
            "datasource",
            "add",
            "pg",
            "--kind",
            "postgres",
            "--env",
            "test",
            "--test-address",
            "127.0.0.1:5432/test",
            "--user",
            "postgres",
            "--password",
            "env:WEIR_SECRET_TEST_PG_PW",
        ],
        0,
    );
    let e = p.expect(
        "bob",
        &[
            "datasource",
            "add",
            "x",
            "--kind",
            "redis",
            "--env",
            "test",
            "--test-address",
            "h:1",
        ],
        2,
    );
    assert!(e.contains("only") && e.contains("data admin"), "{e}");
    let shown = p.json("bob", &["datasource", "show", "pg"]);
    assert_eq!(shown["password"], "env:WEIR_SECRET_TEST_PG_PW (••••)");
    let e = p.expect("bob", &["datasource", "show", "gp"], 2);
    assert!(
        e.contains("no data source named `gp`; did you mean `pg`?"),
        "{e}"
    );

    // Connectivity: the password variable is missing, then set; prod has no address.
    let e = p.expect("bob", &["datasource", "test", "pg", "--env", "prod"], 2);
    assert!(e.contains("no prod address"), "{e}");
    p.expect(
        "dora",
        &[
            "datasource",
            "add",
            "rd",
            "--kind",
            "redis",
            "--env",
            "both",
            "--test-address",
            "127.0.0.1:6379",
            "--prod-address",
            "127.0.0.1:1",
        ],
        0,
    );
    let ok = p.json("bob", &["datasource", "test", "rd", "--env", "test"]);
    assert_eq!(ok["result"]["ok"], true, "{ok}");
    assert!(ok["result"]["latency_ms"].as_f64().unwrap() > 0.0);
    let bad = p.expect("bob", &["datasource", "test", "rd", "--env", "prod"], 1);
    assert!(bad.contains("FAIL") && bad.contains("127.0.0.1:1"), "{bad}");

    // Archive: read-only until restored.
    p.expect("alice", &["project", "archive", "shop"], 0);
    let e = p.expect(
        "bob",
        &["topic", "create", "clicks", "--project", "shop"],
        2,
    );
    assert!(e.contains("archived"), "{e}");
    p.expect("alice", &["project", "restore", "shop"], 0);
    p.expect(
        "bob",
        &["topic", "create", "clicks", "--project", "shop"],
        0,
    );

    // The audit log holds every write, with its actor.
    let audit = p.json("alice", &["audit"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "project.create",
        "project.archive",
        "project.restore",
        "topic.create",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
}

#[test]
fn topic_publication_creates_the_topic_on_a_broker_of_another_process() {
    let p = Project::new("topics");
    setup(&p);
    let broker = BrokerProcess::start(&p.root);
    p.expect(
        "dora",
        &[
            "datasource",
            "add",
            "kmain",
            "--kind",
            "kafka",
            "--env",
            "both",
            "--test-address",
            &broker.bootstrap,
            "--prod-address",
            &broker.bootstrap,
        ],
        0,
    );
    let e = p.expect(
        "bob",
        &["topic", "create", "_clicks", "--project", "shop"],
        2,
    );
    assert!(e.contains("starts with"), "{e}");
    let e = p.expect("bob", &["topic", "create", "a", "--project", "shop"], 2);
    assert!(e.contains("too short"), "{e}");
    p.expect(
        "bob",
        &[
            "topic",
            "create",
            "page_views",
            "--project",
            "shop",
            "--format",
            "csv",
            "--partitions",
            "4",
            "--field",
            "user_id:string",
            "--field",
            "ts:timestamp:event time",
        ],
        0,
    );
    let req = p.json(
        "bob",
        &[
            "topic",
            "publish",
            "page_views",
            "--env",
            "test",
            "--datasource",
            "kmain",
        ],
    );
    let id = req["id"].as_i64().unwrap().to_string();
    let inbox = p.json("dora", &["inbox"]);
    assert_eq!(inbox[0]["id"].as_i64().unwrap().to_string(), id);
    let e = p.expect("bob", &["approve", &id, "--opinion", "me"], 2);
    assert!(
        e.contains("only a data admin can approve; you are developer of shop"),
        "{e}"
    );
    assert_eq!(partitions_on(&broker.bootstrap, "page_views"), 0);
    let out = p.expect("dora", &["approve", &id, "--opinion", "ok"], 0);
    assert!(
        out.contains("created topic page_views with 4 partition(s)"),
        "{out}"
    );
    assert_eq!(partitions_on(&broker.bootstrap, "page_views"), 4);
    let e = p.expect("dora", &["reject", &id, "--opinion", "late"], 2);
    assert!(e.contains("already approved by dora"), "{e}");
    let t = p.json("bob", &["topic", "show", "page_views"]);
    assert_eq!(t["state"], "test");

    // A topic of the catalog can be named alone: it lives on the cluster it went to.
    let r = p.json(
        "olga",
        &[
            "perm",
            "request",
            "--table",
            "page_views",
            "--for",
            "person:olga",
            "--perms",
            "select",
            "--reason",
            "ops view",
        ],
    );
    let rid = r[0]["id"].as_i64().unwrap().to_string();
    p.expect("dora", &["approve", &rid], 0);
    let c = p.json(
        "dora",
        &[
            "perm",
            "check",
            "--user",
            "olga",
            "--table",
            "kmain.page_views",
            "--op",
            "select",
        ],
    );
    assert_eq!(c["allowed"], true, "{c}");
    p.expect(
        "bob",
        &["topic", "create", "drafts", "--project", "shop"],
        0,
    );
    let e = p.expect(
        "olga",
        &[
            "perm",
            "request",
            "--table",
            "drafts",
            "--for",
            "person:olga",
            "--perms",
            "select",
            "--reason",
            "x",
        ],
        2,
    );
    assert!(e.contains("still in design"), "{e}");
    let e = p.expect(
        "olga",
        &[
            "perm", "check", "--user", "olga", "--table", "nosuch", "--op", "select",
        ],
        2,
    );
    assert!(e.contains("DATASOURCE.TABLE"), "{e}");
}

#[test]
fn permission_requests_grants_and_effective_rights() {
    let p = Project::new("perms");
    setup(&p);
    p.expect(
        "dora",
        &[
            "datasource",
            "add",
            "kmain",
            "--kind",
            "kafka",
            "--env",
            "test",
            "--test-address",
            "127.0.0.1:1",
        ],
        0,
    );
    p.expect(
        "dora",
        &[
            "datasource",
            "add",
            "mysql_report",
            "--kind",
            "mysql",
            "--env",
            "test",
            "--test-address",
            "127.0.0.1:3306",
        ],
        0,
    );
    // Kafka: select/insert, table level only.
    let e = p.expect(
        "bob",
        &[
            "perm",
            "request",
            "--table",
            "kmain.clicks",
            "--for",
            "person:bob",
            "--perms",
            "delete",
            "--reason",
            "x",
        ],
        2,
    );
    assert!(e.contains("select and insert only"), "{e}");
    let e = p.expect(
        "bob",
        &[
            "perm",
            "request",
            "--table",
            "kmain.clicks",
            "--for",
            "person:bob",
            "--perms",
            "select",
            "--columns",
            "a",
            "--reason",
            "x",
        ],
        2,
    );
    assert!(e.to_lowercase().contains("column"), "{e}");
    // Column level only for a person.
    let e = p.expect(
        "bob",
        &[
            "perm",
            "request",
            "--table",
            "mysql_report.pv",
            "--for",
            "project:shop",
            "--perms",
            "select",
            "--columns",
            "url",
            "--reason",
            "x",
        ],
        2,
    );
    assert!(e.to_lowercase().contains("column"), "{e}");
    // Both: two requests.
    let two = p.json(
        "bob",
        &[
            "perm",
            "request",
            "--table",
            "kmain.clicks",
            "--for",
            "both:shop,bob",
            "--perms",
            "select",
            "--reason",
            "dashboards",
        ],
    );
    assert_eq!(two.as_array().unwrap().len(), 2);
    let ids: Vec<String> = two
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap().to_string())
        .collect();
    // A data admin may not request.
    let e = p.expect(
        "dora",
        &[
            "perm",
            "request",
            "--table",
            "kmain.clicks",
            "--for",
            "person:dora",
            "--perms",
            "select",
            "--reason",
            "x",
        ],
        2,
    );
    assert!(e.contains("data admin"), "{e}");
    let mine = p.json("bob", &["perm", "requests"]);
    assert_eq!(mine.as_array().unwrap().len(), 2);
    // Withdraw one; approve the other.
    p.expect("bob", &["perm", "withdraw", &ids[0]], 0);
    let e = p.expect("olga", &["perm", "withdraw", &ids[1]], 2);
    assert!(e.contains("only the requester"), "{e}");
    p.expect("dora", &["approve", &ids[1], "--opinion", "ok"], 0);
    let finished = p.json("bob", &["perm", "requests", "--finished"]);
    assert_eq!(finished.as_array().unwrap().len(), 2);
    let check = p.json(
        "dora",
        &[
            "perm",
            "check",
            "--user",
            "bob",
            "--table",
            "kmain.clicks",
            "--op",
            "select",
        ],
    );
    assert_eq!(check["allowed"], true, "{check}");
    // Blacklist beats the whitelist; the reason says so.
    p.expect(
        "dora",
        &[
            "perm",
            "deny",
            "--table",
            "kmain.clicks",
            "--user",
            "bob",
            "--perms",
            "select",
        ],
        0,
    );
    let denied = p.expect(
        "dora",
        &[
            "perm",
            "check",
            "--user",
            "bob",
            "--table",
            "kmain.clicks",
            "--op",
            "select",
        ],
        1,
    );
    assert!(
        denied.contains("denied") && denied.contains("blacklist"),
        "{denied}"
    );
    // Public over a batch of tables.
    p.expect(
        "dora",
        &[
            "perm",
            "public",
            "--table",
            "mysql_report.a,mysql_report.b",
            "--perms",
            "select",
        ],
        0,
    );
    let public = p.json(
        "dora",
        &[
            "perm",
            "check",
            "--user",
            "olga",
            "--table",
            "mysql_report.b",
            "--op",
            "select",
        ],
    );
    assert_eq!(public["allowed"], true, "{public}");
    let e = p.expect(
        "bob",
        &[
            "perm",
            "grant",
            "--table",
            "mysql_report.a",
            "--user",
            "bob",
            "--perms",
            "select",
        ],
        2,
    );
    assert!(e.contains("data admin"), "{e}");
}
