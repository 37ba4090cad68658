//! The release road end to end through the app layer (what `weir job …`, `weir release …`
//! and the workbench call), on SQLite and on the PostgreSQL at 127.0.0.1:5432 with three
//! real login roles (a developer, a second developer, a system admin), each a database
//! session user of its own: submit, diff, request, approve bound to the hash, go live.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use weir::app::governance::{GlobalRole, Governance, ProjectRole};
use weir::app::jobs::{
    GoLiveSpec, JobId, ReleaseFilter, ReleaseState, StartPosition, SubmitOptions, Submitted, Which,
    Working,
};
use weir_testsupport::postgres::PgDatabase;

struct Place {
    pg: Option<PgDatabase>,
    sqlite: Option<PathBuf>,
    checkout: PathBuf,
}

impl Place {
    async fn new(postgres: bool) -> Place {
        let name = weir_testsupport::unique("weir_rel");
        let checkout = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(checkout.join("jobs")).unwrap();
        let example =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/clickstream_pv.ron");
        std::fs::copy(example, checkout.join("jobs/clickstream_pv.ron")).unwrap();
        if postgres {
            let db = PgDatabase::create("weir_rel").await;
            weir_store::Store::open(&db.url())
                .await
                .unwrap()
                .close()
                .await;
            Place {
                pg: Some(db),
                sqlite: None,
                checkout,
            }
        } else {
            let file = std::env::temp_dir().join(format!("{name}.db"));
            Place {
                pg: None,
                sqlite: Some(file),
                checkout,
            }
        }
    }

    fn who(&self, login: &str) -> String {
        self.pg
            .as_ref()
            .map_or_else(|| login.to_string(), |db| db.role(login))
    }

    async fn open(&self, login: &str) -> Governance {
        match (&self.pg, &self.sqlite) {
            (Some(db), _) => {
                let role = db.role(login);
                let grants = weir_store::login_statements("public", &role).unwrap().grant;
                let url = db.login(&role, &grants).await;
                Governance::open(&url, "ignored").await.unwrap()
            }
            (None, Some(path)) => Governance::open(&format!("sqlite://{}", path.display()), login)
                .await
                .unwrap(),
            _ => unreachable!(),
        }
    }

    fn job(&self) -> JobId {
        let mut id = JobId::of_path(&self.checkout, "clickstream_pv");
        id.project = "shop".into();
        id
    }

    fn edit(&self, from: &str, to: &str) {
        let p = self.checkout.join("jobs/clickstream_pv.ron");
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    }

    async fn cleanup(self) {
        if let Some(db) = &self.pg {
            db.remove().await;
        }
        if let Some(p) = &self.sqlite {
            for s in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{s}", p.display()));
            }
        }
        let _ = std::fs::remove_dir_all(&self.checkout);
    }
}

fn submit(msg: &str) -> SubmitOptions {
    SubmitOptions {
        message: msg.into(),
        ..Default::default()
    }
}

async fn release_road(postgres: bool) {
    let place = Place::new(postgres).await;
    let root = place.open("root").await; // the first actor: system admin
    for dev in ["bob", "eve"] {
        root.add_user(&place.who(dev), dev, &[]).await.unwrap();
    }
    root.add_user(&place.who("sam"), "Sam", &[GlobalRole::SystemAdmin])
        .await
        .unwrap();
    root.create_project("shop", "").await.unwrap();
    for dev in ["bob", "eve"] {
        root.add_member("shop", &place.who(dev), ProjectRole::Developer)
            .await
            .unwrap();
    }
    let job = place.job();
    let bob = place.open("bob").await;
    let eve = place.open("eve").await;
    let sam = place.open("sam").await;

    let v1 = bob.submit_job(&job, &submit("first")).await.unwrap();
    let Submitted::Created { version, took_lock } = &v1.submitted else {
        panic!("{v1:?}")
    };
    assert!(*took_lock);
    assert_eq!(version.number, 1);
    assert_eq!(version.author, place.who("bob"));

    place.edit("parallelism: 2", "parallelism: 4");
    assert_eq!(
        bob.job_state(&job).await.unwrap().working,
        Working::Modified
    );
    let err = eve
        .submit_job(&job, &submit("mine"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&place.who("bob")),
        "the refusal names the holder: {err}"
    );
    let v2 = bob.submit_job(&job, &submit("wider")).await.unwrap();
    assert_eq!(v2.version().number, 2);

    let diff = bob
        .job_diff(&job, Which::Version(1), Which::Version(2))
        .await
        .unwrap();
    assert!(!diff.diff.is_empty());
    assert!(
        diff.render(false).contains("config.parallelism"),
        "{}",
        diff.render(false)
    );

    let r1 = bob
        .request_release(&job, Which::Version(1), "first")
        .await
        .unwrap();
    let r2 = bob
        .request_release(&job, Which::Latest, "wider")
        .await
        .unwrap();
    // a developer is no approver, and the requester may not approve his own
    assert!(bob.approve(r1.id, "").await.is_err());
    assert!(eve.approve(r1.id, "").await.is_err());
    let inbox: Vec<i64> = sam.inbox().await.unwrap().iter().map(|r| r.id).collect();
    assert!(
        inbox.contains(&r1.id) && inbox.contains(&r2.id),
        "{inbox:?}"
    );

    // the approver reviews the diff from the live version (nothing live yet)
    let review = sam.review_release(r1.id).await.unwrap();
    assert_eq!(review.live_version, None);
    assert!(
        review.diff.render(false).contains("+ clicks (KafkaSource)"),
        "{}",
        review.diff.render(false)
    );
    let hash = review.release.hash.clone();
    assert!(
        sam.approve_checked(r1.id, "ok", Some("abcdef"))
            .await
            .is_err()
            || hash.starts_with("abcdef")
    );
    sam.approve_checked(r1.id, "ok", Some(&hash[..12]))
        .await
        .unwrap();
    let approved = sam.release(r1.id).await.unwrap();
    assert_eq!(approved.state, ReleaseState::Approved);
    assert_eq!(approved.approved_hash.as_deref(), Some(hash.as_str()));

    // going live before approval is refused; after, it records the production instance
    let spec = GoLiveSpec {
        parallelism: 2,
        memory_mib: 512,
        start: StartPosition::Latest,
        params: serde_json::json!({"region": "eu"}),
    };
    assert!(bob.go_live(r2.id, &spec).await.is_err());
    let live = bob.go_live(r1.id, &spec).await.unwrap();
    assert_eq!(live.instance.state.as_str(), "created");
    assert_eq!(live.instance.env, "prod");
    assert_eq!(live.instance.version, Some(1));

    // the second release is reviewed against the live version 1
    let review = sam.review_release(r2.id).await.unwrap();
    assert_eq!(review.live_version, Some(1));
    assert!(
        review
            .diff
            .render(false)
            .contains("config.parallelism: 2 → 4"),
        "{}",
        review.diff.render(false)
    );
    sam.approve(r2.id, "").await.unwrap();
    let live2 = eve
        .go_live(
            r2.id,
            &GoLiveSpec {
                parallelism: 4,
                ..spec
            },
        )
        .await
        .unwrap();
    assert_eq!(live2.replaced.as_ref().map(|r| r.id), Some(r1.id));
    let lives = eve
        .releases(&ReleaseFilter {
            job: Some(job.name()),
            state: Some(ReleaseState::Live),
        })
        .await
        .unwrap();
    assert_eq!(lives.iter().map(|r| r.id).collect::<Vec<_>>(), vec![r2.id]);
    let diff = bob
        .job_diff(&job, Which::Live, Which::Working)
        .await
        .unwrap();
    assert!(diff.diff.is_empty(), "{}", diff.render(false));

    for g in [root, bob, eve, sam] {
        g.closer().close().await;
    }
    place.cleanup().await;
}

#[tokio::test]
async fn release_road_on_sqlite() {
    release_road(false).await;
}

#[tokio::test]
async fn release_road_on_postgres_with_three_login_roles() {
    release_road(true).await;
}
