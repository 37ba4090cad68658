//! The release road through the workbench (issue 13, SPEC R-life): a developer, `bob`,
//! submits two versions of a job and requests their releases with the `weir` command
//! line; the system admin, `root` (the store's first user), reviews the request in
//! `:inbox` with its diff against the live version, one key away from the full diff view,
//! and approves it bound to the hash shown; then takes it live from `:releases` with the
//! go-live form, checked as it is typed. The production instance record is then in
//! `weir release list`, and the older live release is replaced. Approving your own
//! release request, or taking live a release that is not approved, shows the store's
//! refusal with its rule.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::place::Place;
use common::{run_keys, scratch_project, shows, without_the_clock};
use weir::app::jobs::{GoLiveSpec, ReleaseFilter, ReleaseState, StartPosition};
use weir::tui::workbench::Workbench;
use weir_store::ProjectRole;

/// Run `weir ARGS` as `user` in the checkout at `dir`, on the place's SQLite store.
fn weir(place: &Place, dir: &Path, user: &str, args: &[&str]) -> String {
    let store = place.sqlite.as_ref().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .current_dir(dir)
        .args(args)
        .env_remove("WEIR_DATABASE_URL")
        .env_remove("WEIR_PROJECT")
        .env("WEIR_STORE", store)
        .env("WEIR_USER", user)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "weir {} failed:\n{stdout}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The world: `root` (system admin, the first user), `bob` developer of project `demo`
/// (the scratch checkouts' directory name), and bob's checkout.
fn world(name: &str) -> (Place, PathBuf) {
    let place = Place::new(false);
    let root = place.gov("root");
    place.block_on(async {
        root.add_user("bob", "Bob Builder", &[]).await.unwrap();
        root.create_project("demo", "the demo project")
            .await
            .unwrap();
        root.add_member("demo", "bob", ProjectRole::Developer)
            .await
            .unwrap();
        root.closer().close().await;
    });
    let checkout = scratch_project(name);
    (place, checkout)
}

/// Replace `from` by `to` once in bob's working file of clickstream_pv.
fn edit(checkout: &Path, from: &str, to: &str) {
    let p = checkout.join("jobs/clickstream_pv.ron");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{from} not in {text}");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

/// `#N` of `weir release request` output: "release request #N is pending …".
fn request_id(out: &str) -> i64 {
    let rest = out.split_once('#').unwrap().1;
    rest.split(' ').next().unwrap().parse().unwrap()
}

/// Bob submits versions 1 and 2 (the SQL and the parallelism change) and version 1 goes
/// live; then he requests the release of version 2. The release ids of 1 and 2.
fn two_versions_one_live(place: &Place, checkout: &Path) -> (i64, i64) {
    let out = weir(
        place,
        checkout,
        "bob",
        &["job", "submit", "clickstream_pv", "-m", "first"],
    );
    assert!(out.contains("version 1 ("), "{out}");
    let first = request_id(&weir(
        place,
        checkout,
        "bob",
        &[
            "release",
            "request",
            "clickstream_pv@1",
            "--note",
            "first cut",
        ],
    ));
    let root = place.gov("root");
    place.block_on(async {
        root.approve(first, "fine").await.unwrap();
        root.go_live(
            first,
            &GoLiveSpec {
                parallelism: 1,
                memory_mib: 512,
                start: StartPosition::Latest,
                params: serde_json::json!({}),
            },
        )
        .await
        .unwrap();
        root.closer().close().await;
    });
    edit(checkout, "parallelism: 2", "parallelism: 4");
    edit(
        checkout,
        "       COUNT(DISTINCT user_id) AS uv\n",
        "       COUNT(DISTINCT user_id) AS uv,\n       MAX(ts) AS last_click\n",
    );
    let out = weir(
        place,
        checkout,
        "bob",
        &["job", "submit", "clickstream_pv", "-m", "last click"],
    );
    assert!(out.contains("version 2 ("), "{out}");
    let second = request_id(&weir(
        place,
        checkout,
        "bob",
        &[
            "release",
            "request",
            "clickstream_pv@2",
            "--note",
            "adds the last click per page",
        ],
    ));
    (first, second)
}

/// The production instance record `id`, read from the store itself.
fn instance(place: &Place, id: i64) -> weir_store::Instance {
    place.block_on(async {
        let store = weir_store::Store::open(&place.url("root")).await.unwrap();
        let found = store
            .session("root")
            .await
            .unwrap()
            .instance(id)
            .await
            .unwrap();
        store.close().await;
        found
    })
}

/// Let the event loop turn until the frame shows `text` (decisions and go-lives run in the
/// background).
fn wait_for(app: &mut Workbench, text: &str, w: u16, h: u16) -> String {
    common::wait_for(app, text, Duration::from_secs(30), w, h)
}

/// Snapshots without the clock nor ages (`5s`, `12m`).
fn settings() -> insta::Settings {
    let mut s = without_the_clock();
    s.add_filter(r"\b\d{1,2}[smhd]\b *", "<age> ");
    s
}

#[test]
fn a_release_is_reviewed_in_the_inbox_approved_and_taken_live() {
    let (place, checkout) = world("rel-bob");
    let (first, second) = two_versions_one_live(&place, &checkout);
    let hash = {
        let root = place.gov("root");
        place.block_on(root.release(second)).unwrap().hash
    };

    // the system admin's inbox: the request, its hash and its diff against version 1
    let mut root = place.app("rel-root", "root");
    let _clock = settings().bind_to_scope();
    let frame = run_keys(&mut root, ":inbox<Enter>", 80, 24);
    insta::assert_snapshot!("inbox_release_80x24", frame);
    let frame = run_keys(&mut root, "wait 50", 160, 50);
    insta::assert_snapshot!("inbox_release_160x50", frame);
    assert!(shows(&frame, &hash), "the full hash: {frame}");
    assert!(shows(&frame, &hash[..12]), "{frame}");
    assert!(frame.contains("live version 1"), "{frame}");
    assert!(frame.contains("config.parallelism: 2 → 4"), "{frame}");
    assert!(frame.contains("~ pv.query"), "{frame}");
    assert!(frame.contains("+        MAX(ts) AS last_click"), "{frame}");
    assert!(frame.contains("adds the last click per page"), "{frame}");

    // one key away: the full diff view, and back
    let frame = run_keys(&mut root, "d", 160, 50);
    assert!(frame.contains("diff · demo/clickstream_pv"), "{frame}");
    let frame = run_keys(&mut root, "q", 160, 50);
    assert!(frame.contains("inbox · 1 waiting"), "{frame}");

    // approve, bound to the hash shown
    run_keys(&mut root, "a<Enter>", 160, 50);
    let frame = wait_for(&mut root, &format!("approved #{second}"), 160, 50);
    assert!(
        shows(
            &frame,
            &format!(
                "approved #{second}: demo/clickstream_pv version 2 (hash {}) may go live",
                &hash[..12]
            )
        ),
        "{frame}"
    );
    assert!(frame.contains("Nothing waiting for you."), "{frame}");
    let gov = place.gov("root");
    let approved = place.block_on(gov.release(second)).unwrap();
    assert_eq!(approved.state, ReleaseState::Approved);
    assert_eq!(approved.approved_hash.as_deref(), Some(hash.as_str()));

    // :releases, newest first: the approved one is selected; g opens the go-live form
    let frame = run_keys(&mut root, ":releases<Enter>", 160, 50);
    insta::assert_snapshot!("releases_160x50", frame);
    let frame = run_keys(&mut root, "wait 50", 80, 24);
    insta::assert_snapshot!("releases_80x24", frame);
    let frame = run_keys(&mut root, "g", 100, 30);
    assert!(
        frame.contains(&format!(
            "go live: release #{second} demo/clickstream_pv version 2"
        )),
        "{frame}"
    );
    // checked as typed: no tasks, a memory size that is none
    let frame = run_keys(&mut root, "<BS>0", 100, 30);
    assert!(frame.contains("0 tasks: run at least 1 task"), "{frame}");
    let frame = run_keys(
        &mut root,
        "<BS>3<Down><BS><BS><BS><BS><BS><BS>lots",
        100,
        30,
    );
    assert!(!frame.contains("at least 1 task"), "{frame}");
    assert!(frame.contains("`lots` is not a memory size"), "{frame}");
    // a start time that is none, seen on submit
    let frame = run_keys(
        &mut root,
        "<BS><BS><BS><BS>1GiB<Down><Left><Down>yesterday<Down>region=eu, limit=10<Enter>",
        100,
        30,
    );
    assert!(
        frame.contains("`yesterday` is not a start position"),
        "{frame}"
    );
    insta::assert_snapshot!("golive_form_time_error", frame);
    let frame = run_keys(
        &mut root,
        "<BS><BS><BS><BS><BS><BS><BS><BS><BS>2026-12-07T10:00:00Z<Enter>",
        100,
        30,
    );
    assert!(
        !frame.contains("go live: release"),
        "the form closed: {frame}"
    );
    let said = format!("release #{second} is live: production instance #");
    let frame = wait_for(&mut root, &said, 100, 30);
    assert!(shows(&frame, &said), "{frame}");
    assert!(
        shows(&frame, &format!("release #{first} (version 1) is replaced")),
        "{frame}"
    );

    // the command line sees the instance record
    let out = weir(&place, &checkout, "root", &["release", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let find = |id: i64| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    let live = find(second);
    assert_eq!(live["state"], "live", "{live}");
    assert!(live["instance"].as_i64().is_some(), "{live}");
    assert_eq!(find(first)["state"], "replaced");
    let instance = instance(&place, live["instance"].as_i64().unwrap());
    assert_eq!(instance.parallelism, 3);
    assert_eq!(instance.memory_mib, 1024);
    assert_eq!(instance.start, StartPosition::Timestamp(1_796_637_600_000));
    assert_eq!(
        instance.params,
        serde_json::json!({"region": "eu", "limit": "10"})
    );
    assert_eq!(instance.state, "created");

    // the screen follows: the live tab holds it, with its instance
    let frame = run_keys(&mut root, "4", 160, 50);
    assert!(frame.contains("4 live (1)"), "{frame}");
    assert!(
        frame.contains(&format!("production instance #{}", instance.id)),
        "{frame}"
    );
    let _ = std::fs::remove_dir_all(checkout.parent().unwrap());
}

#[test]
fn own_requests_and_unapproved_releases_are_refused_with_their_rule() {
    let (place, checkout) = world("rel-own");
    // root develops in demo too, and asks for a release himself
    let gov = place.gov("root");
    place.block_on(async {
        gov.add_member("demo", "root", ProjectRole::Developer)
            .await
            .unwrap();
    });
    weir(
        &place,
        &checkout,
        "bob",
        &["job", "submit", "clickstream_pv", "-m", "first"],
    );
    let mine = request_id(&weir(
        &place,
        &checkout,
        "root",
        &["release", "request", "clickstream_pv@1", "--note", "my own"],
    ));

    let mut root = place.app("rel-own-root", "root");
    // the inbox leaves one's own requests out
    let frame = run_keys(&mut root, ":inbox<Enter>", 100, 30);
    assert!(frame.contains("Nothing waiting for you."), "{frame}");

    // in :releases, taking a pending release live is refused before any form opens
    let frame = run_keys(&mut root, ":releases<Enter>2", 100, 30);
    assert!(frame.contains("2 pending (1)"), "{frame}");
    let frame = run_keys(&mut root, "g", 100, 30);
    assert!(
        shows(
            &frame,
            &format!("release #{mine} is pending; only an approved release can go live")
        ),
        "{frame}"
    );
    // approving my own request: the store's refusal, verbatim
    let frame = run_keys(&mut root, "a", 100, 30);
    assert!(frame.contains(&format!("approve #{mine}")), "{frame}");
    run_keys(&mut root, "ok by me<Enter>", 100, 30);
    let refused =
        format!("request #{mine} is your own; nobody approves or rejects their own request");
    let frame = wait_for(&mut root, &refused, 100, 30);
    assert!(shows(&frame, &refused), "{frame}");
    let r = place.block_on(gov.release(mine)).unwrap();
    assert_eq!(r.state, ReleaseState::Pending);

    // bob may not approve at all; he withdraws instead
    let mut bob = place.app("rel-own-bob", "bob");
    let frame = run_keys(&mut bob, ":releases<Enter>a", 100, 30);
    assert!(
        shows(&frame, "only system admins approve releases"),
        "{frame}"
    );
    let frame = run_keys(&mut bob, "w", 100, 30);
    assert!(
        shows(&frame, "only the requester withdraws a request"),
        "{frame}"
    );
    let frame = run_keys(&mut root, "w", 100, 30);
    assert!(
        frame.contains(&format!("withdraw release request #{mine}")),
        "{frame}"
    );
    run_keys(&mut root, "y", 100, 30);
    let frame = wait_for(
        &mut root,
        &format!("withdrew release request #{mine}"),
        100,
        30,
    );
    assert!(frame.contains("5 ended (1)"), "{frame}");
    let all = place
        .block_on(gov.releases(&ReleaseFilter::default()))
        .unwrap();
    assert_eq!(all[0].state, ReleaseState::Withdrawn);
    let _ = std::fs::remove_dir_all(checkout.parent().unwrap());
}

#[test]
fn a_release_is_requested_from_the_workbench_for_the_open_job() {
    let (place, checkout) = world("rel-req");
    weir(
        &place,
        &checkout,
        "bob",
        &["job", "submit", "clickstream_pv", "-m", "first"],
    );
    let mut bob = place.app("rel-req-bob", "bob");
    // the tree's selected job is what R offers
    let frame = run_keys(&mut bob, ":releases<Enter>", 100, 30);
    assert!(frame.contains("No releases yet."), "{frame}");
    let frame = run_keys(&mut bob, "R", 100, 30);
    assert!(frame.contains("request a release"), "{frame}");
    // a version that is no version is refused in the form
    let frame = run_keys(
        &mut bob,
        "<Up><BS><BS><BS><BS><BS><BS>working<Enter>",
        100,
        30,
    );
    assert!(
        frame.contains("`working` is not a submitted version"),
        "{frame}"
    );
    let frame = run_keys(
        &mut bob,
        "<BS><BS><BS><BS><BS><BS><BS>latest<Down>ship it<Enter>",
        100,
        30,
    );
    assert!(
        shows(&frame, "is pending a system admin's approval"),
        "{frame}"
    );
    assert!(frame.contains("2 pending (1)"), "{frame}");
    let gov = place.gov("bob");
    let all = place
        .block_on(gov.releases(&ReleaseFilter::default()))
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].job, "demo/clickstream_pv");
    assert_eq!(all[0].version, 1);
    assert_eq!(all[0].note, "ship it");
    let _ = std::fs::remove_dir_all(checkout.parent().unwrap());
}

#[test]
fn a_bulk_approval_binds_each_release_to_its_hash() {
    let (place, checkout) = world("rel-bulk");
    let mut ids = Vec::new();
    for job in ["clickstream_pv", "iot_alerts"] {
        weir(
            &place,
            &checkout,
            "bob",
            &["job", "submit", job, "-m", "first"],
        );
        ids.push(request_id(&weir(
            &place,
            &checkout,
            "bob",
            &["release", "request", &format!("{job}@1"), "--note", "go"],
        )));
    }
    let mut root = place.app("rel-bulk-root", "root");
    let frame = run_keys(&mut root, ":inbox<Enter><Space><Space>A", 120, 40);
    assert!(frame.contains("approve 2 requests"), "{frame}");
    run_keys(&mut root, "y", 120, 40);
    let both = format!("approved #{} #{}", ids[0], ids[1]);
    let frame = wait_for(&mut root, &both, 120, 40);
    assert!(shows(&frame, &both), "{frame}");
    assert!(shows(&frame, "demo/iot_alerts version 1 (hash"), "{frame}");
    let gov = place.gov("root");
    for id in ids {
        let r = place.block_on(gov.release(id)).unwrap();
        assert_eq!(r.state, ReleaseState::Approved);
        assert_eq!(r.approved_hash.as_deref(), Some(r.hash.as_str()));
    }
    let _ = std::fs::remove_dir_all(checkout.parent().unwrap());
}
