//! `weir top [ID]`: a live, refreshing view of the instances (rates, lag, alerts) or of one
//! instance's operators, like `kubectl top` or `htop`. With `--json`, one NDJSON object
//! per refresh. Figures come from the store, so this works on any machine that reaches it.

use std::io::IsTerminal;

use clap::Args;
use weir_app::instances::{InstanceFilter, now_ms};

use super::gov::with_store;
use super::instance::{list_text, operators_text, rate};
use super::{Global, exit};

#[derive(Debug, Args)]
pub struct TopArgs {
    /// One instance's operators instead of every instance.
    pub id: Option<i64>,
    /// Seconds between refreshes.
    #[arg(long, default_value_t = 1.0)]
    pub interval: f64,
    /// Stop after this many refreshes (default: until Ctrl-C).
    #[arg(long, short = 'n')]
    pub count: Option<u64>,
    /// Also stopped and failed instances.
    #[arg(long)]
    pub all: bool,
}

pub fn run(global: &Global, args: &TopArgs) -> i32 {
    if !(args.interval.is_finite() && args.interval >= 0.1) {
        return super::fail(
            global,
            &weir_app::AppError::User(format!(
                "--interval {}: refresh at most 10 times a second (0.1 or more)",
                args.interval
            )),
        );
    }
    let tty = std::io::stdout().is_terminal() && !global.json;
    with_store(global, |gov| async move {
        let mut n = 0u64;
        loop {
            n += 1;
            let text = match args.id {
                Some(id) => {
                    let d = gov.instance_detail(id, 1, 0).await?;
                    if global.json {
                        let line = serde_json::json!({
                            "at_ms": now_ms(),
                            "instance": d.instance,
                            "figures": d.figures(),
                        });
                        outln!("{line}");
                        None
                    } else {
                        let i = &d.instance;
                        let mut s = format!("#{} {} {} {}", i.id, i.job, i.env, i.state);
                        if let Some(f) = d.figures() {
                            s.push_str(&format!(
                                "  in {}/s out {}/s lag {}\n\n{}",
                                rate(f.rate_in()),
                                rate(f.rate_out()),
                                f.lag().map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
                                operators_text(f)
                            ));
                        } else {
                            s.push_str("  (no figures yet)\n");
                        }
                        Some(s)
                    }
                }
                None => {
                    let filter = InstanceFilter {
                        all: args.all,
                        ..Default::default()
                    };
                    let rows = gov.instance_rows(&filter, 0).await?;
                    if global.json {
                        let line = serde_json::json!({ "at_ms": now_ms(), "instances": rows });
                        outln!("{line}");
                        None
                    } else {
                        Some(list_text(&rows))
                    }
                }
            };
            if let Some(t) = text {
                if tty {
                    outp!("\x1b[H\x1b[2J{t}");
                } else {
                    outln!("{t}");
                }
            }
            if args.count.is_some_and(|c| n >= c) {
                return Ok(exit::OK);
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs_f64(args.interval)) => {}
                _ = tokio::signal::ctrl_c() => return Ok(exit::OK),
            }
        }
    })
}
