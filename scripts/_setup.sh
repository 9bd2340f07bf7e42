# Shared set-up for scripts/demo, scripts/test and scripts/bench (sourced, not run).
# Installs what is missing, never more: Debian packages, then a venv with the project.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BROADCASTER_VENV:-$ROOT/.venv}"

need_debs=()
command -v ffmpeg >/dev/null 2>&1 || need_debs+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || need_debs+=(espeak-ng)
# a virtual screen, for the test of the TV's fullscreen window output
command -v Xvfb >/dev/null 2>&1 || need_debs+=(xvfb)
# a real browser for the console's and the public pages' tests (driven by Playwright, never downloaded by it)
[ -x /usr/bin/chromium ] || need_debs+=(chromium)
command -v mosquitto >/dev/null 2>&1 && [ -x "$(command -v mosquitto)" ] || {
    [ -x /usr/sbin/mosquitto ] || need_debs+=(mosquitto)
}
if [ ${#need_debs[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${need_debs[*]}" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >&2
fi
# mosquitto lives in /usr/sbin, which is not always on a user's PATH
export PATH="$PATH:/usr/sbin:/sbin"

stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "setup: preparing Python environment in $VENV" >&2
    python3 -m venv "$VENV" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q -e "$ROOT[central,tv,test,bench]" >&2
    touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
