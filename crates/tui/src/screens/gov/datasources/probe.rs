//! Connectivity tests in the background (`t` test, `T` production): the row says
//! `testing…` at once, the status bar's spinner says which test runs, the UI keeps
//! answering, and the result (ok with the latency, or the error) replaces it when it
//! arrives. The app records every result in the store as the data source's last test of
//! that environment, which the list and the detail show (`ok 2m ago by dora`), also for
//! tests run elsewhere (`weir datasource test`); a test that could not start, or whose
//! result could not be recorded, is kept for this session only. A data source
//! whose secret this person has not confirmed for its address first asks (the screen's
//! `Mode::TrustSecret`: "secret WEIR_SECRET_X will be sent to … — y send"); the answer
//! is remembered in the person's config directory (`weir_app::secrets`).

use weir_app::AppError;
use weir_app::connectivity::Connectivity;
use weir_app::governance::{DataSourceTest, Env, TestedDataSource};
use weir_app::secrets::Consent;
use weir_app::store_link::Pending;

use super::DataSources;
use crate::action::{Action, Level, Outcome};
use crate::screens::Context;
use crate::screens::gov::error_text;
use crate::screens::instances::clock::ago;

/// The last connectivity test of a data source in this session.
#[derive(Debug, Clone)]
pub(super) enum Probe {
    Running(Env),
    Done(Env, Connectivity),
    /// The test could not start (no address for that environment, store failed).
    Failed(Env, String),
}

type TestResult = Result<TestedDataSource, AppError>;

/// A test on its way: data source, environment, result.
pub(super) type Test = (String, Env, Pending<TestResult>);

/// A recorded test in a few words: `ok 2m ago by dora`, `✗ failed 5s ago by dora`.
pub(super) fn recorded_short(t: &DataSourceTest, now_ms: i64) -> String {
    format!(
        "{} {}",
        if t.ok { "ok" } else { "✗ failed" },
        recorded_when(t, now_ms)
    )
}

/// When and by whom a test was recorded: `2m ago by dora`.
pub(super) fn recorded_when(t: &DataSourceTest, now_ms: i64) -> String {
    format!(
        "{} ago by {}",
        ago(Some(t.tested_at.as_str()), now_ms),
        t.tested_by
    )
}

/// The short form of the last test for the list: one running now, else the newest
/// recorded one, else one of this session that could not start or be recorded.
pub(super) fn probe_short(
    p: Option<&Probe>,
    newest: Option<&DataSourceTest>,
    now_ms: i64,
) -> String {
    match (p, newest) {
        (Some(Probe::Running(_)), _) => "testing…".into(),
        (Some(Probe::Failed(..)), _) => "✗ failed".into(),
        (_, Some(t)) => recorded_short(t, now_ms),
        (None, None) => "-".into(),
        (Some(Probe::Done(_, c)), None) if c.ok => format!("ok {:.0} ms", c.latency_ms),
        (Some(Probe::Done(..)), None) => "✗ failed".into(),
    }
}

impl DataSources {
    /// Keep `t` as the last recorded test of its data source and environment.
    fn remember(&mut self, t: DataSourceTest) {
        self.recorded
            .retain(|old| !(old.data_source == t.data_source && old.env == t.env));
        self.recorded.push(t);
    }

    /// The recorded test of data source `name` in `env`.
    pub(super) fn recorded(&self, name: &str, env: Env) -> Option<&DataSourceTest> {
        self.recorded
            .iter()
            .find(|t| t.data_source == name && t.env == env)
    }

    /// The newest recorded test of data source `name`, of either environment.
    pub(super) fn newest_recorded(&self, name: &str) -> Option<&DataSourceTest> {
        self.recorded
            .iter()
            .filter(|t| t.data_source == name)
            .max_by(|a, b| a.tested_at.cmp(&b.tested_at))
    }

    /// Test the selected data source in `env`, in the background; first ask when its
    /// secret has not been confirmed for where it goes.
    pub(super) fn start_test(&mut self, env: Env, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let Some(ds) = self.list.current() else {
            return Action::Status(Level::Info, "no data source to test".into()).into();
        };
        let name = ds.name.clone();
        if matches!(self.probes.get(&name), Some(Probe::Running(_))) {
            return Action::Status(Level::Info, format!("{name} is being tested already")).into();
        }
        match link.call(link.gov().unconfirmed_secret(&name, env)) {
            Ok(None) => self.run_test(name, env, Consent::Refuse, cx),
            Ok(Some(secret_use)) => {
                self.mode = super::Mode::TrustSecret(Box::new(secret_use), env);
                Outcome::Consumed
            }
            Err(e) => {
                let e = error_text(&e);
                let msg = format!("{name} ({}): {e}", env.as_str());
                self.probes.insert(name, Probe::Failed(env, e));
                Action::Status(Level::Error, msg).into()
            }
        }
    }

    /// Test data source `name` in `env` in the background, its secret sent as `consent`
    /// allows (`Yes` once the person confirmed it here).
    pub(super) fn run_test(
        &mut self,
        name: String,
        env: Env,
        consent: Consent,
        cx: &Context,
    ) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let task_name = name.clone();
        let label = format!("testing {name} ({})…", env.as_str());
        // a test only reads: C-c may cancel it while it waits
        let cancelled = format!("the test of {name} was cancelled (C-c); t tests again");
        let pending = link.spawn_cancellable(
            label,
            move || Err(AppError::User(cancelled)),
            move |gov, _| async move { gov.test_data_source(&task_name, env, &consent).await },
        );
        self.probes.insert(name.clone(), Probe::Running(env));
        self.tests.push((name, env, pending));
        // the spinner says what runs; an older message would only distract
        Action::Status(Level::Info, String::new()).into()
    }

    /// Collect the tests that ended; the message of the last one for the status bar.
    pub(super) fn collect_tests(&mut self) -> Option<Action> {
        let mut action = None;
        let mut i = 0;
        while i < self.tests.len() {
            let (name, env, pending) = &mut self.tests[i];
            let (name, env) = (name.clone(), *env);
            match pending.poll() {
                Some(result) => {
                    let recorded = match &result {
                        Ok(t) => {
                            let kept = t.recorded.clone();
                            if let Ok(rec) = &kept {
                                self.remember(rec.clone());
                            }
                            Some(kept)
                        }
                        Err(_) => None,
                    };
                    // a result the store did not take says so
                    let unrecorded = match &recorded {
                        Some(Err(e)) => format!("; {e}"),
                        _ => String::new(),
                    };
                    let (probe, level, msg) = match result {
                        Ok(t) if t.result.ok => {
                            let c = t.result;
                            let msg = format!(
                                "{name} ({}): ok in {:.0} ms{unrecorded}",
                                env.as_str(),
                                c.latency_ms
                            );
                            (Probe::Done(env, c), Level::Ok, msg)
                        }
                        Ok(t) => {
                            let c = t.result;
                            let msg = format!(
                                "{name} ({}): {}{unrecorded}",
                                env.as_str(),
                                c.error.clone().unwrap_or_default()
                            );
                            (Probe::Done(env, c), Level::Error, msg)
                        }
                        Err(e) => {
                            let e = error_text(&e);
                            let msg = format!("{name} ({}): {e}", env.as_str());
                            (Probe::Failed(env, e), Level::Error, msg)
                        }
                    };
                    self.probes.insert(name, probe);
                    // a recorded result is a write others' screens re-read
                    action = Some(match recorded {
                        Some(Ok(_)) => Action::StoreWritten(level, msg),
                        _ => Action::Status(level, msg),
                    });
                    self.tests.remove(i);
                }
                None if !pending.running() => {
                    self.probes.insert(
                        name,
                        Probe::Failed(env, "the test stopped without an answer".into()),
                    );
                    self.tests.remove(i);
                }
                None => i += 1,
            }
        }
        action
    }
}
