//! Alert rules of a running instance (SPEC R-mon): what a job file's `config.alerts` and
//! `weir alert add` say, in one vocabulary that the store keeps and the worker evaluates.

use serde::{Deserialize, Serialize};

/// What an alert watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum AlertKind {
    /// A Kafka source's lag (records not yet read) above `above` for `for_secs`.
    Lag,
    /// Errors plus dead letters per second above `above` for `for_secs`.
    ErrorRate,
    /// No record written by any sink for `for_secs`.
    NoOutput,
    /// Wall time minus the watermark above `above` seconds for `for_secs`.
    WatermarkDelay,
    /// The instance failed.
    Failed,
    /// A checkpoint of the instance failed or was aborted (its storage is unwritable or
    /// full, a task could not snapshot, it timed out); clears when one completes.
    CheckpointFailed,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 6] = [
        AlertKind::Lag,
        AlertKind::ErrorRate,
        AlertKind::NoOutput,
        AlertKind::WatermarkDelay,
        AlertKind::Failed,
        AlertKind::CheckpointFailed,
    ];

    /// The word the store and the CLI use (`lag`, `error_rate`, `no_output`,
    /// `watermark_delay`, `failed`, `checkpoint_failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Lag => "lag",
            AlertKind::ErrorRate => "error_rate",
            AlertKind::NoOutput => "no_output",
            AlertKind::WatermarkDelay => "watermark_delay",
            AlertKind::Failed => "failed",
            AlertKind::CheckpointFailed => "checkpoint_failed",
        }
    }

    /// Parses the CLI or stored word (also `-` for `_`, any case, and the RON names).
    pub fn parse(s: &str) -> Option<AlertKind> {
        let w = s.trim().to_ascii_lowercase().replace('-', "_");
        let w = match w.as_str() {
            "errorrate" => "error_rate",
            "nooutput" => "no_output",
            "watermarkdelay" => "watermark_delay",
            "checkpointfailed" => "checkpoint_failed",
            other => other,
        };
        AlertKind::ALL.into_iter().find(|k| k.as_str() == w)
    }

    /// Whether the rule compares a figure with a threshold (`above`).
    pub fn has_threshold(self) -> bool {
        matches!(
            self,
            AlertKind::Lag | AlertKind::ErrorRate | AlertKind::WatermarkDelay
        )
    }

    /// The unit of the threshold, for messages.
    pub fn unit(self) -> &'static str {
        match self {
            AlertKind::Lag => "records",
            AlertKind::ErrorRate => "errors/s",
            AlertKind::WatermarkDelay => "s",
            AlertKind::NoOutput | AlertKind::Failed | AlertKind::CheckpointFailed => "",
        }
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert rule: `(kind: Lag, above: 1000, for_secs: 30)` in a job file's
/// `config.alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct AlertRule {
    pub kind: AlertKind,
    /// The threshold (lag: records; error rate: per second; watermark delay: seconds).
    #[serde(default)]
    // Job files hold finite thresholds of 0 or more (NaN would not even equal itself).
    #[cfg_attr(test, proptest(strategy = "crate::model::alert::finite_threshold()"))]
    pub above: f64,
    /// How long the condition must hold before the alert fires (no output: how long
    /// without output).
    #[serde(default)]
    pub for_secs: u64,
    /// Where to POST the alert as JSON when it fires and when it clears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}

impl AlertRule {
    /// One line: `lag > 1000 records for 30s`, `no output for 60s`, `failed`.
    pub fn describe(&self) -> String {
        let held = if self.for_secs > 0 {
            format!(" for {}s", self.for_secs)
        } else {
            String::new()
        };
        match self.kind {
            AlertKind::Failed => "failed".to_string(),
            AlertKind::NoOutput => format!("no output{}", held),
            k => format!("{} > {} {}{}", k, trim_float(self.above), k.unit(), held),
        }
    }
}

/// Thresholds as job files hold them: whole numbers and fractions, finite, 0 or more.
#[cfg(test)]
pub(crate) fn finite_threshold() -> impl proptest::strategy::Strategy<Value = f64> {
    use proptest::prelude::*;
    prop_oneof![(0u32..100_000).prop_map(f64::from), 0.0f64..1e12, Just(0.0),]
}

/// `1000` for 1000.0, `2.5` for 2.5.
fn trim_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_every_spelling() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(k));
            assert_eq!(AlertKind::parse(&format!("{k:?}")), Some(k));
        }
        assert_eq!(AlertKind::parse("error-rate"), Some(AlertKind::ErrorRate));
        assert_eq!(AlertKind::parse("lagg"), None);
    }

    #[test]
    fn rules_describe_themselves() {
        let r = AlertRule {
            kind: AlertKind::Lag,
            above: 1000.0,
            for_secs: 30,
            webhook: None,
        };
        assert_eq!(r.describe(), "lag > 1000 records for 30s");
        let r = AlertRule {
            kind: AlertKind::NoOutput,
            above: 0.0,
            for_secs: 60,
            webhook: None,
        };
        assert_eq!(r.describe(), "no output for 60s");
    }
}
