#!/usr/bin/env bash
# Installs the tools the tests check the project's files with, pinned:
#   - into the project's .venv/ (scripts/tools/requirements.txt): hadolint (the
#     Dockerfile linter), standardwebhooks (the Standard Webhooks reference library)
#     and botocore (AWS's service models, to validate deploy/ecs-*.json);
#   - promtool, from Debian's `prometheus` package, unless one is on PATH already.
# Idempotent: does nothing when all of it is there. Safe to call from several test
# processes at once (serialised by the lock scripts/setup-local-aws.sh takes too).
# apt-get runs as root (through sudo -n when the user is not), as on the
# developers' machines and CI (Debian bookworm).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
requirements=("$root/scripts/localaws/requirements.txt" "$root/scripts/tools/requirements.txt")
stamp="$venv/.driftd-tools"

# The venv and moto (with the boto3/botocore it brings) first, under that script's
# own lock and stamp: taking the lock before calling it would deadlock.
"$root/scripts/setup-local-aws.sh"

exec 9>"$root/.venv.lock"
flock 9

if ! command -v promtool >/dev/null; then
  echo "installing promtool (Debian's prometheus package, one time)..." >&2
  # Its init script would start the Prometheus server (on :9090, driftd's own
  # default port): apt_install starts no service.
  # shellcheck source=apt-install.sh
  . "$root/scripts/apt-install.sh"
  apt_install prometheus
  echo "promtool installed: $(promtool --version 2>&1 | head -n 1)" >&2
fi

if [ -x "$venv/bin/hadolint" ] && [ -f "$stamp" ] && cat "${requirements[@]}" | cmp -s - "$stamp"; then
  exit 0
fi
echo "installing the pinned tools into $venv (one time)..." >&2
# Both files in one resolution: the tools' pins and moto's requirements agree.
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  -r "${requirements[0]}" -r "${requirements[1]}" >&2
cat "${requirements[@]}" >"$stamp"
echo "tools installed: $("$venv/bin/hadolint" --version), $("$venv/bin/python" -c \
  'import botocore, standardwebhooks.webhooks; from importlib.metadata import version; print("botocore", botocore.__version__, "standardwebhooks", version("standardwebhooks"))')" >&2
