#!/usr/bin/env bash
# Installs the PostgreSQL server the store tests run against: Debian's `postgresql`
# package (bookworm: PostgreSQL 15), one time. The tests start their own server
# from its binaries (initdb, postgres) in a temporary directory on a free port, as
# an unprivileged user; the package's own cluster is never started here.
# Idempotent; safe to call from several test processes at once (a lock).
# apt-get runs as root (through sudo -n when the user is not).
# Prints the directory of the server's binaries.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

find_bin() {
  local initdb
  initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$initdb" ] && dirname "$initdb"
}

if bin="$(find_bin)"; then
  echo "$bin"
  exit 0
fi

exec 9>"$root/.postgres.lock"
flock 9
if bin="$(find_bin)"; then
  echo "$bin"
  exit 0
fi
echo "installing PostgreSQL (Debian's postgresql package, one time)..." >&2
# The package's own cluster is not started (apt_install starts no service).
# shellcheck source=apt-install.sh
. "$root/scripts/apt-install.sh"
apt_install postgresql
bin="$(find_bin)"
echo "PostgreSQL installed: $("$bin/postgres" --version)" >&2
echo "$bin"
