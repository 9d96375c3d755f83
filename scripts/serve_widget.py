"""Serve the website chat widget (widget/) on :8080, with /config.js telling it
where the Rasa server is. Static files only; nothing is fetched from a CDN."""
from __future__ import annotations

import argparse
import functools
import json
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"


class WidgetHandler(SimpleHTTPRequestHandler):
    server_url = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        if self.path.split("?")[0] == "/config.js":
            body = f"window.MILEA_CHAT_CONFIG = {json.dumps({'serverUrl': self.server_url})};\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, fmt: str, *args: object) -> None:  # quiet: one line per error only
        if args and str(args[1] if len(args) > 1 else "").startswith(("4", "5")):
            super().log_message(fmt, *args)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--server-url", default="http://localhost:5005")
    args = parser.parse_args()
    WidgetHandler.server_url = args.server_url
    handler = functools.partial(WidgetHandler, directory=str(WIDGET_DIR))
    print(f"widget page on http://localhost:{args.port} talking to {args.server_url}", flush=True)
    ThreadingHTTPServer((args.host, args.port), handler).serve_forever()


if __name__ == "__main__":
    main()
