//! Instances on a team's PostgreSQL store (issue 14): a worker runs as an ops login, a
//! developer starts an instance through the app, and a second person's view (another
//! login, as a workbench on another machine would be) reads the same figures from the
//! store, to the record.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use weir::app::governance::{GlobalRole, Governance, ProjectRole};
use weir::app::instances::{InstanceFilter, StartRequest};
use weir_engine::broker::Broker;
use weir_testsupport::postgres::PgDatabase;

struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn login(db: &PgDatabase, name: &str) -> (String, Governance) {
    let role = db.role(name);
    let grants = weir_store::login_statements("public", &role).unwrap().grant;
    let url = db.login(&role, &grants).await;
    let gov = Governance::open(&url, "ignored").await.unwrap();
    (url, gov)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_view_on_the_team_store_sees_the_same_figures() {
    let db = PgDatabase::create("weir_inst").await;
    let owner = Governance::open(&db.url(), "ignored").await.unwrap();
    for (who, roles) in [
        ("ops", vec![GlobalRole::Ops]),
        ("dev", vec![]),
        ("viewer", vec![]),
    ] {
        owner.add_user(&db.role(who), who, &roles).await.unwrap();
    }
    owner.create_project("shop", "").await.unwrap();
    for who in ["dev", "viewer"] {
        owner
            .add_member("shop", &db.role(who), ProjectRole::Developer)
            .await
            .unwrap();
    }
    let (ops_url, _ops) = login(&db, "ops").await;
    let (_, dev) = login(&db, "dev").await;
    let (_, viewer) = login(&db, "viewer").await;

    let broker = Broker::start().unwrap();
    broker.create_topic("in", 1).unwrap();
    let bootstrap = broker.bootstrap_servers();
    let checkout = std::env::temp_dir().join(weir_testsupport::unique("weir_inst_pg"));
    std::fs::create_dir_all(checkout.join("jobs")).unwrap();
    std::fs::create_dir_all(checkout.join(".weir")).unwrap();
    std::fs::write(checkout.join(".weir/project"), "shop\n").unwrap();
    let out = checkout.join("out.jsonl");
    std::fs::write(
        checkout.join("jobs/echo.ron"),
        format!(
            r#"Job(
    version: 1,
    name: "echo",
    config: (time: Event),
    datasources: {{"k": (kind: Kafka, address: "{bootstrap}")}},
    nodes: [
        KafkaSource(id: "src", datasource: "k", topic: "in", start: Earliest, event_time: Some("ts"), watermark_ms: 1000,
            fields: Some([(name: "id", type: BigInt), (name: "ts", type: Timestamp)])),
        Sql(id: "q", query: "SELECT id, ts FROM src WHERE id % 2 = 0"),
        PrintSink(id: "out", path: Some("{}")),
    ],
    edges: [("src", "q"), ("q", "out")],
)"#,
            out.display()
        ),
    )
    .unwrap();

    // the worker: a process of its own, as the ops login
    let _worker = Worker(
        Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(["worker", "--id", "team-w1"])
            .current_dir(&checkout)
            .env("WEIR_DATABASE_URL", &ops_url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let started = dev
        .start_instance(&StartRequest {
            job: "jobs/echo.ron".into(),
            cwd: checkout.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let id = started.instance.id;
    {
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
        let p: BaseProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .unwrap();
        for i in 0..40 {
            let payload = format!(r#"{{"id": {i}, "ts": {}}}"#, 1_000_000 + i);
            p.send(BaseRecord::<(), String>::to("in").payload(&payload))
                .unwrap();
        }
        p.flush(Duration::from_secs(10)).unwrap();
    }
    // the developer's view and the other person's view agree, figure for figure
    let deadline = Instant::now() + Duration::from_secs(40);
    let (mine, theirs) = loop {
        let filter = InstanceFilter::default();
        let mine = dev.instance_rows(&filter, 60).await.unwrap();
        let theirs = viewer.instance_rows(&filter, 60).await.unwrap();
        let done = |rows: &[weir::app::instances::InstanceRow]| {
            rows.iter().any(|r| {
                r.instance.id == id && r.figures.as_ref().is_some_and(|f| f.records_out() == 20)
            })
        };
        if done(&mine) && done(&theirs) {
            break (mine, theirs);
        }
        assert!(Instant::now() < deadline, "no figures: {mine:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let a = mine.iter().find(|r| r.instance.id == id).unwrap();
    let b = theirs.iter().find(|r| r.instance.id == id).unwrap();
    assert_eq!(a.instance.worker.as_deref(), Some("team-w1"));
    assert_eq!(a.figures.as_ref().unwrap().records_in(), 40);
    assert_eq!(b.figures.as_ref().unwrap().records_in(), 40);
    assert_eq!(b.instance.state.as_str(), "running");

    // the viewer is a developer of the project too, so stopping is allowed; the worker
    // carries it out within seconds
    viewer.stop_instance(id).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let i = dev.instance(id).await.unwrap();
        if i.state.as_str() == "stopped" {
            break;
        }
        assert!(Instant::now() < deadline, "not stopped: {i:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows = std::fs::read_to_string(&out).unwrap();
    assert_eq!(rows.lines().count(), 20);
    for g in [owner, dev, viewer] {
        g.closer().close().await;
    }
    let _ = std::fs::remove_dir_all(&checkout);
    drop(_worker);
    db.remove().await;
}
