//! The `weir` binary: parse arguments, start logging, dispatch. Nothing else lives here.

use clap::Parser;

fn main() {
    let cli = weir::cli::Cli::parse();
    match weir::logging::init(cli.global.verbose) {
        Ok(path) => {
            tracing::debug!(log = %path.display(), "weir {} started", env!("CARGO_PKG_VERSION"))
        }
        Err(e) if cli.global.verbose > 0 => eprintln!("weir: logging is off: {e}"),
        Err(_) => {}
    }
    let code = weir::cli::run(cli);
    std::process::exit(code);
}
