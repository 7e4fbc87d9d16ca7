#!/usr/bin/env bash
# Installs the local AWS endpoint (moto server, pinned) into a project-local virtual
# environment, .venv/. Idempotent: does nothing when the pinned version is there.
# Safe to call from several test processes at once (serialised by a lock).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
requirements="$root/scripts/localaws/requirements.txt"
stamp="$venv/.driftd-requirements"

exec 9>"$root/.venv.lock"
flock 9

if [ -x "$venv/bin/moto_server" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi
echo "setting up the local AWS endpoint in $venv (one time)..." >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
cp "$requirements" "$stamp"
echo "local AWS endpoint installed: $("$venv/bin/python" -c 'import moto; print("moto", moto.__version__)')" >&2
