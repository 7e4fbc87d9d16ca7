#!/usr/bin/env bash
# Instructions per diff of 100,000 declared against 100,000 live rules, counted by
# valgrind's callgrind. The count is the same for the same build whatever else the
# machine is doing, where wall-clock medians on a shared 2-core VM move by a third
# within minutes: use it to compare two builds (before and after a change). The
# < 100 ms target itself is timed by
# `cargo bench -p driftd-bench --bench parse_and_diff -- diff` (tools/bench).
#
# The benchmark builds its case the same way in every run (seeded), so a run of
# three diffs minus a run of one is exactly two diffs.
#
# Usage: scripts/bench-instructions.sh [BENCH_BINARY ...]
#   without arguments: builds the parse_and_diff benchmark and counts it.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || {
  echo "bench-instructions: needs valgrind (apt-get install -y valgrind)" >&2
  exit 1
}
binaries=("$@")
if [[ ${#binaries[@]} -eq 0 ]]; then
  binaries=("$(cargo bench -p driftd-bench --bench parse_and_diff --no-run --message-format=json |
    python3 -c 'import json, sys
found = [m["executable"] for m in map(json.loads, sys.stdin)
         if m.get("reason") == "compiler-artifact" and m.get("executable")
         and m["target"]["name"] == "parse_and_diff"]
print(found[-1])')")
fi

# count BINARY RUNS: instructions of the whole benchmark process.
count() {
  local out
  out="$(mktemp)"
  DRIFTD_BENCH_DIFF_RUNS="$2" valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$1" diff >/dev/null 2>&1
  callgrind_annotate "$out" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
  rm -f "$out"
}

for bin in "${binaries[@]}"; do
  one="$(count "$bin" 1)"
  three="$(count "$bin" 3)"
  printf 'diff 100k x 100k: %d million instructions per diff (%s)\n' \
    "$(( (three - one) / 2 / 1000000 ))" "$bin"
done
