//! Rules of `config.alerts` (SPEC R-mon): thresholds, durations and webhooks. Each
//! problem points at the offending value of the alert in the file (`above`, `for_secs`,
//! the webhook's string), or at the alert itself when the field is absent.
//!
//! - `alert-threshold` (error): `above` is not a finite number ≥ 0, or is 0 (or absent)
//!   for a kind that compares with it (`Lag`, `ErrorRate`, `WatermarkDelay`).
//! - `alert-threshold` (warning): `above` is given for `NoOutput` or `Failed`, which
//!   ignore it.
//! - `alert-duration` (error): a `NoOutput` alert without `for_secs` > 0.
//! - `alert-duration` (warning): `for_secs` is given for `Failed`, which ignores it.
//! - `alert-webhook` (error): a webhook that is not an `http://` or `https://` URL.

use super::Checker;
use crate::jobfile::syntax::{Kind, Span, Value};
use crate::model::{AlertKind, AlertRule};

impl Checker<'_> {
    pub(super) fn alerts(&mut self) {
        let alerts = &self.job.config.alerts;
        for (k, rule) in alerts.iter().enumerate() {
            self.alert_threshold(k, rule);
            self.alert_duration(k, rule);
            self.alert_webhook(k, rule);
        }
    }

    fn alert_threshold(&mut self, k: usize, rule: &AlertRule) {
        let what = alert_name(k, rule);
        if !rule.above.is_finite() || rule.above < 0.0 {
            self.error(
                self.alert_span(k, "above"),
                "alert-threshold",
                format!(
                    "{what}: `above` is {}, not a number of 0 or more",
                    rule.above
                ),
                threshold_hint(rule.kind),
            );
        } else if rule.kind.has_threshold() && rule.above == 0.0 {
            let message = if self.alert_field(k, "above").is_some() {
                format!("{what}: `above` is 0, so the alert would always fire")
            } else {
                format!("{what} has no threshold (`above`)")
            };
            self.error(
                self.alert_span(k, "above"),
                "alert-threshold",
                message,
                threshold_hint(rule.kind),
            );
        } else if !rule.kind.has_threshold() && rule.above != 0.0 {
            let hint = match rule.kind {
                AlertKind::NoOutput => "remove `above`; `for_secs` is how long without output",
                _ => "remove `above`; a failed alert fires when the instance fails",
            };
            self.warn(
                self.alert_span(k, "above"),
                "alert-threshold",
                format!("{what}: `above` means nothing for this kind and is ignored"),
                hint.to_string(),
            );
        }
    }

    fn alert_duration(&mut self, k: usize, rule: &AlertRule) {
        let what = alert_name(k, rule);
        match rule.kind {
            AlertKind::NoOutput if rule.for_secs == 0 => self.error(
                self.alert_span(k, "for_secs"),
                "alert-duration",
                format!("{what} needs `for_secs` above 0: how long without output before it fires"),
                "e.g. (kind: NoOutput, for_secs: 300)".to_string(),
            ),
            AlertKind::Failed if rule.for_secs != 0 => self.warn(
                self.alert_span(k, "for_secs"),
                "alert-duration",
                format!("{what}: `for_secs` means nothing for this kind and is ignored"),
                "remove `for_secs`; a failed alert fires as soon as the instance fails".to_string(),
            ),
            _ => {}
        }
    }

    fn alert_webhook(&mut self, k: usize, rule: &AlertRule) {
        let Some(url) = &rule.webhook else {
            return;
        };
        let lower = url.to_ascii_lowercase();
        let rest = ["http://", "https://"]
            .iter()
            .find_map(|scheme| lower.strip_prefix(scheme));
        let problem = match rest {
            None => Some("is not an http:// or https:// URL"),
            Some(r) if r.is_empty() || r.starts_with('/') => Some("has no host"),
            Some(r) if r.chars().any(char::is_whitespace) => Some("contains a space"),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            self.error(
                self.alert_span(k, "webhook"),
                "alert-webhook",
                format!("{}: webhook `{url}` {problem}", alert_name(k, rule)),
                "write the URL to POST to, e.g. webhook: Some(\"https://hooks.example.com/weir\")"
                    .to_string(),
            );
        }
    }

    /// The tree value of alert `k` (inside `config.alerts`).
    fn alert_value(&self, k: usize) -> Option<&Value> {
        let list = &self.d.root.field("config")?.value.field("alerts")?.value;
        let item = list.item(k)?;
        // `((kind: Lag))` holds the struct inside a tuple
        match &item.kind {
            Kind::Tuple { items, .. } if items.len() == 1 => items.first(),
            _ => Some(item),
        }
    }

    /// The value of field `name` of alert `k`, inside `Some(...)` if it is wrapped.
    fn alert_field(&self, k: usize, name: &str) -> Option<&Value> {
        let v = &self.alert_value(k)?.field(name)?.value;
        match &v.kind {
            Kind::Tuple {
                name: Some(n),
                items,
                ..
            } if n.name == "Some" && items.len() == 1 => items.first(),
            _ => Some(v),
        }
    }

    /// Where to point for field `name` of alert `k`: its value, else the alert, else
    /// `config`.
    fn alert_span(&self, k: usize, name: &str) -> Span {
        if let Some(v) = self.alert_field(k, name) {
            return v.span;
        }
        match self.alert_value(k) {
            Some(v) => v.head_span(),
            None => self.top("config"),
        }
    }
}

/// `alert 2 (lag)`, as messages name an alert (counting from 1, as people do).
fn alert_name(k: usize, rule: &AlertRule) -> String {
    format!("alert {} ({})", k + 1, rule.kind)
}

fn threshold_hint(kind: AlertKind) -> String {
    match kind {
        AlertKind::Lag => "give the lag in records above which it fires, e.g. above: 1000",
        AlertKind::ErrorRate => {
            "give the errors plus dead letters per second above which it fires, e.g. above: 5"
        }
        AlertKind::WatermarkDelay => {
            "give the watermark delay in seconds above which it fires, e.g. above: 60"
        }
        AlertKind::NoOutput | AlertKind::Failed | AlertKind::CheckpointFailed => {
            "leave `above` out: this kind has no threshold"
        }
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use crate::jobfile::{Severity, check_source, format_source, to_ron, to_ron_keeping_comments};
    use crate::model::{AlertKind, AlertRule};

    /// A small valid job with `config` as given.
    fn job_with(config: &str) -> String {
        format!(
            "Job(\n    version: 1,\n    name: \"a\",\n    config: {config},\n    nodes: [PrintSink(id: \"p\")],\n)\n"
        )
    }

    const EXAMPLE: &str = "(time: Event, parallelism: 2, alerts: [(kind: Lag, above: 1000, for_secs: 30), (kind: Failed, webhook: Some(\"http://127.0.0.1:9/hook\"))])";

    /// The diagnostics of `src` but the test job's own (its lone sink is unconnected).
    fn diagnostics(src: &str) -> Vec<crate::jobfile::Diagnostic> {
        check_source("a.ron", src)
            .diagnostics
            .into_iter()
            .filter(|d| d.code != "unconnected")
            .collect()
    }

    /// `(code, severity, line, column)` of every diagnostic.
    fn findings(src: &str) -> Vec<(&'static str, Severity, usize, usize)> {
        diagnostics(src)
            .iter()
            .map(|d| (d.code, d.severity, d.line, d.column))
            .collect()
    }

    #[test]
    fn the_example_reads_as_alert_rules() {
        let checked = check_source("a.ron", &job_with(EXAMPLE));
        assert!(diagnostics(&job_with(EXAMPLE)).is_empty());
        let job = checked.job.unwrap();
        assert_eq!(
            job.config.alerts,
            [
                AlertRule {
                    kind: AlertKind::Lag,
                    above: 1000.0,
                    for_secs: 30,
                    webhook: None,
                },
                AlertRule {
                    kind: AlertKind::Failed,
                    above: 0.0,
                    for_secs: 0,
                    webhook: Some("http://127.0.0.1:9/hook".into()),
                },
            ]
        );
        assert_eq!(job.config.parallelism, 2);
    }

    #[test]
    fn alerts_print_one_per_line_and_only_when_there_are_some() {
        let src = job_with(EXAMPLE);
        let formatted = format_source("a.ron", &src).unwrap();
        assert!(
            formatted.contains(
                "    config: (\n        time: Event,\n        parallelism: 2,\n        alerts: [\n            (kind: Lag, above: 1000, for_secs: 30),\n            (kind: Failed, webhook: Some(\"http://127.0.0.1:9/hook\")),\n        ],\n    ),\n"
            ),
            "{formatted}"
        );
        assert_eq!(format_source("a.ron", &formatted).unwrap(), formatted);

        let mut job = check_source("a.ron", &src).job.unwrap();
        let printed = to_ron(&job);
        assert!(
            printed.contains(
                "        alerts: [\n            (kind: Lag, above: 1000.0, for_secs: 30),\n"
            ),
            "{printed}"
        );
        assert_eq!(check_source("a.ron", &printed).job.as_ref(), Some(&job));
        assert!(diagnostics(&printed).is_empty());

        job.config.alerts.clear();
        let printed = to_ron(&job);
        assert!(!printed.contains("alerts"), "{printed}");
        assert!(
            printed.contains("    config: (time: Event, parallelism: 2),\n"),
            "{printed}"
        );
    }

    #[test]
    fn comments_on_alerts_survive_a_save() {
        let old = format_source(
            "a.ron",
            &job_with(
                "(alerts: [\n// page the on-call\n(kind: Failed), // loud\n(kind: Lag, above: 10)])",
            ),
        )
        .unwrap();
        let mut job = check_source("a.ron", &old).job.unwrap();
        job.config.alerts[1].above = 20.0;
        let text = to_ron_keeping_comments(&job, &old);
        assert!(
            text.contains("            // page the on-call\n            (kind: Failed), // loud\n"),
            "{text}"
        );
        assert!(text.contains("(kind: Lag, above: 20.0),"), "{text}");
        assert_eq!(check_source("a.ron", &text).job.unwrap(), job);
    }

    #[test]
    fn thresholds_are_checked_per_kind() {
        let src = job_with(
            "(alerts: [\n(kind: Lag, above: 0),\n(kind: ErrorRate, above: -1),\n(kind: WatermarkDelay, above: -0.5),\n(kind: WatermarkDelay),\n(kind: NoOutput, above: 5, for_secs: 60),\n(kind: Lag, above: 0.5)])",
        );
        let e = Severity::Error;
        assert_eq!(
            findings(&src),
            [
                ("alert-threshold", e, 5, 20),
                ("alert-threshold", e, 6, 26),
                ("alert-threshold", e, 7, 31),
                ("alert-threshold", e, 8, 1),
                ("alert-threshold", Severity::Warning, 9, 25),
            ]
        );
        let checked = diagnostics(&src);
        assert_eq!(
            checked[0].message,
            "alert 1 (lag): `above` is 0, so the alert would always fire"
        );
        assert_eq!(
            checked[3].message,
            "alert 4 (watermark_delay) has no threshold (`above`)"
        );
        assert!(
            checked[1]
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("per second")),
            "{:?}",
            checked[1]
        );
    }

    #[test]
    fn durations_and_webhooks_are_checked() {
        let src = job_with(
            "(alerts: [\n(kind: NoOutput),\n(kind: NoOutput, for_secs: 0),\n(kind: Failed, for_secs: 9),\n(kind: Failed, webhook: Some(\"ftp://x\")),\n(kind: Failed, webhook: Some(\"HTTPS://hooks.example.com/a\")),\n(kind: Failed, webhook: Some(\"http:///x\")),\n(kind: Failed, webhook: Some(\"http://a b\"))])",
        );
        let e = Severity::Error;
        assert_eq!(
            findings(&src),
            [
                ("alert-duration", e, 5, 1),
                ("alert-duration", e, 6, 28),
                ("alert-duration", Severity::Warning, 7, 26),
                ("alert-webhook", e, 8, 30),
                ("alert-webhook", e, 10, 30),
                ("alert-webhook", e, 11, 30),
            ]
        );
        assert_eq!(
            diagnostics(&src)[3].message,
            "alert 4 (failed): webhook `ftp://x` is not an http:// or https:// URL"
        );
    }

    #[test]
    fn a_broken_alert_is_reported_where_it_is() {
        let src = job_with("(parallelism: 2, alerts: [(kind: Lagg, above: 1)])");
        let checked = check_source("a.ron", &src);
        let d = &checked.diagnostics[0];
        assert_eq!((d.code, d.line, d.column), ("unknown-variant", 4, 46));
        assert_eq!(d.hint.as_deref(), Some("did you mean `Lag`?"));
    }
}
