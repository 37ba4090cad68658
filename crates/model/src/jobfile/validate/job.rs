//! Job-level rules: version, name, config, mode and package, positions, and the job's
//! own data source declarations.

use std::collections::BTreeSet;

use super::{Checker, MAX_PARALLELISM};
use crate::jobfile::de::did_you_mean;
use crate::jobfile::syntax::Span;
use crate::model::secret::{self, SecretRef};
use crate::model::*;

impl Checker<'_> {
    pub(super) fn job_level(&mut self) {
        let job = self.job;
        if job.version != FORMAT_VERSION {
            self.error(
                self.top("version"),
                "version",
                format!("job format version {} is not supported", job.version),
                format!("this weir reads and writes version {FORMAT_VERSION}"),
            );
        }
        if job.name.trim().is_empty() {
            self.error(
                self.top("name"),
                "job-name",
                "the job has an empty name".into(),
                "give it a name, e.g. name: \"clickstream_pv\"".to_string(),
            );
        } else if job.name.chars().any(char::is_control) {
            self.error(
                self.top("name"),
                "job-name",
                "the job name contains control characters".into(),
                None,
            );
        }
        let cfg = &job.config;
        let cfg_span = |c: &Self, f: &str| {
            c.d.root
                .field("config")
                .and_then(|v| v.value.field(f))
                .map_or(c.top("config"), |f| f.value.head_span())
        };
        if cfg.parallelism == 0 || cfg.parallelism > MAX_PARALLELISM {
            self.error(
                cfg_span(self, "parallelism"),
                "parallelism",
                format!("parallelism {} is out of range", cfg.parallelism),
                format!("use 1 to {MAX_PARALLELISM}"),
            );
        }
        if cfg.checkpoint_interval_ms != 0 && cfg.checkpoint_interval_ms < 100 {
            self.error(
                cfg_span(self, "checkpoint_interval_ms"),
                "checkpoint-interval",
                format!(
                    "checkpoint interval {} ms is too short",
                    cfg.checkpoint_interval_ms
                ),
                "use 0 (off) or at least 100 ms".to_string(),
            );
        }
        for k in cfg.env.keys() {
            if k.trim().is_empty() {
                self.error(
                    cfg_span(self, "env"),
                    "env",
                    "an environment parameter has an empty name".into(),
                    None,
                );
            }
        }
        let mode_known =
            !self.d.head_dropped.contains("mode") && !self.d.head_dropped.contains("package");
        match (job.mode, &job.package) {
            _ if !mode_known => {}
            (JobMode::Package, None) => self.error(
                self.top("mode"),
                "package",
                "a Package job needs `package: (path: ..., entry: ...)`".into(),
                "or use mode: Online with nodes and edges".to_string(),
            ),
            (JobMode::Package, Some(p)) => {
                if p.path.trim().is_empty() || p.entry.trim().is_empty() {
                    self.error(
                        self.top("package"),
                        "package",
                        "the package needs a path and an entry".into(),
                        None,
                    );
                }
                if !job.nodes.is_empty() {
                    self.error(
                        self.top("nodes"),
                        "package",
                        "a Package job is its plugin: it has no nodes".into(),
                        "remove nodes and edges, or set mode: Online".to_string(),
                    );
                }
                // Until weir loads plugins, such a job would "run" doing nothing.
                self.error(
                    self.top("mode"),
                    "package-mode",
                    format!(
                        "mode: Package is not supported yet: weir cannot load the plugin `{}`, so the job would run doing nothing",
                        p.path
                    ),
                    "build the job from operators with mode: Online (nodes and edges)"
                        .to_string(),
                );
            }
            (JobMode::Online, Some(_)) => self.error(
                self.top("package"),
                "package",
                "`package` is only for mode: Package".into(),
                "remove it, or set mode: Package".to_string(),
            ),
            (JobMode::Online, None) => {
                if job.nodes.is_empty()
                    && self.d.broken_ids.is_empty()
                    && !self.d.problems.iter().any(|p| p.code != "unknown-field")
                {
                    self.error(
                        self.top("nodes"),
                        "no-operators",
                        "the job has no operators".into(),
                        "add nodes, e.g. a KafkaSource, a Sql operator and a sink".to_string(),
                    );
                }
            }
        }
        let known: BTreeSet<&str> = job
            .nodes
            .iter()
            .map(Node::id)
            .chain(self.d.broken_ids.iter().map(String::as_str))
            .collect();
        for id in job.positions.keys() {
            if !known.contains(id.as_str()) {
                let hint =
                    did_you_mean(id, known.iter().copied()).map(|m| format!("did you mean `{m}`?"));
                self.error(
                    self.top("positions"),
                    "unknown-node",
                    format!("position given for unknown node `{id}`"),
                    hint,
                );
            }
        }
    }

    /// Span of job-local data source `name` (or one of its fields).
    pub(super) fn ds_span(&self, name: &str, field: Option<&str>) -> Span {
        let Some(f) = self.d.root.field("datasources") else {
            return self.d.root.head_span();
        };
        let crate::jobfile::syntax::Kind::Map { entries, .. } = &f.value.kind else {
            return f.value.head_span();
        };
        let Some(e) = entries
            .iter()
            .find(|e| matches!(&e.key.kind, crate::jobfile::syntax::Kind::Str(k) if k == name))
        else {
            return f.value.head_span();
        };
        match field.and_then(|n| e.value.field(n)) {
            Some(fv) => fv.value.span,
            None => e.key.span,
        }
    }

    pub(super) fn datasources(&mut self) {
        let decl = &self.job.datasources;
        for (name, ds) in decl {
            if name.trim().is_empty() {
                self.error(
                    self.ds_span(name, None),
                    "empty",
                    "a data source has an empty name".into(),
                    None,
                );
            }
            if ds.address.trim().is_empty() {
                self.error(
                    self.ds_span(name, Some("address")),
                    "empty",
                    format!("data source `{name}` has an empty address"),
                    None,
                );
            } else if let Some(problem) = crate::values::port_problem(&ds.address) {
                self.error(
                    self.ds_span(name, Some("address")),
                    "port",
                    format!("data source `{name}`: {problem}"),
                    None,
                );
            }
            if let Some(p) = &ds.password
                && !(p.starts_with("env:") || p.starts_with("file:"))
            {
                self.error(
                    self.ds_span(name, Some("password")),
                    "credential",
                    format!("data source `{name}` holds a password in plain text"),
                    "refer to it instead: password: Some(\"env:WEIR_SECRET_NAME\") or Some(\"file:NAME\")"
                        .to_string(),
                );
            } else if let Some(Err(e)) = ds.password.as_deref().map(SecretRef::parse_new) {
                self.error(
                    self.ds_span(name, Some("password")),
                    "credential",
                    format!("data source `{name}`: password: {e}"),
                    e.fix().to_string(),
                );
            }
            if let Err(e) = secret::check_address(&ds.address) {
                self.error(
                    self.ds_span(name, Some("address")),
                    "credential",
                    format!("data source `{name}`: {e}"),
                    r#"drop the password from the address and refer to it: password: Some("env:WEIR_SECRET_NAME")"#
                        .to_string(),
                );
            }
            for key in ds.options.keys() {
                if let Err(e) = secret::check_option(key) {
                    self.error(
                        self.ds_span(name, Some("options")),
                        "credential",
                        format!("data source `{name}`: {e}"),
                        r#"drop the option and refer to the password: password: Some("env:WEIR_SECRET_NAME")"#
                            .to_string(),
                    );
                }
            }
        }
        if decl.is_empty() {
            return;
        }
        for (i, node) in self.job.nodes.iter().enumerate() {
            let Some(ds) = node.datasource() else {
                continue;
            };
            let Some(d) = decl.get(ds) else {
                let hint = match did_you_mean(ds, decl.keys().map(String::as_str)) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!(
                        "declared data sources: {}",
                        decl.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                };
                self.error(
                    self.at(i, &["datasource"]),
                    "unknown-datasource",
                    format!("no data source named `{ds}`"),
                    hint,
                );
                continue;
            };
            use DataSourceKind as K;
            let allowed: &[K] = match node {
                Node::KafkaSource(_) | Node::KafkaSink(_) => &[K::Kafka],
                Node::JdbcSink(_) => &[K::Mysql, K::Oracle, K::Postgres],
                Node::Lookup(_) => &[K::Mysql, K::Oracle, K::Postgres, K::Redis],
                Node::HbaseSink(_) => &[K::Hbase],
                Node::RedisSink(_) => &[K::Redis],
                Node::EsSink(_) => &[K::Elasticsearch],
                Node::HiveSink(_) => &[K::Hive],
                _ => continue,
            };
            if !allowed.contains(&d.kind) {
                let names: Vec<&str> = allowed.iter().map(|k| k.name()).collect();
                self.error(
                    self.at(i, &["datasource"]),
                    "datasource-kind",
                    format!(
                        "{} `{}` cannot use {} data source `{ds}`",
                        node.kind(),
                        node.id(),
                        d.kind.name()
                    ),
                    format!("it needs a data source of kind {}", names.join(" or ")),
                );
            }
        }
    }
}
