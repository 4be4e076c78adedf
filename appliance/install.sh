#!/bin/sh
# Install the all-in-one ovtui appliance on Debian 12 (see appliance/install.py --help):
#   sudo appliance/install.sh            install or bring up to date (idempotent)
#   sudo appliance/install.sh --start    ... and (re)start the engine
#   sudo appliance/install.sh --uninstall [--purge]
# Non-interactive: the Ansible role ovtui.ovtui.appliance runs this same script (--json for a
# machine-readable report, --check to say what would change and change nothing). It needs
# Debian's python3 (with venv) and the build dependencies of libvirt-python.
set -eu
here=$(dirname "$0")
case " $* " in *" --root"*) OVTUI_INSTALL_NO_APT=1 ;; esac  # the target's packages are its own
case " $* " in *" --uninstall "*) OVTUI_INSTALL_NO_APT=1 ;; esac
if [ -z "${OVTUI_INSTALL_NO_APT:-}" ] && [ "$(id -u)" = 0 ]; then
  # Debian packages the appliance needs; a policy-rc.d guard keeps apt from starting daemons
  # (the installer starts only ovtui, and only with --start).
  pkgs="python3 python3-venv python3-dev gcc pkg-config libvirt-dev logrotate openssh-server"
  missing=""
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  # install.py reports them (in --json too); apt's own output goes to stderr, not into the JSON.
  export OVTUI_INSTALL_APT_MISSING="$missing"
  case " $* " in *" --check "*) missing="" ;; esac  # --check: name them, install nothing
  if [ -n "$missing" ]; then
    guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      guard=1; printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    fi
    rc=0
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
      --no-install-recommends $missing >&2 || rc=$?
    [ -z "$guard" ] || rm -f /usr/sbin/policy-rc.d
    [ "$rc" -eq 0 ] || exit "$rc"
  fi
fi
exec python3 "$here/install.py" "$@"
