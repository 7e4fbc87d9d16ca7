#!/usr/bin/env bash
# Scan benchmark against the local AWS endpoint (release build):
#   seeds GROUPS groups × RULES rules (default 10,000 × 10 = 100,000 rules, plus each
#   group's default egress), then measures in one run
#   - driftd's full scan and report wall time vs a minimal paginated boto3 fetch of
#     the same groups, rules and interfaces (target ratio <= 0.5: with no state, no
#     rule needs its id, so driftd skips DescribeSecurityGroupRules),
#   - the same against Cloud Custodian listing the same groups (PyPI c7n, in its
#     own venv .venv-c7n, --cache-period 0; set DRIFTD_BENCH_C7N=0 to skip),
#   - driftd's API calls (target: ceil(groups/1000) + ceil(interfaces/1000) per
#     region; the local endpoint does not paginate, so here it is 1 + 1),
#   - driftd's peak RSS (target < 150 MB at 100,000 rules).
# Usage: scripts/bench-aws.sh [GROUPS] [RULES_PER_GROUP]
set -euo pipefail
cd "$(dirname "$0")/.."
groups="${1:-10000}"
rules="${2:-10}"
scripts/setup-local-aws.sh
cargo build --release --quiet --bin driftd
release="${CARGO_TARGET_DIR:-target}/release"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
endpoint="http://127.0.0.1:$port"

echo "== seeding $groups groups x $rules rules"
start=$(date +%s)
.venv/bin/python scripts/localaws/seed_bulk.py --endpoint "$endpoint" --groups "$groups" --rules "$rules"
echo "seeded in $(( $(date +%s) - start )) s"

# Warm the endpoint once (its first describe builds caches), then measure both.
.venv/bin/python scripts/localaws/fetch_plain.py "$endpoint" us-east-1 >/dev/null
plain="$(.venv/bin/python scripts/localaws/fetch_plain.py "$endpoint" us-east-1)"
echo "plain boto3 fetch: $plain"

# Cloud Custodian (pinned, its own venv: its boto3 pins are not moto's).
c7n_seconds=null
if [ "${DRIFTD_BENCH_C7N:-1}" != 0 ]; then
  [ -x .venv-c7n/bin/custodian ] || { python3 -m venv .venv-c7n && .venv-c7n/bin/pip install --quiet c7n==0.9.53; }
  printf 'policies:\n  - name: groups\n    resource: aws.security-group\n' >"$work/policy.yml"
  start_ns=$(date +%s%N)
  AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    .venv-c7n/bin/custodian run --cache-period 0 -r us-east-1 -s "$work/c7n" "$work/policy.yml" >/dev/null 2>&1
  c7n_seconds=$(python3 -c "print(round(($(date +%s%N) - $start_ns) / 1e9, 3))")
  echo "custodian run (aws.security-group, --cache-period 0): ${c7n_seconds} s, $(python3 -c "import json; print(len(json.load(open('$work/c7n/groups/resources.json'))))") groups"
fi

export AWS_ENDPOINT_URL="$endpoint" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing \
  AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
rc=0
/usr/bin/time -v "$release"/driftd report --no-store --region us-east-1 --format json \
  --output "$work/report.json" 2>"$work/time.log" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 2 ] || { cat "$work/time.log"; exit 1; }
python3 - "$work/time.log" "$work/report.json" "$plain" "$c7n_seconds" <<'PY'
import json, sys
log = open(sys.argv[1]).read().splitlines()
def field(name):
    return next(l.split(": ", 1)[1] for l in log if name in l)
wall = field("Elapsed (wall clock)")
parts = [float(p) for p in wall.split(":")]
seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss_mb = int(field("Maximum resident set size")) / 1024
report = json.load(open(sys.argv[2]))
plain = json.loads(sys.argv[3])
s = report["summary"]
print("== figures")
print(f"live groups {s['live_security_groups']}, live rules {s['live_rules']}")
print(f"driftd scan+report: {seconds:.2f} s; plain fetch: {plain['seconds']:.2f} s; ratio {seconds / plain['seconds']:.2f} (target <= 0.5)")
c7n = json.loads(sys.argv[4])
if c7n is not None:
    print(f"Cloud Custodian listing the groups: {c7n:.2f} s; driftd / custodian {seconds / c7n:.2f} (target <= 1)")
print(f"driftd API calls: {report['scan']['api_calls']} (plain fetch: {plain['calls']})")
print(f"driftd peak RSS: {rss_mb:.0f} MB (target < 150 MB)")
PY
