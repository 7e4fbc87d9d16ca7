#!/usr/bin/env bash
# The main job on the bundled example: a Terraform state for a five-group ECS chain
# against captured live data in which the three incidents of DESIGN.md happened.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin driftd
bin="${CARGO_TARGET_DIR:-target}/debug/driftd"
set +e
"$bin" report --config examples/driftd.toml \
  --live examples/live/describe-security-groups.json \
  --live examples/live/describe-security-group-rules.json "$@"
code=$?
set -e
case $code in
  0) echo "(exit 0: no drift)" ;;
  2) echo "(exit 2: drift found, as the example is meant to show)" ;;
  *) echo "(exit $code: error)"; exit "$code" ;;
esac
