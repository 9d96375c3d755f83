"""The production services these tests use for real: PostgreSQL, Redis and RabbitMQ on loopback.

Outside CI a missing service skips the tests with the reason; in CI (CI=true) it fails them,
because CI is meant to have all three."""
from __future__ import annotations

import contextlib
import os
import socket
import uuid
from typing import Iterator

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
PORTS = {"PostgreSQL": 5432, "Redis": 6379, "RabbitMQ": 5672}


def require(*names: str) -> None:
    for name in names:
        try:
            socket.create_connection(("127.0.0.1", PORTS[name]), timeout=3).close()
        except OSError:
            reason = f"{name} is not running on 127.0.0.1:{PORTS[name]}"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"{reason}, and CI must have it")
            pytest.skip(reason)


def database_url(name: str) -> str:
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards (skips without PostgreSQL)."""
    import psycopg2

    require("PostgreSQL")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(POSTGRES_URL, connect_timeout=5)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield database_url(name)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def redis_has(key: str) -> bool:
    """Whether Redis (REDIS_URL) holds `key`: two commands over a plain socket, no client library here."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(REDIS_URL)
    words = [["SELECT", parts.path.strip("/") or "0"], ["EXISTS", key]]
    if parts.password:
        words.insert(0, ["AUTH", unquote(parts.password)])
    request = b"".join(b"*%d\r\n" % len(w) + b"".join(b"$%d\r\n%s\r\n" % (len(x.encode()), x.encode()) for x in w)
                       for w in words)
    with socket.create_connection((parts.hostname, parts.port or 6379), timeout=3) as conn:
        conn.sendall(request)
        reply = b""
        while reply.count(b"\r\n") < len(words):
            chunk = conn.recv(256)
            if not chunk:
                break
            reply += chunk
    lines = reply.split(b"\r\n")
    assert all(not line.startswith(b"-") for line in lines), reply
    return lines[len(words) - 1] == b":1"
