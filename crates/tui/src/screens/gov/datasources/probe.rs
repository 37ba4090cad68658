//! Connectivity tests in the background (`t` test, `T` production): the row says
//! `testing…` at once, the status bar's spinner says which test runs, the UI keeps
//! answering, and the result (ok with the latency, or the error) replaces it when it
//! arrives. The last result of each data source is kept for this session. A data source
//! whose secret this person has not confirmed for its address first asks (the screen's
//! `Mode::TrustSecret`: "secret WEIR_SECRET_X will be sent to … — y send"); the answer
//! is remembered in the person's config directory (`weir_app::secrets`).

use weir_app::AppError;
use weir_app::connectivity::Connectivity;
use weir_app::governance::{DataSource, Env};
use weir_app::secrets::Consent;
use weir_app::store_link::Pending;

use super::DataSources;
use crate::action::{Action, Level, Outcome};
use crate::screens::Context;
use crate::screens::gov::error_text;

/// The last connectivity test of a data source in this session.
#[derive(Debug, Clone)]
pub(super) enum Probe {
    Running(Env),
    Done(Env, Connectivity),
    /// The test could not start (no address for that environment, store failed).
    Failed(Env, String),
}

type TestResult = Result<(DataSource, Connectivity), AppError>;

/// A test on its way: data source, environment, result.
pub(super) type Test = (String, Env, Pending<TestResult>);

/// The short form of a probe for the list.
pub(super) fn probe_short(p: Option<&Probe>) -> String {
    match p {
        None => "-".into(),
        Some(Probe::Running(_)) => "testing…".into(),
        Some(Probe::Done(_, c)) if c.ok => format!("ok {:.0} ms", c.latency_ms),
        Some(Probe::Done(..) | Probe::Failed(..)) => "✗ failed".into(),
    }
}

impl DataSources {
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
        let pending = link.spawn(label, move |gov, _| async move {
            gov.test_data_source(&task_name, env, &consent).await
        });
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
                    let (probe, level, msg) = match result {
                        Ok((_, c)) if c.ok => {
                            let msg =
                                format!("{name} ({}): ok in {:.0} ms", env.as_str(), c.latency_ms);
                            (Probe::Done(env, c), Level::Ok, msg)
                        }
                        Ok((_, c)) => {
                            let msg = format!(
                                "{name} ({}): {}",
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
                    action = Some(Action::Status(level, msg));
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
