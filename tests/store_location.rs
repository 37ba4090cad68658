//! Where the metadata store is (issue 15 items 13 and 14): a `--store` path that holds no
//! store is refused, not created (whoever opens a new store becomes its system admin),
//! unless `--create` says so; a URL of an unknown scheme is refused naming the known
//! ones; a PostgreSQL store that cannot be reached fails within seconds naming the cause.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::cli::Checkout;

#[test]
fn a_store_path_that_does_not_exist_is_refused_until_create() {
    let c = Checkout::new("store-missing");
    let path = c.root.join("no/such/dir/x.db");
    let p = path.to_str().unwrap();
    let out = c.expect("mallory", &["--store", p, "whoami"], 2);
    assert!(
        out.contains(&format!(
            "no metadata store at {p}: the file does not exist"
        )),
        "{out}"
    );
    assert!(out.contains("--create"), "{out}");
    assert!(!c.root.join("no").exists(), "no directory made");
    // a sqlite: URL, and WEIR_STORE, are the same flag
    let url = format!("sqlite://{p}");
    c.expect("mallory", &["--store", &url, "whoami"], 2);
    let out = c
        .command("mallory", &["whoami"])
        .env("WEIR_STORE", p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!c.root.join("no").exists());

    // asked for: made, with its directory, and its first user is its system admin
    let out = c.expect("mallory", &["--store", p, "--create", "whoami"], 0);
    assert_eq!(out, "mallory: system admin\n");
    assert!(path.is_file());
    // from then on it opens without --create, and the next person is nobody special
    let out = c.expect("bob", &["--store", p, "whoami"], 0);
    assert!(out.contains("not a registered user"), "{out}");
    let out = c.expect("mallory", &["--store", &url, "--create", "whoami"], 0);
    assert_eq!(
        out, "mallory: system admin\n",
        "--create on a store opens it"
    );

    // a directory is not a store
    let dir = c.root.join("jobs");
    let out = c.expect("mallory", &["--store", dir.to_str().unwrap(), "whoami"], 2);
    assert!(out.contains("is not a metadata store"), "{out}");
}

#[test]
fn the_projects_own_store_is_made_without_asking() {
    // Checkout::new runs its first commands on .weir/weir.db, which did not exist
    let c = Checkout::new("store-default");
    assert!(c.root.join(".weir/weir.db").is_file());
    let out = c.expect("root", &["whoami"], 0);
    assert_eq!(out, "root: system admin\n");
}

#[test]
fn unknown_store_schemes_are_refused_naming_the_known_ones() {
    let c = Checkout::new("store-scheme");
    for url in [
        "mysql://root@127.0.0.1:3306/test",
        "redis://127.0.0.1:6379",
        "MySQL://root@127.0.0.1/test",
    ] {
        for extra in [&[][..], &["--create"][..]] {
            let mut args = vec!["--store", url, "whoami"];
            args.extend_from_slice(extra);
            let out = c.expect("root", &args, 2);
            // named in lower case, as schemes compare
            let scheme = url.split("://").next().unwrap().to_ascii_lowercase();
            assert!(
                out.contains(&format!(
                    "`{scheme}://` is not a kind of metadata store weir knows"
                )),
                "{out}"
            );
            assert!(out.contains("sqlite://PATH"), "{out}");
            assert!(out.contains("postgres://USER@HOST/DB"), "{out}");
        }
    }
    let out = c
        .command("root", &["whoami"])
        .env("WEIR_DATABASE_URL", "mysql://root@127.0.0.1:3306/test")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("WEIR_DATABASE_URL: `mysql://`"), "{err}");
    // nothing named after the URL appeared
    let names: Vec<String> = std::fs::read_dir(&c.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(':')), "{names:?}");
}

#[test]
fn create_is_refused_for_a_postgres_store() {
    let c = Checkout::new("store-create-pg");
    let out = c.expect(
        "root",
        &[
            "--store",
            "postgres://postgres@127.0.0.1:5432/test",
            "--create",
            "whoami",
        ],
        2,
    );
    assert!(out.contains("--create makes a SQLite store"), "{out}");
}

/// Runs `weir --store URL whoami`, expecting exit `code` within 15 s; returns stderr.
fn unreachable(c: &Checkout, url: &str, code: i32) -> String {
    let started = Instant::now();
    let out = c.expect("root", &["--store", url, "whoami"], code);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{url}: took {:?}",
        started.elapsed()
    );
    out
}

#[test]
fn an_unreachable_postgres_store_fails_fast_naming_the_cause() {
    let c = Checkout::new("store-unreachable");
    // the probe: a closed port waited 30 s and said "pool timed out"
    let out = unreachable(&c, "postgres://postgres@127.0.0.1:1/x", 3);
    assert!(
        out.contains(
            "cannot connect to the metadata store at postgres://postgres@127.0.0.1:1/x: connection refused"
        ),
        "{out}"
    );
    assert!(!out.contains("pool timed out"), "{out}");
    assert!(out.contains("check that the database runs"), "{out}");

    let out = unreachable(&c, "postgres://postgres@no-such-host.invalid:5432/x", 3);
    assert!(out.contains(": no such host ("), "{out}");

    // the server answers and refuses: the user's to fix (exit 2), and no password shown
    let out = unreachable(
        &c,
        "postgres://weir_h6_no_such_role:secret@127.0.0.1:5432/test",
        2,
    );
    assert!(out.contains("authentication failed"), "{out}");
    assert!(!out.contains("secret"), "{out}");
    assert!(out.contains("ask the store's owner for a login"), "{out}");
}
