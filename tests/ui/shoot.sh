#!/usr/bin/env bash
# Screenshots of the preview in headless Chromium, light and dark, and a check
# that no scenario trips the CSP or calls alert().
#   tests/ui/shoot.sh [out-dir] [scenario-query ...]
# Needs chromium (Debian: apt-get install chromium) and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/tmp/presently-ui-shots}
shift || true
mkdir -p "$out"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$here/serve.py" "$port" -q >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/ui/" >/dev/null && break; sleep 0.1; done

if [ $# -eq 0 ]; then
  set -- "signin:s=signin" "revoked:s=revoked" "browser:s=browser" "browser-address:s=signin&then=address" \
    "browser-none:s=signin&browser=none&then=signin" "code:s=code" "copied:s=code&then=copy" "declined:s=declined" \
    "expired:s=expired" "consent:s=consent" "blocked:s=blocked" "browser-failed:s=browser-failed" \
    "signin-error:s=error" "signin-settings:s=signin&then=settings" \
    "roster:s=roster" "empty:s=empty" "filter-empty:then=filter" "search:then=search" "report:then=report" \
    "team:then=team" "menu:then=menu" "confirm:then=confirm" "pause:then=pause" "settings:then=settings" \
    "offline:status=offline" "throttled:status=throttled" "signed-out-banner:status=signed_out" \
    "error-banner:status=error" "starting:status=starting" "notray-paused:tray=0&paused=1" "usgov:cloud=usgov" "config-problem:config=bad" "calendar:calendar=on" "calendar-permission:calendar=permission" "calendar-problem:calendar=problem" "my-status:then=mystatus" "settings-mqtt:mqtt=on&then=settings"
fi

profile=$(mktemp -d)
chrome() {
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$profile" --window-size=420,640 \
    --virtual-time-budget=2500 "$@" 2>/dev/null
}
bad=0
for item in "$@"; do
  name=${item%%:*}
  query=${item#*:}
  for theme in light dark; do
    url="http://127.0.0.1:$port/ui/?$query&theme=$theme"
    chrome --screenshot="$out/$name-$theme.png" "$url" >/dev/null
  done
  dom=$(chrome --dump-dom "http://127.0.0.1:$port/ui/?$query")
  if ! grep -q 'data-csp-violations="0"' <<<"$dom" || ! grep -q 'data-alerts="0"' <<<"$dom"; then
    echo "FAIL $name: CSP violation or alert()" >&2
    bad=1
  fi
done
rm -rf "$profile"
echo "screenshots in $out"
exit $bad
