#!/usr/bin/env bash
# Set up everything `make` targets need: the Python venv from the hashed lock file, and the
# Debian / npm tools named by the arguments (only when missing). Safe to run repeatedly.
#   scripts/bootstrap.sh python            venv + locked Python packages
#   scripts/bootstrap.sh graphviz          Debian graphviz (dot) for diagrams
#   scripts/bootstrap.sh chromium          Debian chromium for browser tests
#   scripts/bootstrap.sh node              the pinned npm tools of tools/package-lock.json: Spectral,
#                                          openapi-typescript and tsc (`spectral` is the same component)
#   scripts/bootstrap.sh postgres          Debian PostgreSQL server binaries
#   scripts/bootstrap.sh prometheus        Debian Prometheus (promtool) for the SLO rules
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP=$VENV/.lock-stamp

need_root() {
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
    echo "bootstrap: $1 is missing; install it with: apt-get install $2" >&2
    exit 1
  fi
}

quiet_pip() {  # drop pip's notes about this machine's unused local index folders; keep real errors
  grep -v "is ignored: it is neither a file nor a directory" || true
}

apt_install() {  # apt_install <command-to-test> <debian packages...>
  local probe=$1; shift
  if command -v "$probe" >/dev/null 2>&1 || [ -x "$probe" ]; then return 0; fi
  need_root "$probe" "$*"
  local SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
  echo "bootstrap: installing Debian packages: $*"
  if [ ! -f /tmp/.futurebank-apt-updated ]; then
    $SUDO apt-get update -qq && touch /tmp/.futurebank-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

for what in "$@"; do
  case "$what" in
    python)
      command -v python3 >/dev/null || { echo "bootstrap: python3 (>= 3.11) is missing: apt-get install python3 python3-venv" >&2; exit 1; }
      python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "bootstrap: python3 >= 3.11 required" >&2; exit 1; }
      if [ ! -x $VENV/bin/python ]; then python3 -m venv $VENV; fi
      if [ ! -f $STAMP ] || ! cmp -s requirements.lock $STAMP; then
        echo "bootstrap: installing Python packages from requirements.lock"
        $VENV/bin/pip install -q --require-hashes --no-deps -r requirements.lock 2>&1 | quiet_pip
        $VENV/bin/pip install -q --no-deps --no-build-isolation -e . 2>&1 | quiet_pip
        cp requirements.lock $STAMP
      fi
      ;;
    graphviz) apt_install dot graphviz ;;
    chromium) apt_install /usr/bin/chromium chromium ;;
    postgres) apt_install /usr/lib/postgresql/15/bin/postgres postgresql ;;
    prometheus) apt_install promtool prometheus ;;
    spectral|node)
      command -v npm >/dev/null || { echo "bootstrap: npm is missing: apt-get install nodejs npm" >&2; exit 1; }
      missing=""
      for tool in spectral openapi-typescript tsc; do
        [ -x "tools/node_modules/.bin/$tool" ] || missing="$missing $tool"
      done
      if [ -n "$missing" ]; then
        echo "bootstrap: installing the npm tools (missing:$missing) from tools/package-lock.json"
        (cd tools && npm ci --silent --no-audit --no-fund >/dev/null)
      fi
      ;;
    *) echo "bootstrap: unknown component $what" >&2; exit 2 ;;
  esac
done
