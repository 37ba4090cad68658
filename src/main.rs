//! The `weir` binary: parse arguments, start logging, dispatch. Nothing else lives here.

use clap::Parser;

fn main() {
    let cli = weir::cli::Cli::parse();
    let log = if cli.runs_worker() {
        "worker.log"
    } else {
        "weir.log"
    };
    match weir::logging::init_to(cli.global.verbose, log) {
        Ok(path) => {
            tracing::debug!(log = %path.display(), "weir {} started", env!("CARGO_PKG_VERSION"))
        }
        Err(e) if cli.global.verbose > 0 => eprintln!("weir: logging is off: {e}"),
        Err(_) => {}
    }
    let code = weir::cli::run(cli);
    std::process::exit(code);
}
