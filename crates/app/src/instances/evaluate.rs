//! When an alert rule fires and clears, from an instance's figures second by second. Pure
//! logic with the sample's own clock (`Figures::at_ms`), so tests drive it with fixed
//! figures; the worker turns each [`Transition`] into a store row, an audit entry and
//! the rule's webhook.

use std::collections::HashMap;

use weir_model::model::{AlertKind, AlertRule};

use super::Figures;

/// A rule starts or stops firing.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// The rule's condition held long enough.
    Fire {
        /// The store's rule, None for a rule of the job file.
        rule_id: Option<i64>,
        rule: AlertRule,
        /// The figure compared (lag, errors/s, delay in s, seconds without output).
        value: Option<f64>,
        /// One line for people: `lag 5200 records > 1000 for 30s`.
        message: String,
    },
    /// The condition no longer holds: the stored alert `alert_id` clears.
    Clear {
        alert_id: i64,
        rule: AlertRule,
        value: Option<f64>,
    },
}

#[derive(Debug, Default, Clone)]
struct RuleState {
    /// Since when (sample time, ms) the condition holds.
    since_ms: Option<i64>,
    /// The stored alert while it fires.
    firing: Option<i64>,
}

/// The alert state of one instance.
#[derive(Debug, Default, Clone)]
pub struct AlertBook {
    states: HashMap<String, RuleState>,
    /// Records written by the sinks, and when that count last grew.
    output: Option<(u64, i64)>,
    /// The previous sample, for rates.
    previous: Option<Figures>,
}

impl AlertBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// The key of a rule: its description (rules that say the same are one alert).
    pub fn key(rule: &AlertRule) -> String {
        rule.describe()
    }

    /// An alert the store says is firing (from an earlier run of the instance), so that
    /// it clears when its condition no longer holds.
    pub fn seed_firing(&mut self, rule_text: &str, alert_id: i64) {
        self.states.entry(rule_text.to_string()).or_default().firing = Some(alert_id);
    }

    /// The store recorded the firing of `rule` as alert `alert_id`.
    pub fn fired(&mut self, rule: &AlertRule, alert_id: i64) {
        self.states.entry(Self::key(rule)).or_default().firing = Some(alert_id);
    }

    /// The store recorded the clearing of `rule`'s alert.
    pub fn cleared(&mut self, rule: &AlertRule) {
        if let Some(s) = self.states.get_mut(&Self::key(rule)) {
            s.firing = None;
        }
    }

    /// How many rules fire now.
    pub fn firing(&self) -> usize {
        self.states.values().filter(|s| s.firing.is_some()).count()
    }

    /// Feeds one sample; returns the rules that start or stop firing.
    pub fn observe(
        &mut self,
        rules: &[(Option<i64>, AlertRule)],
        now: &Figures,
    ) -> Vec<Transition> {
        let at = now.at_ms;
        let out_total = now.records_out();
        let last_output_ms = match self.output {
            Some((n, since)) if n == out_total => since,
            _ => at,
        };
        self.output = Some((out_total, last_output_ms));
        let error_rate = self.previous.as_ref().map(|p| {
            let dt = ((at - p.at_ms).max(1)) as f64 / 1000.0;
            now.errors().saturating_sub(p.errors()) as f64 / dt
        });
        let failing = now.checkpoints.as_ref().map_or(0, |c| c.failing);
        let mut out = Vec::new();
        for (rule_id, rule) in rules {
            let (holds, value) = match rule.kind {
                AlertKind::Lag => {
                    let lag = now.lag();
                    (
                        lag.is_some_and(|l| l as f64 > rule.above),
                        lag.map(|l| l as f64),
                    )
                }
                AlertKind::ErrorRate => (error_rate.is_some_and(|r| r > rule.above), error_rate),
                AlertKind::WatermarkDelay => {
                    let d = now.watermark_delay_ms().map(|d| d as f64 / 1000.0);
                    (d.is_some_and(|d| d > rule.above), d)
                }
                AlertKind::NoOutput => {
                    let quiet = (at - last_output_ms) as f64 / 1000.0;
                    (quiet >= rule.for_secs.max(1) as f64, Some(quiet))
                }
                // fires from `failed`, never from figures
                AlertKind::Failed => continue,
                // checkpoints failed or aborted since the last one that completed
                AlertKind::CheckpointFailed => (failing > 0, Some(failing as f64)),
            };
            let state = self.states.entry(Self::key(rule)).or_default();
            if holds {
                let since = *state.since_ms.get_or_insert(at);
                let held_for = if rule.kind == AlertKind::NoOutput {
                    u64::MAX
                } else {
                    ((at - since).max(0) / 1000) as u64
                };
                if state.firing.is_none() && held_for >= rule.for_secs {
                    out.push(Transition::Fire {
                        rule_id: *rule_id,
                        rule: rule.clone(),
                        value,
                        message: message(rule, value),
                    });
                }
            } else {
                state.since_ms = None;
                if let Some(alert_id) = state.firing {
                    out.push(Transition::Clear {
                        alert_id,
                        rule: rule.clone(),
                        value,
                    });
                }
            }
        }
        self.previous = Some(now.clone());
        out
    }

    /// The instance failed with `error`: every `failed` rule fires.
    pub fn failed(&mut self, rules: &[(Option<i64>, AlertRule)], error: &str) -> Vec<Transition> {
        rules
            .iter()
            .filter(|(_, r)| r.kind == AlertKind::Failed)
            .filter(|(_, r)| {
                self.states
                    .get(&Self::key(r))
                    .is_none_or(|s| s.firing.is_none())
            })
            .map(|(rule_id, rule)| Transition::Fire {
                rule_id: *rule_id,
                rule: rule.clone(),
                value: None,
                message: format!("the instance failed: {error}"),
            })
            .collect()
    }

    /// The instance runs again: every firing `failed` alert clears.
    pub fn running(&mut self, rules: &[(Option<i64>, AlertRule)]) -> Vec<Transition> {
        rules
            .iter()
            .filter(|(_, r)| r.kind == AlertKind::Failed)
            .filter_map(|(_, rule)| {
                let alert_id = self.states.get(&Self::key(rule))?.firing?;
                Some(Transition::Clear {
                    alert_id,
                    rule: rule.clone(),
                    value: None,
                })
            })
            .collect()
    }
}

/// `lag 5200 records > 1000 for 30s`.
fn message(rule: &AlertRule, value: Option<f64>) -> String {
    let v = value.map(fmt_value).unwrap_or_else(|| "?".into());
    match rule.kind {
        AlertKind::NoOutput => format!("no output for {v}s (rule: {})", rule.describe()),
        AlertKind::CheckpointFailed => format!(
            "{v} checkpoint(s) failed since the last one that completed (rule: {})",
            rule.describe()
        ),
        k => format!("{k} {v} {} (rule: {})", k.unit(), rule.describe()),
    }
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::NodeFigures;
    use super::*;

    fn figures(at_ms: i64, lag: i64, out: u64, errors: u64) -> Figures {
        Figures {
            at_ms,
            nodes: vec![
                NodeFigures {
                    id: "src".into(),
                    role: "source".into(),
                    lag: Some(lag),
                    errors,
                    ..Default::default()
                },
                NodeFigures {
                    id: "out".into(),
                    role: "sink".into(),
                    records_out: out,
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn rule(kind: AlertKind, above: f64, for_secs: u64) -> (Option<i64>, AlertRule) {
        (
            None,
            AlertRule {
                kind,
                above,
                for_secs,
                webhook: None,
            },
        )
    }

    #[test]
    fn lag_fires_after_holding_for_its_time_and_clears_once() {
        let rules = [rule(AlertKind::Lag, 100.0, 3)];
        let mut book = AlertBook::new();
        assert!(book.observe(&rules, &figures(0, 500, 0, 0)).is_empty());
        assert!(book.observe(&rules, &figures(2000, 500, 0, 0)).is_empty());
        let t = book.observe(&rules, &figures(3000, 500, 0, 0));
        assert!(
            matches!(&t[..], [Transition::Fire { value: Some(v), message, .. }] if *v == 500.0 && message.contains("lag 500 records")),
            "{t:?}"
        );
        book.fired(&rules[0].1, 7);
        assert!(book.observe(&rules, &figures(4000, 600, 0, 0)).is_empty());
        let t = book.observe(&rules, &figures(5000, 10, 0, 0));
        assert!(
            matches!(&t[..], [Transition::Clear { alert_id: 7, .. }]),
            "{t:?}"
        );
        book.cleared(&rules[0].1);
        assert!(book.observe(&rules, &figures(6000, 10, 0, 0)).is_empty());
        assert_eq!(book.firing(), 0);
    }

    #[test]
    fn a_dip_below_the_threshold_restarts_the_wait() {
        let rules = [rule(AlertKind::Lag, 100.0, 2)];
        let mut book = AlertBook::new();
        book.observe(&rules, &figures(0, 500, 0, 0));
        book.observe(&rules, &figures(1000, 50, 0, 0));
        assert!(book.observe(&rules, &figures(2000, 500, 0, 0)).is_empty());
        assert_eq!(book.observe(&rules, &figures(4000, 500, 0, 0)).len(), 1);
    }

    #[test]
    fn no_output_fires_when_sinks_write_nothing_for_its_time() {
        let rules = [rule(AlertKind::NoOutput, 0.0, 5)];
        let mut book = AlertBook::new();
        assert!(book.observe(&rules, &figures(0, 0, 10, 0)).is_empty());
        assert!(book.observe(&rules, &figures(4000, 0, 10, 0)).is_empty());
        assert_eq!(book.observe(&rules, &figures(5000, 0, 10, 0)).len(), 1);
        book.fired(&rules[0].1, 1);
        let t = book.observe(&rules, &figures(6000, 0, 11, 0));
        assert!(matches!(&t[..], [Transition::Clear { .. }]), "{t:?}");
    }

    #[test]
    fn error_rate_is_per_second_between_samples() {
        let rules = [rule(AlertKind::ErrorRate, 2.0, 0)];
        let mut book = AlertBook::new();
        assert!(book.observe(&rules, &figures(0, 0, 0, 0)).is_empty());
        // 3 errors in 2 s: 1.5/s
        assert!(book.observe(&rules, &figures(2000, 0, 0, 3)).is_empty());
        // 6 more in 2 s: 3/s
        assert_eq!(book.observe(&rules, &figures(4000, 0, 0, 9)).len(), 1);
    }

    #[test]
    fn failed_rules_fire_on_failure_and_clear_when_running() {
        let rules = [
            rule(AlertKind::Failed, 0.0, 0),
            rule(AlertKind::Lag, 1.0, 0),
        ];
        let mut book = AlertBook::new();
        let t = book.failed(
            &rules,
            "Kafka data source `k` at 127.0.0.1:1 does not answer",
        );
        assert!(
            matches!(&t[..], [Transition::Fire { message, .. }] if message.contains("127.0.0.1:1"))
        );
        book.fired(&rules[0].1, 3);
        assert!(book.failed(&rules, "again").is_empty());
        let t = book.running(&rules);
        assert!(matches!(&t[..], [Transition::Clear { alert_id: 3, .. }]));
    }

    #[test]
    fn a_failing_checkpoint_fires_and_the_next_complete_one_clears() {
        let rules = [rule(AlertKind::CheckpointFailed, 0.0, 0)];
        let mut book = AlertBook::new();
        let with = |at: i64, completed: u64, failing: u64| {
            let mut f = figures(at, 0, 1, 0);
            f.checkpoints = Some(super::super::CheckpointFigures {
                completed,
                failed: failing,
                failing,
                ..Default::default()
            });
            f
        };
        assert!(book.observe(&rules, &with(1_000, 3, 0)).is_empty());
        let t = book.observe(&rules, &with(2_000, 3, 1));
        assert!(
            matches!(&t[..], [Transition::Fire { message, .. }] if message.contains("1 checkpoint(s) failed")),
            "{t:?}"
        );
        book.fired(&rules[0].1, 9);
        assert!(
            book.observe(&rules, &with(3_000, 3, 2)).is_empty(),
            "fires once"
        );
        let t = book.observe(&rules, &with(4_000, 4, 0));
        assert!(
            matches!(&t[..], [Transition::Clear { alert_id: 9, .. }]),
            "{t:?}"
        );
        book.cleared(&rules[0].1);
        // an instance without checkpoints never fires it
        assert!(book.observe(&rules, &figures(5_000, 0, 1, 0)).is_empty());
    }
}
