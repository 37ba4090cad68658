use super::*;
use crate::governance::{DataSourceSpec, Endpoint, GrantList, GrantSpec, Grantee, ProjectRole};

fn job(text: &str) -> Job {
    let checked = crate::jobfile::check_source("t.ron", text);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.job.unwrap()
}

/// Reads kmain.clicks and a topic of a job-declared cluster, upserts report.pv on
/// mysql_report, writes a Redis key space and prints.
const JOB: &str = r#"Job(
    version: 1,
    name: "pv",
    datasources: {
        "local": (kind: Kafka, address: "localhost:9092"),
        "kmain": (kind: Kafka, address: "localhost:9092"),
        "mysql_report": (kind: Mysql, address: "localhost:3306"),
        "redis_f": (kind: Redis, address: "localhost:6379"),
    },
    nodes: [
        KafkaSource(id: "clicks", datasource: "kmain", topic: "clicks", fields: Some([(name: "url", type: String)])),
        KafkaSource(id: "more", datasource: "local", topic: "clicks", fields: Some([(name: "url", type: String)])),
        Sql(id: "q", query: "SELECT url FROM clicks UNION ALL SELECT url FROM more"),
        JdbcSink(id: "out", datasource: "mysql_report", database: Some("report"), table: "pv", operation: Upsert(key: ["url"])),
        RedisSink(id: "cache", datasource: "redis_f", command: Set, key_prefix: Some("pv"), key: ["url"], value: ["url"]),
        PrintSink(id: "show"),
    ],
    edges: [("clicks", "q"), ("more", "q"), ("q", "out"), ("q", "cache"), ("q", "show")],
)
"#;

#[test]
fn a_job_reads_its_sources_and_writes_its_sinks() {
    let needs = needs(&job(JOB));
    let got: Vec<(&str, String, Perm)> = needs
        .iter()
        .map(|n| {
            (
                n.node.as_str(),
                format!("{}.{}", n.target.datasource, n.target.table),
                n.perm,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("clicks", "kmain.clicks".into(), Perm::Select),
            ("more", "local.clicks".into(), Perm::Select),
            ("out", "mysql_report.report.pv".into(), Perm::Insert),
            ("out", "mysql_report.report.pv".into(), Perm::Update),
            ("cache", "redis_f.pv".into(), Perm::Insert),
        ]
    );
}

#[test]
fn odd_names_are_quoted_for_the_shell() {
    assert_eq!(shell_word("kmain.clicks"), "kmain.clicks");
    assert_eq!(shell_word("job pv reads it"), "'job pv reads it'");
    assert_eq!(shell_word("it's"), r"'it'\''s'");
    assert_eq!(shell_word(""), "''");
}

async fn open(url: &str, login: &str) -> Governance {
    Governance::open(url, login).await.unwrap()
}

fn source(name: &str, kind: DataSourceKind, options: serde_json::Value) -> DataSourceSpec {
    DataSourceSpec {
        name: name.into(),
        kind,
        env: Env::Test,
        test: Some(Endpoint {
            address: "127.0.0.1:1".into(),
            options,
        }),
        prod: None,
        user: None,
        password: None,
        managed: false,
        owner_project: None,
        description: String::new(),
    }
}

fn grant(list: GrantList, table: &str, who: Grantee, perms: &[Perm]) -> GrantSpec {
    let (ds, t) = table.split_once('.').unwrap();
    GrantSpec {
        list,
        tables: vec![TableRef::new(ds, t)],
        grantees: if who == Grantee::Public {
            vec![]
        } else {
            vec![who]
        },
        perms: perms.to_vec(),
        columns: vec![],
    }
}

#[tokio::test]
async fn rights_are_checked_for_the_actor_in_the_project() {
    let path = std::env::temp_dir().join(format!("weir-access-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let alice = open(&url, "alice").await;
    alice.create_project("shop", "").await.unwrap();
    alice.add_user("bob", "bob", &[]).await.unwrap();
    alice.add_user("olga", "olga", &[]).await.unwrap();
    alice
        .add_user("dora", "dora", &[GlobalRole::DataAdmin])
        .await
        .unwrap();
    alice
        .add_member("shop", "bob", ProjectRole::Developer)
        .await
        .unwrap();
    let dora = open(&url, "dora").await;
    dora.add_data_source(&source(
        "kmain",
        DataSourceKind::Kafka,
        serde_json::json!({}),
    ))
    .await
    .unwrap();
    dora.add_data_source(&source(
        "mysql_report",
        DataSourceKind::Mysql,
        serde_json::json!({"database": "report"}),
    ))
    .await
    .unwrap();
    dora.add_data_source(&source(
        "redis_f",
        DataSourceKind::Redis,
        serde_json::json!({}),
    ))
    .await
    .unwrap();
    let job = job(JOB);

    // bob, developer of shop, has nothing yet
    let bob = open(&url, "bob").await;
    let rights = job_rights(&bob, "shop", &job).await.unwrap();
    let checked: Vec<(String, Perm, bool)> = rights
        .checked
        .iter()
        .map(|c| {
            (
                format!("{}.{}", c.target.datasource, c.target.table),
                c.perm,
                c.allowed,
            )
        })
        .collect();
    assert_eq!(
        checked,
        vec![
            ("kmain.clicks".into(), Perm::Select, false),
            // the data source's own database is left out, as grants name its tables
            ("mysql_report.pv".into(), Perm::Insert, false),
            ("mysql_report.pv".into(), Perm::Update, false),
        ]
    );
    let ungoverned: Vec<(&str, &str)> = rights
        .ungoverned
        .iter()
        .map(|u| (u.node.as_str(), u.why.as_str()))
        .collect();
    assert_eq!(
        ungoverned,
        vec![
            ("more", "declared in the job, not registered in the store"),
            ("cache", "the store holds no grant on this redis table"),
        ]
    );
    let e = check_job_rights(&bob, "shop", &job)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("job pv may not run: bob (acting in project shop) lacks 3 rights:"),
        "{e}"
    );
    assert!(e.contains("  - select on kmain.clicks (read by node clicks): no grant\n      weir perm request --table kmain.clicks --for project:shop --perms select --reason 'job pv reads it'"), "{e}");
    assert!(e.contains("  - update on mysql_report.pv (written by node out): no grant\n      weir perm request --table mysql_report.pv --for project:shop --perms update --reason 'job pv writes it'"), "{e}");

    // the project's whitelist for select, bob's own for writing; a grant on the Redis
    // key space makes it governed
    dora.set_grants(&grant(
        GrantList::Whitelist,
        "kmain.clicks",
        Grantee::Project("shop".into()),
        &[Perm::Select],
    ))
    .await
    .unwrap();
    dora.set_grants(&grant(
        GrantList::Whitelist,
        "mysql_report.pv",
        Grantee::User("bob".into()),
        &[Perm::Insert, Perm::Update],
    ))
    .await
    .unwrap();
    dora.set_grants(&grant(
        GrantList::Public,
        "redis_f.pv",
        Grantee::Public,
        &[Perm::Insert],
    ))
    .await
    .unwrap();
    let ok = check_job_rights(&bob, "shop", &job).await.unwrap();
    assert!(ok.allowed());
    assert_eq!(ok.checked.len(), 4, "{:?}", ok.checked);
    assert!(
        ok.checked[0]
            .reason
            .contains("project whitelist of project shop")
    );

    // olga is no member of shop: the project's grant is not hers; she asks for herself
    let olga = open(&url, "olga").await;
    let e = check_job_rights(&olga, "shop", &job)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("lacks 3 rights"), "{e}");
    assert!(e.contains("--for person:olga --perms select"), "{e}");

    // a project the store does not know: only bob's own and public grants count
    let rights = job_rights(&bob, "nosuch", &job).await.unwrap();
    assert!(!rights.project_in_store);
    let e = rights.refusal().unwrap();
    assert!(
        e.contains("acting in no project (`nosuch` is not a project of the store"),
        "{e}"
    );
    assert!(e.contains("--for person:bob --perms select"), "{e}");

    // a blacklist beats the project's grant, and says so
    dora.set_grants(&grant(
        GrantList::Blacklist,
        "kmain.clicks",
        Grantee::User("bob".into()),
        &[Perm::Select],
    ))
    .await
    .unwrap();
    let e = check_job_rights(&bob, "shop", &job)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("lacks 1 right:"), "{e}");
    assert!(e.contains("blacklisted for user bob"), "{e}");

    // an admin grants rather than requests
    let e = check_job_rights(&dora, "shop", &job)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("weir perm grant --table kmain.clicks --user dora --perms select"),
        "{e}"
    );
    let e = check_job_rights(&alice, "shop", &job)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("weir perm grant --table kmain.clicks --user alice --perms select"),
        "{e}"
    );
    assert!(
        e.ends_with("run the job again once the grants are set"),
        "{e}"
    );
    for g in [alice, bob, olga, dora] {
        g.closer().close().await;
    }
    let _ = std::fs::remove_file(&path);
}
