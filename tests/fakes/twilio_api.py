"""A fake of the Twilio REST API's Messages resource on loopback, for tests and demos.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json (form: To, From, Body) with Basic auth
(account sid / auth token) records the message and answers 201 with a message resource shaped
like Twilio's (sid "SM...", status "queued", num_segments, ...). Errors use Twilio's envelope
({code, message, more_info, status}): 401/20003 bad auth, 400/21604 no To, 400/21602 no Body,
400/21617 body over 1,600 characters, 400/21610 recipient in `unsubscribed`.
GET .../Messages.json lists what was recorded (filtered by To and From like Twilio's list).

Fault controls: `fail_next(n, status=500)` makes the next n POSTs fail; `delay` (seconds)
slows every answer.

Run:  python -m tests.fakes.twilio_api --port 7080 [--sid AC... --token ...]
Test: api = FakeTwilioApi("ACtest", "token").start(); api.url; api.wait_for(to, count); api.stop()
"""
from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional
from urllib.parse import parse_qs

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
MAX_BODY = 1600
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€\f")


def _segments(body: str) -> int:
    if all(c in GSM7 for c in body):
        units = sum(2 if c in "^{}\\[~]|€\f" else 1 for c in body)
        return 1 if units <= 160 else -(-units // 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


class FakeTwilioApi:
    def __init__(self, account_sid: str = "ACtest", auth_token: str = "test-token",
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: List[Dict[str, str]] = []
        self.requests = 0  # every POST to Messages.json, failed ones included
        self.arrived = 0  # POSTs that reached the server, counted before `delay` (a request in flight)
        self.accepted_at: List[float] = []  # time.monotonic() of each message taken (benchmarks measure the rate)
        self.unsubscribed: set = set()
        self.delay = 0.0
        self._failures: List[int] = []
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    # ---- control
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeTwilioApi":
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.accepted_at.clear()
            self._failures.clear()
            self.unsubscribed.clear()
            self.requests, self.arrived, self.delay = 0, 0, 0.0

    def sent_to(self, number: str) -> List[Dict[str, str]]:
        with self._lock:
            return [m for m in self.messages if m["to"] == number]

    def wait_for(self, number: str, count: int = 1, timeout: float = 30.0,
                 predicate: Optional[Callable[[List[Dict[str, str]]], bool]] = None) -> List[Dict[str, str]]:
        """Messages to number once at least count arrived (and predicate holds); [] ... on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [m for m in self.messages if m["to"] == number]
                if len(found) >= count and (predicate is None or predicate(found)):
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return found
                self._lock.wait(remaining)

    # ---- HTTP
    def _handler(self) -> type:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:  # quiet
                pass

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, code: int, message: str) -> None:
                self._send(status, {"code": code, "message": message, "status": status,
                                    "more_info": f"https://www.twilio.com/docs/errors/{code}"})

            def _authorized(self, sid: str) -> bool:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return False
                try:
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    return False
                return user == api.account_sid == sid and password == api.auth_token

            def do_GET(self) -> None:
                match = _MESSAGES.match(self.path.split("?")[0])
                if not match:
                    return self._error(404, 20404, "The requested resource was not found")
                if not self._authorized(match.group(1)):
                    return self._error(401, 20003, "Authenticate")
                query = {k: v[0] for k, v in parse_qs(self.path.partition("?")[2]).items()}
                with api._lock:  # Twilio filters by To and From (DateSent is left to the caller here)
                    found = [m for m in api.messages if m["to"] == query.get("To", m["to"])
                             and m["from"] == query.get("From", m["from"])]
                self._send(200, {"messages": found, "page": 0, "page_size": len(found), "next_page_uri": None})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                match = _MESSAGES.match(self.path.split("?")[0])
                if not match:
                    return self._error(404, 20404, "The requested resource was not found")
                with api._lock:
                    api.arrived += 1
                if api.delay:
                    time.sleep(api.delay)
                with api._lock:
                    api.requests += 1
                    failure = api._failures.pop(0) if api._failures else None
                if failure:
                    return self._error(failure, 20500, "Internal Server Error")
                if not self._authorized(match.group(1)):
                    return self._error(401, 20003, "Authenticate")
                form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
                to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
                if not to:
                    return self._error(400, 21604, "A 'To' phone number is required.")
                if not body and not form.get("MediaUrl"):
                    return self._error(400, 21602, "Message body is required.")
                if len(body) > MAX_BODY:
                    return self._error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
                if to in api.unsubscribed:
                    return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
                now = format_datetime(datetime.now(timezone.utc))
                sid = "SM" + uuid.uuid4().hex
                resource = {
                    "account_sid": api.account_sid, "api_version": "2010-04-01", "body": body,
                    "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
                    "error_code": None, "error_message": None, "from": sender, "messaging_service_sid": None,
                    "num_media": "0", "num_segments": str(_segments(body)), "price": None, "price_unit": "USD",
                    "sid": sid, "status": "queued", "subresource_uris": {
                        "media": f"/2010-04-01/Accounts/{api.account_sid}/Messages/{sid}/Media.json"},
                    "to": to, "uri": f"/2010-04-01/Accounts/{api.account_sid}/Messages/{sid}.json",
                }
                with api._lock:
                    api.messages.append(resource)
                    api.accepted_at.append(time.monotonic())
                    api._lock.notify_all()
                self._send(201, resource)

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7080)
    parser.add_argument("--sid", default="ACtest")
    parser.add_argument("--token", default="test-token")
    args = parser.parse_args()
    api = FakeTwilioApi(args.sid, args.token, port=args.port).start()
    print(f"fake Twilio API at {api.url} (TWILIO_API_BASE_URL={api.url}); Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.stop()


if __name__ == "__main__":
    main()
