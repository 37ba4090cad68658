//! The tables and topics the store knows of, for the authorization screen: catalog
//! topics on the clusters they were published to, and every table named in a grant or a
//! permission request. The store keeps no table list of its own (a table is a name on a
//! data source), so the list is gathered from existing store calls: `topics`, the audit
//! log (grant rows written and revoked, permission requests made) and `request`.

use std::collections::BTreeMap;

use crate::AppError;
use crate::governance::{DataSourceKind, Governance, Grant, RequestDetail, TableRef, Topic};

/// A table or topic with what the store holds about it.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownTable {
    pub target: TableRef,
    /// The kind of its data source.
    pub kind: DataSourceKind,
    /// The catalog topic of this name on this cluster, if it is one.
    pub topic: Option<Topic>,
    /// Its whitelist, blacklist and public rows.
    pub grants: Vec<Grant>,
}

impl KnownTable {
    /// `datasource.table`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.target.datasource, self.target.table)
    }
}

impl Governance {
    /// Every table the store knows of, sorted by data source then table, with its grants.
    /// `extra` are tables to list even when nothing names them yet (added by hand); those of
    /// unknown data sources are left out.
    pub async fn known_tables(&self, extra: &[TableRef]) -> Result<Vec<KnownTable>, AppError> {
        let session = &self.session;
        let sources: BTreeMap<String, DataSourceKind> = session
            .data_sources()
            .await?
            .into_iter()
            .map(|d| (d.name, d.kind))
            .collect();
        let mut found: BTreeMap<(String, String), Option<Topic>> = BTreeMap::new();
        for t in session.topics(None).await? {
            for ds in [&t.test_datasource, &t.prod_datasource]
                .into_iter()
                .flatten()
            {
                found.insert((ds.clone(), t.name.clone()), Some(t.clone()));
            }
        }
        let mut requests = Vec::new();
        for e in session.audit(0).await? {
            match e.object_kind.as_str() {
                "grant" => {
                    let json = e.after_json.as_deref().or(e.before_json.as_deref());
                    if let Some(t) = json.and_then(target_of_grant) {
                        found.entry((t.datasource, t.table)).or_insert(None);
                    }
                }
                "request" if e.action == "permission.request" => {
                    if let Ok(id) = e.object_id.parse::<i64>() {
                        requests.push(id);
                    }
                }
                _ => {}
            }
        }
        for id in requests {
            if let Ok((
                _,
                RequestDetail::Permission {
                    datasource, table, ..
                },
            )) = session.request(id).await
            {
                found.entry((datasource, table)).or_insert(None);
            }
        }
        for t in extra {
            found
                .entry((t.datasource.clone(), t.table.clone()))
                .or_insert(None);
        }
        let mut out = Vec::new();
        for ((ds, table), topic) in found {
            let Some(kind) = sources.get(&ds) else {
                continue;
            };
            let target = TableRef::new(&ds, &table);
            let grants = session.grants(&target).await?;
            out.push(KnownTable {
                target,
                kind: *kind,
                topic,
                grants,
            });
        }
        Ok(out)
    }

    /// [`Governance::table_ref`], checked against the store's data sources.
    pub async fn resolve_table(&self, text: &str) -> Result<TableRef, AppError> {
        let target = self.table_ref(text).await?;
        self.session.data_source(&target.datasource).await?;
        Ok(target)
    }

    /// `DATASOURCE.TABLE` (the table part may contain dots) or the bare name of a catalog
    /// topic (on the cluster it was published to: production when it is there, else test).
    /// The CLI's `--table` and the workbench's table prompts read tables so.
    pub async fn table_ref(&self, text: &str) -> Result<TableRef, AppError> {
        let session = &self.session;
        let text = text.trim();
        let target = match text.split_once('.') {
            Some((ds, t)) if !ds.trim().is_empty() && !t.trim().is_empty() => {
                TableRef::new(ds.trim(), t.trim())
            }
            Some(_) => {
                return Err(AppError::User(format!(
                    "`{text}` does not name a table; write DATASOURCE.TABLE, e.g. mysql_orders.orders"
                )));
            }
            None if text.is_empty() => {
                return Err(AppError::User(
                    "no table given; write DATASOURCE.TABLE, e.g. mysql_orders.orders".into(),
                ));
            }
            None => {
                let topic = session.topic(text).await.map_err(|e| {
                    AppError::User(format!(
                        "`{text}` is not DATASOURCE.TABLE and {e}; write e.g. kafka_main.clicks"
                    ))
                })?;
                let ds = topic
                .prod_datasource
                .or(topic.test_datasource)
                .ok_or_else(|| {
                    AppError::User(format!(
                        "topic {text} is still in design and lives on no cluster; publish it first, or write DATASOURCE.{text}"
                    ))
                })?;
                TableRef::new(&ds, text)
            }
        };
        Ok(target)
    }
}

/// The table of a grant row as the audit log stores it (`{"target": {"datasource",
/// "table"}, …}`).
fn target_of_grant(json: &str) -> Option<TableRef> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let t = v.get("target")?;
    Some(TableRef::new(
        t.get("datasource")?.as_str()?,
        t.get("table")?.as_str()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_json_names_its_table() {
        let json = r#"{"id":3,"list":"whitelist","target":{"datasource":"m","table":"a.b"},"grantee":{"Project":"p"}}"#;
        assert_eq!(target_of_grant(json), Some(TableRef::new("m", "a.b")));
        assert_eq!(target_of_grant(r#"{"id":3}"#), None);
        assert_eq!(target_of_grant("not json"), None);
    }
}
