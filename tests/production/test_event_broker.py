"""Conversation events reach the real RabbitMQ only after the tracker write, and a broker outage
is visible (an ERROR log line, a status file a health check reads) and recovered: what was saved
during the outage is published, in order, once RabbitMQ is reachable again. The outage is a
TCP relay in front of RabbitMQ that drops every connection, so the real client sees it."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pika
import pytest

from tests.production.services import RABBITMQ_URL, require

from core.paths import ROOT
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"


class Relay:
    """127.0.0.1:<port> -> RabbitMQ; `cut()` drops every connection and refuses new ones until `mend()`."""

    def __init__(self, target: tuple) -> None:
        self.target, self.open = target, True
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.pairs: list = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.open = False
        with self.lock:
            for pair in self.pairs:
                for s in pair:
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            self.pairs.clear()

    def mend(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.server.close()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


class Probe:
    def __init__(self, tmp_path: Path, port: int, queue: str) -> None:
        if not RASA_PY.exists():
            pytest.fail(f"{RASA_PY} missing (make venvs)")
        self.status_dir = tmp_path / "health"
        self.stderr = open(tmp_path / "probe.log", "w+")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
        self.process = subprocess.Popen(
            [str(RASA_PY), "-m", "tests.production.broker_probe", str(tmp_path / "tracker.db"), str(port), queue,
             str(self.status_dir)], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, text=True)
        assert self.read() == "ready"

    def read(self) -> str:
        return self.process.stdout.readline().strip()

    def ask(self, line: str) -> str:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.read()

    def status(self) -> dict:
        return json.loads(self.ask("status"))

    def log(self) -> str:
        self.stderr.flush()
        return (self.stderr.name and Path(self.stderr.name).read_text())

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.ask("quit")
                self.process.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
        self.stderr.close()


@pytest.fixture
def queue():
    require("RabbitMQ")
    name = f"milea_probe_{uuid.uuid4().hex[:8]}"
    yield name
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    channel.queue_delete(name)
    channel.exchange_delete(f"{name}.exchange")
    connection.close()


def consumed(queue: str) -> list:
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel, bodies = connection.channel(), []
    while True:
        method, _, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        bodies.append(json.loads(body))
    connection.close()
    return bodies


def test_events_are_published_after_they_are_stored_and_survive_a_broker_outage(tmp_path, queue):
    from tests.production.services import PORTS

    relay = Relay(("127.0.0.1", PORTS["RabbitMQ"]))
    probe = Probe(tmp_path, relay.port, queue)
    received: list = []
    try:
        assert probe.status()["status"] == "up"
        assert probe.ask("save web-1 3") == "saved"
        wait_for(lambda: received.extend(consumed(queue)) or len(received) >= 6, 20, "6 events in RabbitMQ")

        relay.cut()  # RabbitMQ unreachable: turns go on, events wait
        assert probe.ask("save web-1 4") == "saved"
        down = wait_for(lambda: (s := probe.status())["status"] == "down" and s, 20, "the broker reported down")
        assert down["pending"] > 0
        check = subprocess.run([sys.executable, "-m", "stores.broker_health", str(probe.status_dir)],
                               capture_output=True, text=True, cwd=ROOT)
        health = json.loads(check.stdout)
        assert check.returncode == 1 and health["status"] == "down" and health["pending"] > 0
        assert "RabbitMQ 127.0.0.1:%d unreachable" % relay.port in probe.log()

        relay.mend()  # back: everything kept is published, in order, nothing lost or doubled
        wait_for(lambda: received.extend(consumed(queue)) or len(received) >= 14, 60, "14 events in RabbitMQ")
        wait_for(lambda: probe.status()["status"] == "up", 20, "the broker reported up")
        status = probe.status()
        assert status["pending"] == 0 and status["early"] == 0  # none published before its write
        check = subprocess.run([sys.executable, "-m", "stores.broker_health", str(probe.status_dir)],
                               capture_output=True, text=True, cwd=ROOT)
        assert check.returncode == 0 and json.loads(check.stdout)["status"] == "up"
        assert "RabbitMQ is back" in probe.log()
        received.extend(consumed(queue))
        texts = [e["text"] for e in received if e["event"] == "user"]
        assert texts == [f"turn {2 * i}" for i in range(7)]
        assert len(received) == 14
    finally:
        probe.stop()
        relay.close()
