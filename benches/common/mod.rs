//! Shared by the benchmarks: medians and the results file every benchmark writes.
#![allow(dead_code)]

pub mod procfs;
pub mod pty;

use std::time::Duration;

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Print the report and write it to bench/results/NAME.txt with a header saying how it
/// was produced.
pub fn publish(name: &str, lines: &[String]) {
    let report = lines.join("\n") + "\n";
    print!("{report}");
    let header = format!(
        "# cargo bench --bench {name} ({} build, {} cores)\n",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let path = format!("bench/results/{name}.txt");
    if let Err(e) = std::fs::create_dir_all("bench/results")
        .and_then(|()| std::fs::write(&path, header + &report))
    {
        eprintln!("could not write {path}: {e}");
    }
}
