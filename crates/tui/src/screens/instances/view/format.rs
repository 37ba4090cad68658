//! Numbers and times as the instance view shows them: rates (`1.2k/s`), counts (`5.2k`),
//! durations (`3m`, `2.1s`), UTC clock times, and RFC 3339 stamps read into epoch
//! milliseconds without a clock, so that what is drawn depends only on the screen's
//! `now_ms`.

use weir_app::instances::{Instance, InstanceState, StartPosition};

/// `0/s`, `7.5/s`, `420/s`, `1.2k/s`, `3.4M/s`.
pub fn rate(v: f64) -> String {
    format!("{}/s", count_f(v))
}

/// A count with a k/M suffix: `950`, `5.2k`, `12k`, `3.1M`.
pub fn count(n: u64) -> String {
    count_f(n as f64)
}

fn count_f(v: f64) -> String {
    let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
    if v < 10.0 && v.fract() != 0.0 {
        format!("{v:.1}")
    } else if v < 1000.0 {
        format!("{v:.0}")
    } else if v < 10_000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v < 1_000_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v < 10_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else {
        format!("{:.0}M", v / 1_000_000.0)
    }
}

/// A short duration: `350ms`, `2.1s`, `45s`, `3m`, `2h5m`, `3d`.
pub fn duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 10_000 {
        return format!("{:.1}s", ms as f64 / 1000.0);
    }
    age_secs(ms / 1000)
}

/// Bytes as `812B`, `18KB`, `4.2MB`.
pub fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n}B"),
        1024..1_048_576 => format!("{}KB", n / 1024),
        _ => format!("{:.1}MB", n as f64 / 1_048_576.0),
    }
}

/// The last checkpoint as the header shows it: `checkpoint #7 12s ago (41ms, 18KB)`, or
/// `no checkpoint yet`.
pub fn checkpoint(c: &weir_app::instances::CheckpointFigures) -> String {
    match (c.last_id, c.age_ms) {
        (Some(id), Some(age)) => format!(
            "checkpoint #{id} {} ago ({}, {})",
            duration_ms(age),
            duration_ms(c.duration_ms as i64),
            bytes(c.size)
        ),
        _ => "no checkpoint yet".into(),
    }
}

/// Whole seconds as `45s`, `3m`, `2h5m`, `3d`.
pub fn age_secs(s: i64) -> String {
    let s = s.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 if (s % 3600) / 60 == 0 => format!("{}h", s / 3600),
        3600..86_400 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d", s / 86_400),
    }
}

/// Milliseconds since the epoch as `HH:MM:SS` (UTC).
pub fn clock(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// Milliseconds since the epoch as `2026-12-07 12:00:00` (UTC).
pub fn date_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {}", clock(ms))
}

/// The `HH:MM:SS` of a stored RFC 3339 stamp (`2026-12-07T12:01:02.5Z` → `12:01:02`).
pub fn stamp_clock(at: &str) -> String {
    match parse_rfc3339_ms(at) {
        Some(ms) => clock(ms),
        None => at.get(11..19).unwrap_or(at).to_string(),
    }
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` (a space for `T` too) into epoch
/// milliseconds; None when it is not such a stamp (`clock::epoch_ms`, shared with the
/// list screens).
pub fn parse_rfc3339_ms(at: &str) -> Option<i64> {
    super::super::clock::epoch_ms(at)
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `up 3m` while running (from `started_at` to `now_ms`), else `-`.
pub fn uptime(inst: &Instance, now_ms: i64) -> String {
    match (
        inst.state,
        inst.started_at.as_deref().and_then(parse_rfc3339_ms),
    ) {
        (InstanceState::Running, Some(at)) => format!("up {}", age_secs((now_ms - at) / 1000)),
        _ => "-".into(),
    }
}

/// `from latest`, `from earliest`, `from 2026-12-07 12:00:00`.
pub fn start(pos: &StartPosition) -> String {
    match pos {
        StartPosition::Latest => "from latest".into(),
        StartPosition::Earliest => "from earliest".into(),
        StartPosition::Timestamp(ms) => format!("from {}", date_time(*ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_counts_are_short() {
        assert_eq!(rate(0.0), "0/s");
        assert_eq!(rate(7.5), "7.5/s");
        assert_eq!(rate(420.0), "420/s");
        assert_eq!(rate(1234.0), "1.2k/s");
        assert_eq!(rate(45_000.0), "45k/s");
        assert_eq!(rate(3_400_000.0), "3.4M/s");
        assert_eq!(rate(f64::NAN), "0/s");
        assert_eq!(count(5200), "5.2k");
        assert_eq!(duration_ms(350), "350ms");
        assert_eq!(duration_ms(2100), "2.1s");
        assert_eq!(duration_ms(190_000), "3m");
        assert_eq!(age_secs(7500), "2h5m");
        assert_eq!(age_secs(7200), "2h");
    }

    #[test]
    fn stamps_read_into_epoch_milliseconds() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        let ms = parse_rfc3339_ms("2026-12-07T12:01:02.5Z").unwrap();
        assert_eq!(date_time(ms), "2026-12-07 12:01:02");
        assert_eq!(ms % 1000, 500);
        assert_eq!(
            parse_rfc3339_ms("2026-12-07T13:01:02+01:00"),
            parse_rfc3339_ms("2026-12-07 12:01:02")
        );
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
        assert_eq!(parse_rfc3339_ms("2026-13-07T12:01:02Z"), None);
        assert_eq!(stamp_clock("2026-12-07T12:01:02Z"), "12:01:02");
    }

    #[test]
    fn the_last_checkpoint_reads_as_age_duration_and_size() {
        let mut c = weir_app::instances::CheckpointFigures::default();
        assert_eq!(checkpoint(&c), "no checkpoint yet");
        c.last_id = Some(7);
        c.age_ms = Some(12_000);
        c.duration_ms = 41;
        c.size = 18_600;
        assert_eq!(checkpoint(&c), "checkpoint #7 12s ago (41ms, 18KB)");
        assert_eq!(bytes(5_000_000), "4.8MB");
    }
}
