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
  . scripts/postgres-scratch.sh
  start_postgres
  trap stop_postgres EXIT
  export DRIFTD_BENCH_DATABASE_URL="${pg_url}postgres"
fi
cargo bench --profile dev -p driftd-bench --bench store_growth -- "${1:-1000}" "${2:-1000}" "${3:-10}"
