//! Secrets that cannot be exfiltrated (issue 15, items 2 and 3), through the `weir`
//! binary: an HTTP server of the test's own plays a data admin's server. References
//! resolve only from weir's namespace (`WEIR_SECRET_*`, files in the secrets directory),
//! a secret is sent only once the person confirmed where it goes (`--yes` here, as
//! stdin is no terminal), the confirmation is remembered per data source, address and
//! reference, plain credentials are refused at input, and no output shows a password.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use common::cli::Checkout;
use common::http::Server;

/// The secret the person's environment holds for weir.
const SECRET: &str = "Pl4nted-S3cret-7731";
/// A password planted in an old store row's address and options.
const PLANTED: &str = "Zq7Distinct-Pw";

/// The person's own configuration: config dir (confirmations), secrets dir, a HOME of
/// the test's own.
struct Person {
    config: PathBuf,
    secrets: PathBuf,
    home: PathBuf,
}

impl Person {
    fn new(c: &Checkout) -> Person {
        let p = Person {
            config: c.root.join("person/config"),
            secrets: c.root.join("person/secrets"),
            home: c.root.join("person/home"),
        };
        for d in [&p.config, &p.secrets, &p.home] {
            std::fs::create_dir_all(d).unwrap();
        }
        p
    }

    /// `weir ARGS` as root, no terminal: exit code and stdout + stderr.
    fn weir(&self, c: &Checkout, args: &[&str]) -> (i32, String) {
        let out = c
            .command("root", args)
            .env("WEIR_CONFIG_DIR", &self.config)
            .env("WEIR_SECRETS_DIR", &self.secrets)
            .env("HOME", &self.home)
            .env("WEIR_SECRET_X", SECRET)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains(SECRET),
            "weir {args:?} printed the secret:\n{text}"
        );
        (out.status.code().unwrap_or(-1), text)
    }

    fn expect(&self, c: &Checkout, args: &[&str], code: i32) -> String {
        let (got, text) = self.weir(c, args);
        assert_eq!(got, code, "weir {args:?}:\n{text}");
        text
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Adds http data source `name` at `url` with user `u` and password `password` (as root,
/// a system admin).
fn add_http(
    c: &Checkout,
    p: &Person,
    name: &str,
    url: &str,
    password: &str,
    update: bool,
) -> (i32, String) {
    let mut args = vec![
        "datasource",
        "add",
        name,
        "--kind",
        "http",
        "--env",
        "test",
        "--test-address",
        url,
        "--user",
        "u",
        "--password",
        password,
    ];
    if update {
        args.push("--update");
    }
    p.weir(c, &args)
}

/// Copies the example job `iot_alerts` into the checkout's jobs/; returns its text.
fn copy_example(c: &Checkout) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/iot_alerts.ron");
    let text = std::fs::read_to_string(path).unwrap();
    c.write_job("iot_alerts.ron", &text);
    text
}

/// Writes a data source straight into the checkout's store, past the app's input checks:
/// a row from before them, or one a data admin wrote with SQL.
fn plant(
    c: &Checkout,
    name: &str,
    kind: &str,
    address: &str,
    password: Option<&str>,
    options: serde_json::Value,
) {
    let url = format!("sqlite://{}", c.root.join(".weir/weir.db").display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = weir_store::Store::open(&url).await.unwrap();
        let session = store.session("root").await.unwrap();
        session
            .add_data_source(&weir_store::DataSourceSpec {
                name: name.into(),
                kind: weir_store::parse_kind(kind).unwrap(),
                env: weir_store::Env::parse("test").unwrap(),
                test: Some(weir_store::Endpoint {
                    address: address.into(),
                    options,
                }),
                prod: None,
                user: Some("u".into()),
                password: password.map(str::to_string),
                managed: false,
                owner_project: None,
                description: String::new(),
            })
            .await
            .unwrap();
        store.close().await;
    });
}

#[test]
fn references_outside_weirs_namespace_are_refused_and_nothing_is_sent() {
    let c = Checkout::new("secrets-namespace");
    let p = Person::new(&c);
    let server = Server::start();

    // at input: the message says where secrets belong
    let (code, e) = add_http(&c, &p, "web", &server.url, "env:HOME", false);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("WEIR_SECRET_<something>"), "{e}");
    let (code, e) = add_http(&c, &p, "web", &server.url, "file:/etc/passwd", false);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("secrets directory"), "{e}");
    let (code, e) = add_http(&c, &p, "web", &server.url, "file:../../etc/passwd", false);
    assert_eq!(code, 2, "{e}");

    // at use: rows written before the rule (or with SQL) are refused, never read
    plant(
        &c,
        "old_env",
        "http",
        &server.url,
        Some("env:HOME"),
        serde_json::json!({}),
    );
    plant(
        &c,
        "old_file",
        "http",
        &server.url,
        Some("file:/etc/passwd"),
        serde_json::json!({}),
    );
    let e = p.expect(&c, &["datasource", "test", "old_env", "--yes"], 2);
    assert!(e.contains("env:HOME is refused and was not read"), "{e}");
    assert!(e.contains("WEIR_SECRET_<something>"), "{e}");
    let e = p.expect(&c, &["datasource", "test", "old_file"], 2);
    assert!(e.contains("file:/etc/passwd is refused"), "{e}");
    assert!(!e.contains("root:x:"), "{e}");

    // a link in the secrets directory that leads outside it is refused too
    let outside = c.root.join("outside-secret");
    std::fs::write(&outside, "OUTSIDE-VALUE").unwrap();
    std::os::unix::fs::symlink(&outside, p.secrets.join("link")).unwrap();
    let (code, e) = add_http(&c, &p, "linked", &server.url, "file:link", false);
    assert_eq!(code, 0, "{e}");
    let e = p.expect(&c, &["datasource", "test", "linked", "--yes"], 1);
    assert!(e.contains("leads outside weir's secrets directory"), "{e}");
    assert!(!e.contains("OUTSIDE-VALUE"), "{e}");

    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[test]
fn a_secret_is_sent_once_confirmed_and_a_new_address_asks_again() {
    let c = Checkout::new("secrets-confirm");
    let p = Person::new(&c);
    let first = Server::start();
    let (code, e) = add_http(&c, &p, "web", &first.url, "env:WEIR_SECRET_X", false);
    assert_eq!(code, 0, "{e}");

    // no terminal and no --yes: refused, saying what would go where and naming --yes
    let e = p.expect(&c, &["datasource", "test", "web"], 2);
    let what = format!(
        "secret WEIR_SECRET_X will be sent to http at {} (data source web)",
        first.place()
    );
    assert!(e.contains(&what), "{e}");
    assert!(e.contains("--yes") && e.contains("nothing was sent"), "{e}");
    assert!(first.requests().is_empty());
    let trusted = p.config.join("trusted-secrets");
    assert!(!trusted.exists());

    // --yes: sent (Basic auth with the secret) and remembered in the person's config dir
    let ok = p.expect(&c, &["datasource", "test", "web", "--yes"], 0);
    assert!(ok.contains("ok") && ok.contains("HTTP 200"), "{ok}");
    let auth = format!("Basic {}", base64(format!("u:{SECRET}").as_bytes()));
    let got = first.requests();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0]
            .to_ascii_lowercase()
            .contains(&format!("authorization: {}", auth.to_ascii_lowercase())),
        "{got:?}"
    );
    let memory = std::fs::read_to_string(&trusted).unwrap();
    assert!(
        memory.contains(&first.url) && memory.contains("env:WEIR_SECRET_X"),
        "{memory}"
    );
    assert!(!memory.contains(SECRET), "{memory}");

    // remembered: no question the second time
    p.expect(&c, &["datasource", "test", "web"], 0);
    assert_eq!(first.requests().len(), 2);

    // the data source moves: asked again, nothing sent to the new address
    let second = Server::start();
    let (code, e) = add_http(&c, &p, "web", &second.url, "env:WEIR_SECRET_X", true);
    assert_eq!(code, 0, "{e}");
    let e = p.expect(&c, &["datasource", "test", "web"], 2);
    assert!(
        e.contains(&format!("http at {} (data source web)", second.place())),
        "{e}"
    );
    assert!(second.requests().is_empty());

    // another person (another config dir) is asked on their own
    let other = Person {
        config: c.root.join("other/config"),
        ..Person::new(&c)
    };
    std::fs::create_dir_all(&other.config).unwrap();
    p.expect(&c, &["datasource", "test", "web", "--yes"], 0);
    other.expect(&c, &["datasource", "test", "web"], 2);
    assert_eq!(second.requests().len(), 1);

    // weir run asks as well, before anything connects
    copy_example(&c);
    let e = p.expect(
        &c,
        &[
            "run",
            "jobs/iot_alerts.ron",
            "--set",
            "kafka_iot=127.0.0.1:1",
            "--set",
            "mysql_ops=mysql://root@127.0.0.1:3306/test",
            "--set",
            "mysql_ops.password=env:WEIR_SECRET_X",
            "--bounded",
        ],
        2,
    );
    assert!(
        e.contains(
            "secret WEIR_SECRET_X will be sent to mysql at 127.0.0.1:3306 (data source mysql_ops)"
        ),
        "{e}"
    );
    assert!(e.contains("--yes"), "{e}");
}

#[test]
fn plain_credentials_are_refused_at_input() {
    let c = Checkout::new("secrets-plain");
    let p = Person::new(&c);
    let add = |address: &str, extra: &[&str]| {
        let mut args = vec![
            "datasource",
            "add",
            "db",
            "--kind",
            "mysql",
            "--env",
            "test",
            "--test-address",
            address,
        ];
        args.extend_from_slice(extra);
        p.weir(&c, &args)
    };
    for address in [
        "mysql://u:PlainPw99@127.0.0.1:3306/test",
        "u:PlainPw99@127.0.0.1:3306",
    ] {
        let (code, e) = add(address, &[]);
        assert_eq!(code, 2, "{e}");
        assert!(e.contains("--password env:WEIR_SECRET_"), "{e}");
        assert!(!e.contains("PlainPw99"), "{e}");
    }
    for (kind, address) in [
        ("postgres", "postgres://app:PlainPw99@127.0.0.1:5432/test"),
        ("redis", "redis://:PlainPw99@127.0.0.1:6379"),
        ("kafka", "127.0.0.1:9092,svc:PlainPw99@127.0.0.1:9093"),
    ] {
        let (code, e) = p.weir(
            &c,
            &[
                "datasource",
                "add",
                "x",
                "--kind",
                kind,
                "--env",
                "test",
                "--test-address",
                address,
            ],
        );
        assert_eq!(code, 2, "{kind}: {e}");
        assert!(
            e.contains("holds a password") && !e.contains("PlainPw99"),
            "{e}"
        );
    }
    for option in [
        ["--option", "password=PlainPw99"],
        ["--option", "sasl.password=PlainPw99"],
        ["--test-option", "ssl.key.password=PlainPw99"],
        ["--option", "client_secret=PlainPw99"],
        ["--option", "auth_token=PlainPw99"],
    ] {
        let (code, e) = add("127.0.0.1:3306", &option);
        assert_eq!(code, 2, "{option:?}: {e}");
        assert!(
            e.contains("--password env:WEIR_SECRET_") && !e.contains("PlainPw99"),
            "{e}"
        );
    }
    // a user name without a password may stay in the address
    let (code, e) = add(
        "mysql://report@127.0.0.1:3306/test",
        &["--option", "database=test"],
    );
    assert_eq!(code, 0, "{e}");

    // --set: only references, no userinfo, no sensitive option
    let text = copy_example(&c);
    let job = "jobs/iot_alerts.ron";
    for set in [
        "mysql_ops.password=PlainPw99",
        "mysql_ops=mysql://root:PlainPw99@127.0.0.1:3306/test",
        "mysql_ops.sasl.password=PlainPw99",
    ] {
        let (code, e) = p.weir(
            &c,
            &["run", job, "--set", "mysql_ops.kind=mysql", "--set", set],
        );
        assert_eq!(code, 2, "{set}: {e}");
        assert!(!e.contains("PlainPw99"), "{e}");
        assert!(e.contains("WEIR_SECRET_"), "{set}: {e}");
    }

    // a job file's own data sources: validate refuses them, located
    let text = text.replacen(
        "config:",
        r#"datasources: {"mysql_ops": (kind: Mysql, address: "mysql://root:PlainPw99@127.0.0.1:3306/test", password: Some("env:HOME"))},
    config:"#,
        1,
    );
    c.write_job("inline.ron", &text);
    let (code, e) = p.weir(&c, &["validate", "jobs/inline.ron"]);
    assert_ne!(code, 0, "{e}");
    assert!(
        e.contains("error[credential]") && e.contains("holds a password"),
        "{e}"
    );
    assert!(e.contains("WEIR_SECRET_"), "{e}");
}

#[test]
fn show_list_and_errors_never_print_a_password() {
    let c = Checkout::new("secrets-mask");
    let p = Person::new(&c);
    plant(
        &c,
        "old_db",
        "mysql",
        &format!("mysql://u:{PLANTED}@127.0.0.1:1/db"),
        Some("env:WEIR_SECRET_X"),
        serde_json::json!({"password": PLANTED, "database": "db"}),
    );
    let mut outputs = vec![
        p.expect(&c, &["datasource", "show", "old_db"], 0),
        p.expect(&c, &["datasource", "show", "old_db", "--json"], 0),
        p.expect(&c, &["datasource", "list"], 0),
        p.expect(&c, &["datasource", "list", "--json"], 0),
    ];
    assert!(
        outputs[0].contains("mysql://u:••••@127.0.0.1:1/db"),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[0].contains("env:WEIR_SECRET_X (••••)"),
        "{}",
        outputs[0]
    );
    // the connectivity error names the address, masked
    let e = p.expect(&c, &["datasource", "test", "old_db", "--yes"], 1);
    assert!(e.contains("FAIL") && e.contains("127.0.0.1"), "{e}");
    outputs.push(e);
    for out in &outputs {
        assert!(!out.contains(PLANTED), "{out}");
    }
}

/// `weir ARGS` as root on a terminal of its own (util-linux `script` gives it a pty),
/// typing `answer`: exit code and what the terminal showed.
fn on_a_terminal(c: &Checkout, p: &Person, args: &[&str], answer: &str) -> (i32, String) {
    let line = std::iter::once(env!("CARGO_BIN_EXE_weir"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(&c.root)
        .env("WEIR_USER", "root")
        .env("NO_COLOR", "1")
        .env_remove("WEIR_DATABASE_URL")
        .env_remove("WEIR_STORE")
        .env_remove("WEIR_PROJECT")
        .env("WEIR_CONFIG_DIR", &p.config)
        .env("WEIR_SECRETS_DIR", &p.secrets)
        .env("HOME", &p.home)
        .env("WEIR_SECRET_X", SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{answer}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains(SECRET), "{text}");
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn a_person_at_a_terminal_is_asked_y_or_n() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("no `script` (util-linux) to give weir a terminal; skipped");
        return;
    }
    let c = Checkout::new("secrets-terminal");
    let p = Person::new(&c);
    let server = Server::start();
    let (code, e) = add_http(&c, &p, "web", &server.url, "env:WEIR_SECRET_X", false);
    assert_eq!(code, 0, "{e}");
    let question = format!(
        "secret WEIR_SECRET_X will be sent to http at {} (data source web). Send it? [y/N]",
        server.place()
    );

    let (code, shown) = on_a_terminal(&c, &p, &["datasource", "test", "web"], "n");
    assert!(shown.contains(&question), "{shown}");
    assert!(
        shown.contains("not confirmed") && shown.contains("nothing was sent"),
        "{shown}"
    );
    assert_eq!(code, 2, "{shown}");
    assert!(server.requests().is_empty());

    let (code, shown) = on_a_terminal(&c, &p, &["datasource", "test", "web"], "y");
    assert!(shown.contains(&question), "{shown}");
    assert_eq!(code, 0, "{shown}");
    assert_eq!(server.requests().len(), 1);
    // remembered: the script that follows needs no terminal
    p.expect(&c, &["datasource", "test", "web"], 0);
}
