#!/usr/bin/env python3
"""Serves ui/ for a browser preview, with the fake Tauri API of mock-tauri.js.

    python3 tests/ui/serve.py [port]      then open http://127.0.0.1:8765/

ui/index.html is served as it ships, with one <script> added before the app's
own: mock-tauri.js. Every answer carries the app's strict CSP, so what the CSP
would block in the app is blocked here too. Loopback only; not shipped.
"""

import http.server
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'"
)
MOCK = '<script src="/tests/ui/mock-tauri.js"></script>\n  '


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".mjs": "text/javascript"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(ROOT), **kwargs)

    def end_headers(self):
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            self.send_response(302)
            self.send_header("Location", "/tests/ui/preview.html")
            self.end_headers()
            return
        if path in ("/ui/", "/ui/index.html"):
            html = (ROOT / "ui" / "index.html").read_text(encoding="utf-8")
            marker = '<script type="module"'
            if marker not in html:
                self.send_error(500, "ui/index.html has no module script to put the mock before")
                return
            body = html.replace(marker, MOCK + marker, 1).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, fmt, *args):
        if "-q" not in sys.argv:
            super().log_message(fmt, *args)


def main():
    ports = [a for a in sys.argv[1:] if a.isdigit()]
    port = int(ports[0]) if ports else 8765
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"Presently UI preview: http://127.0.0.1:{server.server_port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
