//! Checking a form: the job text is rebuilt with the form's rows in place of the node
//! (or the config), decoded and validated by the job-file checker, and every diagnostic
//! is put under the row whose value its position falls in. A row that does not decode
//! is reported and left out, and the rest checked again, so that each bad row shows its
//! own problem rather than only the first.

use std::collections::BTreeSet;
use std::ops::Range;

use super::form::{CONFIG_HEAD, Decoded, Form, Problem, Target};
use crate::jobfile::syntax::{self, Kind, LineIndex};
use crate::jobfile::{self, Diagnostic, Severity, fields};
use crate::model::Job;

/// The job text with the form's rows in place, and where each row's value is.
struct Built {
    text: String,
    rows: Vec<Option<Range<usize>>>,
    unit: Range<usize>,
}

impl Form {
    /// Re-check every row against the job.
    pub fn check(&mut self, job: &Job) {
        for r in &mut self.rows {
            r.problems.clear();
        }
        self.unit_problems.clear();
        self.other_problems.clear();
        self.decoded = None;
        // rows that are not RON at all are reported alone and left out
        let mut skip = BTreeSet::new();
        let mut values: Vec<Option<String>> = vec![None; self.rows.len()];
        for (k, row) in self.rows.iter_mut().enumerate() {
            if row.text.trim().is_empty() {
                continue;
            }
            match syntax::parse(&row.text) {
                Ok(doc) => values[k] = Some(fields::one_line(&doc.value)),
                Err(e) => {
                    let message = if e.message.contains("holds no job") {
                        "no value here (only a comment?)".to_string()
                    } else {
                        format!("not a RON value: {}", e.message)
                    };
                    let hint = e.hint.filter(|h| !h.contains("Job("));
                    row.problems.push(Problem {
                        severity: Severity::Error,
                        message,
                        hint: hint.or(Some("strings go in double quotes: \"text\"".into())),
                    });
                    skip.insert(k);
                }
            }
        }
        // decode; a row that fails is reported and left out, and the rest tried again,
        // so that every bad row shows its own problem
        let mut last: Vec<(Option<usize>, bool, Diagnostic)>;
        let mut ok_job: Option<Job>;
        loop {
            let built = self.build(job, &values, &skip);
            let checked = jobfile::check_source("form", &built.text);
            let index = LineIndex::new(&built.text);
            last = checked
                .diagnostics
                .iter()
                .map(|d| {
                    let (row, in_unit) = self.locate(&built, &index, d);
                    (row, in_unit, d.clone())
                })
                .collect();
            let ok = match (self.target, &checked.job) {
                (Target::Node(_), Some(j)) => j.nodes.len() == job.nodes.len(),
                (Target::Config, Some(_)) => true,
                _ => false,
            };
            ok_job = checked.job;
            if ok {
                break;
            }
            let newly: Vec<usize> = last
                .iter()
                .filter_map(|(r, _, d)| r.filter(|r| d.is_error() && !skip.contains(r)))
                .filter(|r| values[*r].is_some())
                .collect();
            if newly.is_empty() {
                break;
            }
            for (r, _, d) in &last {
                if let Some(r) = r
                    && newly.contains(r)
                {
                    self.rows[*r].problems.push(Problem::of(d));
                }
            }
            skip.extend(newly);
        }
        for (row, in_unit, d) in last {
            let p = Problem::of(&d);
            match row {
                Some(r) if skip.contains(&r) && d.code == "missing-field" => {}
                Some(r) => {
                    if !self.rows[r].problems.contains(&p) {
                        self.rows[r].problems.push(p);
                    }
                }
                None if in_unit => self.unit_problems.push(p),
                None => self.other_problems.push(p),
            }
        }
        if !skip.is_empty() {
            return;
        }
        self.decoded = ok_job.and_then(|j| match self.target {
            Target::Node(i) => j.nodes.get(i).cloned().map(Decoded::Node),
            Target::Config => Some(Decoded::Config {
                name: j.name,
                description: j.description,
                config: j.config,
            }),
        });
    }

    /// Which row (or the unit as a whole) a diagnostic of the built text is about.
    fn locate(&self, built: &Built, index: &LineIndex, d: &Diagnostic) -> (Option<usize>, bool) {
        let off = index.offset(d.line, d.column);
        let by_span = built
            .rows
            .iter()
            .enumerate()
            .filter_map(|(k, r)| r.as_ref().map(|r| (k, r)))
            .filter(|(_, r)| r.start <= off && off <= r.end)
            .min_by_key(|(_, r)| r.end - r.start)
            .map(|(k, _)| k);
        if by_span.is_some() {
            return (by_span, true);
        }
        if d.code == "missing-field"
            && let Some(name) = d.message.split('`').nth(1)
            && let Some(k) = self.rows.iter().position(|r| r.name == name)
        {
            return (Some(k), true);
        }
        (None, built.unit.contains(&off))
    }

    /// The job text with the rows in place of the node or the config.
    fn build(&self, job: &Job, values: &[Option<String>], skip: &BTreeSet<usize>) -> Built {
        let src = jobfile::to_ron(job);
        let mut b = Built {
            text: String::from("Job(\n"),
            rows: vec![None; self.rows.len()],
            unit: 0..0,
        };
        let rows = |b: &mut Built, indent: &str, only: &dyn Fn(&str) -> bool| {
            for (k, row) in self.rows.iter().enumerate() {
                let (Some(v), false) = (&values[k], skip.contains(&k)) else {
                    continue;
                };
                if !only(row.name) {
                    continue;
                }
                b.text.push_str(&format!("{indent}{}: ", row.name));
                let start = b.text.len();
                b.text.push_str(v);
                b.rows[k] = Some(start..b.text.len());
                b.text.push_str(",\n");
            }
        };
        if self.target == Target::Config {
            let start = b.text.len();
            rows(&mut b, "    ", &|n| CONFIG_HEAD.contains(&n));
            b.text.push_str("    config: (\n");
            rows(&mut b, "        ", &|n| !CONFIG_HEAD.contains(&n));
            b.text.push_str("    ),\n");
            b.unit = start..b.text.len();
        }
        let Ok(doc) = syntax::parse(&src) else {
            return b;
        };
        let Kind::Struct { fields, .. } = &doc.value.kind else {
            return b;
        };
        for f in fields {
            let name = f.name.name.as_str();
            if self.target == Target::Config && (CONFIG_HEAD.contains(&name) || name == "config") {
                continue;
            }
            match (&f.value.kind, self.target) {
                (Kind::List { items, .. }, Target::Node(i)) if name == "nodes" => {
                    b.text.push_str("    nodes: [\n");
                    for (j, item) in items.iter().enumerate() {
                        if j == i {
                            let start = b.text.len();
                            b.text.push_str(&format!("        {}(\n", self.kind));
                            rows(&mut b, "            ", &|_| true);
                            b.text.push_str("        ),\n");
                            b.unit = start..b.text.len();
                        } else {
                            let span = item.span;
                            b.text.push_str("        ");
                            b.text.push_str(&src[span.start..span.end]);
                            b.text.push_str(",\n");
                        }
                    }
                    b.text.push_str("    ],\n");
                }
                _ => {
                    let span = f.value.span;
                    b.text
                        .push_str(&format!("    {name}: {},\n", &src[span.start..span.end]));
                }
            }
        }
        b.text.push_str(")\n");
        b
    }
}
