//! The layers of ARCHITECTURE.md, kept by the crate graph: the workbench (`weir-tui`) and
//! the command line (the `weir` crate) reach the metadata store and the engine only
//! through the use cases of `weir-app`. A screen or a command that imports `weir_store`
//! or `weir_engine` does not compile, because neither crate depends on them; this test
//! fails when someone adds such a dependency (or such an import) anyway.
// Test helpers outside #[test] functions unwrap and panic too; a failure is the report.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

/// The `[dependencies]` table of a crate's manifest (not dev-dependencies: tests may set
/// up a store directly).
fn normal_dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut names = Vec::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps
            && let Some((name, _)) = line.split_once('=')
            && !line.starts_with('#')
        {
            names.push(name.trim().trim_end_matches(".workspace").to_string());
        }
    }
    names
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

const FORBIDDEN: [&str; 2] = ["weir-store", "weir-engine"];

#[test]
fn the_workbench_and_the_cli_do_not_depend_on_the_store_or_the_engine() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for manifest in [root.join("Cargo.toml"), root.join("crates/tui/Cargo.toml")] {
        let deps = normal_dependencies(&manifest);
        assert!(
            deps.iter().any(|d| d == "weir-app"),
            "{} should depend on weir-app: {deps:?}",
            manifest.display()
        );
        for f in FORBIDDEN {
            assert!(
                !deps.iter().any(|d| d == f),
                "{} depends on {f}: the workbench and the CLI reach it only through weir-app's use cases",
                manifest.display()
            );
        }
    }
}

#[test]
fn no_screen_or_command_names_the_store_or_the_engine() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    sources(&root.join("crates/tui/src"), &mut files);
    let mut offenders = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            // A path into either crate (log targets in strings are fine).
            let names = [
                "weir_store::",
                "weir_engine::",
                "use weir_store",
                "use weir_engine",
            ];
            if names.iter().any(|n| line.contains(n)) {
                offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "the UI layers name the store or the engine; call a weir-app use case instead:\n{}",
        offenders.join("\n")
    );
}
