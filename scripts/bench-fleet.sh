#!/usr/bin/env bash
# Replicas sharing an organisation by scope (issue 23). On the local AWS endpoint
# (moto, behind scripts/localaws/counting_proxy.py, which counts each scope's calls)
# ACCOUNTS member accounts × 2 regions × GROUPS groups × RULES rules, each account
# reached through sts:AssumeRole (scripts/localaws/seed_org.py). For 1 and for 3
# `serve` replicas on one throwaway PostgreSQL, two runs of the schedule, measuring:
#   - the wall time of a run (first scope started to last scope stored) and the
#     median and slowest scope (read + compare);
#   - the API calls each scope received per run, counted at the endpoint;
#   - each replica's peak RSS (VmHWM), with ACCOUNTS and with SMALL accounts;
#   - PostgreSQL's growth over the second, unchanged run (pg_database_size).
#
# Usage: scripts/bench-fleet.sh [ACCOUNTS=50] [GROUPS=200] [RULES=10] [SMALL=10]
# PROFILE=dev measures the dev build (no 15-minute release build; slower CPU work).
set -euo pipefail
cd "$(dirname "$0")/.."
accounts=${1:-50}
groups=${2:-200}
rules=${3:-10}
small=${4:-10}
profile=${PROFILE:-release}
target=${CARGO_TARGET_DIR:-target}
cargo build --profile "$profile" --quiet --bin driftd
driftd="$target/$([ "$profile" = dev ] && echo debug || echo "$profile")/driftd"
scripts/setup-local-aws.sh >/dev/null
. scripts/postgres-scratch.sh

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_postgres
  rm -rf "$work"
}
trap cleanup EXIT
start_postgres
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
moto_port="$(free_port)"
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $moto_port), 1)" 2>/dev/null; do sleep 0.2; done
.venv/bin/python scripts/localaws/counting_proxy.py --upstream "http://127.0.0.1:$moto_port" >"$work/proxy.out" 2>&1 &
pids+=($!)
until grep -q listening "$work/proxy.out" 2>/dev/null; do sleep 0.1; done
proxy="http://127.0.0.1:$(awk '{print $3}' "$work/proxy.out")"

echo "seeding $accounts accounts x 2 regions x $groups groups x $rules rules..."
.venv/bin/python scripts/localaws/seed_org.py --endpoint "$proxy" --accounts "$accounts" \
  --groups "$groups" --rules "$rules" --state-out "$work/org.tfstate" \
  --accounts-out "$work/accounts.toml" --threads 4
# The first SMALL accounts alone: the same scopes, fewer of them.
python3 - "$work" "$small" <<'PY'
import json, sys
work, small = sys.argv[1], int(sys.argv[2])
keep = {f"{210000000000 + i}" for i in range(small)}
state = json.load(open(f"{work}/org.tfstate"))
for r in state["resources"]:
    r["instances"] = [i for i in r["instances"] if i["attributes"]["owner_id"] in keep]
json.dump(state, open(f"{work}/small.tfstate", "w"))
tables = open(f"{work}/accounts.toml").read().strip().split("\n\n")
open(f"{work}/accounts-small.toml", "w").write("\n\n".join(t for t in tables if any(k in t for k in keep)) + "\n")
PY

sql() { "$pg_bin/psql" -At -h 127.0.0.1 -p "$pg_port" -U driftd -d "$1" -c "$2"; }

# run_fleet NAME STATE ACCOUNTS_TOML REPLICAS: two runs; prints one JSON line.
run_fleet() {
  local name=$1 state=$2 accounts_toml=$3 replicas=$4
  local scopes=$(( $(grep -c '^\[\[account\]\]' "$accounts_toml") * 2 ))
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U driftd "$name"
  cat >"$work/$name.toml" <<TOML
[[terraform]]
state = "$state"

[cloudtrail]
enabled = false

[server]
listen = "127.0.0.1:0"
scan_on_start = false
scan_lease = "60s"

[[schedule]]
cron = "*/15 * * * * *"

$(cat "$accounts_toml")
TOML
  curl -s -X POST "$proxy/_counts/reset" >/dev/null
  local fleet=()
  for _ in $(seq "$replicas"); do
    env AWS_ENDPOINT_URL="$proxy" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
      AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
      AWS_SHARED_CREDENTIALS_FILE=/dev/null DRIFTD_DATABASE_URL="$pg_url$name" \
      "$driftd" serve --config "$work/$name.toml" >>"$work/$name.log" 2>&1 &
    fleet+=($!)
    pids+=($!)
  done
  local runs_done="SELECT count(*) FROM (SELECT tick FROM scan_leases GROUP BY tick HAVING sum(done) = $scopes) t"
  until [ "$(sql "$name" "$runs_done" 2>/dev/null || echo 0)" -ge 1 ]; do sleep 1; done
  local size1; size1=$(sql "$name" "SELECT pg_database_size(current_database())")
  until [ "$(sql "$name" "$runs_done")" -ge 2 ]; do sleep 1; done
  local size2; size2=$(sql "$name" "SELECT pg_database_size(current_database())")
  local rss=()
  for pid in "${fleet[@]}"; do rss+=("$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")"); done
  for pid in "${fleet[@]}"; do kill -TERM "$pid"; done
  for pid in "${fleet[@]}"; do wait "$pid" 2>/dev/null || true; done
  sql "$name" "SELECT scope, started_at, finished_at FROM scans ORDER BY id" >"$work/$name.scans"
  curl -s "$proxy/_counts" >"$work/$name.counts"
  python3 - "$work/$name.scans" "$work/$name.counts" "$scopes" "$replicas" "$size1" "$size2" "${rss[*]}" <<'PY'
import json, statistics, sys
from datetime import datetime
rows = [l.split("|") for l in open(sys.argv[1]).read().split("\n") if l]
counts, scopes, replicas = json.load(open(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
size1, size2, rss = int(sys.argv[5]), int(sys.argv[6]), [int(k) for k in sys.argv[7].split()]
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
first = rows[:scopes]
wall = max(t(r[2]) for r in first) - min(t(r[1]) for r in first)
per_scope = sorted(t(r[2]) - t(r[1]) for r in first)
runs = len(rows) / scopes
calls = {}
for scope, actions in counts.items():
    if scope.startswith("123456789012/"):
        continue
    for action, n in actions.items():
        calls.setdefault(action, set()).add(n / runs)
print(json.dumps({
    "replicas": replicas, "scopes": scopes, "run_wall_s": round(wall, 1),
    "scope_median_s": round(statistics.median(per_scope), 2), "scope_max_s": round(per_scope[-1], 2),
    "calls_per_scope_per_run": {a: sorted(v) for a, v in sorted(calls.items())},
    "peak_rss_mib": [round(k / 1024, 1) for k in rss],
    "pg_growth_unchanged_run_bytes": size2 - size1, "stored_scans": len(rows),
}))
PY
}

echo "== $accounts accounts, 1 replica"; run_fleet one "$work/org.tfstate" "$work/accounts.toml" 1
echo "== $accounts accounts, 3 replicas"; run_fleet three "$work/org.tfstate" "$work/accounts.toml" 3
echo "== $small accounts, 1 replica"; run_fleet small "$work/small.tfstate" "$work/accounts-small.toml" 1
