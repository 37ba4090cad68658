//! Changes to the job the editor makes: add, connect, disconnect, delete and rename
//! nodes. Each keeps `edges` and `positions` consistent with `nodes` and says what it did
//! (or why it did not).

use crate::jobfile::fields;
use crate::model::{Job, Node};
use crate::refused::Refused;
use crate::screens::sql::UpstreamTable;

/// A fresh id for a new node of `kind`: `kafkasource_1`, `kafkasource_2`, ...
pub fn fresh_id(job: &Job, kind: &str) -> String {
    let base = kind.to_lowercase();
    (1..)
        .map(|n| format!("{base}_{n}"))
        .find(|id| job.node(id).is_none())
        .unwrap_or(base)
}

/// Add a node of `kind` with a fresh id, required fields empty and the rest defaults.
/// Returns its index.
pub fn add_node(job: &mut Job, kind: &str) -> Option<usize> {
    let id = fresh_id(job, kind);
    let op = fields::skeleton(kind, &id)?;
    job.nodes.push(op);
    Some(job.nodes.len() - 1)
}

/// Connect node `from` to node `to` (indices); refuses self loops and duplicates.
pub fn connect(job: &mut Job, from: usize, to: usize) -> Result<(String, String), Refused> {
    let (Some(a), Some(b)) = (job.nodes.get(from), job.nodes.get(to)) else {
        return Err("no such node".into());
    };
    let (a, b) = (a.id().to_string(), b.id().to_string());
    if from == to {
        return Err(format!("`{a}` cannot feed itself: pick another node").into());
    }
    if job.edges.iter().any(|(x, y)| *x == a && *y == b) {
        return Err(format!("`{a}` already feeds `{b}`").into());
    }
    job.edges.push((a.clone(), b.clone()));
    Ok((a, b))
}

/// Remove edge `k`; returns it.
pub fn disconnect(job: &mut Job, k: usize) -> Option<(String, String)> {
    (k < job.edges.len()).then(|| job.edges.remove(k))
}

/// Remove node `i`, every edge touching it and its position; returns its id and how
/// many edges went with it.
pub fn delete_node(job: &mut Job, i: usize) -> Option<(String, usize)> {
    if i >= job.nodes.len() {
        return None;
    }
    let id = job.nodes.remove(i).id().to_string();
    let before = job.edges.len();
    job.edges.retain(|(a, b)| *a != id && *b != id);
    job.positions.remove(&id);
    Some((id, before - job.edges.len()))
}

/// Give node `old` the id `new` in edges and positions (the node itself is replaced by
/// the caller).
pub fn rename_refs(job: &mut Job, old: &str, new: &str) {
    if old == new {
        return;
    }
    for (a, b) in &mut job.edges {
        if a == old {
            *a = new.to_string();
        }
        if b == old {
            *b = new.to_string();
        }
    }
    if let Some(p) = job.positions.remove(old) {
        job.positions.insert(new.to_string(), p);
    }
}

/// The tables a SQL node reads: the table names of the nodes with an edge into it, with
/// their declared fields.
pub fn upstream_tables(job: &Job, id: &str) -> Vec<UpstreamTable> {
    job.inputs(id)
        .filter_map(|n| job.node(n))
        .filter_map(|op: &Node| {
            Some(UpstreamTable {
                name: op.table_name()?.to_string(),
                fields: op
                    .declared_fields()
                    .unwrap_or_default()
                    .iter()
                    .map(|f| (f.name.clone(), format!("{:?}", f.ty)))
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> Job {
        crate::jobfile::decode_job(
            &crate::jobfile::syntax::parse("Job(version: 1, name: \"t\")")
                .unwrap()
                .value,
        )
        .job
        .unwrap()
    }

    #[test]
    fn ids_are_fresh_and_edges_follow_nodes() {
        let mut job = empty();
        let a = add_node(&mut job, "KafkaSource").unwrap();
        let b = add_node(&mut job, "KafkaSource").unwrap();
        let c = add_node(&mut job, "Sql").unwrap();
        assert_eq!(job.nodes[a].id(), "kafkasource_1");
        assert_eq!(job.nodes[b].id(), "kafkasource_2");
        assert_eq!(job.nodes[c].id(), "sql_1");
        assert!(connect(&mut job, a, c).is_ok());
        assert!(connect(&mut job, a, c).unwrap_err().0.contains("already"));
        assert!(connect(&mut job, c, c).unwrap_err().0.contains("itself"));
        connect(&mut job, b, c).unwrap();
        job.positions.insert("kafkasource_1".into(), (1, 1));
        assert_eq!(
            delete_node(&mut job, a),
            Some(("kafkasource_1".to_string(), 1))
        );
        assert!(job.positions.is_empty());
        assert_eq!(
            job.edges,
            [("kafkasource_2".to_string(), "sql_1".to_string())]
        );
        rename_refs(&mut job, "sql_1", "pv");
        assert_eq!(job.edges[0].1, "pv");
        assert_eq!(upstream_tables(&job, "pv")[0].name, "kafkasource_2");
        assert!(add_node(&mut job, "Nope").is_none());
    }
}
