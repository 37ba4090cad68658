//! Parameter rules of the transform kinds: ETL code, custom packages and lookups.
//! `Custom` lives here although its role may make it a source or a sink.

use crate::jobfile::validate::Checker;
use crate::model::*;

impl Checker<'_> {
    /// Script or package, and the declared output schema.
    pub(super) fn etl(&mut self, i: usize, e: &Etl) {
        self.code(i, &e.code);
        self.fields(i, "output", &e.output);
    }

    /// Package and entry; a source or transform role needs its `output` schema.
    pub(super) fn custom(&mut self, i: usize, c: &Custom) {
        self.non_empty(i, "package", &c.package);
        self.non_empty(i, "entry", &c.entry);
        match (&c.output, c.role) {
            (None, Role::Source | Role::Transform) => self.error(
                self.d.node_values[i].head_span(),
                "custom-output",
                format!(
                    "Custom `{}` acts as a {:?} and needs its `output` schema",
                    c.id, c.role
                ),
                "add output: Some([(name: \"...\", type: String)])".to_string(),
            ),
            (Some(f), _) => self.fields(i, "output", f),
            _ => {}
        }
    }

    /// Table, fields, a key made of declared fields, and cache limits.
    pub(super) fn lookup(&mut self, i: usize, l: &Lookup) {
        self.non_empty(i, "table", &l.table);
        self.fields(i, "fields", &l.fields);
        self.columns(i, "key", &l.key);
        for (k, key) in l.key.iter().enumerate() {
            if !l.fields.iter().any(|f| f.name == *key) && !key.trim().is_empty() {
                self.error(
                    self.at_item(i, "key", k),
                    "unknown-column",
                    format!("lookup key `{key}` is not among the fields of `{}`", l.id),
                    None,
                );
            }
        }
        match l.cache {
            Cache::Lru { size: 0, .. } => self.error(
                self.at(i, &["cache", "size"]),
                "cache",
                "LRU cache size is 0".into(),
                "use at least 1 entry".to_string(),
            ),
            Cache::All { ttl_ms: 0 } | Cache::Lru { ttl_ms: 0, .. } => self.warn(
                self.at(i, &["cache", "ttl_ms"]),
                "cache",
                "cache `ttl_ms` is 0: entries never expire".into(),
                None,
            ),
            _ => {}
        }
    }

    /// An ETL script is not empty; a package names its path and entry.
    fn code(&mut self, i: usize, code: &Code) {
        match code {
            Code::Script(s) if s.trim().is_empty() => self.error(
                self.at(i, &["code"]),
                "empty",
                "the ETL script is empty".into(),
                None,
            ),
            Code::Package { path, entry } if path.trim().is_empty() || entry.trim().is_empty() => {
                self.error(
                    self.at(i, &["code"]),
                    "empty",
                    "the ETL package needs a path and an entry".into(),
                    None,
                )
            }
            _ => {}
        }
    }
}
