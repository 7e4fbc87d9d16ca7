# Sourced by the setup scripts: apt_install PACKAGE installs one of Debian's
# packages as root (through sudo -n when the user is not), without starting the
# service it ships: a policy-rc.d that says 101 stops its init script, as in
# Docker's Debian images (one already there is left alone). apt waits for another
# apt instead of failing.
apt_install() {
  local package=$1 as_root=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "install Debian's $package package as root" >&2; return 1; }
    as_root=(sudo -n)
  fi
  local policy=/usr/sbin/policy-rc.d placed=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# scripts/apt-install.sh: no service starts while it installs\nexit 101\n' |
      "${as_root[@]}" tee "$policy" >/dev/null
    "${as_root[@]}" chmod 755 "$policy"
    placed=1
  fi
  local apt_options=(-q -o DPkg::Lock::Timeout=300) status=0
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" update >&2 &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get "${apt_options[@]}" install -y --no-install-recommends "$package" >&2 || status=$?
  [ -z "$placed" ] || "${as_root[@]}" rm -f "$policy"
  return "$status"
}
