//! What the command line reports about people and data sources, and what the workbench
//! then shows (issue 17, bug 10): `weir user list` names a developer's project roles, and
//! a connectivity test run with `weir datasource test` is the data source's last test in
//! the workbench (`ok 3s ago by bob`), not `not tested yet`.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::cli::Checkout;

#[test]
fn user_list_shows_project_roles() {
    let c = Checkout::new("user-roles");
    c.expect("root", &["user", "add", "olga", "--role", "ops"], 0);
    let text = c.expect("root", &["user", "list"], 0);
    let row = |login: &str| {
        text.lines()
            .find(|l| l.starts_with(login))
            .unwrap_or_else(|| panic!("no row for {login}:\n{text}"))
            .to_string()
    };
    assert!(row("bob").ends_with("developer@shop"), "{text}");
    assert!(row("root").ends_with("system_admin"), "{text}");
    assert!(row("olga").ends_with("ops"), "{text}");
    c.expect("root", &["project", "create", "ads"], 0);
    c.expect(
        "root",
        &[
            "user",
            "add",
            "olga",
            "--role",
            "project_admin",
            "--project",
            "ads",
        ],
        0,
    );
    let text = c.expect("root", &["user", "list"], 0);
    assert!(
        text.lines()
            .any(|l| l.starts_with("olga") && l.ends_with("ops,project_admin@ads")),
        "{text}"
    );
    let out = c.weir("bob", &["--json", "user", "list"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bob = v
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "bob")
        .unwrap();
    assert_eq!(bob["roles"], serde_json::json!([]));
    assert_eq!(bob["projects"], serde_json::json!([["shop", "developer"]]));
}

/// The last frame of `weir tui --script` (at 160x50) as `user`, running `script`.
fn last_frame(c: &Checkout, user: &str, name: &str, script: &str) -> String {
    let file = c.root.join(format!("{name}.txt"));
    std::fs::write(&file, script).unwrap();
    let frames = c.root.join(format!("frames-{name}"));
    let out = c.weir(
        user,
        &[
            "tui",
            "--script",
            file.to_str().unwrap(),
            "--size",
            "160x50",
            "--dump",
            frames.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all: Vec<_> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    all.sort();
    std::fs::read_to_string(all.last().unwrap()).unwrap()
}

#[test]
fn a_cli_connectivity_test_shows_in_the_workbench() {
    let c = Checkout::new("last-test");
    // a TCP check (hive) against a port this test listens on, and one nobody listens on
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let up = format!("127.0.0.1:{port}");
    for (name, address) in [("lake", up.as_str()), ("void", "127.0.0.1:1")] {
        c.expect(
            "root",
            &[
                "datasource",
                "add",
                name,
                "--kind",
                "hive",
                "--env",
                "test",
                "--test-address",
                address,
            ],
            0,
        );
    }
    let script = ":datasources<Enter>\nexpect \"lake\"\n";
    let before = last_frame(&c, "bob", "before", script);
    assert!(before.contains("not tested yet"), "{before}");

    c.expect("bob", &["datasource", "test", "lake", "--yes"], 0);
    c.expect("eve", &["datasource", "test", "void", "--yes"], 1);

    // eve, another developer, sees bob's test of lake (selected first) and her own of void
    let after = last_frame(&c, "eve", "after", script);
    assert!(!after.contains("not tested yet"), "{after}");
    assert!(aged(&after, "ms, ", "s ago by bob"), "{after}");
    assert!(after.contains("test: ok in "), "{after}");
    assert!(after.contains("not checked:"), "{after}");
    let row = |name: &str, said: &str, by: &str| {
        after
            .lines()
            .any(|l| l.contains(name) && l.contains("hive") && aged(l, said, by))
    };
    assert!(row("lake", "ok ", "s ago by bob"), "{after}");
    assert!(row("void", "✗ failed ", "s ago by eve"), "{after}");

    // the command line says who tested and when, too
    let out = c.weir("bob", &["--json", "datasource", "test", "lake", "--yes"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["recorded"]["tested_by"], "bob", "{v}");
    assert_eq!(v["result"]["ok"], true, "{v}");
    let shown = c.expect("eve", &["datasource", "show", "lake"], 0);
    assert!(shown.contains("last test:   test ok at 20"), "{shown}");
    assert!(shown.contains(" by bob in "), "{shown}");
    drop(listener);
}

/// Whether `text` holds `before`, a number, then `after` (`ok 3s ago by bob`).
fn aged(text: &str, before: &str, after: &str) -> bool {
    text.match_indices(before).any(|(i, _)| {
        let rest = &text[i + before.len()..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        digits > 0 && rest[digits..].starts_with(after)
    })
}
