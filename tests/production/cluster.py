"""Start the production profile the way `make cluster` does (scripts/cluster.py reads
docker-compose.yml) on free ports, with its own PostgreSQL database and RabbitMQ queue, and give
tests its processes. The public URL is HTTPS through the proxy, with a certificate made for the run."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import requests

from tests.integration.stack import LOAD_RATE_LIMITS, deployment_env, free_port, launch
from tests.production.services import POSTGRES_URL, RABBITMQ_URL, REDIS_URL, database_url
from tests.waiting import wait_until


def _gone(pid: int) -> bool:
    """Whether the process has exited with all its threads, its files (sockets) closed. The main thread
    of a killed process turns zombie (its own fd list empty) while the others still free the memory
    and hold the shared files: look at every thread."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return True
    for thread in threads:
        try:
            if os.listdir(f"/proc/{pid}/task/{thread}/fd"):
                return False
        except (FileNotFoundError, ProcessLookupError):  # this thread has gone meanwhile
            continue
    return True


def free_ports_in_a_row(count: int) -> int:
    """A port that is free with the `count - 1` after it: the cluster numbers its action servers
    upwards from ACTION_BASE_PORT, and a busy neighbour stopped a cluster from starting."""
    while True:
        base, sockets = free_port(), []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()


class Cluster:
    def __init__(self, data_dir: Path, extra_env: dict | None = None) -> None:
        tag = uuid.uuid4().hex[:10]
        self.database = f"milea_test_{tag}"
        self.queue = f"milea_test_{tag}"
        self.port, self.action_port = free_port(), free_port()
        self.replica_ports = [free_port(), free_port()]
        self.action_base_port = free_ports_in_a_row(2)  # the cluster counts up from here
        self.c7_port, self.chroma_port, self.widget_port = free_port(), free_port(), free_port()
        self.https_port, self.console_https_port = free_port(), free_port()
        self.jobs_port, self.console_port = free_port(), free_port()
        self.token = "cluster-token"
        self.data_dir = data_dir
        self.certificate = data_dir / "certs" / "fullchain.pem"  # the cluster makes it (self-signed, localhost)
        self.env = deployment_env({
            "MILEA_DATA_DIR": str(data_dir), "RASA_AUTH_TOKEN": self.token,
            "RASA_PORT": str(self.port), "ACTION_PORT": str(self.action_port),
            "RASA_REPLICA_PORTS": " ".join(map(str, self.replica_ports)),
            "ACTION_BASE_PORT": str(self.action_base_port), "ACTION_SERVERS": "2",
            "CHROMA_PORT": str(self.chroma_port), "WIDGET_PORT": str(self.widget_port),
            "C7_EMULATOR_PORT": str(self.c7_port), "HTTPS_PORT": str(self.https_port),
            "CONSOLE_HTTPS_PORT": str(self.console_https_port), "JOBS_PORT": str(self.jobs_port),
            "CONSOLE_PORT": str(self.console_port), "PUBLIC_URL": f"https://localhost:{self.https_port}",
            "HTTP_REDIRECT": "1",  # as in production: plain HTTP only redirects
            "TRACKER_DB_URL": database_url(self.database), "REDIS_URL": REDIS_URL,
            "RABBITMQ_URL": RABBITMQ_URL, "RABBITMQ_QUEUE": self.queue,
            "MILEA_ENV_FILE": os.devnull, "MILEA_OUTBOX_EVERY_S": "2", "MILEA_OUTBOX_BACKOFF_S": "1", "MILEA_WARM_ON_START": "1",
            **LOAD_RATE_LIMITS,
        }, extra_env)
        self.log_path = data_dir / "cluster.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The public address: HTTPS through the proxy."""
        return f"https://localhost:{self.https_port}"

    @property
    def plain_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def replica_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.replica_ports]

    def action_health(self, name: str) -> str:
        """Health URL of action server `actionsN`."""
        return f"http://127.0.0.1:{self.action_base_port + int(name[-1]) - 1}/health"

    def start(self, timeout: float = 420) -> "Cluster":
        self.proc, self.log = launch("scripts.cluster", self.env, self.log_path, "cluster ready:", self.all_answer, timeout)
        return self

    def answers(self, url: str | None = None) -> bool:
        """Whether `url` (default: the proxy) answers a question now; the first answer loads a replica's caches."""
        try:
            return bool(self.say("warmup", "can i bring my dog?", url))
        except requests.RequestException:
            return False

    def all_answer(self) -> bool:
        """Whether every Rasa replica answers a question now."""
        return all(self.answers(url) for url in self.replica_urls)

    def tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def pids(self) -> dict[str, int]:
        """name -> pid of every process the cluster runs (rasa1, rasa2, actions1, ..., nginx)."""
        return json.loads((self.data_dir / "cluster" / "pids.json").read_text())

    def post(self, payload: dict, url: str | None = None, timeout: float = 30) -> requests.Response:
        target = url or self.url
        return requests.post(f"{target}/webhooks/rest/webhook", json=payload, timeout=timeout,
                             verify=str(self.certificate) if target.startswith("https:") else True)

    def say(self, sender: str, message: str, url: str | None = None, **metadata) -> list[dict]:
        response = self.post({"sender": sender, "message": message, "metadata": metadata}, url)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict:
        # Rasa's HTTP API is internal (the proxy does not publish it): ask a replica
        response = requests.get(f"{self.replica_urls[0]}/conversations/{sender}/tracker", params={"token": self.token},
                                timeout=30)
        response.raise_for_status()
        return response.json()

    def kill(self, name: str) -> int:
        """SIGKILL one process and wait until it is gone (its sockets closed); the cluster's supervisor
        starts it again. Returns the old pid."""
        pid = self.pids()[name]
        os.kill(pid, signal.SIGKILL)
        # A large process takes a moment to die (its memory freed, then its files closed): until then
        # its sockets still take connections.
        wait_until(lambda: _gone(pid), 30, f"{name} (pid {pid}) gone after SIGKILL", interval=0.01)
        return pid

    def wait_restarted(self, name: str, old_pid: int, url: str | None = None, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pids().get(name) not in (None, old_pid):
                if url is None:
                    return
                try:
                    if requests.get(url, timeout=2).ok:
                        return
                except requests.RequestException:
                    pass
            time.sleep(0.5)
        raise AssertionError(f"{name} did not come back in {timeout}s:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        if getattr(self, "log", None):
            self.log.close()
        self._drop()

    def _drop(self) -> None:
        """The cluster's own database and queue go with it."""
        import pika
        import psycopg2

        db = psycopg2.connect(POSTGRES_URL, connect_timeout=5)
        db.autocommit = True
        with db.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        db.close()
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
        try:
            channel = connection.channel()
            channel.queue_delete(self.queue)
            channel.exchange_delete(f"{self.queue}.exchange")  # scripts/endpoints.py names it after the queue
        except pika.exceptions.ChannelClosedByBroker:  # never declared: nothing to delete
            pass
        connection.close()
