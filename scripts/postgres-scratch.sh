# Sourced by the benchmarks: `start_postgres` starts a throwaway PostgreSQL cluster
# (Debian's postgresql, scripts/setup-postgres.sh; as the `postgres` user when run as
# root) on a free port on 127.0.0.1, removed on exit, and sets:
#   pg_bin   the server's binaries
#   pg_port  its port
#   pg_url   postgres://driftd@127.0.0.1:PORT/  (append a database name)
start_postgres() {
  pg_bin="$(scripts/setup-postgres.sh)"
  pg_work="$(mktemp -d)"
  local as_server=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$pg_work"
    as_server=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  fi
  pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${as_server[@]}" "$pg_bin/initdb" --auth=trust --username=driftd --no-sync -D "$pg_work/data" >/dev/null
  "${as_server[@]}" "$pg_bin/postgres" -D "$pg_work/data" -h 127.0.0.1 -p "$pg_port" -k "$pg_work" >"$pg_work/log" 2>&1 &
  pg_server=$!
  until "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; do sleep 0.2; done
  pg_url="postgres://driftd@127.0.0.1:$pg_port/"
}

stop_postgres() {
  kill -INT "$pg_server" 2>/dev/null || true
  wait "$pg_server" 2>/dev/null || true
  rm -rf "$pg_work"
}
