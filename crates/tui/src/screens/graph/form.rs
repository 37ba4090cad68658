//! The parameter form of a node (one row per field of its kind, in struct order) and the
//! job config form (name, description and `config`). Rows hold RON text as `weir fmt`
//! prints it. After every committed row the form rebuilds the job text with the rows in
//! place of the node (or config), decodes and validates the whole job with the job-file
//! checker, and puts each diagnostic under the row its span falls in (`form_check.rs`).

use crate::jobfile::{Diagnostic, Severity, fields};
use crate::model::{Job, JobConfig, Node};
use crate::overlay::LineInput;
use crate::refused::Refused;

use super::edit;

/// What the form edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Node(usize),
    Config,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub severity: Severity,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub(super) fn of(d: &Diagnostic) -> Problem {
        Problem {
            severity: d.severity,
            message: d.message.clone(),
            hint: d.hint.clone(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: &'static str,
    /// The committed text of the row (RON); empty = left out (default).
    pub text: String,
    /// The text when the form opened.
    pub original: String,
    pub required: bool,
    pub problems: Vec<Problem>,
}

/// What applying the form writes into the job.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Decoded {
    Node(Node),
    Config {
        name: String,
        description: String,
        config: JobConfig,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub target: Target,
    /// `KafkaSource`, or `Job` for the config form.
    pub kind: &'static str,
    pub rows: Vec<Row>,
    pub selected: usize,
    /// The row being edited, with its input.
    pub editing: Option<LineInput>,
    /// The row being edited holds a string: the input is its text without quotes and
    /// escapes, quoted again when committed (unless it starts with a quote: then it is
    /// taken as RON, `"debug"` as typed).
    pub editing_string: bool,
    /// Problems of the node (or config) as a whole, e.g. "receives nothing".
    pub unit_problems: Vec<Problem>,
    /// Problems elsewhere in the job, by count and first message.
    pub other_problems: Vec<Problem>,
    pub(super) decoded: Option<Decoded>,
    /// Esc was pressed once with unapplied rows.
    pub confirm_discard: bool,
    /// First line shown (scrolling).
    pub top: usize,
}

pub(super) const CONFIG_HEAD: [&str; 2] = ["name", "description"];

impl Form {
    pub fn for_node(job: &Job, i: usize) -> Option<Form> {
        let op = job.nodes.get(i)?;
        let kind = op.kind();
        let names = fields::operator_fields(kind)?;
        let required = fields::required_fields(kind);
        let values = fields::operator_values(op);
        let rows = names
            .iter()
            .map(|n| {
                let text = values
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                Row {
                    name: n,
                    original: text.clone(),
                    text,
                    required: required.contains(n),
                    problems: Vec::new(),
                }
            })
            .collect();
        Some(Form::new(Target::Node(i), kind, rows, job))
    }

    pub fn for_config(job: &Job) -> Form {
        let values = fields::struct_values(&job.config);
        let mut rows: Vec<Row> = CONFIG_HEAD
            .iter()
            .map(|n| {
                let v = if *n == "name" {
                    &job.name
                } else {
                    &job.description
                };
                let text = if v.is_empty() && *n == "description" {
                    String::new()
                } else {
                    fields::escaped(v)
                };
                Row {
                    name: n,
                    original: text.clone(),
                    text,
                    required: *n == "name",
                    problems: Vec::new(),
                }
            })
            .collect();
        for n in fields::struct_fields::<JobConfig>().unwrap_or_default() {
            let text = values
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            rows.push(Row {
                name: n,
                original: text.clone(),
                text,
                required: false,
                problems: Vec::new(),
            });
        }
        Form::new(Target::Config, "Job", rows, job)
    }

    fn new(target: Target, kind: &'static str, rows: Vec<Row>, job: &Job) -> Form {
        let mut f = Form {
            target,
            kind,
            rows,
            selected: 0,
            editing: None,
            editing_string: false,
            unit_problems: Vec::new(),
            other_problems: Vec::new(),
            decoded: None,
            confirm_discard: false,
            top: 0,
        };
        f.check(job);
        f
    }

    /// Rows differ from what the job holds.
    pub fn changed(&self) -> bool {
        self.rows.iter().any(|r| r.text != r.original)
    }

    /// The rows decode: applying would write them.
    pub fn decodes(&self) -> bool {
        self.decoded.is_some()
    }

    /// Rows with an error, counted.
    pub fn bad_rows(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.problems.iter().any(Problem::is_error))
            .count()
    }

    pub fn title(&self, job: &Job) -> String {
        match self.target {
            Target::Node(i) => format!(
                "{} · {}",
                job.nodes.get(i).map_or("?", |n| n.id()),
                self.kind
            ),
            Target::Config => format!("job config · {}", job.name),
        }
    }

    /// Start editing the selected row.
    pub fn edit(&mut self) {
        let Some(row) = self.rows.get(self.selected) else {
            return;
        };
        // a string is edited as its text: clearing it and typing gives that text
        let (input, string) = match unquoted(&row.text) {
            Some(text) => (LineInput::with(&text), true),
            None => (LineInput::with(&row.text), false),
        };
        self.editing = Some(input);
        self.editing_string = string;
        self.confirm_discard = false;
    }

    /// Commit the row being edited (if any) and re-check. Returns the row's name.
    pub fn commit(&mut self, job: &Job) -> Option<&'static str> {
        let input = self.editing.take()?;
        let row = self.rows.get_mut(self.selected)?;
        let typed = input.text.trim();
        // typed starting with a quote, it is RON as written (checked like any row)
        row.text = if self.editing_string && !typed.is_empty() && !typed.starts_with('"') {
            fields::escaped(&input.text)
        } else {
            typed.to_string()
        };
        let name = row.name;
        self.check(job);
        Some(name)
    }

    /// Write the decoded rows into the job. Err says why not.
    pub fn apply(&self, job: &mut Job) -> Result<String, Refused> {
        let Some(decoded) = &self.decoded else {
            let bad = self.bad_rows().max(1);
            return Err(format!(
                "not applied: {bad} row{} do{} not decode yet",
                if bad == 1 { "" } else { "s" },
                if bad == 1 { "es" } else { "" }
            )
            .into());
        };
        match (decoded, self.target) {
            (Decoded::Node(op), Target::Node(i)) => {
                let Some(old) = job.nodes.get(i).map(|n| n.id().to_string()) else {
                    return Err("the node is gone".into());
                };
                let new = op.id().to_string();
                if new != old && job.node(&new).is_some() {
                    return Err(format!("not applied: id `{new}` is taken by another node").into());
                }
                edit::rename_refs(job, &old, &new);
                job.nodes[i] = op.clone();
                Ok(if new == old {
                    format!("applied {new}")
                } else {
                    format!("applied {new} (renamed from {old}, edges follow)")
                })
            }
            (
                Decoded::Config {
                    name,
                    description,
                    config,
                },
                _,
            ) => {
                job.name = name.clone();
                job.description = description.clone();
                job.config = config.clone();
                Ok("applied the job config".into())
            }
            _ => Err("the form does not fit its target".into()),
        }
    }
}

/// The text of a one-line string literal (`"a \"b\""` → `a "b"`); None for anything
/// else, and for escapes other than `\"`, `\\`, `\n`, `\r` and `\t`.
pub(super) fn unquoted(lit: &str) -> Option<String> {
    let inner = lit.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => out.push(match chars.next()? {
                '"' => '"',
                '\\' => '\\',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                _ => return None,
            }),
            c => out.push(c),
        }
    }
    Some(out)
}
