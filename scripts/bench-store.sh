#!/usr/bin/env bash
# Database growth (issue 5): 1,000 unchanged scans of 10,000 rules (1,000 groups x
# 10 rules) must add < 1 MB in total; one changed rule must add O(that change).
#
# Sizes are read from the database file after a WAL checkpoint and do not depend on
# the build profile, so this runs in the dev profile (no 30-minute release build of
# the AWS SDK); the store times it prints are therefore pessimistic.
#
# With --postgres first, the same on a throwaway PostgreSQL cluster (Debian's
# postgresql, scripts/setup-postgres.sh; as the `postgres` user when run as root),
# sizes from pg_database_size: PostgreSQL's growth per unchanged scan.
#
# Usage: scripts/bench-store.sh [--postgres] [SCANS] [GROUPS] [RULES_PER_GROUP]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --postgres ]; then
  shift
  bin="$(scripts/setup-postgres.sh)"
  work="$(mktemp -d)"
  as_server=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$work"
    as_server=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  fi
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${as_server[@]}" "$bin/initdb" --auth=trust --username=driftd --no-sync -D "$work/data" >/dev/null
  "${as_server[@]}" "$bin/postgres" -D "$work/data" -h 127.0.0.1 -p "$port" -k "$work" >"$work/log" 2>&1 &
  server=$!
  trap 'kill -INT "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; do sleep 0.2; done
  export DRIFTD_BENCH_DATABASE_URL="postgres://driftd@127.0.0.1:$port/postgres"
fi
cargo bench --profile dev -p driftd-bench --bench store_growth -- "${1:-1000}" "${2:-1000}" "${3:-10}"
