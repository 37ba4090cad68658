//! Figures of a running process from /proc: CPU seconds of the process and of each of its
//! threads, memory lines of /proc/PID/status, context switches, the clock tick.

use std::collections::BTreeMap;

/// utime + stime of `pid` in seconds, from /proc/PID/stat.
pub fn cpu_seconds(pid: u32, tick: f64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // fields after `(comm)`: state is field 3, utime 14, stime 15
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / tick)
}

/// CPU seconds of each thread of `pid` (from schedstat, in nanoseconds; else from stat,
/// in clock ticks): thread id → (name with trailing digits dropped, so `rdk:broker12`
/// counts as `rdk:broker`; seconds).
pub fn thread_cpu(pid: u32, tick: f64) -> BTreeMap<u32, (String, f64)> {
    let mut threads = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return threads;
    };
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        let name = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
            .unwrap_or_default()
            .trim()
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_string();
        // schedstat's first field is the time on CPU in nanoseconds; stat's utime and
        // stime are whole clock ticks, which loses most of a thread that wakes briefly
        let precise = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .map(|ns| ns / 1e9);
        let Some(secs) = precise.or_else(|| {
            std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat"))
                .ok()
                .and_then(|stat| {
                    let rest = stat.rsplit_once(')')?.1.to_string();
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / tick)
                })
        }) else {
            continue;
        };
        threads.insert(tid, (name, secs));
    }
    threads
}

/// The busiest thread groups between two [`thread_cpu`] readings over `secs`, as
/// `name xTHREADS: % of a core (busiest thread %)` (threads alive at the second reading; a thread born in
/// between counts from zero, one that ended is left out).
pub fn busiest(
    before: &BTreeMap<u32, (String, f64)>,
    after: &BTreeMap<u32, (String, f64)>,
    secs: f64,
) -> String {
    // per group: threads, total %, the busiest thread's %
    let mut groups: BTreeMap<&str, (usize, f64, f64)> = BTreeMap::new();
    for (tid, (name, cpu)) in after {
        let was = before.get(tid).map_or(0.0, |b| b.1);
        let pct = (cpu - was) / secs * 100.0;
        let g = groups.entry(name).or_insert((0, 0.0, 0.0));
        g.0 += 1;
        g.1 += pct;
        g.2 = g.2.max(pct);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
    groups
        .iter()
        .take(6)
        .map(|(name, (n, pct, top))| match n {
            1 => format!("{name}: {pct:.2} %"),
            _ => format!("{name} x{n}: {pct:.2} % (busiest {top:.2} %)"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 when that fails).
pub fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// A `kB` line of /proc/PID/status (VmHWM, VmRSS) in kB.
pub fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Context switches of every thread of `pid` (voluntary + involuntary, from
/// /proc/PID/task/TID/status): how often the process wakes up.
pub fn wakeups(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .map(|status| {
            status
                .lines()
                .filter_map(|l| {
                    let v = l
                        .strip_prefix("voluntary_ctxt_switches:")
                        .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))?;
                    v.trim().parse::<u64>().ok()
                })
                .sum::<u64>()
        })
        .sum()
}
