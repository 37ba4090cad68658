//! A [`Snapshot`] in the Prometheus text exposition format (version 0.0.4), for a worker's
//! `/metrics` endpoint: one `# HELP` and one `# TYPE` line per metric family, then its
//! samples, each labelled `instance`, `job`, `node` and the caller's extra labels. Values
//! are in base units (seconds, bytes); counters end in `_total`. Serving it is the
//! caller's business.

use std::fmt::Write as _;

use super::{NodeSnapshot, Snapshot};

/// The kind of a metric family, as its `# TYPE` line says.
#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
}

/// The samples of one node in a family: an extra label (name, value) and the value.
type Samples = Vec<(Option<(&'static str, String)>, f64)>;

/// One metric family: name, help, type, and the value(s) of a node (none: no sample).
struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: fn(&NodeSnapshot) -> Samples,
}

fn one(v: f64) -> Samples {
    vec![(None, v)]
}

fn maybe(v: Option<f64>) -> Samples {
    v.map(one).unwrap_or_default()
}

const FAMILIES: &[Family] = &[
    Family {
        name: "weir_records_in_total",
        help: "Records the node received.",
        kind: Kind::Counter,
        samples: |n| one(n.records_in as f64),
    },
    Family {
        name: "weir_records_out_total",
        help: "Records the node emitted (sinks: wrote).",
        kind: Kind::Counter,
        samples: |n| one(n.records_out as f64),
    },
    Family {
        name: "weir_bytes_in_total",
        help: "Bytes the node received (sources: raw record bytes; others: Arrow batch memory).",
        kind: Kind::Counter,
        samples: |n| one(n.bytes_in as f64),
    },
    Family {
        name: "weir_late_records_total",
        help: "Records dropped because they came behind the watermark.",
        kind: Kind::Counter,
        samples: |n| one(n.late as f64),
    },
    Family {
        name: "weir_errors_total",
        help: "Records that could not be decoded or written, and consumer errors.",
        kind: Kind::Counter,
        samples: |n| one(n.errors as f64),
    },
    Family {
        name: "weir_dead_letters_total",
        help: "Records and rows written to the node's dead-letter file.",
        kind: Kind::Counter,
        samples: |n| one(n.dead_letters as f64),
    },
    Family {
        name: "weir_watermark_timestamp_seconds",
        help: "The node's current watermark, in seconds since the Unix epoch.",
        kind: Kind::Gauge,
        samples: |n| {
            maybe(
                n.watermark
                    .filter(|w| *w != i64::MAX)
                    .map(|w| w as f64 / 1000.0),
            )
        },
    },
    Family {
        name: "weir_watermark_delay_seconds",
        help: "Wall time minus the node's watermark.",
        kind: Kind::Gauge,
        samples: |n| maybe(n.watermark_delay_ms.map(|d| d as f64 / 1000.0)),
    },
    Family {
        name: "weir_source_lag_records",
        help: "Records in the source's Kafka partitions not yet read (high-water mark minus position).",
        kind: Kind::Gauge,
        samples: |n| maybe(n.lag.map(|l| l as f64)),
    },
    Family {
        name: "weir_source_partition_lag_records",
        help: "Records in one Kafka partition not yet read (high-water mark minus position).",
        kind: Kind::Gauge,
        samples: |n| {
            n.lag_partitions
                .iter()
                .map(|(p, l)| (Some(("partition", p.to_string())), *l as f64))
                .collect()
        },
    },
    Family {
        name: "weir_backpressure_ratio",
        help: "How full the node's fullest input channel is (0 to 1).",
        kind: Kind::Gauge,
        samples: |n| one(n.backpressure),
    },
    Family {
        name: "weir_latency_seconds",
        help: "Event time to emit over the last sampling interval, by quantile.",
        kind: Kind::Gauge,
        samples: |n| {
            let mut v = Vec::new();
            if let Some(p) = n.latency_p50_ms {
                v.push((Some(("quantile", "0.5".into())), p / 1000.0));
            }
            if let Some(p) = n.latency_p99_ms {
                v.push((Some(("quantile", "0.99".into())), p / 1000.0));
            }
            v
        },
    },
];

/// The metric family names [`prometheus`] writes, in order.
pub fn family_names() -> impl Iterator<Item = &'static str> {
    FAMILIES.iter().map(|f| f.name)
}

/// `snapshot` in the Prometheus text format 0.0.4. Every sample is labelled `instance`
/// and `job` (from `labels`, empty when not given), `node`, then the other `labels` in
/// their order; label names are made valid (`[a-zA-Z_][a-zA-Z0-9_]*`), values escaped.
pub fn prometheus(snapshot: &Snapshot, labels: &[(&str, &str)]) -> String {
    prometheus_many(&[(snapshot, labels)])
}

/// Several snapshots (a worker's instances) in one exposition: each family's `# HELP`
/// and `# TYPE` once, then the samples of every snapshot with its own labels.
pub fn prometheus_many(snapshots: &[(&Snapshot, &[(&str, &str)])]) -> String {
    let prefixes: Vec<(String, String)> = snapshots
        .iter()
        .map(|(_, labels)| label_parts(labels))
        .collect();
    let mut out = String::new();
    for family in FAMILIES {
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {kind}", family.name);
        for ((snapshot, _), (common, extra)) in snapshots.iter().zip(&prefixes) {
            for node in &snapshot.nodes {
                for (label, value) in (family.samples)(node) {
                    let _ = write!(
                        out,
                        "{}{{{common},node=\"{}\"{extra}",
                        family.name,
                        escape(&node.id)
                    );
                    if let Some((k, v)) = label {
                        let _ = write!(out, ",{k}=\"{}\"", escape(&v));
                    }
                    let _ = writeln!(out, "}} {}", number(value));
                }
            }
        }
    }
    out
}

/// The `instance="…",job="…"` part and the `,k="v"` part of the other labels.
fn label_parts(labels: &[(&str, &str)]) -> (String, String) {
    let given = |name: &str| {
        labels
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| *v)
    };
    let common = format!(
        "instance=\"{}\",job=\"{}\"",
        escape(given("instance")),
        escape(given("job"))
    );
    let mut extra = String::new();
    let mut used = vec![
        "instance".to_string(),
        "job".to_string(),
        "node".to_string(),
    ];
    for (k, v) in labels {
        let name = label_name(k);
        if used.contains(&name) {
            continue;
        }
        let _ = write!(extra, ",{name}=\"{}\"", escape(v));
        used.push(name);
    }
    (common, extra)
}

/// A label value with backslash, double quote and newline escaped.
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// A valid label name: characters outside `[a-zA-Z0-9_]` become `_`, and a leading digit
/// gets a `_` before it.
fn label_name(k: &str) -> String {
    let mut s: String = k
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// A sample value as the format spells it (`NaN`, `+Inf`, `-Inf`, else a decimal).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// One parsed sample line: metric name, labels, value.
    type Sample = (String, BTreeMap<String, String>, f64);

    fn is_name(s: &str, colon: bool) -> bool {
        let mut chars = s.chars();
        let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
        chars.next().is_some_and(ok_first) && chars.all(|c| ok_first(c) || c.is_ascii_digit())
    }

    /// Parses `{k="v",...}` at the start of `s`; returns the labels and the rest.
    fn labels(s: &str) -> (BTreeMap<String, String>, &str) {
        let mut rest = s.strip_prefix('{').expect("labels open with {");
        let mut out = BTreeMap::new();
        loop {
            if let Some(r) = rest.strip_prefix('}') {
                return (out, r);
            }
            let eq = rest.find('=').expect("label =");
            let name = &rest[..eq];
            assert!(is_name(name, false), "bad label name {name:?}");
            rest = rest[eq + 1..].strip_prefix('"').expect("quoted value");
            let mut value = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                let (i, c) = chars.next().expect("value closes");
                match c {
                    '"' => break i,
                    '\\' => match chars.next().expect("escape").1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        other => panic!("bad escape \\{other}"),
                    },
                    '\n' => panic!("raw newline in a label value"),
                    c => value.push(c),
                }
            };
            assert!(
                out.insert(name.to_string(), value).is_none(),
                "duplicate label {name}"
            );
            rest = &rest[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }

    fn value(s: &str) -> f64 {
        match s {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            s => s.parse().unwrap_or_else(|_| panic!("bad value {s:?}")),
        }
    }

    /// Parses the whole text, checking that every family has exactly one HELP and one TYPE
    /// line before its samples and that its samples are together.
    fn parse(text: &str) -> (BTreeMap<String, String>, Vec<Sample>) {
        let mut helps = BTreeSet::new();
        let mut types = BTreeMap::new();
        let mut finished = BTreeSet::new();
        let mut current: Option<String> = None;
        let mut samples = Vec::new();
        assert!(text.ends_with('\n'), "the text ends with a newline");
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect("help text");
                assert!(is_name(name, true) && !help.is_empty(), "{line}");
                assert!(helps.insert(name.to_string()), "second HELP for {name}");
                assert!(!types.contains_key(name), "HELP after TYPE for {name}");
                if let Some(c) = current.replace(name.to_string()) {
                    finished.insert(c);
                }
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("type");
                assert!(["counter", "gauge"].contains(&kind), "{line}");
                assert_eq!(current.as_deref(), Some(name), "TYPE right after HELP");
                assert!(types.insert(name.to_string(), kind.to_string()).is_none());
            } else {
                assert!(!line.starts_with('#'), "unknown comment {line}");
                let brace = line.find('{').expect("every sample has labels");
                let name = &line[..brace];
                assert!(is_name(name, true), "bad metric name {name:?}");
                assert_eq!(current.as_deref(), Some(name), "sample outside its family");
                assert!(types.contains_key(name) && !finished.contains(name));
                let (labels, rest) = labels(&line[brace..]);
                let v = value(rest.strip_prefix(' ').expect("space before the value"));
                samples.push((name.to_string(), labels, v));
            }
        }
        (types, samples)
    }

    fn node(id: &str) -> NodeSnapshot {
        NodeSnapshot {
            id: id.into(),
            kind: "KafkaSource",
            records_in: 1000,
            records_out: 990,
            rate_in: 10.0,
            rate_out: 9.9,
            bytes_in: 65536,
            watermark: Some(1_700_000_000_500),
            late: 10,
            errors: 2,
            lag: Some(42),
            lag_partitions: vec![(0, 40), (1, 2)],
            rate_bytes_in: 655.36,
            dead_letters: 2,
            latency_p50_ms: Some(12.5),
            latency_p99_ms: Some(250.0),
            backpressure: 0.25,
            watermark_delay_ms: Some(1500),
            latency_counts: Vec::new(),
        }
    }

    fn sample<'a>(samples: &'a [Sample], name: &str, node: &str, q: Option<&str>) -> &'a Sample {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && l.get("node").map(String::as_str) == Some(node)
                    && l.get("quantile").map(String::as_str) == q
            })
            .unwrap_or_else(|| panic!("no {name} for {node}"))
    }

    #[test]
    fn every_line_parses_and_values_match_the_snapshot() {
        let mut sink = node("out \"main\"\\\nsink");
        sink.kind = "PrintSink";
        sink.lag = None;
        sink.latency_p50_ms = None;
        sink.latency_p99_ms = None;
        sink.watermark = Some(i64::MAX);
        sink.watermark_delay_ms = None;
        let snap = Snapshot {
            elapsed_ms: 5000,
            nodes: vec![node("src"), sink.clone()],
        };
        let text = prometheus(
            &snap,
            &[
                ("job", "click\"s"),
                ("instance", "i-7"),
                ("env", "test"),
                ("node", "ignored"),
            ],
        );
        let (types, samples) = parse(&text);
        assert_eq!(
            types.keys().cloned().collect::<BTreeSet<_>>(),
            family_names().map(String::from).collect()
        );
        for (name, kind) in &types {
            assert_eq!(
                name.ends_with("_total"),
                kind == "counter",
                "{name} is a {kind}"
            );
        }
        for (_, labels, _) in &samples {
            let names: Vec<&str> = labels.keys().map(String::as_str).collect();
            assert_eq!(
                &names[..4],
                ["env", "instance", "job", "node"],
                "{labels:?}"
            );
            assert_eq!(labels["job"], "click\"s");
            assert_eq!(labels["instance"], "i-7");
            assert_eq!(labels["env"], "test");
        }
        let v = |name: &str, node: &str| sample(&samples, name, node, None).2;
        assert_eq!(v("weir_records_in_total", "src"), 1000.0);
        assert_eq!(v("weir_records_out_total", "src"), 990.0);
        assert_eq!(v("weir_bytes_in_total", "src"), 65536.0);
        assert_eq!(v("weir_late_records_total", "src"), 10.0);
        assert_eq!(v("weir_errors_total", "src"), 2.0);
        assert_eq!(v("weir_dead_letters_total", "src"), 2.0);
        assert_eq!(
            v("weir_watermark_timestamp_seconds", "src"),
            1_700_000_000.5
        );
        assert_eq!(v("weir_watermark_delay_seconds", "src"), 1.5);
        assert_eq!(v("weir_source_lag_records", "src"), 42.0);
        assert_eq!(v("weir_backpressure_ratio", "src"), 0.25);
        assert_eq!(
            sample(&samples, "weir_latency_seconds", "src", Some("0.5")).2,
            0.0125
        );
        assert_eq!(
            sample(&samples, "weir_latency_seconds", "src", Some("0.99")).2,
            0.25
        );
        // the sink's id came back unescaped; what it lacks has no sample
        let sink_id = "out \"main\"\\\nsink";
        assert_eq!(v("weir_records_in_total", sink_id), 1000.0);
        let of_sink = |name: &str| {
            samples
                .iter()
                .filter(|(n, l, _)| n == name && l["node"] == sink_id)
                .count()
        };
        assert_eq!(of_sink("weir_source_lag_records"), 0);
        assert_eq!(of_sink("weir_latency_seconds"), 0);
        assert_eq!(
            of_sink("weir_watermark_timestamp_seconds"),
            0,
            "end of input is no time"
        );
        assert_eq!(of_sink("weir_watermark_delay_seconds"), 0);
    }

    #[test]
    fn missing_labels_are_empty_and_bad_label_names_are_made_valid() {
        let snap = Snapshot {
            elapsed_ms: 0,
            nodes: vec![node("src")],
        };
        let text = prometheus(&snap, &[("9team-name", "a")]);
        let (_, samples) = parse(&text);
        let (_, labels, _) = &samples[0];
        assert_eq!(labels["instance"], "");
        assert_eq!(labels["job"], "");
        assert_eq!(labels["_9team_name"], "a");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn several_snapshots_share_one_header_per_family_and_lag_is_per_partition() {
        let a = Snapshot {
            elapsed_ms: 1000,
            nodes: vec![node("src")],
        };
        let b = Snapshot {
            elapsed_ms: 1000,
            nodes: vec![node("src")],
        };
        let text = prometheus_many(&[
            (&a, &[("instance", "1"), ("job", "shop/a")][..]),
            (&b, &[("instance", "2"), ("job", "shop/b")][..]),
        ]);
        assert_eq!(
            text.matches("# TYPE weir_records_in_total counter").count(),
            1
        );
        assert!(
            text.contains("weir_records_in_total{instance=\"1\",job=\"shop/a\",node=\"src\"} 1000")
        );
        assert!(
            text.contains("weir_records_in_total{instance=\"2\",job=\"shop/b\",node=\"src\"} 1000")
        );
        assert!(text.contains(
            "weir_source_partition_lag_records{instance=\"1\",job=\"shop/a\",node=\"src\",partition=\"0\"} 40"
        ));
    }
}
