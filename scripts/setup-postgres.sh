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
as_root=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "PostgreSQL is missing: install Debian's postgresql package as root" >&2; exit 1; }
  as_root=(sudo -n)
fi
# The package would start its own cluster through its init script: a policy-rc.d
# that says 101 stops that, as in Docker's Debian images. One already there stays.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# scripts/setup-postgres.sh: no service starts while it installs\nexit 101\n' |
    "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod 755 "$policy"
  trap '"${as_root[@]}" rm -f "$policy"' EXIT
fi
apt_options=(-q -o DPkg::Lock::Timeout=300)
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" update >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get "${apt_options[@]}" install -y --no-install-recommends postgresql >&2
bin="$(find_bin)"
echo "PostgreSQL installed: $("$bin/postgres" --version)" >&2
echo "$bin"
