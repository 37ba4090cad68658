//! The workbench asks before a data source test sends a secret (issue 15, item 2): in
//! `:datasources`, `t` on a data source whose secret this person has not confirmed for
//! its address shows which secret goes where; `y` sends it and remembers the answer, any
//! other key sends nothing. A reference outside weir's namespace is refused without a
//! question. An HTTP server of the test's own plays the data source.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::place::Place;
use common::{run_keys, shows};
use weir_store::{DataSourceSpec, Endpoint};

const W: u16 = 100;
const H: u16 = 30;
const SECRET: &str = "Tu1-Secret-5521";

fn spec(name: &str, address: &str, password: &str) -> DataSourceSpec {
    DataSourceSpec {
        name: name.into(),
        kind: weir_store::parse_kind("http").unwrap(),
        env: weir_store::Env::parse("test").unwrap(),
        test: Some(Endpoint {
            address: address.into(),
            options: serde_json::json!({}),
        }),
        prod: None,
        user: Some("u".into()),
        password: Some(password.into()),
        managed: false,
        owner_project: None,
        description: String::new(),
    }
}

#[test]
fn the_workbench_asks_before_a_data_source_test_sends_a_secret() {
    let dir = std::env::temp_dir().join(format!("weir-tui-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    std::fs::write(dir.join("secrets/web.pw"), SECRET).unwrap();
    weir_engine::resolve::set_secrets_dir(dir.join("secrets"));
    let trusted = dir.join("trusted-secrets");
    weir::app::secrets::set_trusted_file(&trusted);

    let server = common::http::Server::start();
    let address = server.place().to_string();
    let url = format!("http://{address}");
    let place = Place::new(false);
    place.seed();
    let gov = place.gov("dana");
    place
        .rt
        .block_on(gov.add_data_source(&spec("web", &url, "file:web.pw")))
        .unwrap();
    // a row from before the namespace rule, written past the app's checks
    place.rt.block_on(async {
        let store = weir_store::Store::open(&place.url("dana")).await.unwrap();
        let session = store.session(&place.who("dana")).await.unwrap();
        session
            .add_data_source(&spec("zold", &url, "env:HOME"))
            .await
            .unwrap();
        let mut leaky = spec("zmask", "http://u:Zq7TuiLeak@127.0.0.1:1/x", "file:web.pw");
        if let Some(e) = leaky.test.as_mut() {
            e.options = serde_json::json!({ "api_token": "Zq7TuiLeak", "path": "/x" });
        }
        session.add_data_source(&leaky).await.unwrap();
        store.close().await;
    });

    let mut app = place.app("tui-secrets", "dev");
    run_keys(&mut app, ":datasources<Enter>", W, H);
    let asked = run_keys(&mut app, "/web<Enter>t", W, H);
    let question =
        format!("secret file:web.pw will be sent to http at {address} (data source web). Send it?");
    assert!(shows(&asked, &question), "{asked}");

    // no: nothing sent, nothing remembered
    let no = run_keys(&mut app, "n", W, H);
    assert!(shows(&no, "web not tested; nothing was sent"), "{no}");
    assert!(server.requests().is_empty());
    assert!(!trusted.exists());

    // yes: sent, and remembered for this person
    let asked = run_keys(&mut app, "t", W, H);
    assert!(shows(&asked, &question), "asked again after a no: {asked}");
    run_keys(&mut app, "y", W, H);
    let done = common::wait_for(&mut app, "web (test): ok", Duration::from_secs(10), W, H);
    assert!(shows(&done, "web (test): ok"), "{done}");
    assert_eq!(server.requests().len(), 1);
    let memory = std::fs::read_to_string(&trusted).unwrap();
    assert!(
        memory.contains(&url) && memory.contains("file:web.pw"),
        "{memory}"
    );
    assert!(!memory.contains(SECRET));

    // confirmed: the next test goes without a question
    run_keys(&mut app, "t", W, H);
    let again = common::wait_for(&mut app, "web (test): ok", Duration::from_secs(10), W, H);
    assert!(!shows(&again, "Send it?"), "{again}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.requests().len() < 2 && std::time::Instant::now() < deadline {
        run_keys(&mut app, "wait 100", W, H);
    }
    assert_eq!(server.requests().len(), 2);

    // a reference outside weir's namespace: refused, no question, nothing sent
    let old = run_keys(&mut app, "/zold<Enter>t", W, H);
    assert!(!shows(&old, "Send it?"), "{old}");
    assert!(shows(&old, "env:HOME is refused and was not read"), "{old}");
    assert_eq!(server.requests().len(), 2);

    // an old row's credentials are masked in the list and the detail pane
    let shown = run_keys(&mut app, "/zmask<Enter>", W, H);
    assert!(shows(&shown, "http://u:••••@127.0.0.1:1/x"), "{shown}");
    assert!(shows(&shown, r#""api_token":"••••""#), "{shown}");
    assert!(!shown.contains("Zq7TuiLeak"), "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}
