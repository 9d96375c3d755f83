"""A console started as `make run` starts it (python -m console), on its own SQLite tracker
database, with conversations written into Rasa's `events` table the way Rasa writes them."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest
import requests

from core.paths import ROOT
from scripts.ports import free_port
ADMIN = ("admin@milea.test", "admin-password-123")
STAFF = ("staff@milea.test", "staff-password-123")

# Rasa 3.6 SQLTrackerStore's table (rasa/core/tracker_store.py SQLEvent)
EVENTS_DDL = ("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
              "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
              "action_name VARCHAR(255), data TEXT)")


class Tracker:
    """Writes events into the SQLite tracker database like Rasa's SQL tracker store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with sqlite3.connect(path) as db:
            db.execute(EVENTS_DDL)

    def add(self, sender: str, kind: str, at: float, **data) -> None:
        body = {"event": kind, "timestamp": at, **data}
        intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name") if kind == "user" else None
        action = data.get("name") if kind == "action" else None
        with sqlite3.connect(self.path) as db:
            db.execute("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (sender, kind, at, intent, action, json.dumps(body)))

    def user(self, sender: str, text: str, at: float, intent: str = "greet", confidence: float = 0.97,
             channel: str = "socketio") -> None:
        self.add(sender, "user", at, text=text, input_channel=channel,
                 parse_data={"intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text})

    def bot(self, sender: str, text: str, at: float) -> None:
        self.add(sender, "bot", at, text=text, data={}, metadata={})

    def action(self, sender: str, name: str, at: float) -> None:
        self.add(sender, "action", at, name=name, policy="RulePolicy", confidence=1.0)


class Console:
    def __init__(self, data_dir: Path, extra_env: Optional[dict] = None) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.log_path = data_dir / "console.log"
        self.env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_DB_URL", "CONSOLE_DB_URL")}
        self.env.update({"MILEA_DATA_DIR": str(data_dir), "CONSOLE_PORT": str(self.port),
                         "STAFF_ADMIN_EMAIL": ADMIN[0], "STAFF_ADMIN_PASSWORD": ADMIN[1],
                         "CONSOLE_POLL_S": "0.2", "RASA_PORT": str(free_port()), "RASA_AUTH_TOKEN": "t",
                         "STAFF_CHANNEL_SECRET": "s", "PYTHONPATH": str(ROOT), **(extra_env or {})})
        self.proc: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "Console":
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "console"], cwd=ROOT, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log_path.read_text())
            try:
                if requests.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"console not up in {timeout}s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()

    def add_user(self, email: str, password: str, role: str = "staff") -> None:
        run = subprocess.run([sys.executable, "-m", "console.users", "--email", email, "--role", role], cwd=ROOT,
                             env={**self.env, "STAFF_USER_PASSWORD": password}, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr

    def browser_session(self, email: str, password: str) -> requests.Session:
        """Signs in through the login form like a browser; the session's CSRF token is in `.csrf`."""
        s = requests.Session()
        form = s.get(f"{self.url}/login", timeout=5).text
        pre = form.split('name="pre" value="')[1].split('"')[0]
        r = s.post(f"{self.url}/login", data={"pre": pre, "next": "/", "email": email, "password": password},
                   timeout=10, allow_redirects=False)
        assert r.status_code == 303, r.text
        page = s.get(f"{self.url}/", timeout=5).text
        s.csrf = page.split('name="csrf" content="')[1].split('"')[0]
        return s

    def token(self, email: str, password: str) -> str:
        r = requests.post(f"{self.url}/api/login", json={"email": email, "password": password}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["token"]


def wait_for(condition, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """A console on a fresh tracker database with a staff account besides the admin; `.tracker` writes events."""
    data = tmp_path_factory.mktemp("console")
    tracker = Tracker(data / "tracker.db")
    running = Console(data).start()
    running.add_user(*STAFF)
    running.tracker = tracker
    yield running
    running.stop()
