"""The assistant's dependencies, each with status and latency: what /health of the jobs process reports
(and, for its own stores and action servers, /webhooks/ops/health of each Rasa replica).

    {"status": "ok" | "degraded" | "down", "checked_at": ..., "dependencies": {
        "database":  {"status": "ok", "latency_ms": 2.1, "detail": "PostgreSQL 127.0.0.1:5432/milea"},
        "chroma", "commerce7", "redis", "rabbitmq", "llm": ... }}

A dependency that is not configured is "off" (embedded profile: no Redis, no broker); "down"
names the error class only (no passwords, no customer data). The database being down makes the
whole report "down"; anything else down makes it "degraded" (the assistant still answers).

    python -m jobs.health             print the report of this environment (exit 1 when not ok)
"""
from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from datetime import datetime, timezone
from typing import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp

from core.service_settings import ServiceSettings
from core.database import Database
from core.settings import shared_settings

TIMEOUT_S = 3.0
CRITICAL = ("database",)


def _tcp_exchange(url: str, default_port: int, greeting: bytes, expect: bytes) -> str:
    """Send `greeting`, read the first bytes; ok when they start with `expect`. Returns a detail string."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port or default_port), timeout=TIMEOUT_S) as conn:
        conn.settimeout(TIMEOUT_S)
        conn.sendall(greeting)
        reply = conn.recv(64)
    if not reply.startswith(expect):
        raise ConnectionError(f"unexpected reply {reply[:16]!r}")
    return f"{parts.hostname}:{parts.port or default_port}"


def _redis(url: str) -> str:
    parts = urlsplit(url)
    command = b"PING\r\n"
    if parts.password:  # AUTH then PING in one write; the reply must be +OK then +PONG
        from urllib.parse import unquote

        password = unquote(parts.password).encode()
        command = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(password), password) + command
        return _tcp_exchange(url, 6379, command, b"+OK")
    return _tcp_exchange(url, 6379, command, b"+PONG")


def _rabbitmq(url: str) -> str:
    # The AMQP 0-9-1 protocol header: a broker answers with a Connection.Start method frame (type 1).
    return _tcp_exchange(url, 5672, b"AMQP\x00\x00\x09\x01", b"\x01")


def _database(url: str) -> str:
    database = Database(url)
    with database.connection(write=False) as db:
        cursor = db.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return database.label


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# Answers that mean the service is failing; any other answer (401, 404, 501 ...) means it is up and
# reachable, which is what a probe that sends no real request can tell.
DOWN_STATUSES = {500, 502, 503, 504}


async def _http(session: aiohttp.ClientSession, url: str, **kwargs) -> str:
    async with session.get(url, **kwargs) as response:
        if response.status in DOWN_STATUSES:
            raise ConnectionError(f"HTTP {response.status}")
        return f"HTTP {response.status}"


def checks(settings: ServiceSettings, session: aiohttp.ClientSession) -> dict[str, Callable[[], Awaitable[str]] | None]:
    """name -> a probe (None: not configured here)."""
    shared = shared_settings()
    redis_url, broker_url = shared.redis_url, shared.rabbitmq_url
    database_url = shared.tracker_db_url or settings.feedback_database
    chroma = settings.chroma_url
    c7_base = settings.c7_api_url.rstrip("/")
    llm_base = (settings.openai_base_url or "https://api.openai.com/v1").rstrip("/")
    action_url = shared.action_server_url
    llm_headers = {"Authorization": f"Bearer {settings.openai_api_key}"} if settings.openai_api_key else {}
    chroma_headers = {"Authorization": f"Bearer {settings.chroma_token}"} if settings.chroma_token else {}
    return {
        "database": lambda: asyncio.to_thread(_database, database_url),
        "chroma": (lambda: _http(session, f"{chroma.rstrip('/')}/api/v2/heartbeat", headers=chroma_headers))
        if chroma else None,
        # Any answer below 500 means Commerce7 is reachable; the tenant header keeps it a cheap request.
        "commerce7": lambda: _http(session, f"{c7_base}/setting", headers={
            "tenant": settings.c7_tenant, "Authorization": _basic(settings.c7_app_id, settings.c7_secret)}),
        "redis": (lambda: asyncio.to_thread(_redis, redis_url)) if redis_url else None,
        "rabbitmq": (lambda: asyncio.to_thread(_rabbitmq, broker_url)) if broker_url else None,
        "llm": (lambda: _http(session, f"{llm_base}/models", headers=llm_headers)) if settings.llm_enabled else None,
        "action_server": (lambda: _http(session, action_url.rsplit("/", 1)[0] + "/health")) if action_url else None,
    }


async def _measure(probe: Callable[[], Awaitable[str]] | None) -> dict:
    if probe is None:
        return {"status": "off"}
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe(), TIMEOUT_S)
        status = "ok"
    except Exception as error:  # any failure is the dependency's state, reported by class only
        detail, status = type(error).__name__, "down"
    return {"status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 1), "detail": detail}


JOBS = ("database", "chroma", "commerce7", "redis", "rabbitmq", "llm")
REPLICA = ("database", "redis", "rabbitmq", "action_server")


async def report(settings: ServiceSettings | None = None, names: tuple[str, ...] = JOBS) -> dict:
    """The dependencies `names` (the jobs process: all the assistant's; a replica: its own stores)."""
    settings = settings or ServiceSettings.from_env()
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        probes = {name: probe for name, probe in checks(settings, session).items() if name in names}
        results = await asyncio.gather(*(_measure(p) for p in probes.values()))
    dependencies = dict(zip(probes, results))
    down = [name for name, result in dependencies.items() if result["status"] == "down"]
    status = "down" if set(down) & set(CRITICAL) else "degraded" if down else "ok"
    return {"status": status, "service": shared_settings().service or "jobs",
            "checked_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "dependencies": dependencies}


def main() -> int:
    result = asyncio.run(report())
    print(json.dumps(result, indent=2))
    return 0 if result["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
