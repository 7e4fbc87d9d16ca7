#!/usr/bin/env bash
# Attribution benchmark against the local AWS endpoint and the local CloudTrail
# (release build): SCOPES regions × GROUPS groups × (RULES + 1) new findings
# (default 10 × 10 × 10 = 1,000; scripts/localaws/seed_attribution.py), then one
# `driftd report` over every region, measuring
#   - how many findings were attributed, pending, or left without a lookup,
#   - LookupEvents calls (scan.api_calls) and how many the local CloudTrail throttled,
#   - wall time of the scan and of its attribution step, and attribution's share.
# CloudTrail allows 2 lookups a second per account and region: the floor is about
# (calls per scope) / 2 seconds, the scopes in parallel.
# Usage: scripts/bench-attribution.sh [SCOPES] [GROUPS] [RULES]
set -euo pipefail
cd "$(dirname "$0")/.."
scopes="${1:-10}"
groups="${2:-10}"
rules="${3:-9}"
scripts/setup-local-aws.sh
cargo build --release --quiet --bin driftd
release="${CARGO_TARGET_DIR:-target}/release"
work="$(mktemp -d)"
# shellcheck source=localaws/endpoints.sh
. scripts/localaws/endpoints.sh
start_local_aws
endpoint="$AWS_ENDPOINT_URL"
trail_url="$AWS_ENDPOINT_URL_CLOUDTRAIL"

echo "== seeding $scopes regions x $groups groups x ($rules rules + default egress)"
.venv/bin/python scripts/localaws/seed_attribution.py --endpoint "$endpoint" --trail "$trail_url" \
  --state-out "$work/bench.tfstate" --scopes "$scopes" --groups "$groups" --rules "$rules" >"$work/regions"
region_args=()
while read -r region; do region_args+=(--region "$region"); done <"$work/regions"

export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
rc=0
start_ns=$(date +%s%N)
"$release"/driftd report --no-store --state "$work/bench.tfstate" "${region_args[@]}" \
  --format json --output "$work/report.json" 2>"$work/driftd.log" || rc=$?
wall=$(python3 -c "print(round(($(date +%s%N) - $start_ns) / 1e9, 2))")
[ "$rc" = 0 ] || [ "$rc" = 2 ] || { cat "$work/driftd.log"; exit 1; }
python3 -c "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen('$trail_url/_fake/requests').read().decode())" >"$work/requests.json"
python3 - "$work/report.json" "$work/driftd.log" "$work/requests.json" "$wall" <<'PY'
import collections, json, re, sys
report = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
requests = json.load(open(sys.argv[3]))
wall = float(sys.argv[4])
findings = report["findings"]
kinds = collections.Counter(
    "no lookup" if "changed_by" not in f else
    "pending" if f["changed_by"] == {"pending": True} else
    "not found" if f["changed_by"] is None else "attributed"
    for f in findings)
step = re.search(r"asking CloudTrail who made .*?seconds=([0-9.]+)", log)
attribution = float(step.group(1)) if step else 0.0
per_scope = collections.Counter(r["region"] for r in requests)
trail_failed = [s for s in report["scan"]["sources"] if s["kind"] == "cloudtrail" and not s["ok"]]
print(json.dumps({
    "findings": len(findings),
    "changed_by": dict(kinds),
    "lookup_events_calls": report["scan"]["api_calls"].get("cloudtrail:LookupEvents", 0),
    "calls_per_scope": {"min": min(per_scope.values(), default=0), "max": max(per_scope.values(), default=0)},
    "throttled_at_the_fake": sum(r["throttled"] for r in requests),
    "cloudtrail_sources_failed": len(trail_failed),
    "scan_wall_seconds": wall,
    "attribution_seconds": attribution,
    "attribution_share": round(attribution / wall, 3) if wall else None,
}, indent=2))
PY
