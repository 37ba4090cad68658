//! Starting an instance from the workbench: the start form of `:instances` (`s`: the job
//! — the selected tree entry or a typed path —, test or prod, where to start reading,
//! parallelism and `NAME=VALUE` settings, each checked as it is typed) and [`launch`],
//! which `:instances` and the graph editor's `:run` share: the app's `start_instance`
//! (the job checked as `weir validate --store` checks it, and the starter's rights), then
//! a worker for the store (`weir_app::worker::local::ensure`), both in the background.
//! "from" may be a savepoint of the job (issue 16): its id is checked as it is typed
//! (`parse_from_savepoint`) and against the savepoints the screen read
//! ([`StartForm::set_savepoints`]), whose ids the field's hint lists; the app checks it
//! again (the savepoint must be of this job).

use std::path::{Path, PathBuf};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use weir_app::AppError;
use weir_app::instances::{Savepoint, StartRequest, Started, parse_from_savepoint};
use weir_app::store_link::{Pending, StoreLink};
use weir_app::worker::local::{LocalWorker, ensure};

use crate::keys::Key;
use crate::screens::gov::form::{Field, Form, FormEvent, draw_pane};
use crate::screens::gov::{centered, error_text};
use crate::theme::Theme;

/// A started instance, and what became of the worker that is to run it.
pub struct Launched {
    pub started: Started,
    /// `worker w-1 runs it` / `started the local worker (pid 4242)`, or why no worker
    /// could be started (the instance then waits for one).
    pub worker: Result<String, String>,
}

impl Launched {
    /// The status bar's line: `instance #4 of shop/pv working file 3f9a… started · …`.
    pub fn said(&self) -> String {
        let id = self.started.instance.id;
        match &self.worker {
            Ok(w) => format!("instance #{id} of {} started · {w}", self.started.what),
            Err(e) => format!(
                "instance #{id} of {} was created but waits for a worker: {e}",
                self.started.what
            ),
        }
    }
}

/// A start running in the background.
pub type Launch = Pending<Result<Launched, AppError>>;

/// The `--store` a worker of the store at `url` needs in `root`: none when `url` is what
/// it finds by itself (`WEIR_DATABASE_URL`, the project's `.weir/weir.db`).
fn store_flag(url: &str, root: &Path) -> Option<PathBuf> {
    match weir_app::governance::store_url(None, root) {
        Ok(default) if default == url => None,
        _ => Some(PathBuf::from(url)),
    }
}

/// Start `req` in the background, then make sure a worker runs for the link's store
/// (starting the local one in `root` when none is alive).
pub fn launch(link: &StoreLink, root: &Path, req: StartRequest) -> Launch {
    let url = link.url().to_string();
    let root = root.to_path_buf();
    let label = format!("starting {}…", req.job);
    link.spawn(label, move |gov, progress| async move {
        let started = gov.start_instance(&req).await?;
        let id = started.instance.id;
        progress.say(format!("instance #{id}: making sure a worker runs…"));
        let worker = tokio::task::spawn_blocking(move || {
            let flag = store_flag(&url, &root);
            ensure(&root, &url, flag.as_deref())
        })
        .await;
        let worker = match worker {
            Ok(Ok(LocalWorker::Alive(w))) => Ok(format!("worker {w} runs it")),
            Ok(Ok(LocalWorker::Started { pid, .. })) => {
                Ok(format!("started the local worker (pid {pid})"))
            }
            Ok(Err(e)) => Err(error_text(&e)),
            Err(e) => Err(format!(
                "starting the local worker stopped ({e}); start one with `weir worker`"
            )),
        };
        Ok(Launched { started, worker })
    })
}

/// Where to start reading, as the form offers it.
const FROM: [&str; 5] = ["job's own", "latest", "earliest", "time", "savepoint"];

/// The savepoint field's hint before the job's savepoints are known.
const SAVEPOINT_HINT: &str = "a savepoint id of this job (weir savepoint list JOB)";

/// What a key did to the start form.
#[derive(Debug)]
pub enum Step {
    /// Still filling it in.
    Typing,
    Cancel,
    /// Start this (the screen sets `cwd`).
    Submit(Box<StartRequest>),
}

/// The open start form.
pub struct StartForm {
    pub form: Form,
    /// The start runs: keys wait.
    pub starting: bool,
    /// The app's refusal, line by line (an invalid job's diagnostics span lines).
    refusal: Vec<String>,
    /// Every savepoint of the store as the screen last read them; None: not read.
    savepoints: Option<Vec<Savepoint>>,
}

impl StartForm {
    /// A form for `job` (a project-relative path such as `jobs/shop/pv.ron`), if known.
    pub fn new(job: Option<&str>) -> StartForm {
        let mut time = Field::text("time", "start time", "")
            .hint("2026-12-07T10:00:00Z (UTC) or epoch milliseconds");
        time.enabled = false;
        let mut savepoint = Field::text("savepoint", "savepoint", "").hint(SAVEPOINT_HINT);
        savepoint.enabled = false;
        let fields = vec![
            Field::text("job", "job", job.unwrap_or(""))
                .hint("a job file (jobs/shop/pv.ron), a path under jobs/ (shop/pv) or JOB@N"),
            Field::choice("env", "env", &["test", "prod"], "test")
                .hint("←→ test runs the file as it is; prod starts the live release again"),
            Field::choice("from", "from", &FROM, FROM[0])
                .hint("←→ the job's own start, latest, earliest, a time, or a savepoint"),
            time,
            savepoint,
            Field::text("parallelism", "parallelism", "")
                .hint("parallel tasks (empty: the job's config.parallelism)"),
            Field::text("sets", "sets", "")
                .hint("NAME=VALUE, comma-separated: a data source's address or a job parameter"),
        ];
        StartForm {
            form: Form::new("start an instance", fields),
            starting: false,
            refusal: Vec::new(),
            savepoints: None,
        }
    }

    /// The store's savepoints, as the screen read them (all jobs; the form picks the
    /// job's own for the hint and checks a typed id against them).
    pub fn set_savepoints(&mut self, savepoints: Vec<Savepoint>) {
        self.savepoints = Some(savepoints);
        self.update_savepoint_hint();
    }

    /// "from" is a savepoint: the screen reads the savepoints again before a submit.
    pub fn wants_savepoints(&self) -> bool {
        self.form.choice("from") == "savepoint"
    }

    /// The savepoints of the job typed in the form, oldest first.
    fn job_savepoints(&self) -> Vec<&Savepoint> {
        let Some(all) = &self.savepoints else {
            return Vec::new();
        };
        let path = job_path(&self.form.text("job"));
        all.iter()
            .filter(|s| !path.is_empty() && (s.job == path || s.job.ends_with(&format!("/{path}"))))
            .collect()
    }

    fn update_savepoint_hint(&mut self) {
        let hint = match &self.savepoints {
            None => SAVEPOINT_HINT.to_string(),
            Some(_) => {
                let own = self.job_savepoints();
                if own.is_empty() {
                    "this job has no savepoints (S in an instance's view takes one)".to_string()
                } else {
                    let newest: Vec<String> = own
                        .iter()
                        .rev()
                        .take(8)
                        .map(|s| format!("#{} ({})", s.id, short_time(&s.created_at)))
                        .collect();
                    let more = if own.len() > 8 { ", …" } else { "" };
                    format!(
                        "this job's savepoints, newest first: {}{more}",
                        newest.join(", ")
                    )
                }
            }
        };
        if let Some(f) = self.form.field_mut("savepoint") {
            f.hint = hint;
        }
    }

    /// The app refused the start: show why, under the form.
    pub fn refused(&mut self, why: &str) {
        self.starting = false;
        self.refusal = why.lines().map(str::to_string).collect();
    }

    pub fn key(&mut self, key: Key) -> Step {
        if self.starting {
            return Step::Typing;
        }
        match self.form.handle_key(key) {
            FormEvent::Cancel => Step::Cancel,
            FormEvent::Submit => match self.request() {
                Some(req) => {
                    self.refusal.clear();
                    self.starting = true;
                    Step::Submit(Box::new(req))
                }
                None => Step::Typing,
            },
            FormEvent::Changed(key) => {
                self.refusal.clear();
                if key == "from" {
                    let from = self.form.choice("from");
                    self.form.set_enabled("time", from == "time");
                    self.form.set_enabled("savepoint", from == "savepoint");
                }
                if key == "job" {
                    self.update_savepoint_hint();
                }
                check(&mut self.form, key);
                Step::Typing
            }
            FormEvent::Consumed => Step::Typing,
        }
    }

    /// The request, or the form with its problems marked: the fields' own checks, then a
    /// savepoint id the store does not know (when the savepoints were read).
    fn request(&mut self) -> Option<StartRequest> {
        let req = request_of(&mut self.form)?;
        if let (Some(all), Some(Ok(Some(id)))) = (
            &self.savepoints,
            req.from.as_deref().map(parse_from_savepoint),
        ) && !all.iter().any(|s| s.id == id)
        {
            let own: Vec<String> = self
                .job_savepoints()
                .iter()
                .map(|s| format!("#{}", s.id))
                .collect();
            let known = if own.is_empty() {
                "this job has none yet; take one with S in a running instance's view".to_string()
            } else {
                format!("this job's savepoints: {}", own.join(", "))
            };
            self.form.set_error(
                "savepoint",
                Some(format!("there is no savepoint #{id}; {known}")),
            );
            if let Some(i) = self.form.fields.iter().position(|f| f.key == "savepoint") {
                self.form.selected = i;
            }
            return None;
        }
        Some(req)
    }

    /// The form in the middle of `area`.
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut lines = self.form.lines(theme, !self.starting);
        if self.starting {
            lines.push(Line::styled("starting…", theme.warning()));
        }
        for l in &self.refusal {
            lines.push(Line::styled(l.clone(), theme.error()));
        }
        let h = (lines.len() as u16).saturating_add(4);
        let area = centered(area, 76, h);
        draw_pane(frame, area, theme, &self.form.title, lines, true);
    }
}

/// A field's problem, or none.
fn problem(form: &Form, key: &str) -> Option<String> {
    match key {
        "job" if form.text("job").is_empty() => {
            Some("name the job: a job file (jobs/shop/pv.ron) or its path under jobs/".into())
        }
        "time" if form.is_enabled("time") => {
            let t = form.text("time");
            if t.is_empty() {
                Some("give the time to start at: 2026-12-07T10:00:00Z or epoch milliseconds".into())
            } else {
                weir_app::jobs::parse_start(&t)
                    .err()
                    .map(|e| error_text(&e))
            }
        }
        "savepoint" if form.is_enabled("savepoint") => {
            let t = form.text("savepoint");
            if t.trim().is_empty() {
                Some(format!("give the savepoint's id: {SAVEPOINT_HINT}"))
            } else {
                parse_from_savepoint(&savepoint_from(&t))
                    .err()
                    .map(|e| error_text(&e))
            }
        }
        "parallelism" => {
            let t = form.text("parallelism");
            match t.parse::<i64>() {
                _ if t.is_empty() => None,
                Ok(n) if n >= 1 => None,
                Ok(n) => Some(format!("{n} tasks: run at least 1 task")),
                Err(_) => Some(format!(
                    "`{t}` is not a whole number; give the number of parallel tasks, e.g. 2"
                )),
            }
        }
        "sets" => sets_of(&form.text("sets")).err(),
        _ => None,
    }
}

fn check(form: &mut Form, key: &str) {
    let keys: &[&str] = if key == "from" {
        &["time", "savepoint"]
    } else {
        &[key]
    };
    for key in keys {
        let p = problem(form, key);
        form.set_error(key, p);
    }
}

/// The savepoint field's text as a start position: `12`, `#12` or `savepoint:12` →
/// `savepoint:12`-like text for `parse_from_savepoint`.
fn savepoint_from(text: &str) -> String {
    let t = text.trim();
    if t.starts_with("savepoint:") {
        t.to_string()
    } else {
        format!("savepoint:{t}")
    }
}

/// The job's path under jobs/ as typed: `jobs/shop/pv.ron`, `shop/pv` or `shop/pv@3` →
/// `shop/pv`.
fn job_path(typed: &str) -> String {
    let t = typed.trim();
    let t = t.split('@').next().unwrap_or(t);
    let t = t.strip_prefix("jobs/").unwrap_or(t);
    t.strip_suffix(".ron").unwrap_or(t).to_string()
}

/// `2026-12-07T12:05:00.123Z` → `12-07 12:05`; other text as it is.
fn short_time(at: &str) -> String {
    match (at.get(5..10), at.get(11..16)) {
        (Some(d), Some(t)) if matches!(at.get(10..11), Some("T" | " ")) => format!("{d} {t}"),
        _ => at.to_string(),
    }
}

/// `NAME=VALUE` items separated by commas.
fn sets_of(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.split_once('=') {
            Some((name, _)) if !name.trim().is_empty() => out.push(item.to_string()),
            _ => {
                return Err(format!(
                    "`{item}` is not NAME=VALUE; write e.g. kafka_main=127.0.0.1:9092,region=eu"
                ));
            }
        }
    }
    Ok(out)
}

/// The request the form describes (without `cwd`), or the form with its problems marked.
fn request_of(form: &mut Form) -> Option<StartRequest> {
    form.clear_errors();
    for key in ["job", "time", "savepoint", "parallelism", "sets"] {
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
    let from = match form.choice("from").as_str() {
        "time" => Some(form.text("time")),
        "latest" => Some("latest".to_string()),
        "earliest" => Some("earliest".to_string()),
        "savepoint" => Some(savepoint_from(&form.text("savepoint"))),
        _ => None,
    };
    Some(StartRequest {
        job: form.text("job"),
        env: Some(form.choice("env")),
        from,
        sets: sets_of(&form.text("sets")).ok()?,
        parallelism: form.text("parallelism").parse().ok(),
        memory: None,
        cwd: PathBuf::new(),
    })
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use super::*;

    fn typed(f: &mut StartForm, s: &str) {
        for c in s.chars() {
            f.key(Key::char(c));
        }
    }

    #[test]
    fn the_form_checks_as_it_is_typed_and_builds_the_request() {
        let mut f = StartForm::new(Some("jobs/shop/pv.ron"));
        // down to parallelism: env, from, (time is skipped), parallelism
        for _ in 0..3 {
            f.key(Key::plain(KeyCode::Down));
        }
        assert_eq!(f.form.focused(), Some("parallelism"));
        typed(&mut f, "x");
        assert!(f.form.has_errors());
        f.key(Key::plain(KeyCode::Backspace));
        typed(&mut f, "2");
        assert!(!f.form.has_errors());
        f.key(Key::plain(KeyCode::Down));
        typed(&mut f, "region");
        assert!(f.form.has_errors(), "sets without = are refused");
        typed(&mut f, "=eu");
        let Step::Submit(req) = f.key(Key::plain(KeyCode::Enter)) else {
            panic!("the form did not submit");
        };
        assert_eq!(req.job, "jobs/shop/pv.ron");
        assert_eq!(req.env.as_deref(), Some("test"));
        assert_eq!(req.from, None);
        assert_eq!(req.parallelism, Some(2));
        assert_eq!(req.sets, ["region=eu"]);
        assert!(f.starting);
        f.refused("pv.ron:3:5: unknown field\nnot valid, so it was not started");
        assert!(!f.starting);
        assert_eq!(f.refusal.len(), 2);
    }

    fn savepoint(id: i64, job: &str) -> Savepoint {
        Savepoint {
            id,
            instance: 7,
            job: job.into(),
            text_hash: "3f9a".into(),
            path: format!(".weir/checkpoints/7/sp-{id}"),
            checkpoint_id: 3,
            size: 2048,
            created_by: "ana".into(),
            created_at: "2026-12-07T12:05:00Z".into(),
        }
    }

    /// The form for `job` with "from" on savepoint and the savepoint field focused.
    fn on_savepoint(job: &str) -> StartForm {
        let mut f = StartForm::new(Some(job));
        f.key(Key::plain(KeyCode::Down));
        f.key(Key::plain(KeyCode::Down));
        for _ in 0..4 {
            f.key(Key::plain(KeyCode::Right));
        }
        assert_eq!(f.form.choice("from"), "savepoint");
        assert!(f.wants_savepoints());
        f.key(Key::plain(KeyCode::Down));
        assert_eq!(f.form.focused(), Some("savepoint"));
        f
    }

    #[test]
    fn a_savepoint_start_checks_the_id_as_it_is_typed() {
        let mut f = on_savepoint("jobs/shop/pv.ron");
        assert!(matches!(f.key(Key::plain(KeyCode::Enter)), Step::Typing));
        assert!(f.form.has_errors(), "an empty savepoint id is refused");
        typed(&mut f, "x1");
        let err = f.form.fields[4].error.clone().unwrap_or_default();
        assert!(err.contains("`x1` is not a savepoint id"), "{err}");
        for _ in 0..2 {
            f.key(Key::plain(KeyCode::Backspace));
        }
        typed(&mut f, "#12");
        assert!(!f.form.has_errors());
        // without the store's savepoints the app checks it when the start runs
        let Step::Submit(req) = f.key(Key::plain(KeyCode::Enter)) else {
            panic!("the form did not submit");
        };
        assert_eq!(req.from.as_deref(), Some("savepoint:#12"));
        assert_eq!(
            parse_from_savepoint("savepoint:#12").ok().flatten(),
            Some(12)
        );
    }

    #[test]
    fn an_unknown_savepoint_is_refused_on_submit_and_the_hint_lists_the_jobs_own() {
        let mut f = on_savepoint("shop/pv");
        assert_eq!(f.form.fields[4].hint, SAVEPOINT_HINT);
        f.set_savepoints(vec![
            savepoint(3, "demo/shop/pv"),
            savepoint(4, "demo/shop/other"),
            savepoint(5, "demo/shop/pv"),
        ]);
        let hint = f.form.fields[4].hint.clone();
        assert!(hint.contains("#5 (12-07 12:05), #3"), "{hint}");
        assert!(!hint.contains("#4"), "another job's savepoint: {hint}");
        typed(&mut f, "9");
        assert!(matches!(f.key(Key::plain(KeyCode::Enter)), Step::Typing));
        assert_eq!(f.form.focused(), Some("savepoint"));
        let err = f.form.fields[4].error.clone().unwrap_or_default();
        assert_eq!(
            err,
            "there is no savepoint #9; this job's savepoints: #3, #5"
        );
        assert!(!f.starting);
        f.key(Key::plain(KeyCode::Backspace));
        typed(&mut f, "savepoint:5");
        let Step::Submit(req) = f.key(Key::plain(KeyCode::Enter)) else {
            panic!("the form did not submit");
        };
        assert_eq!(req.from.as_deref(), Some("savepoint:5"));
        assert_eq!(req.job, "shop/pv");
    }

    #[test]
    fn the_hint_follows_the_typed_job() {
        let mut f = StartForm::new(Some("jobs/shop/other.ron"));
        f.set_savepoints(vec![savepoint(3, "demo/shop/pv")]);
        assert!(f.form.fields[4].hint.contains("no savepoints"));
        assert_eq!(job_path("jobs/shop/pv.ron"), "shop/pv");
        assert_eq!(job_path("shop/pv@3"), "shop/pv");
        assert_eq!(short_time("2026-12-07 12:05:00"), "12-07 12:05");
    }

    #[test]
    fn a_time_start_needs_its_time() {
        let mut f = StartForm::new(None);
        assert!(matches!(f.key(Key::plain(KeyCode::Enter)), Step::Typing));
        assert!(f.form.has_errors(), "a job is needed");
        typed(&mut f, "pv");
        f.key(Key::plain(KeyCode::Down));
        f.key(Key::plain(KeyCode::Down));
        for _ in 0..3 {
            f.key(Key::plain(KeyCode::Right));
        }
        assert_eq!(f.form.choice("from"), "time");
        assert!(matches!(f.key(Key::plain(KeyCode::Enter)), Step::Typing));
        assert_eq!(f.form.focused(), Some("time"));
        typed(&mut f, "2026-12-07T10:00:00Z");
        let Step::Submit(req) = f.key(Key::plain(KeyCode::Enter)) else {
            panic!("the form did not submit");
        };
        assert_eq!(req.from.as_deref(), Some("2026-12-07T10:00:00Z"));
        assert!(
            matches!(f.key(Key::plain(KeyCode::Esc)), Step::Typing),
            "keys wait while it starts"
        );
    }
}
