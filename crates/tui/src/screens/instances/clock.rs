//! Times and figures as the instance screens print them, relative to a `now_ms` the screen
//! holds (set at each refresh), so that a test draws the same frame from the same data:
//! RFC 3339 stamps of the store read as epoch milliseconds, ages (`3m`), rates (`1.2k`)
//! and sparklines (`▁▂▄█`).

/// Epoch milliseconds of an RFC 3339 time as the store writes it
/// (`2026-12-07T10:00:00Z`, `2026-12-07 10:00:00.123+00:00`); `None` when it is not one.
pub fn epoch_ms(ts: &str) -> Option<i64> {
    let ts = ts.trim();
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let year = num(ts.get(0..4)?)?;
    let month = num(ts.get(5..7)?)?;
    let day = num(ts.get(8..10)?)?;
    let hour = num(ts.get(11..13)?)?;
    let min = num(ts.get(14..16)?)?;
    let sec = num(ts.get(17..19)?)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 {
        return None;
    }
    let mut rest = ts.get(19..).unwrap_or("");
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        let ms: String = digits.chars().chain("000".chars()).take(3).collect();
        millis = num(&ms)?;
        rest = &frac[digits.len()..];
    }
    let offset_min = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let hm = rest.get(1..)?.replace(':', "");
            let h = num(hm.get(0..2)?)?;
            let m = hm.get(2..4).and_then(num).unwrap_or(0);
            sign * (h * 60 + m)
        }
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + min * 60 + sec - offset_min * 60;
    Some(secs * 1_000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// How long ago `ts` was at `now_ms`: `12s`, `3m`, `2h`, `4d`; `-` when unknown.
pub fn ago(ts: Option<&str>, now_ms: i64) -> String {
    match ts.and_then(epoch_ms) {
        Some(at) => span((now_ms - at).max(0) / 1_000),
        None => "-".into(),
    }
}

/// A duration in seconds as `12s`, `3m`, `2h`, `4d`.
pub fn span(s: i64) -> String {
    match s {
        ..60 => format!("{s}s"),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h", s / 3_600),
        _ => format!("{}d", s / 86_400),
    }
}

/// A rate or count in a few columns: `0`, `12.5`, `640`, `1.2k`, `3.4M`.
pub fn compact(v: f64) -> String {
    let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
    if v == 0.0 {
        "0".into()
    } else if v < 100.0 && v.fract() != 0.0 {
        format!("{v:.1}")
    } else if v < 1_000.0 {
        format!("{v:.0}")
    } else if v < 1_000_000.0 {
        format!("{:.1}k", v / 1_000.0)
    } else if v < 1_000_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else {
        format!("{:.1}G", v / 1_000_000_000.0)
    }
}

/// The bars of a sparkline, lowest to highest.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values of `series` as a line of bars scaled to its largest value
/// (`▁▁▃▅█`); empty for no values.
pub fn sparkline(series: &[u64], width: usize) -> String {
    let tail = &series[series.len().saturating_sub(width)..];
    let max = tail.iter().copied().max().unwrap_or(0);
    tail.iter()
        .map(|v| match max {
            0 => BARS[0],
            m => {
                let i = (*v as u128 * 7).div_ceil(m as u128) as usize;
                BARS[i.min(7)]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_times_read_as_epoch_milliseconds() {
        assert_eq!(epoch_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_ms("2026-12-07T10:00:00Z"), Some(1_796_637_600_000));
        assert_eq!(
            epoch_ms("2026-12-07 10:00:00.25+01:00"),
            Some(1_796_637_600_000 - 3_600_000 + 250)
        );
        assert_eq!(epoch_ms("yesterday"), None);
        assert_eq!(epoch_ms("2026-13-07T10:00:00Z"), None);
        assert_eq!(
            ago(Some("2026-12-07T10:00:00Z"), 1_796_637_600_000 + 185_000),
            "3m"
        );
        assert_eq!(ago(None, 0), "-");
    }

    #[test]
    fn figures_fit_a_few_columns() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(12.5), "12.5");
        assert_eq!(compact(640.0), "640");
        assert_eq!(compact(1_234.0), "1.2k");
        assert_eq!(compact(3_400_000.0), "3.4M");
        assert_eq!(compact(f64::NAN), "0");
        assert_eq!(sparkline(&[0, 1, 2, 4, 8], 4), "▂▃▅█");
        assert_eq!(sparkline(&[0, 0], 5), "▁▁");
        assert_eq!(sparkline(&[], 5), "");
    }
}
