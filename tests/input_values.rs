//! Values checked at input (issue 15, item 15), by the rules job files follow
//! (`weir_model::values`): partition counts and retention days in range, field types a
//! job can declare, field names that differ in more than case, ports from 1 to 65535.
//! Each is refused when it is typed (exit 2, the field and the fix named), not when an
//! approval or a run trips over it.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::cli::Checkout;

fn create_topic(c: &Checkout, extra: &[&str], code: i32) -> String {
    let mut args = vec!["topic", "create", "clicks", "--project", "shop"];
    args.extend_from_slice(extra);
    c.expect("bob", &args, code)
}

#[test]
fn topic_values_are_checked_when_the_topic_is_designed() {
    let c = Checkout::new("values-topic");
    let e = create_topic(&c, &["--partitions", "99999999999"], 2);
    assert!(
        e.contains("partitions: 99999999999 partitions is out of range; a topic has 1 to 10000"),
        "{e}"
    );
    let e = create_topic(&c, &["--lifecycle-days", "9223372036854775807"], 2);
    assert!(
        e.contains(
            "lifecycle: 9223372036854775807 days is out of range; keep records 1 to 36500 days"
        ),
        "{e}"
    );
    let e = create_topic(&c, &["--lifecycle-days", "0"], 2);
    assert!(e.contains("lifecycle: 0 days is out of range"), "{e}");
    let e = create_topic(&c, &["--field", "a:nosuchtype"], 2);
    assert!(
        e.contains(
            "fields: field `a`: type `nosuchtype` is not one a job can read; use string, boolean"
        ),
        "{e}"
    );
    let e = create_topic(&c, &["--field", "price:decimal(40,2)"], 2);
    assert!(e.contains("precision is 1 to 38"), "{e}");
    let e = create_topic(&c, &["--field", "Id:bigint", "--field", "id:string"], 2);
    assert!(
        e.contains("fields `Id` and `id` differ only in case; SQL reads them as one"),
        "{e}"
    );
    let e = create_topic(&c, &["--field", "user id:string"], 2);
    assert!(
        e.contains("field 1: field name `user id` is not a valid name"),
        "{e}"
    );
    // nothing was stored by the refused attempts; a sound topic goes in
    let out = create_topic(
        &c,
        &[
            "--partitions",
            "12",
            "--lifecycle-days",
            "36500",
            "--field",
            "id:bigint",
            "--field",
            "price:decimal(10,2)",
            "--field",
            "ts:timestamp:event time",
        ],
        0,
    );
    assert!(out.contains("created topic clicks in shop"), "{out}");
    let t = c.json("bob", &["topic", "show", "clicks"]);
    assert_eq!(t["partitions"], 12);
    assert_eq!(t["fields"].as_array().unwrap().len(), 3);
}

#[test]
fn ports_are_checked_when_a_data_source_is_added() {
    let c = Checkout::new("values-port");
    c.expect("root", &["user", "add", "dora", "--role", "data_admin"], 0);
    let add = |name: &str, kind: &str, address: &str, code: i32| {
        c.expect(
            "dora",
            &[
                "datasource",
                "add",
                name,
                "--kind",
                kind,
                "--env",
                "test",
                "--test-address",
                address,
            ],
            code,
        )
    };
    let e = add("db", "mysql", "127.0.0.1:99999", 2);
    assert!(
        e.contains(
            "test address: port `99999` in `127.0.0.1:99999` is not a number from 1 to 65535"
        ),
        "{e}"
    );
    let e = add("k", "kafka", "b1:9092,b2:0", 2);
    assert!(e.contains("port `0` in `b2:0`"), "{e}");
    let e = add("db", "postgres", "postgres://db:http/x", 2);
    assert!(e.contains("port `http`"), "{e}");
    add("db", "mysql", "127.0.0.1:3306", 0);
    add("k", "kafka", "b1:9092, b2:9093", 0);
    add("r", "redis", "localhost", 0);
}

#[test]
fn job_files_hold_data_source_ports_to_the_same_rule() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/invalid/datasource_wrong_kind.ron"
    ))
    .unwrap()
    .replace(
        r#"(kind: Redis, address: "localhost:6379")"#,
        r#"(kind: Mysql, address: "mysql://localhost:99999/report")"#,
    );
    let checked = weir::jobfile::check_source("port.ron", &src);
    let port: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.code == "port")
        .collect();
    assert_eq!(port.len(), 1, "{:?}", checked.diagnostics);
    assert_eq!(
        port[0].message,
        "data source `mysql_report`: port `99999` in `mysql://localhost:99999/report` is not a number from 1 to 65535"
    );
    // the same file with a sound port has no such diagnostic
    let fixed = src.replace(":99999/", ":3306/");
    let checked = weir::jobfile::check_source("port.ron", &fixed);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
}
