"""Start the whole assistant the way `make run` does (scripts/run.py) on free ports."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from core.paths import ROOT
from scripts.ports import free_port


# A developer's real services are never used by a test deployment unless a test names them.
REAL_SERVICES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TWILIO_ACCOUNT_SID", "C7_APP_ID", "C7_API_URL", "STAFF_PHONE",
                 "STAFF_EMAIL", "SMTP_HOST", "FEEDBACK_DB_URL", "OUTBOX_DB_URL", "SMS_DB_URL", "TRACKER_DB_URL",
                 "REDIS_URL", "RABBITMQ_URL", "CHROMA_URL")


# Tests and benchmarks send hundreds of messages from a few senders on one address: they raise
# the flood limits (channels/guard.py) through the same variables an operator would; the flood
# tests (test_floods.py) set low ones.
LOAD_RATE_LIMITS = {"RATE_LIMIT_PER_SENDER": "1000000", "RATE_LIMIT_PER_ADDRESS": "1000000"}


def deployment_env(settings: dict, extra_env: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in REAL_SERVICES}
    return {**env, **settings, **(extra_env or {})}


def launch(module: str, env: dict, log_path: Path, ready_line: str, warm, timeout: float):
    """Start a supervisor (scripts.run or scripts.cluster); returns (process, log file) once ready and warm."""
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", module], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.close()
            raise RuntimeError(f"{module} exited early:\n{log_path.read_text(errors='replace')[-4000:]}")
        if ready_line in log_path.read_text(errors="replace") and warm():
            return proc, log
        time.sleep(1)
    os.killpg(proc.pid, signal.SIGKILL)
    log.close()
    raise RuntimeError(f"{module} not ready in {timeout}s:\n{log_path.read_text(errors='replace')[-4000:]}")


def action_server(env: dict, data: Path, timeout: float = 120) -> tuple[subprocess.Popen, str]:
    """A real action server (scripts.action_server) on a free port with `env`, its log in `data`:
    (process, URL) once it answers; RuntimeError with the log's end if it does not."""
    port = free_port()
    with open(data / "actions.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "scripts.action_server", "--actions", "actions",
                                    "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url}/health", timeout=2).ok:
                return process, url
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the action server did not start: {(data / 'actions.log').read_text()[-2000:]}")
        time.sleep(0.2)


class Stack:
    def __init__(self, data_dir: Path, extra_env: dict | None = None) -> None:
        self.rasa_port, self.action_port, self.widget_port = free_port(), free_port(), free_port()
        self.c7_port = free_port()
        self.console_port = free_port()  # the staff console (scripts/run.py starts it too)
        self.token = "integration-token"
        self.env = deployment_env({
            "RASA_PORT": str(self.rasa_port), "ACTION_PORT": str(self.action_port),
            "WIDGET_PORT": str(self.widget_port), "C7_EMULATOR_PORT": str(self.c7_port),
            "CONSOLE_PORT": str(self.console_port),
            "MILEA_DATA_DIR": str(data_dir), "RASA_AUTH_TOKEN": self.token,
            "MILEA_WARM_ON_START": "1", **LOAD_RATE_LIMITS,
        }, extra_env)
        self.log_path = data_dir / "stack.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def start(self, timeout: float = 240) -> "Stack":
        self.proc, self.log = launch("scripts.run", self.env, self.log_path, "ready: chat at", self._warm, timeout)
        return self

    def _warm(self) -> bool:
        try:
            replies = self.say("warmup-user", "can i bring my dog?")
            return bool(replies)
        except requests.RequestException:
            return False

    def post(self, payload, **kwargs) -> requests.Response:
        return requests.post(f"{self.url}/webhooks/rest/webhook", json=payload, timeout=30, **kwargs)

    def say(self, sender: str, message: str) -> list[dict]:
        response = self.post({"sender": sender, "message": message})
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        if getattr(self, "log", None):
            self.log.close()


def texts(replies: list[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


class Commerce7View:
    """Reads the stack's Commerce7 emulator through its real API, as staff would see it."""

    def __init__(self, stack: Stack) -> None:
        self.base = f"http://127.0.0.1:{stack.c7_port}"
        self.session = requests.Session()
        self.session.auth = ("demo-app", "demo-secret")
        self.session.headers["tenant"] = "milea-demo"

    def get(self, path: str, **params) -> dict:
        response = self.session.get(f"{self.base}/v1/{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def customer(self, email: str) -> dict | None:
        for customer in self.get("customer", q=email).get("customers", []):
            if any(e["email"].lower() == email.lower() for e in customer.get("emails", [])):
                return customer
        return None

    def memberships(self, customer_id: str) -> list[dict]:
        return self.get("club-membership", customerId=customer_id).get("clubMemberships", [])

    def faults(self, **changes) -> None:
        requests.post(f"{self.base}/__admin/faults", json=changes, timeout=10).raise_for_status()
