#!/usr/bin/env python3
"""Drives the preview in real WebKitGTK (the engine of the Linux app) with
WebKitWebDriver and MiniBrowser, using the keyboard as a person would, and
saves screenshots. Needs a display (run it under `xvfb-run -a`), python3,
webkit2gtk-driver. Not shipped.

    xvfb-run -a python3 tests/ui/webkit_check.py [out-dir]
"""

import base64
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
OUT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/presently-webkit")
MINIBROWSER = next(
    (p for p in ["/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser", "/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser"] if os.path.exists(p)),
    None,
)
KEYS = {"Tab": "\ue004", "Enter": "\ue007", "Escape": "\ue00c", "Down": "\ue015", "Up": "\ue013",
        "Right": "\ue014", "Left": "\ue012", "Shift": "\ue008", "Space": "\ue00d", "Home": "\ue011", "End": "\ue010"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Driver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.sid = None

    def call(self, method, path, body=None):
        url = self.base + (f"/session/{self.sid}" if self.sid and not path.startswith("/session") else "") + path
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path}: {e.read().decode()}") from None

    def start(self):
        caps = {"capabilities": {"alwaysMatch": {"webkitgtk:browserOptions": {"binary": MINIBROWSER, "args": ["--automation"]}}}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]
        self.call("POST", "/window/rect", {"width": 420, "height": 640})

    def js(self, script, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def go(self, url):
        self.call("POST", "/url", {"url": url})
        self.wait("return document.getElementById('boot').hidden", "app started")

    def keys(self, *names):
        actions = []
        for n in names:
            k = KEYS.get(n, n)
            actions += [{"type": "keyDown", "value": k}, {"type": "keyUp", "value": k}]
        self.call("POST", "/actions", {"actions": [{"type": "key", "id": "kb", "actions": actions}]})
        self.call("DELETE", "/actions")
        time.sleep(0.15)

    def shift_tab(self):
        self.call("POST", "/actions", {"actions": [{"type": "key", "id": "kb", "actions": [
            {"type": "keyDown", "value": KEYS["Shift"]}, {"type": "keyDown", "value": KEYS["Tab"]},
            {"type": "keyUp", "value": KEYS["Tab"]}, {"type": "keyUp", "value": KEYS["Shift"]}]}]})
        self.call("DELETE", "/actions")
        time.sleep(0.15)

    def type(self, text):
        self.keys(*list(text))

    def wait(self, script, what, timeout=5):
        end = time.time() + timeout
        while time.time() < end:
            if self.js(script):
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for: {what}")

    def active(self):
        return self.js(
            "const a = document.activeElement; const row = a.closest('li.row');"
            "return [a.id || a.dataset.action || a.className, a.getAttribute('aria-label') || a.textContent.trim(), row ? row.dataset.id : null];"
        )

    def shot(self, name):
        png = base64.b64decode(self.call("GET", "/screenshot"))
        (OUT / f"{name}.png").write_bytes(png)

    def quit(self):
        if self.sid:
            try:
                self.call("DELETE", f"/session/{self.sid}")
            except Exception:
                pass


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        check.failed += 1


check.failed = 0


def main():
    if not MINIBROWSER:
        sys.exit("MiniBrowser (libwebkit2gtk-4.1) not found")
    OUT.mkdir(parents=True, exist_ok=True)
    web_port, wd_port = free_port(), free_port()
    server = subprocess.Popen([sys.executable, str(HERE / "serve.py"), str(web_port), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wd = subprocess.Popen(["WebKitWebDriver", f"--port={wd_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = Driver(wd_port)
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{web_port}/ui/", timeout=1)
                urllib.request.urlopen(f"http://127.0.0.1:{wd_port}/status", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        d.start()
        ui = f"http://127.0.0.1:{web_port}/ui/"
        run(d, ui)
    finally:
        d.quit()
        wd.terminate()
        server.terminate()
    print(f"screenshots in {OUT}")
    sys.exit(1 if check.failed else 0)


def run(d, ui):
    # -------------------------------------------------------------- roster
    d.go(ui + "?s=roster")
    d.shot("roster")
    diego = "00000000-0000-4000-8000-000000000005"
    text = d.js(f"return document.querySelector('li.row[data-id=\"{diego}\"] .status-message-text').textContent")
    check(text == "<img src=x onerror=alert(1)>", "a status message of <img src=x onerror=alert(1)> is literal text")
    check(d.js("return document.querySelectorAll('.roster-list img:not([src^=\"data:image/\"])').length") == 0, "no <img> came from a status message")
    check(d.js("return document.documentElement.dataset.alerts") == "0", "alert() never ran")
    names = d.js("return [...document.querySelectorAll('#roster-list .name')].map(n => n.textContent)")
    check(names[:2] == ["Megan Bowen", "Adele Vance"], f"favorites first: {names[:3]}")
    check(names[-1] == "Nestor Wilke" or names[-1] == "Isaiah Langer", f"offline and unknown last: {names[-2:]}")
    check(d.js("return document.querySelector('.dot').getAttribute('aria-label')") is not None, "status dots have a text alternative")

    # Keyboard: filter -> Add -> first row's buttons, arrows between rows.
    d.js("document.getElementById('filter').focus()")
    d.keys("Tab")
    check(d.active()[0] == "add-button", f"Tab from the filter reaches Add people: {d.active()}")
    d.keys("Tab")
    first = d.active()
    check(first[0] == "chat" and first[2] is not None, f"next Tab reaches the first row's Chat: {first}")
    d.keys("Down")
    second = d.active()
    check(second[0] == "chat" and second[2] != first[2], f"ArrowDown moves to the next person: {second}")
    d.keys("Right", "Right", "Right")
    check(d.active()[0] == "favorite", f"ArrowRight moves along the row: {d.active()}")
    pressed = d.js("return document.activeElement.getAttribute('aria-pressed')")
    d.keys("Space")
    time.sleep(0.4)
    after = d.js("return document.activeElement.getAttribute('aria-pressed')")
    check(pressed == "true" and after == "false", f"Space toggles the star and focus stays on it ({pressed} -> {after}, {d.active()})")
    d.keys("Enter")
    time.sleep(0.4)
    check(d.js("return document.activeElement.getAttribute('aria-pressed')") == "true", "Enter toggles it back")

    # Row menu: open with Enter, move with arrows, close with Escape.
    d.keys("Right")
    check(d.active()[0] == "more", "the More button is last in the row")
    d.keys("Enter")
    time.sleep(0.2)
    check(d.js("return !document.getElementById('menu').hidden") is True, "Enter opens the row menu")
    check("menu-item" in d.active()[0], f"focus is in the menu: {d.active()}")
    d.keys("Down")
    label = d.active()[1]
    check("every status change" in label, f"ArrowDown moves in the menu: {label}")
    d.shot("row-menu")
    d.keys("Escape")
    check(d.js("return document.getElementById('menu').hidden") is True, "Escape closes the menu")
    check(d.active()[0] == "more", f"focus returns to the More button: {d.active()}")

    # Add people dialog: focus inside, Tab stays inside, Escape returns focus.
    d.js("document.getElementById('add-button').focus()")
    d.keys("Enter")
    time.sleep(0.2)
    check(d.js("return document.getElementById('add-dialog').open") is True, "Enter opens Add people")
    check(d.active()[0] == "people-search", f"focus starts in the search box: {d.active()}")
    d.type("meg")
    d.wait("return document.querySelectorAll('#search-results li').length > 0", "search results")
    inside = True
    for _ in range(12):
        d.keys("Tab")
        inside = inside and d.js("return document.getElementById('add-dialog').contains(document.activeElement)")
    check(inside, "Tab keeps focus inside the dialog")
    d.shift_tab()
    check(d.js("return document.getElementById('add-dialog').contains(document.activeElement)"), "Shift+Tab too")
    d.shot("add-people")
    d.keys("Escape")
    time.sleep(0.2)
    check(d.js("return document.getElementById('add-dialog').open") is False, "Escape closes the dialog")
    check(d.active()[0] == "add-button", f"focus returns to Add people: {d.active()}")

    # Import with the keyboard and see the report.
    d.keys("Enter")
    time.sleep(0.2)
    d.js("document.querySelector('[data-import=\"reports\"]').focus()")
    d.keys("Enter")
    d.wait("return document.getElementById('add-report').textContent.startsWith('Added')", "import report")
    check("Allan Deyoung" in d.js("return document.getElementById('add-report').textContent"), "the report names who was added")
    d.keys("Escape")

    # Settings: a bad value is refused with a message, nothing is lost.
    d.js("document.getElementById('settings-button').focus()")
    d.keys("Enter")
    time.sleep(0.3)
    check(d.js("return document.getElementById('settings-dialog').open") is True, "Settings opens")
    d.js("const i = document.getElementById('set-interval'); i.focus(); i.select();")
    d.type("2")
    d.keys("Enter")
    time.sleep(0.3)
    err = d.js("return document.getElementById('settings-error').textContent")
    check("5 seconds" in err and d.js("return document.getElementById('settings-dialog').open"), f"an interval under 5 s is refused: {err}")
    d.shot("settings-error")
    d.keys("Escape")
    time.sleep(0.2)
    check(d.active()[0] == "settings-button", f"focus returns to Settings: {d.active()}")

    # A presence change arrives as an event and re-sorts the list.
    d.js("mock.change('Nestor', 'Available', 'Available')")
    time.sleep(0.3)
    names = d.js("return [...document.querySelectorAll('#roster-list .name')].map(n => n.textContent)")
    check(names.index("Nestor Wilke") < names.index("Alex Wilber"), "a teammate who becomes available moves up")
    words = d.js("return document.querySelector('li.row[data-id=\"00000000-0000-4000-8000-000000000009\"] .status-words').textContent")
    check(words == "Available", f"and reads Available: {words}")

    # Banner from a status event.
    d.js("mock.status('offline')")
    time.sleep(1.2)
    banner = d.js("return document.getElementById('banner').textContent")
    check(banner.startswith("Offline — retrying in 1") or banner.startswith("Offline — retrying in 2"), f"offline banner counts down: {banner}")
    d.shot("banner-offline")

    # -------------------------------------------------------------- sign-in
    d.go(ui + "?s=signin")
    d.shot("signin")
    d.keys("Tab")
    check(d.active()[0] == "signin-button", f"Tab reaches Sign in first: {d.active()}")
    d.keys("Tab")
    check(d.active()[0] == "signin-code-button", f"then Use a code instead: {d.active()}")
    d.shift_tab()
    d.keys("Enter")
    d.wait("return document.activeElement.id === 'reopen-browser'", "the browser sign-in, focus on Open the page again")
    check(d.js("return document.getElementById('browser-url').textContent").startswith("https://login.microsoftonline.com/"), "the browser sign-in has Microsoft's address")
    check(d.js("return document.getElementById('browser-url-box').getClientRects().length") == 0, "the address waits behind a toggle while a browser has it")
    d.shot("browser")
    d.shift_tab()
    check(d.active()[0] == "show-browser-url", f"Shift+Tab reaches Show the address: {d.active()}")
    d.keys("Enter")
    check(d.js("return document.getElementById('browser-url-box').getClientRects().length") > 0, "Enter shows the address")
    d.keys("Tab")
    check(d.active()[0] == "copy-browser-url", f"then Copy address: {d.active()}")
    d.shot("browser-address")
    d.keys("Tab", "Tab")
    check(d.active()[0] == "browser-use-code", f"then Open the page again, Use a code instead: {d.active()}")
    d.keys("Enter")
    d.wait("return document.getElementById('user-code').textContent === 'HX7QK2LM'", "the code")
    check(d.active()[0] == "copy-code", f"focus moves to Copy: {d.active()}")
    d.keys("Enter")
    time.sleep(0.3)
    copied = d.js("return [document.getElementById('copy-label').textContent, document.getElementById('signin-error').textContent]")
    check(copied[0] == "Copied" or "selected" in copied[1], f"Copy copies, or selects the code and says so: {copied}")
    countdown = d.js("return document.getElementById('code-countdown').textContent")
    check(countdown.startswith("Code expires in 14:"), f"the code's life counts down: {countdown}")
    d.shot("code")
    d.js("mock.approve()")
    d.wait("return !document.getElementById('roster-screen').hidden", "the roster after sign-in")
    check(True, "signing in shows the roster")

    for name in ["declined", "expired", "consent", "blocked", "browser-failed"]:
        d.go(ui + f"?s={name}")
        check(d.js("return document.getElementById('signin-button').textContent") == "Try again", f"{name}: Try again")
        d.shot(f"signin-{name}")
    d.js("document.getElementById('notice-use-code').focus()")
    d.keys("Enter")
    d.wait("return document.getElementById('user-code').textContent === 'HX7QK2LM'", "the code from the notice's Use a code instead")
    check(True, "browser-failed: the notice's Use a code instead gets a code")

    # No browser: the address is the way in, shown as text whatever it holds.
    d.go(ui + "?s=signin&browser=none")
    d.js("document.getElementById('signin-button').focus()")
    d.keys("Enter")
    d.wait("return document.activeElement.id === 'copy-browser-url'", "focus on Copy address")
    check(d.js("return document.getElementById('browser-url-box').getClientRects().length") > 0, "without a browser the address shows")
    d.shot("browser-none")
    # Another browser sign-in (started from the tray, say): whether a browser
    # opened for it is not known, so its address waits behind the toggle.
    evil = 'https://login.example/authorize?x="><img src=x onerror=alert(1)>'
    d.js("mock.emit('sign-in-changed', {state: 'in_browser', message: null, account: null, code: null, browserUrl: arguments[0]})", evil)
    check(d.active()[0] == "reopen-browser", f"focus moves to Open the page again: {d.active()}")
    d.shift_tab()
    check(d.active()[0] == "show-browser-url", f"Shift+Tab reaches Show the address: {d.active()}")
    d.keys("Enter")
    check(d.js("return document.getElementById('browser-url').textContent") == evil, "an address with markup in it is literal text")
    check(d.js("return document.querySelectorAll('#signin-screen img').length") == 0, "no <img> came from the address")
    d.shot("browser-evil")
    d.keys("Tab", "Tab", "Tab", "Tab")
    check(d.active()[0] == "cancel-browser", f"Tab reaches Cancel: {d.active()}")
    d.keys("Enter")
    d.wait("return document.activeElement.id === 'signin-button'", "Cancel goes back to Sign in")
    check(d.js("return document.documentElement.dataset.alerts") == "0", "alert() never ran")

    d.go(ui + "?s=roster&status=signed_out&tray=0&paused=1")
    check("Signed out:" in d.js("return document.getElementById('banner').textContent"), "signed-out banner with the reason")
    check(d.js("return !document.getElementById('tray-note').hidden"), "the no-tray note shows")
    check(d.js("return document.getElementById('paused-text').textContent").startswith("Notifications paused until "), "the pause chip shows")
    d.shot("banner-signed-out")

    # A config file with a problem: named at the top, with a button to open it.
    d.go(ui + "?config=bad")
    check(d.js("return document.getElementById('config-problem').getClientRects().length") > 0, "a config problem shows at the top")
    check("line 7" in d.js("return document.getElementById('config-problem-where').textContent"), "with its line")
    d.js("mock.configProblem({file: 'config.toml', key: null, line: 2, message: arguments[0]})", "<img src=x onerror=alert(1)>")
    check(d.js("return document.querySelectorAll('#config-problem img').length") == 0, "its message is literal text")
    d.js("document.activeElement.blur()")
    d.keys("Tab")
    check(d.active()[0] == "open-config-file", f"Tab reaches Open config file first: {d.active()}")
    d.keys("Enter")
    d.wait("return mock.calls.some(([c]) => c === 'open_config_file')", "open_config_file")
    check(True, "Enter opens the config file")
    d.shot("config-problem")
    d.js("mock.configProblem(null)")
    check(d.js("return document.getElementById('config-problem').getClientRects().length") == 0, "a fixed config file clears it")

    # When they will be free: after the status, and a banner that offers to allow it.
    d.go(ui + "?calendar=on")
    row = "[...document.querySelectorAll('.row')].find((li) => li.querySelector('.name').textContent === arguments[0])"
    lee = d.js(f"return {row}.querySelector('.calendar-words').textContent", "Lee Gu")
    check(re.fullmatch(r"outside working hours \(\d\d:\d\d there\)", lee or "") is not None, f"a row says their time of day there: {lee}")
    line = d.js(f"const li = {row}; const a = li.querySelector('.status-words').getBoundingClientRect(); const b = li.querySelector('.calendar-words').getBoundingClientRect(); return [Math.abs(a.bottom - b.bottom) < 3, b.right <= li.getBoundingClientRect().right]", "Alex Wilber")
    check(line == [True, True], f"on the status line, inside the row: {line}")
    check(d.js("return document.querySelector('.calendar-words:empty').getClientRects().length") == 0, "nothing shows for a free calendar")
    check(d.js("return document.documentElement.dataset.errors") == "0", "no script errors")
    d.shot("calendar-rows")

    d.go(ui + "?calendar=permission")
    check("allow Presently to read their free/busy" in d.js("return document.getElementById('calendar-banner').textContent"), "the calendar banner offers to allow it")
    d.shot("calendar-permission")
    d.js("document.activeElement.blur()")
    d.keys("Tab")
    check(d.active()[0] == "calendar-allow", f"Tab reaches Allow first: {d.active()}")
    d.keys("Enter")
    d.wait("return !document.getElementById('signin-browser').hidden", "the sign-in in the browser")
    d.wait("return mock.calls.some(([c]) => c === 'allow_calendar')", "allow_calendar")
    check(True, "Enter on Allow signs in again in the browser")
    d.js("mock.approve()")
    d.wait("return !document.getElementById('roster-screen').hidden && document.querySelectorAll('.calendar-words:not(:empty)').length > 0", "the roster with calendars")
    check(d.js("return document.getElementById('calendar-banner').getClientRects().length") == 0, "once allowed, the banner goes")
    check(d.js("return document.documentElement.dataset.errors") == "0", "no script errors")

    d.go(ui + "?calendar=problem")
    check("503" in d.js("return document.getElementById('calendar-detail').textContent"), "a calendar problem in the engine's words")
    d.shot("calendar-problem")

    # Set your status: from your status in the header, with the keyboard; the
    # first time Microsoft asks for the permission in the browser.
    d.go(ui + "?mystatus=consent")
    d.js("document.getElementById('me-status-button').focus()")
    check(d.active()[1] == "Available, set your status", f"your status is a button named first for what it shows: {d.active()}")
    d.keys("Enter")
    time.sleep(0.3)
    check(d.js("return document.getElementById('my-status-dialog').open") is True, "Enter opens Set your status")
    check(d.active()[0] == "my-status-choice", f"focus starts on the status: {d.active()}")
    d.keys("Down", "Down")
    choice = d.js("return document.getElementById('my-status-choice').value")
    if choice != "busy":
        # Where the arrow keys open the list instead, choose as a script would.
        d.keys("Escape")
        d.js("const s = document.getElementById('my-status-choice'); s.value = 'busy'; s.dispatchEvent(new Event('change', {bubbles: true})); s.focus();")
    check(d.js("return document.getElementById('my-status-choice').value") == "busy", f"the arrow keys choose a status: {choice}")
    check(d.js("return document.getElementById('my-status-duration').disabled") is False, "how long, once a status is chosen")
    inside = True
    for _ in range(10):
        d.keys("Tab")
        inside = inside and d.js("return document.getElementById('my-status-dialog').contains(document.activeElement)")
    check(inside, "Tab keeps focus inside Set your status")
    d.js("const m = document.getElementById('my-message'); m.focus(); m.select();")
    d.type("In a <b>workshop</b>")
    d.shot("my-status")
    d.keys("Enter")
    d.wait("return !document.getElementById('my-status-consent-body').hidden", "the consent note")
    check("Allow Presently to set your status in the browser that opened" in d.js("return document.getElementById('my-status-consent-text').textContent"), "the dialog says to allow it in the browser")
    check(d.active()[0] == "my-status-cancel" and d.active()[1] == "Close", f"focus moves to Close: {d.active()}")
    check(d.js("return mock.calls.filter(([c]) => c === 'set_my_message').length") == 0, "the message waits for the permission")
    d.shot("my-status-consent")
    d.js("mock.approve()")
    d.wait("return !document.getElementById('my-status-dialog').open", "the dialog to close once through")
    d.wait("return document.getElementById('me-status-words').textContent === 'Busy'", "Busy in the header")
    check("In a <b>workshop</b>" in d.js("return document.getElementById('me-status').title"), "the message is set after, as text")
    check(d.active()[0] == "me-status-button", f"focus returns to your status: {d.active()}")
    check(d.js("return document.documentElement.dataset.errors") == "0", "no script errors")

    d.go(ui + "?mystatus=consent&browser=none")
    d.js("document.getElementById('me-status-button').click()")
    time.sleep(0.3)
    d.js("const m = document.getElementById('my-message'); m.focus(); m.select();")
    d.type("Lunch")
    d.keys("Enter")
    d.wait("return document.getElementById('my-status-url-box').getClientRects().length > 0", "the address in the dialog")
    check(d.active()[0] == "copy-my-status-url", f"without a browser, focus on Copy address: {d.active()}")
    d.shot("my-status-consent-no-browser")
    d.keys("Escape")
    time.sleep(0.2)
    check(d.js("return document.getElementById('browser-url-box').getClientRects().length") > 0, "the sign-in screen behind shows the address too")

    d.go(ui + "?cloud=china")
    check(d.js("return document.getElementById('me-status-button').getClientRects().length") == 0, "no Set your status in the China cloud")
    check(d.js("return document.getElementById('me-status-plain').textContent") == "Available", "your status is words there")

    # Publish to MQTT in the settings.
    d.go(ui + "?mqtt=on")
    d.js("document.getElementById('settings-button').focus()")
    d.keys("Enter")
    time.sleep(0.3)
    check(d.js("return document.getElementById('set-mqtt-password').value") == "", "the MQTT password is never shown")
    check(d.js("return document.getElementById('set-mqtt-password').placeholder") == "kept in the keyring", "a saved one is said to be kept")
    d.js("const b = document.getElementById('set-mqtt-broker'); b.focus(); b.select();")
    d.type("broker.lan:1883")
    d.keys("Enter")
    time.sleep(0.3)
    err = d.js("return document.getElementById('settings-error').textContent")
    check("mqtt://" in err and d.js("return document.getElementById('set-mqtt-broker').getAttribute('aria-invalid')") == "true", f"a broker without mqtt:// is refused: {err}")
    check(d.active()[0] == "set-mqtt-broker", f"focus on the broker: {d.active()}")
    d.js("document.getElementById('set-mqtt-broker').scrollIntoView()")
    d.shot("settings-mqtt")
    d.js("const b = document.getElementById('set-mqtt-broker'); b.focus(); b.select();")
    d.type("mqtt://broker.lan:1883")
    d.js("document.getElementById('set-mqtt-password').focus()")
    d.type("hunter2")
    d.keys("Enter")
    d.wait("return !document.getElementById('settings-dialog').open", "settings saved")
    check(d.js("return mock.mqttPassword()") == "hunter2", "a new password is saved")
    check(d.active()[0] == "settings-button", f"focus returns to Settings: {d.active()}")

    check(d.js("return document.documentElement.dataset.cspViolations") == "0", "no CSP violations")


if __name__ == "__main__":
    main()
