#!/usr/bin/env bash
# Runs a command inside a private desktop session, as CI has none: a throwaway
# HOME and XDG dirs, a D-Bus session bus, an unlocked GNOME keyring and an Xvfb
# display. Everything it starts stops when the command ends.
#
#   tests/with-session.sh cargo test --workspace
set -euo pipefail

if [ -z "${PRESENTLY_IN_SESSION:-}" ]; then
  # Cargo and rustup live under the real HOME; keep finding them.
  export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
  export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  scratch=$(mktemp -d /tmp/presently-session.XXXXXX)
  trap 'rm -rf "$scratch"' EXIT
  export HOME="$scratch/home"
  export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share" \
         XDG_CACHE_HOME="$HOME/.cache" XDG_STATE_HOME="$HOME/.local/state" \
         XDG_RUNTIME_DIR="$scratch/runtime"
  mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
  export PRESENTLY_IN_SESSION=1 PRESENTLY_TEST_HOME="$HOME"
  # Not exec: the trap above must run when the session ends.
  dbus-run-session -- "$0" "$@"
  exit $?
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# The keyring: a "login" collection with a password, so that what it stores on
# disk is encrypted (a blank password would store secrets in clear).
eval "$(printf 'presently-test' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
[ -n "${GNOME_KEYRING_PID:-}" ] && pids+=("$GNOME_KEYRING_PID")

# A display for the window tests. -displayfd picks a free display number.
exec 9< <(Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp 2>/dev/null)
read -r -t 30 display <&9 || { echo "Xvfb did not start" >&2; exit 1; }
pids+=("$!")
export DISPLAY=":$display"
export WEBKIT_DISABLE_COMPOSITING_MODE=1

"$@"
