# Shared set-up for scripts/demo, scripts/test and scripts/bench (sourced, not run).
# Installs what is missing, never more: Debian packages, then a venv with the project.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BROADCASTER_VENV:-$ROOT/.venv}"
# The interpreter the venv is made from: python3 (Debian 12: 3.11, Debian 13: 3.13), or another one
# named by BROADCASTER_PYTHON (e.g. python3.12). Supported: 3.11 to 3.13 (README, "Python versions").
PY="${BROADCASTER_PYTHON:-python3}"
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "setup: cannot find the Python interpreter '$PY' (BROADCASTER_PYTHON); install python3 or name another one" >&2
    exit 1
fi
pyver="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "$pyver" in
    3.11|3.12|3.13) ;;
    3.[0-9]|3.10) echo "setup: Python $pyver is too old: broadcaster needs 3.11 to 3.13 (set BROADCASTER_PYTHON)" >&2; exit 1 ;;
    *) echo "setup: warning: Python $pyver is newer than the versions tested (3.11 to 3.13)" >&2 ;;
esac

need_debs=()
command -v ffmpeg >/dev/null 2>&1 || need_debs+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || need_debs+=(espeak-ng)
# the loudspeaker outputs' other players, run by their contract test on ALSA's null device
command -v aplay >/dev/null 2>&1 || need_debs+=(alsa-utils)
command -v mpg123 >/dev/null 2>&1 || need_debs+=(mpg123)
# a virtual screen, for the test of the TV's fullscreen window output
command -v Xvfb >/dev/null 2>&1 || need_debs+=(xvfb)
# a real browser for the console's and the public pages' tests (driven by Playwright, never downloaded by it)
[ -x /usr/bin/chromium ] || need_debs+=(chromium)
command -v mosquitto >/dev/null 2>&1 && [ -x "$(command -v mosquitto)" ] || {
    [ -x /usr/sbin/mosquitto ] || need_debs+=(mosquitto)
}
# Debian ships venv/ensurepip apart from the interpreter
"$PY" -c 'import ensurepip' >/dev/null 2>&1 || need_debs+=("python${pyver}-venv")
if [ ${#need_debs[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${need_debs[*]}" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >&2
fi
# mosquitto lives in /usr/sbin, which is not always on a user's PATH
export PATH="$PATH:/usr/sbin:/sbin"

stamp="$VENV/.installed-$pyver-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "setup: preparing Python $pyver environment in $VENV" >&2
    clear=()
    # a venv made from another interpreter version is made anew, not mixed
    if [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$pyver" ]; then
        clear=(--clear)
    fi
    "$PY" -m venv "${clear[@]}" "$VENV" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q -e "$ROOT[central,tv,test,bench]" >&2
    touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
