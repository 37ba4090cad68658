#!/usr/bin/env bash
# The mutation campaign of issue 15: COUNT mutants (default 3000) of the example jobs,
# from SEED (default 15), each through `weir validate`, `weir graph` and `weir fmt`;
# checks no panic, no abort, no hang, every diagnostic located, graph exiting as validate,
# and fmt refusing exactly what validate refuses as syntax, keeping the meaning and being
# idempotent (tests/mutation.rs). Prints the counts; failing mutants are kept on disk.
#
#   scripts/mutate.sh [COUNT] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/weir-target}"
export WEIR_MUTANTS="${1:-3000}"
export WEIR_MUTATION_SEED="${2:-15}"
exec cargo test --workspace --test mutation -- --ignored --nocapture mutation_campaign
