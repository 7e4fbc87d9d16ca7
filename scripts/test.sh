#!/usr/bin/env bash
# The whole test suite: unit, end-to-end (the built binary on fixtures and the
# incidents of DESIGN.md), property and snapshot tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export INSTA_UPDATE=no   # a changed snapshot fails; review with `cargo insta review`
# Every target but the benchmarks (scripts/bench.sh runs those, in release).
cargo test --lib --bins --tests "$@"
cargo test --doc
