//! The SQL of each SQL operator, checked against the tables its upstream operators
//! register, with positions mapped back into the job file.

use super::Checker;
use crate::jobfile::syntax::{Span, string_offset_to_source};
use crate::model::*;

impl Checker<'_> {
    pub(super) fn sql(&mut self) {
        let job = self.job;
        for (i, node) in job.nodes.iter().enumerate() {
            let Node::Sql(s) = node else { continue };
            let upstream: Vec<&str> = job
                .inputs(&s.id)
                .filter_map(|n| job.node(n))
                .filter_map(Node::table_name)
                .collect();
            let unknown_upstream = job.inputs(&s.id).any(|n| self.d.broken_ids.contains(n));
            let Some(field) = self.d.node_values[i].field("query") else {
                continue;
            };
            let lit = field.value.span;
            for p in crate::jobfile::sql::check(&s.query, &upstream) {
                if p.code == "sql-unknown-table" && unknown_upstream {
                    continue;
                }
                let start = string_offset_to_source(self.src, lit, p.start);
                let end = string_offset_to_source(self.src, lit, p.end).max(start);
                let message = format!("{} (in SQL `{}`)", p.message, s.id);
                self.error(Span::new(start, end), p.code, message, p.hint);
            }
        }
    }
}
