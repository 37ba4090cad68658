//! `weir broker [--port N] [--topics a:3,b:2]`: an embedded Kafka broker (librdkafka's
//! mock cluster) until Ctrl-C; prints its bootstrap address.

use clap::Args;
use serde_json::json;

use super::{Global, exit, fail, print_json};
use weir_app::engine::{broker, parse_topics};

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Listen on this port of 127.0.0.1 (default: a random port).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Topics to create, NAME:PARTITIONS separated by commas.
    #[arg(long, value_name = "LIST", default_value = "")]
    pub topics: String,
}

pub fn run(global: &Global, args: &BrokerArgs) -> i32 {
    let topics = match parse_topics(&args.topics) {
        Ok(t) => t,
        Err(e) => return fail(global, &e),
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let project = weir_app::project_root(&cwd);
    let json = global.json;
    let r = broker(&project, args.port, &topics, |bootstrap, control| {
        if json {
            print_json(&json!({ "bootstrap": bootstrap, "control": control }));
        } else {
            outln!("{bootstrap}");
            eprintln!("embedded broker at {bootstrap} (control {control}); Ctrl-C stops it");
        }
    });
    match r {
        Ok(()) => exit::OK,
        Err(e) => fail(global, &e),
    }
}
