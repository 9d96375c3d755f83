"""The endpoints file Rasa reads, built from the environment: one place for both profiles.

Embedded (`make run`): SQLite tracker store in the data folder, in-memory lock store, no broker.
Production (`make cluster`, docker-compose): each service is switched on by its variable:
  TRACKER_DB_URL  postgresql://user:pass@host:5432/db   tracker store (also feedback, outbox, SMS state)
  REDIS_URL       redis://[:pass@]host:6379/0            lock store: several replicas, one turn at a time
  RABBITMQ_URL    amqp://user:pass@host:5672/            event broker (queue RABBITMQ_QUEUE, default milea_events;
                                                         exchange RABBITMQ_EXCHANGE, default "<queue>.exchange")
Always: ACTION_SERVER_TOKEN, the secret the action server checks (scripts/action_server.py);
Rasa sends it with every action call.

    python -m scripts.endpoints --out /tmp/endpoints.yml --action-url http://actions:5055/webhook
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import unquote, urlsplit

import yaml

TRACKER_STORE_CLASS = "stores.sql_tracker_store.CheckedSQLTrackerStore"
LOCK_STORE_CLASS = "stores.redis_lock_store.AtomicRedisLockStore"
EVENT_BROKER_CLASS = "stores.event_broker.CheckedPikaEventBroker"  # outages logged, in a status file, recovered
DEFAULT_QUEUE = "milea_events"
ACTION_TOKEN_ENV = "ACTION_SERVER_TOKEN"


def _redact(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


def build(env: Mapping[str, str], action_url: str, data_dir: Path) -> tuple[dict, list[str]]:
    """(endpoints, one start-up line per store saying its mode and how to switch)."""
    # Rasa sends its whole domain (35 KB of a 40 KB request) with every action call unless
    # selective: then only the actions that need it get it, the form validators (validate_*,
    # see actions/forms/base.py). The others read their texts from domain.yml (core/texts.py).
    endpoints: dict = {"action_endpoint": {"url": action_url, "enable_selective_domain": True}}
    lines = []
    token = (env.get(ACTION_TOKEN_ENV) or "").strip()
    if token:  # a header, not Rasa's `token` query parameter: URLs end up in logs
        endpoints["action_endpoint"]["headers"] = {"Authorization": f"Bearer {token}"}
    else:  # the action server refuses every call without it
        lines.append(f"Action server: {ACTION_TOKEN_ENV} is not set, so the action server will refuse Rasa's calls")
    tracker_url = (env.get("TRACKER_DB_URL") or "").strip()
    if tracker_url:
        if not tracker_url.startswith(("postgresql", "postgres")):
            raise ValueError("TRACKER_DB_URL must be a postgresql:// URL")
        endpoints["tracker_store"] = {"type": TRACKER_STORE_CLASS,
                                      "url": tracker_url.replace("postgres://", "postgresql://", 1)}
        lines.append(f"Tracker store: PostgreSQL {_redact(tracker_url)}")
    else:
        endpoints["tracker_store"] = {"type": TRACKER_STORE_CLASS, "dialect": "sqlite",
                                      "db": str(data_dir / "tracker.db")}
        lines.append(f"Tracker store: SQLite at {data_dir / 'tracker.db'} (set TRACKER_DB_URL for PostgreSQL)")

    redis_url = (env.get("REDIS_URL") or "").strip()
    if redis_url:
        parts = urlsplit(redis_url)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError("REDIS_URL must look like redis://host:6379/0")
        store = {"type": LOCK_STORE_CLASS, "url": parts.hostname, "port": parts.port or 6379,
                 "db": int(parts.path.strip("/") or 0), "key_prefix": "milea", "use_ssl": parts.scheme == "rediss"}
        if parts.password:
            store["password"] = unquote(parts.password)
        endpoints["lock_store"] = store
        lines.append(f"Lock store and socket.io rooms: Redis {_redact(redis_url)} (replicas take turns per "
                     "conversation and reach web chats held by each other)")
    else:
        endpoints["lock_store"] = {"type": "in_memory"}
        lines.append("Lock store and socket.io rooms: in memory, one Rasa process only (set REDIS_URL to run "
                     "replicas)")

    broker_url = (env.get("RABBITMQ_URL") or "").strip()
    if broker_url:
        parts = urlsplit(broker_url)
        if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
            raise ValueError("RABBITMQ_URL must look like amqp://user:pass@host:5672/")
        queue = (env.get("RABBITMQ_QUEUE") or DEFAULT_QUEUE).strip()
        # Rasa's default fanout exchange ("rasa-exchange") is shared by every deployment on the broker, so a
        # staging and a production assistant on one RabbitMQ would each receive the other's events.
        exchange = (env.get("RABBITMQ_EXCHANGE") or f"{queue}.exchange").strip()
        endpoints["event_broker"] = {
            "type": EVENT_BROKER_CLASS, "status_dir": str(data_dir / "health"),
            "url": parts.hostname, "port": parts.port or 5672,
            "username": unquote(parts.username or "guest"), "password": unquote(parts.password or "guest"),
            "queues": [queue], "exchange_name": exchange, "raise_on_failure": False}
        lines.append(f"Event broker: RabbitMQ {_redact(broker_url)}, queue {queue} (exchange {exchange})")
    else:
        lines.append("Event broker: off (set RABBITMQ_URL to publish conversation events to RabbitMQ)")
    return endpoints, lines


def write(path: Path, env: Mapping[str, str], action_url: str, data_dir: Path) -> list[str]:
    endpoints, lines = build(env, action_url, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    path.chmod(0o600)  # holds the action server's token, maybe database and broker passwords
    return lines


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--action-url", default=os.environ.get("ACTION_SERVER_URL") or "http://localhost:5055/webhook")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("MILEA_DATA_DIR") or ".data"))
    args = parser.parse_args(argv)
    for line in write(args.out, os.environ, args.action_url, args.data_dir.resolve()):
        print(f"[milea] {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
