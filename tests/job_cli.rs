//! Versions, the edit lock, diffs and releases through the CLI (issue: versions and
//! release), headless on the embedded SQLite store: a developer submits, diffs and asks
//! for a release; a system admin approves it bound to its hash; go-live records the
//! production instance. Exit codes and refusals are part of the contract.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Checkout {
    root: PathBuf,
}

impl Checkout {
    /// A checkout of store project `shop` with the example jobs, and users: `root` (the
    /// store's first user, system admin), developers `bob` and `eve`, admin `sam`.
    fn new(name: &str) -> Checkout {
        let root = std::env::temp_dir().join(format!("weir-job-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("jobs")).unwrap();
        std::fs::create_dir_all(root.join(".weir")).unwrap();
        std::fs::write(root.join(".weir/project"), "shop\n").unwrap();
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs");
        for f in ["clickstream_pv.ron", "iot_alerts.ron"] {
            std::fs::copy(examples.join(f), root.join("jobs").join(f)).unwrap();
        }
        let c = Checkout { root };
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
        c.expect("root", &["user", "add", "sam", "--role", "system_admin"], 0);
        c
    }

    fn weir(&self, user: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(args)
            .current_dir(&self.root)
            .env("WEIR_USER", user)
            .env("NO_COLOR", "1")
            .env_remove("WEIR_DATABASE_URL")
            .env_remove("WEIR_STORE")
            .env_remove("WEIR_PROJECT")
            .output()
            .unwrap()
    }

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
            "weir {all:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn edit(&self, job: &str, from: &str, to: &str) {
        let p = self.root.join("jobs").join(job);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{from} not in {job}");
        std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[test]
fn submit_versions_diff_and_checkout() {
    let c = Checkout::new("versions");
    let out = c.expect(
        "bob",
        &["job", "submit", "jobs/clickstream_pv.ron", "-m", "first"],
        0,
    );
    assert!(
        out.contains("version 1 (") && out.contains("of shop/clickstream_pv"),
        "{out}"
    );
    assert!(
        out.contains("edit lock"),
        "the first submit takes the lock: {out}"
    );

    // the same text makes no new version
    let out = c.expect(
        "bob",
        &["job", "submit", "clickstream_pv", "-m", "again"],
        0,
    );
    assert!(out.contains("no new version"), "{out}");

    let st = c.json("bob", &["job", "status", "clickstream_pv"]);
    assert_eq!(st["working"], "same");
    assert_eq!(st["lock"]["holder"], "bob");

    c.edit("clickstream_pv.ron", "parallelism: 2", "parallelism: 4");
    c.edit(
        "clickstream_pv.ron",
        "COUNT(*) AS pv",
        "COUNT(*) AS page_views",
    );
    let st = c.json("bob", &["job", "status", "clickstream_pv"]);
    assert_eq!(st["working"], "modified");

    // someone else cannot submit: the lock is bob's, and the refusal names him
    let out = c.expect("eve", &["job", "submit", "clickstream_pv", "-m", "mine"], 2);
    assert!(out.contains("bob"), "{out}");

    let out = c.expect(
        "bob",
        &["job", "submit", "clickstream_pv", "-m", "wider"],
        0,
    );
    assert!(out.contains("version 2 ("), "{out}");
    let versions = c.json("bob", &["job", "versions", "clickstream_pv"]);
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["message"], "wider");
    assert_eq!(versions[1]["hash"].as_str().unwrap().len(), 64);

    let out = c.expect("bob", &["job", "diff", "clickstream_pv", "1", "2"], 0);
    assert!(out.contains("config.parallelism: 2 → 4"), "{out}");
    assert!(out.contains("-       COUNT(*) AS pv,"), "{out}");
    assert!(out.contains("+       COUNT(*) AS page_views,"), "{out}");
    let diff = c.json("bob", &["job", "diff", "clickstream_pv", "1", "2"]);
    assert_eq!(
        diff["a"]["label"].as_str().unwrap().split(' ').nth(1),
        Some("1")
    );
    assert!(!diff["diff"]["nodes"].as_array().unwrap().is_empty());
    let out = c.expect("bob", &["job", "diff", "clickstream_pv", "2", "working"], 0);
    assert!(out.contains("no changes"), "{out}");

    let shown = c.expect("bob", &["job", "show", "clickstream_pv@1"], 0);
    assert!(
        shown.contains("parallelism: 2") && shown.contains("AS pv,"),
        "{shown}"
    );

    // checkout refuses to drop edits no version holds, unless --force
    c.edit("clickstream_pv.ron", "parallelism: 4", "parallelism: 8");
    let out = c.expect("bob", &["job", "checkout", "clickstream_pv@1"], 2);
    assert!(out.contains("--force"), "{out}");
    c.expect(
        "bob",
        &["job", "checkout", "clickstream_pv@1", "--force"],
        0,
    );
    let text = std::fs::read_to_string(c.root.join("jobs/clickstream_pv.ron")).unwrap();
    assert!(text.contains("parallelism: 2"));
    // the file now equals version 1, so checking out version 2 needs no force
    c.expect("bob", &["job", "checkout", "clickstream_pv@2"], 0);
    let st = c.json("bob", &["job", "status", "clickstream_pv"]);
    assert_eq!(st["working"], "same");
}

#[test]
fn an_invalid_job_is_not_submitted() {
    let c = Checkout::new("invalid");
    c.edit(
        "iot_alerts.ron",
        "nodes: [",
        "nodes: [ Nonsense(id: \"x\"),",
    );
    let out = c.expect("bob", &["job", "submit", "iot_alerts", "-m", "broken"], 2);
    assert!(out.contains("nothing was submitted"), "{out}");
    assert!(
        out.contains("iot_alerts.ron:"),
        "diagnostics with file:line:col: {out}"
    );
    let versions = c.json("bob", &["job", "versions", "iot_alerts"]);
    assert_eq!(versions.as_array().unwrap().len(), 0);
    // no message
    c.expect("bob", &["job", "submit", "iot_alerts", "-m", " "], 2);
}

#[test]
fn the_lock_is_taken_over_and_the_holder_is_told() {
    let c = Checkout::new("lock");
    c.expect("bob", &["job", "lock", "iot_alerts"], 0);
    let out = c.expect("eve", &["job", "lock", "iot_alerts"], 2);
    assert!(out.contains("bob"), "{out}");
    let out = c.expect("eve", &["job", "unlock", "iot_alerts"], 0);
    assert!(out.contains("from bob"), "{out}");
    let out = c.expect("bob", &["inbox"], 0);
    assert!(
        out.contains("eve took over your edit lock of shop/iot_alerts"),
        "{out}"
    );
    let out = c.expect("eve", &["job", "submit", "iot_alerts", "-m", "eve's"], 0);
    assert!(out.contains("version 1"), "{out}");
    // people outside the project may not take it
    c.expect("root", &["user", "add", "zed", "--role", "business"], 0);
    c.expect("zed", &["job", "unlock", "iot_alerts"], 2);
}

#[test]
fn a_release_is_approved_by_hash_and_goes_live() {
    let c = Checkout::new("release");
    c.expect("bob", &["job", "submit", "clickstream_pv", "-m", "v1"], 0);
    c.edit("clickstream_pv.ron", "parallelism: 2", "parallelism: 3");
    c.expect("bob", &["job", "submit", "clickstream_pv", "-m", "v2"], 0);
    let v2 = c.json("bob", &["job", "versions", "clickstream_pv"]);
    let hash = v2[1]["hash"].as_str().unwrap().to_string();

    let req = c.json(
        "bob",
        &["release", "request", "clickstream_pv@1", "--note", "first"],
    );
    let first = req["id"].as_i64().unwrap();
    // bob cannot approve his own request; a developer cannot approve at all
    c.expect("bob", &["approve", &first.to_string()], 2);
    // go-live before approval is refused
    let out = c.expect("bob", &["release", "golive", &first.to_string()], 2);
    assert!(out.contains("approved"), "{out}");
    let out = c.expect(
        "sam",
        &["approve", &first.to_string(), "--opinion", "ok"],
        0,
    );
    assert!(out.contains("nothing live"), "the review is shown: {out}");
    let live = c.json(
        "bob",
        &[
            "release",
            "golive",
            &first.to_string(),
            "--parallelism",
            "2",
            "--memory",
            "1GiB",
            "--start",
            "earliest",
        ],
    );
    assert_eq!(live["instance"]["memory_mib"], 1024);
    assert_eq!(live["instance"]["state"], "created");

    let req = c.json(
        "bob",
        &["release", "request", "clickstream_pv@2", "--note", "wider"],
    );
    let second = req["id"].as_i64().unwrap().to_string();
    let inbox = c.json("sam", &["inbox"]);
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"].as_i64() == req["id"].as_i64())
    );
    // a wrong hash prefix is refused and records nothing
    let out = c.expect("sam", &["approve", &second, "--hash", "000000000000"], 2);
    assert!(out.contains("does not start with"), "{out}");
    let out = c.expect("sam", &["release", "show", &second], 0);
    assert!(
        out.contains("config.parallelism: 2 → 3"),
        "diff against live: {out}"
    );
    let out = c.expect("sam", &["approve", &second, "--hash", &hash[..12]], 0);
    assert!(out.contains(&hash), "the hash approved is shown: {out}");
    assert!(out.contains("config.parallelism: 2 → 3"), "{out}");
    // twice: already approved
    let out = c.expect("root", &["approve", &second], 2);
    assert!(out.contains("already approved by sam"), "{out}");

    c.expect(
        "bob",
        &["release", "golive", &second, "--parallelism", "3"],
        0,
    );
    let list = c.json("bob", &["release", "list"]);
    let states: Vec<(i64, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(states.contains(&(first, "replaced".into())), "{states:?}");
    let live = c.json("bob", &["release", "list", "--state", "live"]);
    assert_eq!(live.as_array().unwrap().len(), 1);
    assert!(live[0]["instance"].as_i64().is_some());
    let out = c.expect(
        "bob",
        &["job", "diff", "clickstream_pv", "live", "working"],
        0,
    );
    assert!(out.contains("no changes"), "{out}");

    c.expect("bob", &["release", "offline", &second], 0);
    let live = c.json("bob", &["release", "list", "--state", "live"]);
    assert!(live.as_array().unwrap().is_empty());
    // bad input
    c.expect("bob", &["release", "list", "--state", "sideways"], 2);
    c.expect(
        "bob",
        &["release", "request", "clickstream_pv", "--note", "x"],
        2,
    );
    c.expect("bob", &["release", "golive", "999", "--memory", "lots"], 2);
}

#[test]
fn a_submit_checks_the_rights_the_job_needs_and_records_its_test() {
    let c = Checkout::new("rights");
    // kafka_main is registered: reading its topic clicks is governed
    c.expect(
        "root",
        &[
            "datasource",
            "add",
            "kafka_main",
            "--kind",
            "kafka",
            "--env",
            "test",
            "--test-address",
            "127.0.0.1:1",
        ],
        0,
    );
    let out = c.expect(
        "bob",
        &["job", "submit", "clickstream_pv", "-m", "first"],
        2,
    );
    assert!(out.contains("nothing was submitted"), "{out}");
    assert!(
        out.contains("weir perm request") && out.contains("clicks"),
        "{out}"
    );
    assert_eq!(
        c.json("bob", &["job", "versions", "clickstream_pv"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    c.expect(
        "root",
        &[
            "perm",
            "grant",
            "--table",
            "kafka_main.clicks",
            "--project",
            "shop",
            "--perms",
            "select",
        ],
        0,
    );

    // --with-test runs the job on its test package and records seed and verdict
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/clickstream_pv");
    let to = c.root.join("testdata/clickstream_pv");
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(&data).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
    let out = c.expect(
        "bob",
        &[
            "job",
            "submit",
            "clickstream_pv",
            "-m",
            "tested",
            "--with-test",
            "--seed",
            "7",
        ],
        0,
    );
    assert!(out.contains("test passed (seed 7)"), "{out}");
    let versions = c.json("bob", &["job", "versions", "clickstream_pv"]);
    assert_eq!(versions[0]["test"]["seed"], 7);
    assert_eq!(versions[0]["test"]["passed"], true);
}
