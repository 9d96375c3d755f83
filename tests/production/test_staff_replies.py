"""Staff take over a web chat whose socket.io connection lives on the other Rasa replica: the
visitor connects straight to one replica, staff act through another, and the visitor still gets
the staff reply (the replicas share socket.io rooms through Redis, channels/socketio_rooms.py),
also after the widget reconnects to the other replica; staff see the visitor's answer, the
assistant stays silent meanwhile, and after giving back it answers again.

Two ways in: the console's JSON API over HTTPS through the proxy (the console calls rasa1, so
the visitor connects to rasa2), and the Rasa-side path the console uses (pause/resume events and
the staff channel) called on rasa2 for a visitor on rasa1."""
from __future__ import annotations

import queue
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pytest
import requests
import socketio
import yaml

from tests.console.helpers import wait_for

from core.paths import ROOT
STAFF_LOGIN = ("anna@milea.test", "anna-staff-password-1")


class Visitor:
    """The widget's side: python-socketio over WebSocket, straight to one replica."""

    def __init__(self, url: str, session: str | None = None) -> None:
        self.replies: "queue.Queue[dict]" = queue.Queue()
        confirmed: "queue.Queue[str]" = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", self.replies.put)
        self.sio.on("session_confirm", confirmed.put)
        self.sio.connect(url, socketio_path="/socket.io", transports=["websocket"])
        assert self.sio.transport() == "websocket"
        self.sio.emit("session_request", {"session_id": session})
        self.session = confirmed.get(timeout=20)
        assert session is None or self.session == session  # a reload keeps its conversation
        self.conversation = self.session.split(".")[0]  # the tracker's id; the session id is the visitor's key

    def say(self, text: str) -> None:
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session})

    def until(self, match, timeout: float = 60) -> list[str]:
        """The texts received up to the first that `match`es (a turn may answer with several)."""
        deadline, seen = time.monotonic() + timeout, []
        while not seen or not match(seen[-1]):
            seen.append(self.replies.get(timeout=max(0.1, deadline - time.monotonic())).get("text") or "")
        return seen

    def unread(self) -> list[str]:
        seen = []
        while not self.replies.empty():
            seen.append(self.replies.get_nowait().get("text") or "")
        return seen

    def close(self) -> None:
        self.sio.disconnect()


class ConsoleStaff:
    """A staff member using the console's JSON API (bearer token) over HTTPS through the proxy."""

    def __init__(self, cluster) -> None:
        run = subprocess.run([sys.executable, "-m", "console.users", "--email", STAFF_LOGIN[0]], cwd=ROOT,
                             env={**cluster.env, "PYTHONPATH": str(ROOT),
                                  "STAFF_USER_PASSWORD": STAFF_LOGIN[1]}, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        self.http = requests.Session()
        self.http.verify = str(cluster.certificate)
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would replace the cluster's own certificate
        self.base = f"https://localhost:{cluster.console_https_port}/api"
        login = self.http.post(f"{self.base}/login", json=dict(zip(("email", "password"), STAFF_LOGIN)), timeout=30)
        assert login.status_code == 200, login.text
        assert login.headers["Strict-Transport-Security"].startswith("max-age=31536000")  # HSTS on the console too
        self.http.headers["Authorization"] = f"Bearer {login.json()['token']}"

    def _url(self, sender: str, action: str = "") -> str:
        return f"{self.base}/conversations/{quote(sender, safe='')}" + (f"/{action}" if action else "")

    def take(self, sender: str) -> None:
        assert wait_for(lambda: self.http.get(self._url(sender), timeout=30).status_code == 200, 30), \
            "the console did not list the conversation"
        taken = self.http.post(self._url(sender, "takeover"), timeout=30)
        assert taken.status_code == 200, taken.text

    def send(self, sender: str, text: str) -> None:
        sent = self.http.post(self._url(sender, "messages"), json={"text": text}, timeout=30)
        assert sent.status_code == 200, sent.text

    def customer_texts(self, sender: str) -> list[str]:
        turns = self.http.get(self._url(sender), timeout=30).json()["turns"]
        return [t["text"] for t in turns if t["kind"] == "user"]

    def release(self, sender: str) -> None:
        released = self.http.post(self._url(sender, "release"), timeout=30)
        assert released.status_code == 200, released.text


class ReplicaStaff:
    """What the console does, called on one replica: Rasa's pause/resume events and the staff channel."""

    def __init__(self, cluster, url: str) -> None:
        self.url, self.token = url, cluster.token
        self.secret = (cluster.env.get("STAFF_CHANNEL_SECRET") or  # else the cluster made one
                       (cluster.data_dir / "staff_channel_secret").read_text().strip())

    def _event(self, sender: str, event: str) -> None:
        done = requests.post(f"{self.url}/conversations/{sender}/tracker/events", params={"token": self.token},
                             json={"event": event, "timestamp": time.time()}, timeout=30)
        assert done.status_code == 200, done.text

    def take(self, sender: str) -> None:
        self._event(sender, "pause")

    def send(self, sender: str, text: str) -> None:
        sent = requests.post(f"{self.url}/webhooks/staff/send", headers={"X-Staff-Secret": self.secret},
                             json={"sender_id": sender, "channel": "socketio", "text": text, "staff": "Anna"},
                             timeout=30)
        assert sent.status_code == 200, sent.text

    def customer_texts(self, sender: str) -> list[str]:
        tracker = requests.get(f"{self.url}/conversations/{sender}/tracker", params={"token": self.token}, timeout=30)
        return [e.get("text") for e in tracker.json()["events"] if e["event"] == "user"]

    def release(self, sender: str) -> None:
        self._event(sender, "resume")


def test_the_console_calls_rasa1():
    """The console case below relies on it: its visitor connects to the other replica."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["console"]["environment"]["CONSOLE_RASA_URL"] == "http://rasa1:5005"


@pytest.mark.parametrize("way", ["console", "replica"])
def test_staff_take_over_a_web_chat_held_by_the_other_replica(cluster, way):
    rasa1, rasa2 = cluster.replica_urls
    first, then = (rasa2, rasa1) if way == "console" else (rasa1, rasa2)
    visitor = Visitor(first)
    staff = ConsoleStaff(cluster) if way == "console" else ReplicaStaff(cluster, rasa2)
    try:
        visitor.say("can i bring my dog?")
        visitor.until(lambda text: "leash" in text.lower())

        staff.take(visitor.conversation)
        hello = f"Hi, this is Anna from the winery ({uuid.uuid4().hex[:6]}). How can I help?"
        staff.send(visitor.conversation, hello)
        visitor.until(lambda text: text == hello, timeout=30)

        visitor.close()  # the widget reconnects (a new socket, here on the other replica) to the same chat
        visitor = Visitor(then, visitor.session)
        again = "Are you still there?"
        staff.send(visitor.conversation, again)
        visitor.until(lambda text: text == again, timeout=30)

        answer = "Could someone call me about a private tasting?"
        visitor.say(answer)
        assert wait_for(lambda: answer in staff.customer_texts(visitor.conversation), 30), \
            "staff did not see the visitor's answer"
        events = cluster.tracker(visitor.conversation)["events"]
        after = events[max(i for i, e in enumerate(events) if e["event"] == "user" and e.get("text") == answer):]
        assert [e for e in after if e["event"] == "bot"] == [], "the assistant answered a conversation staff hold"
        assert visitor.unread() == []
        staff_said = [e for e in events if e["event"] == "bot" and e.get("text") == hello]
        assert len(staff_said) == 1 and staff_said[0]["metadata"].get("staff")

        staff.release(visitor.conversation)
        visitor.say("can i bring my dog?")
        visitor.until(lambda text: "leash" in text.lower())
    finally:
        visitor.close()
