"""The Redis lock store's tickets (stores/redis_lock_store.py), with real Redis and one process per replica.

A replica that dies mid-turn leaves its conversation's ticket in Redis: the conversation's next
message, on the other replica, is served within one lease (not after Rasa's fixed ticket lifetime).
A live replica's turn keeps its ticket however long it runs, up to the lifetime ceiling."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.production.services import REDIS_URL, require

from core.paths import ROOT
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"
LEASE_S = 1.0
POLL_S = 1.0  # Rasa looks at the queue once a second while it waits


class Replica:
    """One Rasa-venv process taking a conversation's lock; its printed events with their times."""

    def __init__(self, tmp_path: Path, lifetime_s: float, *args: str) -> None:
        if not RASA_PY.exists():
            pytest.fail(f"{RASA_PY} missing (make venvs)")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TICKET_LEASE_S": str(LEASE_S),
               "TICKET_LOCK_LIFETIME": str(int(lifetime_s)),
               "TEST_REDIS_URL": REDIS_URL}
        self.log = tmp_path / f"{args[0]}-{uuid.uuid4().hex[:6]}.log"
        self.process = subprocess.Popen([str(RASA_PY), "-m", "tests.production.lock_holder", *args], cwd=ROOT,
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log.open("w"), text=True)
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def go(self) -> "Replica":
        self.event("ready")
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return self

    def _read(self) -> None:
        for line in self.process.stdout:
            self.events.put(line.split())
        self.events.put(["exited", "0"])

    def event(self, name: str, timeout: float = 90) -> float:
        """The time the process printed `name`, waiting for it at most `timeout` seconds."""
        try:
            seen, at = self.events.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no '{name}' within {timeout:.0f} s: {self.log.read_text()[-2000:]}")
        assert seen == name, (seen, name)
        return float(at)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


@pytest.fixture
def replicas(tmp_path):
    require("Redis")
    started: list[Replica] = []

    def start(lifetime_s: float, *args: str) -> Replica:
        started.append(Replica(tmp_path, lifetime_s, *args))
        return started[-1]

    yield start
    for replica in started:
        replica.stop()


def test_a_replica_killed_holding_a_lock_frees_it_within_one_lease(replicas):
    conversation = f"lease-{uuid.uuid4().hex[:8]}"
    holder, waiter = replicas(60, "hold", conversation, "3600"), replicas(60, "wait", conversation)
    holder.go().event("held")
    waiter.go().event("waiting")
    os.kill(holder.process.pid, signal.SIGKILL)
    killed_at = time.time()
    acquired_at = waiter.event("acquired", timeout=30)
    # Rasa's fixed lifetime (60 s here) would keep the next message waiting for a minute.
    assert acquired_at - killed_at < LEASE_S + POLL_S + 1.5, acquired_at - killed_at


def test_a_live_turn_longer_than_the_lease_keeps_its_lock_with_its_event_loop_blocked(replicas):
    conversation = f"lease-{uuid.uuid4().hex[:8]}"
    holder, waiter = replicas(60, "hold", conversation, str(LEASE_S * 5)), replicas(60, "wait", conversation)
    holder.go().event("held")
    waiter.go().event("waiting")
    released_at = holder.event("released")
    assert waiter.event("acquired", timeout=30) >= released_at


def test_no_ticket_is_kept_past_the_lock_lifetime(replicas):
    """A replica alive but stuck in one turn does not keep its conversation forever."""
    conversation = f"lease-{uuid.uuid4().hex[:8]}"
    holder, waiter = replicas(4, "hold", conversation, "3600"), replicas(60, "wait", conversation)
    held_at = holder.go().event("held")
    waiter.go().event("waiting")
    acquired_at = waiter.event("acquired", timeout=30)
    assert 4 - 0.5 < acquired_at - held_at < 4 + LEASE_S + POLL_S + 1.5, acquired_at - held_at
