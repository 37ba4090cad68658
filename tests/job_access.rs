//! Governance reaches the jobs (issue 13), through the binary on a temporary SQLite store
//! named by `WEIR_STORE`, set up with the CLI itself: a Kafka source without `fields`
//! takes them from the catalog (`weir validate --store`, `weir test`), `weir run` is
//! refused until the acting person has `select` on the topic (the refusal's own `weir
//! perm request` command asks for it), a test over local data needs no grants, and
//! `weir project remove-member` takes a member out, audited.
// Helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

/// A checkout of project `shop` with its store outside it.
struct Place {
    dir: PathBuf,
    root: PathBuf,
    store: PathBuf,
}

impl Place {
    fn new(name: &str) -> Place {
        let dir =
            std::env::temp_dir().join(format!("weir-job-access-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("checkout");
        std::fs::create_dir_all(root.join("jobs")).unwrap();
        std::fs::create_dir_all(root.join(".weir")).unwrap();
        std::fs::write(root.join(".weir/project"), "shop\n").unwrap();
        let store = dir.join("store.db");
        Place { dir, root, store }
    }

    fn command(&self, user: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_weir"));
        c.current_dir(&self.root)
            .env("WEIR_USER", user)
            .env("WEIR_STORE", &self.store)
            .env("WEIR_CONFIG_DIR", self.dir.join("noconfig"))
            .env_remove("WEIR_DATABASE_URL")
            .env_remove("WEIR_PROJECT");
        c
    }

    fn weir(&self, user: &str, args: &[&str]) -> Output {
        self.command(user).args(args).output().unwrap()
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
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.weir(user, &all);
        assert!(
            out.status.success(),
            "weir {args:?} as {user}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Alice (system admin) with project shop, bob its developer, dora data admin; the
    /// Kafka data source kmain (nothing listens there) and topic clicks of the catalog,
    /// published to test on kmain (approved in the store alone: kmain has no broker).
    fn governed(name: &str) -> Place {
        let p = Place::new(name);
        // WEIR_STORE names a file that is not there yet: made on request only
        p.expect("alice", &["whoami", "--create"], 0);
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
            "bob",
            &[
                "topic",
                "create",
                "clicks",
                "--project",
                "shop",
                "--field",
                "user_id:string",
                "--field",
                "url:string",
                "--field",
                "ts:timestamp:click time",
            ],
            0,
        );
        let req = p.json(
            "bob",
            &[
                "topic",
                "publish",
                "clicks",
                "--env",
                "test",
                "--datasource",
                "kmain",
            ],
        );
        let id = req["id"].as_i64().unwrap();
        let url = format!("sqlite://{}", p.store.display());
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(common::approve_in_store(&url, "dora", id, "ok"));
        assert_eq!(p.json("bob", &["topic", "show", "clicks"])["state"], "test");
        p.write("jobs/pv.ron", PV);
        p
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Reads topic clicks of kmain without declaring its fields.
const PV: &str = r#"Job(
    version: 1,
    name: "pv",
    nodes: [
        KafkaSource(id: "clicks", datasource: "kmain", topic: "clicks"),
        Sql(id: "q", query: "SELECT user_id, url FROM clicks"),
        PrintSink(id: "out"),
    ],
    edges: [("clicks", "q"), ("q", "out")],
)
"#;

/// Declares fields that differ from the catalog's in every way.
const DIFFERS: &str = r#"Job(
    version: 1,
    name: "differs",
    nodes: [
        KafkaSource(
            id: "clicks",
            datasource: "kmain",
            topic: "clicks",
            format: Some(Csv),
            fields: Some([
                (name: "user_id", type: String),
                (name: "ts", type: BigInt),
                (name: "referrer", type: String),
            ]),
        ),
        PrintSink(id: "out"),
    ],
    edges: [("clicks", "out")],
)
"#;

#[test]
fn validate_takes_the_schema_from_the_catalog() {
    let p = Place::governed("validate");
    // offline, a source must declare its fields
    let out = p
        .command("bob")
        .env_remove("WEIR_STORE")
        .args(["validate", "jobs/pv.ron"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("error[no-fields]"), "{err}");
    assert!(err.contains("jobs/pv.ron:5:"), "{err}");
    // with the store, the catalog gives them, and the SQL is checked against them
    let store = p.store.display().to_string();
    let ok = p.expect("bob", &["validate", "--store", &store, "jobs/pv.ron"], 0);
    assert!(ok.contains("ok: jobs/pv.ron"), "{ok}");

    // declared fields are compared with the catalog's: warnings, at their places
    p.write("jobs/differs.ron", DIFFERS);
    let v = p.json("bob", &["validate", "--store", &store, "jobs/differs.ron"]);
    assert_eq!(v["valid"], true, "{v}");
    let found: Vec<(String, i64, String)> = v["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["severity"], "warning", "{d}");
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_i64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let codes: Vec<(&str, i64)> = found.iter().map(|(c, l, _)| (c.as_str(), *l)).collect();
    assert_eq!(
        codes,
        vec![
            ("catalog-format", 9),
            ("catalog-missing-field", 10),
            ("catalog-field-type", 12),
            ("catalog-extra-field", 13),
        ],
        "{found:?}"
    );
    let messages: Vec<&str> = found.iter().map(|(_, _, m)| m.as_str()).collect();
    assert!(
        messages[0].contains("format: job says Csv, catalog says json"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("job says nothing of field `url`, catalog says `url: string`"),
        "{messages:?}"
    );
    assert!(
        messages[2].contains("field `ts`: job says BigInt, catalog says timestamp"),
        "{messages:?}"
    );
    assert!(
        messages[3].contains("job says `referrer: String`, catalog has no field `referrer`"),
        "{messages:?}"
    );
    // a store that is not there is named, not created
    let e = p.expect(
        "bob",
        &["validate", "--store", "nosuch.db", "jobs/pv.ron"],
        2,
    );
    assert!(e.contains("no metadata store at nosuch.db"), "{e}");
    assert!(!p.root.join("nosuch.db").exists());
}

#[test]
fn run_is_refused_until_the_developer_has_select_on_the_topic() {
    let p = Place::governed("run");
    let e = p.expect("bob", &["run", "--bounded", "jobs/pv.ron"], 2);
    assert!(
        e.contains("job pv may not run: bob (acting in project shop) lacks 1 right:"),
        "{e}"
    );
    assert!(
        e.contains("select on kmain.clicks (read by node clicks): no grant"),
        "{e}"
    );
    let request = "weir perm request --table kmain.clicks --for project:shop --perms select --reason 'job pv reads it'";
    assert!(e.contains(request), "{e}");
    // `weir perm check` agrees
    p.expect(
        "dora",
        &[
            "perm",
            "check",
            "--user",
            "bob",
            "--project",
            "shop",
            "--table",
            "kmain.clicks",
            "--op",
            "select",
        ],
        1,
    );

    // the refusal's own command asks for the right; a data admin approves it
    let bin = env!("CARGO_BIN_EXE_weir");
    let out = Command::new("sh")
        .arg("-c")
        .arg(request.replacen("weir", &format!("'{bin}' --json"), 1))
        .current_dir(&p.root)
        .env("WEIR_USER", "bob")
        .env("WEIR_STORE", &p.store)
        .env_remove("WEIR_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let asked: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = asked[0]["id"].as_i64().unwrap().to_string();
    p.expect("dora", &["approve", &id, "--opinion", "ok"], 0);

    // now the rights pass: the run goes on to the broker, which is not there (exit 3)
    let e = p.expect("bob", &["run", "--bounded", "jobs/pv.ron"], 3);
    assert!(!e.contains("may not run"), "{e}");
    assert!(
        e.contains("127.0.0.1:1"),
        "the unreachable broker is named: {e}"
    );
}

#[test]
fn a_test_over_local_data_needs_no_grants() {
    let p = Place::governed("test");
    p.write(
        "testdata/pv/clicks.jsonl",
        "{\"user_id\": \"u1\", \"url\": \"/a\", \"ts\": 1772359200000}\n{\"user_id\": \"u2\", \"url\": \"/b\", \"ts\": 1772359201000}\n",
    );
    p.write(
        "testdata/pv/expected.jsonl",
        "{\"sink\": \"out\", \"row\": {\"user_id\": \"u1\", \"url\": \"/a\"}}\n{\"sink\": \"out\", \"row\": {\"user_id\": \"u2\", \"url\": \"/b\"}}\n",
    );
    // bob has no grant on kmain.clicks, and the fields come from the catalog
    let out = p.expect("bob", &["test", "jobs/pv.ron"], 0);
    assert!(out.contains("test passed"), "{out}");
    // someone the store does not even know tests just as well
    let out = p.expect("nobody", &["test", "jobs/pv.ron"], 0);
    assert!(out.contains("test passed"), "{out}");
    // without a store there is no catalog to take the fields from
    let out = p
        .command("bob")
        .env_remove("WEIR_STORE")
        .args(["test", "jobs/pv.ron"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("source `clicks` declares no `fields`, and no metadata store is in use"),
        "{err}"
    );
}

#[test]
fn remove_member_takes_a_member_out_audited() {
    let p = Place::governed("members");
    p.expect(
        "dora",
        &[
            "perm",
            "grant",
            "--table",
            "kmain.clicks",
            "--project",
            "shop",
            "--perms",
            "select",
        ],
        0,
    );
    // bob's right comes from the project's whitelist, through membership
    let e = p.expect("bob", &["run", "--bounded", "jobs/pv.ron"], 3);
    assert!(!e.contains("may not run"), "{e}");

    let e = p.expect("bob", &["project", "remove-member", "shop", "bob"], 2);
    assert!(e.contains("remove project members"), "{e}");
    let removed = p.json("alice", &["project", "remove-member", "shop", "bob"]);
    assert_eq!(
        removed,
        serde_json::json!({"project": "shop", "login": "bob", "role": "developer", "removed": true})
    );
    let members = p.json("alice", &["project", "members", "shop"]);
    assert!(
        !members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["login"] == "bob"),
        "{members}"
    );
    let audit = p.json("alice", &["audit"]);
    let entry = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "member.remove")
        .unwrap_or_else(|| panic!("no member.remove in {audit}"));
    assert_eq!(entry["actor"], "alice", "{entry}");
    let e = p.expect("alice", &["project", "remove-member", "shop", "bob"], 2);
    assert!(e.contains("no member of project named `bob`"), "{e}");
    let text = p.expect(
        "alice",
        &[
            "user",
            "add",
            "carol",
            "--role",
            "developer",
            "--project",
            "shop",
        ],
        0,
    );
    assert!(text.contains("carol"), "{text}");
    let text = p.expect("alice", &["project", "remove-member", "shop", "carol"], 0);
    assert_eq!(text.trim(), "removed carol from project shop");

    // without membership the project's grant is not bob's: he asks for himself now
    let e = p.expect("bob", &["run", "--bounded", "jobs/pv.ron"], 2);
    assert!(e.contains("--for person:bob --perms select"), "{e}");
}
