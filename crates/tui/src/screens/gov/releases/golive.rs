//! The go-live form of an approved release: parallelism, memory (`512MiB`), start
//! position (latest, earliest or a time) and job parameters (`NAME=VALUE`,
//! comma-separated), and the state: fresh, or kept from the running production instance
//! (a savepoint of it, the state report, then the new instance starts from it; operators
//! whose state does not fit start empty only when named under "drop state of"). Each field is checked as it is typed and all of them again on
//! submit, with a message under the field that says what to write; the go-live itself
//! runs in the background and ends in the status bar ("release #7 is live: production
//! instance #3 …", or the store's refusal with its rule).

use weir_app::jobs::{GoLiveSpec, StartPosition, describe_went_live, parse_memory, parse_start};

use super::modal::Modal;
use super::{Releases, describe, say, short};
use crate::action::{Level, Outcome};
use crate::screens::Context;
use crate::screens::gov::error_text;
use crate::screens::gov::form::{Field, Form, FormEvent};
use crate::screens::jobs::work::Work;

/// The start positions the form offers.
const STARTS: [&str; 3] = ["latest", "earliest", "time"];
/// What the new production instance starts with.
const STATES: [&str; 2] = ["fresh", "keep"];

/// An open go-live form for one release.
pub(super) struct GoLive {
    pub form: Form,
    pub release: i64,
}

impl GoLive {
    fn new(release: &weir_app::jobs::Release) -> GoLive {
        let mut time = Field::text("time", "start time", "")
            .hint("2026-12-07T10:00:00Z (UTC) or epoch milliseconds");
        time.enabled = false;
        let mut drop = Field::text("drop", "drop state of", "")
            .hint("operators whose state does not fit and may start empty, comma-separated");
        drop.enabled = false;
        let fields = vec![
            Field::text("parallelism", "parallelism", "1").hint("parallel tasks, 1 or more"),
            Field::text("memory", "memory", "512MiB")
                .hint("the memory limit: 512MiB, 2GiB, or MiB as a number"),
            Field::choice("start", "start", &STARTS, "latest")
                .hint("←→ where to start reading: latest, earliest, or a time"),
            time,
            Field::text("params", "parameters", "")
                .hint("NAME=VALUE, comma-separated, e.g. region=eu,limit=10 (empty: none)"),
            Field::choice("state", "state", &STATES, "fresh").hint(
                "←→ keep: carry the running production instance's state over (see the review's state report)",
            ),
            drop,
        ];
        let title = format!(
            "go live: release {} ({})",
            describe(release),
            short(&release.hash)
        );
        GoLive {
            form: Form::new(&title, fields),
            release: release.id,
        }
    }
}

/// `parallelism`: a whole number of tasks, at least 1.
pub(super) fn parse_parallelism(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(n) => Err(format!("{n} tasks: run at least 1 task")),
        Err(_) if text.trim().is_empty() => Err("give the number of parallel tasks, e.g. 2".into()),
        Err(_) => Err(format!(
            "`{}` is not a whole number; give the number of parallel tasks, e.g. 2",
            text.trim()
        )),
    }
}

/// `parameters`: `NAME=VALUE` pairs separated by commas, as a JSON object of strings.
pub(super) fn parse_params(text: &str) -> Result<serde_json::Value, String> {
    weir_app::jobs::parse_params(text.split(',')).map_err(|e| error_text(&e))
}

/// The start position the form describes.
fn start_of(form: &Form) -> Result<StartPosition, String> {
    match form.choice("start").as_str() {
        "earliest" => Ok(StartPosition::Earliest),
        "time" => {
            let t = form.text("time");
            if t.is_empty() {
                return Err(
                    "give the time to start at: 2026-12-07T10:00:00Z or epoch milliseconds".into(),
                );
            }
            parse_start(&t).map_err(|e| error_text(&e))
        }
        _ => Ok(StartPosition::Latest),
    }
}

/// The operators named under "drop state of".
fn allow_drop(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// Check one field; its error (or none) goes under it.
fn check(form: &mut Form, key: &str) {
    let error = match key {
        "parallelism" => parse_parallelism(&form.text("parallelism")).err(),
        "memory" => parse_memory(&form.text("memory"))
            .err()
            .map(|e| error_text(&e)),
        "start" | "time" => start_of(form).err(),
        "params" => parse_params(&form.text("params")).err(),
        _ => None,
    };
    let key = if key == "start" { "time" } else { key };
    form.set_error(key, error);
}

/// The spec the form describes, or the form with every problem marked.
pub(super) fn spec_of(form: &mut Form) -> Option<GoLiveSpec> {
    form.clear_errors();
    for key in ["parallelism", "memory", "time", "params"] {
        check(form, key);
    }
    if let Some(i) = form
        .fields
        .iter()
        .position(|f| f.enabled && f.error.is_some())
    {
        form.selected = i;
        return None;
    }
    Some(GoLiveSpec {
        parallelism: parse_parallelism(&form.text("parallelism")).ok()?,
        memory_mib: parse_memory(&form.text("memory")).ok()?,
        start: start_of(form).ok()?,
        params: parse_params(&form.text("params")).ok()?,
    })
}

impl Releases {
    /// `g`: the go-live form of the selected release, if it is approved.
    pub(super) fn open_go_live(&mut self) -> Outcome {
        let Some(r) = self.list.current() else {
            return say(Level::Info, "no release selected".into());
        };
        if r.state != weir_app::jobs::ReleaseState::Approved {
            return say(
                Level::Warning,
                format!(
                    "release #{} is {}; only an approved release can go live",
                    r.id,
                    r.state.as_str()
                ),
            );
        }
        self.modal = Some(Modal::GoLive(Box::new(GoLive::new(r))));
        Outcome::Consumed
    }

    /// A key for the open go-live form.
    pub(super) fn go_live_key(
        &mut self,
        mut g: Box<GoLive>,
        key: crate::keys::Key,
        cx: &Context,
    ) -> Outcome {
        match g.form.handle_key(key) {
            FormEvent::Cancel => say(Level::Info, "nothing taken live".into()),
            FormEvent::Submit => {
                let Some(spec) = spec_of(&mut g.form) else {
                    self.modal = Some(Modal::GoLive(g));
                    return Outcome::Consumed;
                };
                let Some(link) = cx.store else {
                    return say(Level::Error, "no metadata store".into());
                };
                let id = g.release;
                let keep = g.form.choice("state") == "keep";
                let drop = allow_drop(&g.form.text("drop"));
                let cwd = cx.project.root.clone();
                self.work = Some(Work::start(
                    link,
                    format!("taking release #{id} live"),
                    move |gov| async move {
                        if keep {
                            let kept = gov.go_live_keeping_state(id, &spec, &drop, &cwd).await?;
                            return Ok((
                                Level::Ok,
                                format!(
                                    "{}; instance #{} stopped, state kept from its savepoint #{}",
                                    describe_went_live(&kept.went),
                                    kept.stopped,
                                    kept.savepoint.id
                                ),
                            ));
                        }
                        let went = gov.go_live(id, &spec).await?;
                        Ok((Level::Ok, describe_went_live(&went)))
                    },
                ));
                // the spinner says what runs
                say(Level::Info, String::new())
            }
            FormEvent::Changed(field) => {
                if field == "start" {
                    let on = g.form.choice("start") == "time";
                    g.form.set_enabled("time", on);
                    if !on {
                        g.form.set_error("time", None);
                    }
                }
                if field == "state" {
                    let keep = g.form.choice("state") == "keep";
                    g.form.set_enabled("drop", keep);
                }
                check(&mut g.form, field);
                self.modal = Some(Modal::GoLive(g));
                Outcome::Consumed
            }
            FormEvent::Consumed => {
                self.modal = Some(Modal::GoLive(g));
                Outcome::Consumed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyCode;

    use crate::keys::Key;

    fn release() -> weir_app::jobs::Release {
        weir_app::jobs::Release {
            id: 7,
            job: "shop/pv".into(),
            version: 2,
            hash: "3f9a1c0b2e7d".repeat(5),
            note: String::new(),
            state: weir_app::jobs::ReleaseState::Approved,
            requester: "bob".into(),
            requested_at: "2026-12-02T01:23:45Z".into(),
            opinion: None,
            decided_by: None,
            decided_at: None,
            approved_hash: None,
            live_by: None,
            live_at: None,
            ended_by: None,
            ended_at: None,
            instance: None,
        }
    }

    fn type_text(form: &mut Form, text: &str) {
        for c in text.chars() {
            let ev = form.handle_key(Key::char(c));
            if let FormEvent::Changed(k) = ev {
                check(form, k);
            }
        }
    }

    fn clear(form: &mut Form) {
        for _ in 0..20 {
            form.handle_key(Key::plain(KeyCode::Backspace));
        }
    }

    #[test]
    fn values_are_checked_as_typed_and_on_submit() {
        let mut g = GoLive::new(&release());
        assert!(
            g.form
                .title
                .contains("release #7 shop/pv version 2 (3f9a1c0b2e7d)")
        );
        let f = &mut g.form;
        assert_eq!(f.focused(), Some("parallelism"));
        clear(f);
        type_text(f, "0");
        let err = f.fields[0].error.clone().unwrap();
        assert!(err.contains("at least 1 task"), "{err}");
        clear(f);
        type_text(f, "4");
        assert!(f.fields[0].error.is_none());
        f.handle_key(Key::plain(KeyCode::Down));
        clear(f);
        type_text(f, "lots");
        assert!(f.fields[1].error.clone().unwrap().contains("512MiB"));
        clear(f);
        type_text(f, "1GiB");
        assert!(f.fields[1].error.is_none());
        // the time field opens with the `time` start
        f.handle_key(Key::plain(KeyCode::Down));
        assert!(!f.is_enabled("time"));
        f.handle_key(Key::plain(KeyCode::Left));
        assert_eq!(f.choice("start"), "time");
        f.set_enabled("time", true);
        assert!(spec_of(f).is_none());
        assert_eq!(f.focused(), Some("time"));
        type_text(f, "2026-12-07T10:00:00Z");
        f.handle_key(Key::plain(KeyCode::Down));
        type_text(f, "region=eu, limit = 10");
        let spec = spec_of(f).unwrap();
        assert_eq!(spec.parallelism, 4);
        assert_eq!(spec.memory_mib, 1024);
        assert_eq!(spec.start, StartPosition::Timestamp(1_796_637_600_000));
        assert_eq!(
            spec.params,
            serde_json::json!({"region": "eu", "limit": "10"})
        );
    }

    #[test]
    fn the_state_is_fresh_unless_kept_and_drops_name_operators() {
        let g = GoLive::new(&release());
        assert_eq!(g.form.choice("state"), "fresh");
        assert!(!g.form.is_enabled("drop"));
        assert_eq!(allow_drop(" agg, pv ,,"), vec!["agg", "pv"]);
        assert!(allow_drop("").is_empty());
    }

    #[test]
    fn parameters_and_parallelism_say_what_is_wrong() {
        assert_eq!(parse_params("").unwrap(), serde_json::json!({}));
        assert!(parse_params("a").unwrap_err().contains("NAME=VALUE"));
        assert!(parse_params("=1").unwrap_err().contains("no name"));
        assert!(parse_params("a=1,a=2").unwrap_err().contains("twice"));
        assert!(parse_params("my name=1").unwrap_err().contains("one word"));
        assert_eq!(
            parse_params("a=x=y").unwrap(),
            serde_json::json!({"a": "x=y"})
        );
        assert!(
            parse_parallelism("two")
                .unwrap_err()
                .contains("whole number")
        );
        assert!(
            parse_parallelism("")
                .unwrap_err()
                .contains("number of parallel tasks")
        );
        assert_eq!(parse_parallelism(" 3 ").unwrap(), 3);
    }
}
