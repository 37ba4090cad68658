//! Property tests of the graph diff (issue 13): diff(A, A) is empty; applying diff(A, B)
//! to A gives B's canonical text, for arbitrary pairs and for B made from A by small
//! edits (the near-equal pairs that reviews are about); a rename with unchanged
//! parameters is reported as a rename and nothing else.

use std::collections::HashSet;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

use super::{NodeChange, diff, graph};
use crate::jobfile::to_ron;
use crate::model::{AlertRule, Job, Node};

/// A job whose node ids are unique, as `weir validate` requires.
fn unique_ids(mut job: Job) -> Job {
    let mut seen = HashSet::new();
    for node in &mut job.nodes {
        let mut id = node.id().to_string();
        while !seen.insert(id.clone()) {
            id.push('_');
        }
        node.set_id(id);
    }
    job
}

fn valid_job() -> impl Strategy<Value = Job> {
    any::<Job>().prop_map(unique_ids)
}

/// An id that no node, edge or position of `job` uses.
fn fresh_id(job: &Job, base: &str) -> String {
    let used = |id: &str| {
        job.nodes.iter().any(|n| n.id() == id)
            || job.positions.contains_key(id)
            || job.edges.iter().any(|(f, t)| f == id || t == id)
    };
    let mut id = format!("{base}_new");
    while used(&id) {
        id.push('_');
    }
    id
}

/// Rename node `i` as the graph editor does: the node, its edges and its position.
fn rename(job: &mut Job, i: usize, to: &str) {
    let from = job.nodes[i].id().to_string();
    job.nodes[i].set_id(to.to_string());
    for (f, t) in &mut job.edges {
        for end in [f, t] {
            if *end == from {
                *end = to.to_string();
            }
        }
    }
    if let Some(p) = job.positions.remove(&from) {
        job.positions.insert(to.to_string(), p);
    }
}

/// One small edit of a job.
#[derive(Debug, Clone)]
enum Edit {
    /// Replace a node by another operator (often of another kind), keeping its id.
    Replace(Index, Node),
    SetParallelism(Index, Option<u32>),
    AppendToQuery(Index, String),
    Add(Index, Node),
    Remove(Index),
    Rename(Index, String),
    AddEdge(Index, Index),
    RemoveEdge(Index),
    Swap(Index, Index),
    JobParallelism(u32),
    SetEnv(String, String),
    Move(Index, (u32, u32)),
    /// Replace the job's alert rules (often adding or dropping some).
    SetAlerts(Vec<AlertRule>),
    /// Change one alert's threshold.
    AlertThreshold(Index, u32),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<Node>()).prop_map(|(i, n)| Edit::Replace(i, n)),
        (any::<Index>(), any::<Option<u32>>()).prop_map(|(i, p)| Edit::SetParallelism(i, p)),
        (any::<Index>(), "[a-z =]{0,12}").prop_map(|(i, s)| Edit::AppendToQuery(i, s)),
        (any::<Index>(), any::<Node>()).prop_map(|(i, n)| Edit::Add(i, n)),
        any::<Index>().prop_map(Edit::Remove),
        (any::<Index>(), "[a-z]{1,6}").prop_map(|(i, s)| Edit::Rename(i, s)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Edit::AddEdge(i, j)),
        any::<Index>().prop_map(Edit::RemoveEdge),
        (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Edit::Swap(i, j)),
        any::<u32>().prop_map(Edit::JobParallelism),
        ("[A-Z_.]{1,6}", "[a-z]{0,6}").prop_map(|(k, v)| Edit::SetEnv(k, v)),
        (any::<Index>(), any::<(u32, u32)>()).prop_map(|(i, p)| Edit::Move(i, p)),
        prop::collection::vec(any::<AlertRule>(), 0..3).prop_map(Edit::SetAlerts),
        (any::<Index>(), 1u32..10_000).prop_map(|(i, t)| Edit::AlertThreshold(i, t)),
    ]
}

fn apply_edit(job: &mut Job, edit: Edit) {
    let n = job.nodes.len();
    match edit {
        Edit::Replace(i, mut node) if n > 0 => {
            let i = i.index(n);
            node.set_id(job.nodes[i].id().to_string());
            job.nodes[i] = node;
        }
        Edit::SetParallelism(i, p) if n > 0 => {
            let i = i.index(n);
            let node = &job.nodes[i];
            let mut params = graph::node_params(node);
            if let Value::Object(m) = &mut params {
                match p {
                    Some(p) => m.insert("parallelism".into(), p.into()),
                    None => m.remove("parallelism"),
                };
            }
            job.nodes[i] = graph::node_from_params(node.kind(), node.id(), params).unwrap();
        }
        Edit::AppendToQuery(i, line) if n > 0 => {
            if let Node::Sql(sql) = &mut job.nodes[i.index(n)] {
                sql.query.push('\n');
                sql.query.push_str(&line);
            }
        }
        Edit::Add(i, mut node) => {
            node.set_id(fresh_id(job, node.id()));
            job.nodes.insert(i.index(n + 1), node);
        }
        Edit::Remove(i) if n > 0 => {
            let gone = job.nodes.remove(i.index(n));
            job.edges.retain(|(f, t)| f != gone.id() && t != gone.id());
            job.positions.remove(gone.id());
        }
        Edit::Rename(i, base) if n > 0 => {
            let to = fresh_id(job, &base);
            rename(job, i.index(n), &to);
        }
        Edit::AddEdge(i, j) if n > 0 => {
            let e = (
                job.nodes[i.index(n)].id().to_string(),
                job.nodes[j.index(n)].id().to_string(),
            );
            let at = i.index(job.edges.len() + 1);
            job.edges.insert(at, e);
        }
        Edit::RemoveEdge(i) if !job.edges.is_empty() => {
            job.edges.remove(i.index(job.edges.len()));
        }
        Edit::Swap(i, j) if n > 0 => job.nodes.swap(i.index(n), j.index(n)),
        Edit::JobParallelism(p) => job.config.parallelism = p,
        Edit::SetEnv(k, v) => {
            job.config.env.insert(k, v);
        }
        Edit::Move(i, p) if n > 0 => {
            job.positions
                .insert(job.nodes[i.index(n)].id().to_string(), p);
        }
        Edit::SetAlerts(alerts) => job.config.alerts = alerts,
        Edit::AlertThreshold(i, t) if !job.config.alerts.is_empty() => {
            let k = i.index(job.config.alerts.len());
            job.config.alerts[k].above = f64::from(t);
        }
        _ => {}
    }
}

/// A job and the same job after a few small edits.
fn near_pair() -> impl Strategy<Value = (Job, Job)> {
    (valid_job(), prop::collection::vec(edit(), 1..5)).prop_map(|(a, edits)| {
        let mut b = a.clone();
        for e in edits {
            apply_edit(&mut b, e);
        }
        (a, b)
    })
}

fn assert_round_trip(a: &Job, b: &Job) -> Result<(), TestCaseError> {
    let d = diff(a, b);
    let applied = d.apply(a);
    prop_assert!(applied.is_ok(), "{:?}\n{}", applied, d.render_text(false));
    let applied = applied.unwrap_or_else(|_| a.clone());
    prop_assert_eq!(to_ron(&applied), to_ron(b), "{}", d.render_text(false));
    prop_assert_eq!(&applied, b);
    prop_assert_eq!(d.is_empty(), a == b);
    // Every diff renders and serialises.
    prop_assert!(!d.render_text(true).is_empty());
    prop_assert!(serde_json::to_string(&d).is_ok());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_job_against_itself_is_no_change(job in any::<Job>()) {
        let d = diff(&job, &job);
        prop_assert!(d.is_empty(), "{}", d.render_text(false));
        prop_assert_eq!(d.render_text(false), "no changes\n");
    }

    #[test]
    fn applying_the_diff_of_any_two_jobs_gives_the_second(a in valid_job(), b in valid_job()) {
        assert_round_trip(&a, &b)?;
    }

    #[test]
    fn applying_the_diff_of_an_edited_job_gives_the_edit((a, b) in near_pair()) {
        assert_round_trip(&a, &b)?;
        assert_round_trip(&b, &a)?;
    }

    #[test]
    fn a_rename_alone_is_reported_as_a_rename(a in valid_job(), i in any::<Index>()) {
        prop_assume!(!a.nodes.is_empty());
        let i = i.index(a.nodes.len());
        let mut b = a.clone();
        let from = a.nodes[i].id().to_string();
        let to = fresh_id(&a, &from);
        rename(&mut b, i, &to);
        let d = diff(&a, &b);
        let expected = NodeChange::Renamed {
            from,
            to,
            kind: a.nodes[i].kind().to_string(),
            params: Vec::new(),
            texts: Vec::new(),
        };
        prop_assert_eq!(&d.nodes, &vec![expected]);
        prop_assert!(d.job.is_empty() && d.edges_added.is_empty() && d.edges_removed.is_empty());
        prop_assert!(d.node_order.is_none() && d.edge_order.is_none());
        prop_assert_eq!(d.apply(&a).unwrap(), b);
    }
}
