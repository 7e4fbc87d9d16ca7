#!/usr/bin/env bash
# Performance figures for the issue's targets (release build, this machine):
#   parse a generated 100 MB state in < 1 s with peak RSS < 3x the file size;
#   diff 100,000 declared against 100,000 live rules in < 100 ms.
#
# 1. builds driftd (release, the image's command) and gen-state (tools/gen-state);
# 2. generates a state of BENCH_SIZE_MB (default 100) MB and its zero-drift
#    describe-security-group-rules capture in a temporary directory;
# 3. runs the driftd binary end to end under /usr/bin/time -v, twice:
#    a. the state against an empty capture: reading the state dominates (parse);
#    b. the state against its capture: the whole scan (both parses, diff, report);
# 4. runs the parse_and_diff benchmark (tools/bench: in-process parse and diff timings).
#
# Usage: scripts/bench.sh [SIZE_MB]     (BENCH_KEEP=1 keeps the generated files)
set -euo pipefail
cd "$(dirname "$0")/.."

size_mb="${1:-${BENCH_SIZE_MB:-100}}"
work="$(mktemp -d "${TMPDIR:-/tmp}/driftd-bench.XXXXXX")"
if [[ "${BENCH_KEEP:-0}" != 1 ]]; then
  trap 'rm -rf "$work"' EXIT
fi

echo "== build (release)"
# driftd as the image builds it (Dockerfile), then the generator, a tool of its own.
cargo build --release --locked --bin driftd
cargo build --release --locked -p driftd-gen-state --bin gen-state
# .ci/run points CARGO_TARGET_DIR outside the clone; cargo builds there then.
release="${CARGO_TARGET_DIR:-target}/release"

echo "== generate ${size_mb} MB state in $work"
state="$work/state.tfstate"
live="$work/live.json"
empty="$work/empty-live.json"
"$release"/gen-state --size-mb "$size_mb" --out "$state" --live-out "$live"
printf '{"SecurityGroupRules": []}\n' >"$empty"
state_bytes=$(stat -c %s "$state")
live_bytes=$(stat -c %s "$live")

# run LABEL LIVE_FILE REPORT_FILE: driftd report under a peak-RSS meter.
# Sets wall_s, rss_kb, rc.
run_driftd() {
  local label="$1" live_file="$2" out="$3"
  local cmd=("$release"/driftd report --no-store --state "$state" --live "$live_file" --format json --output "$out")
  if [[ -x /usr/bin/time ]]; then
    local log="$work/time-$label.log"
    rc=0
    /usr/bin/time -v "${cmd[@]}" 2>"$log" || rc=$?
    # GNU time prints "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:01.23".
    wall_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    if [[ -z "$wall_s" || -z "$rss_kb" ]]; then
      echo "could not read /usr/bin/time output:" >&2
      cat "$log" >&2
      exit 1
    fi
  else
    # No GNU time (apt-get install -y time): poll VmHWM while the process runs.
    local start end pid hwm
    start=$(date +%s.%N)
    "${cmd[@]}" &
    pid=$!
    rss_kb=0
    while kill -0 "$pid" 2>/dev/null; do
      hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [[ -n "$hwm" && "$hwm" -gt "$rss_kb" ]] && rss_kb=$hwm
      sleep 0.01
    done
    rc=0
    wait "$pid" || rc=$?
    end=$(date +%s.%N)
    wall_s=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')
  fi
  # Exit 0 (no drift) and 2 (drift found) are both results; 1 is an error, save
  # for the empty capture, against which nothing can be compared (driftd says so and
  # exits 1: that run measures parsing).
  if [[ "$rc" != 0 && "$rc" != 2 && !( "$label" == parse && "$rc" == 1 ) ]]; then
    echo "driftd report ($label) failed with exit code $rc" >&2
    exit 1
  fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
to_mb() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }

echo "== driftd report: state against an empty capture (parse dominates)"
run_driftd parse "$empty" /dev/null
parse_wall=$wall_s parse_rss_kb=$rss_kb parse_rc=$rc

echo "== driftd report: state against its capture (whole scan)"
report="$work/report.json"
run_driftd full "$live" "$report"
full_wall=$wall_s full_rss_kb=$rss_kb full_rc=$rc
findings=$(grep -o '"findings": *[0-9]*' "$report" | head -1 | grep -o '[0-9]*$' || echo "?")

echo "== cargo bench -p driftd-bench --bench parse_and_diff"
bench_log="$work/bench.log"
DRIFTD_BENCH_STATE="$state" DRIFTD_BENCH_LIVE="$live" \
  cargo bench -p driftd-bench --bench parse_and_diff | tee "$bench_log"

echo
echo "== figures (${size_mb} MB target, $(nproc) cores)"
printf '%-34s %s MB (%s bytes); capture %s MB\n' "state file:" \
  "$(to_mb "$state_bytes")" "$state_bytes" "$(to_mb "$live_bytes")"
printf '%-34s wall %s s, peak RSS %s MB = %sx the state (exit %s)\n' \
  "driftd, empty capture (parse):" "$parse_wall" "$(to_mb $((parse_rss_kb * 1024)))" \
  "$(ratio $((parse_rss_kb * 1024)) "$state_bytes")" "$parse_rc"
printf '%-34s wall %s s, peak RSS %s MB = %sx the state, %sx state+capture (exit %s, %s findings)\n' \
  "driftd, matching capture (full):" "$full_wall" "$(to_mb $((full_rss_kb * 1024)))" \
  "$(ratio $((full_rss_kb * 1024)) "$state_bytes")" \
  "$(ratio $((full_rss_kb * 1024)) $((state_bytes + live_bytes)))" "$full_rc" "$findings"
grep -E '^(parse|parse live|diff|diff findings|diff state vs its capture):' "$bench_log" |
  sed 's/^/in-process  /'
echo "targets: parse 100 MB < 1 s; peak RSS < 3x file size; diff 100k x 100k < 100 ms"
