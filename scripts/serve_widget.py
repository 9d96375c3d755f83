"""Serve the website chat widget (widget/) on :8080, with /config.js telling it
where the Rasa server is. Static files only; nothing is fetched from a CDN: the
socket.io client comes from widget/node_modules (`npm ci` in widget/) as /vendor/.
The widget sends its thumbs up/down to the Rasa server (channels/votes.py), not here."""
from __future__ import annotations

import argparse
import functools
import json
import logging
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
SOCKETIO_DIST = WIDGET_DIR / "node_modules" / "socket.io-client" / "dist"
# Public name -> file; everything else under node_modules/ and the npm files stay private.
VENDOR = {
    "/vendor/socket.io.min.js": SOCKETIO_DIST / "socket.io.min.js",
    "/vendor/socket.io.min.js.map": SOCKETIO_DIST / "socket.io.min.js.map",
}
PRIVATE = (WIDGET_DIR / "node_modules", WIDGET_DIR / "package.json", WIDGET_DIR / "package-lock.json")


class WidgetHandler(SimpleHTTPRequestHandler):
    server_url = ""
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".js": "application/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
    }

    def do_GET(self) -> None:
        path = self.path.split("?")[0].split("#")[0]
        if path == "/config.js":
            body = f"window.MILEA_CHAT_CONFIG = {json.dumps({'serverUrl': self.server_url})};\n".encode()
            self._send(body, "application/javascript; charset=utf-8", "no-store")
            return
        if path in VENDOR:
            try:
                body = VENDOR[path].read_bytes()
            except OSError:
                self.send_error(404, "socket.io client missing: run `npm ci` in widget/ (make run does)")
                return
            kind = "application/json" if path.endswith(".map") else "application/javascript; charset=utf-8"
            self._send(body, kind, "max-age=3600")
            return
        super().do_GET()

    def do_POST(self) -> None:
        # A static site: POST is refused with a 4xx (http.server's default is a 501).
        self.send_error(405, "the widget page takes no POST; votes go to the Rasa server")

    def send_head(self):  # GET and HEAD of static files
        target = Path(self.translate_path(self.path)).resolve()
        if any(target == p or p in target.parents for p in PRIVATE):
            self.send_error(404)
            return None
        return super().send_head()

    def _send(self, body: bytes, content_type: str, cache: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", cache)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, fmt: str, *args: object) -> None:  # quiet: one line per error only
        if args and str(args[1] if len(args) > 1 else "").startswith(("4", "5")):
            super().log_message(fmt, *args)


def make_server(host: str, port: int, server_url: str) -> ThreadingHTTPServer:
    """The widget server (not started)."""
    handler_class = type("ConfiguredWidgetHandler", (WidgetHandler,), {"server_url": server_url})
    handler = functools.partial(handler_class, directory=str(WIDGET_DIR))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--server-url", default="http://localhost:5005")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    WidgetHandler.server_url = args.server_url
    server = make_server(args.host, args.port, args.server_url)
    print(f"widget page on http://localhost:{args.port} talking to {args.server_url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
