//! `weir store init|grant|revoke` through the binary: init on SQLite and PostgreSQL says
//! what it did (text and `--json`), SQLite refuses login roles with what to do, and on
//! PostgreSQL a granted login acts as itself (`weir whoami`) until revoked.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};
use weir_store::SCHEMA_VERSION;

use weir_testsupport::postgres::PgDatabase;

/// A scratch project directory, removed at the end.
struct Project(PathBuf);

impl Project {
    fn new(name: &str) -> Project {
        let root =
            std::env::temp_dir().join(weir_testsupport::unique(&format!("weir_store_{name}")));
        std::fs::create_dir_all(root.join("jobs")).expect("project dir");
        Project(root)
    }

    /// Runs weir in the project on its own SQLite store, or on `database_url`.
    fn weir(&self, args: &[&str], database_url: Option<&str>) -> Output {
        self.weir_as("admin", args, database_url)
    }

    /// Runs weir as `user` (the actor on SQLite; ignored on PostgreSQL).
    fn weir_as(&self, user: &str, args: &[&str], database_url: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weir"));
        cmd.args(args)
            .current_dir(&self.0)
            .env("WEIR_USER", user)
            .env_remove("WEIR_STORE")
            .env_remove("WEIR_DATABASE_URL");
        if let Some(url) = database_url {
            cmd.env("WEIR_DATABASE_URL", url);
        }
        cmd.output().expect("run weir")
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(out: &Output) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn init_on_sqlite_says_what_it_did() {
    let p = Project::new("init");
    let out = p.weir(&["store", "init"], None);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("applied migration 1: governance"), "{said}");
    assert!(said.contains("applied migration 2:"), "{said}");
    assert!(
        said.contains(&format!(
            "the sqlite store is at schema version {SCHEMA_VERSION} (was 0)"
        )),
        "{said}"
    );
    assert!(p.0.join(".weir/weir.db").is_file());

    let out = p.weir(&["store", "init"], None);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert_eq!(
        said,
        format!("the sqlite store is already up to date (schema version {SCHEMA_VERSION})\n")
    );

    let v = json(&p.weir(&["store", "init", "--json"], None));
    assert_eq!(v["backend"], "sqlite");
    assert_eq!(v["version"], SCHEMA_VERSION);
    assert_eq!(v["from_version"], SCHEMA_VERSION);
    assert_eq!(v["applied"], serde_json::json!([]));
}

#[test]
fn grant_and_revoke_on_sqlite_say_there_are_no_login_roles() {
    let p = Project::new("lite_grant");
    for verb in ["grant", "revoke"] {
        let out = p.weir(&["store", verb, "alice"], None);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(said.contains("SQLite store has no login roles"), "{said}");
        assert!(said.contains("weir user add"), "{said}");
        assert!(said.contains("WEIR_DATABASE_URL"), "{said}");
        let v: serde_json::Value =
            serde_json::from_slice(&p.weir(&["store", verb, "alice", "--json"], None).stdout)
                .expect("JSON error");
        assert_eq!(v["fault"], "user");
    }
    // Refused before a session: admin did not become the store's first system admin,
    // so the next user to come does.
    let out = p.weir_as("bob", &["whoami"], None);
    assert_eq!(text(&out), "bob: system admin\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_granted_login_acts_as_itself_until_revoked() {
    let db = PgDatabase::create("weir_sc").await;
    let p = Project::new("pg");
    let owner = db.url();
    let said = text(&p.weir(&["store", "init"], Some(&owner)));
    assert!(
        said.contains(&format!(
            "the postgres store is at schema version {SCHEMA_VERSION} (was 0)"
        )),
        "{said}"
    );

    let alice = db.role("alice");
    db.adopt_role(&alice);
    let as_alice = db.url_as(&alice);
    let before = p.weir(&["whoami"], Some(&as_alice));
    assert_ne!(before.status.code(), Some(0), "{}", text(&before));

    let out = p.weir(&["store", "grant", &alice], Some(&owner));
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains(&format!("created login role {alice}")),
        "{said}"
    );
    assert!(said.contains("GRANT USAGE ON SCHEMA \"public\""), "{said}");
    assert!(
        said.contains(&format!("`weir user add {alice} --role ROLE`")),
        "{said}"
    );

    let out = p.weir(&["whoami"], Some(&as_alice));
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.starts_with(&format!("{alice}: ")), "{said}");

    let again = json(&p.weir(&["store", "grant", &alice, "--json"], Some(&owner)));
    assert_eq!(again["created_role"], false);

    let bad = p.weir(
        &["store", "grant", "x\"; DROP ROLE postgres; --"],
        Some(&owner),
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("not a valid login role name"),
        "{}",
        text(&bad)
    );

    let out = p.weir(&["store", "revoke", &alice], Some(&owner));
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains(&format!("dropped login role {alice}")),
        "{said}"
    );
    let after = p.weir(&["whoami"], Some(&as_alice));
    assert_ne!(after.status.code(), Some(0), "{}", text(&after));
    db.remove().await;
}
